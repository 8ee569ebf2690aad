"""`tools/list` from the cached catalogue: the shortcut before the SDK answers byte for byte what the SDK
answers (every handshake version, every page, every error), and a changed tenant is never served stale."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
import mcp_types
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.streamable_http import EventCallback, EventMessage, EventStore
from mcp.shared.exceptions import MCPError
from mcp_types import JSONRPCMessage
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
    sdk_app: McpApp
    store: MemoryStore
    tenant: Tenant
    key: str
    connectors: list[ConnectorConfig]


@asynccontextmanager
async def serving_pair(**settings: Any) -> AsyncIterator[Pair]:
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme"))
    connectors = [
        store.add_connector(ConnectorConfig(tenant_id=tenant.id, connector_type="notes", name=name, tool_policy=ALL))
        for name in ("one", "two")
    ]
    key, _ = store.create_api_key(tenant.id, name="mcp")
    registry = ConnectorRegistry([NotesConnector])
    fast_app = create_mcp_app(store, registry, settings=McpSettings(tools_page_size=PAGE, **settings))
    sdk_settings = McpSettings(tools_page_size=PAGE, tools_list_shortcut=False, **settings)
    sdk_app = create_mcp_app(store, registry, settings=sdk_settings)
    async with serve(fast_app) as fast, serve(sdk_app) as sdk:
        yield Pair(fast, sdk, fast_app, sdk_app, store, tenant, key, connectors)


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    async with serving_pair() as served:
        yield served


def headers(key: str, version: str | None) -> dict[str, str]:
    h = {"Authorization": f"Bearer {key}", "Accept": "application/json, text/event-stream"}
    if version is not None:
        h["MCP-Protocol-Version"] = version
    return h


async def post(base: str, body: bytes, h: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.post(f"{base}/acme/mcp", content=body, headers={**h, "Content-Type": "application/json"})


VARYING = ("date", "x-request-id")
"""Headers whose values differ on every response: only their presence is compared."""


def same(a: httpx.Response, b: httpx.Response) -> None:
    """The same status, headers (the values of `VARYING` aside) and bytes."""

    def shown(r: httpx.Response) -> list[tuple[str, str]]:
        return sorted((k, "" if k in VARYING else v) for k, v in r.headers.multi_items())

    assert a.status_code == b.status_code
    assert shown(a) == shown(b)
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


async def test_sdk_clients_of_both_eras_page_through_the_same_tools(pair: Pair) -> None:
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


ENVELOPE = {
    mcp_types.PROTOCOL_VERSION_META_KEY: "2026-07-28",
    mcp_types.CLIENT_CAPABILITIES_META_KEY: {},
    mcp_types.CLIENT_INFO_META_KEY: {"name": "test", "version": "1"},
}
MODERN = [
    ("Accept", "application/json, text/event-stream"),
    ("Content-Type", "application/json"),
    ("MCP-Protocol-Version", "2026-07-28"),
    ("Mcp-Method", "tools/list"),
]


def modern(request_id: Any, params: dict[str, Any] | None = None, meta: Any = ENVELOPE) -> bytes:
    """A 2026-07-28 `tools/list` request body carrying `meta` as its `_meta` envelope."""
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": "tools/list"}
    message["params"] = {**(params or {}), "_meta": meta}
    return json.dumps(message).encode()


def modern_headers(key: str, **changes: str | None) -> list[tuple[str, str]]:
    """The headers of a 2026-07-28 request, with `changes` (header name with `_` for `-`; None drops it)."""
    names = {name.replace("_", "-").lower(): value for name, value in changes.items()}
    kept = [(k, names.pop(k.lower(), v)) for k, v in MODERN if names.get(k.lower(), "") is not None]
    return [("Authorization", f"Bearer {key}"), *kept, *((k, v) for k, v in names.items() if v is not None)]


async def post_raw(base: str, body: bytes, h: list[tuple[str, str]], tenant: str = "acme") -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.post(f"{base}/{tenant}/mcp", content=body, headers=h)


def sdk_entries(app: McpApp, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the requests that reach the SDK's transport of `app` from now on."""
    entered: list[str] = []
    manager = app._manager
    original = manager.handle_request

    async def counting(scope: Any, receive: Any, send: Any) -> None:
        entered.append(scope["path"])
        await original(scope, receive, send)

    monkeypatch.setattr(manager, "handle_request", counting)
    return entered


