"""SSRF and path traversal through connector configuration and tool arguments.

A tenant administrator chooses a connector's base URL (GitHub Enterprise, a Jira site) and the tenant's
token is sent there, so a base URL must never point into the platform's own network: no private,
loopback, link-local or other non-public address, however it is spelled, and https only. Core's
`BoundClient` keeps a call's credentials on its base URL's origin whatever a tool asks for.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sagemcp import UpstreamClient
from sagemcp.errors import UpstreamBadResponse

from ._fake_upstream import FakeUpstream

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


async def test_a_tool_cannot_send_the_tenants_token_to_another_host() -> None:
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


async def test_a_relative_path_stays_on_the_base_urls_host() -> None:
    """A tool argument interpolated into a path can climb out of the base *path* (connectors must quote
    path segments, as the GitHub connector does) but never out of the base URL's host."""
    async with FakeUpstream() as home, FakeUpstream() as other, UpstreamClient(timeout=2) as client:
        bound = client.bind(base_url=home.url + "v1/tenants/acme/", provider="probe")
        for path in ("../globex/items", "..%2f..%2fadmin", "./x", f"@127.0.0.1:{other.port}/x", "%2f%2fevil"):
            await bound.get(path)
        assert other.seen == []
        assert len(home.seen) == 5
