"""Discovery mode as an operator sets it: the tenant setting and pinned tools through the admin API and the CLI,
stored in the database, an API key's own choice, and what the tenant-wide MCP endpoint then lists."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Database, Server, mcp_call
from test_cli import env, run, run_json  # noqa: F401  (env is a fixture)

META = ["search_tools", "describe_tool", "call_tool"]


async def listed(server: Server, key: str, path: str = "/api/v1/acme/mcp") -> list[str]:
    async with server.client(key) as client:
        r = await mcp_call(client, path, "tools/list")
    assert r.status_code == 200, r.text
    return [t["name"] for t in r.json()["result"]["tools"]]


async def call(server: Server, key: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    async with server.client(key) as client:
        r = await mcp_call(client, "/api/v1/acme/mcp", "tools/call", {"name": name, "arguments": arguments})
    assert r.status_code == 200, r.text
    return dict(r.json()["result"])


async def test_tenant_setting_pins_and_key_choice(server: Server) -> None:
    created = (await server.admin.post("/api/v1/admin/tenants", json={"slug": "acme", "discovery": True})).json()
    assert (created["discovery"], created["pinned_tools"]) == (True, [])
    await server.connector("acme", "demo")
    tenant_key = await server.key("acme", ["mcp"])
    assert await listed(server, tenant_key) == META

    r = await server.admin.patch("/api/v1/admin/tenants/acme", json={"pinned_tools": ["demo_echo"]})
    assert r.status_code == 200 and r.json()["pinned_tools"] == ["demo_echo"] and r.json()["discovery"] is True
    assert await listed(server, tenant_key) == [*META, "demo_echo"]  # served at once: no stale catalogue
    assert "demo_add" in await listed(server, tenant_key, "/api/v1/acme/connectors/demo/mcp")

    r = await server.admin.post("/api/v1/admin/tenants/acme/api-keys", json={"scopes": ["mcp"], "discovery": False})
    assert r.status_code == 201 and r.json()["discovery"] is False
    full_key = r.json()["key"]
    assert "demo_add" in await listed(server, full_key) and "search_tools" not in await listed(server, full_key)
    keys = (await server.admin.get("/api/v1/admin/tenants/acme/api-keys")).json()["items"]
    assert sorted(str(k["discovery"]) for k in keys) == ["False", "None"]

    found = await call(server, tenant_key, "search_tools", {"query": "add two numbers"})
    assert found["structuredContent"]["tools"][0]["name"] == "demo_add"
    added = await call(server, tenant_key, "call_tool", {"name": "demo_add", "arguments": {"a": 2, "b": 3}})
    assert not added.get("isError") and added["structuredContent"]["sum"] == 5
    await server.services.audit.flush()
    audit = (await server.admin.get("/api/v1/admin/tenants/acme/audit", params={"tool": "demo_add"})).json()
    assert [e["tool"] for e in audit["items"]] == ["demo_add"]

    r = await server.admin.patch("/api/v1/admin/tenants/acme", json={"discovery": False})
    assert r.json()["discovery"] is False and r.json()["pinned_tools"] == ["demo_echo"]
    assert "search_tools" not in await listed(server, tenant_key)
    async with server.client(tenant_key) as client:
        r = await mcp_call(client, "/api/v1/acme/mcp", "tools/call", {"name": "search_tools", "arguments": {}})
    assert r.json()["error"]["message"] == "Unknown tool: search_tools"  # the meta-tools went with the mode


async def test_bad_pins_are_refused_with_the_reason(server: Server) -> None:
    await server.tenant("acme")
    await server.connector("acme", "demo")
    r = await server.admin.patch("/api/v1/admin/tenants/acme", json={"pinned_tools": ["demo_echo", "github_nope"]})
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "unknown_tool" and "'github_nope'" in error["message"]
    r = await server.admin.patch("/api/v1/admin/tenants/acme", json={"pinned_tools": ["demo_echo", "demo_echo"]})
    assert r.status_code == 422 and r.json()["error"]["code"] == "duplicate_pin"
    r = await server.admin.patch("/api/v1/admin/tenants/acme", json={"pinned_tools": ["x"] * 21})
    assert r.status_code == 422
    r = await server.admin.patch("/api/v1/admin/tenants/acme", json={"discovery": "sometimes"})
    assert r.status_code == 422


def test_cli_sets_discovery_and_key_choice(env: Database, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    run(capsys, "db", "upgrade")
    run(capsys, "tenant", "create", "acme")
    run(capsys, "connector", "add", "demo", "--tenant", "acme")
    shown = run_json(capsys, "tenant", "discovery", "acme", "on", "--pin", "demo_echo", "--pin", "demo_add")
    assert shown == {"slug": "acme", "discovery": True, "pinned_tools": ["demo_echo", "demo_add"]}
    text = run(capsys, "tenant", "discovery", "acme")
    assert "discovery mode: on" in text and "pinned tools: demo_echo, demo_add" in text
    assert run_json(capsys, "tenant", "discovery", "acme", "off", "--no-pins")["pinned_tools"] == []
    key = run_json(capsys, "key", "create", "--tenant", "acme", "--discovery", "on")
    assert key["discovery"] is True
    assert run_json(capsys, "key", "create", "--tenant", "acme")["discovery"] is None
