"""Tool-call limits: the sliding-window limiter, the guard's fallback, and refusals through the MCP adapter."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import anyio
import httpx
import pytest
import websockets
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from sagemcp import CallLimitReached, Credential
from sagemcp.mcp import create_mcp_app
from sagemcp.platform import (
    Admission,
    AuditEvent,
    CallGuard,
    CallLimits,
    ConnectorRegistry,
    LimiterUnavailable,
    MemoryLimiter,
    MemoryStore,
    Refusal,
    Tenant,
    UpstreamClient,
)

from ._support import FakeNotesApi, NotesConnector, http2_client, serve
from .test_mcp_adapter import build_store
from .test_mcp_transports import INIT, _ws_exchange


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def tenant(**limits: int | None) -> Tenant:
    return Tenant(slug="acme", limits=CallLimits(**limits))


def credential(tenant_id: str = "t") -> Credential:
    return Credential(tenant_id=tenant_id, provider="notes", kind="bearer", access_token="tok")


# -- MemoryLimiter ---------------------------------------------------------------------------


async def test_rate_is_a_sliding_window_and_refusals_are_not_counted() -> None:
    clock = Clock()
    limiter = MemoryLimiter(clock)
    call = Admission("t", None, calls_per_minute=3)
    for step in range(3):
        assert await limiter.admit(call, f"c{step}") is None
        clock.now += 10  # calls at 1000, 1010, 1020
    refusal = await limiter.admit(call, "x")
    assert refusal == Refusal("calls_per_minute", 3, pytest.approx(30.0))  # type: ignore[arg-type]
    clock.now = 1059.9
    assert await limiter.admit(call, "y") is not None  # the call at 1000 is still in the window
    clock.now = 1060.0
    assert await limiter.admit(call, "z") is None  # it has left: exactly one more fits
    assert (await limiter.admit(call, "w")) == Refusal("calls_per_minute", 3, pytest.approx(10.0))  # type: ignore[arg-type]


async def test_credential_rate_is_counted_per_credential_and_tenant_rate_per_tenant() -> None:
    limiter = MemoryLimiter(Clock())
    first = Admission("t1", "cred-a", calls_per_minute=10, credential_calls_per_minute=1)
    assert await limiter.admit(first, "1") is None
    refused = await limiter.admit(first, "2")
    assert refused is not None and refused.limit == "credential_calls_per_minute"
    assert await limiter.admit(Admission("t1", "cred-b", credential_calls_per_minute=1), "3") is None
    assert await limiter.admit(Admission("t2", None, calls_per_minute=1), "4") is None
    assert await limiter.admit(Admission("t1", None, calls_per_minute=0), "5") is None  # 0: no limit


async def test_concurrency_slots_are_held_until_released() -> None:
    limiter = MemoryLimiter(Clock())
    call = Admission("t", None, concurrent_calls=2)
    assert await limiter.admit(call, "a") is None
    assert await limiter.admit(call, "b") is None
    refusal = await limiter.admit(call, "c")
    assert refusal is not None and (refusal.limit, refusal.maximum) == ("concurrent_calls", 2)
    await limiter.release("t", "a")
    assert await limiter.admit(call, "c") is None
    assert await limiter.admit(Admission("other", None, concurrent_calls=2), "d") is None


async def test_a_back_off_refuses_the_credential_until_it_ends_and_the_longest_wins() -> None:
    clock = Clock()
    limiter = MemoryLimiter(clock)
    await limiter.back_off("t", "cred", 30)
    await limiter.back_off("t", "cred", 5)  # a shorter one does not shorten it
    refusal = await limiter.admit(Admission("t", "cred"), "a")
    assert refusal == Refusal("upstream_backoff", 0, 30.0)
    assert await limiter.admit(Admission("t", "other"), "b") is None
    clock.now += 30
    assert await limiter.admit(Admission("t", "cred"), "c") is None


# -- CallGuard -------------------------------------------------------------------------------


async def test_the_guard_uses_the_tenants_own_limits_over_the_defaults_and_explains_refusals() -> None:
    guard = CallGuard(defaults=CallLimits(calls_per_minute=1, concurrent_calls=5), clock=Clock())
    own = tenant(calls_per_minute=2)
    assert guard.limits_for(own) == CallLimits(calls_per_minute=2, concurrent_calls=5)
    assert await guard.admit(own, None, provider="Notes") is not None  # a concurrency slot to give back
    assert await guard.admit(own, None, provider="Notes") is not None
    with pytest.raises(CallLimitReached) as refused:
        await guard.admit(own, None, provider="Notes")
    assert refused.value.limit == "calls_per_minute" and refused.value.maximum == 2
    assert refused.value.retry_after == 60.0
    assert "Tenant 'acme'" in refused.value.message and "calls_per_minute = 2" in refused.value.message
    assert "Retry in 60 s" in refused.value.message
    assert guard.refused["calls_per_minute"] == 1


async def test_upstream_back_off_is_capped_and_named_in_the_refusal() -> None:
    clock = Clock()
    guard = CallGuard(max_backoff=100, clock=clock)
    t, cred = tenant(), credential()
    await guard.upstream_limited(cred, 5000)
    with pytest.raises(CallLimitReached) as refused:
        await guard.admit(t, cred, provider="GitHub")
    assert refused.value.limit == "upstream_backoff" and refused.value.retry_after == 100
    assert refused.value.message.startswith("GitHub said this credential is rate limited")
    await guard.upstream_limited(cred, None)  # no wait said: nothing recorded, nothing raised
    clock.now += 100
    assert await guard.admit(t, cred, provider="GitHub") is None  # no limits configured: nothing held


class Flaky:
    """A shared backend that can go down; counts what reached it."""

    def __init__(self) -> None:
        self.down = False
        self.inner = MemoryLimiter()
        self.admitted = 0
        self.back_offs: list[tuple[str, float]] = []

    async def admit(self, admission: Admission, token: str) -> Refusal | None:
        if self.down:
            raise LimiterUnavailable("redis://127.0.0.1:1 refused the connection")
        self.admitted += 1
        return await self.inner.admit(admission, token)

    async def release(self, tenant_id: str, token: str) -> None:
        if self.down:
            raise LimiterUnavailable("down")
        await self.inner.release(tenant_id, token)

    async def back_off(self, tenant_id: str, credential_key: str, seconds: float) -> None:
        if self.down:
            raise LimiterUnavailable("down")
        self.back_offs.append((credential_key, seconds))
        await self.inner.back_off(tenant_id, credential_key, seconds)


async def test_the_guard_falls_back_to_local_limits_logs_once_and_recovers(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    shared = Flaky()
    guard = CallGuard(shared, defaults=CallLimits(calls_per_minute=2), retry_interval=5, clock=clock)
    t, cred = tenant(), credential()
    assert guard.shared and guard.degraded is None
    await guard.admit(t, None, provider="Notes")
    assert shared.admitted == 1
    shared.down = True
    caplog.set_level(logging.WARNING, "sagemcp.limits")
    await guard.admit(t, None, provider="Notes")  # local now: its own count starts at zero
    await guard.admit(t, None, provider="Notes")
    with pytest.raises(CallLimitReached):
        await guard.admit(t, None, provider="Notes")  # the local limit applies while degraded
    assert guard.degraded == "redis://127.0.0.1:1 refused the connection"
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1
    assert "unavailable" in caplog.records[0].message
    await guard.upstream_limited(cred, 30)  # remembered locally though the shared backend is down
    with pytest.raises(CallLimitReached):
        await guard.admit(t, cred, provider="Notes")
    shared.down = False
    clock.now += 5  # the retry interval has passed: the shared backend is tried again
    guard.defaults = CallLimits(calls_per_minute=10)
    await guard.admit(t, None, provider="Notes")
    assert shared.admitted == 2 and guard.degraded is None
    assert "back" in caplog.records[-1].message


async def test_a_permit_is_released_once_even_if_the_backend_is_down_by_then() -> None:
    shared = Flaky()
    guard = CallGuard(shared, defaults=CallLimits(concurrent_calls=1), clock=Clock())
    permit = await guard.admit(tenant(), None, provider="Notes")
    assert permit is not None
    shared.down = True
    await guard.release(permit)  # does not raise; the slot expires in the backend
    assert guard.degraded is not None
    await guard.release(permit)


# -- through the MCP adapter -----------------------------------------------------------------


@dataclass
class Served:
    url: str
    key: str
    store: MemoryStore
    acme: Tenant
    requests: list[httpx.Request]
    events: list[AuditEvent]
    guard: CallGuard
    api: RateLimitedNotes


class RateLimitedNotes(FakeNotesApi):
    """The notes API, answering 429 with Retry-After for note 99 and note 7 only once `gate` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = anyio.Event()

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/notes/99":
            self.requests.append(request)
            return httpx.Response(429, headers={"Retry-After": "120"}, json={"message": "slow down"})
        if request.url.path == "/notes/7":
            self.requests.append(request)
            await self.gate.wait()
            return httpx.Response(200, json={"id": 7, "title": "slow"})
        return self(request)


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    store, keys, tenants, _ = build_store()
    api = RateLimitedNotes()
    events: list[AuditEvent] = []
    guard = CallGuard(defaults=CallLimits(calls_per_minute=100))
    upstream = UpstreamClient(transport=httpx.MockTransport(api.handle), max_retries=0)
    app = create_mcp_app(
        store, ConnectorRegistry([NotesConnector]), upstream=upstream, observer=events.append, guard=guard
    )
    async with serve(app) as base:
        url = f"{base}/acme/connectors/notes/mcp"
        yield Served(url, keys["acme"], store, tenants["acme"], api.requests, events, guard, api)
    await upstream.aclose()


