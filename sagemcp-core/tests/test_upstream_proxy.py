"""Outbound proxies: tool calls and token endpoints through one proxy, explicit or from the environment.

A real forward proxy (`sagemcp.testing.ForwardProxy`) and real fake upstreams on 127.0.0.1:
each test asserts what the proxy relayed and what reached the upstream.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from sagemcp import BoundClient, Credential, OAuth2
from sagemcp._netbackend import CachedSocketBackend
from sagemcp._proxies import proxy_mounts
from sagemcp.errors import UpstreamUnavailable
from sagemcp.platform import OAuthApp, OAuthFlows, UpstreamClient, validate_proxy_url
from sagemcp.testing import ForwardProxy, serve

from ._upstreams import Recorder
from .test_netbackend import BODY, _certificate, http_server

TOKEN = "proxied-token-1234"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy variable from the machine running the tests leaks in (either spelling)."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@dataclass
class World:
    proxy: ForwardProxy
    api: Recorder
    api_url: str


@pytest.fixture
async def world() -> AsyncIterator[World]:
    api = Recorder(
        "api",
        answers={"/oauth/token": {"access_token": "fresh-access-1", "token_type": "bearer", "expires_in": 3600}},
    )
    async with ForwardProxy() as proxy, serve(api) as api_url:
        yield World(proxy, api, api_url)


def bind(upstream: UpstreamClient, w: World) -> BoundClient:
    return upstream.bind(base_url=w.api_url + "/v1", provider="demo", headers={"Authorization": f"Bearer {TOKEN}"})


def set_env(monkeypatch: pytest.MonkeyPatch, **variables: str) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


# -- tool calls -------------------------------------------------------------------------------------------


async def test_an_explicit_proxy_relays_tool_calls(world: World) -> None:
    async with UpstreamClient(proxy=world.proxy.url, timeout=5) as upstream:
        assert (await bind(upstream, world).get("me", params={"q": "1"})).json() == {"served_by": "api"}
    (relayed,) = world.proxy.requests
    assert (relayed.method, relayed.url) == ("GET", f"{world.api_url}/v1/me?q=1")
    (seen,) = world.api.seen
    assert seen.path == "/v1/me" and seen.headers["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
async def test_the_environment_proxy_relays_tool_calls(
    world: World, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    set_env(monkeypatch, **{variable: world.proxy.url})
    async with UpstreamClient(timeout=5) as upstream:
        await bind(upstream, world).get("me")
    assert [r.url for r in world.proxy.requests] == [f"{world.api_url}/v1/me"]
    assert len(world.api.seen) == 1


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "localhost, 127.0.0.1", "*", "example.com,*"])
@pytest.mark.parametrize("explicit", [False, True])
async def test_no_proxy_hosts_are_reached_directly(
    world: World, monkeypatch: pytest.MonkeyPatch, no_proxy: str, explicit: bool
) -> None:
    set_env(monkeypatch, HTTP_PROXY=world.proxy.url, NO_PROXY=no_proxy)
    async with UpstreamClient(proxy=world.proxy.url if explicit else None, timeout=5) as upstream:
        await bind(upstream, world).get("me")
    assert world.proxy.requests == []
    assert [s.path for s in world.api.seen] == ["/v1/me"]


async def test_no_proxy_matches_hosts_exactly_or_by_domain(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # Neither "localhost" nor another address covers 127.0.0.1: the call still goes through the proxy.
    set_env(monkeypatch, HTTP_PROXY=world.proxy.url, NO_PROXY="localhost,127.0.0.2,[::1]")
    async with UpstreamClient(timeout=5) as upstream:
        await bind(upstream, world).get("me")
    assert len(world.proxy.requests) == 1


async def test_a_test_transport_ignores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9")
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"mocked": True}))
    async with UpstreamClient(transport=transport) as upstream:
        response = await upstream.bind(base_url="https://api.example", provider="demo").get("x")
    assert response.json() == {"mocked": True}


async def test_https_goes_through_a_connect_tunnel(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = _certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # httpx trusts the test certificate through it
    async with (
        http_server(ssl_context=server_context) as (port, connections),
        UpstreamClient(proxy=world.proxy.url, timeout=5) as upstream,
    ):
        http = upstream.bind(base_url=f"https://127.0.0.1:{port}", provider="demo")
        for _ in range(3):
            assert (await http.get("x")).content == BODY
    # One tunnel, kept alive and reused, on a pool with the cheap idle check.
    assert [(r.method, r.url) for r in world.proxy.requests] == [("CONNECT", f"127.0.0.1:{port}")]
    assert len(connections) == 1


async def test_proxy_transports_keep_the_cached_socket_backend(world: World) -> None:
    async with UpstreamClient(proxy=world.proxy.url) as upstream:
        mounted = [t for t in upstream._http._mounts.values() if t is not None]
        assert len(mounted) == 2 and mounted[0] is mounted[1]  # one pool for both schemes
        assert isinstance(mounted[0]._pool._network_backend, CachedSocketBackend)  # type: ignore[attr-defined]


async def test_a_refusing_proxy_is_named_in_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    async with ForwardProxy(answer=407) as proxy, UpstreamClient(proxy=proxy.url, timeout=5) as upstream:
        http = upstream.bind(
            base_url="https://127.0.0.1:9", provider="demo", headers={"Authorization": "Bearer s3cr3t-x"}
        )
        with pytest.raises(UpstreamUnavailable, match="outbound proxy") as failure:
            await http.get("x")
    assert "SAGEMCP_UPSTREAM_PROXY" in str(failure.value) and "s3cr3t" not in str(failure.value)
    assert [r.method for r in proxy.requests] == ["CONNECT"]


# -- token endpoints --------------------------------------------------------------------------------------


def oauth(w: World) -> tuple[OAuth2, OAuthApp, Credential]:
    scheme = OAuth2(authorize_url=w.api_url + "/oauth/authorize", token_url=w.api_url + "/oauth/token")
    app = OAuthApp(tenant_id="t", provider="demo", client_id="cid", client_secret="client-secret-1")
    credential = Credential(
        tenant_id="t", provider="demo", access_token="stale-access", refresh_token="refresh-1", expires_at=1.0
    )
    return scheme, app, credential


@pytest.mark.parametrize("source", ["setting", "environment"])
async def test_token_refresh_goes_through_the_same_proxy(
    world: World, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    if source == "environment":
        set_env(monkeypatch, HTTP_PROXY=world.proxy.url)
    flows = OAuthFlows(proxy=world.proxy.url if source == "setting" else None)
    fresh = await flows.refresh(*oauth(world))
    assert fresh.access_token.get_secret_value() == "fresh-access-1"
    (relayed,) = world.proxy.requests
    assert (relayed.method, relayed.url) == ("POST", f"{world.api_url}/oauth/token")
    assert b"grant_type=refresh_token" in relayed.content and b"refresh_token=refresh-1" in relayed.content
    assert [s.path for s in world.api.seen] == ["/oauth/token"]


async def test_token_refresh_honours_no_proxy(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, HTTP_PROXY=world.proxy.url, NO_PROXY="127.0.0.1")
    await OAuthFlows(proxy=world.proxy.url).refresh(*oauth(world))
    assert world.proxy.requests == []
    assert [s.path for s in world.api.seen] == ["/oauth/token"]


def test_flows_refuse_a_malformed_proxy_at_once() -> None:
    with pytest.raises(ValueError, match="scheme"):
        OAuthFlows(proxy="proxy.internal:3128")
    with pytest.raises(ValueError, match="scheme"):
        UpstreamClient(proxy="proxy.internal:3128")


# -- the mounts ----------------------------------------------------------------------------------------


def patterns(mounts: dict[str, httpx.AsyncBaseTransport | None]) -> dict[str, str | None]:
    """Mount pattern -> the proxy URL its transport goes to (None: direct)."""
    names: dict[int, str] = {}
    return {
        pattern: None if transport is None else names.setdefault(id(transport), getattr(transport, "proxy_url", "?"))
        for pattern, transport in mounts.items()
    }


class Tagged(httpx.AsyncBaseTransport):
    def __init__(self, proxy: httpx.Proxy) -> None:
        self.proxy_url = str(proxy.url)
        self.proxy_auth = proxy.auth


def test_environment_proxies_by_scheme_with_no_proxy_exemptions(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    set_env(
        monkeypatch,
        HTTP_PROXY="plain.internal:3128",
        HTTPS_PROXY="http://secure.internal:3129",
        ALL_PROXY="socks5://fallback.internal:1080",
        NO_PROXY="example.com, .corp.example, 10.1.2.3, ::1, localhost, https://pinned.example:8443, 10.0.0.0/8",
    )
    assert patterns(proxy_mounts(None, use_environment=True, transport=Tagged)) == {
        "http://": "http://plain.internal:3128",
        "https://": "http://secure.internal:3129",
        "all://": "socks5://fallback.internal:1080",
        "all://*example.com": None,
        "all://*.corp.example": None,
        "all://10.1.2.3": None,
        "all://[::1]": None,
        "all://localhost": None,
        "https://pinned.example:8443": None,
    }
    proxy_mounts(None, use_environment=True, transport=Tagged)
    ranges = [r.getMessage() for r in caplog.records if "address range" in r.getMessage()]
    assert ranges == ["NO_PROXY entry '10.0.0.0/8' is an address range, which is not supported; list the addresses"]


def test_an_explicit_proxy_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, HTTPS_PROXY="http://env.internal:1", NO_PROXY="intranet.example")
    mounts = proxy_mounts("http://u:p@set.internal:3128", use_environment=True, transport=Tagged)
    assert patterns(mounts) == {
        "http://": "http://set.internal:3128",  # the user and password become Proxy-Authorization
        "https://": "http://set.internal:3128",
        "all://*intranet.example": None,
    }
    proxied = mounts["https://"]
    assert isinstance(proxied, Tagged) and proxied.proxy_auth == ("u", "p")
    assert proxy_mounts(None, use_environment=False, transport=Tagged) == {}
    set_env(monkeypatch, NO_PROXY="*")
    assert proxy_mounts("http://set.internal:3128", use_environment=True, transport=Tagged) == {}


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("user:secret-pw@corp-proxy.example:3128", "scheme"),
        ("ftp://user:secret-pw@corp-proxy.example", "scheme must be one of"),
        ("http://", "no host"),
        ("http://user:secret-pw@corp-proxy.example:3128/path", "path"),
        ("http://user:secret-pw@corp-proxy.example:3128?x=1", "path, query"),
    ],
)
def test_proxy_urls_are_checked_without_echoing_them(value: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as failure:
        validate_proxy_url(value)
    assert "corp-proxy" not in str(failure.value) and "secret-pw" not in str(failure.value)


def test_good_proxy_urls_are_kept() -> None:
    for value in ("http://proxy.internal:3128", "https://u:p@proxy.internal", "socks5h://127.0.0.1:1080/"):
        assert validate_proxy_url(f"  {value} ") == value
