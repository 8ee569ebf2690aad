"""`create_app(settings)`: the Starlette application an operator runs.

It composes core (the MCP adapter, credentials, OAuth flows), the installed connectors
and the SQL store. Routes:

- `/api/v1/admin/...` and `/api/v1/oauth/...`: the admin API and the OAuth routes;
- `/api/v1/openapi.json`: their OpenAPI document;
- `/api/v1/{tenant}/mcp`, `/api/v1/{tenant}/connectors/{connector}/mcp` (and `.../sse`, `.../ws`): core's MCP app;
- `/healthz` (process up), `/readyz` (database reachable, schema current; Redis reported), `/metrics` (Prometheus);
- `/console/...`: the web console (`sagemcp_server.console`), and the sign-in pages (`sagemcp_server.web`);
- the built-in OAuth authorization server for MCP clients (`/.well-known/oauth-authorization-server`,
  `/authorize`, `/token`, `/register`, `/revoke`, `/oauth/consent`; see `sagemcp_server.authz`) and the
  RFC 9728 metadata of every MCP endpoint (`/.well-known/oauth-protected-resource/api/v1/...`).

The lifespan upgrades the schema (unless `SAGEMCP_AUTO_MIGRATE=false`), runs the MCP
session manager and the audit writer, and on shutdown writes the remaining audit
events and closes the pools.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sagemcp.mcp import (
    ApiKeyAuthenticator,
    BearerTokenAuthenticator,
    CallerAuthenticator,
    ChainAuthenticator,
    McpSettings,
    create_mcp_app,
    protected_resource_routes,
)
from sagemcp.platform import (
    AuditEvent,
    ConnectorConfig,
    ConnectorRegistry,
    CredentialManager,
    OAuthFlows,
    Principal,
    SecretBox,
    Tenant,
    UpstreamClient,
)

from . import __version__
from .api import (
    api_keys,
    audit,
    connections,
    connector_types,
    connectors,
    credentials,
    oauth_apps,
    oidc_providers,
    people,
    tenants,
)
from .api.auth import EnvAdminAuthenticator, authenticate
from .api.errors import error_response, handle_exception
from .api.my_connections import my_connection_routes
from .api.routing import Operation, route_for
from .auditlog import AuditBuffer
from .authz.maintenance import purge_periodically
from .authz.setup import build_authorization, resolve_mode
from .authz.store import AuthorizationLimits, AuthorizationStore
from .authz.tokens import is_access_token
from .authz.verifier import KeyOrTokenAuthenticator, looks_like_jwt
from .call_limits import RedisLimiter, build_call_guard, call_limits_state
from .console import ConsoleHeadersMiddleware, console_routes
from .db.engine import create_engine
from .db.migrate import upgrade
from .db.people import PeopleLimits, PeopleStore
from .db.store import DatabaseUnavailable, SqlStore
from .deadlines import BodyDeadlineMiddleware
from .health import readiness
from .keyring import load_secret_box
from .logging import configure_logging, request_id_var
from .metrics import CONTENT_TYPE_LATEST, Metrics
from .oauth_routes import OPERATIONS as OAUTH_OPERATIONS
from .oauth_routes import callback_route, start_route
from .openapi import build_openapi
from .passwords import Passwords
from .redis_client import connect_redis, redis_state
from .routing import McpFirstRouter
from .services import Services
from .session_routing import build_session_router
from .settings import Settings
from .web import web_routes
from .web.connect import connect_routes

__all__ = ["OPERATIONS", "create_app", "create_app_from_env"]

logger = logging.getLogger("sagemcp_server")
access_logger = logging.getLogger("sagemcp_server.access")

OPERATIONS: list[Operation] = [
    *tenants.OPERATIONS,
    *connectors.OPERATIONS,
    *oauth_apps.OPERATIONS,
    *credentials.OPERATIONS,
    *connections.OPERATIONS,
    *api_keys.OPERATIONS,
    *audit.OPERATIONS,
    *connector_types.OPERATIONS,
    *OAUTH_OPERATIONS,
    *people.OPERATIONS,
    *oidc_providers.OPERATIONS,
]

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def _request_id_header(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The first `X-Request-ID` of raw ASGI headers (a loop over the list costs less than a `Headers` view)."""
    for key, value in headers:
        if key == b"x-request-id":
            return value.decode("latin-1")
    return None


