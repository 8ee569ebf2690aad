"""Discovery mode over real HTTP with the official SDK client: the meta-tools in place of the catalogue,
pinned tools, per-key choice, and calls through `call_tool` meeting exactly the pipeline of direct calls."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from sagemcp import Credential
from sagemcp.mcp import ApiKeyAuthenticator, ChainAuthenticator, McpApp, McpSettings, create_mcp_app
from sagemcp.platform import (
    AuditEvent,
    ConnectorConfig,
    ConnectorRegistry,
    MemoryStore,
    Tenant,
    ToolPolicy,
    UpstreamClient,
)

from ._support import FakeNotesApi, NotesConnector, http2_client, serve
from .test_per_user import MemberTokens, connect_url, files_connector

META = ["search_tools", "describe_tool", "call_tool"]


@dataclass
class World:
    base: str
    store: MemoryStore
    tenant: Tenant
    app: McpApp
    api: FakeNotesApi
    events: list[AuditEvent]
    keys: dict[str, str]
    notes: ConnectorConfig


@pytest.fixture
async def world() -> AsyncIterator[World]:
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme", discovery=True, pinned_tools=["notes_whoami", "notes_delete_all"]))
    other = store.add_tenant(Tenant(slug="globex", discovery=True))
    notes = store.add_connector(
        ConnectorConfig(tenant_id=tenant.id, connector_type="notes", name="notes", tool_policy=ToolPolicy())
    )
    store.add_connector(
        ConnectorConfig(tenant_id=tenant.id, connector_type="files", name="mine", connection_mode="per_user")
    )
    store.add_connector(ConnectorConfig(tenant_id=other.id, connector_type="notes", name="secret-notes"))
    store.put_credential(Credential(tenant_id=tenant.id, provider="notes", kind="bearer", access_token="tok-a"))
    keys = {
        "tenant": store.create_api_key(tenant.id, name="default")[0],
        "full": store.create_api_key(tenant.id, name="full", discovery=False)[0],
        "meta": store.create_api_key(tenant.id, name="meta", discovery=True)[0],
        "globex": store.create_api_key(other.id, name="g")[0],
    }
    api = FakeNotesApi()
    events: list[AuditEvent] = []
    upstream = UpstreamClient(transport=httpx.MockTransport(api))
    registry = ConnectorRegistry([NotesConnector, files_connector("http://127.0.0.1:9")])
    app = create_mcp_app(
        store,
        registry,
        authenticator=ChainAuthenticator([MemberTokens(tenant.id), ApiKeyAuthenticator(store)]),
        upstream=upstream,
        settings=McpSettings(connect_url=connect_url),
        observer=events.append,
    )
    async with serve(app) as base:
        yield World(base, store, tenant, app, api, events, keys, notes)
    await upstream.aclose()


def client(world: World, token: str, path: str = "/acme/mcp", mode: str = "legacy") -> Client:
    transport = streamable_http_client(f"{world.base}{path}", http_client=http2_client(token))
    return Client(transport, mode=mode)  # type: ignore[arg-type]


def payload(result: types.CallToolResult) -> Any:
    assert not result.is_error, result.content
    block = result.content[0]
    assert isinstance(block, types.TextContent)
    return json.loads(block.text)


def error_text(result: types.CallToolResult) -> str:
    assert result.is_error
    return "\n".join(b.text for b in result.content if isinstance(b, types.TextContent))


async def names(c: Client) -> list[str]:
    return [t.name for t in (await c.list_tools()).tools]


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_the_tenant_wide_endpoint_lists_meta_tools_and_enabled_pins(world: World, mode: str) -> None:
    async with client(world, world.keys["tenant"], mode=mode) as c:
        # notes_delete_all is pinned but not enabled by the default policy: it is left out
        assert await names(c) == [*META, "notes_whoami"]
    async with client(world, world.keys["full"], mode=mode) as c:  # a key that chose the full catalogue
        full = await names(c)
    assert "search_tools" not in full and "notes_list_notes" in full and "files_whoami" in full
    async with client(world, world.keys["tenant"], "/acme/connectors/notes/mcp", mode) as c:
        assert "search_tools" not in await names(c)  # discovery is for the tenant-wide endpoint


async def test_search_describe_and_call_a_tool(world: World) -> None:
    async with client(world, world.keys["tenant"]) as c:
        found = payload(await c.call_tool("search_tools", {"query": "list my notes", "limit": 3}))["tools"]
        assert found[0] == {
            "name": "notes_list_notes",
            "description": "List the tenant's notes, newest first.",
            "read_only": True,
        }
        assert len(found) <= 3
        described = payload(await c.call_tool("describe_tool", {"name": "notes_list_notes"}))
        assert described["inputSchema"]["properties"]["limit"]["maximum"] == 50
        assert described["annotations"]["readOnlyHint"] is True
        result = await c.call_tool("call_tool", {"name": "notes_list_notes", "arguments": {"limit": 2}})
        assert not result.is_error
        assert result.structured_content == {"items": [{"id": 1, "title": "first"}, {"id": 2, "title": "second"}]}
    sent = world.api.requests[-1]
    assert sent.url.path == "/notes" and sent.url.params["limit"] == "2"
    assert sent.headers["authorization"] == "Bearer tok-a"
    event = world.events[-1]
    assert (event.tool, event.outcome, event.connector_id) == ("notes_list_notes", "ok", world.notes.id)


async def test_search_filters_by_connector_and_group_and_says_what_exists(world: World) -> None:
    async with client(world, world.keys["tenant"]) as c:
        only_files = payload(await c.call_tool("search_tools", {"query": "whoami", "connector": "mine"}))
        assert [t["name"] for t in only_files["tools"]] == ["files_whoami"]
        by_type = payload(await c.call_tool("search_tools", {"query": "whoami", "connector": "notes"}))
        assert [t["name"] for t in by_type["tools"]] == ["notes_whoami"]
        wrong = await c.call_tool("search_tools", {"query": "notes", "connector": "jira"})
        assert "No connector 'jira' here. Connectors: files, mine, notes." in error_text(wrong)
        wrong = await c.call_tool("search_tools", {"query": "notes", "group": "nope"})
        assert "No tool group 'nope' here. Groups: read, write." in error_text(wrong)
        bad = await c.call_tool("search_tools", {"query": ""})
        assert "Invalid arguments for search_tools" in error_text(bad) and "query" in error_text(bad)


async def test_disabled_tools_cannot_be_found_described_or_called(world: World) -> None:
    policy = ToolPolicy(read_only=True, exclude_tools=["notes_whoami"])
    world.store.add_connector(world.notes.model_copy(update={"tool_policy": policy}))
    world.app.resolver.invalidate("acme")
    async with client(world, world.keys["tenant"]) as c:
        assert await names(c) == META  # the pinned notes_whoami is now excluded
        found = payload(await c.call_tool("search_tools", {"query": "create a note", "limit": 25}))["tools"]
        assert "notes_create_note" not in [t["name"] for t in found]  # read-only mode: a write tool
        assert "notes_whoami" not in [t["name"] for t in found]  # excluded by name
        for name in ("notes_create_note", "notes_whoami", "notes_delete_all", "secret-notes_list_notes"):
            described = await c.call_tool("describe_tool", {"name": name})
            assert f"Unknown tool: {name!r}" in error_text(described)
            called = await c.call_tool("call_tool", {"name": name, "arguments": {"title": "x"}})
            assert f"Unknown tool: {name!r}" in error_text(called)
    assert all(r.method == "GET" for r in world.api.requests)  # nothing was created upstream
    assert world.events == []


async def test_a_member_without_a_connection_is_told_to_connect_through_call_tool(world: World) -> None:
    async with client(world, "token-alice") as c:
        direct = await c.call_tool("files_whoami", {})
        through = await c.call_tool("call_tool", {"name": "files_whoami"})
    assert error_text(through) == error_text(direct)
    assert "https://sagemcp.example/connect/acme/mine" in error_text(through)
    direct_event, through_event = world.events
    assert (through_event.tool, through_event.user_id) == ("files_whoami", "alice")
    assert (through_event.outcome, through_event.error_code) == (direct_event.outcome, direct_event.error_code)
    async with client(world, world.keys["tenant"]) as c:
        refused = await c.call_tool("call_tool", {"name": "files_whoami"})
    assert "acts for no member" in error_text(refused)  # a tenant API key on a per_user connector


async def test_arguments_are_validated_like_a_direct_call(world: World) -> None:
    async with client(world, world.keys["tenant"]) as c:
        through = await c.call_tool("call_tool", {"name": "notes_list_notes", "arguments": {"limit": 99}})
        assert through.is_error and "limit" in error_text(through)
        missing = await c.call_tool("call_tool", {"arguments": {}})
        assert "Invalid arguments for call_tool" in error_text(missing)
    assert [(e.tool, e.outcome) for e in world.events] == [("notes_list_notes", "invalid")]


async def test_a_tenant_search_never_returns_another_tenants_tools(world: World) -> None:
    async with client(world, world.keys["globex"], "/globex/mcp") as c:
        found = payload(await c.call_tool("search_tools", {"query": "whoami notes files list", "limit": 25}))["tools"]
        assert found and {t["name"] for t in found} <= {t.name for t in NotesConnector.enabled_tools(ToolPolicy())}
        assert not any(t["name"].startswith("files_") for t in found)  # acme's per-user connector
        leaked = await c.call_tool("describe_tool", {"name": "files_whoami"})
        assert "Unknown tool" in error_text(leaked)


# -- a connector's own endpoint ------------------------------------------------------------------------


def connector_discovery(world: World, pins: list[str], **changes: Any) -> ConnectorConfig:
    """Turn discovery mode on for the notes connector's own endpoint with `pins`, as the store keeps it."""
    cfg = world.store.add_connector(world.notes.model_copy(update={"discovery": True, "pinned_tools": pins, **changes}))
    world.app.resolver.invalidate("acme")
    return cfg


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_connector_endpoint_lists_meta_tools_and_its_own_pins(world: World, mode: str) -> None:
    notes_path, files_path = "/acme/connectors/notes/mcp", "/acme/connectors/mine/mcp"
    connector_discovery(world, ["notes_list_notes", "notes_delete_all"])
    async with client(world, world.keys["tenant"], notes_path, mode) as c:
        # the connector's own pins, unprefixed; notes_delete_all is pinned but not enabled by the policy
        assert await names(c) == [*META, "notes_list_notes"]
    async with client(world, world.keys["tenant"], files_path, mode) as c:
        assert await names(c) == ["files_whoami"]  # another connector of the tenant, discovery off
    async with client(world, world.keys["tenant"], mode=mode) as c:
        assert await names(c) == [*META, "notes_whoami"]  # the tenant-wide endpoint keeps the tenant's pins
    # a key's own choice wins both ways
    async with client(world, world.keys["full"], notes_path, mode) as c:
        full = await names(c)
    assert full == [t.name for t in NotesConnector.enabled_tools(ToolPolicy())] and "search_tools" not in full
    async with client(world, world.keys["meta"], files_path, mode) as c:
        assert await names(c) == META  # discovery off for the connector, on for the key; no pins
    world.store.add_connector(world.notes.model_copy(update={"discovery": False, "pinned_tools": []}))
    world.app.resolver.invalidate("acme")
    async with client(world, world.keys["tenant"], notes_path, mode) as c:
        assert "search_tools" not in await names(c) and "notes_list_notes" in await names(c)


