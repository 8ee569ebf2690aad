"""`SAGEMCP_UPSTREAM_PROXY` (and the standard proxy variables): a tool call and its token refresh leave
through the same forward proxy, and `NO_PROXY` hosts are reached directly.

The provider is a real HTTP server on 127.0.0.1 (the fake authorization server and API
of `helpers.FakeProvider`), the proxy a real forward proxy: the test reads what it relayed.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from conftest import ADMIN_KEY, Server, lifespan_in_task, mcp_call
from helpers import FakeProvider
from pydantic import SecretStr, ValidationError

from sagemcp import Connector, ConnectorInfo, Credential, OAuth2, ToolContext, tool
from sagemcp.platform import ConnectorRegistry
from sagemcp.testing import ForwardProxy, serve
from sagemcp_server.app import create_app
from sagemcp_server.settings import Settings

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def provider_connector(base: str) -> type[Connector]:
    """A connector whose OAuth endpoints and API are the fake provider at `base` (known only once it runs)."""

    class ProxiedFake(Connector):
        info = ConnectorInfo(id="fake", title="Fake", description="The fake provider, reached over real HTTP.")
        auth = (OAuth2(authorize_url=base + "/authorize", token_url=base + "/token", scopes=("read",)),)
        base_url = base + "/api/"

        @tool(read_only=True, group="read")
        async def whoami(self, ctx: ToolContext) -> dict[str, Any]:
            """Who the credential acts as."""
            return dict((await ctx.http.get("whoami")).json())

    return ProxiedFake


@asynccontextmanager
async def running(configure: Callable[[ForwardProxy], Settings]) -> AsyncIterator[tuple[Server, ForwardProxy, str]]:
    """The server, with the settings `configure` makes once the proxy runs; the proxy; the provider's URL."""
    provider = FakeProvider()
    async with ForwardProxy() as proxy, serve(provider.app()) as base:
        registry = ConnectorRegistry([provider_connector(base)])
        # No transports given: the server reaches the provider over the network, as in production.
        app = create_app(configure(proxy), registry=registry)
        async with lifespan_in_task(app):
            admin = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://127.0.0.1:8000",
                headers={"Authorization": f"Bearer {ADMIN_KEY}"},
            )
            async with admin:
                yield Server(app, admin, provider, httpx.ASGITransport(app=provider.app())), proxy, base


async def expired_connection(server: Server) -> str:
    """Tenant `acme` with the fake connector and a credential whose access token expired; its API key."""
    await server.tenant("acme")
    await server.connector("acme", "fake")
    await server.oauth_app("acme")
    store = server.services.store
    tenant = await store.get_tenant("acme")
    server.provider.refresh_tokens["fake-rt-proxied"] = "octocat"
    await store.put_credential(
        Credential(
            tenant_id=tenant.id,
            provider="fake",
            access_token="fake-at-expired",
            refresh_token="fake-rt-proxied",
            expires_at=time.time() - 10,
        )
    )
    return await server.key("acme", ["mcp"])


async def whoami(server: Server, key: str) -> dict[str, Any]:
    async with server.client(key) as client:
        response = await mcp_call(client, "/api/v1/acme/connectors/fake/mcp", "tools/call", {"name": "fake_whoami"})
    result: dict[str, Any] = response.json()["result"]
    assert not result["isError"], result
    return dict(result["structuredContent"])


@pytest.mark.parametrize("source", ["setting", "environment"])
async def test_the_refresh_and_the_tool_call_go_through_the_proxy(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    def configured(proxy: ForwardProxy) -> Settings:
        if source == "environment":
            monkeypatch.setenv("HTTP_PROXY", proxy.url)
            return settings
        return settings.model_copy(update={"upstream_proxy": SecretStr(proxy.url)})

    async with running(configured) as (server, proxy, base):
        key = await expired_connection(server)
        assert await whoami(server, key) == {"login": "octocat"}
        assert server.provider.refresh_count == 1
    assert [(r.method, r.url) for r in proxy.requests] == [("POST", f"{base}/token"), ("GET", f"{base}/api/whoami")]
    refresh, call = proxy.requests
    assert b"grant_type=refresh_token" in refresh.content and b"fake-rt-proxied" in refresh.content
    assert call.headers["authorization"].startswith("Bearer fake-at-")


async def test_no_proxy_hosts_are_reached_directly(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")

    def configured(proxy: ForwardProxy) -> Settings:
        return settings.model_copy(update={"upstream_proxy": SecretStr(proxy.url)})

    async with running(configured) as (server, proxy, _base):
        key = await expired_connection(server)
        assert await whoami(server, key) == {"login": "octocat"}
        assert server.provider.refresh_count == 1
    assert proxy.requests == []


def test_the_setting_is_read_from_the_environment_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGEMCP_UPSTREAM_PROXY", "http://user:pw@proxy.internal:3128")
    settings = Settings()
    assert settings.resolved_upstream_proxy() == "http://user:pw@proxy.internal:3128"
    assert "pw@" not in repr(settings)
    monkeypatch.setenv("SAGEMCP_UPSTREAM_PROXY", "")
    assert Settings().resolved_upstream_proxy() is None
    monkeypatch.setenv("SAGEMCP_UPSTREAM_PROXY", "user:secret-pw@proxy.internal:3128")
    with pytest.raises(ValidationError, match="SAGEMCP_UPSTREAM_PROXY: the proxy URL must name its scheme") as bad:
        Settings()
    assert "secret-pw" not in str(bad.value)
