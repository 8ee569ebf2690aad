"""Stateful MCP sessions on three replicas behind HAProxy (round-robin, no stickiness), routed through Redis.

Each request of a session may land on any replica (HAProxy's `X-Served-By` says which answered); one
that does not hold the session forwards it to the one that does (`X-SageMCP-Held-By` names the
holder). Covered with the official MCP SDK client: Streamable HTTP sessions with their `GET` stream,
a server-to-client request (elicitation) answered through another replica, legacy HTTP+SSE, and
WebSocket connections spread over the replicas; a session of a killed replica is refused with a 404
telling the client to start over, and a new one works; another caller cannot use a session.

Runs when `SAGEMCP_TEST_POSTGRES_URL` is set, HAProxy is installed and Redis answers at
`SAGEMCP_TEST_REDIS_URL` (default redis://127.0.0.1:6379; every run uses its own key prefix);
skipped with the reason otherwise.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import httpx2
import mcp_types as types
import pytest
import pytest_asyncio
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from . import _clients as c
from ._balanced import ROOT, Balanced, Replica, haproxy
from ._cluster import server_available

pytestmark = [pytest.mark.postgres, pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

REDIS_URL = os.environ.get("SAGEMCP_TEST_REDIS_URL", "redis://127.0.0.1:6379")


def _redis_unreachable() -> str | None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()
    except Exception as exc:
        return f"Redis does not answer at {REDIS_URL} ({type(exc).__name__}); set SAGEMCP_TEST_REDIS_URL"
    return None


_why_not = (
    server_available()
    or (None if haproxy() else "HAProxy is not installed (apt-get install haproxy)")
    or _redis_unreachable()
)
if _why_not:
    pytestmark.append(pytest.mark.skip(reason=_why_not))


class SessionCluster(Balanced):
    """`Balanced`, with replicas that also carry the conformance fixtures (tools that ask the client)."""

    def start(self, replica: Replica) -> None:
        env = self.env()
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
        env["SAGEMCP_PORT"] = str(replica.port)
        with replica.log.open("ab") as out:
            replica.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.reliability._session_replica", str(replica.port)],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )


@dataclass
class Seen:
    """Which replica answered each request of a client (`X-Served-By`) and which held its session."""

    requests: list[tuple[str, str, str, str | None]] = field(default_factory=list)
    """(method, body, served by, held by) per response."""

    async def hook(self, response: httpx2.Response) -> None:
        request = response.request
        body = request.content.decode(errors="replace") if request.method == "POST" else ""
        held = response.headers.get("x-sagemcp-held-by")
        self.requests.append((request.method, body, response.headers.get("x-served-by", "?"), held))

    @property
    def served_by(self) -> set[str]:
        return {served for _, _, served, _ in self.requests}

    @property
    def holders(self) -> set[str]:
        return {held for _, _, _, held in self.requests if held is not None}


@dataclass
class Rig:
    cluster: SessionCluster
    http: httpx.AsyncClient
    keys: dict[str, str] = field(default_factory=dict)

    async def admin(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.cluster.admin_key}"}
        return await self.http.request(method, self.cluster.base + "/api/v1/admin" + path, headers=headers, **kw)

    def url(self, connector: str, tenant: str = "acme", transport: str = "mcp") -> str:
        return f"{self.cluster.base}/api/v1/{tenant}/connectors/{connector}/{transport}"

    def replica_ids(self) -> dict[str, str]:
        """Each replica's routing id (from its start-up log line) -> its name."""
        ids = {}
        for replica in self.cluster.replicas:
            for line in replica.log.read_text(errors="replace").splitlines():
                if '"replica_url"' in line:
                    ids[json.loads(line)["replica"]] = replica.name
        return ids


