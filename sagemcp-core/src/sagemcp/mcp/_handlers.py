"""The MCP request handlers: one low-level SDK `Server` serving every tenant.

Nothing tenant-specific lives on the server or a session: each handler reads the
`CallScope` the HTTP layer attached to the current request. A `tools/call` runs
through core's `ToolRunner` (tool policy at call time, arguments, credential, error
mapping, result content) and its outcome becomes the SDK's result here. No exception
text from our internals reaches the client: unexpected failures are logged with the
request id and answered generically.
"""

from __future__ import annotations

import logging
import secrets
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import mcp_types as types
from mcp.server import Server
from mcp.server.caching import CacheHint
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import NotificationOptions
from mcp.server.models import InitializationOptions
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError

from .._context import ClientChannel, ToolContext
from .._execution import ToolRunner
from .._input import InputRequired, MissingClientCapability
from .._limiter import CallGuard
from .._models import AuditEvent
from .._results import Outcome, ToolOutcome
from .._tools import ToolSpec, validate_payload
from .._upstream import UpstreamClient
from ..errors import ConnectionRequired, InvalidArguments, SageMCPError, UpstreamError
from ._caching import cache_hints
from ._catalogue import Listing
from ._changes import ListChangeNotifier
from ._channel import SessionChannel
from ._convert import outcome_to_mcp, prompt_messages_to_mcp, resource_value_to_contents
from ._discovery import (
    META_TOOLS,
    CallArgs,
    Catalogue,
    DescribeArgs,
    SearchArgs,
    arguments_model,
    discovery_on,
    json_text,
    meta_tools,
    pinned_names,
)
from ._elicit import elicit_connection, raise_url_elicitation
from ._input import (
    ModernChannel,
    RequestStateSealer,
    binding_of,
    input_required_result,
    is_modern,
    missing_capability_error,
)
from ._resolve import CallScope, Resolver, Target, scope_of

logger = logging.getLogger("sagemcp.mcp")

LISTENING_KEY = "sagemcp.listening"
"""ASGI scope key the transports set on requests of stateful sessions (legacy SSE, WebSocket, `Mcp-Session-Id`)."""


class ToolCallObserver(Protocol):
    """Receives one event per tool call (metrics, audit). Must not block; must not raise."""

    def __call__(self, event: AuditEvent) -> None: ...


@dataclass
class HandlerSettings:
    max_result_chars: int
    server_name: str
    server_version: str
    tools_page_size: int = 200
    cache_ttl: float = 5.0
    """Seconds results may be cached by clients (`ttlMs`): as long as this process caches a tenant."""
    request_state_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    """The HMAC key sealing 2026-07-28 request states; replicas behind one URL need the same key."""


