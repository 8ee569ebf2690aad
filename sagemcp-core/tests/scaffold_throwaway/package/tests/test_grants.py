"""The credentials of the throw-away connector, proved through a real server.

Core's MCP app runs under uvicorn with two tenants and no tokens: `zoomish` holds client-credentials
fields (client id, client secret, account id), `googly` a service account's issuer, private key and
subject; each credential is bound, as the reference server stores it, to the origins it may be sent
to. The official MCP client calls `throwaway_get_item_attachment` for each. Core gets the token
from a fake token endpoint, and the tool's requests reach a fake API, file host, media host and
storage host; everything they receive is recorded. The tests check every token request (grant type,
client authentication, account id; the JWT's claims, verified with the public key), that the API,
file and media requests carry the minted token to the host the credential chose, and that nothing
reaches an undeclared host with a credential.
"""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx
import httpx2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import RSAKey
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from pydantic import ValidationError

from sagemcp import credential_from_fields
from sagemcp.mcp import McpSettings, create_mcp_app
from sagemcp.platform import (
    ConnectorConfig,
    ConnectorRegistry,
    CredentialManager,
    MemoryStore,
    OAuthFlows,
    Tenant,
    UpstreamClient,
    credential_binding,
)
from sagemcp.testing import serve
from sagemcp_throwaway import ThrowawayConnector
from sagemcp_throwaway.connector import FILES_ORIGIN, MEDIA_ORIGIN, TOKEN_URL, AccountFields

pytestmark = pytest.mark.e2e

CLIENT_ID, CLIENT_SECRET, ACCOUNT_ID = "s2s-client", "s2s-secret", "acct-42"
ISSUER, SUBJECT = "robot@throwaway-project.iam.example.com", "someone@example.com"
ACCOUNT_HOST = f"https://{ACCOUNT_ID}.api.throwaway.example"
"""The client-credentials account's own API host, named by its id."""
STORAGE = "https://storage.elsewhere.example"
"""A host nobody declared: signed download links point there."""
PRIVATE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = PRIVATE_KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
PUBLIC_KEY = RSAKey.import_key(
    PRIVATE_KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
)
ATTACHMENT_TEXT = "Meeting notes\n" + "x" * 5_000


@dataclass
class TokenEndpoint:
    """The fake token endpoint: it checks nothing itself; the tests read what it received."""

    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        form = {key: values[0] for key, values in parse_qs(request.content.decode()).items()}
        if str(request.url) != TOKEN_URL:
            return httpx.Response(404)
        if form.get("grant_type") == "account_credentials":
            body = {"access_token": f"cc-token-{len(self.requests)}", "token_type": "bearer", "expires_in": 3600}
            return httpx.Response(200, json={**body, "scope": "items:read"})
        return httpx.Response(200, json={"access_token": f"jwt-token-{len(self.requests)}", "expires_in": 3600})


@dataclass
class Upstream:
    """The fake API (on any host), file host, media host and storage host."""

    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        origin = f"{request.url.scheme}://{request.url.host}"
        if origin == FILES_ORIGIN:
            return httpx.Response(200, text=ATTACHMENT_TEXT)
        if origin == MEDIA_ORIGIN:
            return httpx.Response(200, content=b"\x89PNG" + b"\0" * 1_020)
        if origin == STORAGE:
            return httpx.Response(200, content=b"%PDF" + b"\0" * 4_092)
        item_id = request.url.path.rsplit("/", 1)[-1]
        files = FILES_ORIGIN if item_id == "itm_1" else "https://files.elsewhere.example"
        attachment = {
            "name": "notes.txt",
            "content_url": f"{files}/a/{item_id}/notes.txt",
            "thumbnail_url": f"{MEDIA_ORIGIN}/t/{item_id}.png",
            "download_url": f"{STORAGE}/signed/{item_id}?signature=abc123",
        }
        return httpx.Response(200, json={"id": item_id, "name": "Widget", "attachment": attachment})

    def seen(self) -> list[tuple[str, str | None]]:
        """Each request as (URL without query, its Authorization header)."""
        return [(str(r.url.copy_with(query=None)), r.headers.get("authorization")) for r in self.requests]


@dataclass
class Server:
    base: str
    keys: dict[str, str]
    tokens: TokenEndpoint
    upstream: Upstream
    store: MemoryStore
    tenants: dict[str, Tenant]


FIELDS: dict[str, tuple[str, dict[str, Any]]] = {
    "zoomish": (
        "client_credentials",
        {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "account_id": ACCOUNT_ID},
    ),
    "googly": ("jwt_bearer", {"issuer": ISSUER, "private_key": PEM, "subject": SUBJECT}),
}


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    store = MemoryStore()
    keys, tenants = {}, {}
    for slug, (kind, fields) in FIELDS.items():
        tenant = tenants[slug] = store.add_tenant(Tenant(slug=slug, name=slug))
        store.add_connector(ConnectorConfig(tenant_id=tenant.id, connector_type="throwaway", name="throwaway"))
        scheme = ThrowawayConnector.scheme_for(kind)
        assert scheme is not None
        credential = credential_from_fields(scheme, fields, tenant_id=tenant.id, provider="throwaway")
        assert credential.access_token is None  # no token until a tool needs one
        origins = credential_binding(ThrowawayConnector, ThrowawayConnector.parse_config({}), credential)
        store.put_credential(credential.model_copy(update={"origins": origins}))
        keys[slug], _ = store.create_api_key(tenant.id, name="e2e")
    tokens, upstream = TokenEndpoint(), Upstream()
    credentials = CredentialManager(store, OAuthFlows(transport=httpx.MockTransport(tokens)))
    client = UpstreamClient(transport=httpx.MockTransport(upstream))
    registry = ConnectorRegistry([ThrowawayConnector])
    app = create_mcp_app(store, registry, credentials=credentials, upstream=client, settings=McpSettings())
    try:
        async with serve(app) as base:
            yield Server(base, keys, tokens, upstream, store, tenants)
    finally:
        await client.aclose()


