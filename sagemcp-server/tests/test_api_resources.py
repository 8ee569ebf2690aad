"""Connectors, OAuth apps, credentials, API keys, audit and connector types: success and failure cases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from conftest import Server, mcp_call
from helpers import CLIENT_SECRET
from test_api_tenants import assert_error


async def test_connector_lifecycle(server: Server) -> None:
    await server.tenant("acme")
    created = await server.connector(
        "acme",
        "fake",
        "gh",
        description="Our fake",
        configuration={"site": "https://x.test"},
        tool_policy={"read_only": True},
    )
    assert created["provider"] == "fake" and created["installed"] is True
    assert created["mcp_url"] == f"https://sagemcp.test/api/v1/acme/connectors/{created['id']}/mcp"
    base = "/api/v1/admin/tenants/acme/connectors"
    for key in (created["id"], "gh"):
        r = await server.admin.get(f"{base}/{key}")
        assert r.status_code == 200 and r.json()["id"] == created["id"]
    r = await server.admin.get(base)
    assert [c["name"] for c in r.json()["items"]] == ["gh"]
    tools = (await server.admin.get(f"{base}/gh/tools")).json()["items"]
    by_name = {t["name"]: t for t in tools}
    assert by_name["fake_whoami"]["enabled"] is True
    assert by_name["fake_delete_thing"]["enabled"] is False  # read-only mode
    assert by_name["fake_delete_thing"]["annotations"] == {
        "read_only": False,
        "destructive": True,
        "idempotent": False,
        "open_world": True,
    }
    r = await server.admin.patch(
        f"{base}/gh", json={"tool_policy": {"groups": ["read", "write"]}, "enabled": False, "name": "github"}
    )
    assert r.status_code == 200 and r.json()["enabled"] is False and r.json()["name"] == "github"
    tools = (await server.admin.get(f"{base}/github/tools")).json()["items"]
    assert {t["name"]: t["enabled"] for t in tools} == {
        "fake_whoami": True,
        "fake_delete_thing": True,
        "fake_whoami_user": False,  # group search is not enabled
    }
    assert (await server.admin.delete(f"{base}/github")).status_code == 204
    assert_error(await server.admin.get(f"{base}/github"), 404, "connector_not_found")
    assert_error(await server.admin.delete(f"{base}/github"), 404, "connector_not_found")


async def test_connector_failures(server: Server) -> None:
    await server.tenant("acme")
    base = "/api/v1/admin/tenants/acme/connectors"
    r = await server.admin.post(base, json={"connector_type": "nope", "name": "x"})
    assert_error(r, 422, "unknown_connector_type")
    r = await server.admin.post(
        base, json={"connector_type": "fake", "name": "x", "configuration": {"site": "http://x"}}
    )
    body = assert_error(r, 422, "invalid_configuration")
    assert body["error"]["details"][0]["field"] == "configuration.site"
    r = await server.admin.post(base, json={"connector_type": "fake", "name": "x", "configuration": {"bogus": 1}})
    assert_error(r, 422, "invalid_configuration")
    r = await server.admin.post(base, json={"connector_type": "fake", "name": "x", "tool_policy": {"groups": ["nope"]}})
    assert_error(r, 422, "invalid_tool_policy")
    r = await server.admin.post(
        base, json={"connector_type": "fake", "name": "x", "tool_policy": {"exclude_tools": ["x"]}}
    )
    assert_error(r, 422, "invalid_tool_policy")
    r = await server.admin.post(base, json={"connector_type": "fake", "name": "Bad Name"})
    assert_error(r, 422, "invalid_body")
    await server.connector("acme", "fake", "x")
    assert_error(await server.admin.post(base, json={"connector_type": "fake", "name": "x"}), 409, "conflict")
    await server.connector("acme", "demo", "y")
    assert_error(await server.admin.patch(f"{base}/y", json={"name": "x"}), 409, "conflict")
    assert_error(
        await server.admin.patch(f"{base}/x", json={"configuration": {"site": 3}}), 422, "invalid_configuration"
    )
    assert_error(await server.admin.get("/api/v1/admin/tenants/ghost/connectors"), 404, "tenant_not_found")


async def test_oauth_app_secret_is_write_only(server: Server) -> None:
    await server.tenant("acme")
    await server.oauth_app("acme")
    path = "/api/v1/admin/tenants/acme/oauth-apps/fake"
    r = await server.admin.get(path)
    assert r.status_code == 200
    assert (
        r.json()["has_client_secret"] is True
        and r.json()["redirect_uri"] == "https://sagemcp.test/api/v1/oauth/callback/fake"
    )
    assert CLIENT_SECRET not in r.text
    r = await server.admin.put(path, json={"client_id": "other"})  # secret omitted: kept
    assert r.json()["has_client_secret"] is True and r.json()["client_id"] == "other"
    r = await server.admin.put(path, json={"client_id": "other", "client_secret": None})  # public client
    assert r.json()["has_client_secret"] is False
    assert (await server.admin.delete(path)).status_code == 204
    assert_error(await server.admin.get(path), 404, "oauth_app_not_found")
    assert_error(await server.admin.delete(path), 404, "oauth_app_not_found")
    assert_error(
        await server.admin.put("/api/v1/admin/tenants/acme/oauth-apps/unknown", json={"client_id": "x"}),
        422,
        "unknown_provider",
    )
    assert_error(
        await server.admin.put("/api/v1/admin/tenants/acme/oauth-apps/tokenonly", json={"client_id": "x"}),
        422,
        "oauth_not_supported",
    )
    assert_error(await server.admin.put(path, json={}), 422, "invalid_body")


async def test_token_credentials(server: Server) -> None:
    await server.tenant("acme")
    await server.connector("acme", "tokenonly")
    path = "/api/v1/admin/tenants/acme/credentials/tokenonly"
    expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    r = await server.admin.put(
        path, json={"token": "pat-secret-value-1", "account": "bot", "scopes": ["repo"], "expires_at": expires}
    )
    assert r.status_code == 200, r.text
    assert r.json()["kind"] == "bearer" and r.json()["status"] == "active" and r.json()["account"] == "bot"
    assert "pat-secret-value-1" not in r.text
    r = await server.admin.get(path)
    assert r.status_code == 200 and "pat-secret-value-1" not in r.text and r.json()["scopes"] == ["repo"]
    key = await server.key("acme", ["mcp"])
    async with server.client(key) as client:
        r = await mcp_call(client, "/api/v1/acme/connectors/tokenonly/mcp", "tools/call", {"name": "tokenonly_whoami"})
    assert r.json()["result"]["structuredContent"] == {"login": "token-user"}
    # replacing keeps one credential
    r = await server.admin.put(path, json={"token": "pat-second-value"})
    assert r.status_code == 200
    assert (await server.admin.delete(path)).status_code == 204
    assert_error(await server.admin.get(path), 404, "credential_not_found")
    assert_error(await server.admin.delete(path), 404, "credential_not_found")
    assert_error(await server.admin.put(path, json={"token": ""}), 422)
    assert_error(
        await server.admin.put(path, json={"token": "x", "kind": "api_key"}), 422, "unsupported_credential_kind"
    )
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert_error(await server.admin.put(path, json={"token": "x", "expires_at": past}), 422, "expired_token")
    assert_error(await server.admin.put("/api/v1/admin/tenants/acme/credentials/demo", json={"token": "x"}), 422)


async def test_oauth_credential_delete_revokes_at_provider(server: Server) -> None:
    await server.tenant("acme")
    await server.connector("acme", "fake")
    await server.oauth_app("acme")
    assert (await server.connect_oauth("acme")).status_code == 200
    tenant = await server.services.store.get_tenant("acme")
    cred = await server.services.store.get_credential(tenant.id, "fake")
    r = await server.admin.get("/api/v1/admin/tenants/acme/credentials/fake")
    assert r.json()["kind"] == "oauth2" and r.json()["account"] == "octocat" and r.json()["has_refresh_token"] is True
    assert (await server.admin.delete("/api/v1/admin/tenants/acme/credentials/fake")).status_code == 204
    assert cred.refresh_token.get_secret_value() in server.provider.revoked
    assert await server.services.store.get_credential(tenant.id, "fake") is None


async def test_api_keys(server: Server) -> None:
    await server.tenant("acme")
    conn = await server.connector("acme", "demo")
    base = "/api/v1/admin/tenants/acme/api-keys"
    r = await server.admin.post(base, json={"name": "ci", "scopes": ["mcp"], "connector_id": "demo"})
    assert r.status_code == 201
    created = r.json()
    assert created["key"].startswith(created["prefix"]) and created["connector_id"] == conn["id"]
    listed = (await server.admin.get(base)).json()["items"]
    assert [k["id"] for k in listed] == [created["id"]] and "key" not in listed[0]
    assert created["key"] not in (await server.admin.get(base)).text
    assert_error(await server.admin.post(base, json={"scopes": []}), 422)
    assert_error(await server.admin.post(base, json={"scopes": ["root"]}), 422)
    assert_error(await server.admin.post(base, json={"connector_id": "ghost"}), 422, "unknown_connector")
    assert_error(await server.admin.delete(f"{base}/{'0' * 32}"), 404, "api_key_not_found")
    assert_error(await server.admin.delete(f"{base}/not-an-id"), 422, "invalid_key_id")


async def test_key_revocation_takes_effect_at_once(server: Server) -> None:
    await server.tenant("acme")
    await server.connector("acme", "demo")
    r = await server.admin.post("/api/v1/admin/tenants/acme/api-keys", json={"scopes": ["mcp", "admin"]})
    key, key_id = r.json()["key"], r.json()["id"]
    async with server.client(key) as client:
        assert (await mcp_call(client, "/api/v1/acme/mcp", "tools/list")).status_code == 200
        assert (await client.get("/api/v1/admin/tenants/acme")).status_code == 200
        assert (await server.admin.delete(f"/api/v1/admin/tenants/acme/api-keys/{key_id}")).status_code == 204
        assert (await mcp_call(client, "/api/v1/acme/mcp", "tools/list")).status_code == 401
        assert (await client.get("/api/v1/admin/tenants/acme")).status_code == 401
    listed = (await server.admin.get("/api/v1/admin/tenants/acme/api-keys")).json()["items"]
    assert listed[0]["revoked"] is True


async def test_audit_trail(server: Server) -> None:
    await server.tenant("acme")
    await server.connector("acme", "demo")
    await server.connector("acme", "fake", tool_policy={"read_only": True})
    key = await server.key("acme", ["mcp"])
    async with server.client(key) as client:
        for i in range(3):
            r = await mcp_call(
                client, "/api/v1/acme/mcp", "tools/call", {"name": "demo_echo", "arguments": {"text": str(i)}}
            )
            assert r.json()["result"]["isError"] is False
        r = await mcp_call(client, "/api/v1/acme/mcp", "tools/call", {"name": "demo_add", "arguments": {"a": "x"}})
        assert r.json()["result"]["isError"] is True
        r = await mcp_call(
            client, "/api/v1/acme/mcp", "tools/call", {"name": "fake_delete_thing", "arguments": {"thing_id": 1}}
        )
        assert r.json()["result"]["isError"] is True
    for _ in range(100):
        page = (await server.admin.get("/api/v1/admin/tenants/acme/audit")).json()
        if len(page["items"]) == 5:
            break
        await asyncio.sleep(0.05)
    outcomes = [(e["tool"], e["outcome"]) for e in page["items"]]
    assert outcomes == [
        ("fake_delete_thing", "denied"),
        ("demo_add", "invalid"),
        ("demo_echo", "ok"),
        ("demo_echo", "ok"),
        ("demo_echo", "ok"),
    ]
    assert "x" not in [e.get("arguments") for e in page["items"]]  # arguments are never recorded
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await server.admin.get("/api/v1/admin/tenants/acme/audit", params=params)).json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 5
    r = await server.admin.get("/api/v1/admin/tenants/acme/audit", params={"outcome": "ok", "limit": 50})
    assert len(r.json()["items"]) == 3
    assert_error(
        await server.admin.get("/api/v1/admin/tenants/acme/audit", params={"cursor": "garbage"}), 422, "invalid_cursor"
    )
    assert_error(await server.admin.get("/api/v1/admin/tenants/acme/audit", params={"limit": 100000}), 422)


async def test_connector_types(server: Server) -> None:
    r = await server.admin.get("/api/v1/admin/connector-types")
    assert r.status_code == 200
    items = {c["id"]: c for c in r.json()["items"]}
    assert set(items) == {"demo", "fake", "tokenonly"}
    fake = items["fake"]
    assert [a["kind"] for a in fake["auth"]] == ["oauth2", "bearer"] and fake["auth"][0]["revocable"] is True
    assert {t["name"] for t in fake["tools"]} == {"fake_whoami", "fake_delete_thing", "fake_whoami_user"}
    assert {t["name"]: t["token"] for t in fake["tools"]}["fake_whoami_user"] == "user"
    assert fake["auth"][0]["linked_tokens"] == [{"name": "user", "description": "", "scopes": ["search"]}]
    assert fake["config_schema"]["properties"]["site"]
    assert r.json()["failures"] == []
