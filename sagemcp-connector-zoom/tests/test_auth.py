"""Zoom's two ways in, against a local fake of Zoom's authorization server (an `httpx.MockTransport`).

- User OAuth: the authorize URL (state, PKCE S256, the scopes of the enabled groups), the code
  exchange (HTTP Basic client authentication, the PKCE verifier), Zoom's `api_url`, and refresh
  with rotating refresh tokens, each stored once through the store's compare-and-swap.
- Server-to-Server OAuth: the `account_credentials` grant with the account id, one-hour tokens
  fetched again when due, once for many concurrent callers.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable, Mapping
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from sagemcp import Credential, CredentialStatus, credential_from_fields
from sagemcp.errors import OAuthStateError, ReconnectRequired
from sagemcp.platform import CredentialManager, MemoryStore, OAuthApp, OAuthFlows, Tenant, ToolPolicy
from sagemcp.testing import FakeAuthorizationServer, call_tool, form_of
from sagemcp_zoom import ZoomConnector
from sagemcp_zoom.connector import TOKEN_URL

CLIENT_ID = "zoom-client-id"
CLIENT_SECRET = "zoom-client-secret-0123456789"
REDIRECT = "https://mcp.example.com/api/v1/oauth/callback/zoom"
BASIC = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()


class FakeZoomAuth(FakeAuthorizationServer):
    """Zoom's token endpoint: HTTP Basic client authentication, rotating tokens, and the account grant."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__(
            TOKEN_URL,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            redirect_uri=REDIRECT,
            client_auth="client_secret_basic",
            delay=delay,
            token_fields={
                "expires_in": 3599,
                "scope": "meeting:read:list_meetings user:read:user",
                "api_url": "https://api.zoom.us",
            },
        )

    def refuse(self, grant: str, data: Mapping[str, str]) -> httpx.Response:
        if grant == "refresh_token":
            return httpx.Response(400, json={"reason": "Invalid Token!", "error": "invalid_grant"})
        return httpx.Response(400, json={"reason": "Invalid authorization code", "error": "invalid_grant"})

    def other_grant(self, grant: str, data: Mapping[str, str]) -> httpx.Response:
        assert grant == "account_credentials", f"unexpected grant {grant}"
        if data.get("account_id") != "acct-123":
            return httpx.Response(400, json={"reason": "Invalid account id", "error": "invalid_client"})
        assert "scope" not in data  # a Server-to-Server app's scopes are set in the app
        self.issued += 1
        return httpx.Response(
            200,
            json={
                "access_token": f"s2s-{self.issued}",
                "token_type": "bearer",
                "expires_in": 3599,
                "scope": "meeting:read:meeting:admin user:read:user:admin",
                "api_url": "https://api.zoom.us",
            },
        )


def app(tenant_id: str) -> OAuthApp:
    return OAuthApp(tenant_id=tenant_id, provider="zoom", client_id=CLIENT_ID, client_secret=SecretStr(CLIENT_SECRET))


async def authorize(zoom: FakeZoomAuth, flows: OAuthFlows, tenant_id: str = "t1") -> Credential:
    return await zoom.authorize(
        flows,
        ZoomConnector.oauth2(),
        app(tenant_id),
        tenant_id=tenant_id,
        provider="zoom",
        scopes=ZoomConnector.oauth_scopes(ToolPolicy()),
    )


async def test_the_authorize_url_asks_for_the_enabled_groups_with_pkce() -> None:
    scheme = ZoomConnector.oauth2()
    assert scheme is not None
    url, pending = OAuthFlows().begin(
        scheme,
        app("t1"),
        tenant_id="t1",
        provider="zoom",
        redirect_uri=REDIRECT,
        scopes=ZoomConnector.oauth_scopes(ToolPolicy()),
    )
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://zoom.us/oauth/authorize"
    assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID and query["redirect_uri"] == REDIRECT
    assert query["code_challenge_method"] == "S256" and len(query["state"]) >= 32
    assert pending.code_verifier is not None
    scopes = query["scope"].split()
    assert {"meeting:read:list_meetings", "cloud_recording:read:meeting_transcript", "meeting:read:summary"} <= set(
        scopes
    )
    assert "meeting:delete:meeting" not in scopes and "user:read:list_users:admin" not in scopes
    everything = ZoomConnector.oauth_scopes(ToolPolicy(groups=["meetings", "meetings_delete"]))
    assert "meeting:delete:meeting" in everything and "meeting:read:summary" not in everything