class ObservabilityMiddleware:
    """Request ids, the access log (paths only, never query strings) and HTTP metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = _request_id_header(scope["headers"])
        request_id = given if given and _REQUEST_ID_RE.match(given) else os.urandom(16).hex()
        # Core's MCP layer takes the id from the request's state, so that both log the same id.
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        path: str = scope["path"]
        # Routing appends mount prefixes to root_path; the server's own prefix is not part of a route template.
        outer_root: str = scope.get("root_path", "")
        mcp = (
            path.startswith("/api/v1/")
            and not path.startswith(("/api/v1/admin/", "/api/v1/oauth/"))
            and (path.endswith(("/mcp", "/sse", "/ws", "/messages/")))
        )
        if mcp:
            self.metrics.mcp_open += 1
        status = 101 if scope["type"] == "websocket" else 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.get("headers", [])
                for key, _ in headers:
                    if key.lower() == b"x-request-id":
                        break  # core's MCP app and the API's errors set it
                else:
                    message = {**message, "headers": [*headers, (b"x-request-id", request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            if mcp:
                self.metrics.mcp_open -= 1
            route = scope.get("route")
            root: str = scope.get("root_path", "")
            prefix = root[len(outer_root) :] if root.startswith(outer_root) else root
            label = prefix + route.path if route is not None and hasattr(route, "path") else "unmatched"
            method = scope.get("method", "WS")
            self.metrics.observe_request(method, label, status, seconds)
            level = logging.DEBUG if path in _QUIET_PATHS else logging.INFO
            access_logger.log(
                level,
                "%s %s %s %.1fms",
                method,
                path,
                status,
                seconds * 1000,
                extra={"method": method, "path": path, "status": status, "duration_ms": round(seconds * 1000, 2)},
            )
            request_id_var.reset(token)


def _mcp_settings(settings: Settings, issuer: str | None = None) -> McpSettings:
    """The MCP app's settings; `issuer` is the authorization server whose tokens the endpoints accept (None: API
    keys only, no resource metadata)."""
    hosts = settings.allowed_hosts
    if hosts is None and settings.host in ("127.0.0.1", "localhost", "::1"):
        # A server bound to loopback only answers requests addressed to loopback (DNS-rebinding protection).
        hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*", "127.0.0.1", "localhost"]
        public = httpx.URL(settings.resolved_public_url())
        hosts.append(public.netloc.decode("ascii"))
    origins = None
    if hosts is not None:
        origins = [f"{scheme}://{h}" for h in hosts for scheme in ("http", "https")]
    return McpSettings(
        stateful=settings.mcp_stateful,
        cache_ttl=settings.cache_ttl,
        allowed_hosts=hosts,
        allowed_origins=origins,
        server_version=__version__,
        # canonical resource URLs (OAuth audiences) are services.mcp_url(...), never the Host header
        public_url=settings.resolved_public_url() + "/api/v1",
        authorization_servers=[issuer] if issuer else [],
        resource_name="sagemcp",
        session_idle_timeout=settings.mcp_session_idle_timeout,
        max_sessions=settings.mcp_max_sessions,
        max_sessions_per_tenant=settings.mcp_max_sessions_per_tenant,
        max_sessions_per_key=settings.mcp_max_sessions_per_key,
        max_streams=settings.mcp_max_streams,
        max_streams_per_tenant=settings.mcp_max_streams_per_tenant,
        max_streams_per_key=settings.mcp_max_streams_per_key,
        stream_idle_timeout=settings.mcp_stream_idle_timeout,
        tools_page_size=settings.mcp_tools_page_size,
        max_body_bytes=settings.mcp_max_body_bytes,
        connect_url=_connect_url(settings.resolved_public_url()),
        request_state_key=_request_state_key(settings),
    )


def _request_state_key(settings: Settings) -> bytes | None:
    """The key sealing 2026-07-28 input-round states, derived from the secret key ring so that every replica
    shares it (a round may come back to any of them); None (a key per process) when the ring is read from a file."""
    if settings.secret_keys is None:
        return None
    return hashlib.sha256(b"sagemcp request state\n" + settings.secret_keys.get_secret_value().encode()).digest()


def _connect_url(public_url: str) -> Callable[[Tenant, ConnectorConfig, Principal], str]:
    """Where a member calling a `per_user` connector without their own connection is sent: the connect page."""

    def build(tenant: Tenant, config: ConnectorConfig, principal: Principal) -> str:
        return f"{public_url}/connect/{tenant.slug}/{config.name}"

    return build


def build_services(
    settings: Settings,
    *,
    registry: ConnectorRegistry | None = None,
    box: SecretBox | None = None,
    oauth_transport: httpx.AsyncBaseTransport | None = None,
    upstream_transport: httpx.AsyncBaseTransport | None = None,
) -> Services:
    engine = create_engine(
        settings.resolved_database_url(),
        schema=settings.database_schema,
        pool_size=settings.db_pool_size,
        timeout=settings.db_timeout,
    )
    box = box or load_secret_box(settings)
    store = SqlStore(engine, box)
    people = PeopleStore(
        store,
        PeopleLimits(
            max_users=settings.max_users,
            max_sessions_per_user=settings.max_sessions_per_user,
            max_pending_invitations_per_tenant=settings.max_pending_invitations,
            max_oidc_providers=settings.max_oidc_providers,
            max_pending_oidc_signins=settings.max_pending_oidc_signins,
            session_idle_timeout=settings.session_idle_timeout,
            session_lifetime=settings.session_lifetime,
        ),
    )
    registry = registry if registry is not None else ConnectorRegistry.from_entry_points()
    metrics = Metrics(registry)
    # Token endpoints and tool calls leave through the same proxy (or the environment's).
    proxy = settings.resolved_upstream_proxy()
    flows = OAuthFlows(transport=oauth_transport, state_ttl=settings.oauth_state_ttl, proxy=proxy)
    credential_manager = CredentialManager(store, flows, on_refresh=metrics.refresh)
    upstream = UpstreamClient(transport=upstream_transport, on_response=metrics.upstream, proxy=proxy)
    api_keys_auth = ApiKeyAuthenticator(store, ttl=settings.cache_ttl)
    mode, issuer = resolve_mode(settings)
    mcp_settings = _mcp_settings(settings, issuer)
    access_tokens: BearerTokenAuthenticator | None = None

    def tokens_revoked() -> None:
        if access_tokens is not None:
            access_tokens.invalidate()

    authorization = build_authorization(
        settings,
        sql=store,
        people=people,
        box=box,
        mcp_settings=mcp_settings,
        store=AuthorizationStore(
            store,
            AuthorizationLimits(
                max_clients=settings.auth_max_clients,
                max_registrations_per_hour=settings.auth_registrations_per_hour,
            ),
        ),
        on_revoke=tokens_revoked,
    )
    chain: list[CallerAuthenticator] = []
    if settings.admin_key is not None and settings.admin_key.get_secret_value():
        chain.append(EnvAdminAuthenticator(settings.admin_key.get_secret_value()))
    if authorization.verifier is not None:
        # Access tokens and API keys share the Bearer header; their shapes say which one to check.
        access_tokens = BearerTokenAuthenticator(authorization.verifier, ttl=settings.cache_ttl)
        is_token = is_access_token if mode == "builtin" else looks_like_jwt
        chain.append(KeyOrTokenAuthenticator(api_keys_auth, access_tokens, is_token))
    else:
        chain.append(api_keys_auth)
    authenticator = ChainAuthenticator(chain)
    audit_buffer = AuditBuffer(
        store,
        interval=settings.audit_flush_interval,
        maxsize=settings.audit_buffer_size,
        on_drop=lambda n: metrics.audit_dropped.inc(n),
    )

    def observe(event: AuditEvent) -> None:
        metrics.tool_call(event)
        audit_buffer(event)

    redis = connect_redis(settings)
    sessions = build_session_router(settings, redis)
    call_guard = build_call_guard(settings, redis)
    metrics.watch_call_limits(call_guard)
    mcp = create_mcp_app(
        store,
        registry,
        authenticator=authenticator,
        credentials=credential_manager,
        upstream=upstream,
        settings=mcp_settings,
        observer=observe,
        router=sessions,
        guard=call_guard,
    )
    metrics.count_sessions(lambda: mcp.open_sessions)
    metrics.watch_mcp(lambda: mcp.usage)
    return Services(
        settings=settings,
        engine=engine,
        store=store,
        people=people,
        box=box,
        registry=registry,
        flows=flows,
        credentials=credential_manager,
        upstream=upstream,
        api_keys=api_keys_auth,
        authenticator=authenticator,
        mcp=mcp,
        metrics=metrics,
        audit=audit_buffer,
        authz=authorization.store,
        authorization=authorization,
        access_tokens=access_tokens,
        passwords=Passwords(
            time_cost=settings.password_time_cost,
            memory_kib=settings.password_memory_kib,
            concurrency=settings.password_hash_concurrency,
        ),
        redis=redis,
        sessions=sessions,
        call_guard=call_guard,
    )


async def _migrate(services: Services, deadline: float = 30.0) -> None:
    """Upgrade the schema, waiting up to `deadline` seconds for the database to come up."""
    started = time.monotonic()
    delay = 0.5
    while True:
        try:
            before, after = await upgrade(services.engine)
        except (OSError, TimeoutError, DatabaseUnavailable) as exc:
            problem: BaseException = exc
        except Exception as exc:
            if "connect" not in type(exc).__name__.lower() and not isinstance(exc.__cause__, OSError):
                raise
            problem = exc
        else:
            if before != after:
                logger.info("database schema upgraded from %s to %s", before or "empty", after)
            return
        if time.monotonic() - started > deadline:
            raise RuntimeError(f"the database is not reachable ({type(problem).__name__}); check SAGEMCP_DATABASE_URL")
        logger.warning("waiting for the database (%s)", type(problem).__name__)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5.0)


def _settle_heap() -> None:
    """Move everything loaded at start-up (modules, connector classes, schemas) out of the
    garbage collector's reach: it is never freed, and scanning it on every full collection
    slowed each request down in proportion to the size of the import graph."""
    gc.collect()
    gc.freeze()


def create_app(
    settings: Settings | None = None,
    *,
    registry: ConnectorRegistry | None = None,
    box: SecretBox | None = None,
    oauth_transport: httpx.AsyncBaseTransport | None = None,
    upstream_transport: httpx.AsyncBaseTransport | None = None,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """The server application. `registry` defaults to the installed connectors (entry points);
    the transports replace the network towards OAuth providers and upstream APIs (tests)."""
    settings = settings or Settings()
    services = build_services(
        settings, registry=registry, box=box, oauth_transport=oauth_transport, upstream_transport=upstream_transport
    )
    openapi_doc = build_openapi(OPERATIONS, version=__version__)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if settings.auto_migrate:
            await _migrate(services)
        writer = asyncio.create_task(services.audit.run(), name="sagemcp-audit-writer")
        purger = None
        if services.authorization.provider is not None:
            purger = asyncio.create_task(
                purge_periodically(services.authz, settings.auth_purge_interval), name="sagemcp-oauth-purge"
            )
        renewer = None
        if services.sessions is not None:
            renewer = asyncio.create_task(services.sessions.run(), name="sagemcp-session-registry")
            logger.info(
                "stateful MCP sessions are routed between replicas through Redis",
                extra={"replica": services.sessions.replica_id, "replica_url": services.sessions.replica_url},
            )
        slot_renewer = None
        if services.call_guard is not None and isinstance(services.call_guard.backend, RedisLimiter):
            slot_renewer = asyncio.create_task(services.call_guard.backend.run(), name="sagemcp-call-slots")
        try:
            async with services.mcp.lifespan():
                _settle_heap()
                logger.info("sagemcp server ready", extra={"connectors": ",".join(services.registry.ids())})
                yield
        finally:
            if slot_renewer is not None:
                slot_renewer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await slot_renewer
            if renewer is not None:
                renewer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewer
            if services.sessions is not None:
                await services.sessions.aclose()
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            if purger is not None:
                purger.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await purger
            await services.authorization.aclose()
            try:
                await services.audit.flush()
            except Exception as exc:
                logger.warning(
                    "%d audit events could not be written at shutdown (%s)", len(services.audit), type(exc).__name__
                )
            await services.upstream.aclose()
            await services.engine.dispose()
            if services.redis is not None:
                with contextlib.suppress(Exception):
                    await services.redis.aclose()
            logger.info("sagemcp server stopped")

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        state = await readiness(services)
        # Redis is reported, not required: without it each replica still serves what it holds (docs/deployment.md).
        extra = {"redis": await redis_state(services.redis)} if services.redis is not None else {}
        if services.call_guard is not None:
            extra["call_limits"] = call_limits_state(services.call_guard)
        if not state.ready:
            return JSONResponse({"status": "unavailable", "reason": state.reason, **extra}, status_code=503)
        return JSONResponse({"status": "ready", "revision": state.revision, **extra})

    async def metrics(request: Request) -> Response:
        return Response(await services.metrics.render_async(), media_type=CONTENT_TYPE_LATEST)

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_doc)

    admin_paths = [re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", op.full_path) + "$") for op in OPERATIONS]

    async def not_found(request: Request) -> Response:
        if any(p.match(request.url.path) for p in admin_paths):
            return error_response(405, "method_not_allowed", f"{request.method} is not allowed here.")
        return error_response(404, "not_found", "No such endpoint.")

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/api/v1/openapi.json", openapi, methods=["GET"]),
        *[route_for(op, authenticate) for op in OPERATIONS],
        callback_route(),
        start_route(),
        *my_connection_routes(),
        *connect_routes(),
        *web_routes(),
        *console_routes(),
        # The built-in authorization server (RFC 8414 metadata, /authorize, /token, /register, /revoke, consent)
        # and the RFC 9728 metadata of every MCP endpoint, at the root as their well-known URLs require.
        *services.authorization.routes(services),
        *protected_resource_routes(services.mcp.settings, mount_prefix="/api/v1"),
        *extra_routes,
        Route("/api/v1/admin/{rest:path}", not_found, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        Route("/api/v1/oauth/{rest:path}", not_found, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        mcp_mount := Mount("/api/v1", app=services.mcp),
    ]
    handlers: dict[Any, Any] = {HTTPException: handle_exception}
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers=handlers)
    app.router = McpFirstRouter(routes, mount=mcp_mount, lifespan=lifespan)
    app.state.services = services
    # Route labels of the metrics: the templates drawn here and the MCP app's, nothing a client can add.
    services.metrics.routes.add(
        [r.path for r in routes if isinstance(r, (Route, WebSocketRoute))]
        + ["/api/v1" + r.path for r in services.mcp.routes() if isinstance(r, (Route, WebSocketRoute))]
    )
    app.add_middleware(ConsoleHeadersMiddleware)
    app.add_middleware(BodyDeadlineMiddleware, timeout=settings.http_body_timeout)
    app.add_middleware(ObservabilityMiddleware, metrics=services.metrics)
    return app


def create_app_from_env() -> Starlette:
    """The app from `SAGEMCP_*` environment variables (`uvicorn --factory sagemcp_server.app:create_app_from_env`)."""
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)  # each worker process configures its own logging
    return create_app(settings)
