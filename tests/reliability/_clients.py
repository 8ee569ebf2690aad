"""Raw MCP clients for every transport, with full control over key, path and session id.

The official SDK client is used elsewhere for the happy paths; these send exactly what a test says
(including what no well-behaved client would) and return the HTTP status with the parsed JSON-RPC reply.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import mcp_types
import websockets
from mcp.shared.inbound import encode_header_value

MODERN = "2026-07-28"
HANDSHAKE = "2025-11-25"
ACCEPT = "application/json, text/event-stream"
_ids = itertools.count(1)

NAME_PARAM = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}


@dataclass
class Reply:
    status: int
    body: Any
    """The JSON-RPC message (a dict), or None when the body was not JSON."""
    text: str
    headers: httpx.Headers

    @property
    def result(self) -> Any:
        return self.body.get("result") if isinstance(self.body, dict) else None

    @property
    def error(self) -> Any:
        return self.body.get("error") if isinstance(self.body, dict) else None


def auth(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


def request(method: str, params: dict[str, Any] | None = None, rid: Any = None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": next(_ids) if rid is None else rid, "method": method}
    if params is not None:
        message["params"] = params
    return message


def modern_message(method: str, params: dict[str, Any] | None = None, rid: Any = None) -> dict[str, Any]:
    """A 2026-07-28 request: the envelope travels in `params._meta`."""
    meta = {
        mcp_types.PROTOCOL_VERSION_META_KEY: MODERN,
        mcp_types.CLIENT_CAPABILITIES_META_KEY: {},
        mcp_types.CLIENT_INFO_META_KEY: {"name": "reliability", "version": "1"},
    }
    return request(method, {**(params or {}), "_meta": meta}, rid)


def modern_headers(message: dict[str, Any]) -> dict[str, str]:
    method = str(message.get("method"))
    safe = method.isascii() and method.isprintable()
    headers = {"MCP-Protocol-Version": MODERN, "Mcp-Method": method if safe else encode_header_value(method)}
    name_key = NAME_PARAM.get(str(message.get("method")))
    params = message.get("params")
    if name_key and isinstance(params, dict) and isinstance(params.get(name_key), str):
        headers["Mcp-Name"] = encode_header_value(params[name_key])
    return headers


def parse_body(response: httpx.Response) -> Any:
    """The JSON-RPC reply in a JSON or SSE response body (the last message carrying an id), or None."""
    ctype = response.headers.get("content-type", "")
    text = response.text
    if ctype.startswith("text/event-stream"):
        found = None
        for block in text.replace("\r\n", "\n").split("\n\n"):
            data = "\n".join(line[5:].lstrip() for line in block.split("\n") if line.startswith("data:"))
            if not data:
                continue
            try:
                message = json.loads(data)
            except ValueError:
                continue
            if isinstance(message, dict) and "id" in message and ("result" in message or "error" in message):
                found = message
        return found
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


async def post(
    http: httpx.AsyncClient,
    path: str,
    key: str | None,
    body: Any,
    headers: dict[str, str] | None = None,
    *,
    raw: bytes | None = None,
) -> Reply:
    h = {"Accept": ACCEPT, "Content-Type": "application/json", **auth(key), **(headers or {})}
    content = raw if raw is not None else json.dumps(body).encode()
    r = await http.post(path, content=content, headers=h)
    return Reply(r.status_code, parse_body(r), r.text, r.headers)


async def call_modern(
    http: httpx.AsyncClient, path: str, key: str | None, method: str, params: dict[str, Any] | None = None, **kw: Any
) -> Reply:
    message = modern_message(method, params)
    extra = kw.pop("headers", None) or {}
    return await post(http, path, key, message, {**modern_headers(message), **extra}, **kw)


async def call_handshake(
    http: httpx.AsyncClient,
    path: str,
    key: str | None,
    method: str,
    params: dict[str, Any] | None = None,
    session: str | None = None,
    **kw: Any,
) -> Reply:
    headers = {"MCP-Protocol-Version": HANDSHAKE, **(kw.pop("headers", None) or {})}
    if session is not None:
        headers["Mcp-Session-Id"] = session
    return await post(http, path, key, request(method, params), headers, **kw)


INITIALIZE_PARAMS = {
    "protocolVersion": HANDSHAKE,
    "capabilities": {},
    "clientInfo": {"name": "reliability", "version": "1"},
}


async def open_session(http: httpx.AsyncClient, path: str, key: str | None) -> tuple[Reply, str | None]:
    """`initialize` (and `notifications/initialized`) on a stateful server; the reply and the session id."""
    reply = await post(http, path, key, request("initialize", INITIALIZE_PARAMS))
    session = reply.headers.get("mcp-session-id")
    if session:
        h = {"Accept": ACCEPT, "Content-Type": "application/json", "Mcp-Session-Id": session, **auth(key)}
        h["MCP-Protocol-Version"] = HANDSHAKE
        await http.post(path, content=json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}), headers=h)
    return reply, session


# -- legacy HTTP+SSE ---------------------------------------------------------------------------


class SseSession:
    """One legacy SSE stream: the endpoint it announced, and the messages that arrive on it."""

    def __init__(self, http: httpx.AsyncClient, response: httpx.Response) -> None:
        self.http = http
        self.response = response
        self.status = response.status_code
        self.endpoint: str | None = None
        self.messages: list[dict[str, Any]] = []
        self._lines = response.aiter_lines()
        self._event: str | None = None
        self._data: list[str] = []

    async def _next_event(self) -> tuple[str, str]:
        async for line in self._lines:
            if line == "":
                if self._data:
                    event, data = self._event or "message", "\n".join(self._data)
                    self._event, self._data = None, []
                    return event, data
                continue
            if line.startswith("event:"):
                self._event = line[6:].strip()
            elif line.startswith("data:"):
                self._data.append(line[5:].lstrip())
        raise EOFError("the SSE stream ended")

    async def read_endpoint(self) -> str:
        while self.endpoint is None:
            event, data = await self._next_event()
            if event == "endpoint":
                self.endpoint = str(self.response.request.url.join(data))
        return self.endpoint

    async def wait_for(self, rid: Any, timeout: float = 10.0) -> dict[str, Any]:
        with anyio.fail_after(timeout):
            while True:
                for message in self.messages:
                    if message.get("id") == rid:
                        return message
                event, data = await self._next_event()
                if event == "message":
                    with contextlib.suppress(ValueError):
                        self.messages.append(json.loads(data))

    async def send(
        self, message: Any, key: str | None, endpoint: str | None = None, *, raw: bytes | None = None
    ) -> httpx.Response:
        content = raw if raw is not None else json.dumps(message).encode()
        headers = {"Content-Type": "application/json", **auth(key)}
        return await self.http.post(endpoint or self.endpoint or "", content=content, headers=headers)

    async def call(
        self, method: str, params: dict[str, Any] | None, key: str | None
    ) -> tuple[int, dict[str, Any] | None]:
        message = request(method, params)
        r = await self.send(message, key)
        if r.status_code != 202:
            return r.status_code, None
        return r.status_code, await self.wait_for(message["id"])

    async def handshake(self, key: str | None) -> dict[str, Any] | None:
        status, reply = await self.call("initialize", INITIALIZE_PARAMS, key)
        if status == 202:
            await self.send({"jsonrpc": "2.0", "method": "notifications/initialized"}, key)
        return reply


@contextlib.asynccontextmanager
async def sse_session(http: httpx.AsyncClient, path: str, key: str | None) -> AsyncIterator[SseSession]:
    async with http.stream("GET", path, headers={"Accept": "text/event-stream", **auth(key)}) as response:
        session = SseSession(http, response)
        if response.status_code == 200:
            with anyio.fail_after(10):
                await session.read_endpoint()
        else:
            await response.aread()
        yield session


# -- WebSocket ---------------------------------------------------------------------------------


def ws_url(base: str, path: str) -> str:
    return base.replace("http://", "ws://", 1) + path


@contextlib.asynccontextmanager
async def ws_connect(base: str, path: str, key: str | None, *, query_key: bool = False) -> AsyncIterator[Any]:
    url = ws_url(base, path)
    headers = {}
    if key and query_key:
        url += f"?api_key={key}"
    elif key:
        headers = auth(key)
    async with websockets.connect(
        url, subprotocols=["mcp"], additional_headers=headers, open_timeout=10, max_size=2**25
    ) as ws:
        yield ws


async def ws_exchange(ws: Any, message: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
    await ws.send(json.dumps(message))
    with anyio.fail_after(timeout):
        while True:
            reply = json.loads(await ws.recv())
            if isinstance(reply, dict) and reply.get("id") == message.get("id"):
                return reply


async def ws_handshake(ws: Any) -> dict[str, Any]:
    reply = await ws_exchange(ws, request("initialize", INITIALIZE_PARAMS))
    await ws.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
    return reply


async def ws_status(base: str, path: str, key: str | None, *, query_key: bool = False) -> int:
    """The HTTP status of a WebSocket upgrade (101 when accepted)."""
    try:
        async with ws_connect(base, path, key, query_key=query_key):
            return 101
    except websockets.exceptions.InvalidStatus as exc:
        return int(exc.response.status_code)
