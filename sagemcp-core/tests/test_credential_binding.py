"""A credential goes only to the upstream origins it was stored for (`Credential.origins`).

Whoever can change a connector's host (a tenant admin key) must not be able to make the next tool call
carry the stored token there: the request is refused before anything is sent, saying to store the
credential again. A refresh keeps the binding; only storing the credential binds it anew.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, SecretStr, field_validator

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
from sagemcp.errors import ReconnectRequired
from sagemcp.platform import (
    CredentialManager,
    MemoryStore,
    OAuthApp,
    OAuthFlows,
    Tenant,
    UpstreamClient,
    credential_binding,
)
from sagemcp.testing import call_tool

TOKEN = "stored-token-7f3e9a"


class HostConfig(ConnectorSettings):
    api_url: str = "https://api.example.com"

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        return validate_api_url(value, example="https://api.example.com")


class Hosted(Connector):
    """A connector whose host comes from the tenant's configuration, with a declared file host."""

    info = ConnectorInfo(id="hosted", title="Hosted", description="A configurable host.")
    auth = (
        OAuth2(authorize_url="https://auth.example/authorize", token_url="https://auth.example/token"),
        BearerToken(),
    )
    Config = HostConfig
    extra_origins = ("https://FILES.example.com:443",)

    @classmethod
    def api_base_url(cls, config: BaseModel, credential: Credential | None) -> str:
        assert isinstance(config, HostConfig)
        return config.api_url + "/v1"

    @tool(read_only=True, group="read")
    async def whoami(self, ctx: ToolContext) -> dict[str, Any]:
        """Who the credential acts as."""
        data: dict[str, Any] = (await ctx.http.get("user")).json()
        return data

    @tool(read_only=True, group="read")
    async def download(self, ctx: ToolContext) -> str:
        """Fetch a file from the file host."""
        return (await ctx.http.get("https://files.example.com/f/1")).text


def bound_to(*origins: str, token: str = TOKEN) -> Credential:
    return Credential(
        tenant_id="test", provider="hosted", kind="bearer", access_token=SecretStr(token), origins=origins
    )


def answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"login": "octocat"})


def test_the_binding_is_the_base_urls_origin_and_the_declared_ones() -> None:
    settings = Hosted.parse_config({"api_url": "https://GHE.Example.com:443/api"})
    assert credential_binding(Hosted, settings, None) == ("https://ghe.example.com", "https://files.example.com")


async def test_a_changed_host_gets_nothing_and_is_told_to_store_the_credential_again() -> None:
    stored_for = credential_binding(Hosted, Hosted.parse_config({}), None)
    call = await call_tool(
        Hosted, "whoami", handler=answer, credential=bound_to(*stored_for), config={"api_url": "https://evil.example"}
    )
    assert call.is_error and call.requests == []
    assert call.code == "reconnect_required"
    assert (
        "the stored hosted credential was issued for https://api.example.com, https://files.example.com; "
        "store it again for https://evil.example"
    ) in call.text
    assert TOKEN not in call.text


async def test_the_host_it_was_stored_for_still_works() -> None:
    stored_for = credential_binding(Hosted, Hosted.parse_config({}), None)
    call = await call_tool(Hosted, "whoami", handler=answer, credential=bound_to(*stored_for))
    assert not call.is_error and call.structured == {"login": "octocat"}
    assert call.request.url == "https://api.example.com/v1/user"
    assert call.request.headers["authorization"] == f"Bearer {TOKEN}"


async def test_a_declared_origin_the_credential_was_not_stored_for_gets_nothing() -> None:
    call = await call_tool(Hosted, "download", handler=answer, credential=bound_to("https://api.example.com"))
    assert call.is_error and call.requests == []
    assert "store it again for https://files.example.com" in call.text


async def test_a_credential_bound_to_nothing_goes_nowhere_and_an_unbound_one_goes_as_before() -> None:
    nowhere = await call_tool(Hosted, "whoami", handler=answer, credential=bound_to())
    assert nowhere.is_error and nowhere.requests == [] and "issued for no host" in nowhere.text
    unbound = Credential(tenant_id="test", provider="hosted", kind="bearer", access_token=SecretStr(TOKEN))
    assert unbound.origins is None
    call = await call_tool(
        Hosted, "whoami", handler=answer, credential=unbound, config={"api_url": "https://x.example"}
    )
    assert not call.is_error and call.request.url.host == "x.example"


async def test_the_bound_client_refuses_before_sending() -> None:
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(200))
    async with UpstreamClient(transport=transport) as client:
        bound = client.bind(
            base_url="https://moved.example/v1",
            provider="hosted",
            headers={"Authorization": f"Bearer {TOKEN}"},
            bound_origins=["https://api.example.com"],
        )
        for url in ("user", "/user", "https://moved.example/v1/user"):
            with pytest.raises(ReconnectRequired, match="Nothing was sent"):
                await bound.get(url)
        # another client for a host that must not see the credential is not bound: it carries none
        assert (await bound.for_origin("https://storage.example").get("blob")).status == 200
    assert [str(r.url) for r in sent] == ["https://storage.example/blob"]
    assert "authorization" not in sent[0].headers


# -- a refresh keeps the binding --------------------------------------------------------------------------


async def test_a_refreshed_credential_keeps_the_origins_it_was_stored_for() -> None:
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme"))
    store.put_oauth_app(OAuthApp(tenant_id=tenant.id, provider="hosted", client_id="cid", client_secret="cs-1"))
    origins = ("https://api.example.com", "https://files.example.com")
    store.put_credential(
        Credential(
            tenant_id=tenant.id,
            provider="hosted",
            kind="oauth2",
            access_token=SecretStr("old-access"),
            refresh_token=SecretStr("old-refresh"),
            expires_at=time.time() - 10,
            origins=origins,
        )
    )

    def token_endpoint(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"access_token": "new-access", "refresh_token": "new-refresh"})

    manager = CredentialManager(store, OAuthFlows(transport=httpx.MockTransport(token_endpoint)))
    fresh = await manager.get(tenant.id, "hosted", Hosted)
    assert fresh is not None and fresh.access_token is not None
    assert fresh.access_token.get_secret_value() == "new-access"
    assert fresh.origins == origins
    stored = await store.get_credential(tenant.id, "hosted")
    assert stored is not None and stored.origins == origins and stored.version == fresh.version


async def test_a_swap_never_changes_the_stored_origins() -> None:
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme"))
    first = store.put_credential(bound_to("https://api.example.com").model_copy(update={"tenant_id": tenant.id}))
    rebuilt = Credential(
        tenant_id=tenant.id, provider="hosted", kind="bearer", access_token=SecretStr("t2"), version=first.version + 1
    )
    assert await store.swap_credential(first.version, rebuilt)
    stored = await store.get_credential(tenant.id, "hosted")
    assert stored is not None and stored.origins == ("https://api.example.com",)
    assert stored.access_token is not None and stored.access_token.get_secret_value() == "t2"
