"""The process tuning every target gets, so that the comparison measures code and not set-up.

- **uvicorn**: one worker; h11 on asyncio's selector loop by default (what `sagemcp serve` always
  runs: its protocol and loop are subclasses of those two); keep-alive 60 s, at most
  1,000 connections, 16 KiB of request head, no `Server` header, no access log, log level
  warning, backlog 2048. The reference server gets the same values through its `SAGEMCP_HTTP_*`
  settings (`server_environment`).
- **the heap**: `gc.collect()` then `gc.freeze()` once the application has started. The
  reference server does this itself when it is ready; every other target gets it from
  `FreezeAfterStartup`.
- **the upstream client's network backend**: httpcore's default (anyio) for every target, in
  a pool of `POOL` connections. sagemcp's `UpstreamClient` normally installs its own backend,
  which is private to sagemcp-core, so the SDK and floor targets cannot have it; instead the
  sagemcp targets are handed a plain `httpx.AsyncHTTPTransport` through their public seams
  (`UpstreamClient(transport=...)`, `sagemcp_server.app.create_app(upstream_transport=...)`).
  `SAGEMCP_BENCH_NETWORK_BACKEND=sagemcp` leaves them on their own backend (sagemcp as shipped).
"""

from __future__ import annotations

import gc
import os
from typing import Any

import httpx

NETWORK_BACKEND_ENV = "SAGEMCP_BENCH_NETWORK_BACKEND"
NETWORK_BACKENDS = ("httpcore", "sagemcp")
KEEP_ALIVE_S = 60
MAX_CONNECTIONS = 1000
MAX_HEAD_BYTES = 16 * 1024
BACKLOG = 2048
POOL = 200
"""Upstream connections per target (sagemcp's `UpstreamClient` default)."""
LOOP = "asyncio"
HTTP = "h11"
PLAIN_BACKEND_MARKER = "benchmark tuning: upstream client on httpcore's default network backend"
"""Printed by a sagemcp target that took the plain transport; the harness looks for it in the server's log."""


class TuningError(RuntimeError):
    pass


def network_backend() -> str:
    """`httpcore` (the default: equal peers) or `sagemcp` (the sagemcp targets keep their own backend)."""
    value = os.environ.get(NETWORK_BACKEND_ENV, "httpcore").strip().lower()
    if value not in NETWORK_BACKENDS:
        raise TuningError(f"{NETWORK_BACKEND_ENV}={value!r}: expected one of {', '.join(NETWORK_BACKENDS)}")
    return value


def plain_transport() -> httpx.AsyncHTTPTransport:
    """The upstream transport every target uses: httpx's own, on httpcore's default network backend."""
    return httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=POOL, max_keepalive_connections=POOL))


def uvicorn_options(loop: str = LOOP, http: str = HTTP) -> dict[str, Any]:
    """The `uvicorn.run` keyword arguments of the floor, SDK and core targets."""
    return {
        "host": "127.0.0.1",
        "log_level": "warning",
        "access_log": False,
        "server_header": False,
        "loop": loop,
        "http": http,
        "backlog": BACKLOG,
        "timeout_keep_alive": KEEP_ALIVE_S,
        "limit_concurrency": MAX_CONNECTIONS,
        "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
    }


def server_environment() -> dict[str, str]:
    """The reference server's settings matching `uvicorn_options` (it picks its protocol and loop itself)."""
    return {
        "SAGEMCP_HTTP_KEEP_ALIVE_TIMEOUT": str(KEEP_ALIVE_S),
        "SAGEMCP_HTTP_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
        "SAGEMCP_HTTP_MAX_HEADER_BYTES": str(MAX_HEAD_BYTES),
        "SAGEMCP_LOG_LEVEL": "warning",
    }


def settle_heap() -> None:
    """What the reference server does once ready: collect, then move the survivors out of the collector's reach."""
    gc.collect()
    gc.freeze()


class FreezeAfterStartup:
    """ASGI wrapper calling `settle_heap()` right after the application reports its lifespan startup complete."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def send_settled(message: Any) -> None:
            if message["type"] == "lifespan.startup.complete":
                settle_heap()
            await send(message)

        await self.app(scope, receive, send_settled)


def describe(loop: str, http: str, backend: str) -> dict[str, Any]:
    """The tuning, for the report."""
    return {
        "uvicorn": (
            f"one worker, {http} on {loop} (`sagemcp serve`: its guarded h11 protocol on asyncio's selector loop), "
            f"keep-alive {KEEP_ALIVE_S} s, at most {MAX_CONNECTIONS} connections, {MAX_HEAD_BYTES // 1024} KiB "
            "request head, no Server header, no access log, log level warning"
        ),
        "heap": "gc.collect() + gc.freeze() once started (every target)",
        "network_backend": (
            f"httpcore's default for every target, pool of {POOL}"
            if backend == "httpcore"
            else f"sagemcp targets on UpstreamClient's own backend, floor and SDK on httpcore's default (uneven), "
            f"pool of {POOL}"
        ),
        "network_backend_mode": backend,
        "loop": loop,
        "http": http,
    }
