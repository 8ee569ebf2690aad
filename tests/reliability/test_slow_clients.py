"""Slow clients against `sagemcp serve` as an operator runs it: sockets that send nothing, trickle their headers
or never send the body they declared are closed within the configured deadlines while `/healthz` keeps
answering; and at the file-descriptor limit the server logs the exhaustion once, not once per connection, and
answers again as soon as the deadlines free descriptors. Bounded: at most 300 sockets, 25 s per test."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from sagemcp.platform import SecretBox

from ._support import LEDGER, free_port

pytest.importorskip("sagemcp_server", reason="these tests run the reference server")

pytestmark = pytest.mark.e2e

HEADERS = 1.5
BODY = 1.5
SLACK = 1.5
"""Allowed lateness on a shared 2-core machine."""
ADMIN_KEY = LEDGER.secret("smcp_" + "s" * 43)


@dataclass
class Served:
    base: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path


def _start(tmp: Path, *, fd_limit: int | None = None, **env: str) -> Served:
    port = free_port()
    log = tmp / "server.err"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SAGEMCP_")}
    environ.update(
        SAGEMCP_SECRET_KEYS=SecretBox.generate_key(),
        SAGEMCP_ADMIN_KEY=ADMIN_KEY,
        SAGEMCP_HTTP_HEADER_TIMEOUT=str(HEADERS),
        SAGEMCP_HTTP_BODY_TIMEOUT=str(BODY),
        SAGEMCP_LOG_FORMAT="json",
        PYTHONUNBUFFERED="1",
        **env,
    )

    def limit() -> None:
        if fd_limit is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (fd_limit, fd_limit))

    proc = subprocess.Popen(
        [sys.executable, "-m", "sagemcp_server", "serve", "--port", str(port)],
        cwd=tmp,
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        preexec_fn=limit,  # sets one resource limit in the child, nothing that could deadlock
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                return Served(base, port, proc, log)
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"the server did not become ready: {log.read_text()[-3000:]}")


def _stop(served: Served) -> None:
    served.proc.terminate()
    try:
        served.proc.wait(20)
    except subprocess.TimeoutExpired:
        served.proc.kill()
        served.proc.wait()
    LEDGER.scan(served.log.read_text(errors="replace"), "slow-clients server log")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Served]:
    served = _start(tmp_path)
    try:
        yield served
    finally:
        _stop(served)


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


async def _closed_after(sock: socket.socket, started: float, limit: float = 15.0) -> tuple[float, bytes]:
    """Seconds from `started` until the server closed `sock`, and what it sent before (read on the event loop:
    no thread per socket)."""
    loop = asyncio.get_running_loop()
    sock.setblocking(False)
    data = b""
    try:
        async with asyncio.timeout(limit):
            while chunk := await loop.sock_recv(sock, 65536):
                data += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    finally:
        sock.close()
    return time.monotonic() - started, data


async def _trickle(sock: socket.socket, payload: bytes, every: float) -> None:
    for byte in payload:
        try:
            sock.send(bytes([byte]))  # one byte into an empty send buffer never blocks
        except OSError:
            return
        await asyncio.sleep(every)


async def test_regression_silent_trickling_and_bodiless_clients_are_closed(server: Served) -> None:
    started = time.monotonic()
    silent = [_connect(server.port) for _ in range(10)]
    tricklers = [_connect(server.port) for _ in range(5)]
    bodiless = []
    for i in range(6):
        sock = _connect(server.port)
        path = "/api/v1/admin/tenants" if i % 2 else "/api/v1/nobody/mcp"
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {ADMIN_KEY}\r\n"
            "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
            "Content-Length: 1000\r\n\r\n{".encode()
        )
        bodiless.append(sock)
    watchers = [asyncio.create_task(_closed_after(s, started)) for s in silent + tricklers + bodiless]
    trickling = [
        asyncio.create_task(_trickle(s, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 200, 0.1))
        for s in tricklers
    ]
    slowest_health = 0.0
    async with httpx.AsyncClient(base_url=server.base, timeout=3) as http:
        while not all(w.done() for w in watchers) and time.monotonic() - started < 15:
            t = time.monotonic()
            assert (await http.get("/healthz")).status_code == 200
            slowest_health = max(slowest_health, time.monotonic() - t)
            await asyncio.sleep(0.2)
    results = await asyncio.gather(*watchers)
    for task in trickling:
        task.cancel()
    silent_r, trickle_r, body_r = results[:10], results[10:15], results[15:]
    assert all(d == b"" and s <= HEADERS + SLACK for s, d in silent_r), silent_r
    assert all(d.startswith(b"HTTP/1.1 408") and s <= HEADERS + SLACK for s, d in trickle_r), trickle_r
    admin_r = [r for i, r in enumerate(body_r) if i % 2]
    assert all(d.startswith(b"HTTP/1.1 408") and s <= BODY + SLACK for s, d in admin_r), admin_r
    # the MCP path of an unknown tenant answers before reading the body; the connection then has the header
    # deadline for its next request, and the never-sent body does not hold it open either
    mcp_r = [r for i, r in enumerate(body_r) if not i % 2]
    assert all(s <= BODY + HEADERS + SLACK for s, _ in mcp_r), mcp_r
    assert slowest_health < 1.0, slowest_health


def _exhaustion_lines(log: Path) -> list[str]:
    lines = []
    for line in log.read_text(errors="replace").splitlines():
        if "out of system resource" in line or "Too many open files" in line:
            lines.append(line)
    return lines


async def test_regression_at_the_descriptor_limit_the_server_logs_once_and_recovers(tmp_path: Path) -> None:
    """Regression: at the file-descriptor limit every refused accept logged an error with a traceback, and
    asyncio's accept loop repeated it up to the listen backlog per round (60 MB of log in 10 s), while idle
    connections held every descriptor for ever, so `/healthz` stopped answering."""
    served = _start(tmp_path, fd_limit=100)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    flood: list[socket.socket] = []
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 1024)), hard))
        started = time.monotonic()
        while len(flood) < 300:
            sock = socket.socket()
            sock.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                sock.connect(("127.0.0.1", served.port))
            flood.append(sock)
        await asyncio.sleep(2 * HEADERS)  # the server is at its limit, accepting and closing idle sockets
        answered = None
        async with httpx.AsyncClient(base_url=served.base, timeout=2) as http:
            while time.monotonic() - started < 20:
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        answered = time.monotonic() - started
                        break
                except httpx.HTTPError:
                    await asyncio.sleep(0.2)
        assert answered is not None, "the server never answered /healthz while idle sockets were held"
    finally:
        for sock in flood:
            sock.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        _stop(served)
    exhausted = _exhaustion_lines(served.log)
    assert 1 <= len(exhausted) <= 2, exhausted[:5]
    assert "Traceback" not in exhausted[0] and "ulimit" in json.loads(exhausted[0])["message"]
    size = served.log.stat().st_size
    assert size < 200_000, f"{size} bytes of log"
