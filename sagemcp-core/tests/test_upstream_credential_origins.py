"""Where a tenant's credential goes: a base URL chosen from the credential, declared origins, redirects.

The fake upstreams are real HTTP servers on 127.0.0.1 where the test is about what
arrives on the wire (headers, query strings), and `httpx.MockTransport` elsewhere.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from sagemcp import BasicAuth, Connector, ConnectorInfo, ConnectorSettings, Credential, OAuth2, ToolContext, tool
from sagemcp.errors import UpstreamBadResponse
from sagemcp.mcp import McpSettings, create_mcp_app
from sagemcp.platform import ConnectorConfig, ConnectorRegistry, MemoryStore, Tenant, UpstreamClient, bind_upstream
from sagemcp.testing import call_tool, serve

from ._upstreams import Recorder

TOKEN = "s3cret-token-value"
KEY = "api-key-value-1"


@dataclass
class Hosts:
    api: Recorder
    files: Recorder
    other: Recorder
    urls: dict[str, str]


@pytest.fixture
async def hosts() -> AsyncIterator[Hosts]:
    api, files, other = Recorder("api"), Recorder("files"), Recorder("other")
    async with serve(api) as api_url, serve(files) as files_url, serve(other) as other_url:
        api.redirect_to = files.redirect_to = other_url
        yield Hosts(api, files, other, {"api": api_url, "files": files_url, "other": other_url})


def bound_to(upstream: UpstreamClient, hosts: Hosts) -> Any:
    return upstream.bind(
        base_url=hosts.urls["api"] + "/v1",
        provider="demo",
        headers={"Authorization": f"Bearer {TOKEN}", "X-Api-Version": "2"},
        params={"key": KEY},
        origins=(hosts.urls["files"],),
    )


async def test_the_credential_reaches_the_base_and_declared_origins_and_nothing_else(hosts: Hosts) -> None:
    async with UpstreamClient(timeout=5) as upstream:
        http = bound_to(upstream, hosts)
        assert (await http.get("me")).json() == {"served_by": "api"}
        assert (await http.get(hosts.urls["files"] + "/files/1?download=1")).json() == {"served_by": "files"}
        with pytest.raises(UpstreamBadResponse, match="refused to send") as refused:
            await http.get(hosts.urls["other"] + "/steal")
        assert TOKEN not in str(refused.value) and KEY not in str(refused.value)

        # for_origin is the way to a host without the credential, declared or not.
        await http.for_origin(hosts.urls["other"]).get("/public")
        await http.for_origin(hosts.urls["files"]).get("/presigned")

    (me,) = hosts.api.seen
    assert me.path == "/v1/me" and me.query == f"key={KEY}"
    assert me.headers["authorization"] == f"Bearer {TOKEN}" and me.headers["x-api-version"] == "2"
    declared, presigned = hosts.files.seen
    assert declared.path == "/files/1" and declared.query == f"download=1&key={KEY}"
    assert declared.headers["authorization"] == f"Bearer {TOKEN}"
    assert presigned.path == "/presigned" and presigned.query == ""
    assert "authorization" not in presigned.headers
    (public,) = hosts.other.seen
    assert public.path == "/public" and public.query == "" and "authorization" not in public.headers


@pytest.mark.parametrize("start", ["api", "files"])
@pytest.mark.parametrize(("method", "status"), [("GET", 302), ("POST", 307), ("GET", 308)])
async def test_a_redirect_to_another_origin_carries_nothing_there(
    hosts: Hosts, start: str, method: str, status: int
) -> None:
    hosts.api.status = hosts.files.status = status
    async with UpstreamClient(timeout=5) as upstream:
        http = bound_to(upstream, hosts)
        url = "go/x" if start == "api" else hosts.urls["files"] + "/go/x"
        with pytest.raises(UpstreamBadResponse, match="not followed"):
            await http.request(method, url, content=b"body")
        answered = await http.request(method, url, allow_error_status=(status,))
        assert answered.status == status and answered.headers["location"] == hosts.urls["other"] + "/landing"
    assert hosts.other.seen == []
    first = (hosts.api if start == "api" else hosts.files).seen
    assert len(first) == 2 and all(s.headers["authorization"] == f"Bearer {TOKEN}" for s in first)


async def test_origins_match_scheme_host_and_port_exactly() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    async with UpstreamClient(transport=httpx.MockTransport(handler)) as upstream:
        http = upstream.bind(
            base_url="https://api.example/v3/",
            provider="demo",
            headers={"Authorization": f"Bearer {TOKEN}"},
            origins=("https://files.example", "https://api.example/", "https://files.example:443"),
        )
        assert http.origins == ("https://api.example", "https://files.example")
        for url in ("https://files.example/a", "https://FILES.example:443/b", "https://api.example/c"):
            assert http.sends_credentials_to(url)
            await http.get(url)
        for url in (
            "http://files.example/a",
            "https://files.example:8443/a",
            "https://cdn.files.example/a",
            "https://files.example.evil/a",
            "https://user:pw@files.example/a",
            "//other.example/a",
        ):
            assert not http.sends_credentials_to(url)
            with pytest.raises(UpstreamBadResponse, match="refused to send"):
                await http.get(url)
    assert [str(r.url) for r in seen] == ["https://files.example/a", "https://files.example/b", "https://api.example/c"]
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in seen)


@pytest.mark.parametrize(
    "origin",
    [
        "http://files.example",  # a credential never travels in the clear
        "https://files.example/upload",
        "https://files.example/?x=1",
        "https://files.example/#top",
        "https://user:pw@files.example",
        "files.example",
        "ftp://files.example",
        "https://",
    ],
)
async def test_declared_origins_are_checked(origin: str) -> None:
    async with UpstreamClient(transport=httpx.MockTransport(lambda r: httpx.Response(200))) as upstream:
        with pytest.raises(ValueError, match="credential origin"):
            upstream.bind(base_url="https://api.example", provider="demo", origins=(origin,))


async def test_plain_http_origins_are_accepted_on_loopback_only() -> None:
    async with UpstreamClient(transport=httpx.MockTransport(lambda r: httpx.Response(200))) as upstream:
        http = upstream.bind(
            base_url="https://api.example",
            provider="demo",
            origins=("http://127.0.0.1:8080", "http://localhost:9000", "http://[::1]:9001"),
        )
        assert http.origins[1:] == ("http://127.0.0.1:8080", "http://localhost:9000", "http://[::1]:9001")


# -- connectors: base URL from the credential, declared origins through the hooks --------------------------


class AtlasConfig(ConnectorSettings):
    site: str = "https://acme.atlassian.example"
    media: str | None = None


class AtlasConnector(Connector):
    """Like Jira: OAuth tokens call the gateway with the credential's cloud id, classic tokens the site."""

    info = ConnectorInfo(id="atlas", title="Atlas", description="A fake Atlassian-style service.")
    auth = (
        OAuth2(authorize_url="https://auth.atlassian.example/authorize", token_url="https://auth.atlassian.example/t"),
        BasicAuth(),
    )
    Config = AtlasConfig
    extra_origins = ("https://uploads.atlassian.example",)

    @classmethod
    def api_base_url(cls, config: BaseModel, credential: Credential | None) -> str:
        assert isinstance(config, AtlasConfig)
        if credential is not None and credential.kind == "oauth2":
            return f"https://api.atlassian.example/ex/jira/{credential.extra['cloud_id']}"
        return config.site

    @classmethod
    def credential_origins(cls, config: BaseModel, credential: Credential | None) -> tuple[str, ...]:
        media = getattr(config, "media", None)
        return (*cls.extra_origins, *([media] if media else []))

    @tool(read_only=True, group="read")
    async def myself(self, ctx: ToolContext) -> dict[str, Any]:
        """Who the credential acts as, from the API."""
        return dict((await ctx.http.get("rest/api/3/myself")).json())

    @tool(read_only=True, group="read")
    async def fetch(self, ctx: ToolContext, url: str) -> dict[str, Any]:
        """GET an absolute URL with ctx.http (tests where the credential goes)."""
        return dict((await ctx.http.get(url)).json())


