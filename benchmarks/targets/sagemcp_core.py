"""sagemcp's full request path built from core alone, the way the reference server wires it.

`create_mcp_app` over a `MemoryStore` (default) or the server's SQL store
(`--store sqlite+aiosqlite:///...`, provisioned beforehand by `benchmarks.provision`),
mounted under `/api/v1` in a host Starlette app that enters its lifespan. Every
call goes through API-key authentication, tenant and connector resolution, the
tool policy, the credential lookup, pydantic argument validation, the connector's
real tool making its upstream GET through core's `UpstreamClient`, and an observer
recording an audit event and metrics. When `sagemcp_server` is importable its
Prometheus `Metrics` (per-request, per-tool and per-upstream-call metrics) and, on
the SQL store, its batching `AuditBuffer` are used; otherwise small stand-ins. With
`--echo` the registry also holds the demo connector, whose `demo_echo` makes no
upstream call. The upstream client runs on httpcore's default network backend unless
`SAGEMCP_BENCH_NETWORK_BACKEND=sagemcp` (see `_tuning`).

    python -m benchmarks.targets.sagemcp_core --port 18004 --upstream http://127.0.0.1:18001 --keys-out keys.json
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route

from sagemcp.mcp import McpSettings, create_mcp_app
from sagemcp.platform import AuditEvent, ConnectorRegistry, MemoryStore, UpstreamClient

from ..provision import populate_memory, write_keys
from . import _tuning
from ._connector import connector_class, echo_connector_class
from ._serve import common_arguments, run


class _Counters:
    """Stand-in metrics when `sagemcp_server` (and so prometheus_client wiring) is not importable."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, ...], int] = {}
        self.seconds: dict[tuple[str, ...], float] = {}

    def _add(self, key: tuple[str, ...], seconds: float) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1
        self.seconds[key] = self.seconds.get(key, 0.0) + seconds

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self._add(("http", method, route, str(status)), seconds)

    def tool_call(self, event: AuditEvent) -> None:
        self._add(("tool", event.connector_type, event.tool, event.outcome), event.duration_ms / 1000)

    def upstream(self, provider: str, method: str, status: int | None, seconds: float) -> None:
        self._add(("upstream", provider, method, str(status)), seconds)

    def render(self) -> bytes:
        return "\n".join(f"{'/'.join(k)} {v}" for k, v in self.counts.items()).encode()


def _metrics() -> tuple[Any, str]:
    try:
        from sagemcp_server.metrics import Metrics  # type: ignore[import-not-found]
    except Exception:
        return _Counters(), "in-process counters (sagemcp_server not importable)"
    return Metrics(), "sagemcp_server.metrics.Metrics (Prometheus)"


class _MemoryAudit:
    """Audit events kept in a bounded buffer, as the server's `AuditBuffer` keeps them before a flush."""

    def __init__(self, maxsize: int = 10_000) -> None:
        self.events: deque[AuditEvent] = deque(maxlen=maxsize)

    def __call__(self, event: AuditEvent) -> None:
        self.events.append(event)


class _RequestMetrics:
    """ASGI middleware recording method, route template, status and duration per HTTP request (as the server does)."""

    def __init__(self, app: Any, metrics: Any, route: str) -> None:
        self.app = app
        self.metrics = metrics
        self.route = route

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self.metrics.observe_request(scope["method"], self.route, status, time.perf_counter() - started)


def _sql_store(url: str, secret_keys: str) -> tuple[Any, Any]:
    from sagemcp.platform import SecretBox
    from sagemcp_server.db.engine import create_engine  # type: ignore[import-not-found]
    from sagemcp_server.db.store import SqlStore  # type: ignore[import-not-found]

    engine = create_engine(url)
    return SqlStore(engine, SecretBox.from_env_value(secret_keys)), engine


