"""Clients nobody here wrote, against two tenants of one multi-tenant MCP app over real HTTP.

- the TypeScript SDK 1.x client (`@modelcontextprotocol/sdk`, the 2025-11-25 handshake),
- the TypeScript 2026-07-28 client (`@modelcontextprotocol/client` 2.x),
- the Python SDK client in both modes (`legacy` and `2026-07-28`).

Each lists and calls the tools of tenant `acme` and of tenant `globex` with that tenant's API key, per
connector and tenant-wide, and is refused with one tenant's key on the other's path. The TypeScript
packages are installed with npm into `.tools/mcp-typescript-clients` on first use (`nox -s e2e` runs
this test); without `node` and `npm` those tests are skipped, saying so.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import mcp_types as types
import pytest
import pytest_asyncio
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client

from sagemcp import Connector, ConnectorInfo, NoAuth, ToolContext, tool
from sagemcp.mcp import McpSettings, create_mcp_app
from sagemcp.platform import ConnectorConfig, ConnectorRegistry, MemoryStore, Tenant
from sagemcp.testing import serve

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / ".tools" / "mcp-typescript-clients"
SCRIPT = Path(__file__).parent / "interop" / "typescript_client.mjs"
PACKAGES = {"@modelcontextprotocol/sdk": "1.32.2", "@modelcontextprotocol/client": "2.4.0"}


class Whoami(Connector):
    info = ConnectorInfo(id="who", title="Who", description="Says which tenant a call runs for.")
    auth = (NoAuth(),)

    @tool(read_only=True, group="read")
    async def am_i(self, ctx: ToolContext) -> str:
        """Name the tenant and connector of this call."""
        return f"tenant={ctx.tenant.slug} connector={ctx.connector.name}"


@dataclass
class Rig:
    base: str
    keys: dict[str, str]

    def url(self, tenant: str, wide: bool = False) -> str:
        return f"{self.base}/{tenant}/mcp" if wide else f"{self.base}/{tenant}/connectors/who/mcp"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rig() -> AsyncIterator[Rig]:
    store = MemoryStore()
    keys = {}
    for slug in ("acme", "globex"):
        tenant = store.add_tenant(Tenant(slug=slug))
        store.add_connector(ConnectorConfig(tenant_id=tenant.id, connector_type="who", name="who"))
        keys[slug], _ = store.create_api_key(tenant.id, name=f"{slug}-interop")
    app = create_mcp_app(store, ConnectorRegistry([Whoami]), settings=McpSettings(stateful=True, json_response=False))
    async with serve(app) as base:
        yield Rig(base, keys)


@pytest.fixture(scope="module")
def node() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("the TypeScript clients need Node.js 20+ with npm (`node` and `npm` on PATH)")
    for package, version in PACKAGES.items():
        marker = TOOLS / "node_modules" / package / "package.json"
        if not marker.exists() or json.loads(marker.read_text())["version"] != version:
            TOOLS.mkdir(parents=True, exist_ok=True)
            (TOOLS / "package.json").write_text('{"name": "sagemcp-interop-clients", "private": true}\n')
            specs = [f"{p}@{v}" for p, v in PACKAGES.items()]
            subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(TOOLS), *specs], check=True)
            break
    shutil.copy(SCRIPT, TOOLS / SCRIPT.name)
    return node


async def typescript(node: str, flavour: str, url: str, key: str) -> dict[str, object]:
    """Run the client script; asynchronously, since the server under test shares this event loop."""
    proc = await asyncio.create_subprocess_exec(
        node,
        str(TOOLS / SCRIPT.name),
        flavour,
        url,
        key,
        "who_am_i",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, stderr.decode()
    return dict(json.loads(stdout.decode().strip().splitlines()[-1]))


@pytest.mark.parametrize(("flavour", "version"), [("v1", "2025-11-25"), ("v2", "2026-07-28")])
@pytest.mark.parametrize("wide", [False, True], ids=["per-connector", "tenant-wide"])
async def test_typescript_clients_see_only_their_tenant(
    rig: Rig, node: str, flavour: str, version: str, wide: bool
) -> None:
    for tenant in ("acme", "globex"):
        out = await typescript(node, flavour, rig.url(tenant, wide), rig.keys[tenant])
        assert out["ok"], out
        assert out["tools"] == ["who_am_i"] and out["text"] == f"tenant={tenant} connector=who", out
        if flavour == "v2":
            assert out["protocolVersion"] == version, out
    # One tenant's key on the other tenant's path: refused, whatever the client.
    out = await typescript(node, flavour, rig.url("globex", wide), rig.keys["acme"])
    assert not out["ok"] and "tenant=globex" not in json.dumps(out), out


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_python_sdk_client_in_both_modes(rig: Rig, mode: str) -> None:
    for tenant in ("acme", "globex"):
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {rig.keys[tenant]}"})
        async with Client(streamable_http_client(rig.url(tenant), http_client=http), mode=mode) as c:  # type: ignore[arg-type]
            listed = await c.list_tools()
            assert [t.name for t in listed.tools] == ["who_am_i"]
            result = await c.call_tool("who_am_i", {})
            texts = [p.text for p in result.content if isinstance(p, types.TextContent)]
            assert texts == [f"tenant={tenant} connector=who"]
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {rig.keys['acme']}"})
    with pytest.raises((MCPError, httpx2.HTTPStatusError, Exception)) as refused:
        async with Client(streamable_http_client(rig.url("globex"), http_client=http), mode=mode) as c:  # type: ignore[arg-type]
            await c.call_tool("who_am_i", {})
    assert "tenant=globex" not in str(refused.value)
