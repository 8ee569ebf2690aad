"""Quotas: a tenant, or one of its keys, can fill only its own room for sessions and streams.

Before the fix one tenant's key filled the process's 10,000-session table in a minute and locked every other
tenant out for 30 minutes, and idle streams were accepted by the thousand and never expired. Here a hostile
tenant exhausts every quota on every transport (stateful sessions, `GET /mcp` streams, legacy SSE, WebSocket)
with several keys, and a victim tenant must still get everything; quotas must account exactly under churn
(clients that abort mid-handshake, sessions deleted or left to expire, streams closed either way), and idle
streams must give their room back.
"""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import pytest
import pytest_asyncio
import websockets

from sagemcp import Credential
from sagemcp.mcp import McpApp, McpSettings, create_mcp_app
from sagemcp.platform import ConnectorConfig, ConnectorRegistry, MemoryStore, Tenant, UpstreamClient

from ._clients import ACCEPT, HANDSHAKE, auth, call_handshake, open_session, ws_handshake, ws_url
from ._fake_upstream import FakeUpstream
from ._support import ScanningApp, make_probe_connector, new_secret, serve

pytestmark = pytest.mark.asyncio(loop_scope="module")

LIMITS = {
    "max_sessions_per_tenant": 6,
    "max_sessions_per_key": 3,
    "max_streams_per_tenant": 6,
    "max_streams_per_key": 3,
}


@dataclass
class Quotas:
    base: str
    app: McpApp
    keys: dict[str, list[str]]
    http: httpx.AsyncClient
    tenant_ids: dict[str, str]

    def path(self, slug: str, suffix: str = "mcp") -> str:
        return f"{self.base}/{slug}/connectors/probe/{suffix}"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def quotas() -> AsyncIterator[Quotas]:
    probe = make_probe_connector()
    store = MemoryStore()
    async with FakeUpstream() as fake:
        keys: dict[str, list[str]] = {}
        tenant_ids: dict[str, str] = {}
        for slug, count in (("hostile", 3), ("victim", 1)):
            tenant = store.add_tenant(Tenant(slug=slug))
            tenant_ids[slug] = tenant.id
            store.add_connector(
                ConnectorConfig(
                    tenant_id=tenant.id, connector_type="probe", name="probe", configuration={"upstream": fake.url}
                )
            )
            store.put_credential(
                Credential(tenant_id=tenant.id, provider="probe", kind="bearer", access_token=new_secret("at"))
            )
            keys[slug] = [store.create_api_key(tenant.id)[0] for _ in range(count)]
        upstream = UpstreamClient(timeout=5, retry_deadline=5)
        settings = McpSettings(stateful=True, session_idle_timeout=60, stream_idle_timeout=60, **LIMITS)
        app = create_mcp_app(store, ConnectorRegistry([probe]), upstream=upstream, settings=settings)
        async with serve(ScanningApp(app, "quotas")) as base, httpx.AsyncClient(timeout=20) as http:
            yield Quotas(base, app, keys, http, tenant_ids)
        await upstream.aclose()


# -- holding things open -------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def sse(q: Quotas, slug: str, key: str) -> AsyncIterator[int]:
    """A legacy SSE stream held open; yields its status."""
    async with q.http.stream("GET", q.path(slug, "sse"), headers={"Accept": "text/event-stream", **auth(key)}) as r:
        lines = r.aiter_lines()
        if r.status_code == 200:
            async for line in lines:
                if line.startswith("data:"):
                    break
        else:
            await r.aread()
        yield r.status_code


@contextlib.asynccontextmanager
async def ws(q: Quotas, slug: str, key: str) -> AsyncIterator[int]:
    """A WebSocket held open; yields 101 when accepted, else the status it was refused with."""
    try:
        async with websockets.connect(
            ws_url(q.base, f"/{slug}/connectors/probe/ws"), subprotocols=["mcp"], additional_headers=auth(key)
        ) as socket:
            await ws_handshake(socket)
            yield 101
    except websockets.exceptions.InvalidStatus as refused:
        yield refused.response.status_code