@pytest.mark.parametrize(
    ("request_id", "meta", "accept"),
    [
        (0, ENVELOPE, "application/json, text/event-stream"),
        ("é-1", ENVELOPE, "application/json"),  # a non-ASCII id: escaped as the SDK escapes it
        (2**40, {k: v for k, v in ENVELOPE.items() if k != mcp_types.CLIENT_INFO_META_KEY}, "*/*"),
        (3, {**ENVELOPE, "progressToken": "p-1", "example.com/trace": {"span": "x"}}, "application/json"),
        (4, {**ENVELOPE, mcp_types.CLIENT_CAPABILITIES_META_KEY: {"sampling": {}}}, "application/json"),
    ],
)
async def test_the_2026_era_is_served_by_the_shortcut_byte_for_byte(
    pair: Pair, monkeypatch: pytest.MonkeyPatch, request_id: Any, meta: dict[str, Any], accept: str
) -> None:
    entered = sdk_entries(pair.fast_app, monkeypatch)
    h = modern_headers(pair.key, accept=accept)
    cursor: str | None = None
    names: list[str] = []
    pages = 0
    while True:
        body = modern(request_id, {"cursor": cursor} if cursor else None, meta)
        fast, sdk = await post_raw(pair.fast, body, h), await post_raw(pair.sdk, body, h)
        same(fast, sdk)
        assert fast.status_code == 200, fast.text
        message = fast.json()
        assert message["id"] == request_id
        result = message["result"]
        assert result["resultType"] == "complete" and "io.modelcontextprotocol/serverInfo" in result["_meta"]
        assert (result["ttlMs"], result["cacheScope"]) == (5000, "private")  # McpSettings.cache_ttl, per caller
        names += [t["name"] for t in result["tools"]]
        pages += 1
        cursor = result.get("nextCursor")
        if cursor is None:
            break
    assert entered == []  # every page was the shortcut's
    assert pages > 1 and len(names) == len(set(names)) == 2 * len(NotesConnector.enabled_tools(ALL))


NO_CLIENT_CAPABILITIES = {k: v for k, v in ENVELOPE.items() if k != mcp_types.CLIENT_CAPABILITIES_META_KEY}


@pytest.mark.parametrize(
    ("body", "changes"),
    [
        (modern(1, {"cursor": "bm9wZQ"}), {}),  # a cursor it did not issue: -32602
        (modern(2, {"cursor": 5}), {}),
        (modern(3, {"extra": 1}), {}),
        (modern(4), {"mcp_method": None}),  # missing Mcp-Method
        (modern(5), {"mcp_method": "tools/call"}),  # wrong Mcp-Method
        (modern(6), {"mcp_method": "Tools/List"}),
        (modern(7, meta={**ENVELOPE, mcp_types.PROTOCOL_VERSION_META_KEY: "2025-11-25"}), {}),  # header mismatch
        (modern(8, meta=NO_CLIENT_CAPABILITIES), {}),
        (modern(9, meta="not an envelope"), {}),
        (modern(10, meta={**ENVELOPE, "progressToken": [1]}), {}),  # a `_meta` the params do not validate with
        (modern(11), {"mcp_protocol_version": "2099-01-01"}),
        (modern(12), {"accept": "text/html"}),
        (modern(13), {"accept": "text/event-stream"}),
        (modern(14), {"content_type": "text/plain"}),
        (modern(True), {}),
        (modern(None), {}),
        (modern(1.5), {}),
        (json.dumps({"jsonrpc": "2.0", "method": "tools/list", "params": {"_meta": ENVELOPE}}).encode(), {}),
        (json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).encode(), {}),  # no envelope at all
        (json.dumps({"jsonrpc": "1.0", "id": 1, "method": "tools/list", "params": {"_meta": ENVELOPE}}).encode(), {}),
        (modern(15)[:-3], {}),  # cut
        (b"[]", {}),
        (modern(16).replace(b'"tools/list"', b'"tools/call"'), {"mcp_method": "tools/call", "mcp_name": "x"}),
    ],
)
async def test_2026_era_requests_the_shortcut_declines_are_the_sdks_own(
    pair: Pair, body: bytes, changes: dict[str, str | None]
) -> None:
    h = modern_headers(pair.key, **changes)
    fast, sdk = await post_raw(pair.fast, body, h), await post_raw(pair.sdk, body, h)
    same(fast, sdk)


