"""Event-loop hogging: no single request may hold up every tenant's calls for seconds.

One event loop serves every tenant, so a request whose handling is quadratic in its input, or whose answer is
as large as the input allows, stalls everyone. Each case here sends the worst the 4 MiB body cap allows
(arguments that are all unknown, values that are all wrong, a tenant with 100 connectors listing its tools,
prompt arguments by the ten thousand) while a probe measures how late the loop wakes it, and a victim
tenant's call runs alongside. The answer must be small, the loop's worst stall and the victim's wait short.
(Before the fix: 3.9 MB of unknown arguments took 3.7 s and answered 10.5 MB; 100 connectors' `tools/list`
was one 17.6 MB answer.)
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import pytest
import pytest_asyncio

from sagemcp import Credential
from sagemcp.mcp import McpSettings, create_mcp_app
from sagemcp.platform import ConnectorConfig, ConnectorRegistry, MemoryStore, Tenant, UpstreamClient

from ._clients import ACCEPT, HANDSHAKE, MODERN, call_modern, modern_headers, modern_message, request
from ._fake_upstream import FakeUpstream
from ._support import ScanningApp, make_probe_connector, new_secret, serve

pytestmark = pytest.mark.asyncio(loop_scope="module")

PATH = "/hog/connectors/probe/mcp"
MAX_STALL = 1.5
"""Seconds the loop may be held up by one of these requests (parsing 4 MB of JSON alone takes a few tenths
on a slow machine; the old code held it for several seconds)."""
MAX_ANSWER = 8_000


@dataclass
class Hogs:
    base: str
    key: str
    victim_key: str
    http: httpx.AsyncClient


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def hogs() -> AsyncIterator[Hogs]:
    probe = make_probe_connector()
    store = MemoryStore()
    async with FakeUpstream() as fake:
        keys = {}
        for slug, connectors in (("hog", 100), ("victim", 1)):
            tenant = store.add_tenant(Tenant(slug=slug))
            for i in range(connectors):
                name = "probe" if i == 0 else f"probe-{i:03d}"
                configuration = {"upstream": fake.url}
                store.add_connector(
                    ConnectorConfig(tenant_id=tenant.id, connector_type="probe", name=name, configuration=configuration)
                )
            store.put_credential(
                Credential(tenant_id=tenant.id, provider="probe", kind="bearer", access_token=new_secret("at"))
            )
            keys[slug], _ = store.create_api_key(tenant.id)
        upstream = UpstreamClient(timeout=5, retry_deadline=5)
        app = create_mcp_app(store, ConnectorRegistry([probe]), upstream=upstream, settings=McpSettings())
        # As the reference server does once started: the collector need not walk the test session's heap,
        # so a stall measured here is the request's own work.
        gc.collect()
        gc.freeze()
        try:
            async with serve(ScanningApp(app, "hogging")) as base, httpx.AsyncClient(timeout=60) as http:
                yield Hogs(base, keys["hog"], keys["victim"], http)
        finally:
            gc.unfreeze()
        await upstream.aclose()


async def while_probing(
    hogs: Hogs, work: Callable[[], Awaitable[httpx.Response]]
) -> tuple[httpx.Response, float, float]:
    """Run `work` while a probe measures the loop's worst stall and a victim tenant calls a tool.

    Returns the response, the worst stall and how long the victim's call took."""
    worst = 0.0
    victim_seconds = 0.0
    done = anyio.Event()

    async def probe() -> None:
        nonlocal worst
        while not done.is_set():
            started = time.perf_counter()
            await anyio.sleep(0.005)
            worst = max(worst, time.perf_counter() - started - 0.005)

    async def victim() -> None:
        nonlocal victim_seconds
        await anyio.sleep(0.05)  # once the hog's request is on its way
        started = time.perf_counter()
        reply = await call_modern(
            hogs.http,
            hogs.base + "/victim/connectors/probe/mcp",
            hogs.victim_key,
            "tools/call",
            {"name": "probe_whoami"},
        )
        victim_seconds = time.perf_counter() - started
        assert reply.result["structuredContent"]["tenant"] == "victim", reply.text

    response: list[httpx.Response] = []

    async def hog() -> None:
        response.append(await work())

    async with anyio.create_task_group() as tg:
        tg.start_soon(probe)
        tg.start_soon(victim)
        await hog()
        with anyio.fail_after(30):
            while victim_seconds == 0.0:
                await anyio.sleep(0.01)
        done.set()
    return response[0], worst, victim_seconds


async def post_call(hogs: Hogs, era: str, name: str, arguments: Any) -> Callable[[], Awaitable[httpx.Response]]:
    params = {"name": name, "arguments": arguments}
    message = modern_message("tools/call", params) if era == MODERN else request("tools/call", params)
    headers = {"Accept": ACCEPT, "Content-Type": "application/json", "Authorization": f"Bearer {hogs.key}"}
    headers.update(modern_headers(message) if era == MODERN else {"MCP-Protocol-Version": HANDSHAKE})
    body = json.dumps(message).encode()  # encoded before the probe starts: the client's work is not measured
    assert len(body) < 4 * 1024 * 1024, len(body)

    async def send() -> httpx.Response:
        return await hogs.http.post(hogs.base + PATH, content=body, headers=headers)

    return send


