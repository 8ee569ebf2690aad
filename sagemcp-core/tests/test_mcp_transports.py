"""Legacy HTTP+SSE and WebSocket transports: same tools, same policy, same isolation."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets
from mcp import Client
from mcp.client.sse import sse_client

from sagemcp.mcp import McpSettings, create_mcp_app
from sagemcp.platform import ConnectorRegistry, UpstreamClient

from ._support import FakeNotesApi, NotesConnector, serve
from .test_mcp_adapter import World, build_store


@pytest.fixture
async def world() -> AsyncIterator[World]:
    store, keys, tenants, connectors = build_store()
    api = FakeNotesApi()
    upstream = UpstreamClient(transport=httpx.MockTransport(api))
    app = create_mcp_app(store, ConnectorRegistry([NotesConnector]), upstream=upstream, settings=McpSettings())
    async with serve(app) as base:
        yield World(base, store, api, keys, [], tenants, connectors)
    await upstream.aclose()


async def test_legacy_sse_serves_tools(world: World) -> None:
    headers = {"Authorization": f"Bearer {world.keys['acme']}"}
    transport = sse_client(f"{world.base}/acme/connectors/notes/sse", headers=headers)
    async with Client(transport, mode="legacy") as c:  # type: ignore[arg-type]
        names = {t.name for t in (await c.list_tools()).tools}
        assert "notes_get_note" in names
        result = await c.call_tool("notes_get_note", {"note_id": 1})
        assert result.structured_content == {"id": 1, "title": "first"}
        denied = await c.call_tool("notes_delete_all", {})
        assert denied.is_error


async def test_legacy_sse_under_a_mount_announces_a_reachable_endpoint() -> None:
    """Embedded under a prefix (as the reference server mounts it at /api/v1), the endpoint the SSE stream
    announces carries the prefix once, and the official client talks to it."""
    from contextlib import asynccontextmanager

    from starlette.applications import Starlette
    from starlette.routing import Mount

    store, keys, _, _ = build_store()
    upstream = UpstreamClient(transport=httpx.MockTransport(FakeNotesApi()))
    mcp_app = create_mcp_app(store, ConnectorRegistry([NotesConnector]), upstream=upstream, settings=McpSettings())

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with mcp_app.lifespan():
            yield

    host = Starlette(routes=[Mount("/api/v1", app=mcp_app)], lifespan=lifespan)
    headers = {"Authorization": f"Bearer {keys['acme']}"}
    async with serve(host) as base:
        async with httpx.AsyncClient(base_url=base, headers=headers) as http:
            async with http.stream("GET", "/api/v1/acme/connectors/notes/sse") as stream:
                assert stream.status_code == 200
                endpoint = ""
                async for line in stream.aiter_lines():
                    if line.startswith("data:"):
                        endpoint = line.removeprefix("data:").strip()
                        break
        assert httpx.URL(endpoint).path == "/api/v1/acme/connectors/notes/messages/"
        transport = sse_client(f"{base}/api/v1/acme/connectors/notes/sse", headers=headers)
        async with Client(transport, mode="legacy") as c:  # type: ignore[arg-type]
            result = await c.call_tool("notes_get_note", {"note_id": 1})
            assert result.structured_content == {"id": 1, "title": "first"}
    await upstream.aclose()


async def test_legacy_sse_refuses_wrong_tenant_key(world: World) -> None:
    async with httpx.AsyncClient(base_url=world.base) as http:
        r = await http.get("/globex/connectors/notes/sse", headers={"Authorization": f"Bearer {world.keys['acme']}"})
    assert r.status_code == 404


async def _ws_exchange(ws: Any, message: dict[str, Any]) -> dict[str, Any]:
    await ws.send(json.dumps(message))
    while True:
        reply = json.loads(await ws.recv())
        if reply.get("id") == message.get("id"):
            return reply


INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "ws-test", "version": "1"}},
}


async def test_websocket_serves_tools_one_message_per_frame(world: World) -> None:
    ws_url = world.base.replace("http://", "ws://") + "/acme/connectors/notes/ws"
    headers = {"Authorization": f"Bearer {world.keys['acme']}"}
    async with websockets.connect(ws_url, subprotocols=["mcp"], additional_headers=headers) as ws:
        assert ws.subprotocol == "mcp"
        init = await _ws_exchange(ws, INIT)
        assert init["result"]["protocolVersion"] == "2025-11-25"
        await ws.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        listed = await _ws_exchange(ws, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        assert "notes_get_note" in {t["name"] for t in listed["result"]["tools"]}
        called = await _ws_exchange(
            ws,
            {
                "jsonrpc": "2.0",
                "id": 3,
                "method": "tools/call",
                "params": {"name": "notes_get_note", "arguments": {"note_id": 2}},
            },
        )
        assert called["result"]["structuredContent"] == {"id": 2, "title": "second"}
        await ws.send("{broken")
        error = json.loads(await ws.recv())
        assert error["error"]["code"] == -32700
        await ws.send(json.dumps([INIT]))
        error = json.loads(await ws.recv())
        assert error["error"]["code"] == -32600
        # the connection survives bad frames
        again = await _ws_exchange(ws, {"jsonrpc": "2.0", "id": 4, "method": "ping"})
        assert again["result"] == {}


async def test_websocket_refuses_unauthenticated_and_wrong_tenant(world: World) -> None:
    ws_url = world.base.replace("http://", "ws://")
    with pytest.raises(websockets.exceptions.InvalidStatus) as no_key:
        async with websockets.connect(ws_url + "/acme/connectors/notes/ws", subprotocols=["mcp"]) as ws:
            await ws.recv()
    assert no_key.value.response.status_code == 403
    headers = {"Authorization": f"Bearer {world.keys['acme']}"}
    with pytest.raises(websockets.exceptions.InvalidStatus):
        async with websockets.connect(
            ws_url + "/globex/connectors/notes/ws", subprotocols=["mcp"], additional_headers=headers
        ) as ws:
            await ws.recv()
    assert not any(r.headers.get("authorization") == "Bearer tok-b" for r in world.api.requests)


async def test_dns_rebinding_protection_when_configured() -> None:
    store, keys, *_ = build_store()
    upstream = UpstreamClient(transport=httpx.MockTransport(FakeNotesApi()))
    from ._support import free_port

    port = free_port()
    app = create_mcp_app(
        store, ConnectorRegistry([NotesConnector]), upstream=upstream, settings=McpSettings.for_local_bind(port)
    )
    async with serve(app, port) as base:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        headers = {
            "Authorization": f"Bearer {keys['acme']}",
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
        }
        async with httpx.AsyncClient(base_url=base) as http:
            ok = await http.post("/acme/connectors/notes/mcp", content=body, headers=headers)
            evil = await http.post(
                "/acme/connectors/notes/mcp", content=body, headers={**headers, "Host": "evil.example"}
            )
            evil_origin = await http.post(
                "/acme/connectors/notes/mcp", content=body, headers={**headers, "Origin": "http://evil.example"}
            )
    assert ok.status_code == 200
    assert evil.status_code == 421
    assert evil_origin.status_code == 403
    await upstream.aclose()