def client(served: Served, mode: str = "auto") -> Client:
    http = http2_client(served.key)
    return Client(streamable_http_client(served.url, http_client=http), mode=mode)  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["auto", "legacy"])  # 2026-07-28 stateless, and the 2025-11-25 handshake era
async def test_a_tenants_own_rate_limit_refuses_calls_as_tool_errors_without_running_them(
    served: Served, mode: str
) -> None:
    served.store.add_tenant(served.acme.model_copy(update={"limits": CallLimits(calls_per_minute=2)}))
    async with client(served, mode) as c:
        for _ in range(2):
            assert not (await c.call_tool("notes_get_note", {"note_id": 1})).is_error
        sent = len(served.requests)
        refused = await c.call_tool("notes_get_note", {"note_id": 1})
        assert refused.is_error  # a tool result, not a JSON-RPC error: the session goes on
        text = refused.content[0].text
        assert "calls_per_minute = 2" in text and "Retry in" in text
        assert len(served.requests) == sent  # the upstream was not called
        assert (await c.list_tools()).tools  # the client still works
    assert [e.outcome for e in served.events][-1] == "limited"
    assert served.events[-1].error_code == "call_limit_reached"


async def test_an_upstream_429_holds_back_the_credentials_next_calls(served: Served) -> None:
    async with client(served) as c:
        first = await c.call_tool("notes_get_note", {"note_id": 99})
        assert first.is_error and "429" in first.content[0].text
        sent = len(served.requests)
        again = await c.call_tool("notes_get_note", {"note_id": 1})
        assert again.is_error
        assert "upstream_backoff" in again.content[0].text and "Retry in 120 s" in again.content[0].text
        assert len(served.requests) == sent
    assert served.guard.refused["upstream_backoff"] == 1


