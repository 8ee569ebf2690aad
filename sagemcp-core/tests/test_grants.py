"""The client-credentials and JWT-bearer schemes: their fields, the exact token requests, and the
credential manager getting, reusing and renewing their tokens (once for many callers), with refusals
and passing failures."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import RSAKey
from pydantic import SecretStr, ValidationError

from sagemcp import (
    JWT_BEARER_GRANT_TYPE,
    ClientCredentials,
    Connector,
    ConnectorInfo,
    Credential,
    CredentialStatus,
    JwtBearer,
    credential_from_fields,
    tool,
)
from sagemcp.errors import CredentialError, NotConnected, ReconnectRequired, RefreshFailed
from sagemcp.platform import CredentialManager, MemoryStore, OAuthFlows, Tenant

ZOOM_TOKEN_URL = "https://zoom.us/oauth/token"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
CLIENT_SECRET = "s2s-client-secret-value"
ZOOM = ClientCredentials(
    token_url=ZOOM_TOKEN_URL, grant_type="account_credentials", token_params=("account_id",), scopes=("meeting:read",)
)
GOOGLE = JwtBearer(token_url=GOOGLE_TOKEN_URL, scopes=("https://www.googleapis.com/auth/drive.readonly",))


class Zoomish(Connector):
    info = ConnectorInfo(id="zoomish", title="Zoom-like", description="Server-to-Server OAuth.")
    auth = (ZOOM,)
    base_url = "https://api.zoom.us/v2"

    @tool(read_only=True, group="g")
    async def ping(self, ctx: Any) -> str:
        """Ping."""
        return "pong"


class Googlish(Connector):
    info = ConnectorInfo(id="googlish", title="Google-like", description="A service account.")
    auth = (GOOGLE,)
    base_url = "https://www.googleapis.com/drive/v3"

    @tool(read_only=True, group="g")
    async def ping(self, ctx: Any) -> str:
        """Ping."""
        return "pong"


@pytest.fixture(scope="module")
def key_pair() -> tuple[str, RSAKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, RSAKey.import_key(public)


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode(), keep_blank_values=True).items()}


class TokenEndpoint:
    """A fake token endpoint: keeps every request and answers with `reply` (after `delay` seconds)."""

    def __init__(self, reply: Callable[[httpx.Request], httpx.Response] | None = None, delay: float = 0.0) -> None:
        self.requests: list[httpx.Request] = []
        self.reply = reply or (lambda request: self.token(f"minted-{len(self.requests)}"))
        self.delay = delay

    @staticmethod
    def token(value: str, expires_in: int = 3600, **more: Any) -> httpx.Response:
        return httpx.Response(
            200, json={"access_token": value, "token_type": "bearer", "expires_in": expires_in, **more}
        )

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        return self.reply(request)

    def flows(self) -> OAuthFlows:
        return OAuthFlows(transport=httpx.MockTransport(self))


def zoom_credential(**fields: Any) -> Credential:
    data = {"client_id": "zoom-client", "client_secret": CLIENT_SECRET, "account_id": "acct-42", **fields}
    return credential_from_fields(ZOOM, data, tenant_id="t1", provider="zoomish")


def google_credential(private_key: str, **fields: Any) -> Credential:
    data = {"issuer": "robot@project.iam.gserviceaccount.com", "private_key": private_key, **fields}
    return credential_from_fields(GOOGLE, data, tenant_id="t1", provider="googlish")


def stored(credential: Credential) -> tuple[MemoryStore, str]:
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme"))
    store.put_credential(credential.model_copy(update={"tenant_id": tenant.id}))
    return store, tenant.id


# -- client credentials: fields and the request -------------------------------------------


def test_client_credentials_fields_make_a_credential_without_a_token() -> None:
    credential = zoom_credential()
    assert credential.kind == "client_credentials" and credential.access_token is None
    assert credential.extra == {"client_id": "zoom-client", "account_id": "acct-42"}
    assert credential.secret("client_secret") == CLIENT_SECRET
    assert CLIENT_SECRET not in repr(credential)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"account_id": None}, "account_id"),
        ({"client_secret": ""}, "client_secret"),
        ({"client_id": ""}, "client_id"),
        ({"secret": "x"}, "secret"),
    ],
)
def test_client_credentials_fields_are_validated(fields: dict[str, Any], field: str) -> None:
    data = {"client_id": "zoom-client", "client_secret": CLIENT_SECRET, "account_id": "acct-42", **fields}
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(ValidationError) as caught:
        credential_from_fields(ZOOM, data, tenant_id="t1", provider="zoomish")
    assert [e["loc"][0] for e in caught.value.errors()] == [field]


def test_client_credentials_scheme_definition_is_checked() -> None:
    with pytest.raises(ValueError, match="token_url"):
        ClientCredentials()
    with pytest.raises(ValueError, match="grant_type"):
        ClientCredentials(token_url=ZOOM_TOKEN_URL, token_params=("grant_type",))
    assert "account_id" in ZOOM.fields_model().model_json_schema()["required"]
    assert (
        ClientCredentials(token_url=ZOOM_TOKEN_URL)
        .fields_model()
        .model_json_schema()["properties"]["client_secret"]["writeOnly"]
    )


async def test_zoom_account_credentials_request_is_exact() -> None:
    endpoint = TokenEndpoint(lambda request: TokenEndpoint.token("zoom-at", scope="meeting:read user:read"))
    before = time.time()
    async with httpx.AsyncClient(transport=httpx.MockTransport(endpoint)) as http:
        minted = await ZOOM.refresh_credential(zoom_credential(), http)
    (request,) = endpoint.requests
    assert str(request.url) == ZOOM_TOKEN_URL and request.method == "POST"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    scheme, encoded = request.headers["authorization"].split(" ")
    assert scheme == "Basic" and base64.b64decode(encoded).decode() == f"zoom-client:{CLIENT_SECRET}"
    assert form(request) == {"grant_type": "account_credentials", "account_id": "acct-42", "scope": "meeting:read"}
    assert minted.require_token() == "zoom-at" and minted.refresh_token is None
    assert minted.expires_at is not None and before + 3590 < minted.expires_at <= time.time() + 3600
    assert minted.scopes == ["meeting:read", "user:read"] and minted.kind == "client_credentials"
    assert minted.secret("client_secret") == CLIENT_SECRET and minted.extra["account_id"] == "acct-42"
    assert ZOOM.headers(minted) == {"Authorization": "Bearer zoom-at"}


async def test_client_secret_post_and_own_scopes() -> None:
    scheme = ClientCredentials(token_url="https://idp.example/token", token_auth_method="client_secret_post")
    credential = credential_from_fields(
        scheme,
        {"client_id": "svc", "client_secret": CLIENT_SECRET, "scopes": ["a", "b"]},
        tenant_id="t1",
        provider="svc",
    )
    endpoint = TokenEndpoint()
    async with httpx.AsyncClient(transport=httpx.MockTransport(endpoint)) as http:
        await scheme.refresh_credential(credential, http)
    (request,) = endpoint.requests
    assert "authorization" not in request.headers
    assert form(request) == {
        "grant_type": "client_credentials",
        "scope": "a b",
        "client_id": "svc",
        "client_secret": CLIENT_SECRET,
    }


# -- client credentials through the credential manager -------------------------------------


async def test_first_use_gets_one_token_for_many_callers_then_reuses_it() -> None:
    store, tenant_id = stored(zoom_credential())
    endpoint = TokenEndpoint(delay=0.05)
    manager = CredentialManager(store, endpoint.flows())
    results = await asyncio.gather(*(manager.get(tenant_id, "zoomish", Zoomish) for _ in range(20)))
    assert len(endpoint.requests) == 1
    assert {r.require_token() for r in results if r is not None} == {"minted-1"}
    again = await manager.get(tenant_id, "zoomish", Zoomish)
    assert again is not None and again.require_token() == "minted-1" and len(endpoint.requests) == 1
    kept = await store.get_credential(tenant_id, "zoomish")
    assert kept is not None and kept.require_token() == "minted-1" and kept.version > 1
    assert kept.secret("client_secret") == CLIENT_SECRET


async def test_a_due_token_is_obtained_again_with_the_grant_not_a_refresh() -> None:
    credential = zoom_credential().model_copy(update={"access_token": SecretStr("old"), "expires_at": time.time() + 30})
    store, tenant_id = stored(credential)
    endpoint = TokenEndpoint()
    manager = CredentialManager(store, endpoint.flows(), refresh_margin=60)
    renewed = await manager.get(tenant_id, "zoomish", Zoomish)
    assert renewed is not None and renewed.require_token() == "minted-1"
    assert form(endpoint.requests[0])["grant_type"] == "account_credentials"
    fresh = zoom_credential().model_copy(update={"access_token": SecretStr("fresh"), "expires_at": time.time() + 3000})
    store.put_credential(fresh.model_copy(update={"tenant_id": tenant_id}))
    kept = await manager.get(tenant_id, "zoomish", Zoomish)
    assert kept is not None and kept.require_token() == "fresh" and len(endpoint.requests) == 1


@pytest.mark.parametrize("error", ["invalid_client", "unauthorized_client", "invalid_grant", "invalid_scope"])
async def test_a_refused_client_needs_a_reconnect_and_is_marked(error: str) -> None:
    store, tenant_id = stored(zoom_credential())
    body = {"error": error, "error_description": f"bad client secret {CLIENT_SECRET}"}
    endpoint = TokenEndpoint(lambda request: httpx.Response(401, json=body))
    with pytest.raises(ReconnectRequired) as caught:
        await CredentialManager(store, endpoint.flows()).get(tenant_id, "zoomish", Zoomish)
    assert error in caught.value.message and "store the tenant's zoomish credential again" in caught.value.message
    assert CLIENT_SECRET not in caught.value.message and "[redacted]" in caught.value.message
    kept = await store.get_credential(tenant_id, "zoomish")
    assert kept is not None and kept.status == CredentialStatus.RECONNECT_REQUIRED
    with pytest.raises(ReconnectRequired):  # and nothing is sent again
        await CredentialManager(store, endpoint.flows()).get(tenant_id, "zoomish", Zoomish)
    assert len(endpoint.requests) == 1


@pytest.mark.parametrize(
    "reply",
    [
        lambda request: httpx.Response(503, text="unavailable"),
        lambda request: httpx.Response(429, json={"error": "slow_down"}),
        lambda request: (_ for _ in ()).throw(httpx.ConnectError("refused", request=request)),
        lambda request: (_ for _ in ()).throw(httpx.ReadTimeout("slow", request=request)),
    ],
)
async def test_passing_failures_keep_the_credential(reply: Callable[[httpx.Request], httpx.Response]) -> None:
    store, tenant_id = stored(zoom_credential())
    with pytest.raises(RefreshFailed, match="temporarily"):
        await CredentialManager(store, TokenEndpoint(reply).flows()).get(tenant_id, "zoomish", Zoomish)
    kept = await store.get_credential(tenant_id, "zoomish")
    assert kept is not None and kept.status == CredentialStatus.ACTIVE and kept.access_token is None


async def test_other_refusals_are_credential_errors_without_marking() -> None:
    store, tenant_id = stored(zoom_credential())
    endpoint = TokenEndpoint(lambda request: httpx.Response(400, json={"error": "invalid_request"}))
    with pytest.raises(CredentialError, match="check the tenant's zoomish client_credentials credential"):
        await CredentialManager(store, endpoint.flows()).get(tenant_id, "zoomish", Zoomish)
    kept = await store.get_credential(tenant_id, "zoomish")
    assert kept is not None and kept.status == CredentialStatus.ACTIVE


async def test_a_credential_missing_its_secret_sends_nothing() -> None:
    store, tenant_id = stored(zoom_credential().model_copy(update={"secrets": {}}))
    endpoint = TokenEndpoint()
    with pytest.raises(ReconnectRequired, match="client_secret"):
        await CredentialManager(store, endpoint.flows()).get(tenant_id, "zoomish", Zoomish)
    assert endpoint.requests == []


def test_headers_need_a_token() -> None:
    with pytest.raises(NotConnected, match="no access token yet"):
        ZOOM.headers(zoom_credential())
    assert ZOOM.headers(None) == {}


# -- JWT bearer ------------------------------------------------------------------------------


def service_account_key(private_key: str, **changes: Any) -> str:
    data = {
        "type": "service_account",
        "project_id": "demo-project",
        "private_key_id": "kid-123",
        "private_key": private_key,
        "client_email": "robot@demo-project.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": GOOGLE_TOKEN_URL,
        **changes,
    }
    return json.dumps({k: v for k, v in data.items() if v is not None})


async def test_jwt_bearer_request_and_assertion_are_exact(key_pair: tuple[str, RSAKey]) -> None:
    private, public = key_pair
    credential = google_credential(private, subject="alice@example.com", key_id="kid-1")
    assert credential.account == "alice@example.com" and credential.access_token is None
    assert credential.secret("private_key") == private and "private_key" not in credential.extra
    endpoint = TokenEndpoint(lambda request: TokenEndpoint.token("ya29.token", expires_in=3599))
    before = int(time.time())
    async with httpx.AsyncClient(transport=httpx.MockTransport(endpoint)) as http:
        minted = await GOOGLE.refresh_credential(credential, http)
    (request,) = endpoint.requests
    assert str(request.url) == GOOGLE_TOKEN_URL and "authorization" not in request.headers
    body = form(request)
    assert set(body) == {"grant_type", "assertion"} and body["grant_type"] == JWT_BEARER_GRANT_TYPE
    token = jwt.decode(body["assertion"], public, algorithms=["RS256"])  # the signature is checked here
    assert token.header == {"alg": "RS256", "typ": "JWT", "kid": "kid-1"}
    claims = token.claims
    assert claims["iss"] == "robot@project.iam.gserviceaccount.com"
    assert claims["sub"] == "alice@example.com"
    assert claims["aud"] == GOOGLE_TOKEN_URL
    assert claims["scope"] == "https://www.googleapis.com/auth/drive.readonly"
    assert before <= claims["iat"] <= time.time() and claims["exp"] - claims["iat"] == 3600
    assert minted.require_token() == "ya29.token" and minted.kind == "jwt_bearer"
    assert minted.secret("private_key") == private


async def test_jwt_bearer_without_subject_and_with_scope_in_the_request(key_pair: tuple[str, RSAKey]) -> None:
    private, public = key_pair
    scheme = JwtBearer(token_url="https://idp.example/oauth2/token", scope_in="request", lifetime=300)
    credential = credential_from_fields(
        scheme, {"issuer": "svc", "private_key": private, "scopes": ["read"]}, tenant_id="t1", provider="svc"
    )
    endpoint = TokenEndpoint()
    async with httpx.AsyncClient(transport=httpx.MockTransport(endpoint)) as http:
        await scheme.refresh_credential(credential, http)
    body = form(endpoint.requests[0])
    assert body["scope"] == "read"
    claims = jwt.decode(body["assertion"], public, algorithms=["RS256"]).claims
    assert "sub" not in claims and "scope" not in claims and claims["exp"] - claims["iat"] == 300
    assert claims["aud"] == "https://idp.example/oauth2/token"


def test_a_service_account_key_file_is_accepted(key_pair: tuple[str, RSAKey]) -> None:
    credential = credential_from_fields(
        GOOGLE,
        {"service_account_key": service_account_key(key_pair[0]), "subject": "bob@example.com"},
        tenant_id="t1",
        provider="googlish",
    )
    assert credential.extra == {
        "project_id": "demo-project",
        "client_id": "1234567890",
        "issuer": "robot@demo-project.iam.gserviceaccount.com",
        "subject": "bob@example.com",
        "key_id": "kid-123",
        "token_url": GOOGLE_TOKEN_URL,
    }
    assert list(credential.secrets) == ["private_key"] and credential.secret("private_key") == key_pair[0]
    assert key_pair[0] not in json.dumps(credential.extra)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"service_account_key": "{not json"}, "service_account_key", "not JSON"),
        ({"service_account_key": json.dumps({"type": "authorized_user"})}, "service_account_key", "service_account"),
        ("no-email", "service_account_key", "client_email"),
        ("bad-uri", "service_account_key", "https"),
        ({"issuer": "svc", "private_key": "-----BEGIN nonsense"}, "private_key", "PEM"),
        ({"issuer": "svc"}, None, "issuer and private_key"),
        ("both", None, "not both"),
        ({"issuer": "svc", "private_key": "pem", "token_url": "http://idp.example/t"}, "token_url", "https"),
    ],
)
def test_jwt_bearer_fields_are_validated(
    key_pair: tuple[str, RSAKey], fields: dict[str, Any] | str, field: str | None, message: str
) -> None:
    if fields == "no-email":
        fields = {"service_account_key": service_account_key(key_pair[0], client_email=None)}
    elif fields == "bad-uri":
        fields = {"service_account_key": service_account_key(key_pair[0], token_uri="http://evil.example/t")}
    elif fields == "both":
        fields = {"service_account_key": service_account_key(key_pair[0]), "issuer": "x", "private_key": key_pair[0]}
    elif isinstance(fields, dict) and fields.get("private_key") == "pem":
        fields = {**fields, "private_key": key_pair[0]}
    assert isinstance(fields, dict)
    with pytest.raises(ValidationError) as caught:
        credential_from_fields(GOOGLE, fields, tenant_id="t1", provider="googlish")
    errors = caught.value.errors(include_input=False)
    assert [e["loc"][0] if e["loc"] else None for e in errors] == [field]
    assert message in errors[0]["msg"]
    assert "PRIVATE KEY" not in str(errors)


async def test_jwt_bearer_uses_the_credentials_token_url_when_the_scheme_has_none(
    key_pair: tuple[str, RSAKey],
) -> None:
    scheme = JwtBearer()
    credential = credential_from_fields(
        scheme,
        {"service_account_key": service_account_key(key_pair[0], token_uri="https://oauth2.example.com/token")},
        tenant_id="t1",
        provider="svc",
    )
    endpoint = TokenEndpoint()
    async with httpx.AsyncClient(transport=httpx.MockTransport(endpoint)) as http:
        await scheme.refresh_credential(credential, http)
    assert str(endpoint.requests[0].url) == "https://oauth2.example.com/token"
    claims = jwt.decode(form(endpoint.requests[0])["assertion"], key_pair[1], algorithms=["RS256"]).claims
    assert claims["aud"] == "https://oauth2.example.com/token"
    # A stored URL that is not (or no longer) acceptable is refused before anything is sent.
    tampered = credential.model_copy(update={"extra": {**credential.extra, "token_url": "http://10.0.0.1/token"}})
    async with httpx.AsyncClient(transport=httpx.MockTransport(endpoint)) as http:
        with pytest.raises(ReconnectRequired, match="token_url"):
            await scheme.refresh_credential(tampered, http)
    assert len(endpoint.requests) == 1


async def test_google_refusing_the_assertion_needs_a_reconnect(key_pair: tuple[str, RSAKey]) -> None:
    store, tenant_id = stored(google_credential(key_pair[0]))
    body = {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
    endpoint = TokenEndpoint(lambda request: httpx.Response(400, json=body))
    with pytest.raises(ReconnectRequired, match="Invalid JWT Signature"):
        await CredentialManager(store, endpoint.flows()).get(tenant_id, "googlish", Googlish)
    kept = await store.get_credential(tenant_id, "googlish")
    assert kept is not None and kept.status == CredentialStatus.RECONNECT_REQUIRED
    assertion = form(endpoint.requests[0])["assertion"]
    assert assertion  # and it never shows in what the caller sees
    with pytest.raises(ReconnectRequired) as again:
        await CredentialManager(store, endpoint.flows()).get(tenant_id, "googlish", Googlish)
    assert assertion not in again.value.message


async def test_jwt_bearer_through_the_manager_renews_once_for_concurrent_callers(
    key_pair: tuple[str, RSAKey],
) -> None:
    store, tenant_id = stored(google_credential(key_pair[0]))
    endpoint = TokenEndpoint(delay=0.05)
    manager = CredentialManager(store, endpoint.flows())
    results = await asyncio.gather(*(manager.get(tenant_id, "googlish", Googlish) for _ in range(10)))
    assert len(endpoint.requests) == 1 and {r.require_token() for r in results if r} == {"minted-1"}


def test_a_damaged_stored_key_needs_a_reconnect(key_pair: tuple[str, RSAKey]) -> None:
    credential = google_credential(key_pair[0])
    damaged = credential.model_copy(update={"secrets": {"private_key": SecretStr("garbage")}})
    with pytest.raises(ReconnectRequired, match="cannot sign RS256"):
        GOOGLE.assertion(damaged)


def test_jwt_bearer_scheme_definition_is_checked() -> None:
    with pytest.raises(ValueError, match="asymmetric"):
        JwtBearer(algorithm="HS256")
    with pytest.raises(ValueError, match="lifetime"):
        JwtBearer(lifetime=0)
