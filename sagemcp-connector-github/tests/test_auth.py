"""GitHub App installation tokens: the credential's fields, JWT signing, the token request, results and failures."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc import jwt
from joserfc.jwk import RSAKey
from pydantic import SecretStr, ValidationError

from sagemcp import BAD_RESPONSE, UNREACHABLE, Credential, CredentialStatus, credential_from_fields
from sagemcp.errors import NotConnected, ReconnectRequired, RefreshFailed, TokenEndpointError
from sagemcp.platform import CredentialManager, MemoryStore, OAuthFlows, Tenant
from sagemcp_github import GitHubAppAuth, GitHubConnector

EXPIRES = "2030-01-01T12:00:00Z"


def decode(token: str, public: bytes) -> Any:
    """The JWT's header and claims, after checking its RS256 signature with the app's public key."""
    return jwt.decode(token, RSAKey.import_key(public), algorithms=["RS256"])


@pytest.fixture(scope="module")
def key_pair() -> tuple[str, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


def app_credential(private_key: str, **fields: object) -> Credential:
    """A stored GitHub App credential, made from its fields as the admin API makes it (no token yet)."""
    made = credential_from_fields(
        GitHubAppAuth(),
        {"app_id": 12345, "installation_id": 67890, "private_key": private_key, **fields},
        tenant_id="acme",
        provider="github",
    )
    return made.model_copy(update={"version": 3})


def test_fields_become_plain_extra_data_and_a_named_secret(key_pair: tuple[str, bytes]) -> None:
    credential = app_credential(key_pair[0], api_url="https://github.example.com/api/v3/")
    assert credential.kind == "github_app"
    assert credential.access_token is None and credential.refresh_token is None and credential.expires_at is None
    assert credential.extra == {
        "app_id": "12345",
        "installation_id": 67890,
        "api_url": "https://github.example.com/api/v3",
    }
    assert credential.secret("private_key") == key_pair[0]
    assert key_pair[0] not in repr(credential) and key_pair[0] not in json.dumps(credential.extra)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"private_key": "not a key"}, "private_key"),
        ({"installation_id": 0}, "installation_id"),
        ({"installation_id": "many"}, "installation_id"),
        ({"app_id": ""}, "app_id"),
        ({"api_url": "http://github.example.com"}, "api_url"),
        ({"token": "ghs_x"}, "token"),
    ],
)
def test_bad_fields_are_refused_naming_the_field(
    key_pair: tuple[str, bytes], fields: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        app_credential(**{"private_key": key_pair[0], **fields})  # type: ignore[arg-type]
    assert [e["loc"][0] for e in caught.value.errors()] == [field]
    assert "BEGIN" not in str(caught.value.errors(include_input=False))


def test_an_ec_key_is_not_an_app_key() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with pytest.raises(ValidationError, match="RSA private key"):
        app_credential(pem)


def client(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def test_refresh_exchanges_a_signed_jwt_for_an_installation_token(key_pair: tuple[str, bytes]) -> None:
    private, public = key_pair
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = {
            "token": "ghs_new_installation_token",
            "expires_at": EXPIRES,
            "permissions": {"issues": "write", "contents": "read"},
            "repository_selection": "selected",
        }
        return httpx.Response(201, json=body)

    before = time.time()
    async with client(handler) as http:
        refreshed = await GitHubAppAuth().refresh_credential(app_credential(private), http)

    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == "https://api.github.com/app/installations/67890/access_tokens"
    assert request.headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert request.headers["Accept"] == "application/vnd.github+json"
    scheme, token = request.headers["Authorization"].split(" ", 1)
    assert scheme == "Bearer"
    decoded = decode(token, public)
    claims = decoded.claims
    assert decoded.header["alg"] == "RS256"
    assert claims["iss"] == "12345"
    assert claims["iat"] <= before and claims["exp"] - claims["iat"] <= 600
    assert claims["exp"] > before + 300

    assert refreshed.access_token.get_secret_value() == "ghs_new_installation_token"
    assert refreshed.expires_at == datetime(2030, 1, 1, 12, tzinfo=UTC).timestamp()
    assert refreshed.version == 3  # the caller (core's CredentialManager) sets the new version
    assert refreshed.secret("private_key") == private and refreshed.refresh_token is None
    assert refreshed.extra["permissions"] == {"issues": "write", "contents": "read"}
    assert refreshed.extra["app_id"] == "12345"
    assert GitHubAppAuth().headers(refreshed) == {"Authorization": "Bearer ghs_new_installation_token"}


async def test_refresh_uses_the_enterprise_server_url(key_pair: tuple[str, bytes]) -> None:
    urls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        urls.append(str(request.url))
        return httpx.Response(201, json={"token": "ghs_x", "expires_at": EXPIRES})

    credential = app_credential(key_pair[0], api_url="https://github.example.com/api/v3/")
    async with client(handler) as http:
        await GitHubAppAuth().refresh_credential(credential, http)
    assert urls == ["https://github.example.com/api/v3/app/installations/67890/access_tokens"]


@pytest.mark.parametrize(
    ("status", "reason", "error"),
    [
        (401, "JWT", "invalid_grant"),
        (403, "suspended", "invalid_grant"),
        (404, "uninstalled", "invalid_grant"),
        (422, "rejected", "invalid_request"),
    ],
)
async def test_refusals_are_token_endpoint_errors(
    key_pair: tuple[str, bytes], status: int, reason: str, error: str
) -> None:
    async with client(lambda request: httpx.Response(status, json={"message": "nope"})) as http:
        with pytest.raises(TokenEndpointError, match=reason) as caught:
            await GitHubAppAuth().refresh_credential(app_credential(key_pair[0]), http)
    assert caught.value.error == error and caught.value.status == status
    assert "67890" in caught.value.message
    assert "BEGIN" not in caught.value.message


@pytest.mark.parametrize(
    ("handler", "error", "status"),
    [
        (lambda request: httpx.Response(502, text="bad gateway"), None, 502),
        (lambda request: httpx.Response(429, json={"message": "slow down"}), None, 429),
        (lambda request: httpx.Response(201, json={"no": "token"}), BAD_RESPONSE, 201),
        (lambda request: httpx.Response(201, text="not json"), BAD_RESPONSE, 201),
    ],
)
async def test_other_failures(
    key_pair: tuple[str, bytes],
    handler: Callable[[httpx.Request], httpx.Response],
    error: str | None,
    status: int,
) -> None:
    async with client(handler) as http:
        with pytest.raises(TokenEndpointError) as caught:
            await GitHubAppAuth().refresh_credential(app_credential(key_pair[0]), http)
    assert (caught.value.error, caught.value.status) == (error, status)


async def test_network_errors_are_unreachable(key_pair: tuple[str, bytes]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with client(handler) as http:
        with pytest.raises(TokenEndpointError, match="could not reach GitHub") as caught:
            await GitHubAppAuth().refresh_credential(app_credential(key_pair[0]), http)
    assert caught.value.error == UNREACHABLE


async def test_a_missing_expiry_falls_back_to_an_hour(key_pair: tuple[str, bytes]) -> None:
    async with client(lambda request: httpx.Response(201, json={"token": "ghs_x"})) as http:
        refreshed = await GitHubAppAuth().refresh_credential(app_credential(key_pair[0]), http)
    assert refreshed.expires_at is not None
    assert 3500 < refreshed.expires_at - time.time() <= 3600


@pytest.mark.parametrize(
    ("credential", "message"),
    [
        (lambda key: with_secret(app_credential(key), "not a key"), "not a usable RSA key"),
        (lambda key: app_credential(key).model_copy(update={"secrets": {}}), "no private key"),
        (lambda key: with_extra(app_credential(key), app_id=""), "app_id"),
        (lambda key: with_extra(app_credential(key), installation_id=None), "installation_id"),
        (lambda key: with_extra(app_credential(key), api_url="http://github.example.com"), "api_url"),
    ],
)
async def test_unusable_credentials_need_a_reconnect(
    key_pair: tuple[str, bytes], credential: Callable[[str], Credential], message: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request may be sent")

    async with client(handler) as http:
        with pytest.raises(ReconnectRequired, match=message):
            await GitHubAppAuth().refresh_credential(credential(key_pair[0]), http)


def with_secret(credential: Credential, private_key: str) -> Credential:
    """A stored credential whose key was damaged after it was validated (stores are not trusted blindly)."""
    return credential.model_copy(update={"secrets": {"private_key": SecretStr(private_key)}})


def with_extra(credential: Credential, **extra: object) -> Credential:
    return credential.model_copy(update={"extra": {**credential.extra, **extra}})


def test_headers_without_a_credential_or_a_token(key_pair: tuple[str, bytes]) -> None:
    assert GitHubAppAuth().headers(None) == {}
    assert GitHubAppAuth.kind == "github_app"
    with pytest.raises(NotConnected, match="no access token yet"):
        GitHubAppAuth().headers(app_credential(key_pair[0]))


def test_jwt_is_valid_for_at_most_ten_minutes(key_pair: tuple[str, bytes]) -> None:
    private, public = key_pair
    token = GitHubAppAuth().app_jwt(app_credential(private), now=1_700_000_000)
    claims = decode(token, public).claims
    assert claims["iat"] == 1_700_000_000 - 60
    assert claims["exp"] - claims["iat"] == 600
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"alg": "RS256", "typ": "JWT"}


# -- through core's CredentialManager ----------------------------------------------------------


def store_with_app_credential(private_key: str) -> tuple[MemoryStore, str]:
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme"))
    store.put_credential(app_credential(private_key).model_copy(update={"tenant_id": tenant.id}))
    return store, tenant.id


async def test_credential_manager_gets_the_first_installation_token_once(key_pair: tuple[str, bytes]) -> None:
    store, tenant_id = store_with_app_credential(key_pair[0])
    calls: list[str] = []

    async def github(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        await asyncio.sleep(0.05)  # long enough for every caller to be waiting on the one request
        return httpx.Response(201, json={"token": f"ghs_token_{len(calls)}", "expires_at": EXPIRES})

    manager = CredentialManager(store, OAuthFlows(transport=httpx.MockTransport(github)))
    results = await asyncio.gather(*(manager.get(tenant_id, "github", GitHubConnector) for _ in range(10)))
    first = results[0]
    again = await manager.get(tenant_id, "github", GitHubConnector)

    assert calls == ["/app/installations/67890/access_tokens"]  # made once for ten callers, then reused
    assert {r.access_token.get_secret_value() for r in results if r and r.access_token} == {"ghs_token_1"}
    assert first is not None and first.access_token.get_secret_value() == "ghs_token_1"
    assert again is not None and again.access_token.get_secret_value() == "ghs_token_1"
    stored = await store.get_credential(tenant_id, "github")
    assert stored is not None and stored.access_token.get_secret_value() == "ghs_token_1"
    assert stored.version > 3 and stored.kind == "github_app"
    assert stored.secret("private_key") == key_pair[0]


async def test_credential_manager_renews_an_expired_installation_token(key_pair: tuple[str, bytes]) -> None:
    store, tenant_id = store_with_app_credential(key_pair[0])
    stale = await store.get_credential(tenant_id, "github")
    assert stale is not None
    store.put_credential(stale.model_copy(update={"access_token": "ghs_old", "expires_at": time.time() + 30}))
    flows = OAuthFlows(
        transport=httpx.MockTransport(
            lambda request: httpx.Response(201, json={"token": "ghs_new", "expires_at": EXPIRES})
        )
    )
    renewed = await CredentialManager(store, flows, refresh_margin=60).get(tenant_id, "github", GitHubConnector)
    assert renewed is not None and renewed.require_token() == "ghs_new"


async def test_credential_manager_marks_an_uninstalled_app_for_reconnection(key_pair: tuple[str, bytes]) -> None:
    store, tenant_id = store_with_app_credential(key_pair[0])
    flows = OAuthFlows(
        transport=httpx.MockTransport(lambda request: httpx.Response(404, json={"message": "Not Found"}))
    )
    with pytest.raises(ReconnectRequired):
        await CredentialManager(store, flows).get(tenant_id, "github", GitHubConnector)
    stored = await store.get_credential(tenant_id, "github")
    assert stored is not None and stored.status == CredentialStatus.RECONNECT_REQUIRED


async def test_credential_manager_keeps_the_credential_on_a_passing_failure(key_pair: tuple[str, bytes]) -> None:
    store, tenant_id = store_with_app_credential(key_pair[0])
    flows = OAuthFlows(transport=httpx.MockTransport(lambda request: httpx.Response(503)))
    with pytest.raises(RefreshFailed):
        await CredentialManager(store, flows).get(tenant_id, "github", GitHubConnector)
    stored = await store.get_credential(tenant_id, "github")
    assert stored is not None and stored.status == CredentialStatus.ACTIVE
