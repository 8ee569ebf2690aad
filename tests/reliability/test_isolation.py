"""Tenant isolation, property-based: random tenants, connectors, keys and credentials, then random
requests over every MCP transport (Streamable HTTP in both eras, stateful sessions with swapped session
ids, legacy SSE, WebSocket) with every mix of key, path and session id.

For each request an oracle (`_world.admit`) says what the failure table of docs/architecture.md requires:
the exact refusal, or exactly which tenant, connectors, caller and credential the answer must be about.
Whatever the outcome, no answer may contain another tenant's ids or credential fingerprints, and every
request the fake upstream receives carries the credential of the tenant on the request path.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import mcp_types
import pytest
import pytest_asyncio
from hypothesis import event, given
from hypothesis import strategies as st
from mcp.shared.inbound import ERROR_CODE_HTTP_STATUS

from sagemcp import Credential
from sagemcp.mcp import McpApp, McpSettings, create_mcp_app
from sagemcp.platform import ConnectorConfig, ConnectorRegistry, MemoryStore, Tenant, UpstreamClient

from . import _clients as c
from ._fake_upstream import FakeUpstream
from ._support import ScanningApp, fingerprint, make_probe_connector, new_secret, serve
from ._world import (
    Admitted,
    KeySpec,
    Refused,
    World,
    admit,
    build,
    expected_tools,
    foreign_markers,
    identity_of,
    worlds,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


class SwitchableStore:
    """Delegates to the current world's `MemoryStore`, so one pair of servers serves every example."""

    def __init__(self) -> None:
        self.current = MemoryStore()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.current, name)


@dataclass
class Rig:
    store: SwitchableStore
    apps: list[McpApp]
    fake: FakeUpstream
    stateless: str
    stateful: str
    http: httpx.AsyncClient
    world: World = field(default_factory=lambda: World([], []))
    nonces: dict[str, tuple[str, str]] = field(default_factory=dict)
    """nonce -> (tenant id, token expected) for every fetch the oracle admitted."""

    def new_world(self, world: World) -> World:
        self.store.current = MemoryStore()
        for app in self.apps:  # the documented way to make store changes visible at once
            app.resolver.invalidate()
            app.authenticator.invalidate()  # type: ignore[attr-defined]
        build(world, self.store.current, self.fake.url)
        self.world = world
        self.fake.seen.clear()
        self.nonces.clear()
        return world

    def check_upstream(self) -> None:
        """Every request the upstream saw carried the token of the tenant the call was admitted for."""
        for seen in self.fake.seen:
            nonce = seen.path.rsplit("/", 1)[-1]
            assert nonce in self.nonces, f"unexpected upstream request {seen.method} {seen.path}"
            tenant_id, token = self.nonces[nonce]
            assert seen.token == token, f"the upstream got another credential than tenant {tenant_id}'s"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rig() -> AsyncIterator[Rig]:
    store = SwitchableStore()
    registry = ConnectorRegistry([make_probe_connector()])
    async with FakeUpstream() as fake:
        upstream = UpstreamClient(timeout=5, retry_deadline=5)
        stateless = create_mcp_app(store, registry, upstream=upstream, settings=McpSettings())  # type: ignore[arg-type]
        stateful = create_mcp_app(store, registry, upstream=upstream, settings=McpSettings(stateful=True))  # type: ignore[arg-type]
        async with (
            serve(ScanningApp(stateless, "isolation-stateless")) as a,
            serve(ScanningApp(stateful, "isolation-stateful")) as b,
            httpx.AsyncClient(timeout=30) as http,
        ):
            yield Rig(store, [stateless, stateful], fake, a, b, http)
        await upstream.aclose()


# -- requests ------------------------------------------------------------------------------------


@dataclass
class Target:
    slug: str
    connector: str | None
    key: KeySpec | None

    def path(self, suffix: str = "mcp") -> str:
        if self.connector is None:
            return f"/{self.slug}/{suffix}"
        return f"/{self.slug}/connectors/{self.connector}/{suffix}"