def sdk_client(key: str, seen: Seen) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(
        headers={"Authorization": f"Bearer {key}"},
        timeout=httpx2.Timeout(20.0, read=60.0),
        event_hooks={"response": [seen.hook]},
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rig(postgres_url: str) -> AsyncIterator[Rig]:
    cluster = SessionCluster(
        postgres_url,
        settings={
            "SAGEMCP_MCP_STATEFUL": "true",
            "SAGEMCP_REDIS_URL": REDIS_URL,
            "SAGEMCP_REDIS_KEY_PREFIX": f"test-{secrets.token_hex(4)}:",
            "SAGEMCP_CACHE_TTL": "1",
            "SAGEMCP_SHUTDOWN_TIMEOUT": "2",
        },
    )
    try:
        await cluster.setup()
        async with httpx.AsyncClient(timeout=30) as http:
            rig = Rig(cluster, http)
            for slug in ("acme", "globex"):
                assert (await rig.admin("POST", "/tenants", json={"slug": slug})).status_code == 201
                for kind, name in (("demo", "demo"), ("test", "conf")):
                    made = await rig.admin(
                        "POST", f"/tenants/{slug}/connectors", json={"connector_type": kind, "name": name}
                    )
                    assert made.status_code == 201, made.text
                for label in ("", "-second"):
                    r = await rig.admin(
                        "POST", f"/tenants/{slug}/api-keys", json={"name": "k" + label, "scopes": ["mcp"]}
                    )
                    assert r.status_code == 201, r.text
                    rig.keys[slug + label] = r.json()["key"]
            yield rig
    finally:
        await cluster.teardown()


def text(result: types.CallToolResult) -> str:
    return " ".join(getattr(part, "text", "") for part in result.content)


async def test_readiness_reports_redis(rig: Rig) -> None:
    for replica in rig.cluster.replicas:
        ready = (await rig.http.get(replica.base + "/readyz")).json()
        assert ready["status"] == "ready" and ready["redis"] == "ok", ready


async def test_a_streamable_http_session_is_served_through_every_replica(rig: Rig) -> None:
    seen = Seen()
    transport = streamable_http_client(rig.url("demo"), http_client=sdk_client(rig.keys["acme"], seen))
    async with Client(transport, mode="legacy") as client:  # type: ignore[arg-type]
        for i in range(9):
            result = await client.call_tool("demo_echo", {"text": f"hop {i}"})
            assert not result.is_error and text(result) == f"hop {i}"
        assert {t.name for t in (await client.list_tools()).tools} >= {"demo_echo", "demo_add"}
    # Round-robin spread the session's requests over all three replicas, and one of them held it.
    assert seen.served_by == {"r0", "r1", "r2"}, seen.requests
    (holder,) = seen.holders
    assert rig.replica_ids()[holder] in {"r0", "r1", "r2"}
    forwarded = [served for _, _, served, held in seen.requests if held is not None]
    assert forwarded and rig.replica_ids()[holder] not in forwarded


async def test_an_elicitation_is_answered_through_another_replica(rig: Rig) -> None:
    asked: list[str] = []

    async def answer(ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"username": "ada", "email": "ada@example.com"})

    seen = Seen()
    transport = streamable_http_client(rig.url("conf"), http_client=sdk_client(rig.keys["acme"], seen))
    async with Client(transport, mode="legacy", elicitation_callback=answer) as client:  # type: ignore[arg-type]
        for i in range(4):
            result = await client.call_tool("test_elicitation", {"message": f"who are you? {i}"})
            assert not result.is_error, text(result)
            assert '"username": "ada"' in text(result) and "action=accept" in text(result)
    assert asked == [f"who are you? {i}" for i in range(4)]
    (holder,) = seen.holders
    holder_name = rig.replica_ids()[holder]
    # The client's answers (JSON-RPC responses, no method) reached the tool through replicas that do not hold it.
    answers = [
        (served, held) for method, body, served, held in seen.requests if '"result"' in body and '"method"' not in body
    ]
    assert len(answers) == 4, seen.requests
    assert any(served != holder_name and held == holder for served, held in answers), answers


async def test_legacy_sse_messages_reach_their_stream_through_other_replicas(rig: Rig) -> None:
    seen = Seen()

    def factory(
        headers: dict[str, str] | None = None, timeout: httpx2.Timeout | None = None, auth: httpx2.Auth | None = None
    ) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(headers=headers, timeout=timeout, auth=auth, event_hooks={"response": [seen.hook]})

    transport = sse_client(
        rig.url("demo", transport="sse"),
        headers={"Authorization": f"Bearer {rig.keys['acme']}"},
        httpx_client_factory=factory,
    )
    async with Client(transport, mode="legacy") as client:  # type: ignore[arg-type]
        for i in range(6):
            result = await client.call_tool("demo_add", {"a": i, "b": 10})
            assert result.structured_content == {"a": i, "b": 10, "sum": i + 10}
    (stream_on,) = {served for method, _, served, _ in seen.requests if method == "GET"}
    posts = [(served, held) for method, _, served, held in seen.requests if method == "POST"]
    assert {served for served, _ in posts} == {"r0", "r1", "r2"}, posts
    assert {rig.replica_ids()[held] for _, held in posts if held is not None} == {stream_on}


