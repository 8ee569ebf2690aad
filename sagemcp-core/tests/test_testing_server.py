"""sagemcp.testing.serve: an ASGI app under uvicorn in the test's event loop, started and stopped cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from sagemcp.testing import free_port, serve


def make_app(events: list[str], fail_startup: bool = False) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("startup")
        if fail_startup:
            raise RuntimeError("no database")
        yield
        events.append("shutdown")

    async def hello(request: Request) -> Response:
        return JSONResponse({"host": request.url.hostname, "port": request.url.port})

    async def forever(request: Request) -> Response:
        async def stream() -> AsyncIterator[bytes]:
            yield b"data: first\n\n"
            await asyncio.sleep(3600)

        return StreamingResponse(stream(), media_type="text/event-stream")

    return Starlette(routes=[Route("/", hello), Route("/stream", forever)], lifespan=lifespan)


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


async def test_serves_on_a_free_loopback_port_and_runs_the_lifespan() -> None:
    events: list[str] = []
    async with serve(make_app(events)) as base:
        assert events == ["startup"]
        url = httpx.URL(base)
        assert url.host == "127.0.0.1" and url.port
        async with httpx.AsyncClient(base_url=base) as client:
            r = await client.get("/")
        assert r.json() == {"host": "127.0.0.1", "port": url.port}
        assert not port_is_free(url.port)
    assert events == ["startup", "shutdown"]
    assert port_is_free(url.port)


async def test_two_servers_at_once_and_an_explicit_port() -> None:
    port = free_port()
    async with serve(make_app([]), port) as first, serve(make_app([])) as second:
        assert first == f"http://127.0.0.1:{port}"
        assert first != second
        async with httpx.AsyncClient() as client:
            assert (await client.get(first)).status_code == 200
            assert (await client.get(second)).status_code == 200


async def test_small_answers_do_not_wait_for_a_delayed_ack() -> None:
    """The listening socket is created as TCP, so asyncio sets TCP_NODELAY on every connection; without it each
    request on a kept-alive connection waits about 40 ms for the client's delayed ACK."""
    loop = asyncio.get_running_loop()
    async with serve(make_app([])) as base, httpx.AsyncClient(base_url=base) as client:
        await client.get("/")
        started = loop.time()
        for _ in range(20):
            assert (await client.post("/", content=b"{}")).status_code in (200, 405)
            assert (await client.get("/")).status_code == 200
        per_request = (loop.time() - started) / 40
    assert per_request < 0.02, f"{per_request * 1000:.0f} ms per request"


async def test_a_failing_startup_is_an_error_at_once() -> None:
    events: list[str] = []
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(RuntimeError, match="lifespan startup failed"):
        async with serve(make_app(events, fail_startup=True)):
            pytest.fail("the block must not run")
    assert events == ["startup"]
    assert loop.time() - started < 5


async def test_open_streams_do_not_hold_up_the_shutdown() -> None:
    events: list[str] = []
    loop = asyncio.get_running_loop()
    async with serve(make_app(events), graceful_timeout=0.5) as base:
        client = httpx.AsyncClient(base_url=base, timeout=10)
        stream = client.stream("GET", "/stream")
        response = await stream.__aenter__()
        assert response.status_code == 200
        lines = response.aiter_lines()
        assert await anext(lines) == "data: first"
        stopping = loop.time()
    assert loop.time() - stopping < 5
    assert events == ["startup", "shutdown"]
    with contextlib.suppress(httpx.HTTPError):
        await stream.__aexit__(None, None, None)
    await client.aclose()


async def test_a_missing_uvicorn_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    app: Any = make_app([])
    with pytest.raises(ImportError, match=r"sagemcp-core\[testing\]"):
        async with serve(app):
            pass