@contextlib.asynccontextmanager
async def get_stream(q: Quotas, slug: str, key: str, session: str) -> AsyncIterator[int]:
    headers = {"Accept": "text/event-stream", "Mcp-Session-Id": session, "MCP-Protocol-Version": HANDSHAKE, **auth(key)}
    async with q.http.stream("GET", q.path(slug), headers=headers) as r:
        if r.status_code != 200:
            await r.aread()
        yield r.status_code


async def delete_session(q: Quotas, slug: str, key: str, session: str) -> None:
    headers = {"Mcp-Session-Id": session, "MCP-Protocol-Version": HANDSHAKE, **auth(key)}
    await q.http.delete(q.path(slug), headers=headers)


async def settled(q: Quotas) -> None:
    """Wait until the adapter holds nothing: every stream closed, every session gone."""
    guard = q.app.guard
    with anyio.fail_after(10):
        while guard.streams.total or q.app.open_sessions or guard.sessions.total:
            await anyio.sleep(0.05)
    assert not guard.streams._tenants and not guard.streams._keys, "per-tenant counts leaked"
    assert not guard.sessions._tenants and not guard.sessions._keys, "per-tenant session counts leaked"
    assert all(count == 0 for count in q.app.usage.streams.values())


async def victim_gets_everything(q: Quotas) -> None:
    key = q.keys["victim"][0]
    reply, session = await open_session(q.http, q.path("victim"), key)
    assert reply.status == 200 and session, reply.text
    called = await call_handshake(q.http, q.path("victim"), key, "tools/call", {"name": "probe_whoami"}, session)
    assert called.result["structuredContent"]["tenant"] == "victim", called.text
    async with sse(q, "victim", key) as sse_status, ws(q, "victim", key) as ws_status:
        async with get_stream(q, "victim", key, session) as get_status:
            assert (sse_status, ws_status, get_status) == (200, 101, 200)
    await delete_session(q, "victim", key, session)


# -- the attack -----------------------------------------------------------------------------------------


async def test_a_tenant_exhausting_every_quota_locks_out_no_other_tenant(quotas: Quotas) -> None:
    q = quotas
    refusals: dict[str, int] = {}
    sessions: list[tuple[str, str]] = []
    async with contextlib.AsyncExitStack() as held:
        # Sessions: every key until refused, then more keys until the tenant's quota refuses too.
        for key in q.keys["hostile"]:
            while True:
                headers = {"Accept": ACCEPT, "Content-Type": "application/json", **auth(key)}
                body = {"jsonrpc": "2.0", "id": 0, "method": "initialize"}
                body["params"] = {
                    "protocolVersion": HANDSHAKE,
                    "capabilities": {},
                    "clientInfo": {"name": "hostile", "version": "1"},
                }
                r = await q.http.post(q.path("hostile"), content=json.dumps(body), headers=headers)
                if r.status_code == 429:
                    limit = r.json()["error"]["data"]["limit"]
                    refusals[limit] = refusals.get(limit, 0) + 1
                    assert "Mcp-Session-Id" in r.json()["error"]["message"]
                    break
                assert r.status_code == 200, r.text
                sessions.append((key, r.headers["mcp-session-id"]))
        assert len(sessions) == LIMITS["max_sessions_per_tenant"]
        # Streams: GET streams on those sessions, legacy SSE and WebSockets, each key until refused.
        opened = 0
        for index, key in enumerate(q.keys["hostile"]):
            own = [s for k, s in sessions if k == key]
            for attempt in range(LIMITS["max_streams_per_key"] + 1):
                kind = ("get", "sse", "ws")[(index + attempt) % 3]
                if kind == "get" and own:
                    status = await held.enter_async_context(get_stream(q, "hostile", key, own.pop()))
                elif kind == "ws":
                    status = await held.enter_async_context(ws(q, "hostile", key))
                else:
                    status = await held.enter_async_context(sse(q, "hostile", key))
                if status == 429:
                    refusals["streams"] = refusals.get("streams", 0) + 1
                    break
                assert status in (200, 101), (kind, status)
                opened += 1
        assert opened == LIMITS["max_streams_per_tenant"]
        assert q.app.guard.streams.held(tenant_id=q.tenant_ids["hostile"]) == opened
        assert refusals and set(refusals) <= {"sessions_per_key", "sessions_per_tenant", "streams"}
        # The victim is not affected by any of it.
        await victim_gets_everything(q)
    for key, session in sessions:
        await delete_session(q, "hostile", key, session)
    await settled(q)