@st.composite
def targets(draw: st.DrawFn, world: World) -> Target:
    """Half the time a coherent request (a key of the path's tenant, or the admin's, on one of its connectors
    or its tenant-wide path), half the time any mix of tenant, connector and key at all."""
    tenants = world.tenants
    if draw(st.booleans()):
        index = draw(st.integers(0, len(tenants) - 1))
        tenant = tenants[index]
        own = [k for k in world.keys if k.tenant == index or k.tenant is None]
        good = [k for k in own if k.stored and not k.revoked and "mcp" in k.scopes]
        if draw(st.integers(0, 4)):
            own = good
        names: list[str | None] = [None] + [x for conn in tenant.connectors for x in (conn.name, conn.id)]
        return Target(tenant.slug, draw(st.sampled_from(names)), draw(st.sampled_from(own)))
    slug = draw(st.sampled_from([t.slug for t in tenants] + ["nobody-here"]))
    connector_choices: list[str | None] = [None, "no-such-connector"]
    for t in tenants:
        for conn in t.connectors:
            connector_choices += [conn.name, conn.id]
    connector = draw(st.sampled_from(connector_choices))
    key = draw(st.sampled_from([*world.keys, None]))
    return Target(slug, connector, key)


ACTIONS = st.sampled_from(["list", "whoami", "fetch", "resource", "prompt"])


def build_action(rig: Rig, action: str, expect: Admitted | Refused, pick: int) -> tuple[str, dict[str, Any]]:
    """The JSON-RPC method and params of an action; tool and prompt names follow the path's prefixes."""
    target = None
    if isinstance(expect, Admitted) and expect.targets:
        target = expect.targets[pick % len(expect.targets)]
    prefix = expect.prefixes[target.id] if target is not None and isinstance(expect, Admitted) else ""
    if action == "list":
        return "tools/list", {}
    if action == "resource":
        return "resources/read", {"uri": "probe://whoami"}
    if action == "prompt":
        return "prompts/get", {"name": f"{prefix}probe_hello", "arguments": {}}
    arguments: dict[str, Any] = {}
    if action == "fetch":
        nonce = secrets.token_hex(8)
        arguments = {"path": f"whoami/{nonce}"}
        if isinstance(expect, Admitted) and target is not None:
            rig.nonces[nonce] = (expect.tenant.id, expect.tenant.tokens.get(target.provider) or "")
    return "tools/call", {"name": f"{prefix}probe_{action}", "arguments": arguments}


def check(
    rig: Rig,
    expect: Admitted | Refused,
    method: str,
    params: dict[str, Any],
    status: int,
    message: dict[str, Any] | None,
    text: str,
    request_paths: list[str],
    *,
    ok_status: int = 200,
) -> None:
    """The answer matches the oracle, and carries nothing of another tenant."""
    event(f"{method}: " + (f"refused {expect.status}" if isinstance(expect, Refused) else "admitted"))
    given_in_request = {part for p in request_paths for part in p.split("/") if part}
    foreign = foreign_markers(rig.world, expect if isinstance(expect, Admitted) else None) - given_in_request
    keys = {k.record_id for k in rig.world.keys if k.record_id} - {
        expect.key.record_id if isinstance(expect, Admitted) else ""
    }
    for marker in foreign | keys:
        assert marker not in text, f"answer carries a foreign marker {marker}: {text[:400]}"
    if isinstance(expect, Refused):
        if expect.soft:
            assert status in (403, 404), (expect, status, text[:300])
        else:
            assert status == expect.status, (expect, status, text[:300])
        assert message is None or "result" not in message, text[:300]
        return
    assert message is not None, text[:300]
    if "error" in message and status != ok_status:
        # 2026-07-28 answers JSON-RPC errors with the HTTP status of the SDK's table (400 for -32602...).
        assert status == ERROR_CODE_HTTP_STATUS.get(message["error"]["code"]), (expect, status, text[:300])
    else:
        assert status == ok_status, (expect, status, text[:300])
    check_admitted(rig, expect, method, params, message)


