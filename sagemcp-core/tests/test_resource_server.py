"""The MCP endpoints as OAuth protected resources, over real HTTP: RFC 9728 metadata, 401/403 challenges,
tokens bound to one endpoint, and an SDK OAuth client discovering the metadata from a 401."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import httpx2
import pytest
import websockets
from mcp.client.auth import OAuthClientProvider
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken, ProtectedResourceMetadata
from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from sagemcp.mcp import (
    ApiKeyAuthenticator,
    BearerTokenAuthenticator,
    ChainAuthenticator,
    McpApp,
    McpSettings,
    canonical_resource,
    create_mcp_app,
    protected_resource_routes,
)
from sagemcp.platform import ConnectorRegistry, MemoryStore, Principal, UpstreamClient

from ._support import FakeNotesApi, NotesConnector, free_port, serve
from .test_mcp_adapter import build_store

ISSUER = "https://auth.example.com"
CALL = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
WELL_KNOWN = "/.well-known/oauth-protected-resource"


class Tokens:
    """A token verifier answering from a table, as an authorization server's token store would."""

    def __init__(self) -> None:
        self.issued: dict[str, Principal] = {}
        self.calls: list[tuple[str, str]] = []

    async def verify(self, token: str, resource: str) -> Principal | None:
        self.calls.append((token, resource))
        return self.issued.get(token)


@dataclass
class Site:
    base: str
    store: MemoryStore
    keys: dict[str, str]
    tenant_ids: dict[str, str]
    tokens: Tokens
    settings: McpSettings
    app: McpApp
    bearer: BearerTokenAuthenticator
    api: FakeNotesApi = field(default_factory=FakeNotesApi)

    def issue(self, token: str, tenant: str, path: str, scopes: frozenset[str] = frozenset({"mcp"})) -> None:
        """A token of a member of `tenant` for the endpoint at `path` (under /api/v1)."""
        self.tokens.issued[token] = Principal(
            id=f"oauth:{token}",
            kind="oauth",
            tenant_id=self.tenant_ids[tenant],
            user_id="user-1",
            scopes=scopes,
            resource=self.base + "/api/v1" + path,
        )


def host(app: McpApp, settings: McpSettings) -> Starlette:
    """The application layout of the reference server: the metadata at the root, the MCP app under /api/v1."""

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with app.lifespan():
            yield

    routes = [*protected_resource_routes(settings, mount_prefix="/api/v1"), Mount("/api/v1", app=app)]
    return Starlette(routes=routes, lifespan=lifespan)


@asynccontextmanager
async def site(settings: McpSettings, port: int | None = None) -> AsyncIterator[Site]:
    store, keys, tenants, _ = build_store()
    tokens = Tokens()
    # inside the MCP app the authenticator learns the requested resource from the app itself
    bearer = BearerTokenAuthenticator(tokens, ttl=settings.cache_ttl)
    api = FakeNotesApi()
    upstream = UpstreamClient(transport=httpx.MockTransport(api))
    app = create_mcp_app(
        store,
        ConnectorRegistry([NotesConnector]),
        authenticator=ChainAuthenticator([ApiKeyAuthenticator(store), bearer]),
        upstream=upstream,
        settings=settings,
    )
    async with serve(host(app, settings), port) as base:
        ids = {slug: t.id for slug, t in tenants.items()}
        yield Site(base, store, keys, ids, tokens, settings, app, bearer, api)
    await upstream.aclose()


@pytest.fixture
async def rs() -> AsyncIterator[Site]:
    settings = McpSettings(
        authorization_servers=[ISSUER],
        resource_name="Example MCP",
        resource_documentation="https://docs.example.com/mcp",
    )
    async with site(settings) as s:
        yield s


