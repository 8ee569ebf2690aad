"""SSRF and path traversal through connector configuration and tool arguments.

A tenant administrator chooses a connector's base URL (GitHub Enterprise, a Jira site) and the tenant's
token is sent there, so a base URL must never point into the platform's own network: no private,
loopback, link-local or other non-public address, however it is spelled (the host is judged as httpx
sends it: full-width and ideographic dots, IPv4-embedding IPv6 forms), and https only. Core's
`BoundClient` keeps a call's credentials on its base URL's origin whatever a tool asks for.

Resolved addresses: a host name is judged when the upstream client connects, by every address it
resolves to then, so a name that points (or later re-points) into the platform's network gets no
connection; and every failure to get an answer reads the same, so ports cannot be mapped either.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from pydantic import ValidationError

from sagemcp.errors import UpstreamBadResponse
from sagemcp.platform import ConnectorRegistry, SecretBox, UpstreamClient

from . import _clients as c
from ._fake_upstream import FakeUpstream, behave
from ._support import serve

REFUSED = [
    "http://169.254.169.254/latest/meta-data/",
    "https://169.254.169.254/",
    "https://10.0.0.1/api/v3",
    "https://172.16.5.4/",
    "https://192.168.1.1/",
    "https://[fe80::1]/",
    "https://[fd00::1]/",
    "https://[::ffff:169.254.169.254]/",
    "https://0.0.0.0/",
    "https://[::]/",
    "http://api.github.com/",
    "ftp://ghe.example.com/",
    "file:///etc/passwd",
    "gopher://ghe.example.com/",
    "javascript:alert(1)",
    "https://user:secret@ghe.example.com/api/v3",
    "https://ghe.example.com/api/v3/../../admin",
    "https://ghe.example.com/api/v3?x=1",
    "https://ghe.example.com\\@evil.example/",
]
ACCEPTED = ["https://api.github.com", "https://ghe.example.com/api/v3", "https://octo.ghe.com/api/v3"]
BYPASSES = [
    ("https://0xa9fea9fe/", "169.254.169.254 (cloud metadata) in hex"),
    ("https://2852039166/", "169.254.169.254 as one decimal number"),
    ("https://169.254.43518/", "169.254.169.254 in the a.b.c form"),
    ("https://10.1/", "10.0.0.1 in the a.b form"),
    ("https://0177.0.0.1/", "127.0.0.1 in octal"),
    ("https://127.1/", "127.0.0.1 in the a.b form"),
    ("https://localhost./", "loopback with a trailing dot"),
    ("http://localhost:5432/", "loopback, plain http, any port (the database's)"),
    ("http://127.0.0.1:8000/api/v1/admin", "loopback: the platform's own admin API"),
    ("https://100.64.0.1/", "carrier-grade NAT (shared) space"),
    ("https://ghe.example.com/api/%2e%2e/admin", "an encoded '..' segment"),
    ("https://127\u30020\u30020\u30021/", "127.0.0.1 with ideographic full stops (httpx sends 127.0.0.1)"),
    ("https://169\uff0e254\uff0e169\uff0e254/", "cloud metadata with full-width full stops"),
    ("https://10\uff610\uff610\uff617/api/v3", "10.0.0.7 with half-width ideographic full stops"),
    ("https://localhost\u3002/", "localhost with an ideographic trailing dot"),
    ("https://[::ffff:a9fe:a9fe]/", "cloud metadata as an IPv4-mapped IPv6 address"),
    ("https://[::169.254.169.254]/", "cloud metadata as an IPv4-compatible IPv6 address"),
    ("https://[64:ff9b::a9fe:a9fe]/", "cloud metadata through the NAT64 prefix"),
    ("https://[2002:a9fe:a9fe::]/", "cloud metadata as a 6to4 address"),
    ("https://[::ffff:7f00:1]/", "loopback as an IPv4-mapped IPv6 address"),
]


@pytest.fixture(autouse=True)
def _production_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    # Loopback upstreams are an operator's development switch; these tests check the production rules.
    monkeypatch.delenv("SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS", raising=False)


@pytest.fixture
def github() -> type:
    module = pytest.importorskip(
        "sagemcp_github", reason="the GitHub connector is the one with a configurable base URL"
    )
    return module.GitHubConnector


@pytest.mark.parametrize("url", REFUSED)
def test_github_base_urls_into_private_networks_or_without_https_are_refused(github: type, url: str) -> None:
    with pytest.raises(ValidationError):
        github.parse_config({"api_url": url})


@pytest.mark.parametrize("url", ACCEPTED)
def test_public_https_base_urls_are_accepted(github: type, url: str) -> None:
    assert github.api_base_url(github.parse_config({"api_url": url}), None).startswith("https://")


@pytest.mark.parametrize(("url", "why"), BYPASSES, ids=[b[1] for b in BYPASSES])
def test_regression_github_base_url_checks_can_be_bypassed(github: type, url: str, why: str) -> None:
    """Regression, fixed (sagemcp-connector-github, _config.validate_api_url): the address check reads only the
    canonical dotted and IPv6 spellings, so other spellings of private and metadata addresses (which
    getaddrinfo resolves to exactly those addresses) pass; loopback is accepted on purpose, although
    the issue requires it refused (the platform's own admin API and database listen there)."""
    try:
        github.parse_config({"api_url": url})
    except ValidationError:
        return
    pytest.fail(f"accepted {url} ({why})")


# -- core: where a call's credentials may go ------------------------------------------------------------


@pytest.mark.parametrize(
    "base", ["file:///etc/passwd", "ftp://example.com/", "javascript:alert(1)", "//example.com/", "/relative"]
)
async def test_core_refuses_base_urls_that_are_not_absolute_http(base: str) -> None:
    async with UpstreamClient() as client:
        with pytest.raises(ValueError, match="absolute http"):
            client.bind(base_url=base, provider="probe")


async def test_a_tool_cannot_send_the_tenants_token_to_another_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS", "1")  # the fake upstreams listen on 127.0.0.1
    async with FakeUpstream() as home, FakeUpstream() as other, UpstreamClient(timeout=2) as client:
        bound = client.bind(base_url=home.url + "v1/", provider="probe", headers={"Authorization": "Bearer sxat_x"})
        for url in (
            f"http://127.0.0.1:{other.port}/steal",
            f"//127.0.0.1:{other.port}/steal",
            f"https://127.0.0.1:{home.port}/v1/x",  # same host and port, another scheme
            f"http://localhost:{home.port}/v1/x",  # same address, another host name
        ):
            with pytest.raises(UpstreamBadResponse, match="refused to send"):
                await bound.get(url)
        assert other.seen == [] and home.seen == []
        await bound.get("items/1")
        assert [s.path for s in home.seen] == ["/v1/items/1"]


async def test_a_relative_path_stays_on_the_base_urls_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tool argument interpolated into a path can climb out of the base *path* (connectors must quote
    path segments, as the GitHub connector does) but never out of the base URL's host."""
    monkeypatch.setenv("SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS", "1")  # the fake upstreams listen on 127.0.0.1
    async with FakeUpstream() as home, FakeUpstream() as other, UpstreamClient(timeout=2) as client:
        bound = client.bind(base_url=home.url + "v1/tenants/acme/", provider="probe")
        for path in ("../globex/items", "..%2f..%2fadmin", "./x", f"@127.0.0.1:{other.port}/x", "%2f%2fevil"):
            await bound.get(path)
        assert other.seen == []
        assert len(home.seen) == 5


# -- resolved addresses: checked when the connection is made -------------------------------------------

ADMIN_KEY = "smcp_reliability-ssrf-admin-key-0123456789abcdefghijkl"


async def _server_with_github(tmp_path: Path, api_url: str) -> Any:
    from sagemcp_server.app import create_app
    from sagemcp_server.settings import Settings

    github = pytest.importorskip("sagemcp_github", reason="the GitHub connector has a configurable base URL")
    settings = Settings(
        host="127.0.0.1",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'resolved.db'}",
        secret_keys=SecretBox.generate_key(),
        admin_key=ADMIN_KEY,
    )
    return create_app(settings, registry=ConnectorRegistry([github.GitHubConnector]))


