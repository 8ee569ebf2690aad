"""Google's two ways in, against a local fake of Google's authorization server (an `httpx.MockTransport`).

- OAuth 2.0 for web server apps: the authorize URL (state, PKCE S256, offline access with the
  consent prompt, incremental scopes, exactly the scopes of the enabled groups, read-only ones for a
  read-only policy), the code exchange (client secret in the form, the PKCE verifier), and refresh,
  which keeps the refresh token when Google does not send a new one.
- Service accounts with domain-wide delegation: a signed JWT naming the user to act as and the
  scopes, exchanged once for many callers.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google_support import FakeGoogle
from pydantic import SecretStr

from sagemcp import Credential, credential_from_fields
from sagemcp.errors import OAuthStateError
from sagemcp.platform import CredentialManager, MemoryStore, OAuthApp, OAuthFlows, Tenant, ToolPolicy
from sagemcp.testing import call_tool
from sagemcp_google import GoogleConnector
from sagemcp_google.connector import AUTHORIZE_URL, SERVICE_ACCOUNT_SCOPES, TOKEN_URL

CLIENT_ID = "1234-abc.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-google-client-secret-0123"
REDIRECT = "https://mcp.example.com/api/v1/oauth/callback/google"
AUTH = "https://www.googleapis.com/auth/"


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


class FakeGoogleAuth:
    """Google's token endpoint: the code exchange, refresh (no rotation), and the JWT-bearer grant."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.challenge: str | None = None
        self.issued = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert str(request.url) == TOKEN_URL
        data = form(request)
        self.issued += 1
        grant = data["grant_type"]
        if grant == "authorization_code":
            assert data["client_id"] == CLIENT_ID and data["client_secret"] == CLIENT_SECRET
            digest = base64.urlsafe_b64encode(hashlib.sha256(data["code_verifier"].encode()).digest()).rstrip(b"=")
            if digest.decode() != self.challenge or data["code"] != "4/0Acode" or data["redirect_uri"] != REDIRECT:
                return httpx.Response(400, json={"error": "invalid_grant", "error_description": "Bad Request"})
            return httpx.Response(
                200,
                json={
                    "access_token": "ya29.first",
                    "expires_in": 3599,
                    "refresh_token": "1//refresh",
                    "scope": f"{AUTH}drive.readonly {AUTH}documents.readonly",
                    "token_type": "Bearer",
                },
            )
        if grant == "refresh_token":
            assert data["refresh_token"] == "1//refresh"
            # Google does not rotate refresh tokens: the answer has none, and the old one stays valid.
            return httpx.Response(
                200, json={"access_token": f"ya29.r{self.issued}", "expires_in": 3599, "token_type": "Bearer"}
            )
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            await asyncio.sleep(0.05)
            return httpx.Response(
                200, json={"access_token": f"ya29.sa{self.issued}", "expires_in": 3599, "token_type": "Bearer"}
            )
        raise AssertionError(f"unexpected grant {grant}")


def app(tenant_id: str) -> OAuthApp:
    return OAuthApp(tenant_id=tenant_id, provider="google", client_id=CLIENT_ID, client_secret=SecretStr(CLIENT_SECRET))


def authorize_query(policy: ToolPolicy) -> dict[str, str]:
    scheme = GoogleConnector.oauth2()
    assert scheme is not None
    url, _ = OAuthFlows().begin(
        scheme,
        app("t1"),
        tenant_id="t1",
        provider="google",
        redirect_uri=REDIRECT,
        scopes=GoogleConnector.oauth_scopes(policy),
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == AUTHORIZE_URL
    return {k: v[0] for k, v in parse_qs(parts.query).items()}


def test_the_authorize_url_asks_for_offline_access_with_pkce_and_the_default_groups_scopes() -> None:
    query = authorize_query(ToolPolicy())
    assert query["access_type"] == "offline" and query["prompt"] == "consent"
    assert query["include_granted_scopes"] == "true"
    assert query["code_challenge_method"] == "S256" and len(query["state"]) >= 32
    assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
    assert sorted(query["scope"].split()) == sorted(
        f"{AUTH}{s}"
        for s in (
            "documents",
            "documents.readonly",
            "drive",
            "drive.file",
            "drive.metadata.readonly",
            "drive.readonly",
            "spreadsheets",
            "spreadsheets.readonly",
        )
    )


def test_a_read_only_policy_asks_only_for_read_only_scopes() -> None:
    scopes = authorize_query(ToolPolicy(read_only=True, groups=["drive", "docs", "sheets", "calendar", "gmail"]))[
        "scope"
    ].split()
    assert scopes and all(s.endswith(".readonly") for s in scopes), scopes
    assert f"{AUTH}gmail.readonly" in scopes and f"{AUTH}calendar.readonly" in scopes


def test_each_group_asks_only_for_its_own_scopes() -> None:
    assert GoogleConnector.oauth_scopes(ToolPolicy(groups=["gmail_send"])) == [
        f"{AUTH}gmail.compose",
        f"{AUTH}gmail.readonly",
        f"{AUTH}gmail.send",
    ]
    assert GoogleConnector.oauth_scopes(ToolPolicy(groups=["calendar"])) == [
        f"{AUTH}calendar.events",
        f"{AUTH}calendar.readonly",
    ]
    assert "https://mail.google.com/" not in GoogleConnector.oauth_scopes(None)


async def test_the_code_exchange_checks_pkce_and_refresh_keeps_the_refresh_token() -> None:
    google = FakeGoogleAuth()
    flows = OAuthFlows(transport=httpx.MockTransport(google))
    scheme = GoogleConnector.oauth2()
    assert scheme is not None
    url, pending = flows.begin(
        scheme,
        app("t1"),
        tenant_id="t1",
        provider="google",
        redirect_uri=REDIRECT,
        scopes=GoogleConnector.oauth_scopes(ToolPolicy()),
    )
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    google.challenge = query["code_challenge"]
    with pytest.raises(OAuthStateError):
        await flows.complete(
            scheme, app("t1"), pending, code="4/0Acode", state="forged", tenant_id="t1", provider="google"
        )
    assert google.requests == []
    authorization = await flows.complete(
        scheme, app("t1"), pending, code="4/0Acode", state=query["state"], tenant_id="t1", provider="google"
    )
    credential = authorization.credential
    assert credential.require_token() == "ya29.first" and credential.scopes == [
        f"{AUTH}drive.readonly",
        f"{AUTH}documents.readonly",
    ]

    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme"))
    store.put_oauth_app(app(tenant.id))
    store.put_credential(credential.model_copy(update={"tenant_id": tenant.id, "expires_at": time.time() + 5}))
    refreshed = await CredentialManager(store, flows, refresh_margin=60).get(tenant.id, "google", GoogleConnector)
    assert refreshed is not None and refreshed.require_token() == "ya29.r2"
    stored = await store.get_credential(tenant.id, "google")
    assert (
        stored is not None
        and stored.refresh_token is not None
        and stored.refresh_token.get_secret_value() == "1//refresh"
    )


def service_account_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "acme-workspace",
            "private_key_id": "a1b2c3",
            "private_key": pem.decode(),
            "client_email": "mcp@acme-workspace.iam.gserviceaccount.com",
            "client_id": "1122334455",
            "token_uri": TOKEN_URL,
        }
    )