async def post(s: Site, path: str, token: str | None, headers: dict[str, str] | None = None) -> httpx.Response:
    h = {
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "MCP-Protocol-Version": "2025-11-25",
    }
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    h.update(headers or {})
    async with httpx.AsyncClient(base_url=s.base) as http:
        return await http.post("/api/v1" + path, content=json.dumps(CALL), headers=h)


def challenge(response: httpx.Response) -> dict[str, str]:
    """The auth-params of a `WWW-Authenticate: Bearer` challenge (RFC 6750 §3)."""
    value = response.headers["www-authenticate"]
    scheme, _, rest = value.partition(" ")
    assert scheme == "Bearer"
    params = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', rest))
    assert ", ".join(f'{k}="{v}"' for k, v in params.items()) == rest, "every parameter is a quoted auth-param"
    return params


# -- metadata --------------------------------------------------------------------------------


async def test_metadata_of_each_endpoint_at_its_path_aware_well_known_url(rs: Site) -> None:
    async with httpx.AsyncClient(base_url=rs.base) as http:
        for endpoint in ("/acme/mcp", "/acme/connectors/notes/mcp"):
            r = await http.get(WELL_KNOWN + "/api/v1" + endpoint)
            assert r.status_code == 200
            assert r.headers["content-type"] == "application/json"
            assert "max-age" in r.headers["cache-control"]
            metadata = ProtectedResourceMetadata.model_validate_json(r.content)
            assert str(metadata.resource) == rs.base + "/api/v1" + endpoint
            assert [str(a) for a in metadata.authorization_servers] == [ISSUER]
            assert metadata.scopes_supported == ["mcp"]
            assert metadata.bearer_methods_supported == ["header"]
            assert metadata.resource_name == "Example MCP"
            assert str(metadata.resource_documentation) == "https://docs.example.com/mcp"
            assert set(r.json()) == {
                "resource",
                "authorization_servers",
                "scopes_supported",
                "bearer_methods_supported",
                "resource_name",
                "resource_documentation",
            }


async def test_every_transport_of_an_endpoint_shares_its_resource(rs: Site) -> None:
    async with httpx.AsyncClient(base_url=rs.base) as http:
        for base in ("/acme", "/acme/connectors/notes"):
            docs = [(await http.get(f"{WELL_KNOWN}/api/v1{base}{suffix}")) for suffix in ("/sse", "/messages/", "/ws")]
            assert [d.status_code for d in docs] == [200, 200, 200]
            assert {d.json()["resource"] for d in docs} == {f"{rs.base}/api/v1{base}/mcp"}


async def test_metadata_does_not_tell_whether_a_tenant_exists(rs: Site) -> None:
    async with httpx.AsyncClient(base_url=rs.base) as http:
        known = await http.get(WELL_KNOWN + "/api/v1/acme/connectors/notes/mcp")
        unknown = await http.get(WELL_KNOWN + "/api/v1/nobody/connectors/nothing/mcp")
        malformed = await http.get(WELL_KNOWN + "/api/v1/Not_A_Slug/mcp")
        root = await http.get(WELL_KNOWN)
    assert known.status_code == unknown.status_code == 200
    varying = {"date", "content-length"}
    assert {k: v for k, v in known.headers.items() if k not in varying} == {
        k: v for k, v in unknown.headers.items() if k not in varying
    }
    assert unknown.json() == {**known.json(), "resource": rs.base + "/api/v1/nobody/connectors/nothing/mcp"}
    assert malformed.status_code == 404 and malformed.json()["error"] == "not_found"
    # no document for the root: every endpoint is its own resource
    assert root.status_code == 404


