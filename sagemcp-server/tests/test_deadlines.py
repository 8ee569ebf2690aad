"""Slow clients over real sockets: a connection that sends nothing, trickles its headers or never sends the body
it declared is closed within its deadline, while `/healthz` keeps answering; long-lived streams are not cut.
And `sagemcp serve` hands uvicorn the deadlines and limits of the settings."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import ADMIN_KEY, Server, running

from sagemcp.platform import ConnectorRegistry
from sagemcp.testing import serve
from sagemcp_server import cli
from sagemcp_server.deadlines import HEADER_TIMEOUT_ENV, BodyDeadlineMiddleware, GuardedH11Protocol, header_timeout
from sagemcp_server.eventloop import GuardedSelectorEventLoop
from sagemcp_server.settings import Settings

HEADERS = 0.8
BODY = 0.6
SLACK = 0.7


@pytest.fixture
async def live(
    registry: ConnectorRegistry, provider: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, secret_key: str
) -> AsyncIterator[tuple[Server, str]]:
    """The server on SQLite (the deadlines do not depend on the database) under uvicorn with the guarded protocol."""
    monkeypatch.setenv(HEADER_TIMEOUT_ENV, str(HEADERS))
    fast = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'sagemcp.db'}",
        secret_keys=secret_key,
        admin_key=ADMIN_KEY,
        data_dir=tmp_path,
        public_url="https://sagemcp.test",
        http_body_timeout=BODY,
    )
    async with running(fast, registry, provider) as srv:
        await srv.tenant("acme")
        await srv.connector("acme", "demo")
        async with serve(srv.app, lifespan="off", http=GuardedH11Protocol, timeout_keep_alive=30) as base:
            yield srv, base


def _open(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


async def _until_closed(sock: socket.socket, limit: float = 10.0) -> tuple[float, bytes]:
    """Seconds until the server closed `sock`, and what it sent before."""

    def read() -> tuple[float, bytes]:
        started = time.monotonic()
        data = b""
        sock.settimeout(limit)
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except (ConnectionResetError, TimeoutError):
            pass
        return time.monotonic() - started, data

    return await asyncio.to_thread(read)


async def _healthy(base: str) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=2) as http:
        assert (await http.get("/healthz")).status_code == 200


async def test_a_connection_that_sends_nothing_is_closed(live: tuple[Server, str]) -> None:
    _, base = live
    sock = _open(base)
    waiting = asyncio.create_task(_until_closed(sock))
    await _healthy(base)
    seconds, data = await waiting
    assert data == b"" and HEADERS - 0.1 <= seconds <= HEADERS + SLACK, seconds


async def test_trickled_headers_are_cut_at_the_deadline(live: tuple[Server, str]) -> None:
    """Each byte resets uvicorn's own idle timer: only a deadline that data does not reset ends a trickle."""
    _, base = live
    sock = _open(base)
    started = time.monotonic()
    waiting = asyncio.create_task(_until_closed(sock))
    for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
        try:
            sock.send(bytes([byte]))
        except OSError:
            break
        await asyncio.sleep(0.05)
        if waiting.done():
            break
    await _healthy(base)
    _, data = await waiting
    elapsed = time.monotonic() - started
    assert data.startswith(b"HTTP/1.1 408"), data[:80]
    assert elapsed <= HEADERS + SLACK + 0.1, elapsed


@pytest.mark.parametrize("path", ["/api/v1/admin/tenants", "/api/v1/acme/mcp"])
async def test_a_body_that_never_arrives_gets_408_and_the_connection_closes(
    live: tuple[Server, str], path: str
) -> None:
    srv, base = live
    key = ADMIN_KEY if "admin" in path else await srv.key("acme", ["mcp"])
    sock = _open(base)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
        "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
        "MCP-Protocol-Version: 2025-11-25\r\nContent-Length: 400\r\n\r\n{"
    )
    sock.sendall(head.encode())
    waiting = asyncio.create_task(_until_closed(sock))
    await _healthy(base)
    seconds, data = await waiting
    assert data.startswith(b"HTTP/1.1 408"), data[:200]
    assert b"request_timeout" in data and b"connection: close" in data.lower()
    assert BODY - 0.1 <= seconds <= BODY + SLACK, seconds


