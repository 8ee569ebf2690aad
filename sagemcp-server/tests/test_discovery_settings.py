"""Discovery mode as an operator sets it: the tenant's and each connector's setting and pinned tools through the
admin API and the CLI, stored in the database, an API key's own choice, and what the MCP endpoints then list."""

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


async def call(
    server: Server, key: str, name: str, arguments: dict[str, Any], path: str = "/api/v1/acme/mcp"
) -> dict[str, Any]:
    async with server.client(key) as client:
        r = await mcp_call(client, path, "tools/call", {"name": name, "arguments": arguments})
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


DEMO = "/api/v1/acme/connectors/demo/mcp"
CONNECTOR = "/api/v1/admin/tenants/acme/connectors/demo"


async def test_connector_setting_pins_and_key_choice(server: Server) -> None:
    await server.tenant("acme")
    created = await server.connector("acme", "demo", discovery=True, pinned_tools=["demo_echo"])
    assert (created["discovery"], created["pinned_tools"]) == (True, ["demo_echo"])
    tenant_key = await server.key("acme", ["mcp"])
    assert await listed(server, tenant_key, DEMO) == [*META, "demo_echo"]
    assert "search_tools" not in await listed(server, tenant_key)  # the tenant-wide endpoint: the tenant's setting

    found = await call(server, tenant_key, "search_tools", {"query": "add two numbers", "connector": "demo"}, DEMO)
    assert found["structuredContent"]["tools"][0]["name"] == "demo_add"
    added = await call(server, tenant_key, "call_tool", {"name": "demo_add", "arguments": {"a": 2, "b": 3}}, DEMO)
    assert not added.get("isError") and added["structuredContent"]["sum"] == 5
    await server.services.audit.flush()
    audit = (await server.admin.get("/api/v1/admin/tenants/acme/audit", params={"tool": "demo_add"})).json()
    assert [(e["tool"], e["connector_id"]) for e in audit["items"]] == [("demo_add", created["id"])]

    r = await server.admin.post("/api/v1/admin/tenants/acme/api-keys", json={"scopes": ["mcp"], "discovery": False})
    full_key = r.json()["key"]
    assert await listed(server, full_key, DEMO) == ["demo_echo", "demo_add", "demo_server_time"]

    r = await server.admin.patch(CONNECTOR, json={"pinned_tools": ["demo_add", "demo_server_time"]})
    assert r.status_code == 200 and r.json()["pinned_tools"] == ["demo_add", "demo_server_time"]
    assert await listed(server, tenant_key, DEMO) == [*META, "demo_add", "demo_server_time"]  # served at once
    r = await server.admin.patch(CONNECTOR, json={"discovery": False})
    assert (r.json()["discovery"], r.json()["pinned_tools"]) == (False, ["demo_add", "demo_server_time"])
    assert "search_tools" not in await listed(server, tenant_key, DEMO)
    async with server.client(tenant_key) as client:
        r = await mcp_call(client, DEMO, "tools/call", {"name": "search_tools", "arguments": {}})
    assert r.json()["error"]["message"] == "Unknown tool: search_tools"  # the meta-tools went with the mode

    r = await server.admin.post("/api/v1/admin/tenants/acme/api-keys", json={"scopes": ["mcp"], "discovery": True})
    assert await listed(server, r.json()["key"], DEMO) == [*META, "demo_add", "demo_server_time"]  # the key's choice
    stored = (await server.admin.get(CONNECTOR)).json()
    assert (stored["discovery"], stored["pinned_tools"]) == (False, ["demo_add", "demo_server_time"])
    items = (await server.admin.get("/api/v1/admin/tenants/acme/connectors")).json()["items"]
    assert [(c["discovery"], c["pinned_tools"]) for c in items] == [(False, ["demo_add", "demo_server_time"])]


