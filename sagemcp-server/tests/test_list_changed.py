"""`notifications/tools/list_changed` from real server processes to the official MCP client over sockets.

Two stateful replicas on one database, cache TTL 1 s: sessions on replica B (Streamable HTTP with a
session, legacy SSE, WebSocket) that listed the tenant's tools are told when an admin on replica A
disables or adds a connector, within the TTL and a little slack; sessions of another tenant are not.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import mcp_types as types
import pytest
import websockets
from conftest import ADMIN_KEY, Database
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from procs import clean_env, free_port, start, stop, wait_ready

pytestmark = pytest.mark.e2e

TTL = 1.0
WITHIN = 3 * TTL + 3.0
"""How long a change on one replica may take to reach the sessions on another (the TTL, re-admission, slack)."""


class Heard:
    """The `tools/list_changed` notifications one client received, with the time of each."""

    def __init__(self) -> None:
        self.at: list[float] = []
        self.event = anyio.Event()

    async def handler(self, message: Any) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            self.at.append(time.monotonic())
            self.event.set()

    async def wait(self, timeout: float) -> bool:
        with anyio.move_on_after(timeout):
            await self.event.wait()
        ready = self.event.is_set()
        self.event = anyio.Event()
        return ready


async def admin(base: str, method: str, path: str, body: Any = None) -> Any:
    async with httpx.AsyncClient(base_url=base, timeout=10, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as h:
        r = await h.request(method, f"/api/v1/admin{path}", json=body)
        assert r.status_code < 300, r.text
        return r.json() if r.content else None


@contextlib.asynccontextmanager
async def replicas(database: Database, tmp_path: Path, secret_key: str) -> AsyncIterator[tuple[str, str]]:
    env = clean_env(
        SAGEMCP_DATABASE_URL=database.url,
        **({"SAGEMCP_DATABASE_SCHEMA": database.schema} if database.schema else {}),
        SAGEMCP_SECRET_KEYS=secret_key,
        SAGEMCP_ADMIN_KEY=ADMIN_KEY,
        SAGEMCP_CACHE_TTL=str(TTL),
        SAGEMCP_MCP_STATEFUL="1",
        SAGEMCP_TEST_FAKE_BASE="http://127.0.0.1:9",
    )
    script = str(Path(__file__).parent / "serve_app.py")
    ports = [free_port(), free_port()]
    procs = [start([script, str(p)], env, tmp_path, f"replica{i}") for i, p in enumerate(ports)]
    try:
        for i, (port, proc) in enumerate(zip(ports, procs, strict=True)):
            wait_ready(port, proc, tmp_path, f"replica{i}")
        yield f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}"
    finally:
        for proc in procs:
            stop(proc)


async def websocket_session(url: str, key: str) -> Any:
    """A raw MCP WebSocket session that initialized and listed the tools."""
    ws = await websockets.connect(url, subprotocols=["mcp"], additional_headers={"Authorization": f"Bearer {key}"})
    init = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "ws-test", "version": "1"}}
    await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init}))
    answer = json.loads(await ws.recv())
    assert answer["result"]["capabilities"]["tools"]["listChanged"] is True
    await ws.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
    await ws.send(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}))
    assert json.loads(await ws.recv())["id"] == 2
    return ws


async def websocket_heard(ws: Any, timeout: float) -> bool:
    with anyio.move_on_after(timeout):
        while True:
            if json.loads(await ws.recv()).get("method") == "notifications/tools/list_changed":
                return True
    return False


async def test_sessions_on_another_replica_hear_that_the_tools_changed(
    database: Database, tmp_path: Path, secret_key: str
) -> None:
    async with replicas(database, tmp_path, secret_key) as (a, b):
        for slug in ("acme", "globex"):
            await admin(a, "POST", "/tenants", {"slug": slug, "name": slug})
            await admin(a, "POST", f"/tenants/{slug}/connectors", {"connector_type": "fake", "name": "fake"})
        keys = {
            slug: (await admin(a, "POST", f"/tenants/{slug}/api-keys", {"name": "k", "scopes": ["mcp"]}))["key"]
            for slug in ("acme", "globex")
        }
        heard = {kind: Heard() for kind in ("streamable", "sse", "websocket", "other-tenant")}

        def streamable(slug: str) -> Callable[[], Any]:
            http = httpx.AsyncClient(headers={"Authorization": f"Bearer {keys[slug]}"}, timeout=30)
            return lambda: streamable_http_client(f"{b}/api/v1/{slug}/mcp", http_client=http)

        clients = {
            "streamable": streamable("acme")(),
            "sse": sse_client(f"{b}/api/v1/acme/sse", headers={"Authorization": f"Bearer {keys['acme']}"}),
            "other-tenant": streamable("globex")(),
        }
        async with contextlib.AsyncExitStack() as stack:
            sessions = {}
            for kind, transport in clients.items():
                client = Client(transport, mode="legacy", message_handler=heard[kind].handler)  # type: ignore[arg-type]
                sessions[kind] = await stack.enter_async_context(client)
                assert (await sessions[kind].list_tools()).tools
            capabilities = sessions["streamable"].server_capabilities
            assert capabilities.tools is not None and capabilities.tools.list_changed is True
            ws = await websocket_session(b.replace("http://", "ws://") + "/api/v1/acme/ws", keys["acme"])
            stack.push_async_callback(ws.close)

            await admin(a, "PATCH", "/tenants/acme/connectors/fake", {"enabled": False})
            for kind in ("streamable", "sse"):
                assert await heard[kind].wait(WITHIN), f"the {kind} session was not told"
            assert await websocket_heard(ws, WITHIN), "the WebSocket session was not told"
            assert (await sessions["streamable"].list_tools()).tools == []

            await admin(a, "POST", "/tenants/acme/connectors", {"connector_type": "fake", "name": "fake-two"})
            assert await heard["streamable"].wait(WITHIN)
            assert [t.name for t in (await sessions["streamable"].list_tools()).tools]
            assert not heard["other-tenant"].at  # globex did not change
