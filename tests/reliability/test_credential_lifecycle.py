"""Credential lifecycle under concurrency, with three replicas (three MCP apps, each with its own caches,
credential manager and HTTP pool, each behind its own uvicorn server) sharing one `MemoryStore`.

The multi-process variant on PostgreSQL is `test_replicas_postgres.py`; here the store's lock is the
in-process one, which is what an embedder running several apps in one process gets.
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
from sagemcp.mcp import McpApp, McpSettings, create_mcp_app
from sagemcp.platform import (
    ConnectorConfig,
    ConnectorRegistry,
    CredentialManager,
    MemoryStore,
    OAuthApp,
    OAuthFlows,
    Tenant,
    ToolPolicy,
    UpstreamClient,
)

from . import _clients as c
from ._fake_upstream import FakeUpstream, TokenEndpoint
from ._support import ScanningApp, fingerprint, make_probe_connector, new_secret, serve

TTL = 1.0
"""`McpSettings.cache_ttl` of the replicas: how long a change may take to reach every one of them."""
SLACK = 1.0
REPLICAS = 3


@dataclass
class Cluster:
    store: MemoryStore
    apps: list[McpApp]
    bases: list[str]
    http: httpx.AsyncClient
    fake: FakeUpstream
    endpoint: TokenEndpoint
    tenant_id: str
    key: str
    key_id: str
    path: str = "/acme/connectors/probe/mcp"

    async def call(self, replica: int, tool: str = "probe_fetch", args: dict[str, Any] | None = None) -> c.Reply:
        args = args if args is not None else {"path": f"whoami/{secrets.token_hex(6)}"}
        params = {"name": tool, "arguments": args}
        return await c.call_modern(self.http, self.bases[replica] + self.path, self.key, "tools/call", params)

    def credential(self) -> Credential:
        cred = self.store._credentials[(self.tenant_id, "probe", None)]  # the stored shared row, not a cached copy
        return cred


@pytest_asyncio.fixture
async def cluster(request: pytest.FixtureRequest, no_new_leaks: None) -> AsyncIterator[Cluster]:
    """Three replicas; an OAuth credential that expired 10 s ago, with a rotating refresh token."""
    options: dict[str, Any] = getattr(request, "param", {})
    store = MemoryStore()
    async with FakeUpstream() as fake:
        probe = make_probe_connector(token_url=fake.url + "token")
        tenant = store.add_tenant(Tenant(slug="acme"))
        store.add_connector(
            ConnectorConfig(
                tenant_id=tenant.id, connector_type="probe", name="probe", configuration={"upstream": fake.url}
            )
        )
        store.put_oauth_app(
            OAuthApp(tenant_id=tenant.id, provider="probe", client_id="client-1", client_secret=new_secret("cs"))
        )
        refresh = new_secret("rt")
        store.put_credential(
            Credential(
                tenant_id=tenant.id,
                provider="probe",
                kind="oauth2",
                access_token=new_secret("at"),
                refresh_token=refresh,
                expires_at=time.time() - 10,
                scopes=["read"],
            )
        )
        endpoint = TokenEndpoint(current_refresh=refresh, new_secret=new_secret, **options)
        fake.on("POST /token", endpoint.behaviour())
        key, record = store.create_api_key(tenant.id)
        apps, upstreams = [], []
        registry = ConnectorRegistry([probe])
        for _ in range(REPLICAS):
            upstream = UpstreamClient(timeout=5, retry_deadline=5)
            credentials = CredentialManager(store, OAuthFlows(timeout=5), refresh_margin=1.0)
            settings = McpSettings(cache_ttl=TTL)
            apps.append(create_mcp_app(store, registry, upstream=upstream, credentials=credentials, settings=settings))
            upstreams.append(upstream)
        async with (
            serve(ScanningApp(apps[0], "replica-0")) as b0,
            serve(ScanningApp(apps[1], "replica-1")) as b1,
            serve(ScanningApp(apps[2], "replica-2")) as b2,
            httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=200)) as http,
        ):
            yield Cluster(store, apps, [b0, b1, b2], http, fake, endpoint, tenant.id, key, record.id)
        for upstream in upstreams:
            await upstream.aclose()


def text_of(reply: c.Reply) -> str:
    return " ".join(part.get("text", "") for part in reply.result.get("content", []))


# -- refresh ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cluster", [{"delay": 0.3}], indirect=True)
async def test_100_concurrent_calls_with_an_expired_token_refresh_it_once(cluster: Cluster) -> None:
    replies: list[c.Reply] = []

    async def one(i: int) -> None:
        replies.append(await cluster.call(i % REPLICAS))

    async with anyio.create_task_group() as tg:
        for i in range(100):
            tg.start_soon(one, i)
    assert cluster.endpoint.refreshes == 1, f"{cluster.endpoint.refreshes} refreshes for one expiry"
    assert cluster.endpoint.reused == []
    assert all(r.status == 200 and not r.result.get("isError") for r in replies), [r.text for r in replies][:3]
    fresh = fingerprint(cluster.endpoint.issued_access[0])
    assert {r.result["structuredContent"]["upstream"]["fp"] for r in replies} == {fresh}
    api_calls = [s for s in cluster.fake.seen if s.path.startswith("/whoami")]
    assert len(api_calls) == 100 and {fingerprint(s.token) for s in api_calls} == {fresh}
    stored = cluster.credential()
    assert stored.refresh_token.get_secret_value() == cluster.endpoint.current_refresh
    assert stored.status == CredentialStatus.ACTIVE and stored.version == 2


@pytest.mark.parametrize("cluster", [{"expires_in": 2}], indirect=True)
async def test_a_rotating_refresh_token_is_never_lost(cluster: Cluster) -> None:
    """Tokens live 2 s and are refreshed 1 s before expiry: for 6 s, 12 workers on 3 replicas keep calling.
    Every refresh must present the newest refresh token (a stale one would be a lost rotation)."""
    failures: list[str] = []
    calls = 0
    stop = time.monotonic() + 6

    async def worker(i: int) -> None:
        nonlocal calls
        while time.monotonic() < stop:
            reply = await cluster.call(i % REPLICAS)
            calls += 1
            if reply.status != 200 or reply.result.get("isError"):
                failures.append(reply.text[:300])
            await anyio.sleep(0.02)

    async with anyio.create_task_group() as tg:
        for i in range(12):
            tg.start_soon(worker, i)
    endpoint = cluster.endpoint
    assert failures == []
    assert endpoint.reused == [], "a rotated refresh token was used again"
    assert endpoint.refreshes == len(endpoint.issued_access) >= 4, (endpoint.refreshes, len(endpoint.issued_access))
    assert endpoint.refreshes <= 6 / 1.0 + 2, f"{endpoint.refreshes} refreshes in 6 s: some generation refreshed twice"
    stored = cluster.credential()
    assert stored.refresh_token.get_secret_value() == endpoint.current_refresh
    assert stored.access_token.get_secret_value() == endpoint.issued_access[-1]
    assert calls > 100


@pytest.mark.parametrize("cluster", [{"mode": "invalid_grant", "delay": 0.2}], indirect=True)
async def test_a_refused_refresh_marks_the_credential_and_says_reconnect(cluster: Cluster) -> None:
    replies: list[c.Reply] = []

    async def one(i: int) -> None:
        replies.append(await cluster.call(i % REPLICAS))

    async with anyio.create_task_group() as tg:
        for i in range(30):
            tg.start_soon(one, i)
    assert cluster.endpoint.refreshes == 1, "the refused grant was tried again"
    assert all(r.status == 200 and r.result["isError"] for r in replies)
    for reply in replies:
        assert "reconnect probe" in text_of(reply), text_of(reply)
    assert cluster.credential().status == CredentialStatus.RECONNECT_REQUIRED
    assert not [s for s in cluster.fake.seen if s.path.startswith("/whoami")], "an expired token went upstream"
    # Later calls on every replica say the same without asking the provider again.
    for replica in range(REPLICAS):
        reply = await cluster.call(replica)
        assert reply.result["isError"] and "reconnect probe" in text_of(reply)
    assert cluster.endpoint.refreshes == 1


@pytest.mark.parametrize("cluster", [{"mode": "server_error"}], indirect=True)
async def test_a_provider_outage_during_refresh_keeps_the_credential(cluster: Cluster) -> None:
    replies = [await cluster.call(i % REPLICAS) for i in range(6)]
    assert all(r.result["isError"] and "failed temporarily" in text_of(r) for r in replies), [
        text_of(r) for r in replies
    ]
    stored = cluster.credential()
    assert stored.status == CredentialStatus.ACTIVE and stored.version == 1, "a passing outage must not cost the grant"
    cluster.endpoint.mode = "ok"
    reply = await cluster.call(0)
    assert not reply.result.get("isError"), reply.text
    assert cluster.endpoint.reused == []


# -- revocation and disconnection reach every replica within the TTL -------------------------------------


async def wait_until_refused(cluster: Cluster, replica: int, since: float, refused: Any) -> float:
    """Call `replica` until `refused(reply)`; return how long after `since` that took."""
    while True:
        reply = await cluster.call(replica, "probe_whoami", {})
        if refused(reply):
            return time.monotonic() - since
        assert time.monotonic() - since < TTL + SLACK, f"replica {replica} still serves {TTL + SLACK} s later"
        await anyio.sleep(0.05)


@pytest.mark.parametrize("cluster", [{"expires_in": 3600}], indirect=True)
async def test_a_revoked_key_stops_working_on_every_replica_within_the_ttl(cluster: Cluster) -> None:
    for replica in range(REPLICAS):  # warm every cache
        assert (await cluster.call(replica, "probe_whoami", {})).status == 200
    cluster.store.revoke_api_key(cluster.key_id)
    cluster.apps[0].authenticator.invalidate()  # type: ignore[attr-defined] # the replica that revoked it
    revoked = time.monotonic()
    assert (await cluster.call(0, "probe_whoami", {})).status == 401, "the revoking replica must refuse at once"
    for replica in (1, 2):
        took = await wait_until_refused(cluster, replica, revoked, lambda r: r.status == 401)
        assert took <= TTL + SLACK


@pytest.mark.parametrize("cluster", [{"expires_in": 3600}], indirect=True)
async def test_a_disconnected_credential_is_unused_on_every_replica_within_the_ttl(cluster: Cluster) -> None:
    for replica in range(REPLICAS):
        assert not (await cluster.call(replica)).result.get("isError")
    token = cluster.credential().access_token.get_secret_value()
    cluster.store.delete_credential(cluster.tenant_id, "probe")
    gone = time.monotonic()
    for replica in range(REPLICAS):
        await wait_until_refused(
            cluster, replica, gone, lambda r: r.result.get("isError") and "not connected" in text_of(r)
        )
    late = [s for s in cluster.fake.seen if s.path.startswith("/whoami") and s.at > gone + TTL + SLACK]
    assert not [s for s in late if s.token == token], "the disconnected token was still sent upstream"


@pytest.mark.parametrize("cluster", [{"expires_in": 3600}], indirect=True)
async def test_disabling_a_connector_or_a_tenant_reaches_every_replica_within_the_ttl(cluster: Cluster) -> None:
    for replica in range(REPLICAS):
        assert not (await cluster.call(replica, "probe_whoami", {})).result.get("isError")
    cfg = await cluster.store.get_connector(cluster.tenant_id, "probe")
    assert cfg is not None
    cluster.store.add_connector(cfg.model_copy(update={"enabled": False}))
    changed = time.monotonic()
    for replica in range(REPLICAS):
        took = await wait_until_refused(cluster, replica, changed, lambda r: r.status == 403)
        assert took <= TTL + SLACK
    cluster.store.add_connector(cfg)
    tenant = await cluster.store.get_tenant("acme")
    assert tenant is not None
    await anyio.sleep(TTL + 0.2)
    assert (await cluster.call(0, "probe_whoami", {})).status == 200
    cluster.store.add_tenant(tenant.model_copy(update={"active": False}))
    changed = time.monotonic()
    for replica in range(REPLICAS):
        took = await wait_until_refused(cluster, replica, changed, lambda r: r.status == 403)
        assert took <= TTL + SLACK


# -- WebSocket connections are admitted once --------------------------------------------------------------


async def _ws_call(ws: Any, name: str = "probe_whoami") -> dict[str, Any]:
    return await c.ws_exchange(ws, c.request("tools/call", {"name": name, "arguments": {}}))


@pytest.mark.parametrize("cluster", [{"expires_in": 3600}], indirect=True)
async def test_regression_an_open_websocket_outlives_the_revocation_of_its_key(cluster: Cluster) -> None:
    """Regression, fixed (core, sagemcp.mcp._app.McpApp._websocket / _websocket.serve_websocket): a WebSocket is
    authenticated and resolved once, when it connects. After its key is revoked, an open connection keeps
    calling tools for as long as it stays open, on every replica: revocation does not take effect within
    the TTL for WebSocket clients."""
    async with c.ws_connect(cluster.bases[1], cluster.path.replace("/mcp", "/ws"), cluster.key) as ws:
        await c.ws_handshake(ws)
        assert "result" in await _ws_call(ws)
        cluster.store.revoke_api_key(cluster.key_id)
        for app in cluster.apps:
            app.authenticator.invalidate()  # type: ignore[attr-defined]
        await anyio.sleep(TTL + SLACK)
        try:
            reply = await _ws_call(ws)
        except Exception:  # closed by the server: the revocation took effect
            return
        assert "result" not in reply, "a revoked key keeps calling tools over an open WebSocket"


@pytest.mark.parametrize("cluster", [{"expires_in": 3600}], indirect=True)
async def test_regression_an_open_websocket_ignores_tool_policy_changes(cluster: Cluster) -> None:
    """Regression, fixed (same place): the tool policy is captured when the WebSocket connects, so a tool disabled
    afterwards stays callable on that connection, although the policy must hold at call time."""
    async with c.ws_connect(cluster.bases[0], cluster.path.replace("/mcp", "/ws"), cluster.key) as ws:
        await c.ws_handshake(ws)
        assert "result" in await _ws_call(ws)
        cfg = await cluster.store.get_connector(cluster.tenant_id, "probe")
        assert cfg is not None
        cluster.store.add_connector(cfg.model_copy(update={"tool_policy": ToolPolicy(exclude_tools=["probe_whoami"])}))
        for app in cluster.apps:
            app.resolver.invalidate()
        await anyio.sleep(TTL + SLACK)
        http_reply = await cluster.call(0, "probe_whoami", {})
        assert http_reply.result["isError"] and "excluded by name" in text_of(http_reply)  # HTTP honours it
        reply = await _ws_call(ws)
        assert reply.get("result", {}).get("isError"), f"a disabled tool ran over an open WebSocket: {reply}"