async def test_a_service_account_acts_as_the_delegated_user() -> None:
    scheme = GoogleConnector.scheme_for("jwt_bearer")
    assert scheme is not None
    credential = credential_from_fields(
        scheme,
        {"service_account_key": service_account_key(), "subject": "ana@acme.example"},
        tenant_id="t",
        provider="google",
    )
    google = FakeGoogleAuth()
    flows = OAuthFlows(transport=httpx.MockTransport(google))
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme"))
    store.put_credential(credential.model_copy(update={"tenant_id": tenant.id}))
    manager = CredentialManager(store, flows, refresh_margin=60)
    tokens = await asyncio.gather(*(manager.get(tenant.id, "google", GoogleConnector) for _ in range(5)))
    assert {t.require_token() for t in tokens if t} == {"ya29.sa1"}
    (request,) = google.requests
    assertion = form(request)["assertion"]
    claims = json.loads(base64.urlsafe_b64decode(assertion.split(".")[1] + "=="))
    assert claims["iss"] == "mcp@acme-workspace.iam.gserviceaccount.com" and claims["sub"] == "ana@acme.example"
    assert claims["aud"] == TOKEN_URL and claims["scope"].split() == list(SERVICE_ACCOUNT_SCOPES)

    minted = await manager.get(tenant.id, "google", GoogleConnector)
    assert minted is not None
    call = await call_tool(GoogleConnector, "google_get_account", {}, handler=FakeGoogle(), credential=minted)
    assert call.request.headers["authorization"] == "Bearer ya29.sa1"


@pytest.mark.parametrize(
    ("endpoints", "origins"),
    [
        ({}, ("https://docs.googleapis.com", "https://sheets.googleapis.com", "https://gmail.googleapis.com")),
        (
            {"drive": "https://www-acme.p.googleapis.com/", "gmail": "https://gmail-acme.p.googleapis.com"},
            (
                "https://www.googleapis.com",
                "https://docs.googleapis.com",
                "https://sheets.googleapis.com",
                "https://gmail-acme.p.googleapis.com",
            ),
        ),
    ],
)
def test_every_google_host_is_a_declared_credential_origin(endpoints: dict[str, str], origins: tuple[str, ...]) -> None:
    config = GoogleConnector.parse_config({"endpoints": endpoints})
    assert set(GoogleConnector.credential_origins(config, None)) == set(origins)
    assert (
        GoogleConnector.api_base_url(config, None)
        == (endpoints.get("drive") or "https://www.googleapis.com/").rstrip("/") + "/"
    )


def test_endpoints_must_be_https_public_urls() -> None:
    with pytest.raises(ValueError, match="endpoints"):
        GoogleConnector.parse_config({"endpoints": {"docs": "http://docs.example.com"}})
    with pytest.raises(ValueError, match="IANA"):
        GoogleConnector.parse_config({"time_zone": "Mars/Olympus"})


async def test_the_credential_never_goes_to_an_undeclared_host() -> None:
    credential = Credential(tenant_id="test", provider="google", kind="oauth2", access_token=SecretStr("ya29.secret"))
    config = {"endpoints": {"sheets": "https://sheets-acme.p.googleapis.com"}}

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "sheets-acme.p.googleapis.com"
        return httpx.Response(200, json={"spreadsheetId": "s", "properties": {"title": "t"}})

    result = await call_tool(
        GoogleConnector,
        "google_get_spreadsheet",
        {"spreadsheet_id": "s"},
        handler=handler,
        credential=credential,
        config=config,
    )
    assert not result.is_error and result.request.headers["authorization"] == "Bearer ya29.secret"
