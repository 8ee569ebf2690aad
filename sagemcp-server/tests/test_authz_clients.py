"""The official MCP Python SDK client's OAuth support against a real `sagemcp serve` process.

The server is provisioned through the CLI (tenants, the demo connector, users, memberships).
The SDK's `OAuthClientProvider` discovers everything from the 401 (resource metadata, then the
authorization server's metadata), registers (RFC 7591, or by a Client ID Metadata Document
served over HTTPS from this test), and sends the person to the authorization URL; a scripted
browser (httpx) follows it, signs in on the sign-in page, allows on the consent page and hands
the redirect's code to the SDK's callback handler. Then: a tool call, a refresh when the short
access token lifetime has passed, and a token refused on another tenant's endpoint.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import httpx2
import pytest
from https_documents import DocumentServer, tls_files
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
from procs import clean_env, free_port, start, stop, wait_ready

pytestmark = pytest.mark.e2e

ADMIN_KEY = "test-admin-key-authz-clients-0123"
PASSWORD = "correct horse battery staple"
REDIRECT = "http://127.0.0.1:47113/callback"
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
_REQUEST_RE = re.compile(r'name="request" value="([^"]+)"')


@dataclass
class Running:
    base: str
    env: dict[str, str]
    cwd: Path

    def cli(self, *args: str, stdin: str | None = None) -> Any:
        result = subprocess.run(
            [sys.executable, "-m", "sagemcp_server.cli", *args, "--json"],
            env=self.env,
            cwd=self.cwd,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout) if result.stdout.strip() else None

    def url(self, slug: str, connector: str | None = None) -> str:
        if connector is None:
            return f"{self.base}/api/v1/{slug}/mcp"
        return f"{self.base}/api/v1/{slug}/connectors/{connector}/mcp"


def _provision(server: Running) -> None:
    for slug in ("acme", "globex"):
        server.cli("tenant", "create", slug)
        server.cli("connector", "add", "demo", "--tenant", slug)
    for email, slug in (("alice@example.com", "acme"), ("bob@example.com", "globex")):
        server.cli("user", "create", email, "--password-stdin", stdin=PASSWORD + "\n")
        server.cli("member", "add", email, "--tenant", slug)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, tls: tuple[Path, Path]) -> Iterator[Running]:
    tmp = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = clean_env(
        SAGEMCP_ADMIN_KEY=ADMIN_KEY,
        SAGEMCP_LOG_FORMAT="json",
        SAGEMCP_AUTH_ACCESS_TOKEN_TTL="10",  # short, so that the test sees a refresh
        SAGEMCP_AUTH_REFRESH_GRACE="0",  # a rotated refresh token is dead at once
        SAGEMCP_PASSWORD_MEMORY_KIB="8192",
        SAGEMCP_PASSWORD_TIME_COST="1",
        # the test's metadata documents are served over HTTPS on loopback, which the operator allows explicitly
        SAGEMCP_UPSTREAM_ALLOW="127.0.0.1/32",
        SSL_CERT_FILE=str(tls[0]),
    )
    proc = start(["-m", "sagemcp_server.cli", "serve", "--port", str(port)], env, tmp, "server", cwd=tmp)
    try:
        wait_ready(port, proc, tmp, "server")
        running = Running(f"http://127.0.0.1:{port}", env, tmp)
        _provision(running)
        yield running
    finally:
        stop(proc)
    logs = (tmp / "server.err").read_text()
    assert "smcpat_" not in logs and "smcprt_" not in logs and "smcpac_" not in logs  # no token ever logged


@dataclass
class MemoryStorage:
    tokens: OAuthToken | None = None
    client: OAuthClientInformationFull | None = None
    history: list[OAuthToken] = field(default_factory=list)

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens
        self.history.append(tokens)

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


class Person:
    """A browser that signs in as `email` when asked and allows whatever the consent page asks."""

    def __init__(self, base: str, email: str) -> None:
        self.base = base
        self.email = email
        self.pending: list[str] = []
        self.consent_pages: list[str] = []

    async def redirect_handler(self, authorization_url: str) -> None:
        self.pending.append(authorization_url)

    async def callback_handler(self) -> AuthorizationCodeResult:
        url = self.pending.pop()
        async with httpx.AsyncClient(base_url=self.base, timeout=30) as browser:
            r = await browser.get(url)
            assert r.status_code == 302, r.text  # /authorize -> the consent page
            consent_url = r.headers["location"]
            r = await browser.get(consent_url)
            assert r.status_code == 303 and r.headers["location"].startswith("/signin?next="), r.text
            page = await browser.get(r.headers["location"])
            csrf = _CSRF_RE.search(page.text)
            assert page.status_code == 200 and csrf, page.text
            nxt = parse_qs(urlsplit(r.headers["location"]).query)["next"][0]
            r = await browser.post(
                "/signin", data={"email": self.email, "password": PASSWORD, "csrf_token": csrf.group(1), "next": nxt}
            )
            assert r.status_code == 303 and r.headers["location"].startswith("/oauth/consent?"), r.text
            page = await browser.get(r.headers["location"])
            assert page.status_code == 200, page.text
            self.consent_pages.append(page.text)
            csrf, request = _CSRF_RE.search(page.text), _REQUEST_RE.search(page.text)
            assert csrf and request
            r = await browser.post(
                "/oauth/consent", data={"csrf_token": csrf.group(1), "request": request.group(1), "decision": "allow"}
            )
            assert r.status_code == 303, r.text
        query = {k: v[0] for k, v in parse_qs(urlsplit(r.headers["location"]).query).items()}
        return AuthorizationCodeResult(code=query["code"], state=query.get("state"), iss=query.get("iss"))


def _metadata(**extra: Any) -> OAuthClientMetadata:
    return OAuthClientMetadata.model_validate(
        {
            "redirect_uris": [REDIRECT],
            "client_name": "SDK test client",
            "grant_types": ["authorization_code", "refresh_token"],
            **extra,
        }
    )


@asynccontextmanager
async def session(url: str, auth: OAuthClientProvider) -> AsyncIterator[Client]:
    async with httpx2.AsyncClient(auth=auth, timeout=30) as http:
        async with Client(streamable_http_client(url, http_client=http)) as client:
            yield client


async def _refused_elsewhere(server: Running, token: str) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"}
    async with httpx.AsyncClient(timeout=10) as http:
        for url in (server.url("globex"), server.url("globex", "demo"), server.url("acme", "demo")):
            r = await http.post(url, json=body, headers=headers)
            assert r.status_code == 404 and "tools" not in r.text, (url, r.text)
        r = await http.post(server.url("acme"), json=body, headers=headers)
        assert r.status_code in (200, 401)  # its own endpoint: fine while unexpired


async def test_sdk_client_registers_dynamically_signs_in_calls_and_refreshes(server: Running) -> None:
    alice = Person(server.base, "alice@example.com")
    storage = MemoryStorage()
    auth = OAuthClientProvider(
        server.url("acme"),
        _metadata(),
        storage,
        redirect_handler=alice.redirect_handler,
        callback_handler=alice.callback_handler,
    )
    async with session(server.url("acme"), auth) as client:
        tools = await client.list_tools()
        assert {t.name for t in tools.tools} == {"demo_echo", "demo_add", "demo_server_time"}
        result = await client.call_tool("demo_add", {"a": 2, "b": 3})
        assert result.structured_content == {"a": 2.0, "b": 3.0, "sum": 5.0}
        assert storage.client is not None and storage.client.client_secret  # registered (RFC 7591)
        assert "SDK test client" in alice.consent_pages[0] and "acme" in alice.consent_pages[0]
        first = storage.tokens
        assert first is not None and first.access_token.startswith("smcpat_") and first.refresh_token
        await _refused_elsewhere(server, first.access_token)
        await asyncio.sleep(11)  # the access token (10 s) expires: the SDK refreshes before the next call
        result = await client.call_tool("demo_echo", {"text": "after refresh"})
        assert "after refresh" in str(result.content)
    assert len(storage.history) == 2 and len(alice.consent_pages) == 1  # refreshed, not authorized again
    second = storage.tokens
    assert second is not None and second.refresh_token != first.refresh_token  # rotated
    await _refused_elsewhere(server, second.access_token)
    # Someone replays the rotated refresh token: refused, and the whole grant ends (reuse detection).
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {"Authorization": f"Bearer {second.access_token}", "Accept": "application/json, text/event-stream"}
    async with httpx.AsyncClient(timeout=10) as http:
        assert (await http.post(server.url("acme"), json=body, headers=headers)).status_code == 200
        r = await http.post(
            f"{server.base}/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": first.refresh_token or "",
                "client_id": storage.client.client_id,
                "client_secret": storage.client.client_secret or "",
            },
        )
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
        await asyncio.sleep(5.5)  # another process's cache (the server's verifier) forgets within its TTL
        assert (await http.post(server.url("acme"), json=body, headers=headers)).status_code == 401


async def test_sdk_client_with_a_client_id_metadata_document(server: Running, tls: tuple[Path, Path]) -> None:
    documents = DocumentServer()
    async with documents.running(*tls):
        url = documents.url("/oauth/sdk-client.json")
        documents.documents["/oauth/sdk-client.json"] = {
            "client_id": url,
            "client_name": "SDK metadata-document client",
            "client_uri": "https://client.example",
            "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        }
        bob = Person(server.base, "bob@example.com")
        storage = MemoryStorage()
        auth = OAuthClientProvider(
            server.url("globex"),
            _metadata(client_name="SDK metadata-document client"),
            storage,
            redirect_handler=bob.redirect_handler,
            callback_handler=bob.callback_handler,
            client_metadata_url=url,
        )
        async with session(server.url("globex"), auth) as client:
            result = await client.call_tool("demo_add", {"a": 20, "b": 22})
            assert result.structured_content == {"a": 20.0, "b": 22.0, "sum": 42.0}
        assert storage.client is not None and storage.client.client_id == url  # no registration happened
        assert documents.hits["/oauth/sdk-client.json"] == 1
        assert url in bob.consent_pages[0] and "client.example" in bob.consent_pages[0]
        token = storage.tokens
        assert token is not None
        async with httpx.AsyncClient(timeout=10) as http:
            body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
            headers = {"Authorization": f"Bearer {token.access_token}", "Accept": "application/json, text/event-stream"}
            assert (await http.post(server.url("acme"), json=body, headers=headers)).status_code == 404
    clients = server.cli("oauth-client", "list")["items"]
    assert any(c["client_id"] == url and c["kind"] == "document" for c in clients)