async def call(server: Server, tenant: str, item_id: str, times: int = 1) -> list[Any]:
    """`throwaway_get_item_attachment` over MCP for `tenant`, `times` times; the results."""
    url = f"{server.base}/{tenant}/connectors/throwaway/mcp"
    headers = {"Authorization": f"Bearer {server.keys[tenant]}"}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0)) as http:
        async with Client(streamable_http_client(url, http_client=http)) as client:  # type: ignore[arg-type]
            return [await client.call_tool("throwaway_get_item_attachment", {"item_id": item_id}) for _ in range(times)]


def form(request: httpx.Request) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(request.content.decode()).items()}


async def test_client_credentials_mint_a_token_for_the_account_and_call_its_host(server: Server) -> None:
    first, second = await call(server, "zoomish", "itm_1", times=2)

    # One token request, right for Zoom's Server-to-Server OAuth; the second call reuses the token.
    (token_request,) = server.tokens.requests
    assert str(token_request.url) == TOKEN_URL
    assert token_request.method == "POST"
    assert form(token_request) == {"grant_type": "account_credentials", "account_id": ACCOUNT_ID}
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert token_request.headers["authorization"] == f"Basic {basic}"
    stored = await server.store.get_credential(server.tenants["zoomish"].id, "throwaway")
    assert stored is not None and stored.access_token is not None
    assert stored.access_token.get_secret_value() == "cc-token-1"
    assert stored.origins == (ACCOUNT_HOST, FILES_ORIGIN, MEDIA_ORIGIN)  # bound when stored, kept when minted

    # The account's API host and both declared hosts get the minted token; the storage host gets none.
    minted = "Bearer cc-token-1"
    expected = [
        (f"{ACCOUNT_HOST}/items/itm_1", minted),
        (f"{FILES_ORIGIN}/a/itm_1/notes.txt", minted),
        (f"{MEDIA_ORIGIN}/t/itm_1.png", minted),
        (f"{STORAGE}/signed/itm_1", None),
    ]
    assert server.upstream.seen() == expected * 2
    assert not any(r.url.host == "api.throwaway.example" for r in server.upstream.requests)
    for result in (first, second):
        assert not result.is_error, result.content
        assert result.structured_content["thumbnail_bytes"] == 1_024
        assert result.structured_content["download_bytes"] == 4_096
        assert "…[truncated: 2,000 of 5,014 characters shown" in result.structured_content["text"]


async def test_a_service_account_signs_a_jwt_and_calls_the_default_host(server: Server) -> None:
    before = int(time.time())
    (result,) = await call(server, "googly", "itm_1")

    assert not result.is_error, result.content
    (token_request,) = server.tokens.requests
    body = form(token_request)
    assert body["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assert set(body) == {"grant_type", "assertion"}
    assert "authorization" not in token_request.headers  # the signature is the client authentication
    assertion = jwt.decode(body["assertion"], PUBLIC_KEY)  # raises unless signed by the service account's key
    assert assertion.header["alg"] == "RS256"
    claims = assertion.claims
    assert (claims["iss"], claims["sub"], claims["aud"], claims["scope"]) == (ISSUER, SUBJECT, TOKEN_URL, "items:read")
    assert before - 5 <= claims["iat"] <= time.time() + 5
    assert claims["exp"] - claims["iat"] == 3600

    minted = "Bearer jwt-token-1"
    assert server.upstream.seen() == [
        ("https://api.throwaway.example/items/itm_1", minted),
        (f"{FILES_ORIGIN}/a/itm_1/notes.txt", minted),
        (f"{MEDIA_ORIGIN}/t/itm_1.png", minted),
        (f"{STORAGE}/signed/itm_1", None),
    ]


async def test_an_undeclared_host_gets_no_request_that_carries_the_credential(server: Server) -> None:
    """The API points `itm_2`'s file at a host nobody declared: the call is refused before anything is sent."""
    (result,) = await call(server, "zoomish", "itm_2")

    assert result.is_error
    text = "".join(getattr(part, "text", "") for part in result.content)
    assert "refused to send a throwaway request to https://files.elsewhere.example" in text
    assert "cc-token" not in text
    assert server.upstream.seen() == [(f"{ACCOUNT_HOST}/items/itm_2", "Bearer cc-token-1")]


@pytest.mark.parametrize("account_id", ["acct.evil.example", "Acct", "a/b", ""])
def test_an_account_id_that_cannot_be_a_host_label_is_refused_when_stored(account_id: str) -> None:
    scheme = ThrowawayConnector.scheme_for("client_credentials")
    assert scheme is not None
    assert scheme.fields_model() is AccountFields
    fields = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "account_id": account_id}
    with pytest.raises(ValidationError, match="account_id"):
        credential_from_fields(scheme, fields, tenant_id="t", provider="throwaway")