async def test_the_2026_era_in_sse_mode_is_served_pre_shaped_inside_the_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[int] = []
    original = Listing.shaped

    def counting(self: Listing, *args: Any) -> dict[str, Any]:
        served.append(1)
        return original(self, *args)

    monkeypatch.setattr(Listing, "shaped", counting)
    async with serving_pair(json_response=False) as p:
        entered = sdk_entries(p.fast_app, monkeypatch)
        h = modern_headers(p.key)
        cursor: str | None = None
        pages = 0
        while True:
            body = modern(pages, {"cursor": cursor} if cursor else None)
            fast, sdk = await post_raw(p.fast, body, h), await post_raw(p.sdk, body, h)
            same(fast, sdk)
            pages += 1
            cursor = fast.json()["result"].get("nextCursor")
            if cursor is None:
                break
        for params in ({"cursor": "bm9wZQ"}, {"cursor": 5}, {"extra": 1}):
            same(await post_raw(p.fast, modern(99, params), h), await post_raw(p.sdk, modern(99, params), h))
    assert pages > 1 and len(served) == pages  # every page came from the pre-shaped catalogue
    assert len(entered) == pages + 3  # no shortcut without JSON responses: the SDK's transport framed each


async def test_a_duplicated_routing_header_is_the_sdks_refusal(pair: Pair) -> None:
    h = [*modern_headers(pair.key), ("Mcp-Method", "tools/list")]
    fast, sdk = await post_raw(pair.fast, modern(1), h), await post_raw(pair.sdk, modern(1), h)
    same(fast, sdk)
    assert fast.status_code == 400 and "more than once" in fast.json()["error"]["message"]


@pytest.mark.parametrize("era", ["2025-11-25", "2026-07-28"])
async def test_unknown_tenants_and_wrong_keys_are_refused_before_the_shortcut(pair: Pair, era: str) -> None:
    body = modern(1) if era == "2026-07-28" else request(1)
    h = modern_headers(pair.key, mcp_protocol_version=era, mcp_method="tools/list")
    wrong = [(k, "Bearer sk_wrong" if k == "Authorization" else v) for k, v in h]
    for headers_, tenant, status in ((wrong, "acme", 401), (h, "nope", 404), (h[1:], "acme", 401)):
        fast = await post_raw(pair.fast, body, headers_, tenant)
        sdk = await post_raw(pair.sdk, body, headers_, tenant)
        same(fast, sdk)
        assert fast.status_code == status
        assert b"notes_" not in fast.content


async def test_a_policy_edit_reaches_the_2026_era_at_once(pair: Pair) -> None:
    h = modern_headers(pair.key)
    first = (await post_raw(pair.fast, modern(1), h)).json()["result"]
    one = pair.connectors[0]
    pair.store.add_connector(one.model_copy(update={"tool_policy": ToolPolicy(read_only=True)}))
    pair.fast_app.resolver.invalidate("acme")
    pair.sdk_app.resolver.invalidate("acme")
    stale = modern(2, {"cursor": first["nextCursor"]})
    fast, sdk = await post_raw(pair.fast, stale, h), await post_raw(pair.sdk, stale, h)
    same(fast, sdk)
    assert fast.json()["error"]["code"] == -32602
    fresh, sdk_fresh = await post_raw(pair.fast, modern(3), h), await post_raw(pair.sdk, modern(3), h)
    same(fresh, sdk_fresh)
    assert fresh.json()["result"]["tools"] != first["tools"]


