"""The MCP request handlers: one low-level SDK `Server` serving every tenant.

Nothing tenant-specific lives on the server or a session: each handler reads the
`CallScope` the HTTP layer attached to the current request. A `tools/call` runs
through core's `ToolRunner` (tool policy at call time, arguments, credential, error
mapping, result content) and its outcome becomes the SDK's result here. No exception
text from our internals reaches the client: unexpected failures are logged with the
request id and answered generically.
"""

from __future__ import annotations

import base64
import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import mcp_types as types
from mcp.server import Server
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError

from .._context import ToolContext
from .._execution import ToolRunner
from .._models import AuditEvent
from .._results import Outcome
from .._tools import ToolSpec, validate_payload
from .._upstream import UpstreamClient
from ..errors import ConnectionRequired, InvalidArguments, SageMCPError, UpstreamError
from ._channel import SessionChannel
from ._convert import outcome_to_mcp, prompt_messages_to_mcp, resource_value_to_contents
from ._elicit import elicit_connection, raise_url_elicitation
from ._resolve import CallScope, Resolver, Target, catalogue_digest, scope_of

logger = logging.getLogger("sagemcp.mcp")


class ToolCallObserver(Protocol):
    """Receives one event per tool call (metrics, audit). Must not block; must not raise."""

    def __call__(self, event: AuditEvent) -> None: ...


@dataclass
class HandlerSettings:
    max_result_chars: int
    server_name: str
    server_version: str
    tools_page_size: int = 200


