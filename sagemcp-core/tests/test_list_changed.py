"""`notifications/tools/list_changed` to the stateful sessions that listed a tenant's tools, in one process."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from sagemcp.mcp import McpApp, McpSettings, create_mcp_app
from sagemcp.platform import ConnectorConfig, ConnectorRegistry, MemoryStore, Tenant, ToolPolicy

from ._support import NotesConnector, http2_client, serve


class Heard:
    def __init__(self) -> None:
        self.count = 0
        self.event = anyio.Event()

    async def handler(self, message: Any) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            self.count += 1
            self.event.set()

    async def wait(self, timeout: float = 5.0) -> bool:
        with anyio.move_on_after(timeout):
            await self.event.wait()
        told, self.event = self.event.is_set(), anyio.Event()
        return told


@pytest.fixture
async def world() -> AsyncIterator[tuple[str, MemoryStore, McpApp, ConnectorConfig, dict[str, str]]]:
    store = MemoryStore()
    acme = store.add_tenant(Tenant(slug="acme"))
    globex = store.add_tenant(Tenant(slug="globex"))
    notes = store.add_connector(ConnectorConfig(tenant_id=acme.id, connector_type="notes", name="notes"))
    store.add_connector(ConnectorConfig(tenant_id=globex.id, connector_type="notes", name="notes"))
    keys = {"acme": store.create_api_key(acme.id)[0], "globex": store.create_api_key(globex.id)[0]}
    app = create_mcp_app(store, ConnectorRegistry([NotesConnector]), settings=McpSettings(stateful=True))
    async with serve(app) as base:
        yield base, store, app, notes, keys


async def test_sessions_that_listed_tools_hear_a_policy_edit(world: Any) -> None:
    base, store, app, notes, keys = world
    heard = {"streamable": Heard(), "sse": Heard(), "globex": Heard(), "unlisted": Heard()}
    transports = {
        "streamable": streamable_http_client(f"{base}/acme/mcp", http_client=http2_client(keys["acme"])),
        "sse": sse_client(f"{base}/acme/sse", headers={"Authorization": f"Bearer {keys['acme']}"}),
        "globex": streamable_http_client(f"{base}/globex/mcp", http_client=http2_client(keys["globex"])),
        "unlisted": streamable_http_client(f"{base}/acme/mcp", http_client=http2_client(keys["acme"])),
    }
    clients = {k: Client(t, mode="legacy", message_handler=heard[k].handler) for k, t in transports.items()}  # type: ignore[arg-type]
    async with clients["streamable"] as a, clients["sse"] as b, clients["globex"] as g, clients["unlisted"]:
        caps = a.server_capabilities.tools
        assert caps is not None and caps.list_changed is True
        for c in (a, b, g):
            await c.list_tools()
        started = time.monotonic()
        store.add_connector(notes.model_copy(update={"tool_policy": ToolPolicy(read_only=True)}))
        app.resolver.invalidate("acme")
        assert await heard["streamable"].wait() and await heard["sse"].wait()
        assert time.monotonic() - started < 3
        assert "notes_create_note" not in [t.name for t in (await a.list_tools()).tools]
        await anyio.sleep(0.3)
        assert heard["globex"].count == 0 and heard["unlisted"].count == 0  # another tenant; never listed
        # nothing served changed: no notification
        store.add_connector(
            notes.model_copy(update={"description": "new words", "tool_policy": ToolPolicy(read_only=True)})
        )
        app.resolver.invalidate("acme")
        await a.list_tools()
        assert not await heard["streamable"].wait(0.5)


async def test_a_connector_endpoints_discovery_setting_and_pins_are_changes_heard(world: Any) -> None:
    base, store, app, notes, keys = world
    heard = Heard()
    transport = streamable_http_client(f"{base}/acme/connectors/notes/mcp", http_client=http2_client(keys["acme"]))
    async with Client(transport, mode="legacy", message_handler=heard.handler) as c:  # type: ignore[arg-type]
        assert "search_tools" not in [t.name for t in (await c.list_tools()).tools]
        notes = store.add_connector(notes.model_copy(update={"discovery": True}))
        app.resolver.invalidate("acme")
        assert await heard.wait()
        assert [t.name for t in (await c.list_tools()).tools] == ["search_tools", "describe_tool", "call_tool"]
        store.add_connector(notes.model_copy(update={"pinned_tools": ["notes_whoami"]}))
        app.resolver.invalidate("acme")
        assert await heard.wait()
        assert [t.name for t in (await c.list_tools()).tools][-1] == "notes_whoami"
    assert heard.count == 2
