"""End to end: the official MCP client calls the Zoom tools over Streamable HTTP.

Core's MCP app runs under uvicorn on 127.0.0.1 (`sagemcp.testing.serve`) with a `MemoryStore`
holding tenant `acme`, its `zoom` connector, a credential and an API key; the tools reach a fake
Zoom API (`zoom_support.FakeZoom`) that checks every request against the description and
answers with its examples.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import httpx2
import pytest
from zoom_support import FakeZoom, example, expected_auth
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from sagemcp import ConnectorConfig, ConnectorRegistry, MemoryStore, Tenant, UpstreamClient
from sagemcp.mcp import McpSettings, create_mcp_app
from sagemcp.testing import OpenAPIValidator, fake_credential, serve
from sagemcp_zoom import ZoomConnector
from sagemcp_zoom.connector import DEFAULT_API_URL
from sagemcp_zoom.models import Item

pytestmark = pytest.mark.e2e

TOKEN = "e2e-token"
TIMEOUT = 30.0


@dataclass
class Server:
    url: str
    """The MCP endpoint of tenant `acme`'s `zoom` connector."""
    api_key: str
    upstream: FakeZoom


@pytest.fixture
async def server(zoom_description: OpenAPIValidator) -> AsyncIterator[Server]:
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme", name="Acme Corp"))
    store.add_connector(ConnectorConfig(tenant_id=tenant.id, connector_type="zoom", name="zoom"))
    credential = fake_credential(ZoomConnector, TOKEN)
    assert credential is not None
    store.put_credential(credential.model_copy(update={"tenant_id": tenant.id}))
    api_key, _ = store.create_api_key(tenant.id, name="e2e")
    fake = FakeZoom(zoom_description)
    upstream = UpstreamClient(transport=httpx.MockTransport(fake))
    app = create_mcp_app(store, ConnectorRegistry([ZoomConnector]), upstream=upstream, settings=McpSettings())
    try:
        async with serve(app) as base:
            yield Server(f"{base}/acme/connectors/zoom/mcp", api_key, fake)
    finally:
        await upstream.aclose()


async def test_a_tool_call_reaches_the_api_with_the_tenants_credential(server: Server) -> None:
    headers = {"Authorization": f"Bearer {server.api_key}"}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(TIMEOUT)) as http:
        async with Client(streamable_http_client(server.url, http_client=http)) as client:  # type: ignore[arg-type]
            names = {tool.name for tool in (await client.list_tools()).tools}
            result = await client.call_tool("zoom_get_item", {"item_id": "itm_1"})

    assert names == set(ZoomConnector.tools)
    assert not result.is_error, result.content
    (request,) = server.upstream.requests
    assert str(request.url) == f"{DEFAULT_API_URL}/items/itm_1"
    header, value = expected_auth(TOKEN)
    assert request.headers[header] == value
    (operation,) = server.upstream.operations
    item = Item.from_api(example(server.upstream.validator, operation))
    assert result.structured_content == item.model_dump(mode="json", exclude_none=True)
    assert [getattr(part, "text", None) for part in result.content] == [item.to_markdown()]


async def test_a_wrong_api_key_reaches_nothing(server: Server) -> None:
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        response = await http.post(
            server.url,
            headers={"Authorization": "Bearer not-a-key", "Accept": "application/json, text/event-stream"},
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "zoom_list_items"}},
        )
    assert response.status_code == 401
    assert server.upstream.requests == []
