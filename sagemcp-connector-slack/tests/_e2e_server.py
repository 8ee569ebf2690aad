"""A real sagemcp MCP server for the end-to-end test, run as a separate process.

    python tests/_e2e_server.py --slack-url http://127.0.0.1:PORT/api --port PORT

Builds the multi-tenant app from core (`MemoryStore`, `create_mcp_app`) with the Slack
connector loaded through its entry point, for tenant `acme`:

- `slack`: the default tool policy (read-only groups only), API URL pointed at the fake;
- `slack-rw`: every group enabled, writes limited to `#random` by `allowed_channels`;
- `slack-ro`: every group enabled but read-only mode on.

The tenant has a bot token (`slack`) and a user token (`slack:user`).

It prints one JSON line with the tenant's API key, then serves until terminated.
"""

from __future__ import annotations

import argparse
import json
import sys

import uvicorn

from sagemcp import Credential
from sagemcp.mcp import create_mcp_app
from sagemcp.platform import ConnectorConfig, ConnectorRegistry, MemoryStore, Tenant, ToolPolicy

TOKEN = "xoxb-test-e2e-0000000000-abcdefabcdef"
USER_TOKEN = "xoxp-test-e2e-0000000000-fedcbafedcba"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slack-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()

    registry = ConnectorRegistry.from_entry_points(["slack"])
    if registry.failures:
        sys.exit(f"the slack connector did not load: {registry.failures}")
    groups = registry.get("slack").groups()

    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme", name="Acme"))
    config = {"api_url": args.slack_url}
    store.add_connector(
        ConnectorConfig(tenant_id=tenant.id, connector_type="slack", name="slack", configuration=config)
    )
    store.add_connector(
        ConnectorConfig(
            tenant_id=tenant.id,
            connector_type="slack",
            name="slack-rw",
            configuration={**config, "allowed_channels": ["#random"]},
            tool_policy=ToolPolicy(groups=groups),
        )
    )
    store.add_connector(
        ConnectorConfig(
            tenant_id=tenant.id,
            connector_type="slack",
            name="slack-ro",
            configuration=config,
            tool_policy=ToolPolicy(groups=groups, read_only=True),
        )
    )
    store.put_credential(Credential(tenant_id=tenant.id, provider="slack", kind="bearer", access_token=TOKEN))  # type: ignore[arg-type]
    # The installing user's token, as OAuth stores it next to the bot token: search uses it.
    store.put_credential(
        Credential(tenant_id=tenant.id, provider="slack:user", kind="bearer", access_token=USER_TOKEN)  # type: ignore[arg-type]
    )
    key, _ = store.create_api_key(tenant.id, name="e2e")

    app = create_mcp_app(store, registry)
    print(json.dumps({"key": key}), flush=True)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", lifespan="on")


if __name__ == "__main__":
    main()