def check_admitted(rig: Rig, a: Admitted, method: str, params: dict[str, Any], message: dict[str, Any]) -> None:
    result, error = message.get("result"), message.get("error")
    if method == "tools/list":
        assert error is None, message
        assert {t["name"] for t in result["tools"]} == expected_tools(a)
        return
    if not a.targets:
        assert error is not None, message  # nothing is served on this path for this key
        return
    if method == "resources/read":
        if error is not None:  # the first target's provider is not connected
            first = a.targets[0]
            assert a.tenant.tokens.get(first.provider) is None and "not connected" in error["message"], message
            return
        identity = json.loads(result["contents"][0]["text"])
        identity.pop("credential_version")
        assert identity == identity_of(a, a.targets[0])
        return
    name = params["name"]
    target = next(
        t
        for t in a.targets
        if name.startswith(a.prefixes[t.id])
        and name[len(a.prefixes[t.id]) :] in ("probe_hello", "probe_whoami", "probe_fetch")
    )
    connected = a.tenant.tokens.get(target.provider) is not None
    if method == "prompts/get":
        if not connected:
            assert error is not None and "not connected" in error["message"], message
            return
        identity = json.loads(result["messages"][0]["content"]["text"].removeprefix("identity "))
        identity.pop("credential_version")
        assert identity == identity_of(a, target)
        return
    assert error is None, message
    if not connected:
        assert result["isError"] and "not connected" in result["content"][0]["text"], message
        return
    assert not result.get("isError"), message
    structured = result["structuredContent"]
    identity = structured.get("identity", structured)
    identity = {k: v for k, v in identity.items() if k != "credential_version"}
    assert identity == identity_of(a, target)
    if "upstream" in structured:
        assert structured["upstream"]["fp"] == fingerprint(a.tenant.tokens[target.provider])


# -- the properties ---------------------------------------------------------------------------------


@given(world=worlds(), data=st.data())
async def test_streamable_http_never_crosses_tenants(rig: Rig, world: World, data: st.DataObject) -> None:
    """Both protocol eras, stateless and stateful servers; modern requests with someone else's session id."""
    rig.new_world(world)
    for _ in range(data.draw(st.integers(1, 5))):
        t = data.draw(targets(world))
        era = data.draw(st.sampled_from(["modern", "handshake"]))
        base = data.draw(st.sampled_from([rig.stateless, rig.stateful])) if era == "modern" else rig.stateless
        expect = admit(world, t.slug, t.connector, t.key)
        method, params = build_action(rig, data.draw(ACTIONS), expect, data.draw(st.integers(0, 5)))
        key = t.key.raw if t.key else None
        if era == "modern":
            headers = {"Mcp-Session-Id": secrets.token_hex(16)} if data.draw(st.booleans()) else {}
            reply = await c.call_modern(rig.http, base + t.path(), key, method, params, headers=headers)
        else:
            reply = await c.call_handshake(rig.http, base + t.path(), key, method, params)
        check(rig, expect, method, params, reply.status, reply.body, reply.text, [t.path()])
    rig.check_upstream()


@given(world=worlds(), data=st.data())
async def test_stateful_sessions_are_bound_to_tenant_connector_and_caller(
    rig: Rig, world: World, data: st.DataObject
) -> None:
    """A session opened by one (tenant, connector, key) is used with another: only the same binding works."""
    rig.new_world(world)
    for _ in range(data.draw(st.integers(1, 3))):
        opener = data.draw(targets(world))
        same = data.draw(st.sampled_from([True, True, False]))
        user = opener if same else data.draw(targets(world))
        opened = admit(world, opener.slug, opener.connector, opener.key)
        url = rig.stateful + opener.path()
        init, session = await c.open_session(rig.http, url, opener.key.raw if opener.key else None)
        if isinstance(opened, Refused):
            check(rig, opened, "initialize", {}, init.status, init.body, init.text, [opener.path()])
            assert session is None
        else:
            assert init.status == 200 and session, init.text
        choice = data.draw(st.sampled_from(["opened", "opened", "opened", "opened", "bogus", "none"]))
        sid = {"opened": session, "bogus": secrets.token_hex(16), "none": None}[choice]
        expect = admit(world, user.slug, user.connector, user.key)
        method, params = build_action(rig, data.draw(ACTIONS), expect, data.draw(st.integers(0, 5)))
        key = user.key.raw if user.key else None
        reply = await c.call_handshake(rig.http, rig.stateful + user.path(), key, method, params, session=sid)
        paths = [opener.path(), user.path()]
        if isinstance(expect, Refused):
            check(rig, expect, method, params, reply.status, reply.body, reply.text, paths)
        elif sid is None:
            check(rig, Refused(400, "no session id"), method, params, reply.status, reply.body, reply.text, paths)
        elif sid == session and isinstance(opened, Admitted) and opened.binding == expect.binding:
            check(rig, expect, method, params, reply.status, reply.body, reply.text, paths)
        else:
            check(
                rig,
                Refused(404, "session of another binding"),
                method,
                params,
                reply.status,
                reply.body,
                reply.text,
                paths,
            )
        if session:
            headers = {"Mcp-Session-Id": session, **c.auth(opener.key.raw if opener.key else None)}
            await rig.http.delete(url, headers=headers)
    rig.check_upstream()


