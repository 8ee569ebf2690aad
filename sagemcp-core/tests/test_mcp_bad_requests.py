"""Client faults get a clear answer at once: a browser's GET, JSON-RPC ids the protocol refuses, malformed legacy
SSE messages; and results stay strict JSON, large catalogues come in pages, huge arguments are refused cheaply."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
import websockets
from mcp.shared.exceptions import MCPError

from sagemcp import Connector, ConnectorInfo, NoAuth, ToolContext, tool
from sagemcp.mcp import McpSettings, create_mcp_app
from sagemcp.platform import ConnectorConfig, ConnectorRegistry, MemoryStore, Tenant, UpstreamClient

from ._support import FakeNotesApi, NotesConnector, serve
from .test_mcp_adapter import build_store, client

ACCEPT = "application/json, text/event-stream"
HANDSHAKE = "2025-11-25"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


@contextlib.asynccontextmanager
async def running(settings: McpSettings | None = None) -> AsyncIterator[tuple[str, dict[str, str]]]:
    store, keys, *_ = build_store()
    upstream = UpstreamClient(transport=httpx.MockTransport(FakeNotesApi()))
    app = create_mcp_app(store, ConnectorRegistry([NotesConnector]), upstream=upstream, settings=settings)
    async with serve(app) as base:
        yield base, keys
    await upstream.aclose()


# -- a person pasting the URL into a browser -------------------------------------------------------


@pytest.mark.parametrize("stateful", [False, True], ids=["stateless", "stateful"])
async def test_a_browser_get_is_answered_at_once_with_how_to_connect(stateful: bool) -> None:
    async with running(McpSettings(stateful=stateful)) as (base, keys), httpx.AsyncClient(base_url=base) as http:
        for path in ("/acme/connectors/notes/mcp", "/acme/mcp"):
            for headers in ({"Accept": BROWSER}, {"Accept": BROWSER, "Authorization": f"Bearer {keys['acme']}"}, {}):
                with anyio.fail_after(5):  # it used to hang until the client gave up
                    r = await http.get(path, headers=headers)
                assert r.status_code == 406
                assert r.headers["content-type"].startswith("text/plain")
                assert "Model Context Protocol" in r.text and "Authorization: Bearer" in r.text


async def test_a_stateless_server_offers_no_get_stream() -> None:
    async with running() as (base, keys), httpx.AsyncClient(base_url=base) as http:
        headers = {"Accept": "text/event-stream", "Authorization": f"Bearer {keys['acme']}"}
        with anyio.fail_after(5):
            r = await http.get("/acme/connectors/notes/mcp", headers=headers)
        assert r.status_code == 405 and r.headers["allow"] == "POST"
        assert "stateless" in r.text


# -- JSON-RPC ids the protocol refuses -----------------------------------------------------------------

REFUSED_IDS = [{"a": 1}, [1], 1.5, True, None]


def ask(rid: Any, method: str = "tools/list") -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": {}}).encode()


def assert_invalid_request(body: Any) -> None:
    assert body == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32600, "message": "Invalid request: the id must be a string or an integer"},
    }


@pytest.mark.parametrize("rid", REFUSED_IDS, ids=["object", "array", "float", "bool", "null"])
async def test_requests_with_a_refused_id_get_invalid_request_on_every_transport(rid: Any) -> None:
    headers = {"Accept": ACCEPT, "Content-Type": "application/json", "MCP-Protocol-Version": HANDSHAKE}
    async with running() as (base, keys), httpx.AsyncClient(base_url=base) as http:
        auth = {"Authorization": f"Bearer {keys['acme']}"}
        r = await http.post("/acme/connectors/notes/mcp", content=ask(rid), headers={**headers, **auth})
        assert r.status_code == 400  # it used to be 202 with no body: a request silently dropped
        assert_invalid_request(r.json())

        async with http.stream(
            "GET", "/acme/connectors/notes/sse", headers={"Accept": "text/event-stream", **auth}
        ) as sse:
            endpoint = ""
            async for line in sse.aiter_lines():
                if line.startswith("data:"):
                    endpoint = line.removeprefix("data:").strip()
                    break
            r = await http.post(endpoint, content=ask(rid), headers={"Content-Type": "application/json", **auth})
            assert r.status_code == 400
            assert_invalid_request(r.json())

        url = base.replace("http://", "ws://") + "/acme/connectors/notes/ws"
        async with websockets.connect(url, subprotocols=["mcp"], additional_headers=auth) as ws:
            await ws.send(ask(rid).decode())
            assert_invalid_request(json.loads(await ws.recv()))


async def test_a_refused_id_inside_a_stateful_session() -> None:
    async with running(McpSettings(stateful=True)) as (base, keys), httpx.AsyncClient(base_url=base) as http:
        auth = {"Authorization": f"Bearer {keys['acme']}"}
        headers = {"Accept": ACCEPT, "Content-Type": "application/json", **auth}
        init = {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {"protocolVersion": HANDSHAKE, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
        }
        session = (await http.post("/acme/connectors/notes/mcp", json=init, headers=headers)).headers["mcp-session-id"]
        in_session = {**headers, "Mcp-Session-Id": session, "MCP-Protocol-Version": HANDSHAKE}
        r = await http.post("/acme/connectors/notes/mcp", content=ask({"x": 1}), headers=in_session)
        assert r.status_code == 400 and r.headers["mcp-session-id"] == session
        assert_invalid_request(r.json())
        notified = json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"})
        assert (await http.post("/acme/connectors/notes/mcp", content=notified, headers=in_session)).status_code == 202


async def test_notifications_are_still_acknowledged() -> None:
    async with running() as (base, keys), httpx.AsyncClient(base_url=base) as http:
        headers = {"Accept": ACCEPT, "Content-Type": "application/json", "Authorization": f"Bearer {keys['acme']}"}
        for body in (
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {
                "jsonrpc": "2.0",
                "id": None,
                "method": "notifications/initialized",
            },  # lenient: a null id on a notification
        ):
            r = await http.post("/acme/connectors/notes/mcp", content=json.dumps(body), headers=headers)
            assert r.status_code == 202 and not r.content


# -- malformed legacy SSE messages are client faults ---------------------------------------------------


async def test_malformed_legacy_sse_messages_log_one_line_without_traceback(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with running() as (base, keys), httpx.AsyncClient(base_url=base) as http:
        auth = {"Authorization": f"Bearer {keys['acme']}"}
        async with http.stream(
            "GET", "/acme/connectors/notes/sse", headers={"Accept": "text/event-stream", **auth}
        ) as sse:
            lines = sse.aiter_lines()
            endpoint = ""
            async for line in lines:
                if line.startswith("data:"):
                    endpoint = line.removeprefix("data:").strip()
                    break
            caplog.clear()
            sent = [
                (b"{broken", -32700),
                (b'{"jsonrpc": "2.0", "id": 7, "method": 5}', -32600),
                (b"[]", -32600),
                (b'"just a string"', -32600),
            ]
            for raw, code in sent:
                r = await http.post(endpoint, content=raw, headers={"Content-Type": "application/json", **auth})
                assert r.status_code == 400
                assert r.json()["error"]["code"] == code
            assert r.json()["id"] is None
            json_headers = {"Content-Type": "application/json", **auth}
            echoed = await http.post(
                endpoint, content=b'{"jsonrpc": "2.0", "id": 7, "method": 5}', headers=json_headers
            )
            assert echoed.json()["id"] == 7  # a readable id is echoed
            # the session still works
            ping = json.dumps({"jsonrpc": "2.0", "id": 9, "method": "ping"})
            pinged = await http.post(endpoint, content=ping, headers=json_headers)
            assert pinged.status_code == 202, pinged.text
            async for line in lines:
                if line.startswith("data:") and '"id":9' in line.replace(" ", ""):
                    break
    refused = [r for r in caplog.records if "legacy SSE message refused" in r.getMessage()]
    assert len(refused) == 5 and all(r.levelno == logging.INFO for r in refused)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not [r for r in caplog.records if r.exc_info]


# -- strict JSON results ---------------------------------------------------------------------------------


class Odd(Connector):
    """Tools whose results hold floats JSON cannot spell."""

    info = ConnectorInfo(id="odd", title="Odd", description="Non-finite numbers.")
    auth = (NoAuth(),)

    @tool(read_only=True, group="read")
    async def stats(self, ctx: ToolContext) -> dict[str, float]:
        """Statistics of an empty sample."""
        return {"mean": math.nan, "max": math.inf, "min": -math.inf, "count": 0.0}

    @tool(read_only=True, group="read")
    async def samples(self, ctx: ToolContext):  # type: ignore[no-untyped-def]  # no output schema: plain data
        """Samples, some missing."""
        return {"values": [1.5, math.nan], "weights": (math.inf, 2.0)}


async def test_tool_results_are_strict_json() -> None:
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme"))
    store.add_connector(ConnectorConfig(tenant_id=tenant.id, connector_type="odd", name="odd"))
    key, _ = store.create_api_key(tenant.id)
    app = create_mcp_app(store, ConnectorRegistry([Odd]))

    def refuse(constant: str) -> Any:
        raise AssertionError(f"not strict JSON: {constant}")

    headers = {"Accept": ACCEPT, "Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    results = {}
    async with serve(app) as base, httpx.AsyncClient(base_url=base) as http:
        for name in ("odd_stats", "odd_samples"):
            call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": {}}}
            r = await http.post("/acme/connectors/odd/mcp", content=json.dumps(call), headers=headers)
            results[name] = json.loads(r.text, parse_constant=refuse)["result"]
    stats = results["odd_stats"]
    expected = {"mean": None, "max": None, "min": None, "count": 0.0}
    assert json.loads(stats["content"][0]["text"], parse_constant=refuse) == expected
    assert stats["structuredContent"] == expected
    samples = json.loads(results["odd_samples"]["content"][0]["text"], parse_constant=refuse)
    assert samples == {"values": [1.5, None], "weights": [None, 2.0]}


# -- large catalogues in pages ----------------------------------------------------------------------------


async def test_a_large_tenant_wide_catalogue_is_served_in_pages() -> None:
    store, keys, tenants, _ = build_store()
    acme = tenants["acme"]
    for i in range(100):
        store.add_connector(ConnectorConfig(tenant_id=acme.id, connector_type="notes", name=f"notes-{i:03d}"))
    upstream = UpstreamClient(transport=httpx.MockTransport(FakeNotesApi()))
    app = create_mcp_app(store, ConnectorRegistry([NotesConnector]), upstream=upstream, settings=McpSettings())
    async with serve(app) as base:
        for mode in ("auto", "legacy"):
            async with client(f"{base}/acme/mcp", keys["acme"], mode) as c:
                pages, names, cursor = 0, [], None
                while True:
                    started = time.perf_counter()
                    page = await c.list_tools(cursor=cursor)
                    assert time.perf_counter() - started < 2.0
                    assert len(page.tools) <= 200
                    pages += 1
                    names += [t.name for t in page.tools]
                    cursor = page.next_cursor
                    if cursor is None:
                        break
                # 102 connectors of one type: 101 with 5 tools under the default policy, one read-only with 4
                assert pages == 3 and len(names) == len(set(names)) == 101 * 5 + 4
                assert "notes_099__notes_whoami" in names
                result = await c.call_tool("notes_099__notes_whoami", {})
                assert result.structured_content == {"tenant": "acme", "connector": "notes-099"}
            # one connector's endpoint stays a single page without a cursor
            async with client(f"{base}/acme/connectors/notes/mcp", keys["acme"], mode) as c:
                single = await c.list_tools()
                assert len(single.tools) == 5 and single.next_cursor is None
        async with client(f"{base}/acme/mcp", keys["acme"]) as c:
            stale = (await c.list_tools()).next_cursor
            store.add_connector(ConnectorConfig(tenant_id=acme.id, connector_type="notes", name="late"))
            app.resolver.invalidate("acme")
            with pytest.raises(MCPError) as refused:
                await c.list_tools(cursor=stale)
            assert refused.value.error.code == -32602 and "list the tools again" in refused.value.error.message
            with pytest.raises(MCPError):
                await c.list_tools(cursor="not-a-cursor")
    await upstream.aclose()


# -- huge arguments ------------------------------------------------------------------------------------------


async def test_a_call_full_of_unknown_arguments_is_refused_small_and_fast() -> None:
    async with running() as (base, keys), httpx.AsyncClient(base_url=base, timeout=60) as http:
        headers = {"Accept": ACCEPT, "Content-Type": "application/json", "Authorization": f"Bearer {keys['acme']}"}
        for count in (40_000, 140_000):  # below and above the value budget: both ways are cheap
            arguments = {f"unexpected_{i:07d}": 1 for i in range(count)}
            call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call"}
            call["params"] = {"name": "notes_get_note", "arguments": {"note_id": 1, **arguments}}
            body = json.dumps(call).encode()
            r = await http.post("/acme/connectors/notes/mcp", content=body, headers=headers)
            assert r.status_code == 200
            result = r.json()["result"]
            assert result["isError"] is True
            assert len(r.content) < 4_000, len(r.content)  # it used to be 13 MB for 3.9 MB of arguments
            text = result["content"][0]["text"]
            assert text.startswith("Invalid arguments for notes_get_note:")
            if count == 40_000:
                assert "unexpected_0000000: Extra inputs are not permitted" in text
                assert "and 39,980 more" in text and "(accepted: note_id)" in text
            else:
                assert "more than 50,000 values" in text
