"""A fake upstream HTTP/1.1 server on a raw asyncio socket, so it can misbehave the way real ones do.

It counts every request it fully receives, per method and path, and answers according to a script:
a `Behaviour` per `(method, path)` (or per path), or a list of them consumed one request at a time.
Behaviours can answer normally, stall, reset the connection before or after reading the request,
truncate a body, send malformed JSON, stream tens of megabytes, or redirect anywhere.
It also serves a fake OAuth token endpoint with rotating refresh tokens (`TokenEndpoint`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import socket
import struct
import time
import urllib.parse
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FakeUpstream", "Seen", "TokenEndpoint", "behave"]


@dataclass
class Seen:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)

    @property
    def token(self) -> str | None:
        value = self.headers.get("authorization", "")
        return value.split(" ", 1)[1] if " " in value else None


class _Close(Exception):
    """The behaviour ended the connection."""


Behaviour = Callable[["FakeUpstream", Seen, asyncio.StreamWriter], Awaitable[None]]


def _response(status: int, body: bytes, headers: dict[str, str] | None = None, reason: str = "X") -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}"]
    h = {"Content-Type": "application/json", "Content-Length": str(len(body)), **(headers or {})}
    lines += [f"{k}: {v}" for k, v in h.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a crashing server or a middlebox does."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class behave:
    @staticmethod
    def json(status: int = 200, body: Any = None, headers: dict[str, str] | None = None) -> Behaviour:
        async def run(up: FakeUpstream, seen: Seen, w: asyncio.StreamWriter) -> None:
            payload = body if body is not None else {"ok": True, "method": seen.method, "path": seen.path}
            w.write(_response(status, json.dumps(payload).encode(), headers))
            await w.drain()

        return run

    @staticmethod
    def identity() -> Behaviour:
        """200 with a fingerprint of the bearer token it received (never the token)."""

        async def run(up: FakeUpstream, seen: Seen, w: asyncio.StreamWriter) -> None:
            token = seen.token
            fp = hashlib.sha256(token.encode()).hexdigest()[:16] if token else None
            w.write(_response(200, json.dumps({"fp": fp, "path": seen.path}).encode()))
            await w.drain()

        return run

    @staticmethod
    def raw(data: bytes, *, close: bool = True) -> Behaviour:
        async def run(up: FakeUpstream, seen: Seen, w: asyncio.StreamWriter) -> None:
            w.write(data)
            await w.drain()
            if close:
                raise _Close

        return run

    @staticmethod
    def stall(seconds: float = 60.0) -> Behaviour:
        """Read the request, then say nothing (until the client gives up or `seconds` pass)."""

        async def run(up: FakeUpstream, seen: Seen, w: asyncio.StreamWriter) -> None:
            await asyncio.sleep(seconds)
            raise _Close

        return run

    @staticmethod
    def delayed(seconds: float, then: Behaviour) -> Behaviour:
        """Wait `seconds` after reading the request, then answer as `then` does (a slow but working upstream)."""

        async def run(up: FakeUpstream, seen: Seen, w: asyncio.StreamWriter) -> None:
            await asyncio.sleep(seconds)
            await then(up, seen, w)

        return run

    @staticmethod
    def headers_then_stall(seconds: float = 60.0) -> Behaviour:
        """Send the status line and headers, then never the body."""

        async def run(up: FakeUpstream, seen: Seen, w: asyncio.StreamWriter) -> None:
            w.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
            await w.drain()
            await asyncio.sleep(seconds)
            raise _Close

        return run

    @staticmethod
    def reset_after_read() -> Behaviour:
        async def run(up: FakeUpstream, seen: Seen, w: asyncio.StreamWriter) -> None:
            _reset(w)
            raise _Close

        return run

    @staticmethod
    def truncated(declared: int = 1000, body: bytes = b'{"items": [1, 2, 3') -> Behaviour:
        """Declare `declared` bytes, send fewer, close."""

        async def run(up: FakeUpstream, seen: Seen, w: asyncio.StreamWriter) -> None:
            head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {declared}\r\n\r\n"
            w.write(head.encode() + body)
            await w.drain()
            raise _Close

        return run

    @staticmethod
    def huge(size: int, *, chunked: bool = True, status: int = 200, chunk: int = 256 * 1024) -> Behaviour:
        """Stream `size` bytes of a JSON array (chunked, or with a Content-Length), stopping if the client leaves."""

        async def run(up: FakeUpstream, seen: Seen, w: asyncio.StreamWriter) -> None:
            piece = b'"' + b"x" * (chunk - 3) + b'",'
            head = f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
            head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {size}\r\n\r\n"
            w.write(head.encode())
            sent = 0
            try:
                while sent < size:
                    data = piece[: min(len(piece), size - sent)]
                    w.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
                    await w.drain()
                    sent += len(data)
                    up.bytes_streamed += len(data)
                if chunked:
                    w.write(b"0\r\n\r\n")
                    await w.drain()
            except (ConnectionError, OSError):
                pass
            raise _Close

        return run

    @staticmethod
    def redirect(location: str, status: int = 302) -> Behaviour:
        return behave.raw(_response(status, b"", {"Location": location}), close=False)

    @staticmethod
    def sequence(*steps: Behaviour) -> list[Behaviour]:
        return list(steps)


class FakeUpstream:
    """The fake upstream server. `script` maps `"METHOD /path"` or `"/path"` to a behaviour or a list of them."""

    def __init__(self, default: Behaviour | None = None) -> None:
        self.default = default or behave.identity()
        self.script: dict[str, Behaviour | list[Behaviour]] = {}
        self.seen: list[Seen] = []
        self.connections = 0
        self.reset_on_accept = 0
        """Connections to reset before reading anything (the request never reaches the application)."""
        self.bytes_streamed = 0
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def counts(self) -> Counter[tuple[str, str]]:
        return Counter((s.method, s.path) for s in self.seen)

    def count(self, method: str, path: str) -> int:
        return sum(1 for s in self.seen if s.method == method and s.path == path)

    def on(self, key: str, *behaviours: Behaviour) -> None:
        self.script[key] = behaviours[0] if len(behaviours) == 1 else list(behaviours)

    async def __aenter__(self) -> FakeUpstream:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, limit=2**20)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            if self.reset_on_accept > 0:
                self.reset_on_accept -= 1
                _reset(writer)
                return
            while True:
                seen = await self._read_request(reader)
                if seen is None:
                    break
                self.seen.append(seen)
                behaviour = self._pick(seen)
                await behaviour(self, seen, writer)
        except (_Close, ConnectionError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass  # shutting down: end quietly (a cancelled handler task makes asyncio log an error)
        finally:
            self._tasks.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    def _pick(self, seen: Seen) -> Behaviour:
        for key in (f"{seen.method} {seen.path}", seen.path):
            entry = self.script.get(key)
            if entry is None:
                continue
            if isinstance(entry, list):
                if not entry:
                    continue
                return entry.pop(0) if len(entry) > 1 else entry[0]
            return entry
        return self.default

    @staticmethod
    async def _read_request(reader: asyncio.StreamReader) -> Seen | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        body = b""
        if "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await reader.readuntil(b"\r\n")).strip(), 16)
                chunk = await reader.readexactly(size + 2)
                if size == 0:
                    break
                body += chunk[:-2]
        parts = urllib.parse.urlsplit(target)
        return Seen(method, parts.path, parts.query, headers, body)


# -- a fake OAuth token endpoint ---------------------------------------------------------------


@dataclass
class TokenEndpoint:
    """Refresh-token grants with rotation: each refresh token works once; reusing an old one is an incident.

    `mode` "ok" answers with a new access and refresh token; "invalid_grant" refuses (the grant was revoked);
    "server_error" answers 503. `delay` holds every answer, so concurrent callers pile up behind a refresh.
    """

    current_refresh: str
    new_secret: Callable[[str], str]
    expires_in: int = 3600
    mode: str = "ok"
    delay: float = 0.0
    refreshes: int = 0
    reused: list[str] = field(default_factory=list)
    issued_access: list[str] = field(default_factory=list)
    retired: set[str] = field(default_factory=set)

    def behaviour(self) -> Behaviour:
        async def run(up: FakeUpstream, seen: Seen, w: asyncio.StreamWriter) -> None:
            form = urllib.parse.parse_qs(seen.body.decode())
            if self.delay:
                await asyncio.sleep(self.delay)
            self.refreshes += 1
            presented = (form.get("refresh_token") or [""])[0]
            if self.mode == "server_error":
                w.write(_response(503, b'{"error": "temporarily_unavailable"}'))
            elif self.mode == "invalid_grant" or presented != self.current_refresh:
                if presented in self.retired:
                    self.reused.append(presented)
                w.write(_response(400, b'{"error": "invalid_grant", "error_description": "bad refresh token"}'))
            else:
                self.retired.add(presented)
                access, refresh = self.new_secret("at"), self.new_secret("rt")
                self.current_refresh = refresh
                self.issued_access.append(access)
                body = {
                    "access_token": access,
                    "refresh_token": refresh,
                    "token_type": "Bearer",
                    "expires_in": self.expires_in,
                    "scope": "read",
                }
                w.write(_response(200, json.dumps(body).encode()))
            await w.drain()

        return run