async def test_the_meta_tools_of_a_connector_endpoint_reach_only_its_tools(world: World) -> None:
    connector_discovery(world, [])
    async with client(world, world.keys["tenant"], "/acme/connectors/notes/mcp") as c:
        found = payload(await c.call_tool("search_tools", {"query": "whoami notes files list", "limit": 25}))
        served = {t.name for t in NotesConnector.enabled_tools(ToolPolicy())}
        assert found["tools"] and {t["name"] for t in found["tools"]} <= served  # never the files connector's
        by_name = payload(await c.call_tool("search_tools", {"query": "whoami", "connector": "notes"}))
        assert [t["name"] for t in by_name["tools"]] == ["notes_whoami"]
        other = await c.call_tool("search_tools", {"query": "whoami", "connector": "mine"})
        assert "No connector 'mine' here. Connectors: notes." in error_text(other)
        for name in ("files_whoami", "search_tools"):
            assert f"Unknown tool: {name!r}" in error_text(await c.call_tool("describe_tool", {"name": name}))
            assert f"Unknown tool: {name!r}" in error_text(await c.call_tool("call_tool", {"name": name}))
        result = await c.call_tool("call_tool", {"name": "notes_list_notes", "arguments": {"limit": 1}})
        assert result.structured_content == {"items": [{"id": 1, "title": "first"}, {"id": 2, "title": "second"}]}
        direct = await c.call_tool("notes_whoami", {})  # tools can still be called by their names
        assert not direct.is_error
    sent = world.api.requests[0]
    assert (sent.url.path, sent.url.params["limit"], sent.headers["authorization"]) == ("/notes", "1", "Bearer tok-a")
    assert [(e.tool, e.outcome, e.connector_id) for e in world.events] == [
        ("notes_list_notes", "ok", world.notes.id),
        ("notes_whoami", "ok", world.notes.id),
    ]