@given(world=worlds(), data=st.data())
async def test_legacy_sse_never_crosses_tenants(rig: Rig, world: World, data: st.DataObject) -> None:
    """The stream is opened by one (tenant, connector, key); messages are posted by another, on its own path."""
    rig.new_world(world)
    opener = data.draw(targets(world))
    same = data.draw(st.booleans())
    poster = opener if same else data.draw(targets(world))
    opened = admit(world, opener.slug, opener.connector, opener.key)
    base = data.draw(st.sampled_from([rig.stateless, rig.stateful]))
    opener_key = opener.key.raw if opener.key else None
    async with c.sse_session(rig.http, base + opener.path("sse"), opener_key) as sse:
        if isinstance(opened, Refused):
            body = await sse.response.aread()
            check(rig, opened, "sse", {}, sse.status, json.loads(body), body.decode(), [opener.path("sse")])
            return
        assert sse.status == 200
        init = await sse.handshake(opener_key)
        assert init is not None and "result" in init
        assert sse.endpoint is not None
        session_id = sse.endpoint.split("session_id=", 1)[1]
        expect = admit(world, poster.slug, poster.connector, poster.key)
        method, params = build_action(rig, data.draw(ACTIONS), expect, data.draw(st.integers(0, 5)))
        message = c.request(method, params)
        endpoint = base + poster.path("messages/") + f"?session_id={session_id}"
        r = await sse.send(message, poster.key.raw if poster.key else None, endpoint)
        paths = [opener.path(), poster.path()]
        if isinstance(expect, Refused):
            check(rig, expect, method, params, r.status_code, r.json(), r.text, paths)
        elif opened.binding != expect.binding:
            check(rig, Refused(404, "session of another binding"), method, params, r.status_code, None, r.text, paths)
        else:
            assert r.status_code == 202, r.text
            reply = await sse.wait_for(message["id"])
            check(rig, expect, method, params, 200, reply, json.dumps(reply), paths)
        # The opener's stream still works, and never carried an answer to a refused message.
        status, pong = await sse.call("ping", None, opener_key)
        assert status == 202 and pong is not None and pong["result"] == {}
        if isinstance(expect, Refused) or opened.binding != expect.binding:
            assert all(m.get("id") != message["id"] for m in sse.messages)
        for m in sse.messages:
            check_foreign(rig, opened, json.dumps(m), paths)
    rig.check_upstream()


def check_foreign(rig: Rig, a: Admitted, text: str, paths: list[str]) -> None:
    given_in_request = {part for p in paths for part in p.split("/") if part}
    for marker in foreign_markers(rig.world, a) - given_in_request:
        assert marker not in text, f"stream carries a foreign marker {marker}: {text[:300]}"


@given(world=worlds(), data=st.data())
async def test_websocket_never_crosses_tenants(rig: Rig, world: World, data: st.DataObject) -> None:
    rig.new_world(world)
    for _ in range(data.draw(st.integers(1, 3))):
        t = data.draw(targets(world))
        expect = admit(world, t.slug, t.connector, t.key)
        query_key = data.draw(st.booleans())
        key = t.key.raw if t.key else None
        base = data.draw(st.sampled_from([rig.stateless, rig.stateful]))
        if isinstance(expect, Refused) or (query_key and key is not None):
            # A refused upgrade is closed before it is accepted: HTTP 403, whatever the reason. A key in the
            # query string is not read by default (URLs are logged), so such an upgrade is unauthenticated.
            assert await c.ws_status(base, t.path("ws"), key, query_key=query_key) == 403
            continue
        async with c.ws_connect(base, t.path("ws"), key, query_key=query_key) as ws:
            init = await c.ws_handshake(ws)
            assert "result" in init
            for _ in range(data.draw(st.integers(1, 3))):
                method, params = build_action(rig, data.draw(ACTIONS), expect, data.draw(st.integers(0, 5)))
                reply = await c.ws_exchange(ws, c.request(method, params))
                check(rig, expect, method, params, 200, reply, json.dumps(reply), [t.path("ws")])
    rig.check_upstream()