async def _get_me(http: httpx.AsyncClient, api_url: str, token: str) -> str:
    """Configure GitHub at `api_url` through the admin API, store `token`, call a tool; return its text."""
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    base = "/api/v1/admin/tenants/acme"
    if (await http.get(base, headers=admin)).status_code == 404:
        assert (await http.post("/api/v1/admin/tenants", json={"slug": "acme"}, headers=admin)).status_code == 201
    body = {"configuration": {"api_url": api_url}, "tool_policy": {"groups": ["context"]}}
    r = await http.patch(f"{base}/connectors/gh", json=body, headers=admin)
    if r.status_code == 404:
        r = await http.post(
            f"{base}/connectors", json={"connector_type": "github", "name": "gh", **body}, headers=admin
        )
    assert r.status_code in (200, 201), r.text
    assert (await http.put(f"{base}/credentials/github", json={"token": token}, headers=admin)).status_code == 200
    reply = await c.call_modern(
        http, "/api/v1/acme/connectors/gh/mcp", ADMIN_KEY, "tools/call", {"name": "github_get_me"}
    )
    assert reply.result is not None and reply.result["isError"] is True, reply.text
    return " ".join(part.get("text", "") for part in reply.result["content"])


def _resolver(names: dict[str, str]) -> Any:
    real = anyio.getaddrinfo

    async def getaddrinfo(host: str, port: int, **kwargs: Any) -> list[Any]:
        if host in names:
            address = names[host]
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (address, port))]
        if host.endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return await real(host, port, **kwargs)

    return getaddrinfo