async def test_dns_rebinding_protection_comes_before_the_shortcut(monkeypatch: pytest.MonkeyPatch) -> None:
    async with serving_pair(allowed_hosts=["mcp.example"], allowed_origins=["https://mcp.example"]) as p:
        entered = sdk_entries(p.fast_app, monkeypatch)
        for era, body in (("2026-07-28", modern(1)), ("2025-11-25", request(1))):
            entered.clear()
            base = modern_headers(p.key, mcp_protocol_version=era, host="mcp.example")
            fast, sdk = await post_raw(p.fast, body, base), await post_raw(p.sdk, body, base)
            same(fast, sdk)
            assert fast.status_code == 200 and entered == []
            for change, status in (({"host": "evil.example"}, 421), ({"origin": "https://evil.example"}, 403)):
                h = modern_headers(p.key, mcp_protocol_version=era, **{"host": "mcp.example", **change})
                fast, sdk = await post_raw(p.fast, body, h), await post_raw(p.sdk, body, h)
                same(fast, sdk)
                assert fast.status_code == status


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


# -- stateful sessions: answered before the SDK, byte for byte --------------------------------------


class CountingEventStore(EventStore):
    """Event ids counted from 1, so that two apps sent the same requests give the same ids."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, JSONRPCMessage | None]] = []

    async def store_event(self, stream_id: str, message: JSONRPCMessage | None) -> str:
        event_id = str(len(self.events) + 1)
        self.events.append((event_id, stream_id, message))
        return event_id

    async def replay_events_after(self, last_event_id: str, send_callback: EventCallback) -> str | None:
        ids = [event[0] for event in self.events]
        if last_event_id not in ids:
            return None
        stream = self.events[ids.index(last_event_id)][1]
        for event_id, stream_id, message in self.events[ids.index(last_event_id) + 1 :]:
            if stream_id == stream and message is not None:
                await send_callback(EventMessage(message, event_id))
        return stream

    def dumped(self) -> list[tuple[str, str, Any]]:
        return [(i, s, m.model_dump(by_alias=True, exclude_unset=True) if m else None) for i, s, m in self.events]


@dataclass
class SessionPair:
    """The same store served statefully twice: with the session shortcut (`fast`) and through the SDK only."""

    fast: str
    sdk: str
    fast_app: McpApp
    sdk_app: McpApp
    store: MemoryStore
    keys: dict[str, str]
    connectors: list[ConnectorConfig]


@asynccontextmanager
async def serving_sessions(*, event_stores: bool = False, **settings: Any) -> AsyncIterator[SessionPair]:
    store = MemoryStore()
    acme = store.add_tenant(Tenant(slug="acme"))
    globex = store.add_tenant(Tenant(slug="globex"))
    connectors = [
        store.add_connector(ConnectorConfig(tenant_id=acme.id, connector_type="notes", name=name, tool_policy=ALL))
        for name in ("one", "two")
    ]
    store.add_connector(ConnectorConfig(tenant_id=globex.id, connector_type="notes", name="one", tool_policy=ALL))
    keys = {
        "acme": store.create_api_key(acme.id, name="mcp")[0],
        "acme-other": store.create_api_key(acme.id, name="other")[0],
        "globex": store.create_api_key(globex.id, name="mcp")[0],
    }
    registry = ConnectorRegistry([NotesConnector])
    apps = []
    for shortcut in (True, False):
        stores = {"event_store": CountingEventStore(), "retry_interval": 1500} if event_stores else {}
        each = McpSettings(tools_page_size=PAGE, stateful=True, tools_list_shortcut=shortcut, **stores, **settings)
        apps.append(create_mcp_app(store, registry, settings=each))
    async with serve(apps[0]) as fast, serve(apps[1]) as sdk:
        yield SessionPair(fast, sdk, apps[0], apps[1], store, keys, connectors)


@pytest.fixture
async def sessions() -> AsyncIterator[SessionPair]:
    async with serving_sessions() as served:
        yield served


SESSION_ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@dataclass
class Session:
    http: httpx.AsyncClient
    base: str
    id: str
    version: str
    key: str
    path: str = "/acme/mcp"

    async def post(self, body: bytes, path: str | None = None, **changes: str | None) -> httpx.Response:
        """POST `body` on this session; `changes` replace headers (`_` for `-`; None drops one)."""
        h: dict[str, str | None] = {
            **SESSION_ACCEPT,
            "Authorization": f"Bearer {self.key}",
            "Mcp-Session-Id": self.id,
            "MCP-Protocol-Version": self.version,
        }
        for name, value in changes.items():
            wanted = name.replace("_", "-").lower()
            h = {k: v for k, v in h.items() if k.lower() != wanted}
            h[name.replace("_", "-")] = value
        sent = {k: v for k, v in h.items() if v is not None}
        return await self.http.post(f"{self.base}{path or self.path}", content=body, headers=sent)


@asynccontextmanager
async def session(
    base: str,
    key: str,
    version: str = "2025-11-25",
    *,
    init: dict[str, Any] | None = None,
    initialized: bool = True,
    host: str | None = None,
) -> AsyncIterator[Session]:
    """A session opened on `base` with `initialize` (of `init`, or a valid one for `version`)."""
    params = init if init is not None else {"protocolVersion": version, "capabilities": {}, "clientInfo": CLIENT}
    extra = {"Host": host} if host is not None else {}
    async with httpx.AsyncClient(timeout=10, headers=extra) as http:
        r = await http.post(
            f"{base}/acme/mcp",
            json={"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params},
            headers={**SESSION_ACCEPT, "Authorization": f"Bearer {key}"},
        )
        assert r.status_code == 200, r.text
        opened = Session(http, base, r.headers["mcp-session-id"], version, key)
        if initialized:
            note = await opened.post(b'{"jsonrpc":"2.0","method":"notifications/initialized"}')
            assert note.status_code == 202
        yield opened


CLIENT = {"name": "t", "version": "1"}


def same_in_session(a: httpx.Response, b: httpx.Response, sessions: tuple[str, str]) -> None:
    """`same`, where each app names its own session: a session id answered is the request's, or a new one in both."""

    def shown(r: httpx.Response, own: str) -> list[tuple[str, str]]:
        def value(k: str, v: str) -> str:
            if k == "mcp-session-id":
                return "<own>" if v == own else "<new>"
            return "" if k in VARYING else v

        return sorted((k, value(k, v)) for k, v in r.headers.multi_items())

    assert a.status_code == b.status_code, (a.text, b.text)
    assert shown(a, sessions[0]) == shown(b, sessions[1])
    assert a.content == b.content