# -- 2026-07-28 input rounds: the request state is bound to tenant, connectors and caller ---------------


def _asking(expect: Admitted, pick: int) -> tuple[str, bool]:
    """The served name of `probe_ask` on one of the path's connectors, and whether its credential is connected."""
    target = expect.targets[pick % len(expect.targets)]
    return f"{expect.prefixes[target.id]}probe_ask", expect.tenant.tokens.get(target.provider) is not None


def _round_binding(t: Target, a: Admitted) -> tuple[str, tuple[str, ...], bool, str]:
    """What a sealed request state is bound to: tenant, the connectors the path serves, tenant-wide or not, caller."""
    return (a.tenant.id, tuple(sorted(c.id for c in a.targets)), t.connector is None, a.key.record_id)


async def _ask_round(
    rig: Rig, t: Target, tool: str, *, answer: bool, state: str | None = None
) -> tuple[c.Reply, dict[str, Any]]:
    params: dict[str, Any] = {"name": tool, "arguments": {}}
    if answer:
        params["inputResponses"] = {"confirm": {"action": "accept", "content": {"confirm": True}}}
    if state is not None:
        params["requestState"] = state
    message = c.modern_message("tools/call", params)
    message["params"]["_meta"][mcp_types.CLIENT_CAPABILITIES_META_KEY] = {"elicitation": {}}
    reply = await c.post(
        rig.http, rig.stateless + t.path(), t.key.raw if t.key else None, message, c.modern_headers(message)
    )
    return reply, params


def _tampered(state: str, where: int) -> str:
    """`state` with one character changed (never the same string)."""
    i = where % len(state)
    return state[:i] + ("A" if state[i] != "A" else "B") + state[i + 1 :]