class Handlers:
    """The handler functions, bound to the shared resolver, upstream client and observer."""

    def __init__(
        self,
        resolver: Resolver,
        upstream: UpstreamClient,
        settings: HandlerSettings,
        observer: ToolCallObserver | None = None,
    ) -> None:
        self.resolver = resolver
        self.upstream = upstream
        self.settings = settings
        self.observer = observer
        self.runner = ToolRunner(upstream, max_result_chars=settings.max_result_chars)
        self._schemas: dict[str, dict[str, Any]] = {
            spec.name: spec.input_schema for cls in resolver.registry for spec in cls.tools.values()
        }

    def build_server(self) -> Server[Any]:
        with warnings.catch_warnings():
            # logging/setLevel is deprecated in 2026-07-28 but still part of the handshake-era protocol we serve.
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            return Server(
                self.settings.server_name,
                version=self.settings.server_version,
                get_tool_input_schema=self._schemas.get,
                on_list_tools=self.list_tools,
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

    # -- tools ---------------------------------------------------------------------------

    async def list_tools(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        """The caller's tools, in pages of `tools_page_size` linked by `nextCursor` when there are more.

        A cursor holds the offset of its page and a digest of the catalogue it was cut from:
        a cursor from before a change (a connector added, a policy edited) is refused with
        -32602, so a client never stitches pages of two catalogues together.
        """
        cs = _scope(ctx)
        wide = cs.tenant_wide
        cursor = params.cursor if params is not None else None
        page = self.settings.tools_page_size
        if cursor is None and len(cs.targets) == 1:
            only = cs.targets[0].mcp_tools(wide)
            if len(only) <= page:
                return types.ListToolsResult(tools=only)
        tools = [tool for target in cs.targets for tool in target.mcp_tools(wide)]
        if cursor is None and len(tools) <= page:
            return types.ListToolsResult(tools=tools)
        digest = catalogue_digest(cs.targets, wide)
        start = 0 if cursor is None else _page_start(cursor, digest)
        end = start + page
        following = _page_cursor(end, digest) if end < len(tools) else None
        return types.ListToolsResult(tools=tools[start:end], next_cursor=following)

    async def call_tool(
        self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        cs = _scope(ctx)
        started = time.perf_counter()
        target, spec = _find_tool(cs, params.name)
        try:
            outcome = await self.runner.run(
                target,
                spec,
                params.arguments,
                credentials=cs.view,
                tenant=cs.view.tenant,
                principal=cs.principal,
                request_id=cs.request_id,
                channel=SessionChannel(ctx.session, ctx.request_id),
            )
        except BaseException:
            # Only cancellation gets here (the runner answers every failure); the call still counts.
            self._observe(cs, target, spec, "error", "cancelled", started)
            raise
        self._observe(cs, target, spec, outcome.outcome, outcome.code, started)
        if isinstance(outcome.error, ConnectionRequired):
            # A member without their own connection: clients that can open a URL are asked to (see _elicit).
            asked = elicit_connection(ctx, outcome.error, params.input_responses)
            if asked is not None:
                return asked
        return outcome_to_mcp(outcome)

    async def _tool_context(self, ctx: ServerRequestContext[Any], cs: CallScope, target: Target) -> ToolContext:
        """The context of a resource, prompt or completion function: the connector's main credential."""
        credential = await cs.view.credential(target, None, cs.principal)
        return self.runner.context(
            target,
            credential,
            tenant=cs.view.tenant,
            principal=cs.principal,
            request_id=cs.request_id,
            channel=SessionChannel(ctx.session, ctx.request_id),
        )

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
    ) -> types.ReadResourceResult:
        cs = _scope(ctx)
        uri = str(params.uri)
        for target in cs.targets:
            for spec in target.cls.resources:
                kwargs = spec.match(uri)
                if kwargs is None:
                    continue
                value = await self._guarded(
                    ctx, cs, f"resource {uri}", self._call_with_context(ctx, cs, target, spec.func, kwargs)
                )
                return types.ReadResourceResult(contents=resource_value_to_contents(value, uri, spec.mime_type))
        raise MCPError(code=-32002, message=f"Resource not found: {uri}", data={"uri": uri})

    async def subscribe(self, ctx: ServerRequestContext[Any], params: Any) -> types.EmptyResult:
        cs = _scope(ctx)
        uri = str(params.uri)
        if not any(spec.match(uri) is not None for t in cs.targets for spec in t.cls.resources):
            raise MCPError(code=-32002, message=f"Resource not found: {uri}", data={"uri": uri})
        return types.EmptyResult()

    # -- prompts and completion ----------------------------------------------------------

    async def list_prompts(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        cs = _scope(ctx)
        return types.ListPromptsResult(prompts=[p for t in cs.targets for p in t.mcp_prompts(cs.tenant_wide)])

    async def get_prompt(
        self, ctx: ServerRequestContext[Any], params: types.GetPromptRequestParams
    ) -> types.GetPromptResult:
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
                value = await self._guarded(
                    ctx, cs, f"prompt {params.name}", self._call_with_context(ctx, cs, target, spec.func, kwargs)
                )
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
    ) -> Any:
        tctx = await self._tool_context(ctx, cs, target)
        return await func(target.instance, tctx, **kwargs)

    async def _guarded(self, ctx: ServerRequestContext[Any], cs: CallScope, what: str, awaitable: Any) -> Any:
        """Await a connector function outside tools/call, turning failures into JSON-RPC errors without internals.

        A member without their own connection is asked to connect with -32042 where the
        session declared URL-mode elicitation (2025-11-25), else told where in the error message.
        """
        try:
            return await awaitable
        except MCPError:
            raise
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


def _scope(ctx: ServerRequestContext[Any]) -> CallScope:
    cs = scope_of(ctx.request)
    if cs is None:
        # Only reachable if the server is mounted without sagemcp's HTTP layer.
        raise MCPError(code=types.INVALID_REQUEST, message="This endpoint is not bound to a tenant")
    return cs


def _page_cursor(start: int, digest: str) -> str:
    return base64.urlsafe_b64encode(f"{start}:{digest}".encode()).decode("ascii").rstrip("=")


def _page_start(cursor: str, digest: str) -> int:
    """The offset a `tools/list` cursor continues from, or -32602 when it is not one for this catalogue."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        start, _, issued_for = text.partition(":")
        offset = int(start)
    except (ValueError, UnicodeError):
        offset, issued_for = -1, ""
    if offset < 0 or issued_for != digest:
        raise MCPError(
            code=types.INVALID_PARAMS,
            message="Invalid cursor: the tool list changed since this cursor was issued, or it is not one of "
            "this server's; list the tools again without a cursor.",
        )
    return offset


def _find_tool(cs: CallScope, name: str) -> tuple[Target, ToolSpec]:
    for target in cs.targets:
        prefix = target.prefix(cs.tenant_wide)
        if prefix and not name.startswith(prefix):
            continue
        spec = target.cls.tools.get(name[len(prefix) :])
        if spec is not None:
            return target, spec
    raise MCPError(code=types.INVALID_PARAMS, message=f"Unknown tool: {name}")