async def test_bad_connector_pins_are_refused_with_the_reason(server: Server) -> None:
    await server.tenant("acme")
    base = "/api/v1/admin/tenants/acme/connectors"
    r = await server.admin.post(base, json={"connector_type": "demo", "name": "demo", "pinned_tools": ["demo_nope"]})
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "unknown_tool" and "'demo_nope'" in error["message"]
    assert error["details"] == [{"field": "pinned_tools", "message": "unknown tool 'demo_nope'"}]
    excluded = {"exclude_tools": ["demo_add"]}
    r = await server.admin.post(
        base, json={"connector_type": "demo", "name": "demo", "tool_policy": excluded, "pinned_tools": ["demo_add"]}
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "tool_not_enabled"
    assert "does not enable 'demo_add'" in r.json()["error"]["message"]
    assert (await server.admin.get(CONNECTOR)).status_code == 404  # nothing was created

    await server.connector("acme", "demo", tool_policy=excluded)
    r = await server.admin.patch(CONNECTOR, json={"pinned_tools": ["demo_add"]})
    assert r.status_code == 422 and r.json()["error"]["code"] == "tool_not_enabled"
    r = await server.admin.patch(CONNECTOR, json={"pinned_tools": ["demo_add"], "tool_policy": {}})
    assert r.status_code == 200 and r.json()["pinned_tools"] == ["demo_add"]  # checked against the new policy
    r = await server.admin.patch(
        CONNECTOR, json={"pinned_tools": ["demo_echo"], "tool_policy": {"exclude_tools": ["demo_echo"]}}
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "tool_not_enabled"
    r = await server.admin.patch(CONNECTOR, json={"pinned_tools": ["demo_echo", "demo_echo"]})
    assert r.status_code == 422 and r.json()["error"]["code"] == "duplicate_pin"
    r = await server.admin.patch(CONNECTOR, json={"pinned_tools": ["demo_echo"] * 21})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "pinned_tools"
    r = await server.admin.patch(CONNECTOR, json={"discovery": "sometimes"})
    assert r.status_code == 422
    assert (await server.admin.get(CONNECTOR)).json()["pinned_tools"] == ["demo_add"]  # refused changes left no trace

    # A policy edit that disables a pinned tool is accepted: the pin is then not listed.
    r = await server.admin.patch(CONNECTOR, json={"discovery": True, "tool_policy": {"exclude_tools": ["demo_add"]}})
    assert r.status_code == 200 and r.json()["pinned_tools"] == ["demo_add"]
    assert await listed(server, await server.key("acme", ["mcp"]), DEMO) == META


def test_cli_sets_a_connectors_discovery_mode(env: Database, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    run(capsys, "db", "upgrade")
    run(capsys, "tenant", "create", "acme")
    run(capsys, "connector", "add", "demo", "--tenant", "acme")
    update = ("connector", "update", "demo", "--tenant", "acme")
    shown = run_json(capsys, *update, "--discovery", "--pin", "demo_echo", "--pin", "demo_add")
    assert (shown["discovery"], shown["pinned_tools"]) == (True, ["demo_echo", "demo_add"])
    text = run(capsys, "connector", "show", "demo", "--tenant", "acme")
    assert "discovery mode: on; pinned tools: demo_echo, demo_add" in text
    assert run_json(capsys, *update, "--pin", "demo_server_time")["pinned_tools"] == ["demo_server_time"]
    shown = run_json(capsys, *update, "--no-discovery", "--no-pins")
    assert (shown["discovery"], shown["pinned_tools"]) == (False, [])
    assert "discovery mode: off; pinned tools: none" in run(capsys, "connector", "show", "demo", "--tenant", "acme")
    assert run_json(capsys, *update, "--pin", "demo_nope", code=1)["error"]["code"] == "unknown_tool"
    run(capsys, *update, "--pin", "demo_echo", "--no-pins", code=2)
    with pytest.raises(SystemExit):
        run(capsys, *update, "--discovery", "--no-discovery")  # argparse: not both
