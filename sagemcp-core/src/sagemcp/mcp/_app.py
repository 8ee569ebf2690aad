"""The ASGI app: multi-tenant routing, caller authentication, session binding and the three transports."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import anyio
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.sse import SseServerTransport
from mcp.server.streamable_http import StreamableHTTPServerTransport
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, HTTPConnection
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from .._context import NullChannel
from .._credentials import CredentialManager
from .._input import InputRequired, MissingClientCapability
from .._limiter import CallGuard
from .._models import Principal
from .._oauth import OAuthFlows
from .._registry import ConnectorRegistry
from .._results import ToolOutcome, failure
from .._store import TenantStore
from .._upstream import UpstreamClient
from ..errors import (
    AccessDenied,
    IssuerUnavailable,
    LimitReached,
    LookupFailed,
    SageMCPError,
    TenantInactive,
    TenantNotFound,
    ToolNotFound,
)
from ._auth import RESOURCE_SCOPE_KEY, AllowAnonymous, ApiKeyAuthenticator, CallerAuthenticator, InvalidationSource
from ._changes import ListChangeNotifier
from ._direct import DirectRoutes
from ._fastcall import ToolCallShortcut, lifespan_state_of
from ._fastlist import ToolListMiddleware, ToolListShortcut
from ._fastsession import SessionConnections, SessionToolListShortcut
from ._handlers import LISTENING_KEY, Handlers, HandlerSettings, ToolCallObserver
from ._http import (
    browser_response,
    error_body,
    header,
    jsonrpc_problem,
    limit_response,
    read_body,
    refuse_invalid_ids,
    replaying,
    stateless_get_response,
    wants_event_stream,
)
from ._resolve import CallScope, Resolver
from ._resource import challenge, same_resource
from ._routing import SessionRouter, refuse_forward, session_gone_response
from ._settings import REQUIRED_SCOPE, McpSettings
from ._streams import CLOSE_REASONS, STREAM_KINDS, SessionSlot, StreamGuard
from ._websocket import serve_websocket

__all__ = ["McpApp", "McpSettings", "McpUsage", "Refusal", "create_mcp_app", "error_response"]

logger = logging.getLogger("sagemcp.mcp")
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_REQUEST_ID_HEADER = b"x-request-id"
_SESSION_HEADER = b"mcp-session-id"
_VERSION_HEADER = b"mcp-protocol-version"
_SSE_ENDPOINT_SESSION = re.compile(rb"session_id=([0-9a-f]{32})")
_AUTHENTICATION_REQUIRED = "Authentication required: send Authorization: Bearer <API key or access token>."
_NOT_ACCEPTED = (
    "The API key or access token was not accepted: it is unknown, expired, revoked or not valid for this "
    "endpoint. Send a valid one, or get a new access token."
)
_CHALLENGE_DESCRIPTIONS = {
    "invalid_token": "The API key or access token was not accepted",
    "insufficient_scope": f"Required scope: {REQUIRED_SCOPE}",
}


@dataclass(frozen=True)
class McpUsage:
    """What the MCP endpoints of this process hold open now, and what they refused or closed since start.

    Totals only, keyed by fixed names (metrics labels): per-tenant counts stay in the adapter.
    """

    sessions: int
    """Stateful sessions open."""
    streams: dict[str, int]
    """Open streams by transport: `sse` (legacy), `get` (`GET /mcp`), `websocket`."""
    refused: dict[str, int]
    """New sessions and streams refused, by the limit reached (`sagemcp.mcp.LIMITS`)."""
    closed: dict[str, int]
    """Streams the server closed, by reason: `idle`, `revoked` (the caller lost access)."""


class Refusal(NamedTuple):
    """Why admission refused a request: the HTTP status, the JSON-RPC error body, and the RFC 6750 error code
    of the `WWW-Authenticate` challenge (`invalid_token`, `insufficient_scope`; None for a bare 401)."""

    status: int
    body: dict[str, Any]
    error: str | None = None


class _SessionManager(StreamableHTTPSessionManager):
    """The SDK's session manager, telling the stream guard when a session is discarded (DELETE,
    idle timeout, crash, termination), so that its room in the quotas is given back exactly then."""

    guard: StreamGuard
    router: SessionRouter | None = None

    async def _discard_session(self, session_id: str, transport: StreamableHTTPServerTransport) -> None:
        self.guard.session_ended(session_id)
        if self.router is not None:
            await self.router.closed(session_id)
        await super()._discard_session(session_id, transport)


@dataclass
class McpApp:
    """The multi-tenant MCP ASGI application and the objects behind it.

    Use it as an ASGI app directly, or mount it (e.g. under `/api/v1`) and enter
    `lifespan()` from the host application's lifespan: a mounted app's own lifespan
    does not run.
    """

    resolver: Resolver
    authenticator: CallerAuthenticator
    handlers: Handlers
    settings: McpSettings
    upstream: UpstreamClient
    owns_upstream: bool
    router: SessionRouter | None = None
    """Routes requests for sessions another replica holds (see `sagemcp.mcp._routing`); None: one process."""
    guard: StreamGuard = field(init=False, repr=False)
    """Open sessions and streams: quotas, idle timeouts, re-admission (see `sagemcp.mcp._streams`)."""
    _manager: _SessionManager = field(init=False, repr=False)
    _sse: SseServerTransport = field(init=False, repr=False)
    _asgi: Starlette = field(init=False, repr=False)
    _direct: DirectRoutes = field(init=False, repr=False)
    _shortcut: ToolListShortcut | None = field(init=False, repr=False)
    _session_shortcut: SessionToolListShortcut | None = field(init=False, repr=False)
    _call_shortcut: ToolCallShortcut | None = field(init=False, repr=False)
    changes: ListChangeNotifier = field(init=False, repr=False, default_factory=ListChangeNotifier)
    """Sends `notifications/tools/list_changed` to the sessions that listed a changed tenant's tools."""

    def __post_init__(self) -> None:
        self.server = self.handlers.build_server()
        security = self.settings.transport_security()
        self.guard = StreamGuard(self.settings, self._still_admitted, self._end_session)
        self._manager = _SessionManager(
            app=self.server,
            stateless=not self.settings.stateful,
            json_response=self.settings.json_response and not self.settings.stateful,
            security_settings=security,
            session_idle_timeout=self.settings.session_idle_timeout,
            max_request_body_size=self.settings.max_body_bytes,
            max_sessions=self.settings.max_sessions,
            event_store=self.settings.event_store,
            retry_interval=self.settings.retry_interval,
        )
        self._manager.guard = self.guard
        self._manager.router = self.router
        self._sse = SseServerTransport("/messages/", security, self.settings.max_body_bytes)
        self.handlers.changes = self.changes
        self._session_shortcut = None
        if self.settings.tools_list_shortcut and self.settings.stateful:
            connections = SessionConnections()
            self.server.middleware.append(connections)
            self._session_shortcut = SessionToolListShortcut(
                self.handlers, self._manager, connections, self.settings.max_body_bytes
            )
        if self.settings.tools_list_shortcut:
            self.server.middleware.append(ToolListMiddleware(self.handlers, self.server))
        self._shortcut = (
            ToolListShortcut(self.handlers, security, self.settings.max_body_bytes, self.server.server_info_stamp)
            if self.settings.tools_list_shortcut and not self.settings.stateful and self.settings.json_response
            else None
        )
        lifespan_state = lifespan_state_of(self._manager)
        self._call_shortcut = (
            ToolCallShortcut(self.server, security, self.settings.max_body_bytes, lifespan_state)
            if self.settings.tools_call_shortcut
            and not self.settings.stateful
            and self.settings.json_response
            and lifespan_state is not None
            else None
        )
        self._asgi = Starlette(routes=self.routes(), lifespan=lambda _app: self.lifespan())
        per_connector, tenant_wide = self._asgi.router.routes[:2]
        assert isinstance(per_connector, Route)
        assert isinstance(tenant_wide, Route)
        self._direct = DirectRoutes(self._asgi, tenant_wide=tenant_wide, per_connector=per_connector)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            found = self._direct.match(scope)
            if found is not None:
                await self._direct.serve(found, scope, receive, send)
                return
        await self._asgi(scope, receive, send)

    @property
    def open_sessions(self) -> int:
        """Stateful Streamable HTTP sessions open in this process (0 in stateless mode)."""
        # The SDK's session manager exposes no count; its session table is the one source.
        return len(self._manager._server_instances)

    @property
    def usage(self) -> McpUsage:
        """Open sessions and streams, refusals by limit and closures by reason (for metrics; safe from any thread)."""
        guard = self.guard
        return McpUsage(
            sessions=self.open_sessions,
            streams={kind: guard.open_by_kind[kind] for kind in STREAM_KINDS},
            refused={**guard.sessions.refused, **guard.streams.refused},
            closed={reason: guard.closed[reason] for reason in CLOSE_REASONS},
        )

    def check_streams(self) -> None:
        """Re-admit every open stream and session now, closing those whose caller lost access.

        Called when this process invalidates its API keys or a tenant; the periodic check
        covers changes made elsewhere.
        """
        self.guard.wake()

    @contextlib.asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        async with self._manager.run():
            try:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(self.guard.watch)
                    tg.start_soon(self.changes.run)
                    try:
                        yield
                    finally:
                        tg.cancel_scope.cancel()
            finally:
                if self.owns_upstream:
                    await self.upstream.aclose()

    def routes(self) -> list[BaseRoute]:
        one = "/{tenant}/connectors/{connector}"
        streamable = _Endpoint(self, self._streamable, explain_to_browsers=True)
        routes: list[BaseRoute] = [
            Route(one + "/mcp", streamable, methods=["GET", "POST", "DELETE"]),
            Route("/{tenant}/mcp", streamable, methods=["GET", "POST", "DELETE"]),
        ]
        if self.settings.legacy_sse:
            for base in (one, "/{tenant}"):
                routes.append(Route(base + "/sse", _Endpoint(self, self._sse_stream), methods=["GET"]))
                routes.append(Route(base + "/messages/", _Endpoint(self, self._sse_message), methods=["POST"]))
        if self.settings.websocket:
            for base in (one, "/{tenant}"):
                routes.append(WebSocketRoute(base + "/ws", self._websocket))
        return routes

    async def call_tool(
        self,
        slug: str,
        connector: str,
        tool: str,
        arguments: Mapping[str, Any] | None,
        principal: Principal,
        *,
        request_id: str | None = None,
    ) -> ToolOutcome:
        """Call one tool of one connector for `principal` outside any transport (a browser console's playground).

        The checks of an MCP request to `/{slug}/connectors/{connector}/mcp` come first (the
        principal's tenant and scope, an active tenant, a servable connector, a key limited to
        another connector), then the call runs through the same pipeline as `tools/call`: tool
        policy at call time, arguments, the principal's credentials, audit and metrics. Raises
        `LookupFailed` (no such tenant, connector or tool for this caller) or `AccessDenied`;
        every failure of the call itself is an error outcome.
        """
        view = await self.resolver.view(slug)
        if not principal.can_use(view.tenant.id, scope=REQUIRED_SCOPE):
            raise TenantNotFound(f"tenant {slug!r} not found or not accessible")
        if not view.tenant.active:
            raise TenantInactive(f"tenant {slug!r} is inactive")
        target = view.target(connector)
        if principal.connector_id is not None and principal.connector_id != target.config.id:
            raise AccessDenied("this caller is limited to another connector of this tenant")
        spec = target.cls.tools.get(tool)
        if spec is None:
            raise ToolNotFound(f"connector {connector!r} has no tool {tool!r}")
        cs = CallScope(
            view=view,
            targets=[target],
            principal=principal,
            request_id=request_id or uuid.uuid4().hex,
            tenant_wide=False,
        )
        try:
            return await self.handlers.execute(cs, target, spec, arguments, NullChannel())
        except (InputRequired, MissingClientCapability):
            # Outside a transport there is nobody to ask: the tool's fallback (an argument) is the way.
            message = f"{spec.name} asks the person for input, which needs an MCP client: call it from one."
            return failure(message, "invalid", "input_required")

    # -- transports ----------------------------------------------------------------------

    async def _streamable(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        if self.router is not None and self.settings.stateful:
            held = header(scope, _SESSION_HEADER)
            if held is not None:
                local = held in self._manager._server_instances
                if await self._route(held, local, scope, receive, send, with_body=method == "POST"):
                    return
        version = header(scope, _VERSION_HEADER)
        handshake_era = version is None or version in HANDSHAKE_PROTOCOL_VERSIONS
        if method == "POST":
            session = header(scope, _SESSION_HEADER) if self.settings.stateful else None
            if session is not None:
                self.guard.touch("get", session)
                scope[LISTENING_KEY] = True
                if self._session_shortcut is not None:
                    await self._session_shortcut(scope, receive, send, self._sdk_post)
                    return
            elif self.settings.stateful and handshake_era:
                await self._open_session(scope, receive, send)
                return
            elif self._call_shortcut is not None:
                await self._call_shortcut(scope, receive, send, self._listed_post)
                return
            elif self._shortcut is not None:
                await self._shortcut(scope, receive, send, self._sdk_post)
                return
            await refuse_invalid_ids(self._manager.handle_request, scope, receive, send)
            return
        if method == "GET" and handshake_era:
            if not self.settings.stateful:
                # No session, so nothing could ever be sent on the stream: say so rather than hold it open.
                await stateless_get_response()(scope, receive, send)
                return
            session = header(scope, _SESSION_HEADER)
            if session is not None:
                try:
                    stream = self.guard.open_stream("get", scope["sagemcp.call"], scope, session)
                except LimitReached as exc:
                    await limit_response(exc)(scope, receive, send)
                    return
                await self.guard.serve(stream, self._manager.handle_request, scope, receive, send)
                return
        await self._manager.handle_request(scope, receive, send)

    async def _sdk_post(self, scope: Scope, receive: Receive, send: Send) -> None:
        await refuse_invalid_ids(self._manager.handle_request, scope, receive, send)

    async def _listed_post(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A stateless POST the `tools/call` shortcut left: the `tools/list` shortcut's, else the SDK's."""
        if self._shortcut is not None:
            await self._shortcut(scope, receive, send, self._sdk_post)
        else:
            await self._sdk_post(scope, receive, send)

    async def _open_session(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A stateful request without a session id, which opens one when the SDK accepts it: room is
        reserved in the caller's session quota first, and kept only if a session is created."""
        try:
            slot: SessionSlot = self.guard.reserve_session(scope["sagemcp.call"])
        except LimitReached as exc:
            await limit_response(exc)(scope, receive, send)
            return

        async def binding_send(message: Message) -> None:
            if message["type"] == "http.response.start" and not slot.bound:
                status = message["status"]
                session = next(
                    (v.decode("latin-1") for k, v in message.get("headers", []) if k == _SESSION_HEADER), None
                )
                if session is not None and status < 400:
                    slot.bind(session, scope)
                    if self.router is not None:
                        # Registered before the client learns the id, so its next request may land anywhere.
                        await self.router.opened(session)
                elif status == 503:
                    self.guard.sessions.count_refusal("sessions")  # the SDK's own max_sessions
            await send(message)

        try:
            await refuse_invalid_ids(self._manager.handle_request, scope, receive, binding_send)
        finally:
            slot.release()

    async def _end_session(self, session_id: str) -> None:
        """Terminate a stateful session (its caller lost access); the SDK then discards it."""
        transport = self._manager._server_instances.get(session_id)
        if transport is not None and not transport.is_terminated:
            await transport.terminate()

    async def _sse_stream(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            stream = self.guard.open_stream("sse", scope["sagemcp.call"], scope)
        except LimitReached as exc:
            await limit_response(exc)(scope, receive, send)
            return
        if self.router is None:
            await self.guard.serve(stream, self._run_sse, scope, receive, send)
            return
        router = self.router
        registered: list[str] = []

        async def registering_send(message: Message) -> None:
            if message["type"] == "http.response.body" and not registered:
                found = _SSE_ENDPOINT_SESSION.search(message.get("body", b""))
                if found is not None:
                    registered.append(found.group(1).decode("ascii"))
                    await router.opened(registered[0])  # before the client learns where to POST
            await send(message)

        try:
            await self.guard.serve(stream, self._run_sse, scope, receive, registering_send)
        finally:
            if registered:
                with anyio.CancelScope(shield=True):
                    await router.closed(registered[0])

    async def _route(
        self, session: str, local: bool, scope: Scope, receive: Receive, send: Send, *, with_body: bool
    ) -> bool:
        """Answer a request for a session held by another replica (forwarded there, or 404 when none holds
        it); False when this process holds the session and serves the request itself."""
        assert self.router is not None
        binding = _binding(scope)
        inbound = self.router.inbound(scope, binding)
        if inbound is False:
            await refuse_forward(scope, receive, send)
            return True
        if local:
            return False
        if inbound:
            # Forwarded here, but this process no longer holds it (ended, or a restart since): never forwarded twice.
            await session_gone_response()(scope, receive, send)
            return True
        body: bytes | None = None
        if with_body:
            body = await read_body(receive, self.settings.max_body_bytes)
            if body is None:
                limit = self.settings.max_body_bytes
                await error_response(413, f"The message is larger than {limit} bytes.")(scope, receive, send)
                return True
        await self.router.forward(session, binding, scope, body, receive, send)
        return True

    async def _run_sse(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The transport tells the client to POST to root_path + "/messages/": point it at this path's sibling.
        # `path` is the full request path (ASGI: it includes root_path when the app is mounted).
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and not path.startswith(root):
            path = root + path  # a server that leaves root_path out of path
        scope = dict(scope, root_path=path[: -len("/sse")])
        with contextlib.suppress(ValueError):  # raised after the transport answered a failed host check
            async with self._sse.connect_sse(scope, receive, send) as (read_stream, write_stream):
                await self.server.run(read_stream, write_stream, self.server.create_initialization_options())

    async def _sse_message(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A message POSTed to a legacy SSE session. Malformed ones are the client's fault: answered
        400 with a JSON-RPC error and one INFO line, never handed to the SDK (which logs a traceback)."""
        body = await read_body(receive, self.settings.max_body_bytes)
        if body is None:
            limit = self.settings.max_body_bytes
            await error_response(413, f"The message is larger than {limit} bytes.")(scope, receive, send)
            return
        problem = jsonrpc_problem(body)
        if problem is not None:
            code, message, request_id = problem
            logger.info("legacy SSE message refused (request %s): %s", scope["state"].get("request_id"), message)
            refusal = error_body(message, code, request_id=request_id)
            await JSONResponse(refusal, status_code=400)(scope, receive, send)
            return
        session = HTTPConnection(scope).query_params.get("session_id")
        if session is not None and self.router is not None:
            held: uuid.UUID | None = None
            with contextlib.suppress(ValueError):
                held = uuid.UUID(hex=session)
            if held is not None:
                local = held in self._sse._read_stream_writers
                if await self._route(held.hex, local, scope, replaying(body, receive), send, with_body=True):
                    return
        if session is not None:
            self.guard.touch("sse", session)
        scope[LISTENING_KEY] = True
        await self._sse.handle_post_message(scope, replaying(body, receive), send)

    async def _websocket(self, ws: WebSocket) -> None:
        if not self._websocket_origin_allowed(ws):
            await ws.close(code=1008, reason="host or origin not allowed")
            return
        failure = await self._admit_websocket(ws)
        if failure is not None:
            await ws.close(code=failure, reason=_close_reason(failure))
            return
        try:
            stream = self.guard.open_stream("websocket", ws.scope["sagemcp.call"], ws.scope)
            ws.scope[LISTENING_KEY] = True
        except LimitReached as exc:
            await _refuse_websocket(ws, exc)
            return
        try:
            with stream.cancel:
                await serve_websocket(
                    self.server,
                    ws,
                    readmit=lambda: self._admit_websocket(ws),
                    readmit_after=self.settings.cache_ttl,
                    stream=stream,
                )
        finally:
            self.guard.stream_closed(stream)

    async def _admit_websocket(self, ws: WebSocket) -> int | None:
        """Admission for a WebSocket, as a close code: 1008 refused, 4404 not found, 1011 server trouble."""
        try:
            failure = await self._admit(ws.scope)
        except Exception:
            logger.exception("WebSocket admission failed (request %s)", ws.scope.get("state", {}).get("request_id"))
            return 1011
        if failure is None:
            return None
        status = failure.status
        return 1008 if status in (401, 403) else 4404 if status == 404 else 1011

    def challenge(self, scope: Scope, error: str | None = None) -> str:
        """The `WWW-Authenticate` challenge for a refused request to an endpoint (RFC 6750 §3, RFC 9728 §5.1).

        It names the scopes to ask for and, when an authorization server is configured, the
        endpoint's resource metadata URL, where OAuth clients start discovery.
        """
        settings = self.settings
        return challenge(
            realm=settings.realm,
            scopes=settings.resource_scopes,
            metadata_url=settings.resource_metadata_url(scope) if settings.oauth_enabled else None,
            error=error,
            description=_CHALLENGE_DESCRIPTIONS.get(error or ""),
        )

    def _websocket_origin_allowed(self, ws: WebSocket) -> bool:
        """DNS-rebinding protection for WebSocket upgrades, with the same lists as the HTTP transports."""
        settings = self.settings
        host, origin = ws.headers.get("host"), ws.headers.get("origin")
        if settings.allowed_hosts is not None and not _matches(host, settings.allowed_hosts):
            return False
        return origin is None or settings.allowed_origins is None or _matches(origin, settings.allowed_origins)

    # -- admission -----------------------------------------------------------------------

    async def _still_admitted(self, scope: Scope, key_id: str) -> bool | None:
        """Admission run again for an open stream or session: True still admitted with the same key,
        False refused (it must close), None cannot tell now (the store is down: keep it)."""
        probe = dict(scope, state={})
        try:
            failure = await self._admit(probe, quiet=True)
        except Exception:
            return None
        if failure is None:
            cs: CallScope = probe["sagemcp.call"]
            return cs.principal.id == key_id
        return False if failure.status in (401, 403, 404) else None

    async def _admit(self, scope: Scope, *, quiet: bool = False) -> Refusal | None:
        """Authenticate and resolve; attach the `CallScope` and the session-binding user. Returns a refusal or None.

        The order matters: a caller learns whether a tenant exists, is active or has a
        connector only after its key or token is shown to grant access to that tenant. A
        token issued for another endpoint (its `resource`) gets the same 404 as a foreign
        tenant. `quiet` leaves store trouble unlogged (the periodic re-admission of open streams).
        """
        conn = HTTPConnection(scope)
        request_id = _request_id(conn)
        scope.setdefault("state", {})["request_id"] = request_id
        slug = scope["path_params"]["tenant"]
        connector_key = scope["path_params"].get("connector")
        resource = scope[RESOURCE_SCOPE_KEY] = self.settings.resource_url(scope)
        try:
            principal = await self.authenticator.authenticate(conn)
            if principal is None:
                if "authorization" in conn.headers:
                    return Refusal(401, error_body(_NOT_ACCEPTED), "invalid_token")
                return Refusal(401, error_body(_AUTHENTICATION_REQUIRED))
            if principal.resource is not None and not same_resource(principal.resource, resource):
                return _hidden(slug)
            try:
                view = await self.resolver.view(slug)
            except LookupFailed:
                return _hidden(slug)
            if principal.kind not in ("platform_admin", "anonymous"):
                if principal.tenant_id != view.tenant.id:
                    return _hidden(slug)
                if REQUIRED_SCOPE not in principal.scopes:
                    message = (
                        f"This key or token lacks the scope {REQUIRED_SCOPE!r} that the MCP endpoints of tenant "
                        f"{slug!r} require: ask for a token with scope {REQUIRED_SCOPE!r} (or a key that has it)."
                    )
                    return Refusal(403, error_body(message, data={"scope": REQUIRED_SCOPE}), "insufficient_scope")
            if not view.tenant.active:
                return Refusal(403, error_body(f"Tenant {slug!r} is inactive."))
            targets = [view.target(connector_key)] if connector_key is not None else list(view.targets)
            if principal.connector_id is not None:
                if connector_key is not None and targets[0].config.id != principal.connector_id:
                    return Refusal(403, error_body("This key is limited to another connector of this tenant."))
                targets = [t for t in targets if t.config.id == principal.connector_id]
        except LookupFailed as exc:
            return Refusal(404, error_body(exc.message))
        except AccessDenied as exc:
            return Refusal(403, error_body(exc.message))
        except IssuerUnavailable as exc:
            if not quiet:
                logger.warning("cannot check the access token of request %s: %s", request_id, exc.message)
            message = f"The server cannot check access tokens right now. Retry later. Reference: {request_id}."
            return Refusal(503, error_body(message))
        except SageMCPError as exc:
            # The store is down or refused: expected during outages, so no traceback per request.
            if not quiet:
                logger.warning("cannot admit request %s for tenant %s: %s", request_id, slug, exc.code)
            return Refusal(503, error_body(f"The server cannot reach its store right now. Reference: {request_id}."))
        scope["sagemcp.call"] = CallScope(
            view=view, targets=targets, principal=principal, request_id=request_id, tenant_wide=connector_key is None
        )
        # The SDK ties a session to the identity that created it; binding that identity to the tenant,
        # the connector and the caller makes a session id unusable on any other path or with any other key.
        binding = f"{view.tenant.id}/{connector_key or '*'}/{principal.id}"
        scope["user"] = AuthenticatedUser(AccessToken(token="-", client_id=binding, scopes=sorted(principal.scopes)))
        return None


class _Endpoint:
    """Admission in front of a transport: failures answer with a JSON-RPC error body and an HTTP status.

    With `explain_to_browsers`, a GET that does not ask for an event stream (a URL pasted
    into a browser) is answered at once, before authentication, with how to connect a client.
    """

    def __init__(self, app: McpApp, transport: Any, *, explain_to_browsers: bool = False) -> None:
        self.app = app
        self.transport = transport
        self.explain_to_browsers = explain_to_browsers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.explain_to_browsers and scope["method"] in ("GET", "HEAD") and not wants_event_stream(scope):
            await browser_response()(scope, receive, send)
            return
        try:
            failure = await self.app._admit(scope)
        except Exception:
            request_id = scope.get("state", {}).get("request_id", "-")
            logger.exception("admission failed (request %s)", request_id)
            failure = Refusal(
                503, error_body(f"The server cannot serve this request right now. Reference: {request_id}.")
            )
        request_id = scope["state"].get("request_id", "")
        if failure is not None:
            headers = {"X-Request-ID": request_id}
            if failure.status == 401 or failure.error is not None:
                headers["WWW-Authenticate"] = self.app.challenge(scope, failure.error)
            await JSONResponse(failure.body, status_code=failure.status, headers=headers)(scope, receive, send)
            return

        async def send_with_id(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.transport(scope, receive, send_with_id)
        except ClientDisconnect:
            logger.debug("client went away before its request was read (request %s)", request_id)


def create_mcp_app(
    store: TenantStore,
    registry: ConnectorRegistry,
    *,
    authenticator: CallerAuthenticator | None = None,
    allow_anonymous: bool = False,
    credentials: CredentialManager | None = None,
    upstream: UpstreamClient | None = None,
    settings: McpSettings | None = None,
    observer: ToolCallObserver | None = None,
    router: SessionRouter | None = None,
    guard: CallGuard | None = None,
) -> McpApp:
    """Build the multi-tenant MCP ASGI app.

    Callers authenticate with the store's API keys unless another `authenticator`
    is given; `allow_anonymous=True` lets everyone in and must be chosen explicitly.
    `router` routes stateful sessions between replicas (`SessionRouter`); without it a
    session is served only by the process that opened it. `guard` applies the tool-call
    limits (`CallGuard`) to every `tools/call`, on every transport; without it there are none.
    """
    settings = settings or McpSettings()
    if authenticator is None:
        authenticator = AllowAnonymous() if allow_anonymous else ApiKeyAuthenticator(store, ttl=settings.cache_ttl)
    elif allow_anonymous:
        raise ValueError("pass either an authenticator or allow_anonymous=True, not both")
    credentials = credentials or CredentialManager(store, OAuthFlows())
    owns_upstream = upstream is None
    upstream = upstream or UpstreamClient()
    resolver = Resolver(store, registry, credentials, ttl=settings.cache_ttl, connect_url=settings.connect_url)
    handlers = Handlers(
        resolver,
        upstream,
        HandlerSettings(
            settings.max_result_chars,
            settings.server_name,
            settings.server_version,
            settings.tools_page_size,
            cache_ttl=settings.cache_ttl,
            **({"request_state_key": settings.request_state_key} if settings.request_state_key else {}),
        ),
        observer,
        guard,
    )
    app = McpApp(
        resolver=resolver,
        authenticator=authenticator,
        handlers=handlers,
        settings=settings,
        upstream=upstream,
        owns_upstream=owns_upstream,
        router=router,
    )
    # A key revoked or a tenant changed in this process reaches its open streams at once.
    resolver.on_invalidate(app.check_streams)
    resolver.on_view_built(app.changes.view_built)
    if isinstance(authenticator, InvalidationSource):
        authenticator.on_invalidate(app.check_streams)
    return app


def _binding(scope: Scope) -> str:
    """The identity admission tied this request to (`tenant id/connector/caller id`), as sessions are bound."""
    user = scope.get("user")
    return user.access_token.client_id if isinstance(user, AuthenticatedUser) else ""


def _matches(value: str | None, patterns: list[str]) -> bool:
    """`value` equals a pattern, or a `prefix:*` pattern matches any port."""
    if value is None:
        return False
    for pattern in patterns:
        if value == pattern or (pattern.endswith(":*") and value.rsplit(":", 1)[0] == pattern[:-2]):
            return True
    return False


def _hidden(slug: str) -> Refusal:
    """The refusal that does not tell a foreign or unknown tenant from one the key cannot use."""
    return Refusal(404, error_body(f"Tenant {slug!r} not found or not accessible with this key."))


def _request_id(conn: HTTPConnection) -> str:
    """The id a host put in the request's state (`scope["state"]["request_id"]`), else the client's valid
    `X-Request-ID`, else a new random one (32 hex digits)."""
    scope = conn.scope
    given = scope.get("state", {}).get("request_id") or header(scope, _REQUEST_ID_HEADER)
    if given and _REQUEST_ID_RE.match(given):
        return given
    return os.urandom(16).hex()  # as long as uuid4().hex, without building a UUID on every request


def _close_reason(code: int) -> str:
    return {1008: "not allowed", 4404: "not found"}.get(code, "unavailable")


async def _refuse_websocket(ws: WebSocket, exc: LimitReached) -> None:
    """Refuse an upgrade over a quota: HTTP 429 with the JSON-RPC error where the server can send one
    (the ASGI denial-response extension), else close 1013 "try again later" with the limit's name."""
    if "websocket.http.response" in ws.scope.get("extensions", {}):
        await ws.send_denial_response(limit_response(exc))
    else:
        await ws.close(code=1013, reason=f"limit reached: {exc.limit}")


def error_response(status: int, message: str) -> Response:
    return JSONResponse(error_body(message), status_code=status)
