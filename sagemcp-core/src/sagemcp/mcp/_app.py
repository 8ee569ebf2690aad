"""The ASGI app: multi-tenant routing, caller authentication, session binding and the three transports."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.sse import SseServerTransport
from mcp.server.streamable_http import EventStore
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, HTTPConnection
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from .. import __version__
from ..credentials import CredentialManager
from ..errors import AccessDenied, LookupFailed, SageMCPError
from ..oauth import OAuthFlows
from ..registry import ConnectorRegistry
from ..store import TenantStore
from ..upstream import UpstreamClient
from ._auth import AllowAnonymous, ApiKeyAuthenticator, CallerAuthenticator
from ._handlers import Handlers, HandlerSettings, ToolCallObserver
from ._resolve import CallScope, Resolver
from ._websocket import serve_websocket

logger = logging.getLogger("sagemcp.mcp")
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


@dataclass
class McpSettings:
    """How the MCP endpoints behave. The defaults are the fastest safe choice: stateless JSON responses."""

    stateful: bool = False
    """Keep sessions (needed for server-to-client requests: sampling, elicitation, streamed progress and logs)."""
    json_response: bool = True
    """Answer stateless requests with plain JSON instead of an SSE stream. Ignored when `stateful`."""
    max_result_chars: int = 100_000
    """Cap on a tool result's text (about 25,000 tokens); longer text is cut with a marker."""
    max_body_bytes: int = 4 * 1024 * 1024
    cache_ttl: float = 5.0
    """Seconds a process may serve a cached tenant, connector, credential or API key."""
    allowed_hosts: list[str] | None = None
    """Host header values accepted (DNS-rebinding protection); None disables the check."""
    allowed_origins: list[str] | None = None
    session_idle_timeout: float = 1800.0
    max_sessions: int = 10_000
    legacy_sse: bool = True
    websocket: bool = True
    event_store: EventStore | None = None
    retry_interval: int | None = None
    server_name: str = "sagemcp"
    server_version: str = __version__
    www_authenticate: str = 'Bearer realm="sagemcp"'

    @classmethod
    def for_local_bind(cls, port: int, **kwargs: Any) -> McpSettings:
        """Settings with DNS-rebinding protection for a server bound to localhost on `port`."""
        hosts = [f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"]
        origins = [f"http://{h}" for h in hosts]
        return cls(allowed_hosts=hosts, allowed_origins=origins, **kwargs)

    def transport_security(self) -> TransportSecuritySettings | None:
        if self.allowed_hosts is None and self.allowed_origins is None:
            return None
        return TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=list(self.allowed_hosts or []),
            allowed_origins=list(self.allowed_origins or []),
        )


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
    _manager: StreamableHTTPSessionManager = field(init=False, repr=False)
    _sse: SseServerTransport = field(init=False, repr=False)
    _asgi: Starlette = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.server = self.handlers.build_server()
        security = self.settings.transport_security()
        self._manager = StreamableHTTPSessionManager(
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
        self._sse = SseServerTransport("/messages/", security, self.settings.max_body_bytes)
        self._asgi = Starlette(routes=self.routes(), lifespan=lambda _app: self.lifespan())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._asgi(scope, receive, send)

    @property
    def open_sessions(self) -> int:
        """Stateful Streamable HTTP sessions open in this process (0 in stateless mode)."""
        # The SDK's session manager exposes no count; its session table is the one source.
        return len(self._manager._server_instances)

    @contextlib.asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        async with self._manager.run():
            try:
                yield
            finally:
                if self.owns_upstream:
                    await self.upstream.aclose()

    def routes(self) -> list[BaseRoute]:
        one = "/{tenant}/connectors/{connector}"
        routes: list[BaseRoute] = [
            Route(one + "/mcp", _Endpoint(self, self._streamable), methods=["GET", "POST", "DELETE"]),
            Route("/{tenant}/mcp", _Endpoint(self, self._streamable), methods=["GET", "POST", "DELETE"]),
        ]
        if self.settings.legacy_sse:
            for base in (one, "/{tenant}"):
                routes.append(Route(base + "/sse", _Endpoint(self, self._sse_stream), methods=["GET"]))
                routes.append(Route(base + "/messages/", _Endpoint(self, self._sse_message), methods=["POST"]))
        if self.settings.websocket:
            for base in (one, "/{tenant}"):
                routes.append(WebSocketRoute(base + "/ws", self._websocket))
        return routes

    # -- transports ----------------------------------------------------------------------

    async def _streamable(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._manager.handle_request(scope, receive, send)

    async def _sse_stream(self, scope: Scope, receive: Receive, send: Send) -> None:
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
        await self._sse.handle_post_message(scope, receive, send)

    async def _websocket(self, ws: WebSocket) -> None:
        if not self._websocket_origin_allowed(ws):
            await ws.close(code=1008, reason="host or origin not allowed")
            return
        failure = await self._admit_websocket(ws)
        if failure is not None:
            await ws.close(code=failure, reason=_close_reason(failure))
            return
        await serve_websocket(
            self.server, ws, readmit=lambda: self._admit_websocket(ws), readmit_after=self.settings.cache_ttl
        )

    async def _admit_websocket(self, ws: WebSocket) -> int | None:
        """Admission for a WebSocket, as a close code: 1008 refused, 4404 not found, 1011 server trouble."""
        try:
            failure = await self._admit(ws.scope)
        except Exception:
            logger.exception("WebSocket admission failed (request %s)", ws.scope.get("state", {}).get("request_id"))
            return 1011
        if failure is None:
            return None
        status = failure[0]
        return 1008 if status in (401, 403) else 4404 if status == 404 else 1011

    def _websocket_origin_allowed(self, ws: WebSocket) -> bool:
        """DNS-rebinding protection for WebSocket upgrades, with the same lists as the HTTP transports."""
        settings = self.settings
        host, origin = ws.headers.get("host"), ws.headers.get("origin")
        if settings.allowed_hosts is not None and not _matches(host, settings.allowed_hosts):
            return False
        return origin is None or settings.allowed_origins is None or _matches(origin, settings.allowed_origins)

    # -- admission -----------------------------------------------------------------------

    async def _admit(self, scope: Scope) -> tuple[int, dict[str, Any]] | None:
        """Authenticate and resolve; attach the `CallScope` and the session-binding user. Returns an error or None.

        The order matters: a caller learns whether a tenant exists, is active or has a
        connector only after its key is shown to grant access to that tenant.
        """
        conn = HTTPConnection(scope)
        request_id = _request_id(conn)
        scope.setdefault("state", {})["request_id"] = request_id
        slug = scope["path_params"]["tenant"]
        connector_key = scope["path_params"].get("connector")
        hidden = 404, _error_body(f"Tenant {slug!r} not found or not accessible with this key.")
        try:
            principal = await self.authenticator.authenticate(conn)
            if principal is None:
                return 401, _error_body("Authentication required: send Authorization: Bearer <API key>.")
            try:
                view = await self.resolver.view(slug)
            except LookupFailed:
                return hidden
            if not principal.can_use(view.tenant.id):
                return hidden
            if not view.tenant.active:
                return 403, _error_body(f"Tenant {slug!r} is inactive.")
            targets = [view.target(connector_key)] if connector_key is not None else list(view.targets)
            if principal.connector_id is not None:
                if connector_key is not None and targets[0].config.id != principal.connector_id:
                    return 403, _error_body("This key is limited to another connector of this tenant.")
                targets = [t for t in targets if t.config.id == principal.connector_id]
        except LookupFailed as exc:
            return 404, _error_body(exc.message)
        except AccessDenied as exc:
            return 403, _error_body(exc.message)
        except SageMCPError as exc:
            # The store is down or refused: expected during outages, so no traceback per request.
            logger.warning("cannot admit request %s for tenant %s: %s", request_id, slug, exc.code)
            return 503, _error_body(f"The server cannot reach its store right now. Reference: {request_id}.")
        scope["sagemcp.call"] = CallScope(
            view=view, targets=targets, principal=principal, request_id=request_id, tenant_wide=connector_key is None
        )
        # The SDK ties a session to the identity that created it; binding that identity to the tenant,
        # the connector and the caller makes a session id unusable on any other path or with any other key.
        binding = f"{view.tenant.id}/{connector_key or '*'}/{principal.id}"
        scope["user"] = AuthenticatedUser(AccessToken(token="-", client_id=binding, scopes=sorted(principal.scopes)))
        return None


class _Endpoint:
    """Admission in front of a transport: failures answer with a JSON-RPC error body and an HTTP status."""

    def __init__(self, app: McpApp, transport: Any) -> None:
        self.app = app
        self.transport = transport

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            failure = await self.app._admit(scope)
        except Exception:
            request_id = scope.get("state", {}).get("request_id", "-")
            logger.exception("admission failed (request %s)", request_id)
            failure = 503, _error_body(f"The server cannot serve this request right now. Reference: {request_id}.")
        request_id = scope["state"].get("request_id", "")
        if failure is not None:
            status, body = failure
            headers = {"X-Request-ID": request_id}
            if status == 401:
                headers["WWW-Authenticate"] = self.app.settings.www_authenticate
            await JSONResponse(body, status_code=status, headers=headers)(scope, receive, send)
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
) -> McpApp:
    """Build the multi-tenant MCP ASGI app.

    Callers authenticate with the store's API keys unless another `authenticator`
    is given; `allow_anonymous=True` lets everyone in and must be chosen explicitly.
    """
    settings = settings or McpSettings()
    if authenticator is None:
        authenticator = AllowAnonymous() if allow_anonymous else ApiKeyAuthenticator(store, ttl=settings.cache_ttl)
    elif allow_anonymous:
        raise ValueError("pass either an authenticator or allow_anonymous=True, not both")
    credentials = credentials or CredentialManager(store, OAuthFlows())
    owns_upstream = upstream is None
    upstream = upstream or UpstreamClient()
    resolver = Resolver(store, registry, credentials, ttl=settings.cache_ttl)
    handlers = Handlers(
        resolver,
        upstream,
        HandlerSettings(settings.max_result_chars, settings.server_name, settings.server_version),
        observer,
    )
    return McpApp(
        resolver=resolver,
        authenticator=authenticator,
        handlers=handlers,
        settings=settings,
        upstream=upstream,
        owns_upstream=owns_upstream,
    )


def _matches(value: str | None, patterns: list[str]) -> bool:
    """`value` equals a pattern, or a `prefix:*` pattern matches any port."""
    if value is None:
        return False
    for pattern in patterns:
        if value == pattern or (pattern.endswith(":*") and value.rsplit(":", 1)[0] == pattern[:-2]):
            return True
    return False


def _request_id(conn: HTTPConnection) -> str:
    given = conn.headers.get("x-request-id")
    if given and _REQUEST_ID_RE.match(given):
        return given
    return uuid.uuid4().hex


def _error_body(message: str, code: int = -32600) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}


def _close_reason(code: int) -> str:
    return {1008: "not allowed", 4404: "not found"}.get(code, "unavailable")


def error_response(status: int, message: str) -> Response:
    return Response(json.dumps(_error_body(message)), status_code=status, media_type="application/json")
