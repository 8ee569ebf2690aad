"""`ForwardProxy`: a forward HTTP proxy on 127.0.0.1 for tests, recording every request it relays.

    async with ForwardProxy() as proxy, UpstreamClient(proxy=proxy.url) as upstream:
        await upstream.bind(base_url=fake_api_url, provider="demo").get("me")
    assert [r.url for r in proxy.requests] == [fake_api_url + "/me"]

It speaks what clients send a proxy: plain-HTTP requests in absolute form
(`GET http://127.0.0.1:8001/me HTTP/1.1`, relayed over keep-alive connections) and
`CONNECT host:port` for https URLs (tunnelled as bytes; recorded with method `CONNECT`).
It relays only to loopback addresses, so a test cannot reach the internet through it by
mistake, and `answer=502` makes it refuse everything with that status instead.
Runs on asyncio, in the test's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from dataclasses import dataclass, field
from types import TracebackType

import httpx

__all__ = ["ForwardProxy", "RelayedRequest"]

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


@dataclass(frozen=True)
class RelayedRequest:
    """One request the proxy received: `url` is the absolute URL (or `host:port` for CONNECT)."""

    method: str
    url: str
    headers: httpx.Headers = field(repr=False)
    content: bytes = field(default=b"", repr=False)


class ForwardProxy:
    """A forward proxy for tests (see the module docstring); `url` is valid inside `async with`."""

    def __init__(self, *, answer: int | None = None, host: str = "127.0.0.1") -> None:
        self.answer = answer
        self.host = host
        self.requests: list[RelayedRequest] = []
        self._server: asyncio.Server | None = None
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("ForwardProxy.url is known once the proxy runs: use it inside `async with`")
        return f"http://{self.host}:{self.port}"

    async def __aenter__(self) -> ForwardProxy:
        # Its own upstream client ignores the environment's proxies: this proxy is the environment's proxy.
        self._client = httpx.AsyncClient(trust_env=False, follow_redirects=False, timeout=30)
        self._server = await asyncio.start_server(self._serve, self.host, 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._server is not None:
            await self._server.wait_closed()
        if self._client is not None:
            await self._client.aclose()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            while await self._one(reader, writer):
                pass
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            if task is not None:
                self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Handle one request; False when the connection is done."""
        head = await reader.readuntil(b"\r\n\r\n")
        line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, _version = line.split(" ", 2)
        fields = (h.partition(":") for h in header_lines if ":" in h)
        headers = httpx.Headers([(name.strip(), value.strip()) for name, _, value in fields])
        if method == "CONNECT":
            self.requests.append(RelayedRequest(method, target, headers))
            await self._tunnel(target, reader, writer)
            return False
        content = await _read_body(reader, headers)
        self.requests.append(RelayedRequest(method, target, headers, content))
        try:
            url = httpx.URL(target)
        except httpx.InvalidURL:
            url = httpx.URL()
        if self.answer is not None:
            await _reply(writer, self.answer, b"refused by the test proxy")
        elif not url.is_absolute_url or url.scheme != "http":
            await _reply(writer, 400, b"a forward proxy takes absolute http:// URLs")
        elif not _is_loopback(url.host):
            await _reply(writer, 403, b"this test proxy relays to loopback addresses only")
        else:
            await self._relay(method, url, headers, content, writer)
        connection: str = headers.get("connection", "")
        return connection.lower() != "close"

    async def _relay(
        self, method: str, url: httpx.URL, headers: httpx.Headers, content: bytes, writer: asyncio.StreamWriter
    ) -> None:
        assert self._client is not None
        forward = httpx.Headers({k: v for k, v in headers.multi_items() if k.lower() not in _HOP_BY_HOP})
        request = self._client.build_request(method, url, headers=forward, content=content or None)
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            await _reply(writer, 502, f"the test proxy could not reach {url.host}: {type(exc).__name__}".encode())
            return
        try:
            body = b"".join([chunk async for chunk in response.aiter_raw()])
        finally:
            await response.aclose()
        lines = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}"]
        lines += [
            f"{k}: {v}"
            for k, v in response.headers.multi_items()
            if k.lower() not in _HOP_BY_HOP and k.lower() != "content-length"
        ]
        lines.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()

    async def _tunnel(self, target: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, _, port = target.rpartition(":")
        host = host.strip("[]")
        if self.answer is not None:
            await _reply(writer, self.answer, b"refused by the test proxy")
            return
        if not _is_loopback(host) or not port.isdigit():
            await _reply(writer, 403, b"this test proxy tunnels to loopback addresses only")
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
        except OSError:
            await _reply(writer, 502, b"the test proxy could not connect")
            return
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while chunk := await source.read(65536):
                    sink.write(chunk)
                    await sink.drain()
            except ConnectionError:
                pass
            finally:
                with contextlib.suppress(Exception):
                    sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def _read_body(reader: asyncio.StreamReader, headers: httpx.Headers) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks: list[bytes] = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
            if size == 0:
                await reader.readuntil(b"\r\n")  # the end of the (empty) trailer section
                return b"".join(chunks)
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
    length = int(headers.get("content-length", "0") or "0")
    return await reader.readexactly(length) if length else b""


async def _reply(writer: asyncio.StreamWriter, status: int, body: bytes) -> None:
    reason = httpx.codes.get_reason_phrase(status) or "Error"
    writer.write(
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
    )
    await writer.drain()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
