"""`JwtTokenVerifier` against an issuer on a real port: discovery, signatures, claims, key rotation, refusals,
and the MCP endpoints admitting its tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
import pytest
from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, Key, OctKey, OKPKey, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route

from sagemcp import IssuerUnavailable
from sagemcp.mcp import (
    ApiKeyAuthenticator,
    BearerTokenAuthenticator,
    ChainAuthenticator,
    JwtTokenVerifier,
    McpSettings,
    VerifiedJwt,
    create_mcp_app,
    protected_resource_routes,
)
from sagemcp.platform import ConnectorRegistry, Principal, UpstreamClient

from ._support import FakeNotesApi, NotesConnector, serve
from .test_mcp_adapter import build_store

RESOURCE = "https://mcp.example.com/api/v1/acme/mcp"
RSA = RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig"})
RSA_NEXT = RSAKey.generate_key(2048, parameters={"kid": "rsa-2", "use": "sig"})
EC = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})
OKP = OKPKey.generate_key("Ed25519", parameters={"kid": "ed-1"})


@dataclass
class Issuer:
    """An authorization server's published documents, changeable by the test, and the paths requested."""

    base: str = ""
    keys: list[Key] = field(default_factory=lambda: [RSA, EC, OKP])
    requests: list[str] = field(default_factory=list)
    documents: dict[str, Callable[[], Response]] = field(default_factory=dict)

    @property
    def issuer(self) -> str:
        return self.base

    def jwks_requests(self) -> int:
        return self.requests.count("/jwks")

    def app(self) -> Starlette:
        async def handler(request: Request) -> Response:
            path = request.url.path
            self.requests.append(path)
            if path in self.documents:
                return self.documents[path]()
            if path == "/.well-known/oauth-authorization-server":
                return JSONResponse({"issuer": self.base, "jwks_uri": self.base + "/jwks"})
            if path == "/jwks":
                return JSONResponse({"keys": [k.as_dict(private=False) for k in self.keys]})
            return JSONResponse({"error": "not_found"}, status_code=404)

        return Starlette(routes=[Route("/{path:path}", handler)])


@pytest.fixture
async def issuer() -> AsyncIterator[Issuer]:
    state = Issuer()
    async with serve(state.app()) as base:
        state.base = base
        yield state


def mint(
    issuer: Issuer, key: Key, alg: str = "RS256", *, header: dict[str, Any] | None = None, **overrides: Any
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer.issuer,
        "sub": "alice",
        "aud": RESOURCE,
        "exp": now + 300,
        "iat": now,
        "scope": "mcp profile",
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)  # "EdDSA" is deprecated by name; issuers still use it
        return jwt.encode({"alg": alg, "kid": key.kid, **(header or {})}, claims, key, algorithms=[alg])


class Members:
    """`principal_for`: alice is a member of acme; everyone else is unknown."""

    def __init__(self, tenant_id: str = "tenant-acme") -> None:
        self.tenant_id = tenant_id
        self.seen: list[VerifiedJwt] = []

    async def __call__(self, token: VerifiedJwt) -> Principal | None:
        self.seen.append(token)
        if token.subject != "alice":
            return None
        return Principal(id=f"oauth:{token.subject}", kind="oauth", tenant_id=self.tenant_id, user_id="user-alice")


def verifier(issuer: Issuer, members: Members | None = None, **kwargs: Any) -> JwtTokenVerifier:
    return JwtTokenVerifier(issuer.issuer, principal_for=members or Members(), **kwargs)


# -- valid tokens -----------------------------------------------------------------------------------


async def test_a_valid_token_maps_to_a_principal_for_the_resource(issuer: Issuer) -> None:
    members = Members()
    v = verifier(issuer, members)
    principal = await v.verify(mint(issuer, RSA), RESOURCE)
    assert principal is not None
    assert principal.kind == "oauth"
    assert principal.tenant_id == "tenant-acme" and principal.user_id == "user-alice"
    assert principal.scopes == frozenset({"mcp", "profile"})
    assert principal.resource == RESOURCE
    (seen,) = members.seen
    assert seen.subject == "alice" and seen.issuer == issuer.issuer and seen.resource == RESOURCE
    assert seen.claims["sub"] == "alice"
    # discovery found the keys through the issuer's RFC 8414 metadata
    assert issuer.requests == ["/.well-known/oauth-authorization-server", "/jwks"]
    await v.aclose()


