"""`OAuth2.post_authorize`: after the code exchange, with a client sending the new token; its result kept
in `Credential.extra[POST_AUTHORIZE_KEY]`, and any failure failing the authorization."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from sagemcp import POST_AUTHORIZE_KEY, UNREACHABLE, Credential, LinkedToken, OAuth2
from sagemcp.errors import OAuthError, TokenEndpointError
from sagemcp.platform import Authorization, OAuthApp, OAuthFlows

TOKEN_URL = "https://auth.atlassian.com/oauth/token"
RESOURCES_URL = "https://api.atlassian.com/oauth/token/accessible-resources"
CLIENT_SECRET = "atlassian-client-secret"
APP = OAuthApp(tenant_id="t1", provider="jira", client_id="client-1", client_secret=SecretStr(CLIENT_SECRET))
SITES = [
    {
        "id": "1324a887-45db-1bf4-1e99-ef0ff456d421",
        "url": "https://acme.atlassian.net",
        "name": "acme",
        "scopes": ["read:jira-work"],
        "avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/flag.png",
    }
]


async def accessible_resources(credential: Credential, http: httpx.AsyncClient) -> Mapping[str, Any]:
    """What an Atlassian connector does: ask which sites (cloud ids) the new grant reaches."""
    response = await http.get(RESOURCES_URL)
    response.raise_for_status()
    return {"sites": [{"cloud_id": s["id"], "url": s["url"], "name": s["name"]} for s in response.json()]}


SCHEME = OAuth2(
    authorize_url="https://auth.atlassian.com/authorize",
    token_url=TOKEN_URL,
    scopes=("read:jira-work", "offline_access"),
    extra_authorize_params={"audience": "api.atlassian.com", "prompt": "consent"},
    post_authorize=accessible_resources,
)


class Provider:
    """Atlassian's token endpoint and accessible-resources, with the requests they received."""

    def __init__(self, resources: Callable[[httpx.Request], httpx.Response] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.resources = resources or self.sites

    @staticmethod
    def sites(request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != "Bearer new-access":
            return httpx.Response(401, json={"code": 401, "message": "Unauthorized"})
        return httpx.Response(200, json=SITES)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if str(request.url) == TOKEN_URL:
            body = {"access_token": "new-access", "refresh_token": "new-refresh", "expires_in": 3600}
            return httpx.Response(200, json=body)
        if str(request.url) == RESOURCES_URL:
            return self.resources(request)
        return httpx.Response(404)


async def connect(provider: Provider, scheme: OAuth2 = SCHEME) -> Authorization:
    flows = OAuthFlows(transport=httpx.MockTransport(provider))
    _, pending = flows.begin(scheme, APP, tenant_id="t1", provider="jira", redirect_uri="https://x/cb", scopes=[])
    return await flows.complete(
        scheme, APP, pending, code="the-code", state=pending.state, tenant_id="t1", provider="jira"
    )


async def test_the_hook_runs_after_the_exchange_with_the_new_token_and_its_result_is_kept() -> None:
    provider = Provider()
    authorization = await connect(provider)
    assert [str(r.url) for r in provider.requests] == [TOKEN_URL, RESOURCES_URL]
    assert provider.requests[1].headers["authorization"] == "Bearer new-access"
    credential = authorization.credential
    assert credential.extra[POST_AUTHORIZE_KEY] == {
        "sites": [{"cloud_id": SITES[0]["id"], "url": "https://acme.atlassian.net", "name": "acme"}]
    }
    assert credential.require_token() == "new-access"


async def test_the_result_survives_a_refresh() -> None:
    provider = Provider()
    credential = (await connect(provider)).credential
    refreshed = await OAuthFlows(transport=httpx.MockTransport(provider)).refresh(SCHEME, APP, credential)
    assert refreshed.extra[POST_AUTHORIZE_KEY] == credential.extra[POST_AUTHORIZE_KEY]
    assert [str(r.url) for r in provider.requests].count(RESOURCES_URL) == 1  # not called again


async def test_linked_credentials_are_left_alone() -> None:
    def hook(raw: dict[str, Any]) -> dict[str, Any]:
        return {**raw, "linked": {"user": {"access_token": "user-token"}}}

    scheme = dataclasses.replace(SCHEME, token_response_hook=hook, linked_tokens=(LinkedToken("user", "user_scope"),))
    authorization = await connect(Provider(), scheme)
    assert POST_AUTHORIZE_KEY in authorization.credential.extra
    assert POST_AUTHORIZE_KEY not in authorization.linked["user"].extra


async def raises(credential: Credential, http: httpx.AsyncClient) -> Mapping[str, Any]:
    raise KeyError("cloudId")


async def not_a_mapping(credential: Credential, http: httpx.AsyncClient) -> Any:
    return ["a", "list"]


async def not_json(credential: Credential, http: httpx.AsyncClient) -> Mapping[str, Any]:
    return {"when": object()}


async def too_big(credential: Credential, http: httpx.AsyncClient) -> Mapping[str, Any]:
    return {"blob": "x" * 70_000}


async def refuses(credential: Credential, http: httpx.AsyncClient) -> Mapping[str, Any]:
    raise OAuthError("no Jira site is reachable with this grant: pick a site when authorizing")


@pytest.mark.parametrize(
    ("hook", "message"),
    [
        (raises, r"could not complete the authorization \(KeyError\)"),
        (not_a_mapping, "did not return a mapping"),
        (not_json, "not JSON"),
        (too_big, "more than 65536 bytes"),
        (refuses, "no Jira site is reachable"),
    ],
)
async def test_a_failing_hook_fails_the_authorization(hook: Any, message: str) -> None:
    with pytest.raises(OAuthError, match=message) as caught:
        await connect(Provider(), dataclasses.replace(SCHEME, post_authorize=hook))
    assert "new-access" not in caught.value.message and CLIENT_SECRET not in caught.value.message


@pytest.mark.parametrize(
    ("reply", "status", "error"),
    [
        (lambda request: httpx.Response(403, json={"message": "forbidden"}), 403, None),
        (lambda request: httpx.Response(503), 503, UNREACHABLE),
        (lambda request: (_ for _ in ()).throw(httpx.ConnectError("down", request=request)), None, UNREACHABLE),
    ],
)
async def test_provider_failures_in_the_hook_are_token_endpoint_errors(
    reply: Callable[[httpx.Request], httpx.Response], status: int | None, error: str | None
) -> None:
    with pytest.raises(TokenEndpointError, match="nothing was stored") as caught:
        await connect(Provider(reply))
    assert (caught.value.status, caught.value.error) == (status, error)
    assert "new-access" not in caught.value.message
