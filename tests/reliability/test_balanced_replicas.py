"""Three `sagemcp serve` processes on one PostgreSQL behind HAProxy (round-robin), as docs/deployment.md runs
them: stateless Streamable HTTP of every era from any replica, admin changes made through one replica in force on
all of them within the cache TTL, a rolling restart that loses no request, and SIGTERM draining in-flight calls
up to the deadline.

Runs when `SAGEMCP_TEST_POSTGRES_URL` is set and HAProxy is installed (Debian's `haproxy`); skipped, with the
reason, otherwise.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from . import _clients as c
from ._balanced import Balanced, Replica, haproxy
from ._cluster import server_available
from ._fake_upstream import FakeUpstream, behave

pytestmark = [pytest.mark.postgres, pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

TTL = 1.0
"""SAGEMCP_CACHE_TTL of the replicas: the documented bound for an admin change to reach every replica."""
SLACK = 1.5
SHUTDOWN = 4.0
"""SAGEMCP_SHUTDOWN_TIMEOUT: how long a stopping replica lets in-flight calls finish."""
SLOW = 1.5
"""Seconds the fake GitHub takes to answer `GET /user`: a call in flight when its replica is stopped."""

_why_not = server_available() or (None if haproxy() else "HAProxy is not installed (apt-get install haproxy)")
if _why_not:
    pytestmark.append(pytest.mark.skip(reason=_why_not))


@dataclass
class Rig:
    cluster: Balanced
    fake: FakeUpstream
    http: httpx.AsyncClient
    key: str = ""
    key_id: str = ""

    async def admin(self, method: str, path: str, base: str | None = None, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.cluster.admin_key}"}
        return await self.http.request(
            method, (base or self.cluster.base) + "/api/v1/admin" + path, headers=headers, **kw
        )

    async def call(
        self, tool: str = "demo_echo", args: dict[str, Any] | None = None, base: str | None = None, tenant: str = "acme"
    ) -> c.Reply:
        path = f"/api/v1/{tenant}/mcp"
        params = {"name": tool, "arguments": {"text": secrets.token_hex(4)} if args is None else args}
        return await c.call_modern(self.http, (base or self.cluster.base) + path, self.key, "tools/call", params)

    async def new_key(self, tenant: str = "acme") -> str:
        r = await self.admin(
            "POST", f"/tenants/{tenant}/api-keys", json={"name": secrets.token_hex(3), "scopes": ["mcp"]}
        )
        assert r.status_code == 201, r.text
        self.key, self.key_id = r.json()["key"], r.json()["id"]
        return self.key


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rig(postgres_url: str) -> AsyncIterator[Rig]:
    slow_user = behave.json(200, {"login": "octocat", "id": 1, "type": "User"})

    async def slow(up: Any, seen: Any, w: Any) -> None:
        await asyncio.sleep(SLOW)
        await slow_user(up, seen, w)

    async with FakeUpstream(default=slow) as fake:
        cluster = Balanced(
            postgres_url,
            settings={
                "SAGEMCP_CACHE_TTL": str(TTL),
                "SAGEMCP_SHUTDOWN_TIMEOUT": str(SHUTDOWN),
                "SAGEMCP_DB_TIMEOUT": "5",
                "SAGEMCP_AUDIT_FLUSH_INTERVAL": "0.2",
            },
        )
        try:
            await cluster.setup()
            async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=100)) as http:
                rig = Rig(cluster, fake, http)
                await seed(rig, "acme")
                yield rig
        finally:
            await cluster.teardown()


async def seed(rig: Rig, slug: str) -> None:
    """A tenant with the demo connector and GitHub (on the fake upstream, with a token), and an MCP key;
    everything through the load balancer, as an operator would."""
    assert (await rig.admin("POST", "/tenants", json={"slug": slug})).status_code == 201
    demo = await rig.admin("POST", f"/tenants/{slug}/connectors", json={"connector_type": "demo", "name": "demo"})
    assert demo.status_code == 201, demo.text
    github = await rig.admin(
        "POST",
        f"/tenants/{slug}/connectors",
        json={"connector_type": "github", "name": "github", "configuration": {"api_url": rig.fake.url.rstrip("/")}},
    )
    assert github.status_code == 201, github.text
    token = await rig.admin("PUT", f"/tenants/{slug}/credentials/github", json={"token": "ghp_test-token"})
    assert token.status_code in (200, 201), token.text
    await rig.new_key(slug)


def served_by(reply: c.Reply) -> str:
    return reply.headers.get("x-served-by", "?")


def ok(reply: c.Reply) -> bool:
    return reply.status == 200 and isinstance(reply.result, dict) and not reply.result.get("isError")


def text_of(reply: c.Reply) -> str:
    return " ".join(part.get("text", "") for part in (reply.result or {}).get("content", []))


async def test_stateless_calls_of_every_era_are_answered_by_every_replica(rig: Rig) -> None:
    replies = await asyncio.gather(*(rig.call(args={"text": f"call {i}"}) for i in range(30)))
    assert [r.status for r in replies if not ok(r)] == []
    assert [text_of(r) for r in replies] == [f"call {i}" for i in range(30)]
    assert Counter(served_by(r) for r in replies) == {"r0": 10, "r1": 10, "r2": 10}
    # The handshake eras in JSON mode: `initialize` on one replica, the calls that follow on the others.
    path = rig.cluster.base + "/api/v1/acme/mcp"
    for version in ("2025-11-25", "2025-06-18", "2025-03-26"):
        params = {**c.INITIALIZE_PARAMS, "protocolVersion": version}
        hello = await c.post(rig.http, path, rig.key, c.request("initialize", params))
        assert hello.status == 200 and hello.result["protocolVersion"] == version, hello.text
        seen = {served_by(hello)}
        for i in range(6):
            headers = {"MCP-Protocol-Version": version}
            message = c.request("tools/call", {"name": "demo_add", "arguments": {"a": i, "b": 1}})
            reply = await c.post(rig.http, path, rig.key, message, headers)
            assert ok(reply), reply.text
            assert reply.headers["content-type"].startswith("application/json")
            assert reply.result["structuredContent"]["sum"] == i + 1
            seen.add(served_by(reply))
        assert seen == {"r0", "r1", "r2"}, f"{version}: {seen}"
        listed = await c.post(rig.http, path, rig.key, c.request("tools/list", {}), {"MCP-Protocol-Version": version})
        assert {"demo_echo", "github_get_me"} <= {t["name"] for t in listed.result["tools"]}


def assert_clean_exit(cluster: Balanced, replica: Replica, code: int) -> None:
    """uvicorn re-raises the signal once it shut down, so a clean stop reports SIGTERM (or 0)."""
    log = cluster.tail(replica, 4000)
    assert code in (0, -signal.SIGTERM), f"{replica.name} exited with {code}:\n{log}"
    assert "Application shutdown complete" in log and "sagemcp server stopped" in log, log
    assert '"level": "error"' not in log[log.rfind("Shutting down") :], log


async def until_every_replica(rig: Rig, changed: Any, what: str) -> float:
    """Seconds until `changed(reply)` holds on each replica, asked directly; fails past the documented bound."""
    started = time.monotonic()
    for replica in rig.cluster.replicas:
        while True:
            reply = await changed(replica)
            if reply:
                break
            assert time.monotonic() - started < TTL + SLACK, f"{replica.name} still serves {what} after {TTL} s"
            await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_admin_changes_through_one_replica_reach_all_within_the_cache_ttl(rig: Rig) -> None:
    await seed(rig, "umbrella")
    for replica in rig.cluster.replicas:  # every replica has the tenant, its connector and the key cached
        assert ok(await rig.call(base=replica.base, tenant="umbrella"))
    first = rig.cluster.replicas[0].base

    # A tool disabled through replica r0 cannot be called on any replica.
    r = await rig.admin(
        "PATCH", "/tenants/umbrella/connectors/demo", base=first, json={"tool_policy": {"exclude_tools": ["demo_echo"]}}
    )
    assert r.status_code == 200, r.text

    async def echo_refused(replica: Replica) -> bool:
        reply = await rig.call(base=replica.base, tenant="umbrella")
        return reply.status == 200 and (bool(reply.error) or bool(reply.result and reply.result.get("isError")))

    await until_every_replica(rig, echo_refused, "a disabled tool")
    assert ok(await rig.call("demo_add", {"a": 1, "b": 2}, base=rig.cluster.replicas[2].base, tenant="umbrella"))

    # A key revoked through r1 is refused everywhere.
    key_id = rig.key_id
    assert (
        await rig.admin("DELETE", f"/tenants/umbrella/api-keys/{key_id}", base=rig.cluster.replicas[1].base)
    ).status_code == 204

    async def key_refused(replica: Replica) -> bool:
        return (await rig.call("demo_add", {"a": 1, "b": 1}, base=replica.base, tenant="umbrella")).status == 401

    await until_every_replica(rig, key_refused, "a revoked key")

    # A tenant deleted through r2 is gone everywhere, even for the platform admin key.
    await rig.new_key("umbrella")
    for replica in rig.cluster.replicas:
        assert ok(await rig.call("demo_add", {"a": 1, "b": 1}, base=replica.base, tenant="umbrella"))
    admin_key = rig.key
    assert (await rig.admin("DELETE", "/tenants/umbrella", base=rig.cluster.replicas[2].base)).status_code == 204

    async def tenant_gone(replica: Replica) -> bool:
        rig.key = admin_key
        return (await rig.call("demo_add", {"a": 1, "b": 1}, base=replica.base, tenant="umbrella")).status in (401, 404)

    await until_every_replica(rig, tenant_gone, "a deleted tenant")
    await rig.new_key("acme")


async def test_a_rolling_restart_loses_no_request(rig: Rig) -> None:
    """Callers keep calling through HAProxy while each replica in turn gets SIGTERM, exits and starts again."""
    cluster = rig.cluster
    replies: list[c.Reply] = []
    failures: list[str] = []
    stop = asyncio.Event()

    async def caller(i: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                reply = await rig.call(args={"text": f"{i}-{n}"})
            except httpx.HTTPError as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
                continue
            replies.append(reply)
            if not ok(reply) or text_of(reply) != f"{i}-{n}":
                failures.append(f"{reply.status} {reply.text[:200]}")

    callers = [asyncio.create_task(caller(i)) for i in range(6)]
    try:
        await asyncio.sleep(1)
        for replica in cluster.replicas:
            cluster.terminate(replica)
            assert_clean_exit(cluster, replica, await cluster.wait_exit(replica, SHUTDOWN + 5))
            cluster.start(replica)
            await cluster.wait_ready(replica)
            await cluster.wait_in_rotation(*cluster.replicas)
        await asyncio.sleep(1)
    finally:
        stop.set()
        await asyncio.gather(*callers)
    assert failures == [], f"{len(failures)} of {len(replies)} requests failed: {failures[:5]}"
    assert len(replies) > 100
    assert set(Counter(served_by(r) for r in replies)) == {"r0", "r1", "r2"}


async def test_sigterm_stops_accepting_finishes_in_flight_calls_and_exits(rig: Rig) -> None:
    cluster = rig.cluster
    replica = cluster.replicas[1]
    # Two calls in flight on this replica (the fake GitHub answers after SLOW seconds), then SIGTERM.
    calls = [asyncio.create_task(rig.call("github_get_me", {}, base=replica.base)) for _ in range(2)]
    await asyncio.sleep(0.4)
    sent = cluster.terminate(replica)
    await asyncio.sleep(0.3)
    with pytest.raises(httpx.ConnectError):  # the listener is closed: new connections are refused
        await rig.http.get(replica.base + "/healthz")
    through_lb = await rig.call()  # HAProxy sends new work to the other replicas meanwhile
    assert ok(through_lb) and served_by(through_lb) != replica.name
    done = await asyncio.gather(*calls)
    assert all(ok(r) for r in done), [r.text[:300] for r in done]
    assert all(r.result["structuredContent"]["login"] == "octocat" for r in done)
    assert_clean_exit(cluster, replica, await cluster.wait_exit(replica, SHUTDOWN + 5))
    assert time.monotonic() - sent < SLOW + 2, "the replica did not exit once its calls were done"
    cluster.start(replica)
    await cluster.wait_ready(replica)
    await cluster.wait_in_rotation(*cluster.replicas)


async def test_sigterm_gives_up_on_calls_longer_than_the_deadline(rig: Rig) -> None:
    cluster = rig.cluster
    replica = cluster.replicas[2]
    rig.fake.on("GET /user", behave.stall(60))
    try:
        call = asyncio.create_task(rig.call("github_get_me", {}, base=replica.base))
        await asyncio.sleep(0.5)
        sent = cluster.terminate(replica)
        code = await cluster.wait_exit(replica, SHUTDOWN + 5)
        waited = time.monotonic() - sent
        assert SHUTDOWN - 0.5 <= waited <= SHUTDOWN + 3, f"exited {waited:.1f} s after SIGTERM, deadline {SHUTDOWN} s"
        assert code in (0, -signal.SIGTERM)
        try:
            reply = await call
        except httpx.HTTPError:
            reply = None
        # The call is cut (or answered 500 as its task is cancelled), never answered as if it had succeeded.
        assert reply is None or reply.status >= 500, f"{reply.status} {reply.text[:500]}"
        assert "timeout graceful shutdown exceeded" in cluster.tail(replica, 20_000)
    finally:
        rig.fake.script.pop("GET /user", None)
        cluster.start(replica)
        await cluster.wait_ready(replica)
        await cluster.wait_in_rotation(*cluster.replicas)