@given(world=worlds(), data=st.data())
async def test_input_round_state_is_bound_to_tenant_connector_and_caller(
    rig: Rig, world: World, data: st.DataObject
) -> None:
    """A request state minted on one path, for one caller, completes the round only there: on another tenant's
    path, another connector's or with another key it is refused with -32602, and so is any altered state."""
    rig.new_world(world)
    first = data.draw(targets(world))
    opened = admit(world, first.slug, first.connector, first.key)
    if not isinstance(opened, Admitted) or not opened.targets:
        return
    tool, connected = _asking(opened, data.draw(st.integers(0, 5)))
    reply, _ = await _ask_round(rig, first, tool, answer=False)
    assert reply.status == 200, reply.text
    result = reply.result
    if not connected:  # the credential is checked before the tool runs, so nothing is asked
        assert result["isError"] and "not connected" in result["content"][0]["text"], result
        return
    assert result["resultType"] == "input_required" and set(result["inputRequests"]) == {"confirm"}, result
    state = result["requestState"]
    check_foreign(rig, opened, reply.text, [first.path()])

    # Altered: refused wherever it is sent, even on the path and with the key it was minted for.
    bad = _tampered(state, data.draw(st.integers(0, len(state) - 1)))
    reply, _ = await _ask_round(rig, first, tool, answer=True, state=bad)
    assert reply.error is not None and reply.error["code"] == -32602, reply.text
    assert "Invalid requestState" in reply.error["message"]

    # Replayed on every other tenant's tenant-wide path, with one of that tenant's own working keys.
    for index, tenant in enumerate(world.tenants):
        if tenant.slug == first.slug:
            continue
        # A platform admin key works on every tenant: the same caller, so only the tenant binding refuses it.
        shared = [first.key] if first.key is not None and first.key.tenant is None else []
        own = shared + [k for k in world.keys if k.tenant == index and k.stored and not k.revoked and "mcp" in k.scopes]
        other = Target(tenant.slug, None, own[0]) if own else None
        there = admit(world, tenant.slug, None, own[0]) if own else None
        if other is None or not isinstance(there, Admitted) or not there.targets:
            continue
        name, _ = _asking(there, 0)
        reply, _ = await _ask_round(rig, other, name, answer=True, state=state)
        assert reply.error is not None and reply.error["code"] == -32602, reply.text
        assert "Invalid requestState" in reply.error["message"]
        check_foreign(rig, there, reply.text, [first.path(), other.path()])
        event("input round: refused on another tenant's path")

    # Replayed by another (tenant, connector, key), or by the same one.
    second = first if data.draw(st.booleans()) else data.draw(targets(world))
    expect = admit(world, second.slug, second.connector, second.key)
    if isinstance(expect, Refused):
        reply, params = await _ask_round(rig, second, tool, answer=True, state=state)
        check(rig, expect, "tools/call", params, reply.status, reply.body, reply.text, [first.path(), second.path()])
        return
    if not expect.targets:
        return
    # The state is checked before anything else (credential included), so a foreign one is refused even where
    # the tool could not run.
    tool2, connected2 = _asking(expect, data.draw(st.integers(0, 5)))
    reply, _ = await _ask_round(rig, second, tool2, answer=True, state=state)
    paths = [first.path(), second.path()]
    check_foreign(rig, expect, reply.text, paths)
    if _round_binding(second, expect) == _round_binding(first, opened) and tool2 == tool:
        assert reply.error is None and connected2, reply.text
        identity = {k: v for k, v in reply.result["structuredContent"].items() if k != "credential_version"}
        target = next(t for t in expect.targets if tool2 == f"{expect.prefixes[t.id]}probe_ask")
        assert identity == identity_of(expect, target)
        event("input round: completed on its own binding")
    else:
        assert reply.error is not None and reply.error["code"] == -32602, reply.text
        assert "Invalid requestState" in reply.error["message"]
        event("input round: refused on another binding")
    rig.check_upstream()


# -- the documented refusal for inactive tenants ------------------------------------------------------


SEARCHES = st.sampled_from(["probe whoami", "fetch a path", "hello", "probe", "delete", "echo text"])


@given(world=worlds(), data=st.data())
async def test_discovery_search_never_returns_another_tenants_tools(
    rig: Rig, world: World, data: st.DataObject
) -> None:
    """Discovery keys of random tenants search, describe and list on random tenant-wide paths: an admitted
    caller finds only the tools its own path serves, a refused one nothing, and no answer names another tenant."""
    rig.new_world(world)
    discovery_keys = []
    for index, tenant in enumerate(world.tenants):
        raw, record = rig.store.current.create_api_key(tenant.id, name="discovery", discovery=True)
        discovery_keys.append(KeySpec(raw=raw, record_id=record.id, tenant=index))
    for _ in range(data.draw(st.integers(1, 4))):
        key = data.draw(st.sampled_from(discovery_keys))
        slug = data.draw(st.sampled_from([t.slug for t in world.tenants]))
        expect = admit(world, slug, None, key)
        path = f"/{slug}/mcp"
        query = data.draw(SEARCHES)
        arguments = {"query": query, "limit": 25}
        search = await c.call_handshake(
            rig.http, rig.stateless + path, key.raw, "tools/call", {"name": "search_tools", "arguments": arguments}
        )
        listing = await c.call_handshake(rig.http, rig.stateless + path, key.raw, "tools/list", {})
        foreign = foreign_markers(world, expect if isinstance(expect, Admitted) else None) - set(path.split("/"))
        for reply in (search, listing):
            for marker in foreign:
                assert marker not in reply.text, f"answer carries a foreign marker {marker}: {reply.text[:400]}"
        event("discovery: " + (f"refused {expect.status}" if isinstance(expect, Refused) else "admitted"))
        if isinstance(expect, Refused):
            assert search.status in (403, 404) if expect.soft else search.status == expect.status, search.text[:300]
            assert "result" not in (search.body or {})
            continue
        assert [t["name"] for t in listing.body["result"]["tools"]] == ["search_tools", "describe_tool", "call_tool"]
        found = {t["name"] for t in search.body["result"]["structuredContent"]["tools"]}
        assert found <= expected_tools(expect), (found, expected_tools(expect))
        for name in found:
            described = await c.call_handshake(
                rig.http,
                rig.stateless + path,
                key.raw,
                "tools/call",
                {"name": "describe_tool", "arguments": {"name": name}},
            )
            assert described.body["result"]["structuredContent"]["name"] == name
        others = {
            f"{p}probe_{n}"
            for other in world.tenants
            if other.slug != slug
            for p in ("", *(f"{conn.name.replace('-', '_')}__" for conn in other.connectors))
            for n in ("whoami", "fetch")
        } - expected_tools(expect)
        for name in sorted(others)[:3]:
            called = await c.call_handshake(
                rig.http,
                rig.stateless + path,
                key.raw,
                "tools/call",
                {"name": "call_tool", "arguments": {"name": name, "arguments": {"path": "whoami/x"}}},
            )
            assert called.body["result"]["isError"] is True and "Unknown tool" in called.text
    rig.check_upstream()