def tool_text(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text[:300]
    result = response.json()["result"]
    assert result["isError"] is True
    return str(result["content"][0]["text"])


@pytest.mark.parametrize("era", [HANDSHAKE, MODERN])
@pytest.mark.parametrize(
    ("count", "expected"),
    [(45_000, "and 44,980 more (accepted: text, count, tags, inner)"), (150_000, "more than 50,000 values")],
    ids=["below-the-value-budget", "over-the-value-budget"],
)
async def test_a_call_full_of_unknown_arguments(hogs: Hogs, era: str, count: int, expected: str) -> None:
    arguments: dict[str, Any] = {"text": "x", **{f"unknown_{i:06d}": 0 for i in range(count)}}
    response, stall, victim = await while_probing(hogs, await post_call(hogs, era, "probe_echo", arguments))
    assert len(response.content) < MAX_ANSWER, len(response.content)
    text = tool_text(response)
    assert text.startswith("Invalid arguments for probe_echo:") and expected in text, text[:500]
    assert stall < MAX_STALL, f"the loop stalled {stall:.2f} s"
    assert victim < MAX_STALL + 1, f"the victim waited {victim:.2f} s"


@pytest.mark.parametrize(
    "arguments",
    [
        {"text": "x", "tags": list(range(45_000))},  # every element the wrong type
        {"text": "x", "tags": [[]] * 120_000},  # over the budget: refused unread
        {"text": "x", "inner": {"name": 0, "weight": "heavy", **{f"k{i}": i for i in range(40_000)}}},
        {"text": "y" * 3_000_000},  # one value, far over its max_length
        {"text": "x", "z" * 3_000_000: 1},  # one unknown name of 3 MB
    ],
    ids=["45k-wrong-values", "120k-values", "nested-wrong-values", "3mb-string", "3mb-name"],
)
async def test_bulk_wrong_values_are_reported_briefly(hogs: Hogs, arguments: dict[str, Any]) -> None:
    response, stall, victim = await while_probing(hogs, await post_call(hogs, HANDSHAKE, "probe_echo", arguments))
    assert len(response.content) < MAX_ANSWER, len(response.content)
    text = tool_text(response)
    assert text.startswith("Invalid arguments for probe_echo:"), text[:300]
    assert stall < MAX_STALL, f"the loop stalled {stall:.2f} s"
    assert victim < MAX_STALL + 1


async def test_prompt_arguments_by_the_ten_thousand(hogs: Hogs) -> None:
    arguments = {f"a{i:06d}": "v" for i in range(60_000)}
    message = request("prompts/get", {"name": "probe_hello", "arguments": arguments})
    headers = {"Accept": ACCEPT, "Content-Type": "application/json", "Authorization": f"Bearer {hogs.key}"}
    headers["MCP-Protocol-Version"] = HANDSHAKE
    body = json.dumps(message).encode()

    async def send() -> httpx.Response:
        return await hogs.http.post(hogs.base + PATH, content=body, headers=headers)

    response, stall, _ = await while_probing(hogs, send)
    assert len(response.content) < MAX_ANSWER
    error = response.json()["error"]
    assert error["code"] == -32602 and "more than 50,000 values" in error["message"]
    assert stall < MAX_STALL


@pytest.mark.parametrize("era", [HANDSHAKE, MODERN])
async def test_a_hundred_connectors_list_their_tools_in_pages(hogs: Hogs, era: str) -> None:
    names: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {} if cursor is None else {"cursor": cursor}
        message = modern_message("tools/list", params) if era == MODERN else request("tools/list", params)
        headers = {"Accept": ACCEPT, "Content-Type": "application/json", "Authorization": f"Bearer {hogs.key}"}
        headers.update(modern_headers(message) if era == MODERN else {"MCP-Protocol-Version": HANDSHAKE})
        body = json.dumps(message).encode()

        async def send(body: bytes = body, headers: dict[str, str] = headers) -> httpx.Response:
            return await hogs.http.post(hogs.base + "/hog/mcp", content=body, headers=headers)

        response, stall, _ = await while_probing(hogs, send)
        assert response.status_code == 200, response.text[:300]
        assert len(response.content) < 1_000_000, len(response.content)  # one page, not the catalogue
        assert stall < MAX_STALL
        result = response.json()["result"]
        pages += 1
        names += [tool["name"] for tool in result["tools"]]
        cursor = result.get("nextCursor")
        if cursor is None:
            break
    # 100 probe connectors of every probe tool, in pages of 200
    total = 100 * len(make_probe_connector().tools)
    assert len(names) == len(set(names)) == total and pages == -(-total // 200)
