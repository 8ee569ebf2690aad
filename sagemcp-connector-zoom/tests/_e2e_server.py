"""A sagemcp MCP server process built from core alone, for the end-to-end test where the reference server
(`sagemcp-server`, with its `sagemcp serve`) is not installed.

    python tests/_e2e_server.py --zoom-url http://127.0.0.1:PORT --port PORT --key-file PATH --token-file PATH

It builds what `sagemcp serve` would hold after the operator's commands: a `MemoryStore` with tenant
`acme`, its `zoom` connector pointed at the fake Zoom (API and download origin), an `oauth2` credential
holding the token read from `--token-file`, and an API key, written to `--key-file` before serving
`create_mcp_app(...)` with uvicorn on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn

from sagemcp import Credential
from sagemcp.mcp import McpSettings, create_mcp_app
from sagemcp.platform import ConnectorConfig, ConnectorRegistry, MemoryStore, Tenant


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--zoom-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--key-file", type=Path, required=True)
    parser.add_argument("--token-file", type=Path, required=True)
    args = parser.parse_args()

    registry = ConnectorRegistry.from_entry_points(["zoom"])
    if registry.failures:
        raise SystemExit(f"the zoom connector did not load: {registry.failures}")
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme", name="Acme Corp"))
    configuration = {"api_url": f"{args.zoom_url}/v2", "download_origins": [args.zoom_url]}
    store.add_connector(
        ConnectorConfig(tenant_id=tenant.id, connector_type="zoom", name="zoom", configuration=configuration)
    )
    token = args.token_file.read_text(encoding="utf-8").strip()
    store.put_credential(Credential(tenant_id=tenant.id, provider="zoom", kind="oauth2", access_token=token))  # type: ignore[arg-type]
    raw_key, _ = store.create_api_key(tenant.id, name="e2e")
    app = create_mcp_app(store, registry, settings=McpSettings.for_local_bind(args.port))
    temporary = args.key_file.with_suffix(".tmp")
    temporary.write_text(raw_key, encoding="utf-8")
    os.replace(temporary, args.key_file)  # the test never reads a half-written key
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", lifespan="on")


if __name__ == "__main__":
    main()
