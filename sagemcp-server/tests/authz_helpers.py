"""Helpers for the authorization server tests: registering clients, a browser that consents, token requests."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from conftest import Server
from signin_helpers import add_member, create_user, sign_in

PUBLIC = "https://sagemcp.test"
REDIRECT = "http://127.0.0.1:33418/callback"
_REQUEST_RE = re.compile(r'name="request" value="([^"]+)"')
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def mcp_resource(slug: str, connector: str | None = None) -> str:
    if connector is None:
        return f"{PUBLIC}/api/v1/{slug}/mcp"
    return f"{PUBLIC}/api/v1/{slug}/connectors/{connector}/mcp"


@dataclass
class Pkce:
    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        return cls(verifier, challenge)


async def register(server: Server, **metadata: Any) -> dict[str, Any]:
    body = {"redirect_uris": [REDIRECT], "client_name": "Test Client", **metadata}
    async with server.client() as anonymous:
        r = await anonymous.post("/register", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def start_authorization(
    browser: httpx.AsyncClient,
    client_id: str,
    *,
    resource: str | None,
    pkce: Pkce,
    redirect_uri: str = REDIRECT,
    state: str = "st-1",
    scope: str | None = "mcp",
    **extra: str,
) -> httpx.Response:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        "state": state,
        **extra,
    }
    if scope is not None:
        params["scope"] = scope
    if resource is not None:
        params["resource"] = resource
    return await browser.get("/authorize", params=params)


async def consent(browser: httpx.AsyncClient, consent_url: str, decision: str = "allow") -> httpx.Response:
    """Open the consent page (signed in) and press Allow or Deny; returns the answer to the POST."""
    page = await browser.get(consent_url)
    assert page.status_code == 200, page.text
    request = _REQUEST_RE.search(page.text)
    csrf = _CSRF_RE.search(page.text)
    assert request and csrf, page.text
    return await browser.post(
        "/oauth/consent",
        data={"csrf_token": csrf.group(1), "request": request.group(1), "decision": decision},
    )


async def authorization_code(
    browser: httpx.AsyncClient,
    client_id: str,
    resource: str,
    pkce: Pkce,
    redirect_uri: str = REDIRECT,
    scope: str | None = "mcp",
) -> str:
    r = await start_authorization(
        browser, client_id, resource=resource, pkce=pkce, redirect_uri=redirect_uri, scope=scope
    )
    assert r.status_code == 302, r.text
    answer = await consent(browser, r.headers["location"])
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert urlsplit(location).path == urlsplit(redirect_uri).path, location
    query = query_of(location)
    assert query["state"] == "st-1" and query["iss"] == PUBLIC, query
    return query["code"]


async def exchange_code(
    server: Server, client: dict[str, Any], code: str, pkce: Pkce, redirect_uri: str = REDIRECT
) -> httpx.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client["client_id"],
        "code_verifier": pkce.verifier,
    }
    if client.get("client_secret"):
        data["client_secret"] = client["client_secret"]
    async with server.client() as anonymous:
        return await anonymous.post("/token", data=data)


async def refresh(server: Server, client: dict[str, Any], refresh_token: str) -> httpx.Response:
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client["client_id"]}
    if client.get("client_secret"):
        data["client_secret"] = client["client_secret"]
    async with server.client() as anonymous:
        return await anonymous.post("/token", data=data)


async def revoke(server: Server, client: dict[str, Any], token: str) -> httpx.Response:
    data = {"token": token, "client_id": client["client_id"]}
    if client.get("client_secret"):
        data["client_secret"] = client["client_secret"]
    async with server.client() as anonymous:
        return await anonymous.post("/revoke", data=data)


async def people(server: Server) -> None:
    """Tenants acme and globex with a demo connector each, owned by olive; alice is a member of acme, bob of
    globex."""
    await create_user(server, "olive@example.com")
    await create_user(server, "alice@example.com")
    await create_user(server, "bob@example.com")
    for slug in ("acme", "globex"):
        await server.tenant(slug)
        await server.connector(slug, "demo")
        await add_member(server, slug, "olive@example.com", "owner")
    await add_member(server, "acme", "alice@example.com", "member")
    await add_member(server, "globex", "bob@example.com", "member")


@asynccontextmanager
async def signed_in_browser(server: Server, email: str) -> AsyncIterator[httpx.AsyncClient]:
    async with server.browser() as browser:
        r = await sign_in(browser, email)
        assert r.status_code == 303, r.text
        yield browser


async def tokens_for(
    server: Server, email: str, resource: str, client: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Register a client (unless given), consent as `email` for `resource`; returns (client, token response)."""
    client = client or await register(server)
    pkce = Pkce.new()
    async with signed_in_browser(server, email) as browser:
        code = await authorization_code(browser, client["client_id"], resource, pkce)
    r = await exchange_code(server, client, code, pkce)
    assert r.status_code == 200, r.text
    return client, dict(r.json())
