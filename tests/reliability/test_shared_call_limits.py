"""Three reference-server processes on one PostgreSQL and one Redis: a tenant's tool-call limits are enforced on
all of them together, and a back-off an upstream asked of one replica is honoured by the others.

Runs when `SAGEMCP_TEST_POSTGRES_URL` is set, a Redis answers at `SAGEMCP_TEST_REDIS_URL` (default
redis://127.0.0.1:6379; every run writes under a key prefix of its own) and `sagemcp_server` is importable;
skipped, with the reason, otherwise.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
import pytest
import pytest_asyncio

from sagemcp import Credential
from sagemcp.platform import ConnectorConfig

from . import _clients as c
from ._cluster import PgCluster, server_available
from ._fake_upstream import FakeUpstream, behave
from ._support import LEDGER, new_secret

pytestmark = [pytest.mark.postgres, pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

REPLICAS = 3
TTL = 1.0
REDIS_URL = os.environ.get("SAGEMCP_TEST_REDIS_URL", "redis://127.0.0.1:6379")


def _redis_unreachable() -> str | None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()
    except Exception as exc:
        return f"Redis does not answer at {REDIS_URL} ({type(exc).__name__}); set SAGEMCP_TEST_REDIS_URL"
    return None


_why_not = server_available() or _redis_unreachable()
if _why_not:
    pytestmark.append(pytest.mark.skip(reason=_why_not))


@dataclass
class Rig:
    cluster: PgCluster
    fake: FakeUpstream
    http: httpx.AsyncClient
    prefix: str
    keys: dict[str, str] = field(default_factory=dict)
    tenant_ids: dict[str, str] = field(default_factory=dict)

    async def tenant(self, slug: str) -> None:
        """A tenant with the probe connector on the fake upstream, a bearer credential and an API key."""
        store = self.cluster.store
        tenant = (await store.create_tenant(slug)).item
        await store.add_connector(
            ConnectorConfig(
                tenant_id=tenant.id, connector_type="probe", name="probe", configuration={"upstream": self.fake.url}
            )
        )
        await store.put_credential(
            Credential(tenant_id=tenant.id, provider="probe", kind="bearer", access_token=new_secret("pat"))
        )
        raw, _ = await store.create_api_key(tenant.id)
        self.keys[slug], self.tenant_ids[slug] = LEDGER.secret(raw), tenant.id

    async def call(self, replica: int, path: str = "whoami", tenant: str = "acme") -> c.Reply:
        base = self.cluster.replicas[replica].base
        args = {"path": path}
        return await c.call_modern(
            self.http,
            f"{base}/api/v1/{tenant}/connectors/probe/mcp",
            self.keys[tenant],
            "tools/call",
            {"name": "probe_fetch", "arguments": args},
        )

    async def limits(self, **limits: int | None) -> None:
        """Set acme's limits through one replica's admin API; every replica serves them after the TTL."""
        r = await self.http.patch(
            self.cluster.replicas[0].base + "/api/v1/admin/tenants/acme",
            json={"limits": limits},
            headers={"Authorization": f"Bearer {self.cluster.admin_key}"},
        )
        assert r.status_code == 200, r.text
        await anyio.sleep(TTL + 0.3)


def text_of(reply: c.Reply) -> str:
    return " ".join(part.get("text", "") for part in (reply.result or {}).get("content", []))


def refused(reply: c.Reply) -> bool:
    assert reply.status == 200 and reply.result is not None, reply.text[:300]  # never a JSON-RPC error
    return bool(reply.result.get("isError"))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rig(postgres_url: str) -> AsyncIterator[Rig]:
    prefix = f"test-{secrets.token_hex(4)}:"
    async with FakeUpstream() as fake:
        cluster = PgCluster(postgres_url, token_url=fake.url + "token")
        await cluster.setup()
        try:
            async with httpx.AsyncClient(timeout=60) as http:
                rig = Rig(cluster, fake, http, prefix)
                # Back-offs belong to a stored credential: each upstream test has a tenant (and credential) of its own.
                for slug in ("acme", "beta", "gamma"):
                    await rig.tenant(slug)
                cluster.start(
                    REPLICAS, SAGEMCP_REDIS_URL=REDIS_URL, SAGEMCP_REDIS_KEY_PREFIX=prefix, SAGEMCP_CALL_SLOT_LEASE="6"
                )
                await cluster.wait_ready()
                yield rig
        finally:
            await cluster.teardown()
            import redis.asyncio as aredis

            client = aredis.Redis.from_url(REDIS_URL)
            keys = [k async for k in client.scan_iter(match=prefix + "*")]
            if keys:
                await client.delete(*keys)
            await client.aclose()


async def test_every_replica_reports_the_limits_as_shared(rig: Rig) -> None:
    for replica in rig.cluster.replicas:
        ready = (await rig.http.get(replica.base + "/readyz")).json()
        assert ready["call_limits"] == "shared" and ready["redis"] == "ok", ready


async def test_a_tenants_rate_is_counted_across_replicas(rig: Rig) -> None:
    await rig.limits(calls_per_minute=7)
    before = len(rig.fake.seen)
    replies = [await rig.call(i % REPLICAS, f"item/{i}") for i in range(12)]
    outcomes = [refused(r) for r in replies]
    # Each replica alone would admit 7; together they admit 7 in all, whichever replica got the call.
    assert outcomes == [False] * 7 + [True] * 5, [text_of(r)[:120] for r in replies]
    assert {i % REPLICAS for i, r in enumerate(outcomes) if r} == {0, 1, 2}
    assert len(rig.fake.seen) - before == 7  # refused calls never reached the upstream
    text = text_of(replies[-1])
    assert "calls_per_minute = 7" in text and "Retry in" in text
    wait = int(text.split("Retry in ")[1].split(" s")[0])
    assert 1 <= wait <= 60
    await rig.limits(calls_per_minute=None)


async def test_concurrent_calls_are_counted_across_replicas(rig: Rig) -> None:
    await rig.limits(concurrent_calls=2)
    rig.fake.on("GET /slow", behave.delayed(2.0, behave.identity()))
    slow: list[c.Reply] = []

    async def hold(replica: int) -> None:
        slow.append(await rig.call(replica, "slow"))

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(hold, 0)
            tg.start_soon(hold, 1)
            with anyio.fail_after(10):
                while rig.fake.count("GET", "/slow") < 2:
                    await anyio.sleep(0.02)
            third = await rig.call(2)
            assert refused(third) and "concurrent_calls = 2" in text_of(third), text_of(third)
    finally:
        rig.fake.script.pop("GET /slow", None)
    assert [refused(r) for r in slow] == [False, False]  # the slow calls were admitted and answered
    assert not refused(await rig.call(2))
    await rig.limits(concurrent_calls=None)


async def test_an_upstream_back_off_learned_on_one_replica_holds_every_replica_back(rig: Rig) -> None:
    rig.fake.on("GET /limited", behave.json(429, {"message": "slow down"}, {"Retry-After": "45"}))
    first = await rig.call(0, "limited", tenant="beta")
    assert refused(first) and "429" in text_of(first)
    before = len(rig.fake.seen)
    for replica in (1, 2, 0):
        held = await rig.call(replica, tenant="beta")
        assert refused(held), text_of(held)
        assert "upstream_backoff" in text_of(held) and "Retry in" in text_of(held)
        assert 40 <= int(text_of(held).split("Retry in ")[1].split(" s")[0]) <= 45
    assert len(rig.fake.seen) == before  # no replica asked the upstream again


async def test_a_github_style_reset_is_honoured_until_the_reset_time(rig: Rig) -> None:
    """403 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset` (GitHub's primary limit): wait until the reset."""
    reset = int(time.time()) + 40  # beyond the upstream client's own retry deadline (30 s)
    headers = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}
    rig.fake.on("GET /github", behave.json(403, {"message": "API rate limit exceeded"}, headers))
    assert refused(await rig.call(1, "github", tenant="gamma"))
    before = len(rig.fake.seen)
    held = await rig.call(2, tenant="gamma")
    assert refused(held) and "upstream_backoff" in text_of(held), text_of(held)
    assert 34 <= int(text_of(held).split("Retry in ")[1].split(" s")[0]) <= 41
    assert len(rig.fake.seen) == before
    assert not refused(await rig.call(2, tenant="acme"))  # other tenants' credentials are not held back


async def test_limits_keys_live_under_the_deployments_prefix_and_expire(rig: Rig) -> None:
    import redis.asyncio as aredis

    client = aredis.Redis.from_url(REDIS_URL)
    try:
        keys = [k.decode() async for k in client.scan_iter(match=rig.prefix + "limits:*")]
        tagged = {"{" + tenant_id + "}" for tenant_id in rig.tenant_ids.values()}
        assert keys and all(k.split(":")[2] in tagged for k in keys), keys  # prefix, "limits", {tenant id}
        ttls: list[Any] = [await client.pttl(k) for k in keys]
        assert all(ttl > 0 for ttl in ttls), dict(zip(keys, ttls, strict=True))  # nothing stays forever
    finally:
        await client.aclose()


async def test_redis_cut_away_and_back(postgres_url: str) -> None:
    """Two replicas reach Redis through a relay that is cut: each then enforces the limit on its own, says so in
    `/readyz` and keeps serving; once Redis is back the shared counts apply again."""
    from redis.asyncio import Redis

    from ._cluster import TcpProxy

    target = Redis.from_url(REDIS_URL).connection_pool.connection_kwargs
    relay = TcpProxy(str(target.get("host", "127.0.0.1")), int(target.get("port", 6379)))
    await relay.start()
    prefix = f"test-{secrets.token_hex(4)}:"
    async with FakeUpstream() as fake:
        cluster = PgCluster(postgres_url, token_url=fake.url + "token")
        await cluster.setup()
        try:
            async with httpx.AsyncClient(timeout=60) as http:
                rig = Rig(cluster, fake, http, prefix)
                await rig.tenant("acme")
                cluster.start(
                    2,
                    SAGEMCP_REDIS_URL=f"redis://127.0.0.1:{relay.port}/{target.get('db', 0)}",
                    SAGEMCP_REDIS_KEY_PREFIX=prefix,
                )
                await cluster.wait_ready()
                await rig.limits(calls_per_minute=4)

                async def outcomes(*replicas: int) -> list[bool]:
                    return [refused(await rig.call(r)) for r in replicas]

                async def state(replica: int) -> str:
                    ready = await http.get(cluster.replicas[replica].base + "/readyz")
                    assert ready.status_code == 200, ready.text  # ready throughout: Redis is not required
                    return str(ready.json()["call_limits"])

                assert await outcomes(0, 1, 0, 1, 0) == [False, False, False, False, True]  # 4 in all
                await relay.cut()
                # Each replica now counts on its own, from zero: 4 more on each, then refusals.
                assert await outcomes(0, 0, 0, 0, 0) == [False, False, False, False, True]
                assert await outcomes(1, 1, 1, 1, 1) == [False, False, False, False, True]
                assert (await state(0)).startswith("degraded") and (await state(1)).startswith("degraded")
                await relay.restore()
                await anyio.sleep(5.5)  # the guard tries Redis again 5 s after it failed
                # The shared window still holds the 4 calls made before the cut: refused on both, from Redis.
                assert await outcomes(0, 1) == [True, True]
                assert await state(0) == "shared" and await state(1) == "shared"
            warned = [
                line
                for replica in cluster.replicas
                for line in replica.log.read_text(errors="replace").splitlines()
                if "shared limiter is unavailable" in line
            ]
            assert len(warned) == 2, warned  # once per replica, not once per call
            assert all("back after" in replica.log.read_text() for replica in cluster.replicas)
        finally:
            await cluster.teardown()
            await relay.close()
            client = Redis.from_url(REDIS_URL)
            keys = [k async for k in client.scan_iter(match=prefix + "*")]
            if keys:
                await client.delete(*keys)
            await client.aclose()