async def test_concurrent_calls_beyond_the_limit_are_refused_and_slots_come_back(served: Served) -> None:
    served.store.add_tenant(served.acme.model_copy(update={"limits": CallLimits(concurrent_calls=1)}))
    results: list[bool] = []
    async with client(served) as c:

        async def held() -> None:
            results.append((await c.call_tool("notes_get_note", {"note_id": 7})).is_error)

        async with anyio.create_task_group() as tg:
            tg.start_soon(held)
            with anyio.fail_after(5):
                while not any(r.url.path == "/notes/7" for r in served.requests):
                    await anyio.sleep(0.01)  # until the slow call holds the one slot
            refused = await c.call_tool("notes_get_note", {"note_id": 1})
            assert refused.is_error and "concurrent_calls = 1" in refused.content[0].text
            served.api.gate.set()
        assert results == [False]
        assert not (await c.call_tool("notes_get_note", {"note_id": 1})).is_error  # the slot came back


async def test_the_limits_apply_over_websocket_too(served: Served) -> None:
    served.store.add_tenant(served.acme.model_copy(update={"limits": CallLimits(calls_per_minute=1)}))
    ws_url = served.url.replace("http://", "ws://").removesuffix("/mcp") + "/ws"
    headers = {"Authorization": f"Bearer {served.key}"}
    call = {"name": "notes_get_note", "arguments": {"note_id": 1}}
    async with websockets.connect(ws_url, subprotocols=["mcp"], additional_headers=headers) as ws:
        await _ws_exchange(ws, INIT)
        await ws.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        first = await _ws_exchange(ws, {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": call})
        assert first["result"]["isError"] is False
        second = await _ws_exchange(ws, {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": call})
        assert "error" not in second and second["result"]["isError"] is True
        assert "calls_per_minute = 1" in second["result"]["content"][0]["text"]