async def test_after_a_response_the_next_request_has_a_header_deadline_too(live: tuple[Server, str]) -> None:
    _, base = live
    sock = _open(base)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    await asyncio.sleep(0.2)
    sock.sendall(b"GET /heal")  # and nothing more: uvicorn's keep-alive timer (30 s here) was reset by it
    seconds, data = await _until_closed(sock)
    assert data.startswith(b"HTTP/1.1 200") and b"408" in data, data[-120:]
    assert seconds <= HEADERS + SLACK, seconds


async def test_a_slow_body_within_the_deadline_is_served(live: tuple[Server, str]) -> None:
    _, base = live
    body = b'{"slug": "slowpoke", "name": "Slow"}'
    sock = _open(base)
    sock.sendall(
        f"POST /api/v1/admin/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
    )
    for i in range(0, len(body), 12):
        await asyncio.sleep(BODY / 6)
        sock.sendall(body[i : i + 12])
    _, data = await _until_closed(sock)
    assert data.startswith(b"HTTP/1.1 201"), data[:200]


async def test_a_legacy_sse_stream_outlives_the_body_deadline(live: tuple[Server, str]) -> None:
    srv, base = live
    key = await srv.key("acme", ["mcp"])
    async with (
        httpx.AsyncClient(base_url=base, timeout=10) as http,
        http.stream("GET", "/api/v1/acme/sse", headers={"Authorization": f"Bearer {key}"}) as stream,
    ):
        assert stream.status_code == 200
        lines = stream.aiter_lines()
        assert (await anext(lines)).startswith("event: endpoint")
        endpoint = (await anext(lines)).removeprefix("data: ").strip()
        await asyncio.sleep(BODY + HEADERS + 0.3)
        ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        r = await http.post(endpoint, json=ping, headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 202, r.text


def test_header_timeout_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HEADER_TIMEOUT_ENV, "2.5")
    assert header_timeout() == 2.5
    for bad in ("", "x", "0", "-1", "inf", "nan"):
        monkeypatch.setenv(HEADER_TIMEOUT_ENV, bad)
        assert header_timeout() == 10.0


def test_serve_gives_uvicorn_the_deadlines_and_limits(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, secret_key: str
) -> None:
    for name in list(os.environ):
        if name.startswith("SAGEMCP_") and name != "SAGEMCP_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAGEMCP_SECRET_KEYS", secret_key)
    monkeypatch.setenv("SAGEMCP_HTTP_HEADER_TIMEOUT", "4")
    monkeypatch.setenv("SAGEMCP_HTTP_KEEP_ALIVE_TIMEOUT", "7")
    monkeypatch.setenv("SAGEMCP_HTTP_MAX_CONNECTIONS", "321")
    monkeypatch.setenv("SAGEMCP_HTTP_MAX_HEADER_BYTES", "32768")
    monkeypatch.setenv("SAGEMCP_HTTP_BODY_TIMEOUT", "12")
    seen: dict[str, Any] = {}

    async def prepared(settings: Settings, *, demo: bool) -> None:
        seen["settings"] = settings

    def run(app: Any, **kwargs: Any) -> None:
        seen["app"], seen["kwargs"] = app, kwargs

    monkeypatch.setattr(cli, "_prepare", prepared)
    monkeypatch.setattr("uvicorn.run", run)
    monkeypatch.setattr(cli, "configure_logging", lambda *a: None, raising=False)
    monkeypatch.setattr("sagemcp_server.logging.configure_logging", lambda *a: None)
    assert cli.main(["serve", "--port", "18999"]) == 0
    kwargs = seen["kwargs"]
    assert kwargs["http"] is GuardedH11Protocol and kwargs["loop"] is GuardedSelectorEventLoop
    assert kwargs["timeout_keep_alive"] == 7 and kwargs["limit_concurrency"] == 321
    assert kwargs["h11_max_incomplete_event_size"] == 32768
    assert os.environ[HEADER_TIMEOUT_ENV] == "4.0"
    middleware = [m for m in seen["app"].user_middleware if m.cls.__name__ == "BodyDeadlineMiddleware"]
    assert middleware and middleware[0].kwargs["timeout"] == 12.0


