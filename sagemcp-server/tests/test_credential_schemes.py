"""Credentials of every scheme through the reference server: PUT from fields, validation naming the bad field,
secrets encrypted and never returned, schemes that make their own tokens (a GitHub App against a fake GitHub that
checks the app's JWT, a client-credentials grant) called through the MCP route, and `OAuth2.post_authorize`
through the OAuth callback."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from conftest import MCP_HEADERS, Server, mcp_call, running
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from helpers import CLIENT_ID, CLIENT_SECRET, FAKE_BASE, FakeConnector, FakeProvider, TokenOnlyConnector
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from test_api_tenants import assert_error

from sagemcp import (
    POST_AUTHORIZE_KEY,
    ClientCredentials,
    Connector,
    ConnectorInfo,
    Credential,
    OAuth2,
    ToolContext,
    tool,
)
from sagemcp.platform import ConnectorRegistry
from sagemcp_server.connectors.demo import DemoConnector
from sagemcp_server.settings import Settings

github = pytest.importorskip("sagemcp_github", reason="the GitHub App tests need sagemcp-connector-github")

APP_ID = "424242"
INSTALLATION_ID = 67890
S2S_SECRET = "s2s-client-secret-5d1e"


def _rsa_key() -> tuple[str, RSAKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, RSAKey.import_key(public)


PRIVATE_KEY, PUBLIC_KEY = _rsa_key()
PEM_BODY = PRIVATE_KEY.splitlines()[5]  # a line from the middle of the key: must never show up anywhere


async def sites(credential: Credential, http: httpx.AsyncClient) -> Mapping[str, Any]:
    response = await http.get(FAKE_BASE + "/resources")
    response.raise_for_status()
    return {"sites": response.json()}


class GrantConnector(Connector):
    info = ConnectorInfo(id="grant", title="Grant", description="Server-to-Server OAuth, like Zoom's.")
    auth = (
        ClientCredentials(
            token_url=FAKE_BASE + "/cc/token", grant_type="account_credentials", token_params=("account_id",)
        ),
    )
    base_url = FAKE_BASE + "/api/"

    @tool(read_only=True, group="read")
    async def whoami(self, ctx: ToolContext) -> dict[str, Any]:
        """Who the token acts as."""
        data: dict[str, Any] = (await ctx.http.get("/whoami")).json()
        return data


class HookedConnector(Connector):
    info = ConnectorInfo(id="hooked", title="Hooked", description="OAuth with a post-authorization step.")
    auth = (OAuth2(authorize_url=FAKE_BASE + "/authorize", token_url=FAKE_BASE + "/token", post_authorize=sites),)
    base_url = FAKE_BASE + "/api/"

    @tool(read_only=True, group="read")
    async def whoami(self, ctx: ToolContext) -> dict[str, Any]:
        """Who the token acts as."""
        data: dict[str, Any] = (await ctx.http.get("/whoami")).json()
        return data


@dataclass
class Upstreams(FakeProvider):
    """The fake OAuth provider plus a fake GitHub (App installation tokens, users) and a client-credentials
    token endpoint, keeping what they received."""

    installation_requests: list[dict[str, Any]] = field(default_factory=list)
    installation_tokens: list[str] = field(default_factory=list)
    github_calls: list[dict[str, str]] = field(default_factory=list)
    grant_requests: list[tuple[dict[str, str], str]] = field(default_factory=list)
    resources_status: int = 200

    def app(self) -> Any:
        base = super().app()

        async def access_tokens(request: Request) -> Response:
            header = request.headers.get("authorization", "")
            try:
                token = jwt.decode(header.removeprefix("Bearer "), PUBLIC_KEY, algorithms=["RS256"])
            except (JoseError, ValueError):
                return JSONResponse({"message": "A JSON web token could not be decoded"}, status_code=401)
            claims = token.claims
            self.installation_requests.append({"path": request.url.path, "claims": claims})
            now = time.time()
            if claims.get("iss") != APP_ID or not claims["iat"] <= now < claims["exp"] <= now + 600:
                return JSONResponse({"message": "'Issued at' or 'Expiration' is invalid"}, status_code=401)
            if request.path_params["installation"] != str(INSTALLATION_ID):
                return JSONResponse({"message": "Not Found"}, status_code=404)
            value = f"ghs_installation_{len(self.installation_tokens) + 1}"
            self.installation_tokens.append(value)
            body = {"token": value, "expires_at": "2099-01-01T00:00:00Z", "permissions": {"metadata": "read"}}
            return JSONResponse(body, status_code=201)

        async def user(request: Request) -> Response:
            header = request.headers.get("authorization", "")
            self.github_calls.append({"path": request.url.path, "authorization": header})
            if header.removeprefix("Bearer ") not in self.installation_tokens:
                return JSONResponse({"message": "Bad credentials"}, status_code=401)
            login = request.path_params["login"]
            return JSONResponse(
                {"login": login, "id": 583231, "type": "User", "html_url": f"https://github.com/{login}"}
            )

        async def grant_token(request: Request) -> Response:
            form = {k: str(v) for k, v in (await request.form()).items()}
            self.grant_requests.append((form, request.headers.get("authorization", "")))
            expected = "Basic " + base64.b64encode(f"s2s-client:{S2S_SECRET}".encode()).decode()
            if request.headers.get("authorization") != expected:
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            if form != {"grant_type": "account_credentials", "account_id": "acct-9"}:
                return JSONResponse({"error": "invalid_request"}, status_code=400)
            token = f"s2s-at-{len(self.grant_requests)}"
            self.access_tokens[token] = "s2s-app"
            return JSONResponse({"access_token": token, "token_type": "bearer", "expires_in": 3600})

        async def resources(request: Request) -> Response:
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            if token not in self.access_tokens:
                return JSONResponse({"message": "Unauthorized"}, status_code=401)
            if self.resources_status != 200:
                return JSONResponse({"message": "unavailable"}, status_code=self.resources_status)
            return JSONResponse([{"id": "cloud-1", "url": "https://acme.atlassian.net"}])

        base.router.routes.extend(
            [
                Route("/app/installations/{installation}/access_tokens", access_tokens, methods=["POST"]),
                Route("/users/{login}", user),
                Route("/cc/token", grant_token, methods=["POST"]),
                Route("/resources", resources),
            ]
        )
        return base


@pytest.fixture
def registry() -> ConnectorRegistry:
    return ConnectorRegistry(
        [DemoConnector, FakeConnector, TokenOnlyConnector, github.GitHubConnector, GrantConnector, HookedConnector]
    )


@pytest.fixture
def upstreams() -> Upstreams:
    return Upstreams()


@pytest.fixture
async def srv(settings: Settings, registry: ConnectorRegistry, upstreams: Upstreams) -> AsyncIterator[Server]:
    async with running(settings, registry, upstreams) as server:
        yield server


def app_fields(**changes: Any) -> dict[str, Any]:
    return {"app_id": int(APP_ID), "installation_id": INSTALLATION_ID, "private_key": PRIVATE_KEY, **changes}


async def raw_credential_row(server: Server, provider: str) -> dict[str, Any]:
    async with server.services.engine.connect() as conn:
        row = (await conn.execute(text(f"SELECT * FROM credentials WHERE provider = '{provider}'"))).mappings().one()
    return dict(row)


# -- GitHub App, end to end ----------------------------------------------------------------------------


async def test_github_app_fields_through_the_admin_api_and_a_tool_call(srv: Server, upstreams: Upstreams) -> None:
    await srv.tenant("acme")
    await srv.connector("acme", "github")
    path = "/api/v1/admin/tenants/acme/credentials/github"
    r = await srv.admin.put(path, json={"kind": "github_app", "fields": app_fields()})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["kind"] == "github_app" and out["status"] == "active"
    assert out["has_access_token"] is False and out["secrets"] == ["private_key"]
    assert out["extra"] == {"app_id": APP_ID, "installation_id": INSTALLATION_ID}
    assert PEM_BODY not in r.text and "PRIVATE KEY" not in r.text

    row = await raw_credential_row(srv, "github")
    assert row["access_token_enc"] is None and row["refresh_token_enc"] is None
    assert row["secrets_enc"].startswith("v1.") and PEM_BODY not in json.dumps(row, default=str)

    key = await srv.key("acme", ["mcp"])
    async with srv.client(key) as client:
        r = await mcp_call(
            client,
            "/api/v1/acme/connectors/github/mcp",
            "tools/call",
            {"name": "github_get_user", "arguments": {"username": "octocat"}},
        )
        result = r.json()["result"]
        assert result.get("isError") is not True, result
        assert result["structuredContent"]["login"] == "octocat"
        # The installation token is made once and reused.
        r = await mcp_call(
            client,
            "/api/v1/acme/connectors/github/mcp",
            "tools/call",
            {"name": "github_get_user", "arguments": {"username": "hubot"}},
        )
        assert r.json()["result"]["structuredContent"]["login"] == "hubot"

    (minted,) = upstreams.installation_requests
    assert minted["path"] == f"/app/installations/{INSTALLATION_ID}/access_tokens"
    assert minted["claims"]["iss"] == APP_ID
    assert [c["authorization"] for c in upstreams.github_calls] == ["Bearer ghs_installation_1"] * 2
    r = await srv.admin.get(path)
    assert r.json()["has_access_token"] is True and r.json()["extra"]["permissions"] == {"metadata": "read"}
    assert "ghs_installation_1" not in r.text and PEM_BODY not in r.text
    row = await raw_credential_row(srv, "github")
    assert "ghs_installation_1" not in json.dumps(row, default=str)


async def test_a_wrong_installation_marks_the_credential_for_reconnection(srv: Server) -> None:
    await srv.tenant("acme")
    await srv.connector("acme", "github")
    r = await srv.admin.put(
        "/api/v1/admin/tenants/acme/credentials/github",
        json={"kind": "github_app", "fields": app_fields(installation_id=1)},
    )
    assert r.status_code == 200, r.text
    key = await srv.key("acme", ["mcp"])
    async with srv.client(key) as client:
        r = await mcp_call(
            client,
            "/api/v1/acme/connectors/github/mcp",
            "tools/call",
            {"name": "github_get_user", "arguments": {"username": "octocat"}},
        )
    result = r.json()["result"]
    assert result["isError"] is True and "installation" in result["content"][0]["text"]
    r = await srv.admin.get("/api/v1/admin/tenants/acme/credentials/github")
    assert r.json()["status"] == "reconnect_required"


async def test_github_app_fields_are_validated(srv: Server) -> None:
    await srv.tenant("acme")
    await srv.connector("acme", "github")
    path = "/api/v1/admin/tenants/acme/credentials/github"
    bad_key = "-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0LWJ1dC1icm9rZW4=\n-----END RSA PRIVATE KEY-----"
    body = assert_error(
        await srv.admin.put(path, json={"kind": "github_app", "fields": app_fields(private_key=bad_key)}),
        422,
        "invalid_credential_fields",
    )
    assert [d["field"] for d in body["error"]["details"]] == ["fields.private_key"]
    assert "c2VjcmV0LWJ1dC1icm9rZW4" not in json.dumps(body)
    body = assert_error(
        await srv.admin.put(path, json={"kind": "github_app", "fields": {"app_id": 1, "private_key": PRIVATE_KEY}}),
        422,
        "invalid_credential_fields",
    )
    assert [d["field"] for d in body["error"]["details"]] == ["fields.installation_id"]
    assert PEM_BODY not in json.dumps(body)
    assert_error(await srv.admin.put(path, json={"kind": "github_app", "token": "x"}), 422, "fields_required")
    assert_error(await srv.admin.put(path, json={"kind": "nope", "fields": {}}), 422, "unsupported_credential_kind")


# -- the body shapes --------------------------------------------------------------------------------------


async def test_token_credentials_from_fields_and_the_older_shape(srv: Server) -> None:
    await srv.tenant("acme")
    await srv.connector("acme", "tokenonly")
    path = "/api/v1/admin/tenants/acme/credentials/tokenonly"
    r = await srv.admin.put(path, json={"kind": "bearer", "fields": {"token": "pat-from-fields", "account": "bot"}})
    assert r.status_code == 200, r.text
    assert r.json()["account"] == "bot" and r.json()["secrets"] == [] and "pat-from-fields" not in r.text
    key = await srv.key("acme", ["mcp"])
    async with srv.client(key) as client:
        r = await mcp_call(client, "/api/v1/acme/connectors/tokenonly/mcp", "tools/call", {"name": "tokenonly_whoami"})
    assert r.json()["result"]["structuredContent"] == {"login": "token-user"}

    body = assert_error(await srv.admin.put(path, json={"fields": {}}), 422, "invalid_credential_fields")
    assert [d["field"] for d in body["error"]["details"]] == ["fields.token"]
    body = assert_error(
        await srv.admin.put(path, json={"fields": {"token": "pat-x", "tokn": "pat-y"}}),
        422,
        "invalid_credential_fields",
    )
    assert [d["field"] for d in body["error"]["details"]] == ["fields.tokn"] and "pat-y" not in json.dumps(body)
    assert_error(await srv.admin.put(path, json={"token": "pat-x", "fields": {"token": "pat-x"}}), 422, "invalid_body")
    assert_error(await srv.admin.put(path, json={}), 422, "invalid_body")
    past = "2001-01-01T00:00:00Z"
    body = assert_error(
        await srv.admin.put(path, json={"fields": {"token": "pat-x", "expires_at": past}}), 422, "expired_token"
    )
    assert body["error"]["details"][0]["field"] == "fields.expires_at"


async def test_connector_types_describe_each_schemes_fields(srv: Server) -> None:
    r = await srv.admin.get("/api/v1/admin/connector-types")
    items = {c["id"]: {a["kind"]: a for a in c["auth"]} for c in r.json()["items"]}
    app = items["github"]["github_app"]
    assert app["renews_itself"] is True and app["secret_fields"] == ["private_key"]
    props = app["fields_schema"]["properties"]
    assert props["private_key"]["writeOnly"] is True and "writeOnly" not in props["app_id"]
    assert set(app["fields_schema"]["required"]) == {"app_id", "installation_id", "private_key"}
    bearer = items["github"]["bearer"]
    assert bearer["renews_itself"] is False and bearer["secret_fields"] == ["token"]
    grant = items["grant"]["client_credentials"]
    assert grant["token_url"] == FAKE_BASE + "/cc/token" and grant["secret_fields"] == ["client_secret"]
    assert "account_id" in grant["fields_schema"]["required"]
    assert items["demo"]["none"]["fields_schema"] is None
    assert set(items["fake"]["oauth2"]["secret_fields"]) == {"access_token", "refresh_token"}


# -- client credentials through the MCP route -------------------------------------------------------------


async def test_client_credentials_are_exchanged_on_first_use(srv: Server, upstreams: Upstreams) -> None:
    await srv.tenant("acme")
    await srv.connector("acme", "grant")
    fields = {"client_id": "s2s-client", "client_secret": S2S_SECRET, "account_id": "acct-9"}
    r = await srv.admin.put("/api/v1/admin/tenants/acme/credentials/grant", json={"fields": fields})
    assert r.status_code == 200, r.text
    assert r.json()["kind"] == "client_credentials" and r.json()["secrets"] == ["client_secret"]
    assert S2S_SECRET not in r.text
    key = await srv.key("acme", ["mcp"])
    async with srv.client(key) as client:
        for _ in range(2):
            r = await mcp_call(client, "/api/v1/acme/connectors/grant/mcp", "tools/call", {"name": "grant_whoami"})
            assert r.json()["result"]["structuredContent"] == {"login": "s2s-app"}
    assert len(upstreams.grant_requests) == 1
    row = await raw_credential_row(srv, "grant")
    assert S2S_SECRET not in json.dumps(row, default=str) and "s2s-at-1" not in json.dumps(row, default=str)


# -- post_authorize through the OAuth callback --------------------------------------------------------------


async def _connect_hooked(srv: Server) -> httpx.Response:
    await srv.tenant("acme")
    await srv.connector("acme", "hooked")
    r = await srv.admin.put(
        "/api/v1/admin/tenants/acme/oauth-apps/hooked", json={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    )
    assert r.status_code == 200, r.text
    r = await srv.admin.post("/api/v1/oauth/acme/hooked/authorize", json={})
    assert r.status_code == 200, r.text
    async with srv.browser() as browser:
        redirect = await browser.get(await srv.open_link(r.json()["authorization_url"], browser))
        location = redirect.headers["location"]
        assert urlsplit(location).path == "/api/v1/oauth/callback/hooked"
        assert "code" in parse_qs(urlsplit(location).query)
        return await browser.get(location.removeprefix("https://sagemcp.test"))


async def test_post_authorize_result_is_stored_with_the_credential(srv: Server) -> None:
    r = await _connect_hooked(srv)
    assert r.status_code == 200 and "Connected" in r.text
    r = await srv.admin.get("/api/v1/admin/tenants/acme/credentials/hooked")
    assert r.json()["extra"][POST_AUTHORIZE_KEY] == {"sites": [{"id": "cloud-1", "url": "https://acme.atlassian.net"}]}
    key = await srv.key("acme", ["mcp"])
    async with srv.client(key) as client:
        r = await client.post(
            "/api/v1/acme/connectors/hooked/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "hooked_whoami"}},
            headers=MCP_HEADERS,
        )
    assert r.json()["result"]["structuredContent"] == {"login": "octocat"}


async def test_a_failing_post_authorize_stores_nothing(srv: Server, upstreams: Upstreams) -> None:
    upstreams.resources_status = 503
    r = await _connect_hooked(srv)
    assert r.status_code == 502 and "nothing was stored" in r.text
    tenant = await srv.services.store.get_tenant("acme")
    assert await srv.services.store.get_credential(tenant.id, "hooked") is None
