"""Notion OAuth against a local fake authorization server, and internal integration tokens.

The fake answers `https://api.notion.com/v1/oauth/token` and `/v1/users/me` through core's
`OAuthFlows` transport seam: the authorize URL, the code exchange with HTTP Basic client
authentication, the workspace learned after it, refresh with a rotated refresh token, and a
refused code.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from notion_support import fixture_body

from sagemcp import Credential
from sagemcp.errors import TokenEndpointError
from sagemcp.platform import OAuthApp, OAuthFlows
from sagemcp_notion import NotionConnector
from sagemcp_notion.connector import API_VERSION, AUTHORIZE_URL, TOKEN_URL

CLIENT_ID = "notion-client-id"
CLIENT_SECRET = "notion-client-secret-0123456789"
REDIRECT = "https://sagemcp.example/api/v1/oauth/callback/notion"
TOKEN = {
    "access_token": "ntn_access_first_0123456789",
    "token_type": "bearer",
    "refresh_token": "nrt_refresh_first_0123456789",
    "bot_id": "16d84278-ab0e-484c-9bdd-b35da3bd8905",
    "workspace_name": "Acme",
    "workspace_icon": None,
    "workspace_id": "231674b6-2cc1-46bc-b742-c5c9fe4b9c73",
    "owner": {"type": "user", "user": {"object": "user", "id": "5389a034-eb5c-47b5-8a9e-f79c99ef166c"}},
    "duplicated_template_id": None,
    "request_id": "req-1",
}


class FakeNotionAuth:
    """Notion's token endpoint and `GET /v1/users/me`, recording what they received."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.issued = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if str(request.url) == TOKEN_URL:
            form = parse_qs(request.content.decode())
            if form.get("code") == ["refused"]:
                return httpx.Response(400, json={"error": "invalid_grant", "error_description": "Invalid code."})
            self.issued += 1
            answer = dict(TOKEN)
            if form["grant_type"] == ["refresh_token"]:
                answer["access_token"] = f"ntn_access_{self.issued}_0123456789"
                answer["refresh_token"] = f"nrt_refresh_{self.issued}_0123456789"
            return httpx.Response(200, json=answer)
        if request.url.path == "/v1/users/me":
            me = fixture_body("get-self")
            me["bot"] = {"owner": {"type": "user"}, "workspace_name": "Acme", "workspace_id": TOKEN["workspace_id"]}
            return httpx.Response(200, json=me)
        return httpx.Response(404, json={"object": "error", "status": 404, "code": "object_not_found", "message": ""})


def app() -> OAuthApp:
    return OAuthApp(tenant_id="acme", provider="notion", client_id=CLIENT_ID, client_secret=CLIENT_SECRET)  # type: ignore[arg-type]


def scheme() -> Any:
    found = NotionConnector.oauth2()
    assert found is not None
    return found


def basic() -> str:
    return "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()


def test_the_authorize_url_asks_for_the_user_owner_without_scopes_or_pkce() -> None:
    url, pending = OAuthFlows().begin(
        scheme(),
        app(),
        tenant_id="acme",
        provider="notion",
        redirect_uri=REDIRECT,
        scopes=NotionConnector.oauth_scopes(None),
    )
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == AUTHORIZE_URL
    assert query["owner"] == ["user"] and query["response_type"] == ["code"] and query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == [REDIRECT] and query["state"] == [pending.state]
    assert "scope" not in query and "code_challenge" not in query
    assert pending.code_verifier is None


async def authorized(fake: FakeNotionAuth) -> Credential:
    flows = OAuthFlows(transport=httpx.MockTransport(fake))
    _, pending = flows.begin(scheme(), app(), tenant_id="acme", provider="notion", redirect_uri=REDIRECT, scopes=[])
    done = await flows.complete(
        scheme(), app(), pending, code="the-code", state=pending.state, tenant_id="acme", provider="notion"
    )
    return done.credential


async def test_the_code_exchange_uses_basic_auth_and_keeps_the_workspace() -> None:
    fake = FakeNotionAuth()
    credential = await authorized(fake)
    token_request, me_request = fake.requests
    assert token_request.headers["authorization"] == basic()
    assert parse_qs(token_request.content.decode()) == {
        "grant_type": ["authorization_code"],
        "code": ["the-code"],
        "redirect_uri": [REDIRECT],
    }
    assert CLIENT_SECRET not in token_request.content.decode()
    assert me_request.headers["authorization"] == f"Bearer {TOKEN['access_token']}"
    assert me_request.headers["notion-version"] == API_VERSION
    assert credential.access_token is not None and credential.access_token.get_secret_value() == TOKEN["access_token"]
    assert credential.refresh_token is not None
    assert credential.account == "Acme"
    assert credential.extra["workspace_id"] == TOKEN["workspace_id"] and credential.extra["bot_id"] == TOKEN["bot_id"]
    assert credential.extra["post_authorize"] == {
        "bot_id": "16d84278-ab0e-484c-9bdd-b35da3bd8905",
        "bot_name": "pied piper",
        "workspace_id": TOKEN["workspace_id"],
        "workspace_name": "Acme",
    }
    assert TOKEN["access_token"] not in json.dumps(credential.extra)


async def test_refresh_rotates_the_refresh_token() -> None:
    fake = FakeNotionAuth()
    credential = await authorized(fake)
    flows = OAuthFlows(transport=httpx.MockTransport(fake))
    renewed = await flows.refresh(scheme(), app(), credential)
    refresh_request = fake.requests[-1]
    assert parse_qs(refresh_request.content.decode()) == {
        "grant_type": ["refresh_token"],
        "refresh_token": [TOKEN["refresh_token"]],
    }
    assert refresh_request.headers["authorization"] == basic()
    assert renewed.access_token is not None and renewed.access_token.get_secret_value() == "ntn_access_2_0123456789"
    assert renewed.refresh_token is not None and renewed.refresh_token.get_secret_value() == "nrt_refresh_2_0123456789"
    assert renewed.version == credential.version + 1
    assert renewed.extra["workspace_id"] == TOKEN["workspace_id"]  # kept across the refresh


async def test_a_refused_code_is_a_token_endpoint_error_without_secrets() -> None:
    fake = FakeNotionAuth()
    flows = OAuthFlows(transport=httpx.MockTransport(fake))
    _, pending = flows.begin(scheme(), app(), tenant_id="acme", provider="notion", redirect_uri=REDIRECT, scopes=[])
    with pytest.raises(TokenEndpointError) as raised:
        await flows.complete(
            scheme(), app(), pending, code="refused", state=pending.state, tenant_id="acme", provider="notion"
        )
    assert raised.value.error == "invalid_grant"
    assert CLIENT_SECRET not in str(raised.value)
    assert [r.url.path for r in fake.requests] == ["/v1/oauth/token"]  # no workspace look-up without a token


def test_an_internal_integration_token_is_a_bearer_credential() -> None:
    token_scheme = NotionConnector.scheme_for("bearer")
    assert token_scheme is not None
    credential = Credential(tenant_id="acme", provider="notion", kind="bearer", access_token="ntn_internal_0123456789")  # type: ignore[arg-type]
    assert token_scheme.headers(credential) == {"Authorization": "Bearer ntn_internal_0123456789"}
    assert NotionConnector.oauth_scopes(None) == []
