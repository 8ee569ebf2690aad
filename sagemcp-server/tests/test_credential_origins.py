"""A stored credential is bound to the upstream origins of the tenant's connectors when it is stored or
authorized, and the server sends it nowhere else, whoever changes a connector's host afterwards.

The upstream here is a recording transport in front of the fake provider: every request that leaves the
server is seen, with its host and its Authorization header. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from conftest import ADMIN_KEY, Server, lifespan_in_task, mcp_call
from helpers import CLIENT_ID, CLIENT_SECRET, FAKE_BASE, FakeConnector, FakeProvider
from pydantic import BaseModel, SecretStr, field_validator
from test_api_tenants import assert_error

from sagemcp import (
    BearerToken,
    Connector,
    ConnectorInfo,
    ConnectorSettings,
    Credential,
    OAuth2,
    ToolContext,
    tool,
    validate_api_url,
)
from sagemcp.platform import ConnectorRegistry
from sagemcp_server.app import create_app
from sagemcp_server.settings import Settings

HOME = "https://fake.example"
ELSEWHERE = "https://evil.example"
BASE = "/api/v1/admin/tenants/acme"


class HostedConfig(ConnectorSettings):
    api_url: str = HOME

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        return validate_api_url(value, example=HOME)


class HostedConnector(Connector):
    """Like GitHub's: the API host is the tenant's to configure (GitHub Enterprise)."""

    info = ConnectorInfo(id="hosted", title="Hosted", description="A configurable API host.")
    auth = (
        OAuth2(authorize_url=FAKE_BASE + "/authorize", token_url=FAKE_BASE + "/token", scopes=("read",)),
        BearerToken(),
    )
    Config = HostedConfig

    @classmethod
    def api_base_url(cls, config: BaseModel, credential: Credential | None) -> str:
        assert isinstance(config, HostedConfig)
        return config.api_url + "/api/"

    @tool(read_only=True, group="read")
    async def whoami(self, ctx: ToolContext) -> dict[str, Any]:
        """Who the credential acts as."""
        data: dict[str, Any] = (await ctx.http.get("whoami")).json()
        return data


class Recorder(httpx.AsyncBaseTransport):
    """Every upstream request, as (origin, Authorization header), then the fake provider answers."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.sent: list[tuple[str, str | None]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((f"{request.url.scheme}://{request.url.host}", request.headers.get("authorization")))
        return await self.inner.handle_async_request(request)

    def tokens_at(self, origin: str) -> set[str]:
        return {auth.removeprefix("Bearer ") for o, auth in self.sent if o == origin and auth}


@pytest.fixture
async def srv(settings: Settings, provider: FakeProvider) -> AsyncIterator[tuple[Server, Recorder]]:
    provider_transport = httpx.ASGITransport(app=provider.app())
    recorder = Recorder(provider_transport)
    registry = ConnectorRegistry([HostedConnector, FakeConnector])
    app = create_app(settings, registry=registry, oauth_transport=provider_transport, upstream_transport=recorder)
    async with lifespan_in_task(app):
        admin = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://127.0.0.1:8000",
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        )
        async with admin:
            yield Server(app, admin, provider, provider_transport), recorder


async def whoami(server: Server, key: str, connector: str = "hosted") -> dict[str, Any]:
    async with server.client(key) as client:
        r = await mcp_call(client, f"/api/v1/acme/connectors/{connector}/mcp", "tools/call", {"name": "hosted_whoami"})
    result: dict[str, Any] = r.json()["result"]
    return result


def text(result: dict[str, Any]) -> str:
    return " ".join(part.get("text", "") for part in result["content"])


async def test_a_host_change_never_receives_the_stored_token(srv: tuple[Server, Recorder]) -> None:
    server, recorder = srv
    await server.tenant("acme")
    await server.connector("acme", "hosted")
    stored = await server.admin.put(f"{BASE}/credentials/hosted", json={"token": "pat-bound-0001"})
    assert stored.json()["origins"] == [HOME]
    key = await server.key("acme", ["mcp", "admin"])
    assert (await whoami(server, key))["structuredContent"] == {"login": "token-user"}
    # a tenant admin key points the connector at its own host
    async with server.client(key) as tenant_admin:
        r = await tenant_admin.patch(f"{BASE}/connectors/hosted", json={"configuration": {"api_url": ELSEWHERE}})
        assert r.status_code == 200, r.text
    result = await whoami(server, key)
    assert result["isError"] is True
    expected = f"the stored hosted credential was issued for {HOME}; store it again for {ELSEWHERE}"
    assert expected in text(result), text(result)
    assert recorder.tokens_at(ELSEWHERE) == set()
    # another connector of the same provider on that host gets nothing either
    async with server.client(key) as tenant_admin:
        r = await tenant_admin.post(
            f"{BASE}/connectors",
            json={"connector_type": "hosted", "name": "second", "configuration": {"api_url": ELSEWHERE}},
        )
        assert r.status_code == 201, r.text
    assert (await whoami(server, key, "second"))["isError"] is True
    assert recorder.tokens_at(ELSEWHERE) == set()
    # storing the credential again binds it to the connectors as they are now
    async with server.client(key) as tenant_admin:
        r = await tenant_admin.put(f"{BASE}/credentials/hosted", json={"token": "pat-bound-0002"})
    assert r.json()["origins"] == [ELSEWHERE]
    assert (await whoami(server, key))["structuredContent"] == {"login": "token-user"}
    assert recorder.tokens_at(ELSEWHERE) == {"pat-bound-0002"}
    assert recorder.tokens_at(HOME) == {"pat-bound-0001"}


