"""`tools/list` from the cached catalogue: the shortcut before the SDK answers byte for byte what the SDK
answers (every handshake version, every page, every error), and a changed tenant is never served stale."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import mcp_types
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

from sagemcp.mcp import McpApp, McpSettings, create_mcp_app
from sagemcp.mcp._catalogue import Listing
from sagemcp.platform import ConnectorConfig, ConnectorRegistry, MemoryStore, Tenant, ToolPolicy

from ._support import NotesConnector, serve

PAGE = 4
ALL = ToolPolicy(groups=["read", "write", "admin"])


@dataclass
class Pair:
    """The same store served twice: with the shortcut (`fast`) and through the SDK only (`sdk`)."""

    fast: str
    sdk: str
    fast_app: McpApp
    store: MemoryStore
    tenant: Tenant
    key: str
    connectors: list[ConnectorConfig]


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme"))
    connectors = [
        store.add_connector(ConnectorConfig(tenant_id=tenant.id, connector_type="notes", name=name, tool_policy=ALL))
        for name in ("one", "two")
    ]
    key, _ = store.create_api_key(tenant.id, name="mcp")
    registry = ConnectorRegistry([NotesConnector])
    fast_app = create_mcp_app(store, registry, settings=McpSettings(tools_page_size=PAGE))
    sdk_app = create_mcp_app(store, registry, settings=McpSettings(tools_page_size=PAGE, tools_list_shortcut=False))
    async with serve(fast_app) as fast, serve(sdk_app) as sdk:
        yield Pair(fast, sdk, fast_app, store, tenant, key, connectors)


def headers(key: str, version: str | None) -> dict[str, str]:
    h = {"Authorization": f"Bearer {key}", "Accept": "application/json, text/event-stream"}
    if version is not None:
        h["MCP-Protocol-Version"] = version
    return h


async def post(base: str, body: bytes, h: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.post(f"{base}/acme/mcp", content=body, headers={**h, "Content-Type": "application/json"})


def same(a: httpx.Response, b: httpx.Response) -> None:
    assert a.status_code == b.status_code
    assert a.headers.get("content-type") == b.headers.get("content-type")
    assert a.content == b.content


def request(request_id: Any, params: Any = None) -> bytes:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": "tools/list"}
    if params is not None:
        message["params"] = params
    return json.dumps(message).encode()


@pytest.mark.parametrize("version", [None, *HANDSHAKE_PROTOCOL_VERSIONS])
async def test_every_page_is_the_sdks_answer_byte_for_byte(pair: Pair, version: str | None) -> None:
    h = headers(pair.key, version)
    cursor: str | None = None
    names: list[str] = []
    pages = 0
    while True:
        body = request(pages + 1, {"cursor": cursor} if cursor is not None else None)
        fast, sdk = await post(pair.fast, body, h), await post(pair.sdk, body, h)
        same(fast, sdk)
        result = fast.json()["result"]
        names += [t["name"] for t in result["tools"]]
        pages += 1
        cursor = result.get("nextCursor")
        if cursor is None:
            break
    served = len(NotesConnector.enabled_tools(ALL))
    assert len(names) == 2 * served and len(set(names)) == len(names)
    assert pages == -(-2 * served // PAGE)


@pytest.mark.parametrize(
    "body",
    [
        request("x", {"cursor": "bm90IGEgY3Vyc29y"}),  # not one of ours: -32602
        request(7, {"cursor": 12}),  # not a string
        request(8, {"cursor": None}),  # null cursor: the first page
        request(9, {"_meta": {"progressToken": 1}}),
        request(True),  # an id the protocol refuses
        request(None),
        b'{"jsonrpc":"2.0","id":1,"method":"tools/list"',  # cut
        b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"one__nope"}}',
        b"[]",
    ],
)
async def test_other_requests_and_errors_are_the_sdks_own(pair: Pair, body: bytes) -> None:
    h = headers(pair.key, "2025-11-25")
    same(await post(pair.fast, body, h), await post(pair.sdk, body, h))


async def test_headers_the_sdk_refuses_are_still_refused(pair: Pair) -> None:
    body = request(1)
    for h in (
        {**headers(pair.key, "2025-11-25"), "Accept": "text/html"},
        headers(pair.key, "1999-01-01"),
    ):
        fast, sdk = await post(pair.fast, body, h), await post(pair.sdk, body, h)
        assert fast.status_code == sdk.status_code >= 400
        assert fast.content == sdk.content
    refused = await post(pair.fast, body, headers("sk_wrong", None))
    assert refused.status_code == 401


async def test_the_shortcut_answers_without_the_sdk(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    entered: list[str] = []
    manager = pair.fast_app._manager
    original = manager.handle_request

    async def counting(scope: Any, receive: Any, send: Any) -> None:
        entered.append(scope["path"])
        await original(scope, receive, send)

    monkeypatch.setattr(manager, "handle_request", counting)
    h = headers(pair.key, "2025-11-25")
    first = await post(pair.fast, request(1), h)
    assert first.status_code == 200 and entered == []
    await post(pair.fast, request(2, {"cursor": first.json()["result"]["nextCursor"]}), h)
    assert entered == []
    await post(pair.fast, request(3, {"cursor": "bm9wZQ"}), h)  # a cursor it did not issue goes to the SDK
    assert len(entered) == 1


async def test_a_policy_edit_is_served_at_once_and_old_cursors_are_refused(pair: Pair) -> None:
    h = headers(pair.key, "2025-11-25")
    first = (await post(pair.fast, request(1), h)).json()["result"]
    old_cursor = first["nextCursor"]
    one = pair.connectors[0]
    pair.store.add_connector(one.model_copy(update={"tool_policy": ToolPolicy(read_only=True)}))
    pair.fast_app.resolver.invalidate("acme")
    names: list[str] = []
    cursor: str | None = None
    while True:
        page = (await post(pair.fast, request(2, {"cursor": cursor} if cursor else None), h)).json()["result"]
        names += [t["name"] for t in page["tools"]]
        cursor = page.get("nextCursor")
        if cursor is None:
            break
    assert "one__notes_create_note" not in names and "two__notes_create_note" in names
    stale = (await post(pair.fast, request(3, {"cursor": old_cursor}), h)).json()
    assert stale["error"]["code"] == -32602 and "list the tools again" in stale["error"]["message"]


async def test_the_2026_era_and_sessions_page_through_the_sdk_with_the_same_tools(pair: Pair) -> None:
    h = {"Authorization": f"Bearer {pair.key}"}
    listings = []
    for mode in ("auto", "legacy"):
        async with (
            httpx.AsyncClient(headers=h, timeout=10) as http,
            Client(streamable_http_client(f"{pair.fast}/acme/mcp", http_client=http), mode=mode) as client,  # type: ignore[arg-type]
        ):
            tools, cursor = [], None
            while True:
                result = await client.list_tools(cursor=cursor)
                tools += [t.name for t in result.tools]
                cursor = result.next_cursor
                if cursor is None:
                    break
            listings.append(tools)
            with pytest.raises(MCPError) as info:
                await client.list_tools(cursor="bm9wZQ")
            assert info.value.error.code == -32602
    assert listings[0] == listings[1] and len(listings[0]) == 2 * len(NotesConnector.enabled_tools(ALL))


async def test_the_listing_is_built_once_per_tenant_view(pair: Pair) -> None:
    h = headers(pair.key, "2025-11-25")
    await post(pair.fast, request(1), h)
    view = await pair.fast_app.resolver.view("acme")
    built = dict(view.listings)
    assert len(built) == 1
    for i in range(3):
        await post(pair.fast, request(i), h)
    assert dict(view.listings) == built and all(a is b for a, b in zip(view.listings.values(), built.values()))


def modern(request_id: Any, params: dict[str, Any] | None = None) -> tuple[bytes, dict[str, str]]:
    meta = {
        mcp_types.PROTOCOL_VERSION_META_KEY: "2026-07-28",
        mcp_types.CLIENT_CAPABILITIES_META_KEY: {},
        mcp_types.CLIENT_INFO_META_KEY: {"name": "test", "version": "1"},
    }
    body = json.dumps(
        {"jsonrpc": "2.0", "id": request_id, "method": "tools/list", "params": {**(params or {}), "_meta": meta}}
    )
    return body.encode(), {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/list"}


async def test_the_2026_era_answers_are_the_sdks_byte_for_byte(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[int] = []
    original = Listing.shaped

    def counting(self: Listing, *args: Any) -> dict[str, Any]:
        served.append(1)
        return original(self, *args)

    monkeypatch.setattr(Listing, "shaped", counting)
    h = {**headers(pair.key, None)}
    h.pop("MCP-Protocol-Version", None)
    cursor: str | None = None
    pages = 0
    while True:
        body, extra = modern(pages, {"cursor": cursor} if cursor else None)
        fast, sdk = await post(pair.fast, body, {**h, **extra}), await post(pair.sdk, body, {**h, **extra})
        same(fast, sdk)
        result = fast.json()["result"]
        assert result["resultType"] == "complete" and "io.modelcontextprotocol/serverInfo" in result["_meta"]
        pages += 1
        cursor = result.get("nextCursor")
        if cursor is None:
            break
    assert pages > 1 and len(served) == pages  # every page came from the pre-shaped catalogue
    for params in ({"cursor": "bm9wZQ"}, {"cursor": 5}, {"extra": 1}):
        body, extra = modern(99, params)
        same(await post(pair.fast, body, {**h, **extra}), await post(pair.sdk, body, {**h, **extra}))


@pytest.fixture
async def stateful_pair() -> AsyncIterator[tuple[str, str, str]]:
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme"))
    for name in ("one", "two"):
        store.add_connector(ConnectorConfig(tenant_id=tenant.id, connector_type="notes", name=name, tool_policy=ALL))
    key, _ = store.create_api_key(tenant.id, name="mcp")
    registry = ConnectorRegistry([NotesConnector])
    settings = {"tools_page_size": PAGE, "stateful": True}
    fast_app = create_mcp_app(store, registry, settings=McpSettings(**settings))
    sdk_app = create_mcp_app(store, registry, settings=McpSettings(**settings, tools_list_shortcut=False))
    async with serve(fast_app) as fast, serve(sdk_app) as sdk:
        yield fast, sdk, key


async def session_pages(base: str, key: str) -> list[dict[str, Any]]:
    """Every page of tools/list in one stateful session, as raw results, and a stale cursor's error."""
    pages: list[dict[str, Any]] = []
    async with httpx.AsyncClient(timeout=10, headers={"Authorization": f"Bearer {key}"}) as http:
        url = f"{base}/acme/mcp"
        accept = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
        init = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
        r = await http.post(
            url, json={"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": init}, headers=accept
        )
        session = {**accept, "Mcp-Session-Id": r.headers["mcp-session-id"], "MCP-Protocol-Version": "2025-11-25"}
        await http.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session)
        cursor: str | None = None
        for i in range(1, 20):
            params = {"cursor": cursor} if cursor else {}
            r = await http.post(
                url, json={"jsonrpc": "2.0", "id": i, "method": "tools/list", "params": params}, headers=session
            )
            message = next(
                json.loads(line[5:]) for line in r.text.splitlines() if line.startswith("data:") and line[5:].strip()
            )
            pages.append(message)
            cursor = message["result"].get("nextCursor")
            if cursor is None:
                break
        r = await http.post(
            url,
            json={"jsonrpc": "2.0", "id": 99, "method": "tools/list", "params": {"cursor": "bm9wZQ"}},
            headers=session,
        )
        pages.append(
            next(json.loads(line[5:]) for line in r.text.splitlines() if line.startswith("data:") and line[5:].strip())
        )
    return pages


async def test_a_session_pages_through_the_same_answers(stateful_pair: tuple[str, str, str]) -> None:
    fast, sdk, key = stateful_pair
    fast_pages, sdk_pages = await session_pages(fast, key), await session_pages(sdk, key)
    assert fast_pages == sdk_pages
    assert len(fast_pages) > 2 and fast_pages[-1]["error"]["code"] == -32602
