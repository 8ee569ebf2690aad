"""Quotas on sessions and streams (per tenant, per key), idle timeouts, and streams closed on revocation."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import pytest
import websockets

from sagemcp.mcp import McpApp, McpSettings, create_mcp_app
from sagemcp.platform import ConnectorRegistry, MemoryStore, Tenant, UpstreamClient

from ._support import FakeNotesApi, NotesConnector, serve
from .test_mcp_adapter import build_store

ACCEPT = "application/json, text/event-stream"
HANDSHAKE = "2025-11-25"
INIT = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {"protocolVersion": HANDSHAKE, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}


@dataclass
class Limited:
    base: str
    app: McpApp
    store: MemoryStore
    keys: dict[str, str]
    key_ids: dict[str, str]
    tenants: dict[str, Tenant]
    http: httpx.AsyncClient


@contextlib.asynccontextmanager
async def limited(**settings: Any) -> AsyncIterator[Limited]:
    store, keys, tenants, _ = build_store()
    key_ids = {}
    for name, slug in (("acme2", "acme"), ("acme3", "acme"), ("globex2", "globex")):
        keys[name], record = store.create_api_key(tenants[slug].id, name=name)
        key_ids[name] = record.id
    for slug in ("acme", "globex"):
        key_ids[slug] = next(k.id for k in store.list_api_keys(tenants[slug].id) if k.name == "mcp")
    upstream = UpstreamClient(transport=httpx.MockTransport(FakeNotesApi()))
    app = create_mcp_app(
        store, ConnectorRegistry([NotesConnector]), upstream=upstream, settings=McpSettings(**settings)
    )
    async with serve(app) as base, httpx.AsyncClient(base_url=base, timeout=10) as http:
        yield Limited(base, app, store, keys, key_ids, tenants, http)
    await upstream.aclose()


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


class Held:
    """A streamed response held open, with the one iterator over its lines (a second would fail)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.status_code = response.status_code
        self.lines = response.aiter_lines()

    def json(self) -> Any:
        return self.response.json()

    async def first_event(self) -> None:
        async for line in self.lines:
            if line.startswith("data:"):
                return

    async def rest(self) -> str:
        """Everything up to the end of the stream."""
        return "\n".join([line async for line in self.lines])


@contextlib.asynccontextmanager
async def sse_stream(w: Limited, key: str, tenant: str = "acme") -> AsyncIterator[Held]:
    """A legacy SSE stream, held open; its endpoint event read when it was accepted."""
    path = f"/{tenant}/connectors/notes/sse"
    async with w.http.stream("GET", path, headers={"Accept": "text/event-stream", **auth(key)}) as response:
        held = Held(response)
        if response.status_code == 200:
            await held.first_event()
        else:
            await response.aread()
        yield held


async def open_session(w: Limited, key: str, tenant: str = "acme") -> httpx.Response:
    headers = {"Accept": ACCEPT, "Content-Type": "application/json", **auth(key)}
    return await w.http.post(f"/{tenant}/connectors/notes/mcp", content=json.dumps(INIT), headers=headers)


@contextlib.asynccontextmanager
async def get_stream(w: Limited, key: str, session: str, tenant: str = "acme") -> AsyncIterator[Held]:
    headers = {"Accept": "text/event-stream", "Mcp-Session-Id": session, "MCP-Protocol-Version": HANDSHAKE, **auth(key)}
    async with w.http.stream("GET", f"/{tenant}/connectors/notes/mcp", headers=headers) as response:
        if response.status_code != 200:
            await response.aread()
        yield Held(response)


def ws_connect(w: Limited, key: str, tenant: str = "acme") -> Any:
    url = w.base.replace("http://", "ws://") + f"/{tenant}/connectors/notes/ws"
    return websockets.connect(url, subprotocols=["mcp"], additional_headers=auth(key), open_timeout=10)


async def eventually(check: Callable[[], Awaitable[bool] | bool], timeout: float = 5.0) -> None:
    with anyio.fail_after(timeout):
        while True:
            outcome = check()
            if not isinstance(outcome, bool):
                outcome = await outcome
            if outcome:
                return
            await anyio.sleep(0.05)


async def ended(stream: Held) -> str:
    """Read a stream to its end; the text it carried after the point already read."""
    return await stream.rest()


def assert_refused(response: Held | httpx.Response, limit: str, *fragments: str) -> None:
    assert response.status_code == 429
    error = response.json()["error"]
    assert error["data"]["limit"] == limit
    for fragment in fragments:
        assert fragment in error["message"], error["message"]


# -- stream quotas ----------------------------------------------------------------------------


