"""Tool-call limits as the server applies them: tenant settings through the admin API, refusals seen by an MCP
client, upstream back-offs, the Redis backend and what happens when Redis is down.

The Redis tests need a Redis (`SAGEMCP_TEST_REDIS_URL`, default redis://127.0.0.1:6379; each test writes under a
key prefix of its own) and skip with the reason without one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import httpx2
import pytest
from conftest import ADMIN_KEY
from helpers import FakeProvider, TokenOnlyConnector
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from redis.asyncio import Redis

from sagemcp import Credential
from sagemcp.platform import ConnectorRegistry
from sagemcp.testing import serve
from sagemcp_server.app import create_app
from sagemcp_server.settings import Settings

REDIS_URL = os.environ.get("SAGEMCP_TEST_REDIS_URL", "redis://127.0.0.1:6379")


class Upstream(httpx.AsyncBaseTransport):
    """The fake provider, answering 429 with `Retry-After` while `limited` is set; counts the requests it got."""

    def __init__(self, provider: FakeProvider) -> None:
        self.inner = httpx.ASGITransport(app=provider.app())
        self.limited: str | None = None
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.limited is not None:
            return httpx.Response(
                429, headers={"Retry-After": self.limited}, json={"message": "API rate limit exceeded"}
            )
        return await self.inner.handle_async_request(request)


class Running:
    def __init__(self, app: Any, base: str, upstream: Upstream) -> None:
        self.app = app
        self.base = base
        self.upstream = upstream
        self.admin = httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=10)

    @property
    def services(self) -> Any:
        return self.app.state.services

    async def tenant(self, slug: str, **body: Any) -> dict[str, Any]:
        r = await self.admin.post("/api/v1/admin/tenants", json={"slug": slug, **body})
        assert r.status_code == 201, r.text
        tenant: dict[str, Any] = r.json()
        await self.admin.post(
            f"/api/v1/admin/tenants/{slug}/connectors", json={"connector_type": "tokenonly", "name": "tokenonly"}
        )
        await self.services.store.put_credential(
            Credential(tenant_id=tenant["id"], provider="tokenonly", kind="bearer", access_token="pat-" + slug)
        )
        return tenant

    async def key(self, slug: str) -> str:
        r = await self.admin.post(f"/api/v1/admin/tenants/{slug}/api-keys", json={"scopes": ["mcp"], "name": "k"})
        assert r.status_code == 201, r.text
        return str(r.json()["key"])

    def client(self, slug: str, key: str) -> Client:
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=httpx2.Timeout(10.0))
        return Client(streamable_http_client(f"{self.base}/api/v1/{slug}/mcp", http_client=http))


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Running]:
    provider = FakeProvider()
    upstream = Upstream(provider)
    app = create_app(
        settings,
        registry=ConnectorRegistry([TokenOnlyConnector]),
        oauth_transport=upstream,
        upstream_transport=upstream,
    )
    async with serve(app) as base:
        srv = Running(app, base, upstream)
        async with srv.admin:
            yield srv


def text_of(result: Any) -> str:
    return " ".join(getattr(part, "text", "") for part in result.content)


async def metric(srv: Running, line_start: str) -> str:
    text = (await srv.admin.get("/metrics")).text
    return next((line for line in text.splitlines() if line.startswith(line_start)), "")


# -- the admin API ---------------------------------------------------------------------------


async def test_limits_are_tenant_settings_validated_and_changed_only_by_the_platform_admin(
    settings: Settings,
) -> None:
    settings = settings.model_copy(update={"calls_per_minute": 600, "concurrent_calls": 20})
    async with running(settings) as srv:
        created = await srv.tenant("acme", limits={"credential_calls_per_minute": 50})
        assert created["limits"] == {
            "calls_per_minute": None,
            "concurrent_calls": None,
            "credential_calls_per_minute": 50,
        }
        assert created["effective_limits"] == {
            "calls_per_minute": 600,
            "concurrent_calls": 20,
            "credential_calls_per_minute": 50,
        }
        r = await srv.admin.patch("/api/v1/admin/tenants/acme", json={"limits": {"calls_per_minute": 30}})
        assert r.status_code == 200, r.text
        assert r.json()["limits"]["calls_per_minute"] == 30
        assert r.json()["limits"]["credential_calls_per_minute"] == 50  # fields not given stay
        r = await srv.admin.patch(
            "/api/v1/admin/tenants/acme", json={"limits": {"credential_calls_per_minute": None, "concurrent_calls": 0}}
        )
        assert r.json()["limits"] == {
            "calls_per_minute": 30,
            "concurrent_calls": 0,
            "credential_calls_per_minute": None,
        }
        assert r.json()["effective_limits"]["concurrent_calls"] == 0  # 0: no limit, whatever the default
        assert (await srv.admin.get("/api/v1/admin/tenants/acme")).json()["limits"]["calls_per_minute"] == 30

        for bad in (
            {"calls_per_minute": -1},
            {"calls_per_minute": "many"},
            {"per_hour": 5},
            {"calls_per_minute": 10**7},
        ):
            r = await srv.admin.patch("/api/v1/admin/tenants/acme", json={"limits": bad})
            assert r.status_code == 422, (bad, r.text)
            assert "limits" in r.text
        tenant_key = await srv.key("acme")
        r = await srv.admin.patch(
            "/api/v1/admin/tenants/acme",
            json={"limits": {"calls_per_minute": 0}},
            headers={"Authorization": f"Bearer {tenant_key}"},
        )
        assert r.status_code in (401, 403), r.text  # a tenant cannot lift its own limits
        assert (await srv.admin.get("/api/v1/admin/tenants/acme")).json()["limits"]["calls_per_minute"] == 30


# -- refusals seen by an MCP client ----------------------------------------------------------


async def test_a_tenant_over_its_rate_gets_tool_errors_with_the_wait_and_a_metric(settings: Settings) -> None:
    async with running(settings) as srv:
        await srv.tenant("acme", limits={"calls_per_minute": 2})
        await srv.tenant("globex")
        acme, globex = await srv.key("acme"), await srv.key("globex")
        async with srv.client("acme", acme) as client:
            for _ in range(2):
                result = await client.call_tool("tokenonly_whoami", {})
                assert not result.is_error and result.structured_content == {"login": "token-user"}
            sent = srv.upstream.requests
            refused = await client.call_tool("tokenonly_whoami", {})
            assert refused.is_error
            assert "calls_per_minute = 2" in text_of(refused) and "Retry in" in text_of(refused)
            assert srv.upstream.requests == sent  # the tool did not run
            assert (await client.list_tools()).tools  # the session still works
        async with srv.client("globex", globex) as client:  # another tenant is not affected
            assert not (await client.call_tool("tokenonly_whoami", {})).is_error
        assert await metric(srv, 'sagemcp_tool_call_refusals_total{limit="calls_per_minute"}') == (
            'sagemcp_tool_call_refusals_total{limit="calls_per_minute"} 1.0'
        )
        assert 'outcome="limited"' in (await srv.admin.get("/metrics")).text
        await asyncio.sleep(0.2)  # the audit buffer flushes
        audit = (await srv.admin.get("/api/v1/admin/tenants/acme/audit", params={"outcome": "limited"})).json()
        assert [e["error_code"] for e in audit["items"]] == ["call_limit_reached"]


async def test_an_upstream_rate_limit_holds_the_credential_back_without_calling_upstream(settings: Settings) -> None:
    async with running(settings) as srv:
        await srv.tenant("acme")
        key = await srv.key("acme")
        async with srv.client("acme", key) as client:
            srv.upstream.limited = "90"
            first = await client.call_tool("tokenonly_whoami", {})
            assert first.is_error and "429" in text_of(first)
            srv.upstream.limited = None
            sent = srv.upstream.requests
            held = await client.call_tool("tokenonly_whoami", {})
            assert held.is_error
            assert "upstream_backoff" in text_of(held) and "Retry in 90 s" in text_of(held)
            assert srv.upstream.requests == sent


# -- Redis -----------------------------------------------------------------------------------


async def _redis_or_skip() -> Redis:
    redis = Redis.from_url(REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        await redis.ping()  # type: ignore[misc]
    except Exception as exc:
        await redis.aclose()
        pytest.skip(f"no Redis at SAGEMCP_TEST_REDIS_URL={REDIS_URL} ({type(exc).__name__})")
    return redis


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    redis = await _redis_or_skip()
    prefix = f"test-{secrets.token_hex(6)}:"
    try:
        yield prefix
    finally:
        keys = [k async for k in redis.scan_iter(match=prefix + "*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_two_processes_on_one_redis_share_the_tenants_limits(settings: Settings, redis_prefix: str) -> None:
    shared = Settings.model_validate(
        {**settings.model_dump(), "redis_url": REDIS_URL, "redis_key_prefix": redis_prefix}
    )
    async with running(shared) as one:
        await one.tenant("acme", limits={"calls_per_minute": 3})
        key = await one.key("acme")
        other_app = create_app(
            shared,
            registry=ConnectorRegistry([TokenOnlyConnector]),
            upstream_transport=one.upstream,
            oauth_transport=one.upstream,
        )
        async with serve(other_app) as other_base:
            other = Running(other_app, other_base, one.upstream)
            outcomes = []
            for srv in (one, other, one, other):
                async with srv.client("acme", key) as client:
                    outcomes.append((await client.call_tool("tokenonly_whoami", {})).is_error)
            assert outcomes == [False, False, False, True]  # three in total, on whichever process
            assert (await other.admin.get("/readyz")).json()["call_limits"] == "shared"
            await other.admin.aclose()
    redis = Redis.from_url(REDIS_URL)
    keys = {k.decode() async for k in redis.scan_iter(match=redis_prefix + "limits:*")}
    await redis.aclose()
    assert keys and all(k.startswith(redis_prefix + "limits:{") for k in keys)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once the socket is closed


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_with_redis_down_each_process_enforces_the_limits_and_readiness_says_so(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    down = Settings.model_validate({**settings.model_dump(), "redis_url": f"redis://127.0.0.1:{_closed_port()}"})
    caplog.set_level(logging.WARNING, "sagemcp.limits")
    async with running(down) as srv:
        await srv.tenant("acme", limits={"calls_per_minute": 2})
        key = await srv.key("acme")
        async with srv.client("acme", key) as client:
            results = [(await client.call_tool("tokenonly_whoami", {})).is_error for _ in range(4)]
        assert results == [False, False, True, True]  # still limited, by this process alone
        ready = await srv.admin.get("/readyz")
        assert ready.status_code == 200  # serving goes on without Redis
        assert ready.json()["call_limits"].startswith("degraded")
        assert ready.json()["redis"].startswith("unreachable")
        assert await metric(srv, "sagemcp_call_limits_degraded ") == "sagemcp_call_limits_degraded 1.0"
    warnings = [r for r in caplog.records if "shared limiter is unavailable" in r.getMessage()]
    assert len(warnings) == 1  # logged once, not per call
    assert "127.0.0.1" not in warnings[0].getMessage()