OAUTH = Credential(
    tenant_id="t", provider="atlas", kind="oauth2", access_token="oauth-token-1", extra={"cloud_id": "c-111"}
)
CLASSIC = Credential(tenant_id="t", provider="atlas", kind="basic", access_token="api-token-2", account="ann@x")


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"host": request.url.host})


async def test_the_base_url_follows_the_credential() -> None:
    oauth = await call_tool(AtlasConnector, "myself", handler=ok, credential=OAUTH)
    classic = await call_tool(AtlasConnector, "myself", handler=ok, credential=CLASSIC)
    assert str(oauth.request.url) == "https://api.atlassian.example/ex/jira/c-111/rest/api/3/myself"
    assert oauth.request.headers["authorization"] == "Bearer oauth-token-1"
    assert str(classic.request.url) == "https://acme.atlassian.example/rest/api/3/myself"
    assert classic.request.headers["authorization"].startswith("Basic ")


async def test_declared_and_computed_origins_receive_the_credential_others_do_not() -> None:
    config = {"media": "https://media.atlassian.example"}
    for url in ("https://uploads.atlassian.example/a", "https://media.atlassian.example/b"):
        call = await call_tool(AtlasConnector, "fetch", {"url": url}, handler=ok, credential=OAUTH, config=config)
        assert not call.is_error, call.text
        assert str(call.request.url) == url and call.request.headers["authorization"] == "Bearer oauth-token-1"
    refused = await call_tool(
        AtlasConnector, "fetch", {"url": "https://media.atlassian.example/b"}, handler=ok, credential=OAUTH
    )
    assert refused.is_error and "refused to send" in refused.text and refused.requests == []
    stray = await call_tool(AtlasConnector, "fetch", {"url": "https://evil.example/x"}, handler=ok, credential=OAUTH)
    assert stray.is_error and stray.requests == []
    assert "oauth-token-1" not in stray.text