async def test_one_tenant_filling_its_stream_quota_leaves_other_tenants_alone() -> None:
    async with limited(max_streams_per_tenant=3, max_streams_per_key=2) as w, contextlib.AsyncExitStack() as stack:
        for key in ("acme", "acme", "acme2"):
            opened = await stack.enter_async_context(sse_stream(w, w.keys[key]))
            assert opened.status_code == 200
        refused = await stack.enter_async_context(sse_stream(w, w.keys["acme3"]))
        assert_refused(refused, "streams_per_tenant", "Tenant 'acme'", "max_streams_per_tenant = 3", "Close streams")
        # The other tenant has its own quota, untouched by acme's.
        for key in ("globex", "globex", "globex2"):
            assert (await stack.enter_async_context(sse_stream(w, w.keys[key], "globex"))).status_code == 200
        assert w.app.usage.streams["sse"] == 6
        assert w.app.usage.refused["streams_per_tenant"] == 1


async def test_stream_quota_per_key_and_room_freed_on_close() -> None:
    async with limited(max_streams_per_tenant=10, max_streams_per_key=2) as w, contextlib.AsyncExitStack() as stack:
        async with sse_stream(w, w.keys["acme"]) as first:
            assert first.status_code == 200
            assert (await stack.enter_async_context(sse_stream(w, w.keys["acme"]))).status_code == 200
            async with sse_stream(w, w.keys["acme"]) as third:
                assert_refused(third, "streams_per_key", "This key has 2 open", "max_streams_per_key = 2")
            # another key of the same tenant is not held up by this one
            assert (await stack.enter_async_context(sse_stream(w, w.keys["acme2"]))).status_code == 200
        await eventually(lambda: w.app.guard.streams.held(key_id=w.key_ids["acme"]) == 1)
        async with sse_stream(w, w.keys["acme"]) as again:
            assert again.status_code == 200


async def test_websockets_and_sse_share_the_stream_quota() -> None:
    async with limited(max_streams_per_key=2) as w, contextlib.AsyncExitStack() as stack:
        assert (await stack.enter_async_context(sse_stream(w, w.keys["acme"]))).status_code == 200
        ws = await stack.enter_async_context(ws_connect(w, w.keys["acme"]))
        assert ws.subprotocol == "mcp"
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            async with ws_connect(w, w.keys["acme"]):
                pass
        assert refused.value.response.status_code == 429
        body = json.loads(refused.value.response.body)
        assert body["error"]["data"] == {"limit": "streams_per_key", "max": 2}
        assert w.app.usage.streams == {"sse": 1, "get": 0, "websocket": 1}


# -- session quotas (stateful) -------------------------------------------------------------------


async def test_session_quota_per_tenant_and_per_key() -> None:
    async with limited(stateful=True, max_sessions_per_tenant=3, max_sessions_per_key=2) as w:
        sessions = []
        for key in ("acme", "acme", "acme2"):
            r = await open_session(w, w.keys[key])
            assert r.status_code == 200, r.text
            sessions.append(r.headers["mcp-session-id"])
        assert_refused(await open_session(w, w.keys["acme3"]), "sessions_per_tenant", "Tenant 'acme'", "DELETE")
        assert_refused(await open_session(w, w.keys["acme"]), "sessions_per_tenant")
        for key in ("globex", "globex"):
            assert (await open_session(w, w.keys[key], "globex")).status_code == 200
        assert_refused(
            await open_session(w, w.keys["globex"], "globex"), "sessions_per_key", "max_sessions_per_key = 2"
        )
        # Ending a session gives its room back at once.
        headers = {"Mcp-Session-Id": sessions[0], "MCP-Protocol-Version": HANDSHAKE, **auth(w.keys["acme"])}
        assert (await w.http.delete("/acme/connectors/notes/mcp", headers=headers)).status_code == 200
        await eventually(lambda: w.app.guard.sessions.held(tenant_id=w.tenants["acme"].id) == 2)
        assert (await open_session(w, w.keys["acme3"])).status_code == 200
        assert w.app.usage.sessions == 5


async def test_refused_or_failed_openings_hold_no_room() -> None:
    async with limited(stateful=True, max_sessions_per_key=1) as w:
        headers = {"Accept": ACCEPT, "Content-Type": "application/json", **auth(w.keys["acme"])}
        not_initialize = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        for _ in range(3):  # requests that open no session: the SDK refuses them, the room is returned
            r = await w.http.post("/acme/connectors/notes/mcp", content=json.dumps(not_initialize), headers=headers)
            assert r.status_code == 400
        assert (await open_session(w, w.keys["acme"])).status_code == 200
        assert w.app.guard.sessions.held(key_id=w.key_ids["acme"]) == 1


async def test_get_streams_count_against_the_stream_quota() -> None:
    async with limited(stateful=True, max_streams_per_key=1) as w, contextlib.AsyncExitStack() as stack:
        one = (await open_session(w, w.keys["acme"])).headers["mcp-session-id"]
        two = (await open_session(w, w.keys["acme"])).headers["mcp-session-id"]
        assert (await stack.enter_async_context(get_stream(w, w.keys["acme"], one))).status_code == 200
        assert_refused(await stack.enter_async_context(get_stream(w, w.keys["acme"], two)), "streams_per_key")
        assert w.app.usage.streams["get"] == 1