async def exchange(
    fast: Session, sdk: Session, body: bytes, path: str | None = None, **changes: str | None
) -> httpx.Response:
    """The same POST on both sessions: both answers must be identical; returns the shortcut app's."""
    a, b = await fast.post(body, path, **changes), await sdk.post(body, path, **changes)
    same_in_session(a, b, (fast.id, sdk.id))
    return a


def event_message(r: httpx.Response) -> dict[str, Any]:
    """The JSON-RPC message of an SSE answer."""
    return next(json.loads(line[5:]) for line in r.text.splitlines() if line.startswith("data:") and line[5:].strip())


async def page_through(fast: Session, sdk: Session, first_id: int = 1, **changes: str | None) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        body = request(first_id + len(pages), {"cursor": cursor} if cursor is not None else None)
        r = await exchange(fast, sdk, body, **changes)
        assert r.status_code == 200 and r.headers["content-type"] == "text/event-stream"
        pages.append(event_message(r)["result"])
        cursor = pages[-1].get("nextCursor")
        if cursor is None:
            return pages


@pytest.mark.parametrize("version", HANDSHAKE_PROTOCOL_VERSIONS)
async def test_session_pages_are_the_sdks_byte_for_byte_without_the_sdk(
    sessions: SessionPair, monkeypatch: pytest.MonkeyPatch, version: str
) -> None:
    key = sessions.keys["acme"]
    async with session(sessions.fast, key, version) as fast, session(sessions.sdk, key, version) as sdk:
        entered = sdk_entries(sessions.fast_app, monkeypatch)
        pages = await page_through(fast, sdk)
        names = [t["name"] for page in pages for t in page["tools"]]
        assert len(pages) > 2 and len(names) == len(set(names)) == 2 * len(NotesConnector.enabled_tools(ALL))
        cursor = pages[0]["nextCursor"]
        for body in (
            request("é-str", {"cursor": cursor}),
            request(2**40, {"_meta": {"progressToken": "p"}}),
            request(41, {"_meta": {"progressToken": 1, "example.com/x": {"y": 2}}, "cursor": None}),
        ):
            assert "result" in event_message(await exchange(fast, sdk, body))
        assert entered == []  # every page and each of these: the shortcut's
        for body in (
            request(50, {"cursor": "bm9wZQ"}),  # not one of ours: -32602
            request(51, {"cursor": 12}),
            request(52, {"extra": 1}),
            request(53, {"_meta": {"progressToken": [1]}}),  # a `_meta` the params refuse
            request(54, {"_meta": 5}),
            request(55, []),
            request(True),
            request(None),
            request(1.5),
            b'{"jsonrpc":"2.0","id":56,"method":"tools/list"',  # cut
            b'{"jsonrpc":"1.0","id":57,"method":"tools/list"}',
            b'{"jsonrpc":"2.0","id":58,"method":"tools/list","extra":1}',
            b"[]",
            b'{"jsonrpc":"2.0","id":59,"method":"tools/call","params":{"name":"one__nope"}}',
        ):
            await exchange(fast, sdk, body)
        assert len(entered) == 14  # each declined: the SDK answered