@pytest.mark.parametrize(
    ("name", "address"),
    [
        ("ghe.attacker.example", "127.0.0.1"),  # the platform's own admin API and database
        ("metadata.attacker.example", "169.254.169.254"),
        ("intranet.attacker.example", "10.0.0.7"),
        ("v6.attacker.example", "::ffff:7f00:1"),  # 127.0.0.1, IPv4-mapped
    ],
)
async def test_a_host_name_that_resolves_into_the_platforms_network_gets_no_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, name: str, address: str
) -> None:
    """The name passes the configuration check (a name is not an address); the connection is refused."""
    async with FakeUpstream(behave.json(200, {"login": "octocat"})) as internal:
        app = await _server_with_github(tmp_path, f"https://{name}")
        monkeypatch.setattr(anyio, "getaddrinfo", _resolver({name: address}))
        async with serve(app) as base, httpx.AsyncClient(base_url=base, timeout=20) as http:
            with caplog.at_level(logging.WARNING, logger="sagemcp._netbackend"):
                text = await _get_me(http, f"https://{name}:{internal.port}", "sxat_" + "5" * 32)
        assert internal.connections == 0
    assert "could not reach github for GET /user: no connection" in text
    assert f"refused to connect to upstream host {name}: it resolves to {address}" in caplog.text


async def test_open_closed_and_unknown_ports_read_the_same_through_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS", "1")  # reach the local listeners, not 10.0.0.1
    monkeypatch.setattr(anyio, "getaddrinfo", _resolver({"blocked.example": "10.0.0.1"}))

    async def speak_another_protocol(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"-ERR unknown command\r\n")  # what a Redis port answers to an HTTP request
        await writer.drain()
        writer.close()

    other = await asyncio.start_server(speak_another_protocol, "127.0.0.1", 0)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    targets = {
        "closed port": f"http://127.0.0.1:{closed}",
        "open port, another protocol": f"http://127.0.0.1:{other.sockets[0].getsockname()[1]}",
        "unknown host": "https://nowhere.invalid",
        "address not permitted": "https://blocked.example:6379",
    }
    app = await _server_with_github(tmp_path, "https://api.github.com")
    texts = {}
    async with other, serve(app) as base, httpx.AsyncClient(base_url=base, timeout=60) as http:
        for what, url in targets.items():
            texts[what] = await _get_me(http, url, "sxat_" + "6" * 32)
    assert len(set(texts.values())) == 1, texts
