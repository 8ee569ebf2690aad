"""Embedding sagemcp in your own Starlette application, with an in-memory tenant store."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import Mount

from sagemcp import Credential
from sagemcp.mcp import create_mcp_app
from sagemcp.platform import ConnectorConfig, ConnectorRegistry, MemoryStore, Tenant

from .weather import WeatherConnector


def build() -> tuple[Starlette, str]:
    """The host app and the API key its demo tenant uses."""
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme", name="Acme"))
    store.add_connector(ConnectorConfig(tenant_id=tenant.id, connector_type="weather", name="weather"))
    store.put_credential(Credential(tenant_id=tenant.id, provider="weather", kind="api_key", access_token="wk-123"))
    api_key, _ = store.create_api_key(tenant.id, name="claude")

    mcp_app = create_mcp_app(store, ConnectorRegistry([WeatherConnector]))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with mcp_app.lifespan():  # a mounted app's own lifespan does not run
            yield

    app = Starlette(routes=[Mount("/mcp-api", app=mcp_app)], lifespan=lifespan)
    return app, api_key


if __name__ == "__main__":
    import uvicorn

    app, key = build()
    print(f"MCP URL: http://127.0.0.1:8000/mcp-api/acme/connectors/weather/mcp\nAPI key: {key}")
    uvicorn.run(app, host="127.0.0.1", port=8000)