# -- exact accounting under churn ----------------------------------------------------------------------------


async def churn(q: Quotas, rng: random.Random) -> None:
    """One client doing something at random, and sometimes going away in the middle of it."""
    key = rng.choice(q.keys["hostile"])
    action = rng.choice(["sse", "sse-abort", "ws", "ws-abort", "session", "session-get", "abandon-get"])
    pause = rng.random() * 0.1
    if action == "sse":
        async with sse(q, "hostile", key):
            await anyio.sleep(pause)
    elif action == "sse-abort":  # the client leaves before the endpoint event
        with anyio.move_on_after(pause / 10):
            async with q.http.stream("GET", q.path("hostile", "sse"), headers=auth(key)) as r:
                await r.aread()
    elif action == "ws":
        async with ws(q, "hostile", key):
            await anyio.sleep(pause)
    elif action == "ws-abort":
        with anyio.move_on_after(pause / 10):
            async with ws(q, "hostile", key):
                await anyio.sleep(1)
    else:
        reply, session = await open_session(q.http, q.path("hostile"), key)
        if session is None:
            assert reply.status == 429, reply.text
            return
        if action in ("session-get", "abandon-get"):
            with anyio.move_on_after(pause):
                async with get_stream(q, "hostile", key, session):
                    await anyio.sleep(1)
        if action != "abandon-get" or rng.random() < 0.5:
            await delete_session(q, "hostile", key, session)
        else:
            # Left open: terminated here as an idle session would be, through the SDK's own path.
            transport = q.app._manager._server_instances.get(session)
            if transport is not None:
                await transport.terminate()


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_quota_accounting_is_exact_under_churn(quotas: Quotas, seed: int) -> None:
    rng = random.Random(seed)
    async with anyio.create_task_group() as tg:
        for _ in range(60):
            tg.start_soon(churn, quotas, random.Random(rng.random()))
    await settled(quotas)
    await victim_gets_everything(quotas)
    await settled(quotas)


# -- idle streams give their room back ---------------------------------------------------------------------------


async def test_idle_streams_give_their_room_back() -> None:
    probe = make_probe_connector()
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="hostile"))
    store.add_connector(ConnectorConfig(tenant_id=tenant.id, connector_type="probe", name="probe"))
    key, _ = store.create_api_key(tenant.id)
    settings = McpSettings(stream_idle_timeout=0.8, max_streams_per_key=4)
    app = create_mcp_app(store, ConnectorRegistry([probe]), settings=settings)
    async with serve(app) as base, httpx.AsyncClient(timeout=10) as http:
        q = Quotas(base, app, {"hostile": [key]}, http, {"hostile": tenant.id})
        async with contextlib.AsyncExitStack() as held:
            for opener in (sse, sse, ws, ws):
                assert await held.enter_async_context(opener(q, "hostile", key)) in (200, 101)
            async with sse(q, "hostile", key) as refused:
                assert refused == 429
            # Nobody says anything: within the idle timeout (and one check interval) the room is free again.
            with anyio.fail_after(5):
                while app.guard.streams.total:
                    await anyio.sleep(0.05)
            async with sse(q, "hostile", key) as again:
                assert again == 200
        assert app.usage.closed["idle"] == 4
        assert app.usage.refused["streams_per_key"] == 1


async def test_per_tenant_counts_never_become_metric_labels() -> None:
    """The usage the metrics read has fixed keys only: transports, limit names and reasons, no tenant."""
    from sagemcp.mcp import CLOSE_REASONS, LIMITS, STREAM_KINDS

    store = MemoryStore()
    app = create_mcp_app(store, ConnectorRegistry([make_probe_connector()]))
    usage: Any = app.usage
    assert set(usage.streams) == set(STREAM_KINDS)
    assert set(usage.refused) == set(LIMITS)
    assert set(usage.closed) == set(CLOSE_REASONS)