# -- idle streams ------------------------------------------------------------------------------------


async def test_idle_streams_are_closed_and_active_ones_kept() -> None:
    async with limited(stateful=True, stream_idle_timeout=0.8) as w:
        session = (await open_session(w, w.keys["acme"])).headers["mcp-session-id"]
        started = time.monotonic()
        async with sse_stream(w, w.keys["acme"]) as sse, get_stream(w, w.keys["acme"], session) as get:
            async with ws_connect(w, w.keys["acme"]) as ws:
                with anyio.fail_after(6):
                    tail = await ended(sse)
                    await ended(get)
                    await ws.wait_closed()
                assert ws.close_code == 1000 and "idle" in (ws.close_reason or "")
        assert "closed: no message" in tail
        assert time.monotonic() - started >= 0.8
        assert w.app.usage.closed["idle"] == 3
        assert w.app.usage.streams == {"sse": 0, "get": 0, "websocket": 0}
        # The session outlives its stream, and takes a new one.
        async with get_stream(w, w.keys["acme"], session) as again:
            assert again.status_code == 200


async def test_messages_keep_a_stream_open() -> None:
    async with limited(stream_idle_timeout=0.6) as w:
        async with ws_connect(w, w.keys["acme"]) as ws:
            for i in range(8):  # 1.6 s of traffic, over twice the idle timeout
                await ws.send(json.dumps({"jsonrpc": "2.0", "id": i, "method": "ping"}))
                assert json.loads(await ws.recv())["id"] == i
                await anyio.sleep(0.2)
            with anyio.fail_after(5):
                await ws.wait_closed()
        assert ws.close_code == 1000


# -- revocation ----------------------------------------------------------------------------------------


async def test_a_revoked_key_loses_its_streams_and_sessions_at_once_here() -> None:
    """The cache TTL is long, so only the invalidation hook of this process can close them so soon."""
    async with limited(stateful=True, cache_ttl=60) as w:
        doomed, kept = w.keys["acme2"], w.keys["acme"]
        session = (await open_session(w, doomed)).headers["mcp-session-id"]
        other = (await open_session(w, kept)).headers["mcp-session-id"]
        async with (
            sse_stream(w, doomed) as sse,
            get_stream(w, doomed, session) as get,
            ws_connect(w, doomed) as ws,
            sse_stream(w, kept) as survivor,
        ):
            assert sse.status_code == get.status_code == survivor.status_code == 200
            w.store.revoke_api_key(w.key_ids["acme2"])
            w.app.authenticator.invalidate()  # what the admin API does when it revokes a key
            with anyio.fail_after(2):
                tail = await ended(sse)
                await ended(get)
                await ws.wait_closed()
            assert "closed: access was revoked" in tail
            assert ws.close_code == 1008
            assert w.app.usage.streams["sse"] == 1  # the other key's stream is still open
        headers = {"Accept": ACCEPT, "Content-Type": "application/json", "MCP-Protocol-Version": HANDSHAKE}
        ping = json.dumps({"jsonrpc": "2.0", "id": 5, "method": "ping"})
        r = await w.http.post(
            "/acme/connectors/notes/mcp", content=ping, headers={**headers, **auth(kept), "Mcp-Session-Id": other}
        )
        assert r.status_code == 200  # the other key's session is untouched
        await eventually(lambda: session not in w.app._manager._server_instances)
        assert w.app.usage.closed["revoked"] == 3


async def test_a_key_revoked_elsewhere_loses_its_streams_within_the_ttl() -> None:
    """No invalidation here (another replica revoked it): the periodic re-admission finds it."""
    async with limited(cache_ttl=0.5) as w:
        async with sse_stream(w, w.keys["acme2"]) as sse, ws_connect(w, w.keys["acme2"]) as ws:
            assert sse.status_code == 200
            w.store.revoke_api_key(w.key_ids["acme2"])
            started = time.monotonic()
            with anyio.fail_after(5):
                await ended(sse)
                await ws.wait_closed()
            assert time.monotonic() - started < 0.5 * 2 + 1.0
            assert ws.close_code == 1008


async def test_a_deactivated_tenant_loses_its_streams() -> None:
    async with limited(cache_ttl=60) as w:
        async with sse_stream(w, w.keys["acme"]) as acme, sse_stream(w, w.keys["globex"], "globex") as globex:
            tenant = w.tenants["acme"]
            w.store.add_tenant(tenant.model_copy(update={"active": False}))  # replaces it
            w.app.resolver.invalidate("acme")  # what the admin API does when it changes a tenant
            with anyio.fail_after(3):
                await ended(acme)
            await anyio.sleep(0.2)
            assert w.app.usage.streams["sse"] == 1 and not globex.response.is_closed
