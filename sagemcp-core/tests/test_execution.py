"""One tool-run pipeline: the MCP adapter and `sagemcp.testing.call_tool` give the same result for every outcome."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from pydantic import BaseModel, Field

from sagemcp import BearerToken, Connector, ConnectorInfo, Credential, Page, ToolContext, tool
from sagemcp.errors import InvalidArguments
from sagemcp.markdown import page_table
from sagemcp.mcp import McpSettings, create_mcp_app
from sagemcp.platform import (
    AuditEvent,
    ConnectorConfig,
    ConnectorRegistry,
    MemoryStore,
    Tenant,
    ToolPolicy,
    UpstreamClient,
)
from sagemcp.testing import call_tool

from ._support import serve

REQUEST_ID = "test-request"  # what call_tool uses; the MCP client sends it as X-Request-ID


class Item(BaseModel):
    id: int
    name: str
    note: str | None = None


class ItemList(Page[Item]):
    def to_markdown(self) -> str:
        return page_table(self, ["id", "name", "note"], title="Items")


class Shop(Connector):
    info = ConnectorInfo(id="shop", title="Shop", description="A fake shop.", default_groups=("read", "write"))
    auth = (BearerToken(),)
    base_url = "https://shop.example"

    @tool(read_only=True, group="read")
    async def get_item(self, ctx: ToolContext, item_id: Annotated[int, Field(ge=1, description="The item.")]) -> Item:
        """Get one item."""
        return Item.model_validate((await ctx.http.get(f"/items/{item_id}")).json())

    @tool(read_only=True, group="read")
    async def list_items(self, ctx: ToolContext) -> ItemList:
        """List the items, as a Markdown table beside the structured page."""
        data = (await ctx.http.get("/items")).json()
        return ItemList(items=[Item.model_validate(i) for i in data["items"]], next_cursor=data.get("next"))

    @tool(read_only=True, group="read")
    async def find(self, ctx: ToolContext, cursor: str) -> ItemList:
        """Page through items with a cursor the tool itself rejects."""
        raise InvalidArguments(f"cursor {cursor!r} is stale: call shop_find again without it", [("cursor", "stale")])

    @tool(read_only=False, group="write")
    async def restock(self, ctx: ToolContext, item_id: int) -> Item:
        """Restock one item."""
        return Item.model_validate((await ctx.http.post(f"/items/{item_id}/restock")).json())

    @tool(read_only=False, group="admin", destructive=True)
    async def purge(self, ctx: ToolContext) -> str:
        """Delete every item."""
        await ctx.http.delete("/items")
        return "purged"

    @tool(read_only=True, group="read")
    async def crash(self, ctx: ToolContext) -> str:
        """Fail with a bug."""
        raise RuntimeError("secret internal detail")


class ShopApi:
    """The fake upstream: two items, a 404 for others, and a 401 for the token `expired`."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("authorization") == "Bearer expired":
            return httpx.Response(401, json={"message": "Bad credentials"})
        items = {1: {"id": 1, "name": "hammer | claw"}, 2: {"id": 2, "name": "saw", "note": "sharp\nedges"}}
        path = request.url.path
        if path == "/items":
            return httpx.Response(200, json={"items": list(items.values()), "next": "abc"})
        number = int(path.split("/")[2])
        if number not in items:
            return httpx.Response(404, json={"message": "No such item"})
        return httpx.Response(200, json=items[number])


@dataclass
class Seen:
    """What a client saw, and what the audit trail recorded."""

    text: str
    structured: dict[str, Any] | None
    is_error: bool
    outcome: str
    code: str | None


@dataclass
class Shops:
    base: str
    store: MemoryStore
    api: ShopApi
    keys: dict[str, str]
    events: list[AuditEvent]
    tenants: dict[str, Tenant]


