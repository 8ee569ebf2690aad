"""Asking the client for input during a call (`ctx.client.ask`, `ctx.confirm`, `ctx.choose`) in both eras.

Over real HTTP with the official MCP client: on 2025-11-25 (a stateful session) the requests
reach the client's callbacks at once; on 2026-07-28 the call is answered with an
`InputRequiredResult`, the SDK client answers it and retries with the sealed request state,
and the tool completes in a later round (also over two rounds). A client that did not declare
elicitation gets -32021 with HTTP 400; a tampered, expired or foreign request state is refused
with -32602. List and read results carry `ttlMs` from the server's cache TTL and
`cacheScope: private`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import mcp_types as types
import pytest
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client

from sagemcp import (
    Connector,
    ConnectorInfo,
    ElicitInput,
    ElicitResult,
    NoAuth,
    RootsInput,
    RootsResult,
    SampleInput,
    SamplingResult,
    ToolContext,
    prompt,
    resource,
    tool,
)
from sagemcp.mcp import McpSettings, create_mcp_app
from sagemcp.mcp._input import RequestStateSealer
from sagemcp.platform import ConnectorConfig, ConnectorRegistry, MemoryStore, Tenant

from ._support import http2_client, serve

NAME_FORM = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


class Asking(Connector):
    info = ConnectorInfo(id="ask", title="Asking", description="Tools that ask the client for input.")
    auth = (NoAuth(),)
    ran: list[str] = []

    @tool(read_only=False, group="write", destructive=True)
    async def delete(self, ctx: ToolContext, item: str) -> str:
        """Delete an item after the person confirms."""
        if not await ctx.confirm(f"Delete {item}?"):
            return f"kept {item}"
        Asking.ran.append(f"deleted {item}")
        return f"deleted {item}"

    @tool(read_only=True, group="read")
    async def pick(self, ctx: ToolContext) -> str:
        """Ask for a choice."""
        choice = await ctx.choose("Which one?", ["red", "blue"])
        return f"picked {choice}"

    @tool(read_only=True, group="read")
    async def everything(self, ctx: ToolContext) -> str:
        """Ask for a name, a completion and the roots in one round."""
        answers = await ctx.client.ask(
            {"who": ElicitInput("Name?", NAME_FORM), "llm": SampleInput("Say hi", 10), "roots": RootsInput()}
        )
        who, llm, roots = answers["who"], answers["llm"], answers["roots"]
        assert isinstance(who, ElicitResult) and isinstance(llm, SamplingResult) and isinstance(roots, RootsResult)
        return f"{(who.content or {}).get('name')}|{llm.text}|{','.join(r.uri for r in roots.roots)}"

    @tool(read_only=True, group="read")
    async def two_steps(self, ctx: ToolContext) -> str:
        """Ask twice, in two rounds on 2026-07-28."""
        first = (await ctx.client.ask({"a": ElicitInput("First?", NAME_FORM)}))["a"]
        second = (await ctx.client.ask({"b": ElicitInput("Second?", NAME_FORM)}))["b"]
        assert isinstance(first, ElicitResult) and isinstance(second, ElicitResult)
        return f"{(first.content or {})['name']} then {(second.content or {})['name']}"

    @resource("ask://greeting", mime_type="text/plain")
    async def greeting(self, ctx: ToolContext) -> str:
        """A resource."""
        return "hello"

    @prompt()
    async def asked(self, ctx: ToolContext) -> str:
        """A prompt that asks for a name first."""
        answer = (await ctx.client.ask({"who": ElicitInput("Name?", NAME_FORM)}))["who"]
        assert isinstance(answer, ElicitResult)
        return f"Write to {(answer.content or {}).get('name')}"


@dataclass
class Rig:
    base: str
    seen: list[str] = field(default_factory=list)

    def url(self, tenant: str = "acme") -> str:
        return f"{self.base}/{tenant}/connectors/ask/mcp"


@pytest.fixture(params=[False, True], ids=["stateless", "stateful"])
async def rig(request: pytest.FixtureRequest) -> AsyncIterator[Rig]:
    store = MemoryStore()
    for slug in ("acme", "globex"):
        tenant = store.add_tenant(Tenant(slug=slug))
        store.add_connector(ConnectorConfig(tenant_id=tenant.id, connector_type="ask", name="ask"))
    app = create_mcp_app(
        store,
        ConnectorRegistry([Asking]),
        allow_anonymous=True,
        settings=McpSettings(stateful=request.param, cache_ttl=7.5, request_state_key=b"k" * 32),
    )
    Asking.ran.clear()
    async with serve(app) as base:
        yield Rig(base)


def callbacks(rig: Rig, *, name: str = "Ada", confirm: bool = True) -> dict[str, Any]:
    async def elicit(ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        rig.seen.append(f"elicit {params.message}")
        schema = params.requested_schema  # type: ignore[union-attr]
        fields = schema.get("properties", {})
        if "confirm" in fields:
            return types.ElicitResult(action="accept", content={"confirm": confirm})
        if "choice" in fields:
            return types.ElicitResult(action="accept", content={"choice": "blue"})
        return types.ElicitResult(action="accept", content={"name": name})

    async def sample(ctx: Any, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        rig.seen.append("sample")
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(type="text", text="hi!"), model="m", stop_reason="endTurn"
        )

    async def roots(ctx: Any) -> types.ListRootsResult:
        rig.seen.append("roots")
        return types.ListRootsResult(roots=[types.Root(uri="file:///work", name="work")])  # type: ignore[arg-type]

    return {"elicitation_callback": elicit, "sampling_callback": sample, "list_roots_callback": roots}


async def call(url: str, tool_name: str, args: dict[str, Any], mode: str, **client: Any) -> types.CallToolResult:
    async with Client(streamable_http_client(url, http_client=http2_client(None)), mode=mode, **client) as c:  # type: ignore[arg-type]
        return await c.call_tool(tool_name, args)


def text(result: types.CallToolResult) -> str:
    return "\n".join(p.text for p in result.content if isinstance(p, types.TextContent))


async def test_confirm_before_deleting_in_both_eras(rig: Rig, request: pytest.FixtureRequest) -> None:
    stateful = request.node.callspec.params["rig"]
    for mode in ["2026-07-28", "legacy"] if stateful else ["2026-07-28"]:
        result = await call(rig.url(), "ask_delete", {"item": "x"}, mode, **callbacks(rig))
        assert text(result) == "deleted x", (mode, result)
        result = await call(rig.url(), "ask_delete", {"item": "y"}, mode, **callbacks(rig, confirm=False))
        assert text(result) == "kept y", (mode, result)
    assert Asking.ran == ["deleted x"] * (2 if stateful else 1)
    assert rig.seen.count("elicit Delete x?") == (2 if stateful else 1)


async def test_every_kind_of_input_and_two_rounds(rig: Rig, request: pytest.FixtureRequest) -> None:
    stateful = request.node.callspec.params["rig"]
    for mode in ["2026-07-28", "legacy"] if stateful else ["2026-07-28"]:
        result = await call(rig.url(), "ask_everything", {}, mode, **callbacks(rig))
        assert text(result) == "Ada|hi!|file:///work", (mode, result)
        result = await call(rig.url(), "ask_two_steps", {}, mode, **callbacks(rig))
        assert text(result) == "Ada then Ada", (mode, result)
        result = await call(rig.url(), "ask_pick", {}, mode, **callbacks(rig))
        assert text(result) == "picked blue", (mode, result)
    assert {"sample", "roots", "elicit Name?", "elicit First?", "elicit Second?"} <= set(rig.seen)


async def test_a_prompt_asks_in_2026_07_28(rig: Rig) -> None:
    async with Client(
        streamable_http_client(rig.url(), http_client=http2_client(None)),
        mode="2026-07-28",
        **callbacks(rig, name="Bob"),  # type: ignore[arg-type]
    ) as c:
        result = await c.get_prompt("ask_asked", {})
    assert result.messages[0].content.text == "Write to Bob"  # type: ignore[union-attr]


# -- the wire: raw requests --------------------------------------------------------------------------


def envelope(method: str, params: dict[str, Any], capabilities: dict[str, Any] | None = None) -> dict[str, Any]:
    meta = {
        types.PROTOCOL_VERSION_META_KEY: "2026-07-28",
        types.CLIENT_CAPABILITIES_META_KEY: {"elicitation": {}} if capabilities is None else capabilities,
    }
    return {"jsonrpc": "2.0", "id": 1, "method": method, "params": {**params, "_meta": meta}}


async def post(url: str, message: dict[str, Any]) -> httpx.Response:
    headers = {
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2026-07-28",
        "Mcp-Method": message["method"],
    }
    name = message["params"].get("name") or message["params"].get("uri")
    if name:
        headers["Mcp-Name"] = name
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.post(url, json=message, headers=headers)


def body(response: httpx.Response) -> dict[str, Any]:
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        for line in response.text.splitlines():
            if line.startswith("data:") and '"id"' in line:
                return json.loads(line[5:])
    return response.json()


async def first_round(rig: Rig, tenant: str = "acme") -> dict[str, Any]:
    r = await post(rig.url(tenant), envelope("tools/call", {"name": "ask_delete", "arguments": {"item": "z"}}))
    result = body(r)["result"]
    assert result["resultType"] == "input_required"
    assert result["inputRequests"]["confirm"]["method"] == "elicitation/create"
    return result


def retry(state: str, confirm: bool = True) -> dict[str, Any]:
    answer = {"confirm": {"action": "accept", "content": {"confirm": confirm}}}
    params = {"name": "ask_delete", "arguments": {"item": "z"}, "inputResponses": answer, "requestState": state}
    return envelope("tools/call", params)


async def test_a_state_is_refused_when_tampered_or_from_another_tenant(rig: Rig) -> None:
    state = (await first_round(rig))["requestState"]
    body_part, _, mac = state.partition(".")
    for bad in (state + "x", f"{body_part}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}", "garbage", ""):
        r = await post(rig.url(), retry(bad))
        error = body(r)["error"]
        assert (r.status_code, error["code"]) == (400, -32602), (bad, r.text)
        assert error["message"].startswith("Invalid requestState")
    # Minted for acme, sent on globex's path (same connector type and name, another tenant): refused.
    r = await post(rig.url("globex"), retry(state))
    assert body(r)["error"]["code"] == -32602
    assert Asking.ran == []
    r = await post(rig.url(), retry(state))
    assert body(r)["result"]["content"][0]["text"] == "deleted z"
    assert Asking.ran == ["deleted z"]


async def test_an_expired_state_is_refused() -> None:
    sealer = RequestStateSealer(b"s" * 32, ttl=60)
    state = sealer.seal("binding", {"a": {"action": "accept"}}, now=1000.0)
    assert sealer.open("binding", state, now=1059.0) == {"a": {"action": "accept"}}
    with pytest.raises(MCPError, match="expired"):
        sealer.open("binding", state, now=1061.0)
    with pytest.raises(MCPError, match="altered"):
        sealer.open("other binding", state, now=1001.0)
    with pytest.raises(MCPError, match="altered"):
        RequestStateSealer(b"t" * 32).open("binding", state, now=1001.0)
    with pytest.raises(ValueError, match="32 bytes"):
        RequestStateSealer(b"short")


async def test_a_client_without_elicitation_gets_minus_32021_and_http_400(rig: Rig) -> None:
    r = await post(rig.url(), envelope("tools/call", {"name": "ask_delete", "arguments": {"item": "q"}}, {}))
    error = body(r)["error"]
    assert (r.status_code, error["code"]) == (400, -32021), r.text
    assert error["data"]["requiredCapabilities"] == {"elicitation": {}}
    assert Asking.ran == []


async def test_an_answer_of_the_wrong_shape_is_asked_again(rig: Rig) -> None:
    state = (await first_round(rig))["requestState"]
    message = retry(state)
    message["params"]["inputResponses"] = {"confirm": {"roots": []}}
    r = await post(rig.url(), message)
    result = body(r)["result"]  # not an answer to the form: asked again
    assert result["resultType"] == "input_required" and list(result["inputRequests"]) == ["confirm"], r.text
    assert Asking.ran == []


async def test_list_and_read_results_carry_the_cache_ttl(rig: Rig) -> None:
    for method, params in (
        ("tools/list", {}),
        ("prompts/list", {}),
        ("resources/list", {}),
        ("resources/templates/list", {}),
        ("resources/read", {"uri": "ask://greeting"}),
    ):
        r = await post(rig.url(), envelope(method, params))
        result = body(r)["result"]
        assert (result["ttlMs"], result["cacheScope"]) == (7500, "private"), (method, result)


async def test_an_unknown_resource_is_minus_32602_on_2026_07_28(rig: Rig) -> None:
    r = await post(rig.url(), envelope("resources/read", {"uri": "ask://nothing-here"}))
    error = body(r)["error"]
    assert (r.status_code, error["code"], error["data"]) == (400, -32602, {"uri": "ask://nothing-here"}), r.text


async def test_the_tenant_wide_tool_list_is_ordered_by_connector_name() -> None:
    """Connectors added in any order list their tools by connector name, then in definition order."""
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme"))
    for name in ("zeta", "alpha", "mid"):
        store.add_connector(ConnectorConfig(tenant_id=tenant.id, connector_type="ask", name=name))
    app = create_mcp_app(store, ConnectorRegistry([Asking]), allow_anonymous=True)
    async with serve(app) as base:
        r = await post(f"{base}/acme/mcp", envelope("tools/list", {}))
        names = [t["name"] for t in body(r)["result"]["tools"]]
    per_connector = [n.removeprefix("ask_") for n in Asking.tools]
    assert names == [f"{c}__ask_{n}" for c in ("alpha", "mid", "zeta") for n in per_connector]


async def test_only_answers_to_what_was_asked_travel_in_the_state(rig: Rig) -> None:
    """A client's extra answers are not sealed into the next round's state (it stays small and exact)."""
    extra = {"unasked": {"action": "accept", "content": {"name": "x" * 5000}}}
    params = {
        "name": "ask_two_steps",
        "arguments": {},
        "inputResponses": {"a": {"action": "accept", "content": {"name": "A"}}, **extra},
    }
    r = await post(rig.url(), envelope("tools/call", params))
    result = body(r)["result"]
    assert list(result["inputRequests"]) == ["b"]
    state = result["requestState"]
    assert len(state) < 1000
    sealed = state.split(".")[0]
    payload = json.loads(base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4)))
    assert set(payload["a"]) == {"a"}