@pytest.mark.parametrize(
    ("changes", "fast_path"),
    [
        ({"MCP-Protocol-Version": None}, True),
        ({"MCP-Protocol-Version": "2025-03-26"}, True),  # not the negotiated one: the SDK serves it too
        ({"Accept": "*/*"}, True),
        ({"Accept": "text/*, application/*;q=0.5"}, True),
        ({"Content-Type": "application/json; charset=utf-8"}, True),
        ({"MCP-Protocol-Version": "1999-01-01"}, False),
        ({"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/list"}, False),
        ({"Accept": "application/json"}, False),
        ({"Accept": "text/event-stream"}, False),
        ({"Accept": ""}, False),
        ({"Content-Type": "text/plain"}, False),
        ({"Content-Type": None}, False),
        ({"Mcp-Session-Id": None}, False),
        ({"Mcp-Session-Id": "0" * 32}, False),  # unknown
    ],
)
async def test_session_headers_the_sdk_refuses_are_still_refused(
    sessions: SessionPair, monkeypatch: pytest.MonkeyPatch, changes: dict[str, str | None], fast_path: bool
) -> None:
    key = sessions.keys["acme"]
    async with session(sessions.fast, key) as fast, session(sessions.sdk, key) as sdk:
        entered = sdk_entries(sessions.fast_app, monkeypatch)
        r = await exchange(fast, sdk, request(1), **changes)
        assert (entered == []) is fast_path
        assert (r.status_code == 200) is fast_path or changes.get("Mcp-Session-Id", "") is None


