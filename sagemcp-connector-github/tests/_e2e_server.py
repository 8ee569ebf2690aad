"""A real sagemcp MCP server with one tenant using the GitHub connector, for the end-to-end test.

    python tests/_e2e_server.py --github-url http://127.0.0.1:PORT --port PORT --key-file PATH

It builds everything from `sagemcp` core, as an embedder would: a `MemoryStore` with the
tenant `acme`, a GitHub connector (configured with the fake GitHub's URL: loopback http
is the one non-https URL the connector's configuration accepts), a personal access
token credential and an API key, which it writes to `--key-file` before serving
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
from sagemcp_github import GitHubConnector

PAT = "ghp_test_e2e_0123456789abcdefghijklmnopqrstu"


def build(github_url: str) -> tuple[MemoryStore, str]:
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme", name="Acme Corp"))
    store.add_connector(
        ConnectorConfig(
            tenant_id=tenant.id,
            connector_type="github",
            name="github",
            configuration={"api_url": github_url},
        )
    )
    store.put_credential(Credential(tenant_id=tenant.id, provider="github", kind="bearer", access_token=PAT))
    raw_key, _ = store.create_api_key(tenant.id, name="e2e")
    return store, raw_key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--github-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--key-file", type=Path, required=True)
    args = parser.parse_args()

    store, raw_key = build(args.github_url)
    app = create_mcp_app(store, ConnectorRegistry([GitHubConnector]), settings=McpSettings.for_local_bind(args.port))
    temporary = args.key_file.with_suffix(".tmp")
    temporary.write_text(raw_key, encoding="utf-8")
    os.replace(temporary, args.key_file)  # the test never reads a half-written key
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", lifespan="on")


if __name__ == "__main__":
    main()