@pytest.mark.parametrize(("key", "alg"), [(EC, "ES256"), (OKP, "EdDSA"), (RSA, "PS256")])
async def test_each_allowed_public_key_algorithm_verifies(issuer: Issuer, key: Key, alg: str) -> None:
    principal = await verifier(issuer).verify(mint(issuer, key, alg), RESOURCE)
    assert principal is not None and principal.user_id == "user-alice"


async def test_scopes_also_come_from_scp_lists(issuer: Issuer) -> None:
    principal = await verifier(issuer).verify(mint(issuer, RSA, scope=None, scp=["mcp", "files"]), RESOURCE)
    assert principal is not None and principal.scopes == frozenset({"mcp", "files"})


async def test_the_audience_may_be_one_of_several_and_spelled_differently(issuer: Issuer) -> None:
    v = verifier(issuer)
    assert await v.verify(mint(issuer, RSA, aud=["https://other.example", RESOURCE + "/"]), RESOURCE) is not None
    assert await v.verify(mint(issuer, RSA, aud="HTTPS://MCP.example.com:443/api/v1/acme/mcp"), RESOURCE) is not None


async def test_audience_for_maps_a_resource_to_the_issuers_name_for_it(issuer: Issuer) -> None:
    v = verifier(issuer, audience_for=lambda resource: "api://sagemcp")
    principal = await v.verify(mint(issuer, RSA, aud="api://sagemcp"), RESOURCE)
    assert principal is not None and principal.resource == RESOURCE
    assert await v.verify(mint(issuer, RSA), RESOURCE) is None


async def test_a_token_without_kid_uses_the_only_key_of_its_type(issuer: Issuer) -> None:
    issuer.keys = [RSAKey.import_key({k: v for k, v in RSA.as_dict(private=False).items() if k != "kid"})]
    token = jwt.encode({"alg": "RS256"}, {"iss": issuer.issuer, "sub": "alice", "aud": RESOURCE, "exp": 2**31}, RSA)
    assert await verifier(issuer).verify(token, RESOURCE) is not None


# -- refused tokens ---------------------------------------------------------------------------------


async def test_expired_and_not_yet_valid_tokens_are_refused_within_the_leeway(issuer: Issuer) -> None:
    v = verifier(issuer, leeway=30)
    now = int(time.time())
    assert await v.verify(mint(issuer, RSA, exp=now - 120), RESOURCE) is None
    assert await v.verify(mint(issuer, RSA, exp=now - 10), RESOURCE) is not None  # clock skew
    assert await v.verify(mint(issuer, RSA, nbf=now + 600), RESOURCE) is None
    assert await v.verify(mint(issuer, RSA, exp=None), RESOURCE) is None  # exp is required


async def test_another_issuers_token_is_refused_without_fetching_keys(issuer: Issuer) -> None:
    v = verifier(issuer)
    assert await v.verify(mint(issuer, RSA, iss="https://evil.example"), RESOURCE) is None
    assert issuer.requests == []


async def test_a_token_for_another_resource_is_refused(issuer: Issuer) -> None:
    v = verifier(issuer)
    assert await v.verify(mint(issuer, RSA, aud="https://mcp.example.com/api/v1/globex/mcp"), RESOURCE) is None
    assert await v.verify(mint(issuer, RSA, aud=None), RESOURCE) is None
    assert await v.verify(mint(issuer, RSA), RESOURCE.replace("/mcp", "/connectors/notes/mcp")) is None


async def test_an_unknown_member_is_refused(issuer: Issuer) -> None:
    assert await verifier(issuer).verify(mint(issuer, RSA, sub="mallory"), RESOURCE) is None


