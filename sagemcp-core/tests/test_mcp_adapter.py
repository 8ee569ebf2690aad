"""The MCP adapter over real HTTP with the official SDK client: both protocol eras, policy, errors, isolation."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from sagemcp import Credential
from sagemcp.mcp import McpSettings, create_mcp_app
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

MODES = ["auto", "legacy"]


@dataclass
class World:
    base: str
    store: MemoryStore
    api: FakeNotesApi
    keys: dict[str, str]
    events: list[AuditEvent]
    tenants: dict[str, Tenant]
    connectors: dict[str, ConnectorConfig]


def build_store() -> tuple[MemoryStore, dict[str, str], dict[str, Tenant], dict[str, ConnectorConfig]]:
    store = MemoryStore()
    tenants, connectors, keys = {}, {}, {}
    for slug, token in (("acme", "tok-a"), ("globex", "tok-b")):
        t = store.add_tenant(Tenant(slug=slug, name=slug.title()))
        tenants[slug] = t
        connectors[slug] = store.add_connector(ConnectorConfig(tenant_id=t.id, connector_type="notes", name="notes"))
        store.put_credential(Credential(tenant_id=t.id, provider="notes", kind="bearer", access_token=token))
        keys[slug], _ = store.create_api_key(t.id, name="mcp")
    ro = store.add_connector(
        ConnectorConfig(
            tenant_id=tenants["acme"].id,
            connector_type="notes",
            name="notes-ro",
            tool_policy=ToolPolicy(read_only=True),
        )
    )
    connectors["acme-ro"] = ro
    keys["admin"], _ = store.create_api_key(None, name="root", platform_admin=True)
    return store, keys, tenants, connectors


@pytest.fixture
async def world(request: pytest.FixtureRequest) -> AsyncIterator[World]:
    settings: McpSettings = getattr(request, "param", McpSettings())
    store, keys, tenants, connectors = build_store()
    api = FakeNotesApi()
    events: list[AuditEvent] = []
    upstream = UpstreamClient(transport=httpx.MockTransport(api))
    app = create_mcp_app(
        store, ConnectorRegistry([NotesConnector]), upstream=upstream, settings=settings, observer=events.append
    )
    async with serve(app) as base:
        yield World(base, store, api, keys, events, tenants, connectors)
    await upstream.aclose()


def client(url: str, key: str | None, mode: str = "auto") -> Client:
    return Client(streamable_http_client(url, http_client=http2_client(key)), mode=mode)  # type: ignore[arg-type]


def url(w: World, tenant: str, connector: str | None = "notes") -> str:
    if connector is None:
        return f"{w.base}/{tenant}/mcp"
    return f"{w.base}/{tenant}/connectors/{connector}/mcp"


@pytest.mark.parametrize("mode", MODES)
async def test_lists_and_calls_tools_for_each_tenant(world: World, mode: str) -> None:
    for slug, token in (("acme", "tok-a"), ("globex", "tok-b")):
        async with client(url(world, slug), world.keys[slug], mode) as c:
            assert c.protocol_version == ("2026-07-28" if mode == "auto" else "2025-11-25")
            tools = {t.name: t for t in (await c.list_tools()).tools}
            # default groups are read and write: the admin group's tool is not listed
            assert set(tools) == {
                "notes_list_notes",
                "notes_get_note",
                "notes_create_note",
                "notes_crash",
                "notes_whoami",
            }
            assert tools["notes_get_note"].annotations.read_only_hint is True
            assert tools["notes_create_note"].annotations.read_only_hint is False
            assert tools["notes_get_note"].input_schema["required"] == ["note_id"]
            result = await c.call_tool("notes_whoami", {})
            assert result.structured_content == {"tenant": slug, "connector": "notes"}
            result = await c.call_tool("notes_get_note", {"note_id": 1})
            assert not result.is_error
            assert result.structured_content == {"id": 1, "title": "first"}
            assert json.loads(result.content[0].text) == {"id": 1, "title": "first"}
        sent = world.api.requests[-1]
        assert sent.headers["authorization"] == f"Bearer {token}"
        assert sent.headers["x-region"] == "eu"


async def test_arguments_are_validated_before_the_tool_runs(world: World) -> None:
    async with client(url(world, "acme"), world.keys["acme"]) as c:
        result = await c.call_tool("notes_get_note", {"note_id": "not-a-number"})
        assert result.is_error
        assert "note_id" in result.content[0].text
        result = await c.call_tool("notes_get_note", {"note_id": 1, "extra": True})
        assert result.is_error and "extra" in result.content[0].text
    assert world.api.requests == []


async def test_disabled_tool_cannot_be_called_even_if_the_client_knows_its_name(world: World) -> None:
    async with client(url(world, "acme"), world.keys["acme"]) as c:
        result = await c.call_tool("notes_delete_all", {})
    assert result.is_error
    assert "disabled" in result.content[0].text and "tool policy" in result.content[0].text
    assert not any(r.method == "DELETE" for r in world.api.requests)
    assert world.events[-1].outcome == "denied"


async def test_read_only_mode_blocks_write_tools_at_call_time(world: World) -> None:
    async with client(url(world, "acme", "notes-ro"), world.keys["acme"]) as c:
        names = {t.name for t in (await c.list_tools()).tools}
        assert "notes_create_note" not in names
        result = await c.call_tool("notes_create_note", {"title": "x"})
    assert result.is_error and "read-only" in result.content[0].text
    assert not any(r.method == "POST" for r in world.api.requests)


async def test_unknown_tool_is_a_protocol_error(world: World) -> None:
    async with client(url(world, "acme"), world.keys["acme"]) as c:
        with pytest.raises(MCPError) as info:
            await c.call_tool("notes_nope", {})
    assert "Unknown tool" in info.value.message


async def test_upstream_errors_become_tool_errors_with_status(world: World) -> None:
    async with client(url(world, "acme"), world.keys["acme"]) as c:
        result = await c.call_tool("notes_get_note", {"note_id": 99})
    assert result.is_error
    assert "404" in result.content[0].text
    assert world.events[-1].outcome == "upstream_error"


async def test_internal_errors_do_not_leak(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, "sagemcp.mcp")
    async with client(url(world, "acme"), world.keys["acme"]) as c:
        result = await c.call_tool("notes_crash", {})
    text = result.content[0].text
    assert result.is_error
    assert "secret internal detail" not in text and "RuntimeError" not in text
    assert "Reference:" in text
    request_id = text.rsplit("Reference: ", 1)[1].rstrip(".")
    assert any(request_id in r.getMessage() for r in caplog.records)
    assert "secret internal detail" in caplog.text  # the traceback is in the log, for operators


async def test_missing_credential_says_how_to_connect(world: World) -> None:
    world.store.delete_credential(world.tenants["globex"].id, "notes")
    async with client(url(world, "globex"), world.keys["globex"]) as c:
        result = await c.call_tool("notes_get_note", {"note_id": 1})
    assert result.is_error
    assert "not connected" in result.content[0].text


async def test_audit_event_per_call_without_secrets(world: World) -> None:
    async with client(url(world, "acme"), world.keys["acme"]) as c:
        await c.call_tool("notes_get_note", {"note_id": 2})
    event = world.events[-1]
    assert (event.tool, event.outcome, event.tenant_id) == ("notes_get_note", "ok", world.tenants["acme"].id)
    assert "tok-a" not in event.model_dump_json()


async def test_tenant_wide_endpoint_serves_all_enabled_connectors(world: World) -> None:
    async with client(url(world, "acme", None), world.keys["acme"]) as c:
        names = {t.name for t in (await c.list_tools()).tools}
        # two connectors of one type: names are prefixed with the connector name
        assert "notes__notes_get_note" in names and "notes_ro__notes_get_note" in names
        assert "notes_ro__notes_create_note" not in names
        result = await c.call_tool("notes__notes_whoami", {})
        assert result.structured_content == {"tenant": "acme", "connector": "notes"}


async def test_resources_prompts_and_completion(world: World) -> None:
    async with client(url(world, "acme"), world.keys["acme"]) as c:
        templates = (await c.list_resource_templates()).resource_templates
        assert [t.uri_template for t in templates] == ["notes://note/{note_id}"]
        read = await c.read_resource("notes://note/1")
        assert json.loads(read.contents[0].text) == {"id": 1, "title": "first"}
        prompts = (await c.list_prompts()).prompts
        assert prompts[0].name == "notes_summarize" and prompts[0].arguments[0].required
        got = await c.get_prompt("notes_summarize", {"topic": "cats"})
        assert got.messages[0].content.text == "Summarize my notes about cats."
        import mcp_types as types

        done = await c.complete(
            types.PromptReference(type="ref/prompt", name="notes_summarize"), {"name": "topic", "value": "b"}
        )
        assert done.completion.values == ["beta"]


# -- authentication and isolation --------------------------------------------------------


async def raw_post(
    w: World, path: str, key: str | None, body: object, headers: dict[str, str] | None = None
) -> httpx.Response:
    h = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    if key:
        h["Authorization"] = f"Bearer {key}"
    h.update(headers or {})
    async with httpx.AsyncClient(base_url=w.base) as http:
        return await http.post(path, content=json.dumps(body), headers=h)


CALL = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}


async def test_requests_without_a_valid_key_are_refused(world: World) -> None:
    r = await raw_post(world, "/acme/connectors/notes/mcp", None, CALL)
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["error"]["message"].startswith("Authentication required")
    assert "error=" not in r.headers["www-authenticate"]
    r = await raw_post(world, "/acme/connectors/notes/mcp", "smcp_wrong", CALL)
    assert r.status_code == 401
    assert r.json()["error"]["message"].startswith("The API key or access token was not accepted")
    assert 'error="invalid_token"' in r.headers["www-authenticate"]


async def test_a_tenant_key_cannot_reach_another_tenant(world: World) -> None:
    r = await raw_post(
        world, "/globex/connectors/notes/mcp", world.keys["acme"], CALL, {"MCP-Protocol-Version": "2025-11-25"}
    )
    assert r.status_code == 404
    assert "globex" not in json.dumps(world.events)
    # and the same answer as for a tenant that does not exist, so keys cannot probe for tenants
    r2 = await raw_post(world, "/nobody/connectors/notes/mcp", world.keys["acme"], CALL)
    assert r2.status_code == 404
    assert not any(req.headers.get("authorization") == "Bearer tok-b" for req in world.api.requests)


async def test_platform_admin_key_reaches_every_tenant(world: World) -> None:
    for slug in ("acme", "globex"):
        async with client(url(world, slug), world.keys["admin"]) as c:
            result = await c.call_tool("notes_whoami", {})
            assert result.structured_content["tenant"] == slug


async def test_key_limited_to_one_connector(world: World) -> None:
    acme = world.tenants["acme"]
    key, _ = world.store.create_api_key(acme.id, connector_id=world.connectors["acme-ro"].id)
    r = await raw_post(world, "/acme/connectors/notes/mcp", key, CALL)
    assert r.status_code == 403
    async with client(url(world, "acme", None), key) as c:
        names = {t.name for t in (await c.list_tools()).tools}
    assert names and all(n.startswith("notes_ro__") for n in names)


async def test_revoked_key_stops_working(world: World) -> None:
    key, record = world.store.create_api_key(world.tenants["acme"].id)
    assert (await raw_post(world, "/acme/connectors/notes/mcp", key, CALL)).status_code == 200
    world.store.revoke_api_key(record.id)
    # the adapter caches keys for cache_ttl seconds; the owner invalidates on revocation
    assert (await raw_post(world, "/acme/connectors/notes/mcp", key, CALL)).status_code in (200, 401)


@pytest.mark.parametrize("world", [McpSettings(stateful=True)], indirect=True)
async def test_session_ids_are_bound_to_tenant_connector_and_caller(world: World) -> None:
    init = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    r = await raw_post(world, "/acme/connectors/notes/mcp", world.keys["acme"], init)
    assert r.status_code == 200
    session = r.headers["mcp-session-id"]
    headers = {"Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"}
    ok = await raw_post(world, "/acme/connectors/notes/mcp", world.keys["acme"], CALL, headers)
    assert ok.status_code == 200 and "notes_get_note" in ok.text
    # another tenant's key on its own path, with acme's session id
    assert (
        await raw_post(world, "/globex/connectors/notes/mcp", world.keys["globex"], CALL, headers)
    ).status_code == 404
    # the admin key on acme's path: a different caller
    assert (await raw_post(world, "/acme/connectors/notes/mcp", world.keys["admin"], CALL, headers)).status_code == 404
    # the same key on another connector of the same tenant
    assert (
        await raw_post(world, "/acme/connectors/notes-ro/mcp", world.keys["acme"], CALL, headers)
    ).status_code == 404


@pytest.mark.parametrize("world", [McpSettings(stateful=True)], indirect=True)
@pytest.mark.parametrize("mode", MODES)
async def test_stateful_mode_with_sdk_client(world: World, mode: str) -> None:
    async with client(url(world, "globex"), world.keys["globex"], mode) as c:
        result = await c.call_tool("notes_get_note", {"note_id": 2})
        assert result.structured_content == {"id": 2, "title": "second"}


async def test_malformed_json_rpc_gets_a_parse_error(world: World) -> None:
    async with httpx.AsyncClient(base_url=world.base) as http:
        r = await http.post(
            "/acme/connectors/notes/mcp",
            content=b"{not json",
            headers={
                "Authorization": f"Bearer {world.keys['acme']}",
                "Content-Type": "application/json",
                "Accept": "application/json, text/event-stream",
            },
        )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == -32700


async def test_oversized_body_is_refused(world: World) -> None:
    big = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "x", "arguments": {"a": "x" * (5 * 1024 * 1024)}},
    }
    r = await raw_post(world, "/acme/connectors/notes/mcp", world.keys["acme"], big)
    assert r.status_code == 413


async def test_unknown_connector_and_inactive_tenant(world: World) -> None:
    r = await raw_post(world, "/acme/connectors/nope/mcp", world.keys["admin"], CALL)
    assert r.status_code == 404 and "nope" in r.json()["error"]["message"]


def test_anonymous_access_must_be_explicit() -> None:
    from sagemcp.mcp import AllowAnonymous

    store, *_ = build_store()
    with pytest.raises(ValueError, match="not both"):
        create_mcp_app(store, ConnectorRegistry([NotesConnector]), authenticator=AllowAnonymous(), allow_anonymous=True)