async def test_bind_upstream_passes_configuration_and_credential_to_both_hooks() -> None:
    async with UpstreamClient(transport=httpx.MockTransport(ok)) as upstream:
        config = AtlasConnector.parse_config({"media": "https://media.atlassian.example"})
        http = bind_upstream(upstream, AtlasConnector, AtlasConnector(), config, OAUTH)
        assert http.base_url == "https://api.atlassian.example/ex/jira/c-111"
        assert http.origins == (
            "https://api.atlassian.example",
            "https://uploads.atlassian.example",
            "https://media.atlassian.example",
        )
        assert bind_upstream(upstream, AtlasConnector, AtlasConnector(), config, None).base_url == (
            "https://acme.atlassian.example"
        )


async def test_the_adapter_binds_each_credential_to_its_own_base_url() -> None:
    """Two tenants, two kinds of credential, two hosts; a replaced credential moves to its new host."""
    store = MemoryStore()
    keys: dict[str, str] = {}
    tenants: dict[str, Tenant] = {}
    for slug, credential in (("acme", OAUTH), ("globex", CLASSIC)):
        tenant = store.add_tenant(Tenant(slug=slug, name=slug))
        tenants[slug] = tenant
        store.add_connector(ConnectorConfig(tenant_id=tenant.id, connector_type="atlas", name="atlas"))
        store.put_credential(credential.model_copy(update={"tenant_id": tenant.id}))
        keys[slug], _ = store.create_api_key(tenant.id, name="mcp")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return ok(request)

    upstream = UpstreamClient(transport=httpx.MockTransport(handler))
    app = create_mcp_app(store, ConnectorRegistry([AtlasConnector]), upstream=upstream, settings=McpSettings())

    async def call(client: httpx.AsyncClient, slug: str) -> dict[str, Any]:
        response = await client.post(
            f"/{slug}/connectors/atlas/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "atlas_myself"}},
            headers={
                "Authorization": f"Bearer {keys[slug]}",
                "Accept": "application/json, text/event-stream",
                "MCP-Protocol-Version": "2025-11-25",
            },
        )
        result: dict[str, Any] = response.json()["result"]
        assert not result.get("isError"), result
        return dict(result["structuredContent"])

    async with serve(app) as base, httpx.AsyncClient(base_url=base) as client:
        assert await call(client, "acme") == {"host": "api.atlassian.example"}
        assert await call(client, "globex") == {"host": "acme.atlassian.example"}
        assert await call(client, "acme") == {"host": "api.atlassian.example"}  # the cached client
        store.put_credential(CLASSIC.model_copy(update={"tenant_id": tenants["acme"].id}))
        app.resolver.invalidate()
        assert await call(client, "acme") == {"host": "acme.atlassian.example"}
    await upstream.aclose()
    assert [(r.url.host, r.headers["authorization"].split()[0]) for r in seen] == [
        ("api.atlassian.example", "Bearer"),
        ("acme.atlassian.example", "Basic"),
        ("api.atlassian.example", "Bearer"),
        ("acme.atlassian.example", "Basic"),
    ]