async def test_alg_none_and_hmac_are_refused(issuer: Issuer) -> None:
    v = verifier(issuer)

    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    claims = {"iss": issuer.issuer, "sub": "alice", "aud": RESOURCE, "exp": int(time.time()) + 300, "scope": "mcp"}
    unsigned = f"{b64({'alg': 'none', 'kid': 'rsa-1'})}.{b64(claims)}."
    assert await v.verify(unsigned, RESOURCE) is None
    # the classic confusion: an HMAC "signed" with the issuer's public key
    signing_input = f"{b64({'alg': 'HS256', 'kid': 'rsa-1'})}.{b64(claims)}"
    mac = hmac.new(RSA.as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
    hs256 = signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    assert await v.verify(hs256, RESOURCE) is None
    # a forged signature
    header, _, signature = mint(issuer, RSA).split(".")
    forged_payload = b64({**claims, "sub": "alice", "scope": "mcp admin"})
    assert await v.verify(f"{header}.{forged_payload}.{signature}", RESOURCE) is None
    for garbage in ("", "opaque-token", "a.b.c", "a.b.c.d.e"):
        assert await v.verify(garbage, RESOURCE) is None


def test_only_public_key_algorithms_can_be_allowed() -> None:
    for algorithms in (("HS256",), ("RS256", "none"), ()):
        with pytest.raises(ValueError, match="public-key algorithms only"):
            JwtTokenVerifier("https://auth.example.com", principal_for=Members(), algorithms=algorithms)


async def test_a_key_whose_alg_differs_from_the_tokens_is_not_used(issuer: Issuer) -> None:
    pinned = RSAKey.import_key({**RSA.as_dict(private=False), "alg": "PS256"})
    issuer.keys = [pinned]
    v = verifier(issuer)
    assert await v.verify(mint(issuer, RSA, "RS256"), RESOURCE) is None
    assert await v.verify(mint(issuer, RSA, "PS256"), RESOURCE) is not None


# -- keys: rotation, outages, size ------------------------------------------------------------------


async def test_an_unknown_kid_refetches_the_keys_at_most_once_per_interval(issuer: Issuer) -> None:
    v = verifier(issuer, refetch_interval=0.5)
    assert await v.verify(mint(issuer, RSA), RESOURCE) is not None
    assert issuer.jwks_requests() == 1
    issuer.keys = [RSA_NEXT]  # the issuer rotates its key
    rotated = mint(issuer, RSA_NEXT)
    # moments after the last fetch: not fetched again, so made-up kids cannot drive requests to the issuer
    assert await v.verify(rotated, RESOURCE) is None
    assert issuer.jwks_requests() == 1
    await anyio.sleep(0.6)
    assert await v.verify(rotated, RESOURCE) is not None
    assert issuer.jwks_requests() == 2
    made_up = mint(issuer, RSAKey.generate_key(2048, parameters={"kid": "made-up"}))
    for _ in range(5):
        assert await v.verify(made_up, RESOURCE) is None
    assert issuer.jwks_requests() == 2
    # the old key is gone from the issuer's set, so its tokens stop verifying
    assert await v.verify(mint(issuer, RSA), RESOURCE) is None


async def test_concurrent_unknown_kids_cause_one_fetch(issuer: Issuer) -> None:
    v = verifier(issuer, refetch_interval=0.2)
    assert await v.verify(mint(issuer, RSA), RESOURCE) is not None
    await anyio.sleep(0.3)
    issuer.keys = [RSA, RSA_NEXT]
    token = mint(issuer, RSA_NEXT)
    results: list[Principal | None] = []

    async def one() -> None:
        results.append(await v.verify(token, RESOURCE))

    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(one)
    assert all(r is not None for r in results) and len(results) == 10
    assert issuer.jwks_requests() == 2


async def test_oversized_key_sets_are_refused(issuer: Issuer) -> None:
    huge = {"keys": [RSA.as_dict(private=False)] * 200}
    issuer.documents["/jwks"] = lambda: JSONResponse(huge)
    v = verifier(issuer, max_document_bytes=16 * 1024)
    with pytest.raises(IssuerUnavailable, match="more than 16384 bytes"):
        await v.verify(mint(issuer, RSA), RESOURCE)

    async def chunks() -> AsyncIterator[bytes]:
        body = json.dumps(huge).encode()
        for i in range(0, len(body), 4096):
            yield body[i : i + 4096]

    # without a Content-Length: cut off while reading
    issuer.documents["/jwks"] = lambda: StreamingResponse(chunks(), media_type="application/json")
    streamed = verifier(issuer, max_document_bytes=16 * 1024)
    with pytest.raises(IssuerUnavailable, match="more than 16384 bytes"):
        await streamed.verify(mint(issuer, RSA), RESOURCE)


async def test_an_unreachable_issuer_is_unavailable_not_a_refusal(issuer: Issuer) -> None:
    issuer.documents["/jwks"] = lambda: JSONResponse({"error": "down"}, status_code=503)
    v = verifier(issuer, refetch_interval=30)
    with pytest.raises(IssuerUnavailable, match="HTTP 503"):
        await v.verify(mint(issuer, RSA), RESOURCE)
    # asked again at once: no new request to the issuer
    requests = len(issuer.requests)
    with pytest.raises(IssuerUnavailable, match="moments ago"):
        await v.verify(mint(issuer, RSA), RESOURCE)
    assert len(issuer.requests) == requests
    closed = JwtTokenVerifier("http://127.0.0.1:9", principal_for=Members(), jwks_uri="http://127.0.0.1:9/jwks")
    with pytest.raises(IssuerUnavailable, match="cannot be reached"):
        await closed.verify(mint(issuer, RSA, iss="http://127.0.0.1:9"), RESOURCE)


async def test_a_slow_issuer_times_out(issuer: Issuer) -> None:
    async def slow(request: Request) -> Response:
        await anyio.sleep(3)
        return JSONResponse({"keys": []})

    app = Starlette(routes=[Route("/jwks", slow)])
    async with serve(app) as base:
        v = JwtTokenVerifier(base, principal_for=Members(), jwks_uri=base + "/jwks", timeout=0.3)
        started = time.monotonic()
        with pytest.raises(IssuerUnavailable, match="ReadTimeout"):
            await v.verify(mint(issuer, RSA, iss=base), RESOURCE)
        assert time.monotonic() - started < 2


async def test_keys_held_keep_working_when_a_refresh_fails(issuer: Issuer) -> None:
    v = verifier(issuer, jwks_ttl=0.2, refetch_interval=0)
    assert await v.verify(mint(issuer, RSA), RESOURCE) is not None
    issuer.documents["/jwks"] = lambda: JSONResponse({"error": "down"}, status_code=500)
    await anyio.sleep(0.3)
    assert await v.verify(mint(issuer, RSA), RESOURCE) is not None
    assert issuer.jwks_requests() == 2


async def test_symmetric_and_encryption_keys_in_the_set_are_ignored(issuer: Issuer) -> None:
    secret = OctKey.generate_key(256, parameters={"kid": "rsa-1"})
    encryption = RSAKey.generate_key(2048, parameters={"kid": "enc", "use": "enc"})
    issuer.documents["/jwks"] = lambda: JSONResponse(
        {"keys": [secret.as_dict(private=True), encryption.as_dict(private=False)]}
    )
    with pytest.raises(IssuerUnavailable, match="no usable public signing key"):
        await verifier(issuer).verify(mint(issuer, RSA), RESOURCE)


# -- discovery ---------------------------------------------------------------------------------------


async def test_discovery_falls_back_to_openid_configuration_for_an_issuer_with_a_path(issuer: Issuer) -> None:
    realm = issuer.base + "/realms/acme"
    issuer.documents["/realms/acme/.well-known/openid-configuration"] = lambda: JSONResponse(
        {"issuer": realm, "jwks_uri": issuer.base + "/jwks"}
    )
    v = JwtTokenVerifier(realm, principal_for=Members())
    assert await v.verify(mint(issuer, RSA, iss=realm), RESOURCE) is not None
    assert issuer.requests == [
        "/.well-known/oauth-authorization-server/realms/acme",
        "/.well-known/openid-configuration/realms/acme",
        "/realms/acme/.well-known/openid-configuration",
        "/jwks",
    ]


async def test_metadata_of_another_issuer_is_refused(issuer: Issuer) -> None:
    issuer.documents["/.well-known/oauth-authorization-server"] = lambda: JSONResponse(
        {"issuer": "https://evil.example", "jwks_uri": issuer.base + "/jwks"}
    )
    with pytest.raises(IssuerUnavailable, match="its 'issuer' differs"):
        await verifier(issuer).verify(mint(issuer, RSA), RESOURCE)
    assert "/jwks" not in issuer.requests


async def test_a_given_jwks_uri_skips_discovery(issuer: Issuer) -> None:
    v = verifier(issuer, jwks_uri=issuer.base + "/jwks")
    assert await v.verify(mint(issuer, RSA), RESOURCE) is not None
    assert issuer.requests == ["/jwks"]


# -- the MCP endpoints with an external issuer --------------------------------------------------------


@asynccontextmanager
async def mcp_site(issuer: Issuer) -> AsyncIterator[tuple[str, str]]:
    """The MCP app mounted under /api/v1 with the issuer's JWTs accepted; yields (base URL, acme's tenant id)."""
    store, _, tenants, _ = build_store()
    settings = McpSettings(authorization_servers=[issuer.issuer], public_url="https://mcp.example.com/api/v1")
    members = Members(tenants["acme"].id)
    bearer = BearerTokenAuthenticator(
        JwtTokenVerifier(issuer.issuer, principal_for=members), resource_url=settings.resource_url
    )
    upstream = UpstreamClient(transport=httpx.MockTransport(FakeNotesApi()))
    app = create_mcp_app(
        store,
        ConnectorRegistry([NotesConnector]),
        authenticator=ChainAuthenticator([ApiKeyAuthenticator(store), bearer]),
        upstream=upstream,
        settings=settings,
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with app.lifespan():
            yield

    routes = [*protected_resource_routes(settings, "/api/v1"), Mount("/api/v1", app=app)]
    async with serve(Starlette(routes=routes, lifespan=lifespan)) as base:
        yield base, tenants["acme"].id
    await upstream.aclose()


async def _list_tools(base: str, path: str, token: str) -> httpx.Response:
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-11-25",
    }
    async with httpx.AsyncClient(base_url=base) as http:
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
        return await http.post("/api/v1" + path, json=body, headers=headers)


async def test_the_mcp_endpoints_admit_the_issuers_tokens(issuer: Issuer) -> None:
    async with mcp_site(issuer) as (base, _):
        ok = await _list_tools(base, "/acme/mcp", mint(issuer, RSA))
        assert ok.status_code == 200 and "notes_get_note" in ok.text
        # a token for acme's tenant-wide endpoint does not open one connector's endpoint
        other = await _list_tools(base, "/acme/connectors/notes/mcp", mint(issuer, RSA))
        assert other.status_code == 401 and 'error="invalid_token"' in other.headers["www-authenticate"]
        # right audience and member, but no mcp scope: step up
        narrow = await _list_tools(base, "/acme/mcp", mint(issuer, RSA, scope="profile"))
        assert narrow.status_code == 403
        assert 'error="insufficient_scope"' in narrow.headers["www-authenticate"]
        expired = await _list_tools(base, "/acme/mcp", mint(issuer, RSA, exp=int(time.time()) - 600))
        assert expired.status_code == 401


async def test_an_issuer_outage_answers_503_not_401(issuer: Issuer) -> None:
    issuer.documents["/jwks"] = lambda: JSONResponse({"keys": "nope"})
    async with mcp_site(issuer) as (base, _):
        r = await _list_tools(base, "/acme/mcp", mint(issuer, RSA))
    assert r.status_code == 503
    assert r.json()["error"]["message"].startswith("The server cannot check access tokens right now")
    assert "www-authenticate" not in r.headers


async def test_the_documented_embedding_example_admits_a_members_token(issuer: Issuer) -> None:
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    from examples.embed_oauth import build

    from ._support import free_port, http2_client

    port = free_port()
    public = f"http://127.0.0.1:{port}"
    async with serve(build(issuer.issuer, public), port) as base:
        url = f"{base}/mcp-api/acme/connectors/weather/mcp"
        alice = mint(issuer, RSA, aud=url, email="alice@example.com")
        async with Client(streamable_http_client(url, http_client=http2_client(alice))) as client:  # type: ignore[arg-type]
            names = [t.name for t in (await client.list_tools()).tools]
        assert names == ["weather_get_forecast"]
        async with httpx.AsyncClient() as http:
            headers = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"}
            body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
            stranger = mint(issuer, RSA, aud=url, email="mallory@example.com")
            refused = await http.post(url, json=body, headers={**headers, "Authorization": f"Bearer {stranger}"})
            assert refused.status_code == 401
            anonymous = await http.post(url, json=body, headers=headers)
            metadata_url = anonymous.headers["www-authenticate"].split('resource_metadata="')[1].rstrip('"')
            assert metadata_url == f"{public}/.well-known/oauth-protected-resource/mcp-api/acme/connectors/weather/mcp"
            assert (await http.get(metadata_url)).json()["resource"] == url