async def test_websocket_connections_are_spread_over_the_replicas(rig: Rig) -> None:
    served = []
    for i in range(3):
        async with c.ws_connect(rig.cluster.base, "/api/v1/acme/connectors/demo/ws", rig.keys["acme"]) as ws:
            served.append(ws.response.headers.get("x-served-by"))
            await c.ws_handshake(ws)
            reply = await c.ws_exchange(
                ws, c.request("tools/call", {"name": "demo_echo", "arguments": {"text": str(i)}})
            )
            assert reply["result"]["content"][0]["text"] == str(i)
    assert sorted(served) == ["r0", "r1", "r2"]


async def test_another_callers_key_cannot_use_a_session_on_any_replica(rig: Rig) -> None:
    path = "/api/v1/acme/connectors/demo/mcp"
    hello, session = await c.open_session(rig.http, rig.cluster.base + path, rig.keys["acme"])
    assert session is not None, hello.text
    headers = {"Mcp-Session-Id": session, "MCP-Protocol-Version": c.HANDSHAKE}
    echo = c.request("tools/call", {"name": "demo_echo", "arguments": {"text": "mine"}})
    for _ in range(3):  # three consecutive requests: round-robin puts them on three replicas
        other_key = await c.post(rig.http, rig.cluster.base + path, rig.keys["acme-second"], echo, headers)
        assert other_key.status == 404, other_key.text
        other_tenant = await c.post(
            rig.http, rig.cluster.base + "/api/v1/globex/connectors/demo/mcp", rig.keys["globex"], echo, headers
        )
        assert other_tenant.status == 404, other_tenant.text
        assert "mine" not in other_key.text + other_tenant.text
    for _ in range(3):
        own = await c.post(rig.http, rig.cluster.base + path, rig.keys["acme"], echo, headers)
        assert own.status == 200 and own.result["content"][0]["text"] == "mine", own.text
    # A forged forward is refused, whichever replica it reaches.
    forged = {**headers, "X-SageMCP-Forwarded": "e30.0000"}
    for _ in range(3):
        refused = await c.post(rig.http, rig.cluster.base + path, rig.keys["acme"], echo, forged)
        assert refused.status == 403, refused.text


async def test_a_session_of_a_killed_replica_is_refused_and_a_new_one_works(rig: Rig) -> None:
    path = rig.cluster.base + "/api/v1/acme/connectors/demo/mcp"
    hello, session = await c.open_session(rig.http, path, rig.keys["acme"])
    assert session is not None, hello.text
    victim = next(r for r in rig.cluster.replicas if r.name == hello.headers["x-served-by"])
    assert victim.proc is not None
    victim.proc.kill()
    victim.proc.wait(10)
    headers = {"Mcp-Session-Id": session, "MCP-Protocol-Version": c.HANDSHAKE}
    echo = c.request("tools/call", {"name": "demo_echo", "arguments": {"text": "lost"}})
    for _ in range(4):
        gone = await c.post(rig.http, path, rig.keys["acme"], echo, headers)
        assert gone.status == 404, gone.text
        assert gone.error["code"] == -32600 and "Start a new session" in gone.error["message"], gone.text
    # The client starts again: a new session on a live replica, every request of it answered.
    hello, fresh = await c.open_session(rig.http, path, rig.keys["acme"])
    assert fresh is not None and fresh != session, hello.text
    for i in range(4):
        headers = {"Mcp-Session-Id": fresh, "MCP-Protocol-Version": c.HANDSHAKE}
        message = c.request("tools/call", {"name": "demo_echo", "arguments": {"text": f"again {i}"}})
        reply = await c.post(rig.http, path, rig.keys["acme"], message, headers)
        assert reply.status == 200 and reply.result["content"][0]["text"] == f"again {i}", reply.text
        assert reply.headers["x-served-by"] != victim.name
    rig.cluster.start(victim)
    await rig.cluster.wait_ready(victim)
    await asyncio.sleep(0)
