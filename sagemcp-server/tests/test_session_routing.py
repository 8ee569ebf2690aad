"""The Redis session router: the signed forward header, the registry of who holds which session, and the forward.

The registry tests need a Redis (`SAGEMCP_TEST_REDIS_URL`, default redis://127.0.0.1:6379; each test uses
its own key prefix) and skip with the reason without one; the holder replica is an httpx mock transport.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from starlette.types import Message, Scope

from sagemcp.mcp import SESSION_GONE
from sagemcp.platform import ConnectorRegistry
from sagemcp_server.session_routing import (
    FORWARD_HEADER,
    HELD_BY_HEADER,
    ForwardSigner,
    RedisSessionRouter,
    build_session_router,
    replica_url,
)
from sagemcp_server.settings import Settings

REDIS_URL = os.environ.get("SAGEMCP_TEST_REDIS_URL", "redis://127.0.0.1:6379")
BINDING = "tenant-1/*/key-1"
SESSION = "0123456789abcdef0123456789abcdef"


# -- the signature -----------------------------------------------------------------------------


def test_a_signature_verifies_only_for_its_replica_request_and_caller() -> None:
    signer = ForwardSigner(b"shared secret")
    value = signer.sign(to="r1", binding=BINDING, method="POST", target="/api/v1/acme/mcp")
    ok = {"me": "r1", "binding": BINDING, "method": "POST", "target": "/api/v1/acme/mcp"}
    assert signer.verify(value, **ok)
    assert not signer.verify(value, **{**ok, "me": "r2"})
    assert not signer.verify(value, **{**ok, "binding": "tenant-2/*/key-9"})
    assert not signer.verify(value, **{**ok, "method": "DELETE"})
    assert not signer.verify(value, **{**ok, "target": "/api/v1/globex/mcp"})
    assert not ForwardSigner(b"another secret").verify(value, **ok)
    assert not signer.verify(value, **ok, now=time.time() + 120)  # replayed later
    mac = value.split(".")[1]
    forged = json.dumps({"to": "r1", "ts": time.time(), "b": "tenant-2/*/key-9"}).encode()
    assert not signer.verify(base64.urlsafe_b64encode(forged).decode() + "." + mac, **ok)
    assert not signer.verify("garbage", **ok)
    assert not signer.verify("", **ok)


def test_no_router_without_redis_or_stateful_sessions_and_none_without_a_key() -> None:
    plain = Settings(mcp_stateful=True, secret_keys="k")  # type: ignore[arg-type]
    assert build_session_router(plain, None) is None
    redis = Redis.from_url("redis://127.0.0.1:1")
    stateless = Settings(mcp_stateful=False, secret_keys="k")  # type: ignore[arg-type]
    assert build_session_router(stateless, redis) is None
    with pytest.raises(ValueError, match="SAGEMCP_REPLICA_SECRET"):
        build_session_router(Settings(mcp_stateful=True), redis)
    router = build_session_router(
        Settings(mcp_stateful=True, secret_keys="k", replica_url="http://10.1.2.3:8000"),  # type: ignore[arg-type]
        redis,
    )
    assert router is not None and router.replica_url == "http://10.1.2.3:8000"
    six = Settings(mcp_stateful=True, secret_keys="k", replica_url="http://fd00::7:8000")  # type: ignore[arg-type]
    assert replica_url(six) == "http://[fd00::7]:8000"
    assert replica_url(Settings(host="127.0.0.1", port=8123)) == "http://127.0.0.1:8123"


# -- the registry and the forward ------------------------------------------------------------------


async def _redis() -> Redis:
    redis = Redis.from_url(REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        await redis.ping()  # type: ignore[misc]
    except Exception as exc:
        await redis.aclose()
        pytest.skip(f"needs Redis at {REDIS_URL} ({type(exc).__name__}); set SAGEMCP_TEST_REDIS_URL")
    return redis


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = await _redis()
    yield client
    await client.aclose()


@pytest.fixture
def prefix() -> str:
    return f"test-{secrets.token_hex(4)}:"


def make_router(
    redis: Redis, prefix: str, replica: str, handler: Any = None, max_forwards: int = 10
) -> RedisSessionRouter:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler)) if handler is not None else None
    return RedisSessionRouter(
        redis,
        prefix=prefix,
        replica_id=replica,
        replica_url=f"http://{replica}.internal:8000",
        signer=ForwardSigner(b"shared"),
        ttl=15,
        http=http,
        max_forwards=max_forwards,
    )


def request_scope(method: str = "POST", query: bytes = b"") -> Scope:
    return {
        "type": "http",
        "method": method,
        "path": "/api/v1/acme/mcp",
        "root_path": "/api/v1",
        "query_string": query,
        "headers": [
            (b"host", b"mcp.example.com"),
            (b"authorization", b"Bearer sk-test-token"),
            (b"mcp-session-id", SESSION.encode()),
            (b"content-length", b"2"),
            (b"connection", b"keep-alive"),
            (FORWARD_HEADER.encode(), b"from-the-client"),
        ],
    }


async def answer(
    router: RedisSessionRouter, scope: Scope, body: bytes | None = b"{}"
) -> tuple[int, dict[str, str], bytes]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await router.forward(SESSION, BINDING, scope, body, receive, send)
    start = sent[0]
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], headers, b"".join(m.get("body", b"") for m in sent[1:])


async def test_an_opened_session_is_registered_renewed_and_removed(redis: Redis, prefix: str) -> None:
    router = make_router(redis, prefix, "r1")
    await router.opened(SESSION)
    assert await router.holder(SESSION) == ("r1", "http://r1.internal:8000")
    assert 0 < await redis.pttl(router.key(SESSION)) <= 15_000
    await redis.delete(router.key(SESSION))  # Redis restarted empty
    await router.renew()
    assert await router.holder(SESSION) == ("r1", "http://r1.internal:8000")
    await router.closed(SESSION)
    assert await router.holder(SESSION) is None
    await router.renew()
    assert await router.holder(SESSION) is None  # an ended session is not brought back


async def test_closing_never_removes_another_replicas_entry(redis: Redis, prefix: str) -> None:
    first, second = make_router(redis, prefix, "r1"), make_router(redis, prefix, "r2")
    await first.opened(SESSION)
    await second.opened(SESSION)  # the id is now held by r2
    await first.closed(SESSION)
    assert await second.holder(SESSION) == ("r2", "http://r2.internal:8000")


async def test_a_forward_reaches_the_holder_signed_and_streams_its_answer_back(redis: Redis, prefix: str) -> None:
    holder = make_router(redis, prefix, "r2")
    await holder.opened(SESSION)
    seen: list[httpx.Request] = []

    def holder_app(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            headers={"content-type": "text/event-stream", "mcp-session-id": SESSION},
            stream=httpx.ByteStream(b"data: {}\n\n"),
        )

    entry = make_router(redis, prefix, "r1", holder_app)
    status, headers, body = await answer(entry, request_scope(query=b"x=1"), b'{"jsonrpc":"2.0"}')
    assert (status, body) == (200, b"data: {}\n\n")
    assert headers[HELD_BY_HEADER] == "r2" and headers["mcp-session-id"] == SESSION
    (request,) = seen
    assert str(request.url) == "http://r2.internal:8000/api/v1/acme/mcp?x=1"
    assert request.content == b'{"jsonrpc":"2.0"}'
    assert request.headers["authorization"] == "Bearer sk-test-token"  # the holder admits the caller again
    assert request.headers["host"] == "mcp.example.com"
    assert request.headers["content-length"] == "17"  # the client's hop-by-hop headers are not copied
    # The client's own forward header was dropped; the holder verifies the entry replica's signature.
    forwarded = request.headers[FORWARD_HEADER]
    assert forwarded != "from-the-client"
    holder_scope = {**request_scope(query=b"x=1"), "headers": [(FORWARD_HEADER.encode(), forwarded.encode())]}
    assert holder.inbound(holder_scope, BINDING) is True
    assert holder.inbound(holder_scope, "tenant-2/*/key-9") is False  # another caller than the one admitted
    assert entry.inbound(holder_scope, BINDING) is False  # signed for r2, not r1
    assert holder.inbound({**holder_scope, "headers": []}, BINDING) is None


async def test_an_unknown_session_and_a_stale_own_entry_get_404(redis: Redis, prefix: str) -> None:
    router = make_router(redis, prefix, "r1", lambda request: pytest.fail("nothing to forward"))
    status, _, body = await answer(router, request_scope())
    assert status == 404 and json.loads(body)["error"]["message"] == SESSION_GONE
    await router.opened(SESSION)
    router._local.discard(SESSION)  # registered here, no longer held (it ended without a goodbye)
    status, _, _ = await answer(router, request_scope())
    assert status == 404 and await router.holder(SESSION) is None


async def test_a_holder_that_refuses_connections_ended_its_sessions(redis: Redis, prefix: str) -> None:
    await make_router(redis, prefix, "r2").opened(SESSION)

    def dead(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    entry = make_router(redis, prefix, "r1", dead)
    status, _, body = await answer(entry, request_scope())
    error = json.loads(body)["error"]
    assert status == 404 and "Start a new session" in error["message"] and error["code"] == -32600
    assert await entry.holder(SESSION) is None


async def test_a_holder_that_times_out_gets_503_with_retry_after(redis: Redis, prefix: str) -> None:
    await make_router(redis, prefix, "r2").opened(SESSION)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    entry = make_router(redis, prefix, "r1", slow)
    status, headers, _ = await answer(entry, request_scope())
    assert status == 503 and headers["retry-after"] == "2"
    assert await entry.holder(SESSION) == ("r2", "http://r2.internal:8000")  # kept: it may come back


async def test_without_redis_sessions_open_and_cross_replica_requests_get_503(prefix: str) -> None:
    down = Redis.from_url("redis://127.0.0.1:1", socket_timeout=0.2, socket_connect_timeout=0.2)
    router = make_router(down, prefix, "r1", lambda request: pytest.fail("nothing to forward"))
    await router.opened(SESSION)  # does not raise: the session is served by this replica
    assert router.registry_ok is False
    await router.renew()
    await router.closed(SESSION)
    status, headers, body = await answer(router, request_scope())
    assert status == 503 and headers["retry-after"] == "2"
    assert "Retry in 2 seconds" in json.loads(body)["error"]["message"]
    await down.aclose()


async def test_forwards_beyond_the_bound_get_503_at_once(redis: Redis, prefix: str) -> None:
    await make_router(redis, prefix, "r2").opened(SESSION)
    entry = make_router(redis, prefix, "r1", lambda request: pytest.fail("over the bound"), max_forwards=0)
    status, headers, body = await answer(entry, request_scope())
    assert status == 503 and headers["retry-after"] == "2"
    assert "forwarding as many requests as it can" in json.loads(body)["error"]["message"]


async def test_with_redis_down_the_server_is_ready_and_its_own_sessions_work(
    tmp_path: Path, registry: ConnectorRegistry
) -> None:
    from conftest import ADMIN_KEY, lifespan_in_task

    from sagemcp.platform import SecretBox
    from sagemcp_server.app import create_app

    settings = Settings(
        data_dir=tmp_path,
        secret_keys=SecretBox.generate_key(),  # type: ignore[arg-type]
        admin_key=ADMIN_KEY,  # type: ignore[arg-type]
        mcp_stateful=True,
        redis_url="redis://127.0.0.1:1/0",  # type: ignore[arg-type]
        redis_timeout=0.2,
    )
    app = create_app(settings, registry=registry)
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    async with lifespan_in_task(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            ready = await client.get("/readyz")
            assert ready.status_code == 200 and ready.json()["redis"].startswith("unreachable ("), ready.text
            assert (await client.post("/api/v1/admin/tenants", json={"slug": "acme"}, headers=admin)).status_code == 201
            made = await client.post(
                "/api/v1/admin/tenants/acme/connectors", json={"connector_type": "demo", "name": "demo"}, headers=admin
            )
            assert made.status_code == 201, made.text
            key = (
                await client.post(
                    "/api/v1/admin/tenants/acme/api-keys", json={"name": "k", "scopes": ["mcp"]}, headers=admin
                )
            ).json()["key"]
            path = "/api/v1/acme/connectors/demo/mcp"
            h = {"Authorization": f"Bearer {key}", "Accept": "application/json, text/event-stream"}
            init = {
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "t", "version": "1"},
                },
            }
            opened = await client.post(path, json=init, headers=h)
            assert opened.status_code == 200, opened.text
            session = {**h, "Mcp-Session-Id": opened.headers["mcp-session-id"], "MCP-Protocol-Version": "2025-11-25"}
            listed = await client.post(path, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers=session)
            assert listed.status_code == 200 and "demo_echo" in listed.text
            # A session this replica does not hold needs the registry: a clear 503, not a 404 that ends it.
            elsewhere = {**session, "Mcp-Session-Id": SESSION}
            r = await client.post(path, json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, headers=elsewhere)
            assert r.status_code == 503 and r.headers["retry-after"] == "2"
            assert "registry is unreachable" in r.json()["error"]["message"]