async def test_the_code_exchange_checks_pkce_and_keeps_zooms_api_host() -> None:
    zoom = FakeZoomAuth()
    credential = await authorize(zoom, OAuthFlows(transport=httpx.MockTransport(zoom)))
    (request,) = zoom.requests
    assert form_of(request)["grant_type"] == "authorization_code"
    assert request.headers["authorization"] == BASIC and "client_secret" not in form_of(request)
    assert credential.kind == "oauth2"
    assert credential.require_token() == "access-1"
    assert credential.refresh_token is not None and credential.refresh_token.get_secret_value() == "refresh-1"
    assert credential.extra == {"api_url": "https://api.zoom.us/v2"}
    assert credential.expires_at is not None and 3500 < credential.expires_at - time.time() <= 3600
    assert credential.scopes == ["meeting:read:list_meetings", "user:read:user"]


async def test_a_wrong_state_is_refused_before_any_exchange() -> None:
    zoom = FakeZoomAuth()
    flows = OAuthFlows(transport=httpx.MockTransport(zoom))
    scheme = ZoomConnector.oauth2()
    assert scheme is not None
    _, pending = flows.begin(scheme, app("t1"), tenant_id="t1", provider="zoom", redirect_uri=REDIRECT, scopes=[])
    with pytest.raises(OAuthStateError):
        await flows.complete(
            scheme, app("t1"), pending, code="auth-code", state="forged", tenant_id="t1", provider="zoom"
        )
    assert zoom.requests == []


async def store_with(credential: Credential) -> tuple[MemoryStore, str]:
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme"))
    store.put_oauth_app(app(tenant.id))
    store.put_credential(credential.model_copy(update={"tenant_id": tenant.id}))
    return store, tenant.id


async def test_rotating_refresh_tokens_are_used_once_and_stored(zoom_description: object) -> None:
    zoom = FakeZoomAuth(delay=0.05)
    flows = OAuthFlows(transport=httpx.MockTransport(zoom))
    credential = await authorize(zoom, flows)
    store, tenant_id = await store_with(credential.model_copy(update={"expires_at": time.time() + 10}))
    manager = CredentialManager(store, flows, refresh_margin=60)

    first = await asyncio.gather(*(manager.get(tenant_id, "zoom", ZoomConnector) for _ in range(8)))
    assert {c.require_token() for c in first if c} == {"access-2"}  # one refresh for eight callers
    stored = await store.get_credential(tenant_id, "zoom")
    assert stored is not None and stored.refresh_token is not None
    assert stored.refresh_token.get_secret_value() == "refresh-2"

    store.put_credential(stored.model_copy(update={"expires_at": time.time() + 5}))
    again = await manager.get(tenant_id, "zoom", ZoomConnector)
    assert again is not None and again.require_token() == "access-3"
    refreshes = [form_of(r)["refresh_token"] for r in zoom.requests if form_of(r)["grant_type"] == "refresh_token"]
    assert refreshes == ["refresh-1", "refresh-2"]  # each rotated token used exactly once
    final = await store.get_credential(tenant_id, "zoom")
    assert final is not None and final.version > stored.version and final.extra["api_url"] == "https://api.zoom.us/v2"


async def test_a_refused_refresh_marks_the_credential_for_reconnection() -> None:
    zoom = FakeZoomAuth()
    flows = OAuthFlows(transport=httpx.MockTransport(zoom))
    credential = await authorize(zoom, flows)
    stale = credential.model_copy(update={"expires_at": time.time() + 5, "refresh_token": SecretStr("refresh-old")})
    store, tenant_id = await store_with(stale)
    with pytest.raises(ReconnectRequired):
        await CredentialManager(store, flows).get(tenant_id, "zoom", ZoomConnector)
    stored = await store.get_credential(tenant_id, "zoom")
    assert stored is not None and stored.status == CredentialStatus.RECONNECT_REQUIRED


