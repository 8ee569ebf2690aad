"""The upstream OAuth flow against a fake authorization server that checks PKCE."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from conftest import Server, running
from test_api_tenants import assert_error


async def _ready(server: Server, slug: str = "acme") -> None:
    await server.tenant(slug)
    await server.connector(slug, "fake", tool_policy={"groups": ["read", "write"]})
    await server.oauth_app(slug)


async def _start(
    server: Server, browser: httpx.AsyncClient, slug: str = "acme", **headers: str
) -> tuple[str, dict[str, list[str]]]:
    """Start an authorization and open its link in `browser`; return the provider's URL and its query."""
    r = await server.admin.post(f"/api/v1/oauth/{slug}/fake/authorize", json={}, headers=headers)
    assert r.status_code == 200, r.text
    url = await server.open_link(r.json()["authorization_url"], browser)
    return url, parse_qs(urlsplit(url).query)


async def test_full_flow_stores_an_encrypted_credential(server: Server) -> None:
    await _ready(server)
    async with server.browser() as browser:
        url, query = await _start(server, browser, **{"Host": "evil.example", "X-Forwarded-Host": "evil.example"})
        assert url.startswith("https://fake.example/authorize?")
        assert query["redirect_uri"] == ["https://sagemcp.test/api/v1/oauth/callback/fake"]  # never from headers
        assert query["code_challenge_method"] == ["S256"] and query["client_id"] == ["fake-client-id"]
        assert set(query["scope"][0].split()) == {"read", "write"}
        assert len(query["state"][0]) >= 32
        r = await browser.get(await server.approve(url, browser))
    assert r.status_code == 200 and "Connected" in r.text and "octocat" in r.text
    assert r.headers["cache-control"] == "no-store" and r.headers["referrer-policy"] == "no-referrer"
    tenant = await server.services.store.get_tenant("acme")
    cred = await server.services.store.get_credential(tenant.id, "fake")
    assert cred.kind == "oauth2" and cred.account == "octocat" and cred.refresh_token is not None
    token_request = server.provider.token_requests[-1]
    assert token_request["grant_type"] == "authorization_code" and token_request["code_verifier"]
    # the connected account works through MCP
    key = await server.key("acme", ["mcp"])
    async with server.client(key) as client:
        r = await client.post(
            "/api/v1/acme/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "fake_whoami"}},
            headers={"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"},
        )
    assert r.json()["result"]["structuredContent"] == {"login": "octocat"}


async def test_reconnecting_replaces_the_credential(server: Server) -> None:
    await _ready(server)
    assert (await server.connect_oauth("acme")).status_code == 200
    assert (await server.connect_oauth("acme")).status_code == 200
    from sqlalchemy import text

    async with server.services.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT count(*) FROM credentials WHERE provider = 'fake'"))).scalar()
    assert rows == 1


async def test_replay_and_duplicate_callback_fail(server: Server) -> None:
    await _ready(server)
    async with server.browser() as browser:
        url, _ = await _start(server, browser)
        location = await server.approve(url, browser)
        first, second = await asyncio.gather(browser.get(location), browser.get(location))
        assert sorted([first.status_code, second.status_code]) == [200, 400]
        replay = await browser.get(location)
    assert replay.status_code == 400 and "already used" in replay.text
    assert server.provider.token_requests.__len__() == 1  # the code was exchanged once


async def test_tampered_state_fails(server: Server) -> None:
    await _ready(server)
    async with server.browser() as browser:
        url, _ = await _start(server, browser)
        location = await server.approve(url, browser)
        tampered = location.replace("state=", "state=x")
        r = await browser.get(tampered)
        assert r.status_code == 400 and "unknown" in r.text
        r = await browser.get("/api/v1/oauth/callback/fake?code=abc")
        assert r.status_code == 400
        # the genuine state still works after the tampered attempt
        assert (await browser.get(location)).status_code == 200


async def test_state_bound_to_provider(server: Server) -> None:
    await _ready(server)
    async with server.browser() as browser:
        url, _ = await _start(server, browser)
        location = await server.approve(url, browser)
    # the cookie is limited to the callback path of the provider the authorization is for
    async with server.client() as other:
        r = await other.get(location.replace("/callback/fake", "/callback/other"))
    assert r.status_code == 403 and "another browser" in r.text


async def test_pkce_mismatch_fails(server: Server) -> None:
    await _ready(server)
    async with server.browser() as browser:
        url, _ = await _start(server, browser)
        location = await server.approve(url, browser)
        for grant in server.provider.codes.values():
            grant["challenge"] = "not-the-challenge"
        r = await browser.get(location)
    assert r.status_code == 400 and "invalid_grant" in r.text
    tenant = await server.services.store.get_tenant("acme")
    assert await server.services.store.get_credential(tenant.id, "fake") is None


async def test_provider_error_fails(server: Server) -> None:
    await _ready(server)
    async with server.browser() as browser:
        _, query = await _start(server, browser)
        r = await browser.get(
            "/api/v1/oauth/callback/fake", params={"state": query["state"][0], "error": "access_denied"}
        )
        assert r.status_code == 400 and "access_denied" in r.text
        r = await browser.get("/api/v1/oauth/callback/fake", params={"state": query["state"][0], "code": "x"})
        assert r.status_code == 400  # the state was consumed by the error


async def test_expired_state_fails(settings, registry, provider) -> None:
    async with running(settings.model_copy(update={"oauth_state_ttl": 0.3}), registry, provider) as server:
        await _ready(server)
        async with server.browser() as browser:
            url, _ = await _start(server, browser)
            location = await server.approve(url, browser)
            await asyncio.sleep(0.5)
            r = await browser.get(location)
        assert r.status_code == 400 and "expired" in r.text
        assert provider.token_requests == []


async def test_authorize_failures(server: Server) -> None:
    await server.tenant("acme")
    assert_error(await server.admin.post("/api/v1/oauth/acme/fake/authorize", json={}), 409, "oauth_app_missing")
    assert_error(await server.admin.post("/api/v1/oauth/acme/nope/authorize", json={}), 422, "unknown_provider")
    assert_error(await server.admin.post("/api/v1/oauth/acme/tokenonly/authorize"), 422, "oauth_not_supported")
    assert_error(await server.admin.post("/api/v1/oauth/ghost/fake/authorize", json={}), 404, "tenant_not_found")
    await server.oauth_app("acme")
    assert_error(
        await server.admin.post("/api/v1/oauth/acme/fake/authorize", json={"connector_id": "x"}),
        422,
        "unknown_connector",
    )
    async with server.client() as anonymous:
        assert_error(await anonymous.post("/api/v1/oauth/acme/fake/authorize", json={}), 401)


@pytest.mark.parametrize(("groups", "expected"), [(["read"], {"read"}), (["read", "write"], {"read", "write"})])
async def test_scopes_follow_the_tool_policy(server: Server, groups: list[str], expected: set[str]) -> None:
    await server.tenant("acme")
    await server.connector("acme", "fake", tool_policy={"groups": groups})
    await server.oauth_app("acme")
    async with server.browser() as browser:
        _, query = await _start(server, browser)
    assert set(query["scope"][0].split()) == expected