async def test_regression_an_inactive_tenant_is_revealed_to_another_tenants_key(rig: Rig) -> None:
    """Regression, fixed (core, sagemcp.mcp._app.McpApp._admit): the failure table says a key of another tenant gets
    404, the same answer as an unknown tenant, so keys cannot probe for tenants. For an *inactive* tenant,
    `Resolver.view()` raises `TenantInactive` before the key is checked against the tenant, and another
    tenant's key gets 403 "tenant 'globex' is inactive": the tenant's existence and state leak."""
    store = MemoryStore()
    rig.store.current = store
    for app in rig.apps:
        app.resolver.invalidate()
    acme = store.add_tenant(Tenant(slug="acme"))
    store.add_tenant(Tenant(slug="globex", active=False))
    key, _ = store.create_api_key(acme.id)
    unknown = await c.call_modern(rig.http, rig.stateless + "/nobody/mcp", key, "tools/list", {})
    inactive = await c.call_modern(rig.http, rig.stateless + "/globex/mcp", key, "tools/list", {})
    assert unknown.status == 404
    assert "inactive" not in inactive.text
    assert inactive.status == 404, f"another tenant's key learns that globex exists: {inactive.status} {inactive.text}"


async def test_regression_a_connector_name_shadows_another_connectors_id(rig: Rig) -> None:
    """Regression, fixed (core, sagemcp.mcp._resolve.Resolver._load): a connector may be named with another connector's
    id (ids are valid names). The stores resolve `get_connector(tenant, x)` id first, but the resolver's
    `by_key` map is filled id, name, id, name... so a later connector's *name* overwrites an earlier
    connector's *id*: `/t/connectors/<A's id>/mcp` serves connector B, with B's credential. Found by
    `worlds(shadow_ids=True)`. Within one tenant, but a key limited to A is refused on A's own id path."""
    store = MemoryStore()
    rig.store.current = store
    for app in rig.apps:
        app.resolver.invalidate()
    tenant = store.add_tenant(Tenant(slug="acme"))
    a = store.add_connector(ConnectorConfig(tenant_id=tenant.id, connector_type="probe", name="alpha", provider="pa"))
    b = store.add_connector(ConnectorConfig(tenant_id=tenant.id, connector_type="probe", name=a.id, provider="pb"))
    for provider in ("pa", "pb"):
        store.put_credential(
            Credential(tenant_id=tenant.id, provider=provider, kind="bearer", access_token=new_secret("at"))
        )
    assert (await store.get_connector(tenant.id, a.id)).id == a.id  # the store: the id wins
    limited, _ = store.create_api_key(tenant.id, connector_id=a.id)
    reply = await c.call_modern(
        rig.http, rig.stateless + f"/acme/connectors/{a.id}/mcp", limited, "tools/call", {"name": "probe_whoami"}
    )
    assert reply.status == 200, f"a key limited to connector A is refused on A's id path: {reply.status} {reply.text}"
    identity = reply.result["structuredContent"]
    assert identity["connector_id"] == a.id, f"the id path of A served connector {b.id} ({b.name})"