def s2s(**fields: object) -> Credential:
    scheme = ZoomConnector.scheme_for("client_credentials")
    assert scheme is not None
    values = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "account_id": "acct-123", **fields}
    return credential_from_fields(scheme, values, tenant_id="t1", provider="zoom")


def test_server_to_server_credentials_need_the_account_id() -> None:
    credential = s2s()
    assert credential.kind == "client_credentials" and credential.access_token is None
    assert credential.extra == {"client_id": CLIENT_ID, "account_id": "acct-123"}
    assert credential.secret("client_secret") == CLIENT_SECRET
    scheme = ZoomConnector.scheme_for("client_credentials")
    assert scheme is not None
    with pytest.raises(ValidationError, match="account_id"):
        credential_from_fields(
            scheme, {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}, tenant_id="t", provider="zoom"
        )


async def test_server_to_server_tokens_are_fetched_once_and_again_when_due() -> None:
    zoom = FakeZoomAuth(delay=0.05)
    flows = OAuthFlows(transport=httpx.MockTransport(zoom))
    store, tenant_id = await store_with(s2s())
    manager = CredentialManager(store, flows, refresh_margin=60)
    tokens = await asyncio.gather(*(manager.get(tenant_id, "zoom", ZoomConnector) for _ in range(10)))
    assert {c.require_token() for c in tokens if c} == {"s2s-1"}
    (request,) = zoom.requests
    assert form_of(request) == {"grant_type": "account_credentials", "account_id": "acct-123"}
    stored = await store.get_credential(tenant_id, "zoom")
    assert stored is not None and stored.expires_at is not None and 3500 < stored.expires_at - time.time() <= 3600
    assert stored.extra["api_url"] == "https://api.zoom.us/v2" and stored.secret("client_secret") == CLIENT_SECRET

    store.put_credential(stored.model_copy(update={"expires_at": time.time() + 30}))
    renewed = await manager.get(tenant_id, "zoom", ZoomConnector)
    assert renewed is not None and renewed.require_token() == "s2s-2"
    assert len(zoom.requests) == 2


async def test_a_wrong_account_id_needs_new_credentials() -> None:
    zoom = FakeZoomAuth()
    store, tenant_id = await store_with(s2s(account_id="acct-999"))
    with pytest.raises(ReconnectRequired, match="zoom"):
        await CredentialManager(store, OAuthFlows(transport=httpx.MockTransport(zoom))).get(
            tenant_id, "zoom", ZoomConnector
        )


@pytest.mark.parametrize(
    ("extra", "config", "host"),
    [
        ({}, {}, "api.zoom.us"),
        ({"api_url": "https://api-eu.zoom.us/v2"}, {}, "api-eu.zoom.us"),
        ({"api_url": "https://evil.example.com/v2"}, {}, "api.zoom.us"),
        ({"api_url": "http://api-eu.zoom.us/v2"}, {}, "api.zoom.us"),
        ({"api_url": "https://api-eu.zoom.us/v2"}, {"api_url": "https://api.zoomgov.com/v2"}, "api.zoomgov.com"),
    ],
)
async def test_requests_go_to_the_api_host_zoom_named(extra: dict[str, str], config: dict[str, str], host: str) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "u1", "email": "a@example.com"})

    credential = Credential(tenant_id="test", provider="zoom", kind="oauth2", access_token="tok", extra=extra)  # type: ignore[arg-type]
    result = await call_tool(ZoomConnector, "zoom_get_me", {}, handler=handler, credential=credential, config=config)
    assert not result.is_error, result.text
    assert seen[0].url.host == host and seen[0].url.path == "/v2/users/me"


def test_token_answers_without_a_zoom_api_host_keep_nothing() -> None:
    scheme = ZoomConnector.oauth2()
    assert scheme is not None and scheme.token_response_hook is not None
    hook: Callable[[dict[str, object]], dict[str, object]] = scheme.token_response_hook
    assert hook({"access_token": "a", "api_url": "https://attacker.example"})["extra"] == {}
    assert hook({"access_token": "a", "expires_in": 3599, "reason": "x"}) == {
        "access_token": "a",
        "refresh_token": None,
        "expires_in": 3599,
        "scope": None,
        "token_type": None,
        "extra": {},
    }
