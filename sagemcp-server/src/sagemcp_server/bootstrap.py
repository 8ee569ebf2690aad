"""First-start chores: the platform admin key, and the `demo` tenant of `sagemcp serve --demo`.

Raw keys created here are returned to the caller, which prints them once to the
terminal; they are never logged and only their hashes are stored.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass

from sagemcp.platform import ConnectorConfig, ConnectorRegistry

from .db.store import Duplicate, SqlStore
from .settings import Settings

__all__ = ["DemoSetup", "client_configs", "ensure_admin_key", "ensure_demo"]

DEMO_SLUG = "demo"
DEMO_KEY_NAME = "demo-mcp"


async def ensure_admin_key(store: SqlStore, settings: Settings) -> str | None:
    """Create a platform admin key when none can exist yet; return it (to print once), or None.

    Only an empty database (no tenants, no admin key) gets one, and only when
    `SAGEMCP_ADMIN_KEY` is not set.
    """
    if settings.admin_key is not None and settings.admin_key.get_secret_value():
        return None
    if await store.count_platform_admin_keys() or await store.count_tenants():
        return None
    raw, _ = await store.create_api_key(
        None, name="platform admin (first start)", scopes={"admin", "mcp"}, platform_admin=True
    )
    return raw


@dataclass(frozen=True)
class DemoSetup:
    slug: str
    mcp_url: str
    key: str | None
    """The MCP key when it was created now; None when it existed (it cannot be shown again)."""
    connectors: list[str]


async def ensure_demo(store: SqlStore, registry: ConnectorRegistry, public_url: str) -> DemoSetup:
    """Make sure the `demo` tenant, its `demo` connector (when installed) and an MCP key exist."""
    record = await store.get_tenant_record(DEMO_SLUG)
    if record is None:
        try:
            record = await store.create_tenant(DEMO_SLUG, "Demo")
        except Duplicate:
            record = await store.get_tenant_record(DEMO_SLUG)
            assert record is not None
    tenant = record.item
    if "demo" in registry and await store.get_connector(tenant.id, "demo") is None:
        demo = ConnectorConfig(
            tenant_id=tenant.id, connector_type="demo", name="demo", description="Tools that need no account"
        )
        with contextlib.suppress(Duplicate):
            await store.add_connector(demo)
    key = None
    existing = [k for k in await store.list_api_keys(tenant.id) if k.name == DEMO_KEY_NAME and not k.revoked]
    if not existing:
        key, _ = await store.create_api_key(tenant.id, name=DEMO_KEY_NAME, scopes={"mcp"})
    connectors = [c.name for c in await store.list_connectors(tenant.id)]
    return DemoSetup(DEMO_SLUG, f"{public_url}/api/v1/{DEMO_SLUG}/mcp", key, connectors)


def client_configs(url: str, key: str, name: str = "sagemcp-demo") -> dict[str, str]:
    """Ready-to-paste configuration for the common MCP clients."""
    header = f"Bearer {key}"
    claude_desktop = {
        "mcpServers": {
            name: {
                "command": "npx",
                "args": ["-y", "mcp-remote", url, "--header", "Authorization:${AUTH_HEADER}"],
                "env": {"AUTH_HEADER": header},
            }
        }
    }
    cursor = {"mcpServers": {name: {"url": url, "headers": {"Authorization": header}}}}
    vscode = {"servers": {name: {"type": "http", "url": url, "headers": {"Authorization": header}}}}
    return {
        "Claude Code": f'claude mcp add --transport http {name} {url} --header "Authorization: {header}"',
        "Claude Desktop (claude_desktop_config.json)": json.dumps(claude_desktop, indent=2),
        "Cursor (~/.cursor/mcp.json)": json.dumps(cursor, indent=2),
        "VS Code (.vscode/mcp.json)": json.dumps(vscode, indent=2),
    }
