"""Tenants: create, list (with pagination), read, update, delete; every failure is a 4xx with the standard body."""

from __future__ import annotations

import pytest
from conftest import Server


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "request_id"}
    assert set(body["error"]) == {"code", "message", "details"}
    if code is not None:
        assert body["error"]["code"] == code, body
    return body


async def test_create_read_update_list_delete(server: Server) -> None:
    created = await server.tenant("acme")
    assert created["slug"] == "acme" and created["active"] is True
    assert created["mcp_url"] == "https://sagemcp.test/api/v1/acme/mcp"
    r = await server.admin.get("/api/v1/admin/tenants/acme")
    assert r.status_code == 200 and r.json()["id"] == created["id"]
    r = await server.admin.patch("/api/v1/admin/tenants/acme", json={"name": "Acme Corp", "active": False})
    assert r.status_code == 200 and r.json()["name"] == "Acme Corp" and r.json()["active"] is False
    r = await server.admin.get("/api/v1/admin/tenants")
    assert [t["slug"] for t in r.json()["items"]] == ["acme"]
    r = await server.admin.delete("/api/v1/admin/tenants/acme")
    assert r.status_code == 204 and r.content == b""
    assert_error(await server.admin.get("/api/v1/admin/tenants/acme"), 404, "tenant_not_found")


async def test_list_paginates(server: Server) -> None:
    for i in range(5):
        await server.tenant(f"t{i}")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await server.admin.get("/api/v1/admin/tenants", params=params)).json()
        seen += [t["slug"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["t0", "t1", "t2", "t3", "t4"]
    assert_error(await server.admin.get("/api/v1/admin/tenants", params={"cursor": "%%%"}), 422)
    assert_error(await server.admin.get("/api/v1/admin/tenants", params={"limit": 0}), 422, "invalid_query")


@pytest.mark.parametrize("slug", ["Acme", "-acme", "acme-", "a_b", "", "x" * 64, "ümlaut"])
async def test_invalid_slug_is_422(server: Server, slug: str) -> None:
    assert_error(await server.admin.post("/api/v1/admin/tenants", json={"slug": slug}), 422, "invalid_body")


async def test_invalid_slug_in_path_is_422(server: Server) -> None:
    assert_error(await server.admin.get("/api/v1/admin/tenants/Not_A_Slug"), 422, "invalid_slug")


async def test_reserved_and_duplicate_slugs(server: Server) -> None:
    assert_error(await server.admin.post("/api/v1/admin/tenants", json={"slug": "admin"}), 422, "reserved_slug")
    await server.tenant("acme")
    assert_error(await server.admin.post("/api/v1/admin/tenants", json={"slug": "acme"}), 409, "conflict")


async def test_bad_bodies(server: Server) -> None:
    r = await server.admin.post(
        "/api/v1/admin/tenants", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_error(r, 400, "invalid_json")
    assert_error(await server.admin.post("/api/v1/admin/tenants", content=b""), 400, "invalid_json")
    assert_error(await server.admin.post("/api/v1/admin/tenants", json=[1, 2]), 422)
    assert_error(await server.admin.post("/api/v1/admin/tenants", json={"slug": "ok", "extra": 1}), 422)
    assert_error(await server.admin.post("/api/v1/admin/tenants", content=b'{"slug": NaN}'), 400, "invalid_json")
    big = b'{"slug": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    assert_error(await server.admin.post("/api/v1/admin/tenants", content=big), 413, "payload_too_large")


async def test_authentication_and_scopes(server: Server) -> None:
    async with server.client() as anonymous:
        r = await anonymous.get("/api/v1/admin/tenants")
        assert_error(r, 401, "not_authenticated")
        assert r.headers["www-authenticate"].startswith("Bearer")
    async with server.client("smcp_" + "x" * 43) as wrong:
        assert_error(await wrong.get("/api/v1/admin/tenants"), 401)
    await server.tenant("acme")
    mcp_only = await server.key("acme", ["mcp"])
    async with server.client(mcp_only) as client:
        assert_error(await client.get("/api/v1/admin/tenants/acme"), 403, "insufficient_scope")
    admin = await server.key("acme", ["admin"])
    async with server.client(admin) as client:
        assert (await client.get("/api/v1/admin/tenants/acme")).status_code == 200
        assert [t["slug"] for t in (await client.get("/api/v1/admin/tenants")).json()["items"]] == ["acme"]
        assert_error(await client.post("/api/v1/admin/tenants", json={"slug": "new"}), 403, "platform_admin_required")
        assert_error(await client.delete("/api/v1/admin/tenants/acme"), 403, "platform_admin_required")
        assert_error(await client.patch("/api/v1/admin/tenants/acme", json={"active": False}), 403)
        r = await client.patch("/api/v1/admin/tenants/acme", json={"name": "Renamed"})
        assert r.status_code == 200 and r.json()["name"] == "Renamed"


async def test_unknown_routes_and_methods(server: Server) -> None:
    assert_error(await server.admin.get("/api/v1/admin/nothing-here"), 404, "not_found")
    assert_error(await server.admin.put("/api/v1/admin/tenants"), 405, "method_not_allowed")


async def test_delete_tenant_deletes_everything_and_revokes(server: Server) -> None:
    await server.tenant("acme")
    await server.connector("acme", "fake")
    await server.oauth_app("acme")
    assert (await server.connect_oauth("acme")).status_code == 200
    key = await server.key("acme", ["mcp"])
    tenant_id = (await server.services.store.get_tenant("acme")).id
    credential = await server.services.store.get_credential(tenant_id, "fake")
    r = await server.admin.delete("/api/v1/admin/tenants/acme")
    assert r.status_code == 204
    assert credential.refresh_token.get_secret_value() in server.provider.revoked
    from sqlalchemy import text

    async with server.services.engine.connect() as conn:
        for table in ("connectors", "credentials", "oauth_apps", "api_keys", "oauth_states", "audit_events"):
            count = (
                await conn.execute(text(f"SELECT count(*) FROM {table} WHERE tenant_id = :t"), {"t": tenant_id})
            ).scalar()
            assert count == 0, table
    async with server.client(key) as client:
        assert (await client.post("/api/v1/acme/mcp", json={})).status_code == 401


async def test_text_no_database_stores_is_refused(server: Server) -> None:
    r = await server.admin.post("/api/v1/admin/tenants", content=b'{"slug": "ok", "name": "a\\u0000b"}')
    assert_error(r, 422, "invalid_body")
    r = await server.admin.post("/api/v1/admin/tenants", content=b'{"slug": "ok", "name": "\\udbef"}')
    assert_error(r, 422, "invalid_body")
    assert_error(await server.admin.get("/api/v1/admin/tenants", params={"cursor": "a\x00"}), 422, "invalid_query")
    await server.tenant("acme")
    key = await server.key("acme", ["mcp"])
    async with server.client(key) as client:
        r = await client.post("/api/v1/acme%00/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        assert r.status_code == 404
        r = await client.post(
            "/api/v1/acme/connectors/x%00y/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        )
        assert r.status_code == 404
