"""The built-in OAuth 2.1 authorization server over HTTP, on SQLite and PostgreSQL: metadata, registration,
PKCE, redirect URIs, the resource binding in every transport, codes, refresh rotation, revocation, consent."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets
from authz_helpers import (
    PUBLIC,
    REDIRECT,
    Pkce,
    authorization_code,
    consent,
    exchange_code,
    mcp_resource,
    people,
    query_of,
    refresh,
    register,
    revoke,
    signed_in_browser,
    start_authorization,
    tokens_for,
)
from conftest import MCP_HEADERS, Server, mcp_call
from external_issuer import ExternalIssuer
from https_documents import DocumentServer, tls_files
from mcp.shared.auth import OAuthMetadata, ProtectedResourceMetadata
from signin_helpers import add_member, fast, people_server, sign_in
from sqlalchemy import func, select, text

from sagemcp.platform import ConnectorRegistry
from sagemcp.testing import serve
from sagemcp_server.app import create_app
from sagemcp_server.authz import tokens
from sagemcp_server.db.models import McpAuthorizationCodeRow, McpClientRow, McpTokenRow
from sagemcp_server.db.store import DatabaseUnavailable
from sagemcp_server.settings import Settings


@pytest.fixture
async def authz(settings: Settings, registry: ConnectorRegistry, provider: Any) -> AsyncIterator[Server]:
    async with people_server(settings, registry, provider) as server:
        await people(server)
        yield server


async def _count(server: Server, table: Any) -> int:
    async with server.services.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def _user_id(server: Server, email: str) -> str:
    user = await server.services.people.get_user_by_email(email)
    assert user is not None
    return user.id


# -- metadata and challenges ----------------------------------------------------------------------


async def test_metadata_of_the_authorization_server_and_the_endpoints(authz: Server) -> None:
    async with authz.client() as anonymous:
        r = await anonymous.get(
            "/.well-known/oauth-authorization-server", headers={"Origin": "https://inspector.example"}
        )
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
        metadata = OAuthMetadata.model_validate_json(r.content)
        assert r.json()["issuer"] == PUBLIC  # exactly the public URL: clients compare issuers as strings
        assert str(metadata.authorization_endpoint) == f"{PUBLIC}/authorize"
        assert str(metadata.token_endpoint) == f"{PUBLIC}/token"
        assert str(metadata.registration_endpoint) == f"{PUBLIC}/register"
        assert str(metadata.revocation_endpoint) == f"{PUBLIC}/revoke"
        assert metadata.code_challenge_methods_supported == ["S256"]
        assert metadata.client_id_metadata_document_supported is True
        assert metadata.authorization_response_iss_parameter_supported is True
        assert "none" in (metadata.token_endpoint_auth_methods_supported or [])
        assert metadata.grant_types_supported == ["authorization_code", "refresh_token"]
        # No ID tokens are issued, so there is no OpenID Connect discovery document.
        assert (await anonymous.get("/.well-known/openid-configuration")).status_code == 404

        for path, resource in (
            ("/api/v1/acme/mcp", mcp_resource("acme")),
            ("/api/v1/acme/connectors/demo/mcp", mcp_resource("acme", "demo")),
            ("/api/v1/acme/connectors/demo/sse", mcp_resource("acme", "demo")),
            ("/api/v1/nosuch/ws", mcp_resource("nosuch")),  # the same answer whether or not the tenant exists
        ):
            r = await anonymous.get("/.well-known/oauth-protected-resource" + path)
            assert r.status_code == 200, path
            prm = ProtectedResourceMetadata.model_validate_json(r.content)
            assert r.json()["resource"] == resource
            assert [str(s).rstrip("/") for s in prm.authorization_servers] == [PUBLIC]
            assert prm.scopes_supported == ["mcp"]

        r = await mcp_call(anonymous, "/api/v1/acme/mcp", "tools/list")
        assert r.status_code == 401
        challenge = r.headers["www-authenticate"]
        assert f'resource_metadata="{PUBLIC}/.well-known/oauth-protected-resource/api/v1/acme/mcp"' in challenge
        assert 'scope="mcp"' in challenge and "error=" not in challenge

    async with authz.client("smcpat_" + "x" * 43) as stranger:
        r = await mcp_call(stranger, "/api/v1/acme/mcp", "tools/list")
        assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]


async def test_api_keys_keep_working_beside_access_tokens(authz: Server) -> None:
    key = await authz.key("acme", ["mcp"])
    async with authz.client(key) as client:
        assert (await mcp_call(client, "/api/v1/acme/mcp", "tools/list")).status_code == 200
    _, issued = await tokens_for(authz, "alice@example.com", mcp_resource("acme"))
    async with authz.client(issued["access_token"]) as client:
        r = await mcp_call(
            client, "/api/v1/acme/mcp", "tools/call", {"name": "demo_add", "arguments": {"a": 2, "b": 3}}
        )
        assert r.json()["result"]["structuredContent"]["sum"] == 5
    # a key is never looked up as an access token, nor an access token as a key
    assert issued["access_token"].startswith("smcpat_") and not key.startswith("smcpat_")
    async with authz.client(key.replace(key[-6:], "abcdef")) as forged:
        assert (await mcp_call(forged, "/api/v1/acme/mcp", "tools/list")).status_code == 401


# -- dynamic registration -------------------------------------------------------------------------


async def test_dynamic_registration_keeps_only_a_digest_of_the_secret(authz: Server) -> None:
    client = await register(
        authz,
        redirect_uris=[
            REDIRECT,
            "cursor://anysphere.cursor-retrieval/oauth/user-sagemcp/callback",
            "https://app.example/cb",
        ],
        client_name="Cursor",
    )
    assert client["client_secret"] and client["token_endpoint_auth_method"] == "client_secret_post"
    assert client["scope"] == "mcp" and client["client_secret_expires_at"] == 0
    async with authz.services.engine.connect() as conn:
        row = (await conn.execute(select(McpClientRow).where(McpClientRow.client_id == client["client_id"]))).one()
    assert row.kind == "registered" and row.client_secret_hash == tokens.digest(client["client_secret"])
    assert client["client_secret"] not in json.dumps(row.client_metadata)
    public = await register(authz, token_endpoint_auth_method="none")
    assert "client_secret" not in public


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ({"redirect_uris": ["http://evil.example/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["javascript:alert(1)"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://app.example/cb#frag"]}, "invalid_redirect_uri"),
        ({"redirect_uris": [f"https://app.example/cb{i}" for i in range(11)]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://app.example/" + "x" * 600]}, "invalid_redirect_uri"),
        ({"grant_types": ["authorization_code", "client_credentials"]}, "invalid_client_metadata"),
        ({"scope": "mcp admin"}, "invalid_client_metadata"),
        ({"token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata"),
        ({"redirect_uris": []}, "invalid_client_metadata"),
        ({"client_name": "x" * 500}, "invalid_client_metadata"),
    ],
)
async def test_dynamic_registration_refuses_bad_metadata(authz: Server, metadata: dict[str, Any], error: str) -> None:
    body = {"redirect_uris": [REDIRECT], "client_name": "Bad", **metadata}
    async with authz.client() as anonymous:
        r = await anonymous.post("/register", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == error
    assert await _count(authz, McpClientRow) == 0


async def test_registrations_are_bounded_per_address_and_in_total(
    settings: Settings, registry: ConnectorRegistry, provider: Any
) -> None:
    async with people_server(settings, registry, provider, auth_registrations_per_hour=3, auth_max_clients=5) as server:

        def from_address(address: str) -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=server.app, client=(address, 40000))
            return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000")

        body = {"redirect_uris": [REDIRECT]}
        async with from_address("198.51.100.7") as first, from_address("203.0.113.9") as second:
            assert [(await first.post("/register", json=body)).status_code for _ in range(3)] == [201] * 3
            r = await first.post("/register", json=body)
            assert r.status_code == 429 and r.headers["retry-after"] == "3600"
            assert "in the last hour" in r.json()["error_description"]
            assert [(await second.post("/register", json=body)).status_code for _ in range(2)] == [201] * 2
            r = await second.post("/register", json=body)
            assert r.status_code == 503 and "sagemcp oauth-client delete" in r.json()["error_description"]
        assert await _count(server, McpClientRow) == 5


async def test_clients_authenticate_with_http_basic(authz: Server) -> None:
    client = await register(authz, token_endpoint_auth_method="client_secret_basic")
    pkce = Pkce.new()
    async with signed_in_browser(authz, "alice@example.com") as browser:
        code = await authorization_code(browser, client["client_id"], mcp_resource("acme"), pkce)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": pkce.verifier}
    async with authz.client() as anonymous:
        # RFC 6749 §2.3.1: with Basic, client_id may be left out of the form
        wrong = await anonymous.post("/token", data=form, auth=(client["client_id"], "not-the-secret"))
        assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
        unauthenticated = await anonymous.post("/token", data={**form, "client_id": client["client_id"]})
        assert unauthenticated.status_code == 401
        r = await anonymous.post("/token", data=form, auth=(client["client_id"], client["client_secret"]))
        assert r.status_code == 200, r.text
        revoked = await anonymous.post(
            "/revoke", data={"token": r.json()["refresh_token"]}, auth=(client["client_id"], client["client_secret"])
        )
        assert revoked.status_code == 200
        assert (await anonymous.post("/token", data={"grant_type": "refresh_token",
                "refresh_token": r.json()["refresh_token"]}, auth=(client["client_id"], client["client_secret"]))).status_code == 400  # fmt: skip


async def test_a_database_outage_is_a_503_not_a_crash(authz: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    client = await register(authz)

    async def down(*args: Any, **kwargs: Any) -> Any:
        raise DatabaseUnavailable("the database is unavailable; try again shortly")

    monkeypatch.setattr(authz.services.authz, "get_client", down)
    monkeypatch.setattr(authz.services.authz, "register_client", down)
    async with authz.client() as anonymous:
        data = {"grant_type": "refresh_token", "refresh_token": "smcprt_x", "client_id": client["client_id"]}
        for r in (
            await anonymous.post("/token", data=data),
            await anonymous.post("/revoke", data={"token": "x", "client_id": client["client_id"]}),
            await anonymous.post("/register", json={"redirect_uris": [REDIRECT]}),
        ):
            assert r.status_code == 503 and r.json()["error"] == "temporarily_unavailable", r.text
            assert r.headers["retry-after"] == "5"


# -- PKCE, redirect URIs, resource -------------------------------------------------------------------


async def test_pkce_s256_is_required_and_checked(authz: Server) -> None:
    client = await register(authz)
    pkce = Pkce.new()
    async with signed_in_browser(authz, "alice@example.com") as browser:
        plain = await start_authorization(
            browser, client["client_id"], resource=mcp_resource("acme"), pkce=pkce, code_challenge_method="plain"
        )
        assert plain.status_code == 302
        query = query_of(plain.headers["location"])
        assert query["error"] == "invalid_request" and query["state"] == "st-1" and query["iss"] == PUBLIC
        missing = await browser.get(
            "/authorize",
            params={"response_type": "code", "client_id": client["client_id"], "redirect_uri": REDIRECT,
                    "resource": mcp_resource("acme"), "state": "s"},
        )  # fmt: skip
        assert missing.status_code == 302 and query_of(missing.headers["location"])["error"] == "invalid_request"
        code = await authorization_code(browser, client["client_id"], mcp_resource("acme"), pkce)
    wrong = await exchange_code(authz, client, code, Pkce.new())
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    # a wrong verifier does not use the code up: the client holding the right one still gets its tokens
    right = await exchange_code(authz, client, code, pkce)
    assert right.status_code == 200 and right.headers["cache-control"] == "no-store"


async def test_redirect_uris_match_exactly_but_for_loopback_ports(authz: Server) -> None:
    client = await register(authz, redirect_uris=[REDIRECT, "https://app.example/cb"])
    resource = mcp_resource("acme")
    pkce = Pkce.new()
    async with signed_in_browser(authz, "alice@example.com") as browser:
        for refused in (
            "http://127.0.0.1:51234/other",
            "http://localhost:33418/callback",
            "http://127.0.0.1:33418/callback?x=1",
            "https://app.example:8443/cb",
            "https://app.example/cb/",
            "https://evil.example/cb",
        ):
            r = await start_authorization(
                browser, client["client_id"], resource=resource, pkce=pkce, redirect_uri=refused
            )
            # never redirected to an unregistered address: the error is shown here
            assert r.status_code == 400 and r.json()["error"] == "invalid_request", refused
        # VS Code registers http://127.0.0.1:33418/ and uses another port when that one is taken
        vscode = await register(authz, redirect_uris=["http://127.0.0.1/", "http://127.0.0.1:33418/"])
        r = await start_authorization(
            browser, vscode["client_id"], resource=resource, pkce=pkce, redirect_uri="http://127.0.0.1:59656/"
        )
        assert r.status_code == 302 and "/oauth/consent?" in r.headers["location"]
        other_port = "http://127.0.0.1:51234/callback"
        code = await authorization_code(browser, client["client_id"], resource, pkce, redirect_uri=other_port)
    assert (await exchange_code(authz, client, code, pkce, redirect_uri=REDIRECT)).status_code == 400
    assert (await exchange_code(authz, client, code, pkce, redirect_uri=other_port)).status_code == 200


@pytest.mark.parametrize(
    "resource",
    [
        None,
        "https://other.example/api/v1/acme/mcp",
        f"{PUBLIC}/api/v1/nosuch/mcp",
        f"{PUBLIC}/api/v1/acme/connectors/nosuch/mcp",
        f"{PUBLIC}/api/v1/acme/admin",
        f"{PUBLIC}/api/v1/inactive/mcp",
        "not a url",
    ],
)
async def test_the_resource_must_be_an_endpoint_of_an_active_tenant(authz: Server, resource: str | None) -> None:
    await authz.tenant("inactive")
    await authz.admin.patch("/api/v1/admin/tenants/inactive", json={"active": False})
    client = await register(authz)
    async with signed_in_browser(authz, "alice@example.com") as browser:
        r = await start_authorization(browser, client["client_id"], resource=resource, pkce=Pkce.new())
    assert r.status_code == 302
    query = query_of(r.headers["location"])
    assert query["error"] == "invalid_target" and query["iss"] == PUBLIC and query["state"] == "st-1"


async def test_resource_urls_are_compared_canonically(authz: Server) -> None:
    spelled = "HTTPS://SageMCP.test:443/api/v1/acme/mcp/"
    _, issued = await tokens_for(authz, "alice@example.com", spelled)
    async with authz.client(issued["access_token"]) as client:
        assert (await mcp_call(client, "/api/v1/acme/mcp", "tools/list")).status_code == 200


async def test_tokens_are_bound_to_the_endpoint_they_were_issued_for(authz: Server) -> None:
    foreign_key = await authz.key("globex", ["mcp"])
    _, wide = await tokens_for(authz, "alice@example.com", mcp_resource("acme"))
    _, one = await tokens_for(authz, "alice@example.com", mcp_resource("acme", "demo"))
    async with authz.client(foreign_key) as by_key:
        hidden = (await mcp_call(by_key, "/api/v1/acme/mcp", "tools/list")).json()
    async with authz.client(wide["access_token"]) as client:
        assert (await mcp_call(client, "/api/v1/acme/mcp", "tools/list")).status_code == 200
        for path in ("/api/v1/globex/mcp", "/api/v1/globex/connectors/demo/mcp", "/api/v1/acme/connectors/demo/mcp"):
            r = await mcp_call(client, path, "tools/list")
            assert r.status_code == 404 and "tools" not in r.text, path
        r = await mcp_call(client, "/api/v1/acme/connectors/demo/mcp", "tools/list")
        assert r.json()["error"]["message"] == hidden["error"]["message"].replace("'acme'", "'acme'")
    async with authz.client(one["access_token"]) as client:
        assert (await mcp_call(client, "/api/v1/acme/connectors/demo/mcp", "tools/list")).status_code == 200
        assert (await mcp_call(client, "/api/v1/acme/mcp", "tools/list")).status_code == 404


@pytest.mark.parametrize("stateful", [False, True], ids=["stateless", "stateful"])
async def test_a_token_for_one_tenant_is_refused_on_another_in_every_transport(
    settings: Settings, registry: ConnectorRegistry, provider: Any, stateful: bool
) -> None:
    app = create_app(fast(settings, mcp_stateful=stateful, cache_ttl=60), registry=registry)
    async with serve(app) as base:
        server = Server(app, httpx.AsyncClient(), provider, httpx.ASGITransport(app=provider.app()))
        server.admin = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url=base,
            headers={"Authorization": "Bearer test-admin-key-0123456789"},
        )
        async with server.admin:
            await people(server)
            _, alice = await tokens_for(server, "alice@example.com", mcp_resource("acme"))
            _, bob = await tokens_for(server, "bob@example.com", mcp_resource("globex"))
            headers = {**MCP_HEADERS, "Authorization": f"Bearer {alice['access_token']}"}
            init = {
                "jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                           "clientInfo": {"name": "t", "version": "1"}},
            }  # fmt: skip
            async with httpx.AsyncClient(base_url=base, timeout=10) as http:
                own = await http.post("/api/v1/acme/mcp", json=init, headers=headers)
                assert own.status_code == 200, own.text
                for path in ("/api/v1/globex/mcp", "/api/v1/globex/connectors/demo/mcp"):
                    r = await http.post(path, json=init, headers=headers)
                    assert r.status_code == 404 and "globex" in r.text and "result" not in r.text
                if stateful:
                    session = own.headers["mcp-session-id"]
                    listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
                    same = {**headers, "mcp-session-id": session}
                    r = await http.post("/api/v1/globex/mcp", json=listing, headers=same)
                    assert r.status_code == 404
                    # the session is bound to alice's grant: bob's token cannot use it on alice's path either
                    r = await http.post(
                        "/api/v1/acme/mcp",
                        json=listing,
                        headers={**same, "Authorization": f"Bearer {bob['access_token']}"},
                    )
                    assert r.status_code == 404
                # legacy SSE
                sse_headers = {"Accept": "text/event-stream", "Authorization": headers["Authorization"]}
                r = await http.get("/api/v1/globex/sse", headers=sse_headers)
                assert r.status_code == 404
                async with http.stream("GET", "/api/v1/acme/sse", headers=sse_headers) as stream:
                    assert stream.status_code == 200
                    async for line in stream.aiter_lines():
                        assert line.startswith("event: endpoint")
                        break
            # WebSocket
            ws_base = base.replace("http://", "ws://") + "/api/v1"
            auth = {"Authorization": headers["Authorization"]}
            async with websockets.connect(ws_base + "/acme/ws", subprotocols=["mcp"], additional_headers=auth) as ws:  # type: ignore[list-item]
                await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
                assert json.loads(await ws.recv())["result"] == {}
            for path in ("/globex/ws", "/globex/connectors/demo/ws"):
                with pytest.raises(websockets.exceptions.InvalidStatus):
                    async with websockets.connect(ws_base + path, subprotocols=["mcp"], additional_headers=auth) as ws:  # type: ignore[list-item]
                        await ws.recv()


# -- codes, refresh, revocation -------------------------------------------------------------------


async def test_a_code_is_single_use_and_its_second_use_revokes_what_it_gave(authz: Server) -> None:
    client = await register(authz)
    pkce = Pkce.new()
    async with signed_in_browser(authz, "alice@example.com") as browser:
        code = await authorization_code(browser, client["client_id"], mcp_resource("acme"), pkce)
    first = await exchange_code(authz, client, code, pkce)
    assert first.status_code == 200
    issued = first.json()
    assert issued["token_type"] == "Bearer" and issued["expires_in"] == 3600 and issued["scope"] == "mcp"
    again = await exchange_code(authz, client, code, pkce)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    async with authz.client(issued["access_token"]) as holder:
        assert (await mcp_call(holder, "/api/v1/acme/mcp", "tools/list")).status_code == 401
    assert (await refresh(authz, client, issued["refresh_token"])).status_code == 400
    # another client cannot use a code either
    other = await register(authz)
    async with signed_in_browser(authz, "alice@example.com") as browser:
        code = await authorization_code(browser, client["client_id"], mcp_resource("acme"), pkce)
    assert (await exchange_code(authz, other, code, pkce)).status_code == 400
    assert (await exchange_code(authz, client, code, pkce)).status_code == 200


async def test_codes_expire(settings: Settings, registry: ConnectorRegistry, provider: Any) -> None:
    async with people_server(settings, registry, provider) as server:
        await people(server)
        client = await register(server)
        pkce = Pkce.new()
        async with signed_in_browser(server, "alice@example.com") as browser:
            code = await authorization_code(browser, client["client_id"], mcp_resource("acme"), pkce)
        async with server.services.engine.begin() as conn:
            await conn.execute(McpAuthorizationCodeRow.__table__.update().values(expires_at=1.0))
        r = await exchange_code(server, client, code, pkce)
        assert r.status_code == 400 and "expired" in r.json()["error_description"]


async def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_grant(
    settings: Settings, registry: ConnectorRegistry, provider: Any
) -> None:
    async with people_server(settings, registry, provider, auth_refresh_grace=0) as server:
        await people(server)
        client, first = await tokens_for(server, "alice@example.com", mcp_resource("acme"))
        rotated = await refresh(server, client, first["refresh_token"])
        assert rotated.status_code == 200
        second = rotated.json()
        assert second["refresh_token"] != first["refresh_token"] and second["access_token"] != first["access_token"]
        async with server.client(second["access_token"]) as holder:
            assert (await mcp_call(holder, "/api/v1/acme/mcp", "tools/list")).status_code == 200
            # the rotated refresh token shows up again: someone copied it; the whole grant ends
            reused = await refresh(server, client, first["refresh_token"])
            assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
            assert (await mcp_call(holder, "/api/v1/acme/mcp", "tools/list")).status_code == 401
        assert (await refresh(server, client, second["refresh_token"])).status_code == 400


async def test_a_refresh_retried_within_the_grace_period_replaces_its_unused_answer(authz: Server) -> None:
    client, first = await tokens_for(authz, "alice@example.com", mcp_resource("acme"))
    lost = (await refresh(authz, client, first["refresh_token"])).json()  # the client never got this answer
    retried = await refresh(authz, client, first["refresh_token"])
    assert retried.status_code == 200
    kept = retried.json()
    async with authz.client(lost["access_token"]) as stale, authz.client(kept["access_token"]) as fresh:
        assert (await mcp_call(stale, "/api/v1/acme/mcp", "tools/list")).status_code == 401
        assert (await mcp_call(fresh, "/api/v1/acme/mcp", "tools/list")).status_code == 200
    assert (await refresh(authz, client, lost["refresh_token"])).status_code == 400
    third = await refresh(authz, client, kept["refresh_token"])
    assert third.status_code == 200
    # now the client has moved on: the first refresh token again is a replay, and ends the grant
    assert (await refresh(authz, client, first["refresh_token"])).status_code == 400
    async with authz.client(third.json()["access_token"]) as holder:
        assert (await mcp_call(holder, "/api/v1/acme/mcp", "tools/list")).status_code == 401


async def test_revocation_of_either_token_ends_the_grant(authz: Server) -> None:
    client, issued = await tokens_for(authz, "alice@example.com", mcp_resource("acme"))
    other, other_issued = await tokens_for(authz, "alice@example.com", mcp_resource("acme"))
    # another client's token, an unknown token and a wrong secret change nothing
    assert (await revoke(authz, other, issued["access_token"])).status_code == 200
    assert (await revoke(authz, client, "smcprt_unknown")).status_code == 200
    assert (await revoke(authz, {**client, "client_secret": "wrong"}, issued["access_token"])).status_code == 401
    async with authz.client(issued["access_token"]) as holder:
        assert (await mcp_call(holder, "/api/v1/acme/mcp", "tools/list")).status_code == 200
        assert (await revoke(authz, client, issued["refresh_token"])).status_code == 200
        assert (await mcp_call(holder, "/api/v1/acme/mcp", "tools/list")).status_code == 401
    assert (await refresh(authz, client, issued["refresh_token"])).status_code == 400
    async with authz.client(other_issued["access_token"]) as holder:
        assert (await mcp_call(holder, "/api/v1/acme/mcp", "tools/list")).status_code == 200
        assert (await revoke(authz, other, other_issued["access_token"])).status_code == 200
        assert (await mcp_call(holder, "/api/v1/acme/mcp", "tools/list")).status_code == 401
    assert (await refresh(authz, other, other_issued["refresh_token"])).status_code == 400


async def test_tokens_stop_with_the_membership_the_user_and_the_tenant(authz: Server) -> None:
    await authz.tenant("initech")
    await authz.connector("initech", "demo")
    await add_member(authz, "initech", "olive@example.com", "owner")
    for slug in ("globex", "initech"):
        r = await authz.admin.post(
            f"/api/v1/admin/tenants/{slug}/members", json={"email": "alice@example.com", "role": "member"}
        )
        assert r.status_code == 201, r.text
    alice = await _user_id(authz, "alice@example.com")
    client, acme = await tokens_for(authz, "alice@example.com", mcp_resource("acme"))
    _, globex = await tokens_for(authz, "alice@example.com", mcp_resource("globex"))
    _, initech = await tokens_for(authz, "alice@example.com", mcp_resource("initech"))
    async with authz.client(acme["access_token"]) as holder:
        assert (await mcp_call(holder, "/api/v1/acme/mcp", "tools/list")).status_code == 200
        assert (await authz.admin.delete(f"/api/v1/admin/tenants/acme/members/{alice}")).status_code == 204
        assert (await mcp_call(holder, "/api/v1/acme/mcp", "tools/list")).status_code == 401  # at once
    assert (await refresh(authz, client, acme["refresh_token"])).status_code == 400
    async with authz.client(globex["access_token"]) as holder:
        assert (await mcp_call(holder, "/api/v1/globex/mcp", "tools/list")).status_code == 200
        assert (await authz.admin.patch("/api/v1/admin/tenants/globex", json={"active": False})).status_code == 200
        assert (await mcp_call(holder, "/api/v1/globex/mcp", "tools/list")).status_code == 401
    async with authz.client(initech["access_token"]) as holder:
        assert (await mcp_call(holder, "/api/v1/initech/mcp", "tools/list")).status_code == 200
        assert (await authz.admin.delete(f"/api/v1/admin/users/{alice}")).status_code == 204
        assert (await mcp_call(holder, "/api/v1/initech/mcp", "tools/list")).status_code == 401
    assert await _count(authz, McpTokenRow) == 0  # the user's tokens went with the user


# -- the consent page ------------------------------------------------------------------------------


async def test_consent_asks_the_signed_in_member_and_deny_tells_the_client(authz: Server) -> None:
    client = await register(authz, client_name="Claude", client_uri="https://claude.ai")
    pkce = Pkce.new()
    async with authz.browser() as browser:
        r = await start_authorization(browser, client["client_id"], resource=mcp_resource("acme", "demo"), pkce=pkce)
        assert r.status_code == 302
        consent_url = r.headers["location"]
        assert consent_url.startswith(f"{PUBLIC}/oauth/consent?request=")
        page = await browser.get(consent_url)
        assert page.status_code == 303 and page.headers["location"].startswith("/signin?next=")
        back = page.headers["location"].removeprefix("/signin?next=")
        signed = await sign_in(browser, "alice@example.com", next_path=httpx.URL("/?n=" + back).params["n"])
        assert signed.status_code == 303 and signed.headers["location"] == consent_url.removeprefix(PUBLIC)
        page = await browser.get(consent_url)
        assert page.status_code == 200
        assert (
            page.headers["x-frame-options"] == "DENY"
            and "frame-ancestors 'none'" in page.headers["content-security-policy"]
        )
        for shown in (
            "Claude",
            "claude.ai",
            "Acme",
            "demo connector",
            "127.0.0.1",
            "alice@example.com",
            "registered itself",
        ):
            assert shown in page.text, shown
        denied = await consent(browser, consent_url, decision="deny")
        assert denied.status_code == 303
        query = query_of(denied.headers["location"])
        assert query == {
            "error": "access_denied",
            "error_description": "The user denied access",
            "state": "st-1",
            "iss": PUBLIC,
        }
    assert await _count(authz, McpAuthorizationCodeRow) == 0


async def test_consent_needs_a_member_and_a_valid_form(authz: Server) -> None:
    client = await register(authz)
    pkce = Pkce.new()
    async with signed_in_browser(authz, "bob@example.com") as browser:
        r = await start_authorization(browser, client["client_id"], resource=mcp_resource("acme"), pkce=pkce)
        page = await browser.get(r.headers["location"])
        assert page.status_code == 403 and "not a member" in page.text and 'name="decision"' not in page.text
    async with signed_in_browser(authz, "alice@example.com") as browser:
        r = await start_authorization(browser, client["client_id"], resource=mcp_resource("acme"), pkce=pkce)
        consent_url = r.headers["location"]
        sealed = httpx.URL(consent_url).params["request"]
        page = await browser.get(consent_url)
        assert page.status_code == 200
        for csrf in (None, "forged"):
            data = {"request": sealed, "decision": "allow", **({"csrf_token": csrf} if csrf else {})}
            refused = await browser.post("/oauth/consent", data=data)
            assert refused.status_code == 403 and "location" not in refused.headers
        tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
        r = await browser.get("/oauth/consent", params={"request": tampered})
        assert r.status_code == 400 and "altered or expired" in r.text
    assert await _count(authz, McpAuthorizationCodeRow) == 0


# -- clients by metadata document, external issuer, modes, housekeeping ---------------------------------


async def test_expired_codes_and_tokens_are_purged(authz: Server) -> None:
    await tokens_for(authz, "alice@example.com", mcp_resource("acme"))
    assert await _count(authz, McpTokenRow) == 2
    async with authz.services.engine.begin() as conn:
        await conn.execute(McpTokenRow.__table__.update().values(expires_at=1.0))
        await conn.execute(McpAuthorizationCodeRow.__table__.update().values(expires_at=1.0))
    assert await authz.services.authz.purge_expired(batch=1) == 2  # one token and one code per batch
    assert await authz.services.authz.purge_expired() == 1
    assert await _count(authz, McpTokenRow) == 0 and await _count(authz, McpAuthorizationCodeRow) == 0


async def test_with_auth_mode_off_only_api_keys_are_advertised(
    settings: Settings, registry: ConnectorRegistry, provider: Any
) -> None:
    async with people_server(settings, registry, provider, auth_mode="off") as server:
        await server.tenant("acme")
        async with server.client() as anonymous:
            assert (await anonymous.get("/.well-known/oauth-authorization-server")).status_code == 404
            assert (await anonymous.get("/.well-known/oauth-protected-resource/api/v1/acme/mcp")).status_code == 404
            assert (await anonymous.post("/register", json={"redirect_uris": [REDIRECT]})).status_code == 404
            r = await mcp_call(anonymous, "/api/v1/acme/mcp", "tools/list")
            assert r.status_code == 401 and "resource_metadata" not in r.headers["www-authenticate"]


async def test_a_plain_http_public_url_keeps_the_builtin_server_off(
    settings: Settings, registry: ConnectorRegistry, provider: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async with people_server(settings, registry, provider, public_url="http://mcp.example.com") as server:
        assert server.services.authorization.mode == "off"
        async with server.client() as anonymous:
            assert (await anonymous.get("/.well-known/oauth-authorization-server")).status_code == 404
    assert "OAuth 2.1 requires TLS" in caplog.text


async def test_database_rows_hold_no_token_or_code(authz: Server) -> None:
    client, issued = await tokens_for(authz, "alice@example.com", mcp_resource("acme"))
    async with authz.services.engine.connect() as conn:
        dump = []
        for table in ("mcp_tokens", "mcp_authorization_codes", "mcp_clients"):
            dump += [str(tuple(row)) for row in (await conn.execute(text(f"SELECT * FROM {table}"))).all()]
    everything = "\n".join(dump)
    for secret in (issued["access_token"], issued["refresh_token"], client["client_secret"]):
        assert secret not in everything and secret[7:] not in everything
    assert tokens.digest(issued["access_token"]) in everything


# -- Client ID Metadata Documents ------------------------------------------------------------------


@pytest.fixture
async def documents(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DocumentServer]:
    cert, key = tls_files(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the server under test trusts the documents' certificate
    async with DocumentServer().running(cert, key) as server:
        yield server


def _document(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "client_id": url,
        "client_name": "Claude",
        "client_uri": "https://claude.ai",
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        **extra,
    }


async def test_a_client_known_by_its_metadata_document_gets_tokens(
    settings: Settings, registry: ConnectorRegistry, provider: Any, documents: DocumentServer
) -> None:
    url = documents.url("/oauth/client.json")
    documents.documents["/oauth/client.json"] = _document(url)
    async with people_server(settings, registry, provider) as server:
        await people(server)
        client = {"client_id": url}
        pkce = Pkce.new()
        async with signed_in_browser(server, "alice@example.com") as browser:
            r = await start_authorization(browser, url, resource=mcp_resource("acme"), pkce=pkce)
            assert r.status_code == 302 and r.headers["location"].startswith(f"{PUBLIC}/oauth/consent?")
            page = await browser.get(r.headers["location"])
            assert url in page.text and "claude.ai" in page.text and "registered itself" not in page.text
            code = await authorization_code(browser, url, mcp_resource("acme"), pkce)
        r = await exchange_code(server, client, code, pkce)  # a public client: no secret
        assert r.status_code == 200, r.text
        async with server.client(r.json()["access_token"]) as holder:
            assert (await mcp_call(holder, "/api/v1/acme/mcp", "tools/list")).status_code == 200
        # fetched once, then served from the cache (mcp_clients) while fresh
        assert documents.hits["/oauth/client.json"] == 1
        async with server.services.engine.connect() as conn:
            row = (await conn.execute(select(McpClientRow).where(McpClientRow.client_id == url))).one()
        assert row.kind == "document" and row.client_secret_hash is None and row.fetched_at


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("mismatched_id", "client_id is not the URL it was fetched from"),
        ("oversized", "is larger than 65536 bytes"),
        ("secret", "must not contain a client secret"),
        ("confidential", "token_endpoint_auth_method must be 'none'"),
        ("redirect", "answered HTTP 302 (redirects are not followed)"),
        ("missing", "does not exist (HTTP 404)"),
        ("not_json", "is not JSON"),
        ("bad_redirect", "uses http:// on a host other than loopback"),
    ],
)
async def test_unusable_metadata_documents_are_refused(
    settings: Settings,
    registry: ConnectorRegistry,
    provider: Any,
    documents: DocumentServer,
    case: str,
    reason: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("INFO", logger="sagemcp_server.authz")
    path = f"/clients/{case}.json"
    url = documents.url(path)
    if case == "mismatched_id":
        documents.documents[path] = _document(documents.url("/clients/other.json"))
    elif case == "oversized":
        documents.documents[path] = _document(url, padding="x" * 70_000)  # valid but for its size
    elif case == "secret":
        documents.documents[path] = _document(url, client_secret="s3cret")
    elif case == "confidential":
        documents.documents[path] = _document(url, token_endpoint_auth_method="client_secret_post")
    elif case == "redirect":
        documents.redirects[path] = documents.url("/clients/elsewhere.json")
        documents.documents["/clients/elsewhere.json"] = _document(url)
    elif case == "not_json":
        documents.raw[path] = b"<html>"
    elif case == "bad_redirect":
        documents.documents[path] = _document(url, redirect_uris=["http://evil.example/cb"])
    async with people_server(settings, registry, provider) as server:
        await people(server)
        async with signed_in_browser(server, "alice@example.com") as browser:
            r = await start_authorization(browser, url, resource=mcp_resource("acme"), pkce=Pkce.new())
        assert r.status_code == 400 and r.json()["error"] == "invalid_request", r.text
        assert "not found" in r.json()["error_description"] and "location" not in r.headers
        assert documents.hits.get("/clients/elsewhere.json", 0) == 0  # redirects are never followed
        assert await _count(server, McpClientRow) == 0
    assert reason in caplog.text


async def test_metadata_documents_on_private_addresses_need_the_operators_consent(
    settings: Settings, registry: ConnectorRegistry, provider: Any, documents: DocumentServer, monkeypatch: Any
) -> None:
    url = documents.url("/client.json")
    documents.documents["/client.json"] = _document(url)
    monkeypatch.delenv("SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS", raising=False)
    monkeypatch.delenv("SAGEMCP_UPSTREAM_ALLOW", raising=False)
    async with people_server(settings, registry, provider) as server:
        await people(server)
        async with signed_in_browser(server, "alice@example.com") as browser:
            r = await start_authorization(browser, url, resource=mcp_resource("acme"), pkce=Pkce.new())
            assert r.status_code == 400 and documents.hits["/client.json"] == 0  # refused before connecting
            # allowed explicitly (a refused URL is not tried again for a minute, so take another one)
            monkeypatch.setenv("SAGEMCP_UPSTREAM_ALLOW", "127.0.0.1/32")
            url = documents.url("/client-2.json")
            documents.documents["/client-2.json"] = _document(url)
            r = await start_authorization(browser, url, resource=mcp_resource("acme"), pkce=Pkce.new())
            assert r.status_code == 302 and documents.hits["/client-2.json"] == 1


# -- an external authorization server ---------------------------------------------------------------


@pytest.fixture
async def issuer() -> AsyncIterator[ExternalIssuer]:
    async with ExternalIssuer().running() as running_issuer:
        yield running_issuer


async def test_an_external_issuers_tokens_map_to_members(
    settings: Settings, registry: ConnectorRegistry, provider: Any, issuer: ExternalIssuer
) -> None:
    async with people_server(
        settings, registry, provider, auth_mode="external", auth_issuer=issuer.issuer, auth_jwks_uri=issuer.jwks_uri
    ) as server:
        await people(server)
        alice = await _user_id(server, "alice@example.com")
        await server.services.people.link_identity(alice, issuer.issuer, "alice-at-idp", "alice@example.com")
        async with server.client() as anonymous:
            prm = (await anonymous.get("/.well-known/oauth-protected-resource/api/v1/acme/mcp")).json()
            assert prm["authorization_servers"] == [issuer.issuer]
            assert (await anonymous.get("/.well-known/oauth-authorization-server")).status_code == 404
            assert (await anonymous.post("/register", json={"redirect_uris": [REDIRECT]})).status_code == 404
        cases = [
            (issuer.token(sub="alice-at-idp", aud=mcp_resource("acme")), "/api/v1/acme/mcp", 200),
            # matched by a verified e-mail address instead of a linked subject
            (issuer.token(sub="bob-at-idp", aud=mcp_resource("globex"), email="bob@example.com", email_verified=True),
             "/api/v1/globex/mcp", 200),
            (issuer.token(sub="bob-at-idp", aud=mcp_resource("globex"), email="bob@example.com"), "/api/v1/globex/mcp", 401),
            # a member of acme only; a token naming globex's endpoint finds no membership there
            (issuer.token(sub="alice-at-idp", aud=mcp_resource("globex")), "/api/v1/globex/mcp", 401),
            # the audience is another endpoint than the one called
            (issuer.token(sub="alice-at-idp", aud=mcp_resource("acme")), "/api/v1/acme/connectors/demo/mcp", 401),
            (issuer.token(sub="alice-at-idp", aud=mcp_resource("acme"), scope="profile"), "/api/v1/acme/mcp", 403),
            (issuer.token(sub="nobody", aud=mcp_resource("acme"), email="nobody@example.com", email_verified=True),
             "/api/v1/acme/mcp", 401),
        ]  # fmt: skip
        for token, path, status in cases:
            async with server.client(token) as holder:
                r = await mcp_call(holder, path, "tools/list")
                assert r.status_code == status, (path, status, r.text)
        key = await server.key("acme", ["mcp"])
        async with server.client(key) as by_key:  # API keys keep working in this mode too
            assert (await mcp_call(by_key, "/api/v1/acme/mcp", "tools/list")).status_code == 200