async def _drive(app: Any, messages: list[dict[str, Any]], gap: float) -> list[dict[str, Any]]:
    """Run `app` for one POST whose body messages arrive `gap` seconds apart; returns what it sent."""
    sent: list[dict[str, Any]] = []
    pending = list(messages)

    async def receive() -> dict[str, Any]:
        if not pending:
            await asyncio.sleep(3600)
        await asyncio.sleep(gap)
        return pending.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/x", "headers": []}
    await BodyDeadlineMiddleware(app, timeout=0.2)(scope, receive, send)
    return sent


async def _echo(scope: Any, receive: Any, send: Any) -> None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


async def test_the_body_deadline_in_process() -> None:
    """In time: the app's answer; too slow: 408, the app's answer dropped; the app's own TimeoutError is its own."""
    chunks = [{"type": "http.request", "body": b"ab", "more_body": True}, {"type": "http.request", "body": b"c"}]
    sent = await _drive(_echo, chunks, 0.01)
    assert [m.get("status") for m in sent] == [200, None] and sent[1]["body"] == b"abc"

    sent = await _drive(_echo, chunks, 0.15)  # the second chunk would arrive at 0.3 s
    assert sent[0]["status"] == 408 and b"request_timeout" in sent[1]["body"]
    assert (b"connection", b"close") in sent[0]["headers"]

    async def times_out(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        raise TimeoutError("an upstream took too long")

    with pytest.raises(TimeoutError, match="upstream"):
        await _drive(times_out, chunks[1:], 0.01)

    async def reads_in_another_task(scope: Any, receive: Any, send: Any) -> None:
        got: list[dict[str, Any]] = []

        async def reader() -> None:
            got.append(await receive())
            got.append(await receive())

        task = asyncio.create_task(reader())
        try:
            await asyncio.sleep(3600)
        finally:
            await asyncio.sleep(0.2)  # cleanup after the cancellation: the reader learns the client is gone
            assert got[-1] == {"type": "http.disconnect"}
            await send({"type": "http.response.start", "status": 200, "headers": []})  # dropped
            task.cancel()

    sent = await _drive(reads_in_another_task, chunks, 0.15)
    assert [m.get("status") for m in sent] == [408, None]


async def test_concurrent_bodies_each_get_their_own_deadline() -> None:
    """One timer serves all the requests of a middleware: each late body gets its 408 at its own deadline, also
    when a request that arrived earlier starts reading after one that arrived later armed the timer."""
    timeout = 0.3

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["path"] == "/late-reader":
            await asyncio.sleep(0.15)
        await _echo(scope, receive, send)

    middleware = BodyDeadlineMiddleware(app, timeout=timeout)

    async def one(path: str, delay: float, gap: float) -> tuple[int, float]:
        await asyncio.sleep(delay)
        chunks = [{"type": "http.request", "body": b"a", "more_body": True}, {"type": "http.request", "body": b"b"}]
        sent: list[dict[str, Any]] = []
        started = time.monotonic()

        async def receive() -> dict[str, Any]:
            if not chunks:
                await asyncio.sleep(3600)
            await asyncio.sleep(gap)
            return chunks.pop(0)

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await middleware({"type": "http", "method": "POST", "path": path, "headers": []}, receive, send)
        return sent[0]["status"], time.monotonic() - started

    (s1, _), (s2, t2), (s3, t3), (s4, _) = await asyncio.gather(
        one("/", 0.1, 0.0),  # reads at once, arming the timer for its deadline, 0.4; complete at once: served
        one("/late-reader", 0.0, 0.2),  # reads from 0.15, first chunk at 0.35: past its deadline of 0.3
        one("/", 0.2, 0.2),  # second chunk would come at 0.6: past its deadline of 0.5
        one("/", 0.25, 0.05),  # body complete at 0.35: served
    )
    assert (s1, s2, s3, s4) == (200, 408, 408, 200)
    assert timeout - 0.02 <= t2 <= timeout + 0.06, t2
    assert timeout - 0.02 <= t3 <= timeout + 0.06, t3