class Handlers:
    """The handler functions, bound to the shared resolver, upstream client and observer."""

    def __init__(
        self,
        resolver: Resolver,
        upstream: UpstreamClient,
        settings: HandlerSettings,
        observer: ToolCallObserver | None = None,
        guard: CallGuard | None = None,
    ) -> None:
        self.resolver = resolver
        self.upstream = upstream
        self.settings = settings
        self.observer = observer
        self.runner = ToolRunner(upstream, max_result_chars=settings.max_result_chars, guard=guard)
        self.sealer = RequestStateSealer(settings.request_state_key)
        self.list_hint: CacheHint | None = None
        self.changes: ListChangeNotifier | None = None
        """Told of the stateful sessions that list tools, so that they hear when the tools change."""
        """The server's cache hint for `tools/list`, which the SDK applies to the handler's result."""
        self._schemas: dict[str, dict[str, Any]] = {
            spec.name: spec.input_schema for cls in resolver.registry for spec in cls.tools.values()
        }

    def build_server(self) -> Server[Any]:
        with warnings.catch_warnings():
            # logging/setLevel is deprecated in 2026-07-28 but still part of the handshake-era protocol we serve.
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            server = _Server(
                self.settings.server_name,
                version=self.settings.server_version,
                get_tool_input_schema=self._schemas.get,
                cache_hints=cache_hints(self.settings.cache_ttl),
                on_list_tools=cast(Any, self.list_tools),  # a dict result: the cached page, not re-modelled
                on_call_tool=self.call_tool,
                on_list_resources=self.list_resources,
                on_list_resource_templates=self.list_resource_templates,
                on_read_resource=self.read_resource,
                on_subscribe_resource=self.subscribe,
                on_unsubscribe_resource=self.subscribe,
                on_list_prompts=self.list_prompts,
                on_get_prompt=self.get_prompt,
                on_completion=self.complete,
                on_set_logging_level=self.set_logging_level,
            )
        self.list_hint = server.cache_hints.get("tools/list")
        return server

    # -- tools ---------------------------------------------------------------------------

    async def list_tools(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> dict[str, Any]:
        """The caller's tools, in pages of `tools_page_size` linked by `nextCursor` when there are more.

        Served from the caller's cached `Listing` (see `listing`). A cursor holds the offset of its
        page and a digest of the catalogue it was cut from: a cursor from before a change (a
        connector added, a policy edited) is refused with -32602, so a client never stitches
        pages of two catalogues together.
        """
        cs = _scope(ctx)
        listing = self.listing(cs)
        start = listing.start_of(params.cursor if params is not None else None)
        self.listened(ctx, cs)
        return listing.result(start, self.list_hint)

    def listened(self, ctx: ServerRequestContext[Any], cs: CallScope) -> None:
        """Remember a stateful session that listed tools, so that it hears when they change."""
        self.listened_on(cs, listening_connection(ctx))

    def listened_on(self, cs: CallScope, connection: Any) -> None:
        """Remember `connection` (a `listening_connection`, or None: nothing to remember) under the caller's tenant."""
        if self.changes is not None and connection is not None:
            self.changes.listened(cs.tenant.id, connection)

    def listing(self, cs: CallScope) -> Listing:
        """The `tools/list` catalogue of this kind of caller, built once per tenant view.

        Callers of one kind share it: the same connectors, endpoint and discovery mode (whose
        catalogue is the meta-tools and the pinned tools: the tenant's on the tenant-wide endpoint,
        the connector's on its own endpoint, both fixed by the view and the connector ids).
        """
        ids = tuple(t.config.id for t in cs.targets)
        discovery = discovery_on(cs)
        key = (ids, cs.tenant_wide, discovery)
        found: Listing | None = cs.view.listings.get(key)
        if found is None:
            if discovery:
                tools = [*meta_tools(), *self.catalogue(cs).pinned(pinned_names(cs))]
            else:
                tools = [tool for target in cs.targets for tool in target.mcp_tools(cs.tenant_wide)]
            salt = ",".join(ids) + ("/discovery" if discovery else "")
            found = Listing.of(tools, self.settings.tools_page_size, salt=salt)
            cs.view.listings[key] = found
        return found

    def catalogue(self, cs: CallScope) -> Catalogue:
        """What the meta-tools of this kind of caller search, describe and call, built once per tenant view."""
        key = ("meta", tuple(t.config.id for t in cs.targets), cs.tenant_wide)
        found: Catalogue | None = cs.view.listings.get(key)
        if found is None:
            found = cs.view.listings[key] = Catalogue(cs)
        return found

    async def _meta_call(
        self, ctx: ServerRequestContext[Any], cs: CallScope, params: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        """A call of a meta-tool: search and describe answer from the caller's catalogue; `call_tool`
        runs the named tool as a direct call would (it is refused the same way when not served)."""
        name = params.name
        try:
            args = validate_payload(arguments_model(name), params.arguments, f"Invalid arguments for {name}")
        except InvalidArguments as exc:
            return _tool_error(exc.message)
        catalogue = self.catalogue(cs)
        if isinstance(args, SearchArgs):
            try:
                found = catalogue.search(args)
            except ValueError as exc:
                return _tool_error(str(exc))
            return types.CallToolResult(
                content=[types.TextContent(type="text", text=json_text(found))], structured_content=found
            )
        if isinstance(args, DescribeArgs):
            try:
                described = catalogue.describe(args.name)
            except LookupError:
                return _tool_error(_unknown(args.name))
            return types.CallToolResult(
                content=[types.TextContent(type="text", text=json_text(described))], structured_content=described
            )
        assert isinstance(args, CallArgs)
        entry = catalogue.entries.get(args.name)
        if entry is None:
            return _tool_error(_unknown(args.name))
        return await self._run_call(ctx, cs, entry.target, entry.spec, args.arguments, params)

    async def call_tool(
        self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        cs = _scope(ctx)
        if params.name in META_TOOLS and discovery_on(cs):
            return await self._meta_call(ctx, cs, params)
        target, spec = _find_tool(cs, params.name)
        return await self._run_call(ctx, cs, target, spec, params.arguments, params)

    async def _run_call(
        self,
        ctx: ServerRequestContext[Any],
        cs: CallScope,
        target: Target,
        spec: ToolSpec,
        arguments: Mapping[str, Any] | None,
        params: types.CallToolRequestParams,
    ) -> types.CallToolResult | types.InputRequiredResult:
        """One tool call of a `tools/call` request (direct, or through the `call_tool` meta-tool)."""
        channel = self._channel(ctx, cs, "tools/call", params.name, params)
        try:
            outcome = await self.execute(cs, target, spec, arguments, channel)
        except InputRequired as signal:
            return input_required_result(signal, self.sealer, binding_of(cs, "tools/call", params.name))
        except MissingClientCapability as exc:
            raise missing_capability_error(exc) from None
        if isinstance(outcome.error, ConnectionRequired):
            # A member without their own connection: clients that can open a URL are asked to (see _elicit).
            asked = elicit_connection(ctx, outcome.error, params.input_responses)
            if asked is not None:
                return asked
        return outcome_to_mcp(outcome)

    async def execute(
        self,
        cs: CallScope,
        target: Target,
        spec: ToolSpec,
        arguments: Mapping[str, Any] | None,
        channel: ClientChannel,
    ) -> ToolOutcome:
        """Run one tool call of `cs` through the runner and report it to the observer (audit, metrics).

        This is `tools/call` without the SDK's result shapes; `McpApp.call_tool` runs calls made
        outside any transport through it, so they meet the same policy, credentials and audit.
        """
        started = time.perf_counter()
        try:
            outcome = await self.runner.run(
                target,
                spec,
                arguments,
                credentials=cs.view,
                tenant=cs.view.tenant,
                principal=cs.principal,
                request_id=cs.request_id,
                channel=channel,
            )
        except InputRequired:
            raise  # a round of a call still under way: the round that completes it is the one observed
        except MissingClientCapability:
            self._observe(cs, target, spec, "invalid", "missing_client_capability", started)
            raise
        except BaseException:
            # Only cancellation gets here (the runner answers every failure); the call still counts.
            self._observe(cs, target, spec, "error", "cancelled", started)
            raise
        self._observe(cs, target, spec, outcome.outcome, outcome.code, started)
        return outcome

    async def _tool_context(
        self, ctx: ServerRequestContext[Any], cs: CallScope, target: Target, channel: ClientChannel | None = None
    ) -> ToolContext:
        """The context of a resource, prompt or completion function: the connector's main credential."""
        credential = await cs.view.credential(target, None, cs.principal)
        return self.runner.context(
            target,
            credential,
            tenant=cs.view.tenant,
            principal=cs.principal,
            request_id=cs.request_id,
            channel=channel or SessionChannel(ctx.session, ctx.request_id),
        )

    def _channel(
        self, ctx: ServerRequestContext[Any], cs: CallScope, method: str, name: str, params: Any
    ) -> ClientChannel:
        """The way back to the client: requests sent at once (handshake era), or input rounds (2026-07-28)
        whose earlier answers come from the sealed `requestState` bound to this caller and request."""
        if not is_modern(ctx):
            return SessionChannel(ctx.session, ctx.request_id)
        state = params.request_state
        answered = {} if state is None else self.sealer.open(binding_of(cs, method, name), state)
        return ModernChannel(ctx, answered, params.input_responses)

    def _observe(
        self, cs: CallScope, target: Target, spec: ToolSpec, outcome: Outcome, code: str | None, started: float
    ) -> None:
        if self.observer is None:
            return
        event = AuditEvent(
            tenant_id=cs.tenant.id,
            connector_id=target.config.id,
            connector_type=target.cls.info.id,
            tool=spec.name,
            principal_id=cs.principal.id,
            user_id=cs.principal.user_id,
            outcome=outcome,
            error_code=code,
            duration_ms=(time.perf_counter() - started) * 1000,
            request_id=cs.request_id,
        )
        try:
            self.observer(event)
        except Exception:
            logger.exception("tool-call observer failed")

    # -- resources -----------------------------------------------------------------------

    async def list_resources(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        cs = _scope(ctx)
        return types.ListResourcesResult(resources=[r for t in cs.targets for r in t.mcp_resources()])

    async def list_resource_templates(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        cs = _scope(ctx)
        return types.ListResourceTemplatesResult(resource_templates=[r for t in cs.targets for r in t.mcp_templates()])

    async def read_resource(
        self, ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult | types.InputRequiredResult:
        cs = _scope(ctx)
        uri = str(params.uri)
        for target in cs.targets:
            for spec in target.cls.resources:
                kwargs = spec.match(uri)
                if kwargs is None:
                    continue
                channel = self._channel(ctx, cs, "resources/read", uri, params)
                try:
                    value = await self._guarded(
                        ctx, cs, f"resource {uri}", self._call_with_context(ctx, cs, target, spec.func, kwargs, channel)
                    )
                except InputRequired as signal:
                    return input_required_result(signal, self.sealer, binding_of(cs, "resources/read", uri))
                return types.ReadResourceResult(contents=resource_value_to_contents(value, uri, spec.mime_type))
        raise _resource_not_found(ctx, uri)

    async def subscribe(self, ctx: ServerRequestContext[Any], params: Any) -> types.EmptyResult:
        cs = _scope(ctx)
        uri = str(params.uri)
        if not any(spec.match(uri) is not None for t in cs.targets for spec in t.cls.resources):
            raise _resource_not_found(ctx, uri)
        return types.EmptyResult()

    # -- prompts and completion ----------------------------------------------------------

    async def list_prompts(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        cs = _scope(ctx)
        return types.ListPromptsResult(prompts=[p for t in cs.targets for p in t.mcp_prompts(cs.tenant_wide)])

    async def get_prompt(
        self, ctx: ServerRequestContext[Any], params: types.GetPromptRequestParams
    ) -> types.GetPromptResult | types.InputRequiredResult:
        cs = _scope(ctx)
        for target in cs.targets:
            for spec in target.cls.prompts.values():
                if target.served_name(spec.name, cs.tenant_wide) != params.name:
                    continue
                try:
                    model = validate_payload(spec.arguments_model, params.arguments, "Invalid prompt arguments")
                except InvalidArguments as exc:
                    raise MCPError(code=types.INVALID_PARAMS, message=exc.message) from None
                kwargs = {n: getattr(model, n) for n in type(model).model_fields}
                channel = self._channel(ctx, cs, "prompts/get", params.name, params)
                call = self._call_with_context(ctx, cs, target, spec.func, kwargs, channel)
                try:
                    value = await self._guarded(ctx, cs, f"prompt {params.name}", call)
                except InputRequired as signal:
                    return input_required_result(signal, self.sealer, binding_of(cs, "prompts/get", params.name))
                return types.GetPromptResult(
                    description=spec.description or None, messages=prompt_messages_to_mcp(value)
                )
        raise MCPError(code=types.INVALID_PARAMS, message=f"Unknown prompt: {params.name}")

    async def complete(
        self, ctx: ServerRequestContext[Any], params: types.CompleteRequestParams
    ) -> types.CompleteResult:
        cs = _scope(ctx)
        ref = params.ref
        context_args = dict(params.context.arguments or {}) if params.context else {}
        for target in cs.targets:
            if isinstance(ref, types.PromptReference):
                names = {target.served_name(p.name, cs.tenant_wide): p.name for p in target.cls.prompts.values()}
                if ref.name not in names:
                    continue
                ref_type, ref_name = "prompt", names[ref.name]
            else:
                if not any(r.uri == ref.uri for r in target.cls.resources):
                    continue
                ref_type, ref_name = "resource", ref.uri
            tctx = await self._guarded(ctx, cs, "completion", self._tool_context(ctx, cs, target))
            completion = await self._guarded(
                ctx,
                cs,
                "completion",
                target.instance.complete(
                    tctx, ref_type, ref_name, params.argument.name, params.argument.value, context_args
                ),
            )
            values = completion.values[:100]
            return types.CompleteResult(
                completion=types.Completion(values=values, total=completion.total, has_more=completion.has_more)
            )
        return types.CompleteResult(completion=types.Completion(values=[], total=0, has_more=False))

    async def set_logging_level(
        self, ctx: ServerRequestContext[Any], params: types.SetLevelRequestParams
    ) -> types.EmptyResult:
        _scope(ctx)
        return types.EmptyResult()

    # -- helpers -------------------------------------------------------------------------

    async def _call_with_context(
        self,
        ctx: ServerRequestContext[Any],
        cs: CallScope,
        target: Target,
        func: Callable[..., Any],
        kwargs: dict[str, Any],
        channel: ClientChannel | None = None,
    ) -> Any:
        tctx = await self._tool_context(ctx, cs, target, channel)
        return await func(target.instance, tctx, **kwargs)

    async def _guarded(self, ctx: ServerRequestContext[Any], cs: CallScope, what: str, awaitable: Any) -> Any:
        """Await a connector function outside tools/call, turning failures into JSON-RPC errors without internals.

        A member without their own connection is asked to connect with -32042 where the
        session declared URL-mode elicitation (2025-11-25), else told where in the error message.
        """
        try:
            return await awaitable
        except (MCPError, InputRequired):
            raise
        except MissingClientCapability as exc:
            raise missing_capability_error(exc) from None
        except ConnectionRequired as exc:
            raise_url_elicitation(ctx, exc)
            raise MCPError(code=types.INVALID_PARAMS, message=exc.message) from None
        except UpstreamError as exc:
            raise MCPError(code=types.INTERNAL_ERROR, message=exc.message) from None
        except SageMCPError as exc:
            raise MCPError(code=types.INVALID_PARAMS, message=exc.message) from None
        except Exception:
            logger.exception("%s failed (request %s, tenant %s)", what, cs.request_id, cs.tenant.slug)
            raise MCPError(code=types.INTERNAL_ERROR, message=f"{what} failed. Reference: {cs.request_id}.") from None


class _Server(Server[Any]):
    """The SDK's server, declaring `tools.listChanged` to handshake-era sessions (see `_changes`)."""

    def create_initialization_options(
        self,
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
        extensions: dict[str, dict[str, Any]] | None = None,
    ) -> InitializationOptions:
        return super().create_initialization_options(
            notification_options or NotificationOptions(tools_changed=True), experimental_capabilities, extensions
        )


def listening_connection(ctx: ServerRequestContext[Any]) -> Any:
    """The SDK connection of a request on a stateful session, which can be sent notifications later; else None.

    `ctx.session` lives for one request; the connection behind it lives as long as the session and
    sends on its standalone channel (the GET stream, the SSE stream, the WebSocket). The SDK keeps
    it private, so it is read in this one place.
    """
    return notifiable(getattr(ctx.request, "scope", None), sdk_connection(ctx))


def sdk_connection(ctx: ServerRequestContext[Any]) -> Any:
    """The SDK connection behind a request or notification (the SDK keeps it private), or None."""
    return getattr(ctx.session, "_connection", None)


def notifiable(scope: Any, connection: Any) -> Any:
    """`connection` when the request of `scope` is on a stateful session (`LISTENING_KEY`) and the connection
    can be sent `notifications/tools/list_changed`; else None."""
    if not isinstance(scope, dict) or scope.get(LISTENING_KEY) is not True:
        return None
    return connection if callable(getattr(connection, "send_tool_list_changed", None)) else None


def _resource_not_found(ctx: ServerRequestContext[Any], uri: str) -> MCPError:
    """-32602 on 2026-07-28 (SEP-2164 standardised it); -32002, as the handshake-era spec said, before."""
    code = types.INVALID_PARAMS if is_modern(ctx) else -32002
    return MCPError(code=code, message=f"Resource not found: {uri}", data={"uri": uri})


def _scope(ctx: ServerRequestContext[Any]) -> CallScope:
    cs = scope_of(ctx.request)
    if cs is None:
        # Only reachable if the server is mounted without sagemcp's HTTP layer.
        raise MCPError(code=types.INVALID_REQUEST, message="This endpoint is not bound to a tenant")
    return cs


def _tool_error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=message)], is_error=True)


def _unknown(name: str) -> str:
    return f"Unknown tool: {name!r} is not one of the tools you can use here. Find tools with search_tools."


def _find_tool(cs: CallScope, name: str) -> tuple[Target, ToolSpec]:
    for target in cs.targets:
        prefix = target.prefix(cs.tenant_wide)
        if prefix and not name.startswith(prefix):
            continue
        spec = target.cls.tools.get(name[len(prefix) :])
        if spec is not None:
            return target, spec
    raise MCPError(code=types.INVALID_PARAMS, message=f"Unknown tool: {name}")
