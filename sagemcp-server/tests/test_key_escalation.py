"""API keys never create keys with more rights than their own, and a key limited to one connector never manages
its tenant; a wrong or revoked key is told apart from a missing one."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from conftest import Server, mcp_call

from sagemcp_server.cli import main


def error(r: httpx.Response) -> tuple[int, str]:
    return r.status_code, r.json()["error"]["code"]


async def create(client: httpx.AsyncClient, slug: str, **body: Any) -> httpx.Response:
    return await client.post(f"/api/v1/admin/tenants/{slug}/api-keys", json=body)


async def test_a_key_gives_only_scopes_it_has(server: Server) -> None:
    """Regression: a tenant key with the `admin` scope alone minted keys with `mcp` (and keys of any scope)."""
    await server.tenant("acme")
    admin_only = await server.key("acme", ["admin"])
    both = await server.key("acme", ["admin", "mcp"])
    async with server.client(admin_only) as client:
        assert error(await create(client, "acme", scopes=["mcp"])) == (403, "scope_escalation")
        assert error(await create(client, "acme", scopes=["admin", "mcp"])) == (403, "scope_escalation")
        assert error(await create(client, "acme")) == (403, "scope_escalation")  # the default scope is `mcp`
        r = await create(client, "acme", scopes=["admin"])
        assert r.status_code == 201 and r.json()["scopes"] == ["admin"]
    async with server.client(both) as client:
        r = await create(client, "acme", scopes=["admin", "mcp"])
        assert r.status_code == 201 and r.json()["scopes"] == ["admin", "mcp"]
    r = await create(server.admin, "acme", scopes=["admin", "mcp"])  # the platform admin gives anything
    assert r.status_code == 201


async def test_the_admin_scope_is_refused_on_a_key_limited_to_a_connector(server: Server) -> None:
    """Regression: a key with `admin` limited to one connector could mint unrestricted keys, edit every
    connector and replace every provider's credentials."""
    await server.tenant("acme")
    demo = await server.connector("acme", "demo")
    both = await server.key("acme", ["admin", "mcp"])
    async with server.client(both) as tenant_admin:
        for client in (server.admin, tenant_admin):
            r = await create(client, "acme", scopes=["admin", "mcp"], connector_id=demo["id"])
            assert error(r) == (422, "connector_limited_admin")
            assert r.json()["error"]["details"][0]["field"] == "scopes"
            r = await create(client, "acme", scopes=["mcp"], connector_id=demo["name"])
            assert r.status_code == 201 and r.json()["connector_id"] == demo["id"]
    keys = (await server.admin.get("/api/v1/admin/tenants/acme/api-keys")).json()["items"]
    assert not any("admin" in k["scopes"] and k["connector_id"] for k in keys)


async def test_a_stored_connector_limited_admin_key_cannot_manage_the_tenant(server: Server) -> None:
    """Such keys made before the rule are refused on every admin route, and keep working for MCP on their
    connector."""
    tenant = await server.tenant("acme")
    demo = await server.connector("acme", "demo")
    other = await server.connector("acme", "demo", name="other")
    await server.connector("acme", "tokenonly")
    raw, _ = await server.services.store.create_api_key(
        tenant["id"], name="old", scopes={"admin", "mcp"}, connector_id=demo["id"]
    )
    before = await server.admin.get("/api/v1/admin/tenants/acme/connectors")
    async with server.client(raw) as client:
        attempts = [
            client.post("/api/v1/admin/tenants/acme/api-keys", json={"scopes": ["admin", "mcp"]}),
            client.patch(f"/api/v1/admin/tenants/acme/connectors/{other['id']}", json={"enabled": False}),
            client.patch(f"/api/v1/admin/tenants/acme/connectors/{demo['id']}", json={"description": "mine"}),
            client.put("/api/v1/admin/tenants/acme/credentials/tokenonly", json={"token": "pat-attacker-token"}),
            client.delete(f"/api/v1/admin/tenants/acme/connectors/{other['id']}"),
            client.get("/api/v1/admin/tenants/acme/api-keys"),
            client.get("/api/v1/admin/tenants/acme"),
            client.post("/api/v1/oauth/acme/fake/authorize", json={}),
        ]
        for attempt in attempts:
            assert error(await attempt) == (403, "connector_limited_key")
        r = await mcp_call(
            client,
            f"/api/v1/acme/connectors/{demo['id']}/mcp",
            "tools/call",
            {"name": "demo_echo", "arguments": {"text": "hi"}},
        )
        assert r.json()["result"]["content"][0]["text"] == "hi"
        r = await mcp_call(client, f"/api/v1/acme/connectors/{other['id']}/mcp", "tools/list")
        assert r.status_code in (403, 404)
    assert (await server.admin.get("/api/v1/admin/tenants/acme/connectors")).json() == before.json()
    assert (await server.admin.get("/api/v1/admin/tenants/acme/credentials")).json()["items"] == []


async def test_a_wrong_or_revoked_key_is_told_apart_from_no_key(server: Server) -> None:
    await server.tenant("acme")
    key = await server.key("acme", ["admin"])
    keys = (await server.admin.get("/api/v1/admin/tenants/acme/api-keys")).json()["items"]
    await server.admin.delete(f"/api/v1/admin/tenants/acme/api-keys/{keys[0]['id']}")
    messages = {}
    for name, headers in {
        "none": {},
        "basic": {"Authorization": "Basic dXNlcjpwYXNz"},
        "wrong": {"Authorization": "Bearer smcp_" + "x" * 43},
        "revoked": {"Authorization": f"Bearer {key}"},
    }.items():
        async with server.client(**headers) as client:
            r = await client.get("/api/v1/admin/tenants/acme")
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
        messages[name] = (r.json()["error"]["code"], r.json()["error"]["message"])
    assert messages["none"][0] == "not_authenticated" and "Send an API key" in messages["none"][1]
    assert messages["basic"][0] == "not_authenticated" and "bearer token" in messages["basic"][1]
    assert messages["wrong"] == messages["revoked"]
    assert messages["wrong"][0] == "invalid_api_key" and "revoked" in messages["wrong"][1]
    assert key not in str(messages)


@pytest.fixture
def cli_env(server: Server, monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    for name in ("SAGEMCP_ADMIN_KEY",):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SAGEMCP_DATABASE_URL", settings.database_url)
    if settings.database_schema:
        monkeypatch.setenv("SAGEMCP_DATABASE_SCHEMA", settings.database_schema)
    monkeypatch.setenv("SAGEMCP_SECRET_KEYS", settings.secret_keys.get_secret_value())


async def test_the_cli_refuses_the_combination_too(
    server: Server, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    await server.tenant("acme")
    await server.connector("acme", "demo")
    code = await asyncio.to_thread(
        main, ["key", "create", "--tenant", "acme", "--scope", "admin", "--scope", "mcp", "--connector", "demo"]
    )
    assert code == 1
    assert "cannot have the `admin` scope" in capsys.readouterr().err
