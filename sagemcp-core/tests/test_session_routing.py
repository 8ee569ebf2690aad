"""The `SessionRouter` seam: two apps on one store, a session opened on one used through the other.

The router here keeps its registry in a dict and forwards with httpx, marking forwards with a header
that names the caller binding; the reference server's Redis router is tested in sagemcp-server.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from sagemcp.mcp import SESSION_GONE, McpSettings, SessionRouter, create_mcp_app
from sagemcp.platform import ConnectorRegistry, UpstreamClient

from ._support import FakeNotesApi, NotesConnector, serve
from .test_mcp_adapter import build_store

HANDSHAKE = "2025-11-25"
ACCEPT = "application/json, text/event-stream"
MARK = "x-test-forwarded"


@dataclass
class MemoryRouter:
    name: str
    registry: dict[str, str]
    bases: dict[str, str]
    forwarded: list[str] = field(default_factory=list)
    bindings: set[str] = field(default_factory=set)

    async def opened(self, session_id: str) -> None:
        self.registry[session_id] = self.name

    async def closed(self, session_id: str) -> None:
        if self.registry.get(session_id) == self.name:
            del self.registry[session_id]

    def inbound(self, scope: Scope, binding: str) -> bool | None:
        value = next((v.decode() for k, v in scope["headers"] if k == MARK.encode()), None)
        return None if value is None else value == binding

    async def forward(
        self, session_id: str, binding: str, scope: Scope, body: bytes | None, receive: Receive, send: Send
    ) -> None:
        from sagemcp.mcp._routing import session_gone_response

        holder = self.registry.get(session_id)
        if holder is None:
            await session_gone_response()(scope, receive, send)
            return
        self.forwarded.append(session_id)
        self.bindings.add(binding)
        headers = [(k, v) for k, v in scope["headers"] if k not in (b"host", b"content-length")]
        headers.append((MARK.encode(), binding.encode()))
        async with httpx.AsyncClient() as http:
            r = await http.request(scope["method"], self.bases[holder] + scope["path"], headers=headers, content=body)
        kept = [(k, v) for k, v in r.headers.raw if k.lower() not in (b"content-length", b"transfer-encoding")]
        await send({"type": "http.response.start", "status": r.status_code, "headers": kept})
        await send({"type": "http.response.body", "body": r.content})


@dataclass
class Pair:
    a: str
    b: str
    keys: dict[str, str]
    routers: dict[str, MemoryRouter]
    registry: dict[str, str]


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    store, keys, _, _ = build_store()
    registry: dict[str, str] = {}
    bases: dict[str, str] = {}
    routers = {name: MemoryRouter(name, registry, bases) for name in ("a", "b")}
    assert isinstance(routers["a"], SessionRouter)
    upstream = UpstreamClient(transport=httpx.MockTransport(FakeNotesApi()))
    settings = McpSettings(stateful=True, max_body_bytes=64 * 1024)
    apps = {
        name: create_mcp_app(store, ConnectorRegistry([NotesConnector]), upstream=upstream, settings=settings, router=r)
        for name, r in routers.items()
    }
    async with serve(apps["a"]) as a, serve(apps["b"]) as b:
        bases.update(a=a, b=b)
        yield Pair(a, b, keys, routers, registry)
    await upstream.aclose()


def headers(key: str, session: str | None = None) -> dict[str, str]:
    h = {"Accept": ACCEPT, "Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    if session is not None:
        h.update({"Mcp-Session-Id": session, "MCP-Protocol-Version": HANDSHAKE})
    return h


def message(method: str, params: dict[str, object], rid: int = 1) -> str:
    return json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})


def reply(r: httpx.Response) -> dict[str, object]:
    if r.headers["content-type"].startswith("text/event-stream"):
        data = [line[5:].strip() for line in r.text.splitlines() if line.startswith("data:") and line[5:].strip()]
        return dict(json.loads(data[-1]))
    return dict(r.json())


async def open_session(http: httpx.AsyncClient, base: str, key: str) -> str:
    init = {"protocolVersion": HANDSHAKE, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    r = await http.post(
        base + "/acme/connectors/notes/mcp", content=message("initialize", init, 0), headers=headers(key)
    )
    assert r.status_code == 200, r.text
    session = r.headers["mcp-session-id"]
    notified = json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"})
    done = await http.post(base + "/acme/connectors/notes/mcp", content=notified, headers=headers(key, session))
    assert done.status_code == 202
    return session


async def test_a_session_opened_on_one_app_is_served_through_the_other(pair: Pair) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        session = await open_session(http, pair.a, pair.keys["acme"])
        assert pair.registry == {session: "a"}  # registered by the app that opened it
        path = "/acme/connectors/notes/mcp"
        call = message("tools/call", {"name": "notes_whoami", "arguments": {}}, 2)
        r = await http.post(pair.b + path, content=call, headers=headers(pair.keys["acme"], session))
        assert r.status_code == 200, r.text
        assert reply(r)["result"]["structuredContent"] == {"tenant": "acme", "connector": "notes"}  # type: ignore[index]
        assert pair.routers["b"].forwarded == [session] and pair.routers["a"].forwarded == []
        # Another tenant's key, through the app that does not hold the session: refused by the holder, as on one app.
        other = await http.post(
            pair.b + "/globex/connectors/notes/mcp", content=call, headers=headers(pair.keys["globex"], session)
        )
        assert other.status_code == 404
        # DELETE through the other app ends the session on its holder, which unregisters it.
        gone = await http.delete(pair.b + path, headers=headers(pair.keys["acme"], session))
        assert gone.status_code == 200 and pair.registry == {}
        after = await http.post(pair.b + path, content=call, headers=headers(pair.keys["acme"], session))
        assert after.status_code == 404 and reply(after)["error"]["message"] == SESSION_GONE  # type: ignore[index]


async def test_forged_and_repeated_forwards_are_refused(pair: Pair) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        session = await open_session(http, pair.a, pair.keys["acme"])
        path = "/acme/connectors/notes/mcp"
        call = message("tools/call", {"name": "notes_whoami", "arguments": {}}, 2)
        forged = {**headers(pair.keys["acme"], session), MARK: "tenant/*/someone-else"}
        r = await http.post(pair.a + path, content=call, headers=forged)
        assert r.status_code == 403 and "forwarded" in reply(r)["error"]["message"]  # type: ignore[index]
        r = await http.post(pair.b + path, content=call, headers=headers(pair.keys["acme"], session))
        assert r.status_code == 200
        (binding,) = pair.routers["b"].bindings
        # A genuine forward that reaches an app not holding the session is answered 404, never forwarded again.
        again = {**headers(pair.keys["acme"], session), MARK: binding}
        r = await http.post(pair.b + path, content=call, headers=again)
        assert r.status_code == 404 and reply(r)["error"]["message"] == SESSION_GONE  # type: ignore[index]
        assert pair.routers["b"].forwarded == [session]


async def test_a_body_over_the_limit_is_refused_before_it_is_forwarded(pair: Pair) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        session = await open_session(http, pair.a, pair.keys["acme"])
        big = message("tools/call", {"name": "notes_whoami", "arguments": {"x": "y" * 70_000}}, 3)
        r = await http.post(
            pair.b + "/acme/connectors/notes/mcp", content=big, headers=headers(pair.keys["acme"], session)
        )
        assert r.status_code == 413
        assert pair.routers["b"].forwarded == []
