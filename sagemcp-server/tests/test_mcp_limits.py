"""The server's limits on what tenants hold: MCP sessions and streams (settings, metrics, revocation through the
admin API) and connectors per tenant."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
from conftest import ADMIN_KEY, Server

from sagemcp.platform import ConnectorRegistry
from sagemcp.testing import serve
from sagemcp_server.app import create_app
from sagemcp_server.settings import Settings


def test_mcp_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    for name, value in {
        "SAGEMCP_MCP_MAX_SESSIONS": "900",
        "SAGEMCP_MCP_MAX_SESSIONS_PER_TENANT": "90",
        "SAGEMCP_MCP_MAX_SESSIONS_PER_KEY": "9",
        "SAGEMCP_MCP_MAX_STREAMS": "800",
        "SAGEMCP_MCP_MAX_STREAMS_PER_TENANT": "80",
        "SAGEMCP_MCP_MAX_STREAMS_PER_KEY": "8",
        "SAGEMCP_MCP_STREAM_IDLE_TIMEOUT": "120",
        "SAGEMCP_MCP_SESSION_IDLE_TIMEOUT": "600",
        "SAGEMCP_MCP_TOOLS_PAGE_SIZE": "50",
        "SAGEMCP_MAX_CONNECTORS_PER_TENANT": "7",
    }.items():
        monkeypatch.setenv(name, value)
    configured = Settings(**settings.model_dump(exclude_unset=True))
    mcp = create_app(configured).state.services.mcp.settings
    assert (mcp.max_sessions, mcp.max_sessions_per_tenant, mcp.max_sessions_per_key) == (900, 90, 9)
    assert (mcp.max_streams, mcp.max_streams_per_tenant, mcp.max_streams_per_key) == (800, 80, 8)
    assert (mcp.stream_idle_timeout, mcp.session_idle_timeout, mcp.tools_page_size) == (120, 600, 50)
    assert configured.max_connectors_per_tenant == 7


async def test_connectors_per_tenant_are_limited(server: Server) -> None:
    server.services.settings.max_connectors_per_tenant = 2
    await server.tenant("acme")
    await server.tenant("globex")
    await server.connector("acme", "demo", "one")
    await server.connector("acme", "demo", "two")
    r = await server.admin.post(
        "/api/v1/admin/tenants/acme/connectors", json={"connector_type": "demo", "name": "three"}
    )
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["code"] == "connector_limit_reached"
    assert "Tenant 'acme' has 2 connectors" in error["message"] and "Delete connectors" in error["message"]
    # another tenant's room is its own
    await server.connector("globex", "demo", "one")
    assert (await server.admin.delete("/api/v1/admin/tenants/acme/connectors/one")).status_code == 204
    await server.connector("acme", "demo", "three")


@contextlib.asynccontextmanager
async def live(settings: Settings, registry: ConnectorRegistry, **changes: Any) -> AsyncIterator[tuple[str, Any]]:
    """The server app under uvicorn (streams need a real connection), its services."""
    app = create_app(settings.model_copy(update=changes), registry=registry)
    async with serve(app) as base:
        yield base, app.state.services


@contextlib.asynccontextmanager
async def sse(http: httpx.AsyncClient, path: str, key: str) -> AsyncIterator[tuple[httpx.Response, Any]]:
    headers = {"Accept": "text/event-stream", "Authorization": f"Bearer {key}"}
    async with http.stream("GET", path, headers=headers) as response:
        lines = response.aiter_lines()
        if response.status_code == 200:
            async for line in lines:
                if line.startswith("data:"):
                    break
        else:
            await response.aread()
        yield response, lines


async def test_streams_are_limited_counted_and_closed_when_their_key_is_revoked(
    settings: Settings, registry: ConnectorRegistry
) -> None:
    async with (
        live(settings, registry, mcp_max_streams_per_key=1, cache_ttl=60) as (base, services),
        httpx.AsyncClient(base_url=base, timeout=10, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as admin,
    ):
        assert (await admin.post("/api/v1/admin/tenants", json={"slug": "acme", "name": "Acme"})).status_code == 201
        r = await admin.post("/api/v1/admin/tenants/acme/connectors", json={"connector_type": "demo", "name": "demo"})
        assert r.status_code == 201
        created = (
            await admin.post("/api/v1/admin/tenants/acme/api-keys", json={"name": "k", "scopes": ["mcp"]})
        ).json()
        key, key_id = created["key"], created["id"]
        path = "/api/v1/acme/connectors/demo/sse"
        async with httpx.AsyncClient(base_url=base, timeout=10) as http, sse(http, path, key) as (stream, lines):
            assert stream.status_code == 200
            async with sse(http, path, key) as (refused, _):
                assert refused.status_code == 429
                assert refused.json()["error"]["data"] == {"limit": "streams_per_key", "max": 1}
            metrics = (await admin.get("/metrics")).text
            assert 'sagemcp_mcp_open_streams{transport="sse"} 1.0' in metrics
            assert 'sagemcp_mcp_limit_refusals_total{limit="streams_per_key"} 1.0' in metrics
            tenant_id = (await services.store.get_tenant("acme")).id
            assert tenant_id not in metrics and "acme" not in metrics.replace("/api/v1/{tenant}", "")
            # Revoked through the admin API: this replica closes the stream at once (the cache TTL is a minute).
            assert (await admin.delete(f"/api/v1/admin/tenants/acme/api-keys/{key_id}")).status_code == 204
            with anyio.fail_after(3):
                rest = [line async for line in lines]
            assert any("access was revoked" in line for line in rest)
        metrics = (await admin.get("/metrics")).text
        assert 'sagemcp_mcp_open_streams{transport="sse"} 0.0' in metrics
        assert 'sagemcp_mcp_streams_closed_total{reason="revoked"} 1.0' in metrics