async def test_metadata_answers_cors_preflights_and_cross_origin_reads(rs: Site) -> None:
    path = WELL_KNOWN + "/api/v1/acme/mcp"
    async with httpx.AsyncClient(base_url=rs.base) as http:
        preflight = await http.options(
            path,
            headers={
                "Origin": "https://inspector.example",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "mcp-protocol-version",
            },
        )
        read = await http.get(path, headers={"Origin": "https://inspector.example"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "GET" in preflight.headers["access-control-allow-methods"]
    assert read.status_code == 200 and read.headers["access-control-allow-origin"] == "*"


async def test_without_an_authorization_server_nothing_is_advertised() -> None:
    async with site(McpSettings()) as s:
        async with httpx.AsyncClient(base_url=s.base) as http:
            assert (await http.get(WELL_KNOWN + "/api/v1/acme/mcp")).status_code == 404
        r = await post(s, "/acme/mcp", None)
        assert r.status_code == 401
        assert challenge(r) == {"realm": "sagemcp", "scope": "mcp"}
        assert (await post(s, "/acme/mcp", s.keys["acme"])).status_code == 200


# -- challenges --------------------------------------------------------------------------------


async def test_401_points_at_the_metadata_of_the_endpoint_requested(rs: Site) -> None:
    async with httpx.AsyncClient() as http:
        for endpoint in ("/acme/mcp", "/acme/connectors/notes/mcp", "/nobody/connectors/notes/mcp"):
            r = await post(rs, endpoint, None)
            assert r.status_code == 401
            assert r.json()["error"]["message"].startswith("Authentication required")
            params = challenge(r)
            assert "error" not in params
            assert params["scope"] == "mcp"
            assert params["resource_metadata"] == f"{rs.base}{WELL_KNOWN}/api/v1{endpoint}"
            metadata = (await http.get(params["resource_metadata"])).json()
            assert metadata["resource"] == f"{rs.base}/api/v1{endpoint}"


async def test_401_on_the_sse_transport_names_the_endpoints_metadata(rs: Site) -> None:
    async with httpx.AsyncClient(base_url=rs.base) as http:
        r = await http.get("/api/v1/acme/connectors/notes/sse", headers={"Accept": "text/event-stream"})
    assert r.status_code == 401
    assert challenge(r)["resource_metadata"] == f"{rs.base}{WELL_KNOWN}/api/v1/acme/connectors/notes/mcp"


async def test_a_refused_token_gets_invalid_token(rs: Site) -> None:
    r = await post(rs, "/acme/mcp", "not-a-token-anyone-issued")
    assert r.status_code == 401
    assert r.json()["error"]["message"].startswith("The API key or access token was not accepted")
    params = challenge(r)
    assert params["error"] == "invalid_token"
    assert params["resource_metadata"] == f"{rs.base}{WELL_KNOWN}/api/v1/acme/mcp"
    assert params["scope"] == "mcp"
    # the verifier was asked with the canonical resource of the endpoint requested
    assert rs.tokens.calls[-1] == ("not-a-token-anyone-issued", rs.base + "/api/v1/acme/mcp")


async def test_a_token_without_the_mcp_scope_gets_insufficient_scope(rs: Site) -> None:
    rs.issue("narrow", "acme", "/acme/mcp", scopes=frozenset({"profile"}))
    r = await post(rs, "/acme/mcp", "narrow")
    assert r.status_code == 403
    params = challenge(r)
    assert params["error"] == "insufficient_scope"
    assert params["scope"] == "mcp"
    assert params["resource_metadata"] == f"{rs.base}{WELL_KNOWN}/api/v1/acme/mcp"
    error = r.json()["error"]
    assert error["data"] == {"scope": "mcp"} and "'mcp'" in error["message"]
    # the same token on another tenant's endpoint learns nothing about that tenant
    rs.issue("narrow-globex", "acme", "/globex/mcp", scopes=frozenset({"profile"}))
    assert (await post(rs, "/globex/mcp", "narrow-globex")).status_code == 404


async def test_an_api_key_without_the_mcp_scope_gets_insufficient_scope(rs: Site) -> None:
    key, _ = rs.store.create_api_key(rs.tenant_ids["acme"], name="admin-only", scopes=frozenset({"admin"}))
    r = await post(rs, "/acme/mcp", key)
    assert r.status_code == 403 and challenge(r)["error"] == "insufficient_scope"


# -- tokens bound to one endpoint -------------------------------------------------------------


async def test_a_token_works_on_the_endpoint_it_was_issued_for(rs: Site) -> None:
    rs.issue("wide", "acme", "/acme/mcp")
    rs.issue("one", "acme", "/acme/connectors/notes/mcp")
    wide = await post(rs, "/acme/mcp", "wide")
    assert wide.status_code == 200 and "notes_get_note" in wide.text
    one = await post(rs, "/acme/connectors/notes/mcp", "one")
    assert one.status_code == 200 and "notes_get_note" in one.text


async def test_a_token_for_one_tenant_is_refused_on_another_like_a_foreign_tenant(rs: Site) -> None:
    rs.issue("acme-token", "acme", "/acme/mcp")
    by_token = await post(rs, "/globex/mcp", "acme-token")
    by_key = await post(rs, "/globex/mcp", rs.keys["acme"])
    assert by_token.status_code == by_key.status_code == 404
    assert by_token.json() == by_key.json()
    # a token naming globex's endpoint but belonging to acme gets the same answer
    rs.issue("acme-for-globex", "acme", "/globex/mcp")
    confused = await post(rs, "/globex/mcp", "acme-for-globex")
    assert confused.status_code == 404 and confused.json() == by_key.json()
    assert not any(r.headers.get("authorization") == "Bearer tok-b" for r in rs.api.requests)


async def test_a_token_for_one_connector_is_refused_on_another_and_on_the_tenant_endpoint(rs: Site) -> None:
    rs.issue("notes-only", "acme", "/acme/connectors/notes/mcp")
    other_connector = await post(rs, "/acme/connectors/notes-ro/mcp", "notes-only")
    tenant_wide = await post(rs, "/acme/mcp", "notes-only")
    assert other_connector.status_code == tenant_wide.status_code == 404
    assert "not found or not accessible" in tenant_wide.json()["error"]["message"]
    # and the tenant-wide token does not reach a single connector's endpoint either
    rs.issue("wide", "acme", "/acme/mcp")
    assert (await post(rs, "/acme/connectors/notes/mcp", "wide")).status_code == 404


async def test_resource_urls_are_compared_canonically(rs: Site) -> None:
    spelled = rs.base.replace("http://", "HTTP://") + "/api/v1/acme/mcp/"
    assert canonical_resource(spelled) == rs.base + "/api/v1/acme/mcp"
    rs.tokens.issued["odd-spelling"] = Principal(
        id="oauth:odd", kind="oauth", tenant_id=rs.tenant_ids["acme"], scopes=frozenset({"mcp"}), resource=spelled
    )
    assert (await post(rs, "/acme/mcp", "odd-spelling")).status_code == 200


async def test_websocket_upgrades_honour_the_token_resource(rs: Site) -> None:
    rs.issue("notes-only", "acme", "/acme/connectors/notes/mcp")
    ws_base = rs.base.replace("http://", "ws://") + "/api/v1"
    headers = {"Authorization": "Bearer notes-only"}
    async with websockets.connect(
        ws_base + "/acme/connectors/notes/ws", subprotocols=["mcp"], additional_headers=headers
    ) as ws:
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
        assert json.loads(await ws.recv())["result"] == {}
    with pytest.raises(websockets.exceptions.InvalidStatus):
        async with websockets.connect(ws_base + "/acme/ws", subprotocols=["mcp"], additional_headers=headers) as ws:
            await ws.recv()


# -- the authenticator --------------------------------------------------------------------------


async def test_answers_are_cached_per_token_and_resource_and_invalidated(rs: Site) -> None:
    rs.issue("t1", "acme", "/acme/mcp")
    for _ in range(3):
        assert (await post(rs, "/acme/mcp", "t1")).status_code == 200
    assert rs.tokens.calls.count(("t1", rs.base + "/api/v1/acme/mcp")) == 1
    # another endpoint is another question for the verifier
    assert (await post(rs, "/acme/connectors/notes/mcp", "t1")).status_code == 404
    assert ("t1", rs.base + "/api/v1/acme/connectors/notes/mcp") in rs.tokens.calls
    # revoked in this process: invalidate() makes it stop at once
    del rs.tokens.issued["t1"]
    assert (await post(rs, "/acme/mcp", "t1")).status_code == 200  # still cached
    notified: list[bool] = []
    rs.bearer.on_invalidate(lambda: notified.append(True))
    rs.bearer.invalidate()
    assert notified == [True]
    assert (await post(rs, "/acme/mcp", "t1")).status_code == 401


async def test_outside_the_mcp_app_the_authenticator_needs_resource_url() -> None:
    scope = {"type": "http", "headers": [(b"authorization", b"Bearer t")], "path_params": {"tenant": "acme"}}
    with pytest.raises(RuntimeError, match="resource_url="):
        await BearerTokenAuthenticator(Tokens()).authenticate(HTTPConnection(scope))
    settings = McpSettings(public_url="https://mcp.example.com/api/v1")
    tokens = Tokens()
    await BearerTokenAuthenticator(tokens, resource_url=settings.resource_url).authenticate(HTTPConnection(scope))
    assert tokens.calls == [("t", "https://mcp.example.com/api/v1/acme/mcp")]


async def test_oversized_tokens_are_refused_without_asking_the_verifier(rs: Site) -> None:
    r = await post(rs, "/acme/mcp", "x" * 4097)
    assert r.status_code == 401 and challenge(r)["error"] == "invalid_token"
    assert rs.tokens.calls == []


# -- public URL -----------------------------------------------------------------------------------


async def test_resource_urls_come_from_the_public_url_never_the_host_header() -> None:
    settings = McpSettings(authorization_servers=[ISSUER], public_url="https://mcp.example.com/api/v1/")
    async with site(settings) as s:
        r = await post(s, "/acme/mcp", None, {"Host": "evil.example"})
        assert challenge(r)["resource_metadata"] == f"https://mcp.example.com{WELL_KNOWN}/api/v1/acme/mcp"
        async with httpx.AsyncClient(base_url=s.base) as http:
            doc = (await http.get(WELL_KNOWN + "/api/v1/acme/mcp", headers={"Host": "evil.example"})).json()
        assert doc["resource"] == "https://mcp.example.com/api/v1/acme/mcp"
        # a token issued for the public URL is accepted, whatever address the request came in on
        s.tokens.issued["public"] = Principal(
            id="oauth:p",
            kind="oauth",
            tenant_id=s.tenant_ids["acme"],
            scopes=frozenset({"mcp"}),
            resource="https://mcp.example.com/api/v1/acme/mcp",
        )
        assert (await post(s, "/acme/mcp", "public")).status_code == 200
        assert s.tokens.calls[-1] == ("public", "https://mcp.example.com/api/v1/acme/mcp")


async def test_without_a_public_url_the_socket_address_is_used_not_the_host_header(rs: Site) -> None:
    r = await post(rs, "/acme/mcp", None, {"Host": "evil.example"})
    assert challenge(r)["resource_metadata"] == f"{rs.base}{WELL_KNOWN}/api/v1/acme/mcp"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"public_url": "ftp://x.example"}, "public_url"),
        ({"public_url": "https://x.example/api?q=1"}, "public_url"),
        ({"authorization_servers": ["http://auth.example.com"]}, "authorization_servers"),
        ({"authorization_servers": ["https://auth.example.com#x"]}, "authorization_servers"),
        ({"resource_scopes": ["tools"]}, "must include 'mcp'"),
        ({"resource_scopes": ["mcp", 'bad"scope']}, "invalid scope names"),
        ({"resource_documentation": "javascript:alert(1)"}, "resource_documentation"),
    ],
)
def test_resource_settings_are_validated(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        McpSettings(**kwargs)


def test_loopback_issuers_may_use_http() -> None:
    assert McpSettings(authorization_servers=["http://127.0.0.1:9000"]).oauth_enabled


# -- an OAuth client discovering the metadata ------------------------------------------------------


class _Memory:
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


class _Redirected(Exception):
    def __init__(self, url: str) -> None:
        self.url = url


def fake_authorization_server(seen: list[str]) -> Starlette:
    """Just enough of an authorization server for a client to reach its authorization endpoint."""

    async def metadata(request: Request) -> Response:
        seen.append(request.url.path)
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "issuer": base,
                "authorization_endpoint": base + "/authorize",
                "token_endpoint": base + "/token",
                "registration_endpoint": base + "/register",
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"],
                "scopes_supported": ["mcp"],
            }
        )

    async def register(request: Request) -> Response:
        seen.append(request.url.path)
        body = await request.json()
        return JSONResponse({**body, "client_id": "client-1"}, status_code=201)

    return Starlette(
        routes=[
            Route("/.well-known/oauth-authorization-server", metadata),
            Route("/register", register, methods=["POST"]),
        ]
    )