def build_app(
    upstream_url: str,
    *,
    stateful: bool = False,
    store_url: str = "memory",
    secret_keys: str = "",
    tenants: int = 1,
    connectors: int = 1,
    cache_ttl: float = 5.0,
    keys_out: Path | None = None,
    echo: bool = False,
    upstream_transport: Any = None,
) -> Starlette:
    """The app; `upstream_transport` (an `httpx.AsyncBaseTransport`) replaces the upstream client's own."""
    cls, _label = connector_class()
    classes: list[Any] = [cls]
    if echo:
        echo_cls, why = echo_connector_class()
        if echo_cls is None:
            raise SystemExit(why)
        classes.append(echo_cls)
    registry = ConnectorRegistry(classes)
    metrics, _ = _metrics()
    engine = None
    audit_task: Any = None
    if store_url == "memory":
        store: Any = MemoryStore(audit_limit=1000)
        keys = populate_memory(store, tenants, connectors, upstream_url, cls.info.id, echo=echo)
        if keys_out is not None:
            write_keys(keys_out, keys)
        audit: Any = _MemoryAudit()
    else:
        store, engine = _sql_store(store_url, secret_keys)
        from sagemcp_server.auditlog import AuditBuffer  # type: ignore[import-not-found]

        audit = AuditBuffer(store)

    def observe(event: AuditEvent) -> None:
        metrics.tool_call(event)
        audit(event)

    transport = upstream_transport
    if transport is None and _tuning.network_backend() == "httpcore":
        transport = _tuning.plain_transport()
        print(_tuning.PLAIN_BACKEND_MARKER, flush=True)
    upstream = UpstreamClient(transport=transport, on_response=metrics.upstream)
    settings = McpSettings(stateful=stateful, cache_ttl=cache_ttl, legacy_sse=True, websocket=True)
    mcp_app = create_mcp_app(store, registry, upstream=upstream, settings=settings, observer=observe)

    async def healthz(_request: Request) -> Response:
        return PlainTextResponse("ok")

    async def metrics_endpoint(_request: Request) -> Response:
        return Response(metrics.render(), media_type="text/plain")

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        nonlocal audit_task
        async with mcp_app.lifespan():
            if hasattr(audit, "run"):
                audit_task = asyncio.get_running_loop().create_task(audit.run())
            yield
            if audit_task is not None:
                audit_task.cancel()
                with contextlib.suppress(BaseException):
                    await audit_task
        await upstream.aclose()
        if engine is not None:
            await engine.dispose()

    routes = [
        Route("/healthz", healthz),
        Route("/metrics", metrics_endpoint),
        Mount("/api/v1", app=_RequestMetrics(mcp_app, metrics, "/api/v1/{tenant}/connectors/{connector}/mcp")),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def describe() -> dict[str, str]:
    """What this target is made of, for the results."""
    return {"connector": connector_class()[1], "metrics": _metrics()[1]}


def main(argv: list[str] | None = None) -> None:
    parser = common_arguments(__doc__.splitlines()[0])
    parser.add_argument("--store", default="memory", help="memory, or a SQL URL provisioned by benchmarks.provision")
    parser.add_argument("--secret-keys", default="", help="SecretBox key ring of the SQL store")
    parser.add_argument("--tenants", type=int, default=1)
    parser.add_argument("--connectors", type=int, default=1, help="connectors per tenant")
    parser.add_argument("--cache-ttl", type=float, default=5.0)
    parser.add_argument("--keys-out", type=Path, help="write {tenant slug: API key} here (memory store)")
    parser.add_argument("--echo", action="store_true", help="also serve the demo connector (the echo cells)")
    args = parser.parse_args(argv)
    app = build_app(
        args.upstream,
        stateful=args.stateful,
        store_url=args.store,
        secret_keys=args.secret_keys,
        tenants=args.tenants,
        connectors=args.connectors,
        cache_ttl=args.cache_ttl,
        keys_out=args.keys_out,
        echo=args.echo,
    )
    run(app, args)


if __name__ == "__main__":
    main()