@pytest.fixture
async def shops() -> AsyncIterator[Shops]:
    store = MemoryStore()
    keys, tenants = {}, {}
    # One tenant per situation, each with a connector named like the one call_tool makes ("shop").
    for slug, policy, token in (
        ("acme", ToolPolicy(), "tok"),
        ("calm", ToolPolicy(read_only=True), "tok"),
        ("nocred", ToolPolicy(), None),
        ("stale", ToolPolicy(), "expired"),
    ):
        tenant = tenants[slug] = store.add_tenant(Tenant(slug=slug, name=slug))
        store.add_connector(
            ConnectorConfig(tenant_id=tenant.id, connector_type="shop", name="shop", tool_policy=policy)
        )
        if token is not None:
            store.put_credential(Credential(tenant_id=tenant.id, provider="shop", kind="bearer", access_token=token))
        keys[slug], _ = store.create_api_key(tenant.id, name="mcp")
    api = ShopApi()
    events: list[AuditEvent] = []
    upstream = UpstreamClient(transport=httpx.MockTransport(api))
    app = create_mcp_app(
        store, ConnectorRegistry([Shop]), upstream=upstream, settings=McpSettings(), observer=events.append
    )
    async with serve(app) as base:
        yield Shops(base, store, api, keys, events, tenants)
    await upstream.aclose()


async def via_mcp(shops: Shops, tenant: str, name: str, arguments: dict[str, Any]) -> Seen:
    http = httpx2.AsyncClient(
        headers={"Authorization": f"Bearer {shops.keys[tenant]}", "X-Request-ID": REQUEST_ID},
        timeout=httpx2.Timeout(10.0),
    )
    url = f"{shops.base}/{tenant}/connectors/shop/mcp"
    async with Client(streamable_http_client(url, http_client=http)) as client:  # type: ignore[arg-type]
        result = await client.call_tool(name, arguments)
    event = shops.events[-1]
    assert event.tool == name and event.request_id == REQUEST_ID
    text = "\n".join(part.text for part in result.content if part.type == "text")
    return Seen(text, result.structured_content, bool(result.is_error), event.outcome, event.error_code)


async def via_testing(name: str, arguments: dict[str, Any], **options: Any) -> Seen:
    call = await call_tool(
        Shop, name, arguments, handler=ShopApi(), policy=options.pop("policy", ToolPolicy()), **options
    )
    return Seen(call.text, call.structured, call.is_error, call.outcome, call.code)


async def both(shops: Shops, tenant: str, name: str, arguments: dict[str, Any] | None = None, **options: Any) -> Seen:
    """The call through the MCP adapter; asserts call_tool saw exactly the same."""
    over_mcp = await via_mcp(shops, tenant, name, arguments or {})
    in_test = await via_testing(name, arguments or {}, **options)
    assert in_test == over_mcp
    return over_mcp


async def test_structured_results_carry_compact_json_text(shops: Shops) -> None:
    seen = await both(shops, "acme", "shop_get_item", {"item_id": 1})
    assert seen == Seen('{"id":1,"name":"hammer | claw"}', {"id": 1, "name": "hammer | claw"}, False, "ok", None)


async def test_markdown_results_replace_the_json_text_and_keep_the_data(shops: Shops) -> None:
    seen = await both(shops, "acme", "shop_list_items")
    assert seen.structured == {
        "items": [{"id": 1, "name": "hammer | claw"}, {"id": 2, "name": "saw", "note": "sharp\nedges"}],
        "next_cursor": "abc",
        "truncated": False,
    }
    assert seen.text == (
        "**Items** (2)\n\n"
        "| id | name | note |\n"
        "| --- | --- | --- |\n"
        "| 1 | hammer \\| claw |  |\n"
        "| 2 | saw | sharp edges |\n\n"
        "_More results: call again with cursor=`abc`._"
    )
    assert not seen.is_error and seen.outcome == "ok"


async def test_policy_refuses_a_disabled_tool_before_anything_runs(shops: Shops) -> None:
    seen = await both(shops, "acme", "shop_purge")
    assert seen.is_error and seen.outcome == "denied" and seen.code == "tool_disabled"
    assert seen.text.startswith(
        "shop_purge is disabled for connector 'shop' by its tool policy (group 'admin' is not enabled)"
    )
    assert not any(r.method == "DELETE" for r in shops.api.requests)


async def test_a_tool_excluded_by_name_is_not_blamed_on_its_group() -> None:
    seen = await via_testing("shop_restock", {"item_id": 1}, policy=ToolPolicy(exclude_tools=["shop_restock"]))
    assert seen.is_error and seen.code == "tool_disabled"
    assert seen.text.startswith("shop_restock is disabled for connector 'shop': excluded by name in its tool policy")
    assert "group" not in seen.text