async def test_a_credential_stored_before_its_connector_is_bound_to_the_default_host(
    srv: tuple[Server, Recorder],
) -> None:
    server, recorder = srv
    await server.tenant("acme")
    stored = await server.admin.put(f"{BASE}/credentials/hosted", json={"token": "pat-early-0001"})
    assert stored.status_code == 200 and stored.json()["origins"] == [HOME]
    await server.connector("acme", "hosted", configuration={"api_url": ELSEWHERE})
    key = await server.key("acme", ["mcp"])
    assert (await whoami(server, key))["isError"] is True
    assert recorder.sent == []


async def test_only_the_platform_admin_rebinds(srv: tuple[Server, Recorder]) -> None:
    server, recorder = srv
    await server.tenant("acme")
    await server.connector("acme", "hosted")
    await server.admin.put(f"{BASE}/credentials/hosted", json={"token": "pat-rebind-001"})
    await server.admin.patch(f"{BASE}/connectors/hosted", json={"configuration": {"api_url": ELSEWHERE}})
    tenant_admin = await server.key("acme", ["admin", "mcp"])
    async with server.client(tenant_admin) as client:
        assert_error(await client.post(f"{BASE}/credentials/hosted/rebind"), 403, "platform_admin_required")
    assert recorder.tokens_at(ELSEWHERE) == set()
    r = await server.admin.post(f"{BASE}/credentials/hosted/rebind")
    assert r.status_code == 200 and r.json()["origins"] == [ELSEWHERE], r.text
    assert (await whoami(server, tenant_admin))["structuredContent"] == {"login": "token-user"}
    assert recorder.tokens_at(ELSEWHERE) == {"pat-rebind-001"}
    assert_error(await server.admin.post(f"{BASE}/credentials/nothing/rebind"), 404, "credential_not_found")


async def test_an_oauth_credential_is_bound_when_authorized_and_keeps_the_binding_when_refreshed(
    srv: tuple[Server, Recorder],
) -> None:
    server, recorder = srv
    await server.tenant("acme")
    await server.connector("acme", "hosted")
    r = await server.admin.put(
        f"{BASE}/oauth-apps/hosted", json={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    )
    assert r.status_code == 200, r.text
    r = await server.admin.post("/api/v1/oauth/acme/hosted/authorize", json={})
    async with server.browser() as browser:
        at_provider = await server.open_link(r.json()["authorization_url"], browser)
        callback = (await browser.get(at_provider)).headers["location"]
        done = await browser.get(callback.removeprefix("https://sagemcp.test"))
    assert done.status_code == 200, done.text
    store = server.services.store
    tenant = await store.get_tenant("acme")
    connected = await store.get_credential(tenant.id, "hosted")
    assert connected.origins == (HOME,)
    # expire it: the next call refreshes it, and the refreshed token keeps the binding
    await store.put_credential(connected.model_copy(update={"expires_at": time.time() - 5}))
    key = await server.key("acme", ["mcp"])
    assert (await whoami(server, key))["structuredContent"] == {"login": "octocat"}
    refreshed = await store.get_credential(tenant.id, "hosted")
    assert refreshed.access_token != connected.access_token and refreshed.origins == (HOME,)
    await server.admin.patch(f"{BASE}/connectors/hosted", json={"configuration": {"api_url": ELSEWHERE}})
    assert (await whoami(server, key))["isError"] is True
    assert recorder.tokens_at(ELSEWHERE) == set()


async def test_the_store_writes_origins_only_when_a_credential_is_stored(srv: tuple[Server, Recorder]) -> None:
    server, _ = srv
    store = server.services.store
    tenant = (await store.create_tenant("acme")).item
    first = await store.put_credential(
        Credential(tenant_id=tenant.id, provider="hosted", kind="bearer", access_token=SecretStr("a"), origins=(HOME,))
    )
    rebuilt = Credential(
        tenant_id=tenant.id, provider="hosted", kind="bearer", access_token=SecretStr("b"), version=first.version + 1
    )
    assert await store.swap_credential(first.version, rebuilt)
    assert (await store.get_credential(tenant.id, "hosted")).origins == (HOME,)
    rebound = await store.rebind_credential(tenant.id, "hosted", [ELSEWHERE])
    assert rebound is not None and rebound.origins == (ELSEWHERE,) and rebound.version == first.version + 2
    assert await store.delete_credential(tenant.id, "hosted")
    assert await store.rebind_credential(tenant.id, "hosted", [HOME]) is None
    legacy = await store.put_credential(
        Credential(tenant_id=tenant.id, provider="hosted", kind="bearer", access_token=SecretStr("c"))
    )
    assert (await store.get_credential(tenant.id, "hosted")).origins is None and legacy.origins is None