async def test_a_session_of_another_key_tenant_or_endpoint_is_not_found(sessions: SessionPair) -> None:
    key = sessions.keys["acme"]
    async with session(sessions.fast, key) as fast, session(sessions.sdk, key) as sdk:
        for path, other in (
            (None, sessions.keys["acme-other"]),  # the same tenant, another key
            ("/globex/mcp", sessions.keys["globex"]),
            ("/acme/connectors/one/mcp", key),  # the same key on another endpoint
        ):
            r = await exchange(fast, sdk, request(1), path, Authorization=f"Bearer {other}")
            assert r.status_code == 404 and b"notes_" not in r.content
        assert (await exchange(fast, sdk, request(2))).status_code == 200  # the session itself is untouched


async def test_a_terminated_session_is_not_found(sessions: SessionPair) -> None:
    key = sessions.keys["acme"]
    async with session(sessions.fast, key) as fast, session(sessions.sdk, key) as sdk:
        await exchange(fast, sdk, request(1))
        for s in (fast, sdk):
            ended = await s.http.delete(
                f"{s.base}/acme/mcp",
                headers={"Authorization": f"Bearer {key}", "Mcp-Session-Id": s.id, "MCP-Protocol-Version": s.version},
            )
            assert ended.status_code == 200
        r = await exchange(fast, sdk, request(2))
        assert r.status_code == 404 and b"notes_" not in r.content


