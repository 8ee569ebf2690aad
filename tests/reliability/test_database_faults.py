"""Database faults: PostgreSQL "restarted" under load (a TCP relay between the replicas and the database
resets every connection and refuses new ones for a few seconds), and credential writes cut at random
moments. The replicas answer clear 503s (or a tool result saying the database is unavailable), never a
500, recover without a restart, and a credential row is always one whole generation, never a mix.

Needs `SAGEMCP_TEST_POSTGRES_URL` and an importable `sagemcp_server`.
"""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import anyio
import httpx
import pytest
import pytest_asyncio

from sagemcp import Credential
from sagemcp.platform import ConnectorConfig, SecretBox

from . import _clients as c
from ._cluster import PgCluster, server_available
from ._fake_upstream import FakeUpstream
from ._support import LEDGER, new_secret

pytestmark = [pytest.mark.postgres, pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

_why_not = server_available()
if _why_not:
    pytestmark.append(pytest.mark.skip(reason=_why_not))

DB_TIMEOUT = 2.0
TENANTS = 4


@dataclass
class Rig:
    cluster: PgCluster
    http: httpx.AsyncClient
    keys: list[str]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rig(postgres_url: str) -> AsyncIterator[Rig]:
    async with FakeUpstream() as fake:
        cluster = PgCluster(postgres_url, token_url=fake.url + "token")
        await cluster.setup(through_proxy=True)
        try:
            store = cluster.store
            keys = []
            for i in range(TENANTS):
                tenant = (await store.create_tenant(f"t{i}")).item
                await store.add_connector(
                    ConnectorConfig(
                        tenant_id=tenant.id, connector_type="probe", name="probe", configuration={"upstream": fake.url}
                    )
                )
                await store.put_credential(
                    Credential(tenant_id=tenant.id, provider="probe", kind="bearer", access_token=new_secret("at"))
                )
                raw, _ = await store.create_api_key(tenant.id)
                keys.append(LEDGER.secret(raw))
            cluster.start(2, SAGEMCP_DB_TIMEOUT=str(DB_TIMEOUT))
            await cluster.wait_ready()
            async with httpx.AsyncClient(timeout=30) as http:
                yield Rig(cluster, http, keys)
        finally:
            await cluster.teardown()


@dataclass
class Outcome:
    at: float
    seconds: float
    status: int
    ok: bool
    text: str


async def test_a_database_restart_under_load_gives_503s_and_the_server_recovers(rig: Rig) -> None:
    proxy = rig.cluster.proxy
    assert proxy is not None
    pids = [r.proc.pid for r in rig.cluster.replicas]
    outcomes: list[Outcome] = []
    started = time.monotonic()
    cut_at, restore_at, stop_at = started + 2.0, started + 6.0, started + 14.0
    ready_during: list[int] = []

    async def worker(i: int) -> None:
        replica = rig.cluster.replicas[i % len(rig.cluster.replicas)]
        key = rig.keys[i % TENANTS]
        path = f"/api/v1/t{i % TENANTS}/connectors/probe/mcp"
        while time.monotonic() < stop_at:
            t0 = time.monotonic()
            try:
                reply = await c.call_modern(
                    rig.http, replica.base + path, key, "tools/call", {"name": "probe_whoami", "arguments": {}}
                )
                status, text = reply.status, reply.text
                ok = status == 200 and reply.result is not None and not reply.result.get("isError")
            except httpx.HTTPError as exc:
                status, text, ok = 0, repr(exc), False
            outcomes.append(Outcome(t0 - started, time.monotonic() - t0, status, ok, text[:300]))
            await anyio.sleep(0.02)

    async def chaos() -> None:
        await anyio.sleep(cut_at - time.monotonic())
        await proxy.cut()
        await anyio.sleep(2.0)
        async with httpx.AsyncClient(timeout=10) as http:
            ready_during.append((await http.get(rig.cluster.replicas[0].base + "/readyz")).status_code)
        await anyio.sleep(restore_at - time.monotonic())
        await proxy.restore()

    async with anyio.create_task_group() as tg:
        tg.start_soon(chaos)
        for i in range(8):
            tg.start_soon(worker, i)

    timeline: dict[int, dict[str, int]] = {}
    for o in outcomes:
        bucket = timeline.setdefault(int(o.at), {})
        label = "ok" if o.ok else f"{o.status}:{o.text[60:110]}"
        bucket[label] = bucket.get(label, 0) + 1
    before = [o for o in outcomes if o.at < cut_at - started - 0.1]
    during = [o for o in outcomes if cut_at - started <= o.at < restore_at - started]
    after = [o for o in outcomes if o.at >= restore_at - started]
    assert before and all(o.ok for o in before), [o.text for o in before if not o.ok][:3]
    assert all(o.status in (200, 503) for o in outcomes), {
        o.status: o.text for o in outcomes if o.status not in (200, 503)
    }
    unavailable = [o for o in during if o.status == 503]
    assert unavailable, "the outage was never noticed (every answer came from caches?)"
    for o in during:
        if not o.ok:
            assert o.status == 503 or "unavailable" in o.text or "database" in o.text, o.text
        assert o.seconds < DB_TIMEOUT * 2 + 2, f"a request hung {o.seconds:.1f} s during the outage"
    for o in unavailable:
        assert '"error"' in o.text and "Reference:" in o.text, o.text  # a JSON-RPC error with a request id
    assert ready_during == [503]
    # Recovery without a restart: the same processes, and the last 3 s all succeed.
    recovered = [o for o in after if o.at >= stop_at - started - 3.0]
    assert recovered and all(o.ok for o in recovered), ("not recovered; answers per second:", timeline)
    assert [r.proc.pid for r in rig.cluster.replicas] == pids and all(
        r.proc.poll() is None for r in rig.cluster.replicas
    )
    first_ok = min((o.at for o in after if o.ok), default=None)
    assert first_ok is not None and first_ok - (restore_at - started) < 8.0
    async with httpx.AsyncClient(timeout=10) as http:
        assert (await http.get(rig.cluster.replicas[1].base + "/readyz")).status_code == 200


async def test_a_credential_write_is_all_or_nothing(rig: Rig) -> None:
    """Writes through the relay while it is cut at random moments: after every attempt, the stored credential
    is one complete generation (access token, refresh token, expiry, scopes, account), never a mix."""
    from sagemcp_server.db import SqlStore, create_engine

    proxy = rig.cluster.proxy
    assert proxy is not None
    direct = rig.cluster.store
    tenant = (await direct.create_tenant("atomic")).item
    through = SqlStore(
        create_engine(rig.cluster.replica_url(), schema=rig.cluster.schema, timeout=1.0),
        SecretBox([rig.cluster.secret_key]),
    )
    generations: dict[str, int] = {}

    def generation(g: int) -> Credential:
        access, refresh = new_secret("at"), new_secret("rt")
        generations[access] = generations[refresh] = g
        return Credential(
            tenant_id=tenant.id,
            provider="probe",
            kind="oauth2",
            access_token=access,
            refresh_token=refresh,
            expires_at=2_000_000_000 + g,
            scopes=[f"g{g}"],
            account=f"g{g}",
        )

    await direct.put_credential(generation(0))
    failures = successes = 0
    last_version = 0
    rng = random.Random(7)

    async def chaos(stop: anyio.Event) -> None:
        while not stop.is_set():
            await anyio.sleep(rng.uniform(0.02, 0.15))
            await proxy.cut()
            await anyio.sleep(rng.uniform(0.01, 0.05))
            await proxy.restore()

    stop = anyio.Event()
    async with anyio.create_task_group() as tg:
        tg.start_soon(chaos, stop)
        for g in range(1, 121):
            new = generation(g)
            try:
                if g % 2:
                    await through.put_credential(new)
                else:  # the refresh path: row lock, then compare-and-swap on the held connection
                    async with through.lock_credential(tenant.id, "probe") as latest:
                        assert latest is not None
                        await through.swap_credential(
                            latest.version, new.model_copy(update={"version": latest.version + 1})
                        )
                successes += 1
            except Exception:
                failures += 1
            stored = await direct.get_credential(tenant.id, "probe")
            assert stored is not None
            gens = {
                generations[stored.access_token.get_secret_value()],
                generations[stored.refresh_token.get_secret_value()],
                int(stored.expires_at) - 2_000_000_000,
                int(stored.scopes[0][1:]),
                int(stored.account[1:]),
            }
            assert len(gens) == 1, f"a partial write: the row mixes generations {gens}"
            assert stored.version >= last_version
            last_version = stored.version
        stop.set()
    await through.close()
    assert successes > 10 and failures > 5, (successes, failures)  # both outcomes were exercised