async def test_read_only_mode_refuses_write_tools(shops: Shops) -> None:
    seen = await both(shops, "calm", "shop_restock", {"item_id": 1}, policy=ToolPolicy(read_only=True))
    assert seen.is_error and seen.outcome == "denied" and seen.code == "read_only"
    assert "connector 'shop' is read-only" in seen.text
    assert shops.api.requests == []


async def test_invalid_arguments_name_the_field(shops: Shops) -> None:
    seen = await both(shops, "acme", "shop_get_item", {"item_id": 0})
    assert seen.is_error and seen.outcome == "invalid" and seen.code == "invalid_arguments"
    assert seen.text.startswith("Invalid arguments for shop_get_item: item_id: Input should be greater than")
    assert shops.api.requests == []


async def test_an_argument_the_tool_rejects_is_invalid_too(shops: Shops) -> None:
    seen = await both(shops, "acme", "shop_find", {"cursor": "old"})
    assert seen == Seen(
        "cursor 'old' is stale: call shop_find again without it", None, True, "invalid", "invalid_arguments"
    )


async def test_not_connected_says_how_to_connect(shops: Shops) -> None:
    seen = await both(shops, "nocred", "shop_get_item", {"item_id": 1}, connected=False)
    assert seen.is_error and seen.outcome == "error" and seen.code == "not_connected"
    assert seen.text.startswith("shop is not connected for this tenant: connect it with the shop OAuth flow")
    assert shops.api.requests == []


async def test_upstream_errors_carry_status_and_message(shops: Shops) -> None:
    seen = await both(shops, "acme", "shop_get_item", {"item_id": 9})
    assert seen.is_error and seen.outcome == "upstream_error" and seen.code == "upstream_not_found"
    assert seen.text.startswith("Shop error (HTTP 404): ") and "No such item" in seen.text


async def test_a_refused_credential_is_forgotten_and_reloaded(shops: Shops) -> None:
    stale = Credential(tenant_id="test", provider="shop", kind="bearer", access_token="expired")
    seen = await both(shops, "stale", "shop_get_item", {"item_id": 1}, credential=stale)
    assert seen.outcome == "upstream_error" and "HTTP 401" in seen.text
    tenant = shops.tenants["stale"]
    shops.store.put_credential(Credential(tenant_id=tenant.id, provider="shop", kind="bearer", access_token="tok"))
    # No invalidation by hand: the 401 made the adapter drop the cached credential.
    again = await via_mcp(shops, "stale", "shop_get_item", {"item_id": 1})
    assert again.outcome == "ok" and shops.api.requests[-1].headers["authorization"] == "Bearer tok"


async def test_internal_errors_are_generic_with_the_request_id(shops: Shops, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, "sagemcp._execution")
    seen = await both(shops, "acme", "shop_crash", raise_internal_errors=False)
    assert seen == Seen(
        f"shop_crash failed with an internal error. Reference: {REQUEST_ID}.", None, True, "error", "internal_error"
    )
    logged = [r for r in caplog.records if r.name == "sagemcp._execution"]
    assert logged and all(REQUEST_ID in r.getMessage() and r.exc_info for r in logged)
    assert "secret internal detail" in caplog.text  # the traceback is for operators, never the client


async def test_call_tool_raises_bugs_by_default() -> None:
    with pytest.raises(RuntimeError, match="secret internal detail"):
        await call_tool(Shop, "shop_crash")
    call = await call_tool(Shop, "shop_crash", raise_internal_errors=False)
    assert isinstance(call.exception, RuntimeError) and call.error is None


async def test_results_over_the_cap_are_errors_in_both(shops: Shops) -> None:
    call = await call_tool(Shop, "shop_list_items", handler=ShopApi(), max_result_chars=40)
    assert call.is_error and call.code == "result_too_large" and call.structured is None
    assert "over this server's limit of 40" in call.text
    # The adapter's cap is its setting; the default holds this result.
    seen = await via_mcp(shops, "acme", "shop_list_items", {})
    assert not seen.is_error and seen.structured is not None and seen.structured["next_cursor"] == "abc"