async def test_an_uninitialized_session_gets_the_sdks_refusal(
    sessions: SessionPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = sessions.keys["acme"]
    refused = {"protocolVersion": "2025-11-25"}  # no capabilities, no clientInfo: initialize fails, the session stays
    async with (
        session(sessions.fast, key, init=refused, initialized=False) as fast,
        session(sessions.sdk, key, init=refused, initialized=False) as sdk,
    ):
        entered = sdk_entries(sessions.fast_app, monkeypatch)
        message = event_message(await exchange(fast, sdk, request(1)))
        assert "error" in message and entered != []
    async with (
        session(sessions.fast, key, initialized=False) as fast,
        session(sessions.sdk, key, initialized=False) as sdk,
    ):
        # `initialize` accepted, `notifications/initialized` not sent yet: the SDK serves it, and so does the shortcut.
        entered.clear()
        assert "result" in event_message(await exchange(fast, sdk, request(1)))
        assert entered == []


async def test_session_dns_rebinding_protection_comes_first(monkeypatch: pytest.MonkeyPatch) -> None:
    async with serving_sessions(allowed_hosts=["mcp.example"], allowed_origins=["https://mcp.example"]) as p:
        key = p.keys["acme"]
        async with session(p.fast, key, host="mcp.example") as fast, session(p.sdk, key, host="mcp.example") as sdk:
            entered = sdk_entries(p.fast_app, monkeypatch)
            assert (await exchange(fast, sdk, request(1))).status_code == 200 and entered == []
            for change, status in (({"Host": "evil.example"}, 421), ({"Origin": "https://evil.example"}, 403)):
                assert (await exchange(fast, sdk, request(2), **change)).status_code == status
            assert len(entered) == 2


async def test_session_event_ids_priming_and_replay_are_the_sdks(monkeypatch: pytest.MonkeyPatch) -> None:
    async with serving_sessions(event_stores=True) as p:
        key = p.keys["acme"]
        fast_store, sdk_store = (app.settings.event_store for app in (p.fast_app, p.sdk_app))
        assert isinstance(fast_store, CountingEventStore) and isinstance(sdk_store, CountingEventStore)
        async with session(p.fast, key) as fast, session(p.sdk, key) as sdk:
            entered = sdk_entries(p.fast_app, monkeypatch)
            await page_through(fast, sdk)  # 2025-11-25: a priming event (with retry) before each response
            await page_through(fast, sdk, 20, MCP_Protocol_Version="2025-06-18")  # too old for priming
            await page_through(fast, sdk, 40, MCP_Protocol_Version=None)
            await exchange(fast, sdk, request(60, {"cursor": "bm9wZQ"}))  # declined: the SDK's error, stored too
            assert len(entered) == 1
            first = await exchange(fast, sdk, request(70))
            assert first.text.startswith("id: ") and "retry: 1500" in first.text
            assert fast_store.dumped() == sdk_store.dumped()
            priming = first.text.split("\r\n", 1)[0].removeprefix("id: ")
            replays = []
            for s in (fast, sdk):
                h = {"Authorization": f"Bearer {key}", "Mcp-Session-Id": s.id, "MCP-Protocol-Version": s.version}
                h |= {"Accept": "text/event-stream", "Last-Event-ID": priming}
                async with s.http.stream("GET", f"{s.base}/acme/mcp", headers=h) as r:
                    lines = []
                    async for line in r.aiter_lines():
                        lines.append(line)
                        if line.startswith("data: {"):
                            break
                replays.append(lines)
            assert replays[0] == replays[1] and json.loads(replays[0][-1][6:])["id"] == 70


async def test_a_session_that_listed_through_the_shortcut_hears_list_changed(
    sessions: SessionPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    heard: list[Any] = []
    changed = anyio.Event()

    async def handler(message: Any) -> None:
        if isinstance(message, mcp_types.ToolListChangedNotification):
            heard.append(message)
            changed.set()

    entered = sdk_entries(sessions.fast_app, monkeypatch)
    h = {"Authorization": f"Bearer {sessions.keys['acme']}"}
    async with (
        httpx.AsyncClient(headers=h, timeout=10) as http,
        Client(
            streamable_http_client(f"{sessions.fast}/acme/mcp", http_client=http),  # type: ignore[arg-type]
            mode="legacy",
            message_handler=handler,
        ) as client,
    ):
        await anyio.sleep(0.2)  # the client's GET stream is open
        before = len(entered)
        listed = await client.list_tools()
        assert listed.tools and len(entered) == before  # the shortcut answered
        one = sessions.connectors[0]
        sessions.store.add_connector(one.model_copy(update={"tool_policy": ToolPolicy(read_only=True)}))
        sessions.fast_app.resolver.invalidate("acme")
        with anyio.move_on_after(5):
            await changed.wait()
        assert len(heard) == 1


async def test_a_session_that_only_lists_tools_stays_open_past_the_idle_timeout() -> None:
    async with serving_sessions(session_idle_timeout=1.0) as p:
        key = p.keys["acme"]
        async with session(p.fast, key) as fast:
            for i in range(8):  # 2 s of listing, each well within the timeout of the one before
                r = await fast.post(request(i))
                assert r.status_code == 200 and "result" in event_message(r)
                await anyio.sleep(0.25)
            await anyio.sleep(2.0)
            assert (await fast.post(request(99))).status_code == 404  # then idle: the SDK ended it


class RefusingEventStore(CountingEventStore):
    """Stores priming events; refuses to store the response to request 13."""

    async def store_event(self, stream_id: str, message: JSONRPCMessage | None) -> str:
        if message is not None and stream_id == "13":
            raise RuntimeError("the event store is down")
        return await super().store_event(stream_id, message)


async def test_a_response_the_event_store_refuses_is_a_500_not_a_hang() -> None:
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme"))
    store.add_connector(ConnectorConfig(tenant_id=tenant.id, connector_type="notes", name="one", tool_policy=ALL))
    key, _ = store.create_api_key(tenant.id, name="mcp")
    settings = McpSettings(stateful=True, event_store=RefusingEventStore())
    async with serve(create_mcp_app(store, ConnectorRegistry([NotesConnector]), settings=settings)) as base:
        async with session(base, key) as s:
            refused = await s.post(request(13))
            assert refused.status_code == 500 and refused.headers["mcp-session-id"] == s.id
            assert refused.json() == {
                "jsonrpc": "2.0",
                "id": None,
                "error": {"code": -32603, "message": "Error handling POST request"},
            }
            assert b"notes_" not in refused.content
            assert "result" in event_message(await s.post(request(14)))  # the session goes on