async def test_the_sdk_oauth_client_discovers_the_resource_and_its_server_from_a_401() -> None:
    seen: list[str] = []
    async with serve(fake_authorization_server(seen)) as issuer:
        settings = McpSettings(authorization_servers=[issuer])
        port = free_port()
        async with site(settings, port) as s:
            endpoint = f"{s.base}/api/v1/acme/connectors/notes/mcp"

            async def redirect(url: str) -> None:
                raise _Redirected(url)

            async def callback() -> Any:
                raise AssertionError("the flow stops at the redirect")

            provider = OAuthClientProvider(
                server_url=endpoint,
                client_metadata=OAuthClientMetadata(
                    client_name="test client",
                    redirect_uris=["http://127.0.0.1:1/callback"],  # type: ignore[list-item]
                    grant_types=["authorization_code", "refresh_token"],
                    response_types=["code"],
                ),
                storage=_Memory(),
                redirect_handler=redirect,
                callback_handler=callback,
            )
            async with httpx2.AsyncClient(auth=provider, timeout=10.0) as http:
                with pytest.raises(_Redirected) as redirected:
                    await http.post(
                        endpoint,
                        json=CALL,
                        headers={"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"},
                    )
    prm = provider.context.protected_resource_metadata
    assert prm is not None and str(prm.resource) == endpoint
    assert seen == ["/.well-known/oauth-authorization-server", "/register"]
    authorize = httpx.URL(redirected.value.url)
    assert str(authorize.copy_with(query=None)) == issuer + "/authorize"
    assert authorize.params["resource"] == endpoint
    assert authorize.params["scope"] == "mcp"
    assert authorize.params["code_challenge_method"] == "S256"


def test_endpoint_for_maps_a_resource_back_to_its_tenant_and_connector() -> None:
    settings = McpSettings(public_url="https://MCP.example.com/api/v1")
    assert settings.endpoint_for("https://mcp.example.com/api/v1/acme/mcp") == ("acme", None)
    assert settings.endpoint_for("https://mcp.example.com:443/api/v1/acme/connectors/notes/mcp/") == ("acme", "notes")
    for other in (
        "https://mcp.example.com/api/v1/acme/sse",  # a transport path, not the canonical resource
        "https://mcp.example.com/api/v2/acme/mcp",
        "https://evil.example/api/v1/acme/mcp",
        "https://mcp.example.com/api/v1/acme/mcp?x=1",
        "https://mcp.example.com/api/v1/Acme/mcp",
        "not a url",
    ):
        assert settings.endpoint_for(other) is None, other
    with pytest.raises(ValueError, match="public_url"):
        McpSettings().endpoint_for("https://mcp.example.com/api/v1/acme/mcp")
