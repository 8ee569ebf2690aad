"""Core's MCP routes as mounted by the server: auth, policy changes visible at once, refresh, inactive tenants."""

from __future__ import annotations

import asyncio
import time

from conftest import Server, mcp_call


async def _connected(server: Server) -> str:
    await server.tenant("acme")
    await server.connector("acme", "fake")
    await server.oauth_app("acme")
    assert (await server.connect_oauth("acme")).status_code == 200
    return await server.key("acme", ["mcp"])


async def test_concurrent_calls_with_an_expired_token_refresh_once(server: Server) -> None:
    key = await _connected(server)
    store = server.services.store
    tenant = await store.get_tenant("acme")
    cred = await store.get_credential(tenant.id, "fake")
    await store.put_credential(cred.model_copy(update={"expires_at": time.time() - 10}))
    server.services.mcp.resolver.invalidate()
    server.provider.refresh_delay = 0.2
    async with server.client(key) as client:
        results = await asyncio.gather(
            *[mcp_call(client, "/api/v1/acme/mcp", "tools/call", {"name": "fake_whoami"}) for _ in range(8)]
        )
    assert all(r.json()["result"]["structuredContent"] == {"login": "octocat"} for r in results), results[0].text
    assert server.provider.refresh_count == 1
    fresh = await store.get_credential(tenant.id, "fake")
    assert fresh.version > cred.version and not fresh.expires_within(60)
    assert (
        'sagemcp_token_refreshes_total{outcome="ok",provider="fake"} 1.0' in (await server.admin.get("/metrics")).text
    )


async def test_policy_changes_apply_at_once(server: Server) -> None:
    key = await _connected(server)
    path = "/api/v1/acme/connectors/fake/mcp"
    async with server.client(key) as client:
        r = await mcp_call(client, path, "tools/list")
        assert {t["name"] for t in r.json()["result"]["tools"]} == {"fake_whoami"}  # default groups: read
        r = await mcp_call(client, path, "tools/call", {"name": "fake_delete_thing", "arguments": {"thing_id": 1}})
        assert r.json()["result"]["isError"] is True and "disabled" in r.text
        patch = await server.admin.patch(
            "/api/v1/admin/tenants/acme/connectors/fake", json={"tool_policy": {"groups": ["read", "write"]}}
        )
        assert patch.status_code == 200
        r = await mcp_call(client, path, "tools/call", {"name": "fake_delete_thing", "arguments": {"thing_id": 1}})
        assert r.json()["result"]["isError"] is False
        await server.admin.patch("/api/v1/admin/tenants/acme/connectors/fake", json={"enabled": False})
        assert (await mcp_call(client, path, "tools/list")).status_code == 403
        await server.admin.patch("/api/v1/admin/tenants/acme", json={"active": False})
        assert (await mcp_call(client, "/api/v1/acme/mcp", "tools/list")).status_code == 403


async def test_not_connected_tells_how_to_connect(server: Server) -> None:
    await server.tenant("acme")
    await server.connector("acme", "fake")
    key = await server.key("acme", ["mcp"])
    async with server.client(key) as client:
        r = await mcp_call(client, "/api/v1/acme/mcp", "tools/call", {"name": "fake_whoami"})
    result = r.json()["result"]
    assert result["isError"] is True and "not connected" in result["content"][0]["text"]


async def test_request_id_and_metrics(server: Server) -> None:
    await server.tenant("acme")
    await server.connector("acme", "demo")
    key = await server.key("acme", ["mcp"])
    async with server.client(key) as client:
        r = await client.post(
            "/api/v1/acme/mcp",
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "tools/call",
                "params": {"name": "demo_echo", "arguments": {"text": "hi"}},
            },
            headers={
                "Accept": "application/json, text/event-stream",
                "MCP-Protocol-Version": "2025-11-25",
                "X-Request-ID": "req-123",
            },
        )
        assert r.headers["x-request-id"] == "req-123"
    metrics = (await server.admin.get("/metrics")).text
    assert 'sagemcp_tool_calls_total{connector_type="demo",outcome="ok",tool="demo_echo"} 1.0' in metrics
    assert "sagemcp_tool_call_duration_seconds_bucket" in metrics
    assert 'route="/api/v1/{tenant}/mcp"' in metrics
    assert "sagemcp_mcp_active_connections" in metrics and "sagemcp_mcp_active_sessions" in metrics
    await _connected_upstream_metrics(server)


async def _connected_upstream_metrics(server: Server) -> None:
    await server.connector("acme", "tokenonly")
    await server.admin.put("/api/v1/admin/tenants/acme/credentials/tokenonly", json={"token": "pat-abc"})
    async with server.client(await server.key("acme", ["mcp"])) as client:
        await mcp_call(client, "/api/v1/acme/mcp", "tools/call", {"name": "tokenonly_whoami"})
    metrics = (await server.admin.get("/metrics")).text
    assert 'sagemcp_upstream_responses_total{method="GET",provider="tokenonly",status="200"} 1.0' in metrics


async def test_the_admin_api_shows_the_names_the_tenant_wide_endpoint_serves(server: Server) -> None:
    await server.tenant("acme")
    first = await server.connector("acme", "demo", name="demo")
    key = await server.key("acme", ["mcp"])

    async def served() -> set[str]:
        async with server.client(key) as client:
            r = await mcp_call(client, "/api/v1/acme/mcp", "tools/list")
            return {t["name"] for t in r.json()["result"]["tools"]}

    async def listed(connector_id: str) -> tuple[str | None, set[str | None]]:
        r = await server.admin.get(f"/api/v1/admin/tenants/acme/connectors/{connector_id}/tools")
        assert r.status_code == 200, r.text
        body = r.json()
        return body["tenant_wide_prefix"], {t["tenant_wide_name"] for t in body["items"]}

    assert await listed(first["id"]) == ("", {"demo_echo", "demo_add", "demo_server_time"})
    second = await server.connector("acme", "demo", name="lab-tools")
    prefix, names = await listed(second["id"])
    assert prefix == "lab_tools__" and "lab_tools__demo_echo" in names
    assert (await listed(first["id"]))[0] == "demo__"
    assert await served() == (await listed(first["id"]))[1] | names
    connectors = (await server.admin.get("/api/v1/admin/tenants/acme/connectors")).json()["items"]
    assert {c["name"]: c["tenant_wide_prefix"] for c in connectors} == {"demo": "demo__", "lab-tools": "lab_tools__"}
    r = await server.admin.patch(f"/api/v1/admin/tenants/acme/connectors/{second['id']}", json={"enabled": False})
    assert r.status_code == 200, r.text
    assert await listed(first["id"]) == ("", {"demo_echo", "demo_add", "demo_server_time"})
    assert await listed(second["id"]) == (None, {None})  # not served: no tenant-wide names
    assert await served() == {"demo_echo", "demo_add", "demo_server_time"}
