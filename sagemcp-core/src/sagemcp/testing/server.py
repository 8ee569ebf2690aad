"""A real HTTP server for tests: an ASGI app under uvicorn on 127.0.0.1, in the test's own event loop.

    async with serve(app) as base_url:
        async with httpx.AsyncClient(base_url=base_url) as client:
            response = await client.get("/healthz")

The listening socket is bound before uvicorn starts (port 0 unless a port is given), so there is no window in
which another process can take the port. The app's lifespan runs (`lifespan="on"`): a failing startup is an
error here rather than a server that answers 500. On exit the server stops accepting connections, closes
idle ones, gives open requests (SSE streams, WebSockets) `graceful_timeout` seconds, then runs the lifespan
shutdown.

uvicorn runs on asyncio only: use it from pytest-asyncio tests, or anyio tests on the asyncio backend.
Needs the `testing` extra (`pip install "sagemcp-core[testing]"`), which brings uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

__all__ = ["free_port", "serve"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago, for servers started in another process.

    Another process may take it before it is used; `serve()` does not need this (it binds its socket first)."""
    with socket.socket(_family(host)) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _bind(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and without it every
    # small response waits for the client's delayed ACK (about 40 ms on Linux).
    sock = socket.socket(_family(host), socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(False)
    return sock


@contextlib.asynccontextmanager
async def serve(
    app: Any,
    port: int | None = None,
    *,
    host: str = "127.0.0.1",
    log_level: str = "warning",
    startup_timeout: float = 10.0,
    graceful_timeout: float = 5.0,
    **config: Any,
) -> AsyncIterator[str]:
    """Serve `app` with uvicorn until the block ends; yield its base URL (`http://127.0.0.1:PORT`).

    `port` defaults to a free one. `config` goes to `uvicorn.Config` (`ws="websockets"`, `timeout_keep_alive=...`).
    uvicorn's log records propagate to the root logger (`log_config=None`), so pytest's `caplog` and any
    handler the test installs see them; pass `log_config` to change that."""
    try:
        import uvicorn
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            'sagemcp.testing.serve needs uvicorn: pip install "sagemcp-core[testing]" (or uvicorn>=0.30)'
        ) from exc

    config.setdefault("lifespan", "on")
    config.setdefault("log_config", None)
    config.setdefault("timeout_graceful_shutdown", graceful_timeout)
    sock = _bind(host, port or 0)
    bound = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=bound, log_level=log_level, **config))

    async def run() -> None:
        try:
            await server.serve(sockets=[sock])
        except SystemExit as exc:  # uvicorn exits the process when the lifespan startup fails
            raise RuntimeError(
                f"the app did not start (uvicorn exit code {exc.code}): its lifespan startup failed, see the log"
            ) from None

    # A plain task, not a task group: pytest-asyncio may run a fixture's setup and teardown in different tasks,
    # and a task group (or cancel scope) must be left by the task that entered it.
    loop = asyncio.get_running_loop()
    task = loop.create_task(run(), name=f"uvicorn on {host}:{bound}")
    try:
        deadline = loop.time() + startup_timeout
        while not server.started:
            if task.done():
                task.result()  # the startup error
                raise RuntimeError("the server stopped before it started")
            if loop.time() > deadline:
                raise TimeoutError(f"the server did not start within {startup_timeout} s")
            await asyncio.sleep(0.01)
        yield f"http://[{host}]:{bound}" if ":" in host else f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        try:
            await _stopped(server, task, graceful_timeout + 10)
        finally:
            sock.close()


async def _stopped(server: Any, task: asyncio.Task[None], seconds: float) -> None:
    """Wait for uvicorn to finish, and raise the error it stopped with (a startup error was raised already)."""
    if not server.started:  # it failed or hung at startup, and the caller is raising that already
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        return
    try:
        # uvicorn cancels requests still running after its graceful timeout; allow for the lifespan shutdown.
        await asyncio.wait_for(asyncio.shield(task), timeout=seconds)
    except TimeoutError:
        server.force_exit = True
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        raise TimeoutError(f"the server did not stop within {seconds} s") from None
