"""GitHub App installation tokens: JWT signing, the token request, refresh results and failures."""

from __future__ import annotations

import base64
import json
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sagemcp.credentials import CredentialManager
from sagemcp.errors import ReconnectRequired, RefreshFailed, TokenEndpointError
from sagemcp.memory import MemoryStore
from sagemcp.models import Credential, CredentialStatus, Tenant
from sagemcp.oauth import BAD_RESPONSE, UNREACHABLE, OAuthFlows
from sagemcp_github import GitHubAppAuth, GitHubConnector

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.jose import jwt

EXPIRES = "2030-01-01T12:00:00Z"


@pytest.fixture(scope="module")
def key_pair() -> tuple[str, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


def app_credential(private_key: str, **extra: object) -> Credential:
    return Credential(
        tenant_id="acme",
        provider="github",
        kind="github_app",
        access_token="placeholder",
        refresh_token=private_key,
        expires_at=0,
        extra={"app_id": 12345, "installation_id": 67890, **extra},
        version=3,
    )


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
    claims = jwt.decode(token, public)
    assert claims.header["alg"] == "RS256"
    assert claims["iss"] == "12345"
    assert claims["iat"] <= before and claims["exp"] - claims["iat"] <= 600
    assert claims["exp"] > before + 300

    assert refreshed.access_token.get_secret_value() == "ghs_new_installation_token"
    assert refreshed.expires_at == datetime(2030, 1, 1, 12, tzinfo=UTC).timestamp()
    assert refreshed.version == 3  # the caller (core's CredentialManager) sets the new version
    assert refreshed.refresh_token is not None and refreshed.refresh_token.get_secret_value() == private
    assert refreshed.extra["permissions"] == {"issues": "write", "contents": "read"}
    assert refreshed.extra["app_id"] == 12345
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
        (lambda key: app_credential("not a key"), "not a usable RSA key"),
        (lambda key: app_credential(key).model_copy(update={"refresh_token": None}), "no private key"),
        (lambda key: app_credential(key, app_id=""), "app_id"),
        (lambda key: app_credential(key, installation_id=None), "installation_id"),
        (lambda key: app_credential(key, api_url="http://github.example.com"), "api_url"),
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


def test_headers_without_a_credential() -> None:
    assert GitHubAppAuth().headers(None) == {}
    assert GitHubAppAuth.kind == "github_app"


def test_jwt_is_valid_for_at_most_ten_minutes(key_pair: tuple[str, bytes]) -> None:
    private, public = key_pair
    token = GitHubAppAuth().app_jwt(app_credential(private), now=1_700_000_000)
    claims = jwt.decode(token, public)
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


async def test_credential_manager_renews_an_expired_installation_token(key_pair: tuple[str, bytes]) -> None:
    store, tenant_id = store_with_app_credential(key_pair[0])
    calls: list[str] = []

    def github(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(201, json={"token": f"ghs_token_{len(calls)}", "expires_at": EXPIRES})

    manager = CredentialManager(store, OAuthFlows(transport=httpx.MockTransport(github)))
    first = await manager.get(tenant_id, "github", GitHubConnector)
    again = await manager.get(tenant_id, "github", GitHubConnector)

    assert calls == ["/app/installations/67890/access_tokens"]  # renewed once, then reused
    assert first is not None and first.access_token.get_secret_value() == "ghs_token_1"
    assert again is not None and again.access_token.get_secret_value() == "ghs_token_1"
    stored = await store.get_credential(tenant_id, "github")
    assert stored is not None and stored.access_token.get_secret_value() == "ghs_token_1"
    assert stored.version > 3 and stored.kind == "github_app"


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
