"""Getting to the right Jira: Atlassian OAuth 2.0 (3LO) against a local fake of auth.atlassian.com and the
gateway, rotating refresh tokens, site selection, API tokens (classic and scoped), Data Center tokens, and
the configuration's validation."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Mapping
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from jira_support import CLOUD_ID, GATEWAY, SITE, fixture_body, oauth_credential
from pydantic import SecretStr, ValidationError

from sagemcp import POST_AUTHORIZE_KEY, Credential, credential_from_fields
from sagemcp.errors import OAuthError, OAuthStateError
from sagemcp.platform import (
    CredentialManager,
    MemoryStore,
    OAuthApp,
    OAuthFlows,
    Tenant,
    ToolPolicy,
    credential_binding,
)
from sagemcp.testing import FakeAuthorizationServer, call_tool, form_of
from sagemcp_jira import JiraConfig, JiraConnector
from sagemcp_jira._auth import ACCESSIBLE_RESOURCES_URL, JiraSiteError
from sagemcp_jira.connector import AUTHORIZE_URL, TOKEN_URL

CLIENT_ID = "atlassian-client-id"
CLIENT_SECRET = "atlassian-client-secret-0123456789"
REDIRECT = "https://mcp.example.com/api/v1/oauth/callback/jira"
OTHER_CLOUD_ID = "9a8b7c6d-1111-2222-3333-444455556666"
OTHER_SITE = "https://other-team.atlassian.net"


class FakeAtlassian(FakeAuthorizationServer):
    """auth.atlassian.com's token endpoint and the gateway's accessible-resources, with rotating refresh tokens."""

    def __init__(self, sites: list[dict[str, object]] | None = None, delay: float = 0.0) -> None:
        super().__init__(
            TOKEN_URL,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,  # client_secret_post
            redirect_uri=REDIRECT,
            delay=delay,
            token_fields={
                "expires_in": 3600,
                "scope": "read:jira-work write:jira-work read:jira-user offline_access",
                "token_type": "Bearer",
            },
        )
        self.sites = (
            sites
            if sites is not None
            else [
                {"id": CLOUD_ID, "url": SITE, "name": "your-domain", "scopes": ["read:jira-work", "write:jira-work"]},
                {"id": CLOUD_ID, "url": SITE, "name": "your-domain", "scopes": ["read:confluence-content.all"]},
            ]
        )

    async def other_request(self, request: httpx.Request) -> httpx.Response | None:
        if str(request.url) != ACCESSIBLE_RESOURCES_URL:
            return None
        assert request.headers["authorization"] == f"Bearer access-{self.issued}"
        return httpx.Response(200, json=self.sites)

    def refuse(self, grant: str, data: Mapping[str, str]) -> httpx.Response:
        # Atlassian rotates refresh tokens: each works once; reusing one is refused.
        if grant == "refresh_token":
            return httpx.Response(
                403, json={"error": "unauthorized_client", "error_description": "refresh_token is invalid"}
            )
        return httpx.Response(403, json={"error": "access_denied", "error_description": "Unauthorized"})


def app(tenant_id: str) -> OAuthApp:
    return OAuthApp(tenant_id=tenant_id, provider="jira", client_id=CLIENT_ID, client_secret=SecretStr(CLIENT_SECRET))


async def authorize(atlassian: FakeAtlassian, flows: OAuthFlows, tenant_id: str = "t1") -> Credential:
    return await atlassian.authorize(
        flows,
        JiraConnector.oauth2(),
        app(tenant_id),
        tenant_id=tenant_id,
        provider="jira",
        scopes=JiraConnector.oauth_scopes(ToolPolicy()),
    )


def test_the_authorize_url_asks_atlassian_for_offline_access_and_the_enabled_groups_scopes() -> None:
    scheme = JiraConnector.oauth2()
    assert scheme is not None
    url, pending = OAuthFlows().begin(
        scheme,
        app("t1"),
        tenant_id="t1",
        provider="jira",
        redirect_uri=REDIRECT,
        scopes=JiraConnector.oauth_scopes(ToolPolicy()),
    )
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == AUTHORIZE_URL
    assert query["audience"] == "api.atlassian.com" and query["prompt"] == "consent"
    assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
    assert query["code_challenge_method"] == "S256" and len(query["state"]) >= 32 and pending.code_verifier
    assert query["scope"].split() == ["offline_access", "read:jira-user", "read:jira-work", "write:jira-work"]


def test_scopes_follow_the_enabled_groups() -> None:
    agile = JiraConnector.oauth_scopes(ToolPolicy(groups=["agile"]))
    assert agile[0] == "offline_access"
    assert {"read:board-scope:jira-software", "read:sprint:jira-software", "write:sprint:jira-software"} <= set(agile)
    assert "write:jira-work" not in agile
    read_only = JiraConnector.oauth_scopes(ToolPolicy(read_only=True))
    assert "write:jira-work" not in read_only and "read:jira-work" in read_only
    assert "manage:jira-project" in JiraConnector.oauth_scopes(ToolPolicy(groups=["versions"]))


async def test_the_code_exchange_discovers_the_jira_sites_the_grant_reaches() -> None:
    atlassian = FakeAtlassian()
    credential = await authorize(atlassian, OAuthFlows(transport=httpx.MockTransport(atlassian)))
    token, resources = atlassian.requests
    assert form_of(token)["grant_type"] == "authorization_code"
    assert str(resources.url) == ACCESSIBLE_RESOURCES_URL
    assert credential.require_token() == "access-1"
    assert credential.refresh_token is not None and credential.refresh_token.get_secret_value() == "refresh-1"
    # The Confluence-only entry of the same site is left out.
    assert credential.extra[POST_AUTHORIZE_KEY] == {
        "sites": [{"cloud_id": CLOUD_ID, "url": SITE, "name": "your-domain"}]
    }


async def test_a_grant_that_reaches_no_jira_site_is_refused_and_nothing_is_stored() -> None:
    atlassian = FakeAtlassian(sites=[{"id": CLOUD_ID, "url": SITE, "scopes": ["read:confluence-content.all"]}])
    with pytest.raises(OAuthError, match="reaches no Jira site"):
        await authorize(atlassian, OAuthFlows(transport=httpx.MockTransport(atlassian)))


async def test_a_wrong_state_is_refused_before_any_exchange() -> None:
    atlassian = FakeAtlassian()
    flows = OAuthFlows(transport=httpx.MockTransport(atlassian))
    scheme = JiraConnector.oauth2()
    assert scheme is not None
    _, pending = flows.begin(scheme, app("t1"), tenant_id="t1", provider="jira", redirect_uri=REDIRECT, scopes=[])
    with pytest.raises(OAuthStateError):
        await flows.complete(
            scheme, app("t1"), pending, code="auth-code", state="forged", tenant_id="t1", provider="jira"
        )
    assert atlassian.requests == []


async def test_rotating_refresh_tokens_are_used_once_and_the_newest_is_kept() -> None:
    atlassian = FakeAtlassian(delay=0.05)
    flows = OAuthFlows(transport=httpx.MockTransport(atlassian))
    credential = await authorize(atlassian, flows)
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme"))
    store.put_oauth_app(app(tenant.id))
    store.put_credential(credential.model_copy(update={"tenant_id": tenant.id, "expires_at": time.time() + 10}))
    manager = CredentialManager(store, flows, refresh_margin=60)

    got = await asyncio.gather(*(manager.get(tenant.id, "jira", JiraConnector) for _ in range(8)))
    assert {c.require_token() for c in got if c} == {"access-2"}  # one refresh for eight callers
    stored = await store.get_credential(tenant.id, "jira")
    assert stored is not None and stored.refresh_token is not None
    assert stored.refresh_token.get_secret_value() == "refresh-2"
    assert stored.extra[POST_AUTHORIZE_KEY]["sites"][0]["cloud_id"] == CLOUD_ID  # the discovery survives refreshes

    store.put_credential(stored.model_copy(update={"expires_at": time.time() + 5}))
    again = await manager.get(tenant.id, "jira", JiraConnector)
    assert again is not None and again.require_token() == "access-3"
    used = [form_of(r)["refresh_token"] for r in atlassian.requests if form_of(r).get("grant_type") == "refresh_token"]
    assert used == ["refresh-1", "refresh-2"]


async def test_an_oauth_call_goes_to_the_gateway_with_the_sites_cloud_id() -> None:
    seen: list[httpx.Request] = []

    def jira(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=fixture_body("getCurrentUser"))

    result = await call_tool(JiraConnector, "jira_get_current_user", {}, handler=jira, credential=oauth_credential())
    assert not result.is_error, result.text
    assert str(seen[0].url) == f"{GATEWAY}/ex/jira/{CLOUD_ID}/rest/api/3/myself"
    assert seen[0].headers["authorization"] == "Bearer test-token"


TWO_SITES = [
    {"cloud_id": CLOUD_ID, "url": SITE, "name": "your-domain"},
    {"cloud_id": OTHER_CLOUD_ID, "url": OTHER_SITE, "name": "other-team"},
]


async def _myself(config: dict[str, object], credential: Credential) -> tuple[str, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def jira(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=fixture_body("getCurrentUser"))

    result = await call_tool(
        JiraConnector, "jira_get_current_user", {}, handler=jira, config=config, credential=credential
    )
    return result.text, seen


async def test_several_sites_and_none_chosen_is_a_clear_error_listing_them() -> None:
    text, seen = await _myself({}, oauth_credential(TWO_SITES))
    assert seen == []
    assert "reaches 2 Jira sites" in text
    assert f"{SITE} (cloud_id {CLOUD_ID})" in text and f"{OTHER_SITE} (cloud_id {OTHER_CLOUD_ID})" in text
    assert "cloud_id or site_url" in text


@pytest.mark.parametrize(
    ("config", "cloud_id"),
    [
        ({"cloud_id": OTHER_CLOUD_ID}, OTHER_CLOUD_ID),
        ({"site_url": OTHER_SITE}, OTHER_CLOUD_ID),
        ({"site_url": "your-domain"}, CLOUD_ID),
    ],
)
async def test_the_configuration_chooses_the_site(config: dict[str, object], cloud_id: str) -> None:
    _, seen = await _myself(config, oauth_credential(TWO_SITES))
    assert seen[0].url.path == f"/ex/jira/{cloud_id}/rest/api/3/myself"


async def test_a_configured_site_the_grant_does_not_reach_is_refused() -> None:
    text, seen = await _myself({"site_url": "https://elsewhere.atlassian.net"}, oauth_credential(TWO_SITES))
    assert seen == []
    assert "does not reach the configured Jira site https://elsewhere.atlassian.net" in text
    assert OTHER_SITE in text


async def test_a_classic_api_token_calls_the_site_with_basic_auth() -> None:
    credential = credential_from_fields(
        JiraConnector.scheme_for("basic"),
        {"username": "me@example.com", "token": "api-token-123"},  # type: ignore[arg-type]
        tenant_id="test",
        provider="jira",
    )
    _, seen = await _myself({"site_url": SITE}, credential)
    assert str(seen[0].url) == f"{SITE}/rest/api/3/myself"
    assert seen[0].headers["authorization"] == "Basic " + base64.b64encode(b"me@example.com:api-token-123").decode()


async def test_a_scoped_api_token_calls_the_gateway_and_needs_the_cloud_id() -> None:
    credential = credential_from_fields(
        JiraConnector.scheme_for("basic"),
        {"username": "me@example.com", "token": "scoped-123", "scoped": True},  # type: ignore[arg-type]
        tenant_id="test",
        provider="jira",
    )
    assert credential.extra == {"scoped": True}
    _, seen = await _myself({"site_url": SITE, "cloud_id": CLOUD_ID}, credential)
    assert str(seen[0].url) == f"{GATEWAY}/ex/jira/{CLOUD_ID}/rest/api/3/myself"
    assert seen[0].headers["authorization"].startswith("Basic ")
    text, seen = await _myself({"site_url": SITE}, credential)
    assert seen == [] and "set cloud_id" in text


async def test_a_personal_access_token_is_for_data_center() -> None:
    pat = Credential(tenant_id="test", provider="jira", kind="bearer", access_token=SecretStr("pat-1"))
    text, seen = await _myself({"site_url": SITE}, pat)
    assert seen == [] and "data_center" in text
    _, seen = await _myself({"deployment": "data_center", "site_url": "https://jira.example.com/jira"}, pat)
    assert str(seen[0].url) == "https://jira.example.com/jira/rest/api/2/myself"
    assert seen[0].headers["authorization"] == "Bearer pat-1"


async def test_oauth_is_refused_on_data_center() -> None:
    text, seen = await _myself(
        {"deployment": "data_center", "site_url": "https://jira.example.com"}, oauth_credential()
    )
    assert seen == [] and "personal access token" in text


def test_credentials_are_bound_to_the_hosts_they_go_to() -> None:
    oauth = oauth_credential(TWO_SITES)
    assert credential_binding(JiraConnector, JiraConfig(), oauth) == (GATEWAY,)
    basic = Credential(tenant_id="t", provider="jira", kind="basic", account="a", access_token=SecretStr("x"))
    assert credential_binding(JiraConnector, JiraConfig(site_url=SITE), basic) == (SITE,)
    with pytest.raises(ValueError, match="site_url"):  # binding skips a connector whose site is not set yet
        credential_binding(JiraConnector, JiraConfig(), basic)
    assert issubclass(JiraSiteError, ValueError)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"site_url": "https://jira.example.com"}, "not a Jira Cloud site"),
        ({"site_url": "https://acme.atlassian.net/jira"}, "not a Jira Cloud site"),
        ({"site_url": "http://acme.atlassian.net"}, "https"),
        ({"site_url": "https://user:pw@acme.atlassian.net"}, "user name or password"),
        ({"cloud_id": "not-a-uuid"}, "UUID"),
        ({"deployment": "data_center"}, "needs site_url"),
        ({"deployment": "data_center", "site_url": "http://jira.example.com"}, "https"),
        ({"deployment": "data_center", "site_url": "https://10.0.0.5"}, "non-public address"),
        ({"deployment": "data_center", "site_url": "https://jira.example.com", "cloud_id": CLOUD_ID}, "cloud_id"),
        ({"site": "https://acme.atlassian.net"}, "Extra inputs"),
    ],
)
def test_bad_configurations_are_refused_with_the_reason(config: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        JiraConfig.model_validate(config)


def test_good_configurations_are_normalised() -> None:
    assert JiraConfig(site_url="acme").site_url == "https://acme.atlassian.net"
    assert JiraConfig(site_url="https://ACME.atlassian.net/").site_url == "https://acme.atlassian.net"
    assert JiraConfig(cloud_id=CLOUD_ID.upper()).cloud_id == CLOUD_ID
    dc = JiraConfig(deployment="data_center", site_url="https://jira.example.com/jira/")
    assert dc.site_url == "https://jira.example.com/jira" and not dc.cloud


def test_the_api_token_fields_are_documented_and_secret() -> None:
    scheme = JiraConnector.scheme_for("basic")
    assert scheme is not None
    schema = scheme.fields_model().model_json_schema()
    assert set(schema["properties"]) == {"username", "token", "scoped", "scopes", "expires_at"}
    assert schema["properties"]["token"]["writeOnly"] is True
    assert "scoped" in json.dumps(schema["properties"]["scoped"])
