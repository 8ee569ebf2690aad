"""A tenant key can never read or change another tenant, through any route: generated from the operation list."""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import MCP_HEADERS, Server, mcp_call

from sagemcp_server.app import OPERATIONS

BODIES: dict[str, Any] = {
    "createConnector": {"connector_type": "demo", "name": "intruder"},
    "updateConnector": {"description": "hacked"},
    "updateTenant": {"name": "hacked"},
    "putOAuthApp": {"client_id": "evil", "client_secret": "evil"},
    "putCredential": {"token": "pat-evil-token"},
    "createApiKey": {"scopes": ["admin", "mcp"]},
    "authorizeOAuth": {},
    "createTenant": {"slug": "intruder"},
    "addMember": {"email": "intruder@example.com", "role": "owner"},
    "updateMember": {"role": "admin"},
    "createInvitation": {"role": "owner"},
    "createTenantOidcProvider": {"name": "intruder-sso", "issuer": "https://idp.evil.example", "client_id": "evil"},
    "updateTenantOidcProvider": {"issuer": "https://idp.evil.example"},
}


async def _setup(server: Server) -> dict[str, Any]:
    world: dict[str, Any] = {}
    for slug in ("aaa", "bbb"):
        tenant = await server.tenant(slug)
        demo = await server.connector(slug, "demo")
        await server.connector(slug, "fake")
        await server.connector(slug, "tokenonly")
        await server.oauth_app(slug)
        r = await server.admin.put(
            f"/api/v1/admin/tenants/{slug}/credentials/tokenonly", json={"token": f"pat-{slug}-token"}
        )
        assert r.status_code == 200
        r = await server.admin.post(f"/api/v1/admin/tenants/{slug}/api-keys", json={"scopes": ["admin", "mcp"]})
        world[slug] = {"tenant": tenant, "demo": demo, "key": r.json()["key"], "key_id": r.json()["id"]}
        for role in ("owner", "member"):
            user = await server.admin.post("/api/v1/admin/users", json={"email": f"{role}@{slug}.example"})
            await server.admin.post(
                f"/api/v1/admin/tenants/{slug}/members", json={"email": f"{role}@{slug}.example", "role": role}
            )
            world[slug][role] = user.json()["id"]
        r = await server.admin.post(f"/api/v1/admin/tenants/{slug}/invitations", json={"role": "member"})
        world[slug]["invitation_id"] = r.json()["id"]
        r = await server.admin.post(
            f"/api/v1/admin/tenants/{slug}/oidc-providers",
            json={"name": f"sso-{slug}", "issuer": f"https://idp.{slug}.example", "client_id": slug},
        )
        assert r.status_code == 201, r.text
    return world


def _provider(op: Any) -> str:
    return "tokenonly" if "/credentials/" in op.path else "fake"


async def _snapshot(server: Server, slug: str) -> list[str]:
    paths = [
        f"/api/v1/admin/tenants/{slug}",
        f"/api/v1/admin/tenants/{slug}/connectors",
        f"/api/v1/admin/tenants/{slug}/api-keys",
        f"/api/v1/admin/tenants/{slug}/oauth-apps/fake",
        f"/api/v1/admin/tenants/{slug}/credentials/tokenonly",
        f"/api/v1/admin/tenants/{slug}/members",
        f"/api/v1/admin/tenants/{slug}/invitations",
        f"/api/v1/admin/tenants/{slug}/oidc-providers",
    ]
    return [(await server.admin.get(p)).text for p in paths]


