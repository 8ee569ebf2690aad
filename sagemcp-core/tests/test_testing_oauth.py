"""sagemcp.testing.FakeAuthorizationServer: a token endpoint that checks what OAuthFlows sends."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from sagemcp import OAuth2
from sagemcp.errors import TokenEndpointError
from sagemcp.platform import OAuthApp, OAuthFlows
from sagemcp.testing import FakeAuthorizationServer, form_of

TOKEN_URL = "https://auth.example/token"
REDIRECT = "https://mcp.example/callback"
APP = OAuthApp(tenant_id="t1", provider="demo", client_id="client-1", client_secret=SecretStr("secret-1"))


def scheme(method: str = "client_secret_post") -> OAuth2:
    return OAuth2(
        authorize_url="https://auth.example/authorize",
        token_url=TOKEN_URL,
        scopes=("read",),
        token_auth_method=method,  # type: ignore[arg-type]
    )


def fake(**kwargs: object) -> FakeAuthorizationServer:
    return FakeAuthorizationServer(
        TOKEN_URL,
        client_id="client-1",
        client_secret="secret-1",
        redirect_uri=REDIRECT,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("method", ["client_secret_post", "client_secret_basic"])
async def test_the_code_exchange_and_rotating_refreshes(method: str) -> None:
    provider = fake(client_auth=method)
    flows = OAuthFlows(transport=httpx.MockTransport(provider))
    credential = await provider.authorize(flows, scheme(method), APP, tenant_id="t1", provider="demo", scopes=["read"])
    assert credential.require_token() == "access-1" and credential.refresh_token is not None
    assert form_of(provider.requests[0])["code"] == "auth-code" and provider.challenge
    renewed = await flows.refresh(scheme(method), APP, credential)
    assert renewed.require_token() == "access-2" and provider.spent == {"refresh-1"}
    with pytest.raises(TokenEndpointError) as caught:  # a rotated refresh token works once
        await flows.refresh(scheme(method), APP, credential)
    assert caught.value.error == "invalid_grant" and caught.value.status == 400
    assert provider.issued == 2


async def test_the_client_authentication_the_scheme_uses_is_checked() -> None:
    provider = fake(client_auth="client_secret_basic")
    flows = OAuthFlows(transport=httpx.MockTransport(provider))
    with pytest.raises(AssertionError, match="Basic"):
        await provider.authorize(flows, scheme("client_secret_post"), APP, tenant_id="t1", provider="demo")


async def test_a_wrong_verifier_or_code_is_refused() -> None:
    provider = fake(refusal_status=403)
    flows = OAuthFlows(transport=httpx.MockTransport(provider))
    _, pending = flows.begin(scheme(), APP, tenant_id="t1", provider="demo", redirect_uri=REDIRECT, scopes=[])
    provider.challenge = "not-the-challenge"
    with pytest.raises(TokenEndpointError) as caught:
        await flows.complete(
            scheme(), APP, pending, code="auth-code", state=pending.state, tenant_id="t1", provider="demo"
        )
    assert caught.value.status == 403 and provider.issued == 0


async def test_a_subclass_answers_other_urls_and_grants() -> None:
    class Provider(FakeAuthorizationServer):
        async def other_request(self, request: httpx.Request) -> httpx.Response | None:
            if request.url.path == "/me":
                return httpx.Response(200, json={"token": request.headers["authorization"]})
            return None

    provider = Provider(TOKEN_URL, client_id="client-1", client_secret="secret-1", redirect_uri=REDIRECT)
    async with httpx.AsyncClient(transport=httpx.MockTransport(provider)) as http:
        me = await http.get("https://auth.example/me", headers={"Authorization": "Bearer access-1"})
        assert me.json() == {"token": "Bearer access-1"}
        with pytest.raises(AssertionError, match="unexpected grant type 'password'"):
            await http.post(
                TOKEN_URL, data={"grant_type": "password", "client_id": "client-1", "client_secret": "secret-1"}
            )