async def test_disabled_tools_are_unreachable_on_a_connector_endpoint(world: World) -> None:
    policy = ToolPolicy(read_only=True, exclude_tools=["notes_whoami"])
    connector_discovery(world, ["notes_whoami"], tool_policy=policy)
    async with client(world, world.keys["tenant"], "/acme/connectors/notes/mcp") as c:
        assert await names(c) == META  # the pinned notes_whoami is excluded by the policy
        found = payload(await c.call_tool("search_tools", {"query": "create a note whoami", "limit": 25}))["tools"]
        assert not {"notes_create_note", "notes_whoami", "notes_delete_all"} & {t["name"] for t in found}
        for name in ("notes_create_note", "notes_whoami", "notes_delete_all"):
            described = await c.call_tool("describe_tool", {"name": name})
            assert f"Unknown tool: {name!r}" in error_text(described)
            called = await c.call_tool("call_tool", {"name": name, "arguments": {"title": "x"}})
            assert f"Unknown tool: {name!r}" in error_text(called)
    assert world.api.requests == [] and world.events == []


async def test_a_connector_endpoint_serves_unprefixed_names_when_its_type_is_there_twice(world: World) -> None:
    work = world.store.add_connector(
        ConnectorConfig(
            tenant_id=world.tenant.id,
            connector_type="notes",
            name="work",
            discovery=True,
            pinned_tools=["notes_whoami"],
        )
    )
    world.app.resolver.invalidate("acme")
    async with client(world, world.keys["full"]) as c:
        assert "work__notes_whoami" in await names(c)  # tenant-wide: prefixed, the type is there twice
    async with client(world, world.keys["tenant"], "/acme/connectors/work/mcp") as c:
        assert await names(c) == [*META, "notes_whoami"]
        found = payload(await c.call_tool("search_tools", {"query": "list notes"}))["tools"]
        assert found[0]["name"] == "notes_list_notes"
        assert not error_text_or_none(await c.call_tool("call_tool", {"name": "notes_whoami"}))
        wide = await c.call_tool("call_tool", {"name": "work__notes_whoami"})
        assert "Unknown tool: 'work__notes_whoami'" in error_text(wide)
    assert [(e.tool, e.connector_id) for e in world.events] == [("notes_whoami", work.id)]


async def test_a_member_is_told_to_connect_through_call_tool_on_a_connector_endpoint(world: World) -> None:
    files = next(c for c in await world.store.list_connectors(world.tenant.id) if c.name == "mine")
    world.store.add_connector(files.model_copy(update={"discovery": True}))
    world.app.resolver.invalidate("acme")
    async with client(world, "token-alice", "/acme/connectors/mine/mcp") as c:
        assert await names(c) == META
        through = await c.call_tool("call_tool", {"name": "files_whoami"})
    assert "https://sagemcp.example/connect/acme/mine" in error_text(through)
    assert [(e.tool, e.user_id, e.connector_id) for e in world.events] == [("files_whoami", "alice", files.id)]


def error_text_or_none(result: types.CallToolResult) -> str | None:
    return error_text(result) if result.is_error else None