@pytest.mark.parametrize("op", [op for op in OPERATIONS if "slug" in op.params], ids=lambda op: op.operation_id)
async def test_tenant_key_cannot_touch_another_tenant(server: Server, op: Any) -> None:
    world = await _setup(server)
    before = await _snapshot(server, "bbb")
    values = {
        "slug": "bbb",
        "connector_id": world["bbb"]["demo"]["id"],
        "provider": _provider(op),
        "key_id": world["bbb"]["key_id"],
        "user_id": world["bbb"]["member"],
        "invitation_id": world["bbb"]["invitation_id"],
        "name": "sso-bbb",
    }
    path = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], op.full_path)
    async with server.client(world["aaa"]["key"]) as intruder:
        kwargs = {"json": BODIES.get(op.operation_id, {})} if op.body is not None else {}
        r = await intruder.request(op.method, path, **kwargs)
    assert r.status_code in (403, 404), (op.operation_id, r.status_code, r.text)
    assert world["bbb"]["tenant"]["id"] not in r.text
    assert world["bbb"]["demo"]["id"] not in r.text or (
        r.status_code == 404 and "connector" not in r.json()["error"]["code"]
    )
    assert await _snapshot(server, "bbb") == before
    # The same call on the key's own tenant is allowed (the 404 above was isolation, not a broken route).
    own = {
        "slug": "aaa",
        "connector_id": world["aaa"]["demo"]["id"],
        "provider": _provider(op),
        "key_id": world["aaa"]["key_id"],
        "user_id": world["aaa"]["member"],
        "invitation_id": world["aaa"]["invitation_id"],
        "name": "sso-aaa",
    }
    path = re.sub(r"\{(\w+)\}", lambda m: own[m.group(1)], op.full_path)
    if op.access == "admin" and op.operation_id not in ("revokeApiKey",):
        async with server.client(world["aaa"]["key"]) as owner:
            kwargs = {"json": BODIES.get(op.operation_id, {})} if op.body is not None else {}
            r = await owner.request(op.method, path, **kwargs)
        assert r.status_code < 400, (op.operation_id, r.text)


async def test_tenant_key_lists_only_its_tenant(server: Server) -> None:
    world = await _setup(server)
    async with server.client(world["aaa"]["key"]) as client:
        r = await client.get("/api/v1/admin/tenants")
    assert [t["slug"] for t in r.json()["items"]] == ["aaa"]


async def test_mcp_endpoints_are_isolated(server: Server) -> None:
    world = await _setup(server)
    b = world["bbb"]
    async with server.client(world["aaa"]["key"]) as intruder:
        for path in (
            "/api/v1/bbb/mcp",
            f"/api/v1/bbb/connectors/{b['demo']['id']}/mcp",
            "/api/v1/bbb/connectors/demo/mcp",
        ):
            r = await mcp_call(intruder, path, "tools/list")
            assert r.status_code == 404, r.text
            assert "tools" not in r.text
        # a connector id of tenant B on tenant A's path finds nothing either
        r = await mcp_call(intruder, f"/api/v1/aaa/connectors/{b['demo']['id']}/mcp", "tools/list")
        assert r.status_code == 404
        r = await intruder.get("/api/v1/bbb/sse", headers=MCP_HEADERS)
        assert r.status_code == 404


async def test_mcp_scopes_and_connector_limits(server: Server) -> None:
    await server.tenant("acme")
    demo = await server.connector("acme", "demo")
    await server.connector("acme", "fake")
    admin_only = await server.key("acme", ["admin"])
    limited = await server.key("acme", ["mcp"], connector_id=demo["id"])
    async with server.client(admin_only) as client:
        # its own tenant, so it may learn that the endpoint exists: it is told which scope it lacks
        r = await mcp_call(client, "/api/v1/acme/mcp", "tools/list")
        assert r.status_code == 403 and 'error="insufficient_scope"' in r.headers["www-authenticate"]
    async with server.client(limited) as client:
        r = await mcp_call(client, "/api/v1/acme/mcp", "tools/list")
        assert {t["name"] for t in r.json()["result"]["tools"]} == {"demo_echo", "demo_add", "demo_server_time"}
        assert (await mcp_call(client, "/api/v1/acme/connectors/fake/mcp", "tools/list")).status_code == 403
        assert (await mcp_call(client, "/api/v1/acme/connectors/demo/mcp", "tools/list")).status_code == 200
    async with server.client() as anonymous:
        r = await mcp_call(anonymous, "/api/v1/acme/mcp", "tools/list")
        assert r.status_code == 401 and "www-authenticate" in r.headers
    r = await mcp_call(server.admin, "/api/v1/acme/mcp", "tools/list")  # the platform admin key
    assert r.status_code == 200
