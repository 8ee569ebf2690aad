"""Three reference-server processes on one PostgreSQL: token refresh, rotation, refusal, revocation and
disconnection, then a secrets scan of the database dump, every replica's log and every response body.

Runs when `SAGEMCP_TEST_POSTGRES_URL` is set and `sagemcp_server` is importable; skipped, with the
reason, otherwise.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import pytest
import pytest_asyncio

from sagemcp import Credential, CredentialStatus
from sagemcp.platform import ConnectorConfig, OAuthApp

from . import _clients as c
from ._cluster import PgCluster, server_available
from ._fake_upstream import FakeUpstream, TokenEndpoint
from ._support import LEDGER, fingerprint, new_secret

pytestmark = [pytest.mark.postgres, pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

REPLICAS = 3
TTL = 1.0
SLACK = 1.5
PATH = "/api/v1/acme/connectors/probe/mcp"

_why_not = server_available()
if _why_not:
    pytestmark.append(pytest.mark.skip(reason=_why_not))


async def _scan_response(response: httpx.Response) -> None:
    await response.aread()
    LEDGER.scan(response.text, f"response:replica {response.request.method} {response.request.url.path}")
    LEDGER.scan(" ".join(f"{k}: {v}" for k, v in response.headers.items()), "response:replica (headers)")


@dataclass
class Rig:
    cluster: PgCluster
    fake: FakeUpstream
    endpoint: TokenEndpoint
    http: httpx.AsyncClient
    tenant_id: str
    key: str = ""
    key_id: str = ""

    async def call(self, replica: int, tool: str = "probe_fetch", args: dict[str, Any] | None = None) -> c.Reply:
        args = args if args is not None else {"path": f"whoami/{secrets.token_hex(6)}"}
        base = self.cluster.replicas[replica].base
        return await c.call_modern(self.http, base + PATH, self.key, "tools/call", {"name": tool, "arguments": args})

    async def admin(self, replica: int, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.cluster.admin_key}"}
        return await self.http.request(method, self.cluster.replicas[replica].base + path, headers=headers, **kw)

    async def reset(self, **endpoint: Any) -> None:
        """A new key and an expired OAuth credential with a fresh refresh token; caches age out first."""
        store = self.cluster.store
        refresh = new_secret("rt")
        await store.put_credential(
            Credential(
                tenant_id=self.tenant_id,
                provider="probe",
                kind="oauth2",
                access_token=new_secret("at"),
                refresh_token=refresh,
                expires_at=time.time() - 10,
                scopes=["read"],
            )
        )
        self.endpoint.__init__(current_refresh=refresh, new_secret=new_secret, **endpoint)  # type: ignore[misc]
        raw, record = await store.create_api_key(self.tenant_id)
        self.key, self.key_id = LEDGER.secret(raw), record.id
        self.fake.seen.clear()
        await anyio.sleep(TTL + 0.2)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rig(postgres_url: str) -> AsyncIterator[Rig]:
    async with FakeUpstream() as fake:
        cluster = PgCluster(postgres_url, token_url=fake.url + "token")
        await cluster.setup()
        try:
            store = cluster.store
            tenant = (await store.create_tenant("acme")).item
            await store.add_connector(
                ConnectorConfig(
                    tenant_id=tenant.id, connector_type="probe", name="probe", configuration={"upstream": fake.url}
                )
            )
            await store.put_oauth_app(
                OAuthApp(tenant_id=tenant.id, provider="probe", client_id="client-1", client_secret=new_secret("cs"))
            )
            endpoint = TokenEndpoint(current_refresh="", new_secret=new_secret)
            fake.on("POST /token", endpoint.behaviour())
            cluster.start(REPLICAS)
            await cluster.wait_ready()
            hooks = {"response": [_scan_response]}
            async with httpx.AsyncClient(
                timeout=60, limits=httpx.Limits(max_connections=200), event_hooks=hooks
            ) as http:
                yield Rig(cluster, fake, endpoint, http, tenant.id)
        finally:
            await cluster.teardown()


def text_of(reply: c.Reply) -> str:
    return " ".join(part.get("text", "") for part in (reply.result or {}).get("content", []))


async def test_100_concurrent_calls_on_3_processes_cause_one_refresh(rig: Rig) -> None:
    await rig.reset(delay=0.5)
    replies: list[c.Reply] = []

    async def one(i: int) -> None:
        replies.append(await rig.call(i % REPLICAS))

    async with anyio.create_task_group() as tg:
        for i in range(100):
            tg.start_soon(one, i)
    assert rig.endpoint.refreshes == 1, f"{rig.endpoint.refreshes} refreshes for one expiry across {REPLICAS} processes"
    assert rig.endpoint.reused == []
    failed = [r.text[:200] for r in replies if r.status != 200 or r.result.get("isError")]
    assert failed == []
    fresh = fingerprint(rig.endpoint.issued_access[0])
    assert {r.result["structuredContent"]["upstream"]["fp"] for r in replies} == {fresh}
    stored = await rig.cluster.store.get_credential(rig.tenant_id, "probe")
    assert stored.refresh_token.get_secret_value() == rig.endpoint.current_refresh
    assert stored.status == CredentialStatus.ACTIVE


async def test_a_rotating_refresh_token_is_never_lost_across_processes(rig: Rig) -> None:
    """Tokens live 62 s and the server refreshes 60 s before expiry: a refresh is due every 2 s. For 8 s,
    12 workers call all three processes; every refresh must present the newest refresh token."""
    await rig.reset(expires_in=62)
    failures: list[str] = []
    stop = time.monotonic() + 8

    async def worker(i: int) -> None:
        while time.monotonic() < stop:
            reply = await rig.call(i % REPLICAS)
            if reply.status != 200 or reply.result.get("isError"):
                failures.append(reply.text[:300])
            await anyio.sleep(0.05)

    async with anyio.create_task_group() as tg:
        for i in range(12):
            tg.start_soon(worker, i)
    endpoint = rig.endpoint
    assert failures == []
    assert endpoint.reused == [], "a rotated refresh token was presented again"
    assert endpoint.refreshes == len(endpoint.issued_access) >= 3
    assert endpoint.refreshes <= 8 / 2 + 2, f"{endpoint.refreshes} refreshes in 8 s: a generation was refreshed twice"
    stored = await rig.cluster.store.get_credential(rig.tenant_id, "probe")
    assert stored.refresh_token.get_secret_value() == endpoint.current_refresh


async def test_a_refused_refresh_is_tried_once_and_marks_the_credential(rig: Rig) -> None:
    await rig.reset(mode="invalid_grant", delay=0.3)
    replies: list[c.Reply] = []

    async def one(i: int) -> None:
        replies.append(await rig.call(i % REPLICAS))

    async with anyio.create_task_group() as tg:
        for i in range(30):
            tg.start_soon(one, i)
    assert rig.endpoint.refreshes == 1
    assert all(r.result["isError"] and "reconnect probe" in text_of(r) for r in replies), [text_of(r) for r in replies][
        :3
    ]
    stored = await rig.cluster.store.get_credential(rig.tenant_id, "probe")
    assert stored.status == CredentialStatus.RECONNECT_REQUIRED
    status = await rig.admin(0, "GET", "/api/v1/admin/tenants/acme/credentials/probe")
    assert status.status_code == 200 and "reconnect" in status.text, status.text  # the admin API says so too


async def test_revoking_a_key_reaches_every_process_within_the_ttl(rig: Rig) -> None:
    await rig.reset(expires_in=3600)
    for replica in range(REPLICAS):
        assert not (await rig.call(replica, "probe_whoami", {})).result.get("isError")
    r = await rig.admin(0, "DELETE", f"/api/v1/admin/tenants/acme/api-keys/{rig.key_id}")
    assert r.status_code == 204, r.text
    revoked = time.monotonic()
    assert (await rig.call(0, "probe_whoami", {})).status == 401, "the replica that revoked the key still accepts it"
    for replica in (1, 2):
        while (await rig.call(replica, "probe_whoami", {})).status != 401:
            assert time.monotonic() - revoked < TTL + SLACK, f"replica {replica} accepts a revoked key"
            await anyio.sleep(0.05)


async def test_disconnecting_reaches_every_process_within_the_ttl(rig: Rig) -> None:
    await rig.reset(expires_in=3600)
    for replica in range(REPLICAS):
        assert not (await rig.call(replica)).result.get("isError")
    token = rig.endpoint.issued_access[-1]
    r = await rig.admin(1, "DELETE", "/api/v1/admin/tenants/acme/credentials/probe")
    assert r.status_code == 204, r.text
    gone = time.monotonic()
    for replica in range(REPLICAS):
        while True:
            reply = await rig.call(replica)
            if reply.result.get("isError") and "not connected" in text_of(reply):
                break
            assert time.monotonic() - gone < TTL + SLACK, f"replica {replica} still uses the disconnected token"
            await anyio.sleep(0.05)
    late = [s for s in rig.fake.seen if s.at > gone + TTL + SLACK and s.token == token]
    assert late == []


async def test_no_secret_in_the_database_dump_the_logs_or_any_response(rig: Rig) -> None:
    """Runs last in the module: everything above wrote tokens, refresh tokens, client secrets and keys."""
    mark = LEDGER.mark()
    scanned = await rig.cluster.scan_database()
    lines = rig.cluster.scan_logs()
    assert scanned > 1000 and lines > 0
    leaks = LEDGER.since(mark)
    assert leaks == [], [(h.where, h.excerpt) for h in leaks[:5]]
    response_hits = [h for h in LEDGER.hits if "replica" in h.where]
    assert response_hits == [], [(h.where, h.excerpt) for h in response_hits[:5]]
