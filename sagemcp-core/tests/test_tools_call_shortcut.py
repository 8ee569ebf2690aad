"""`tools/call` before the SDK's transport: the shortcut answers byte for byte what the SDK answers (both
eras, every outcome, every refusal), records the same audit events, and is taken for a plain call."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any, ClassVar

import httpx
import pytest
from mcp.shared import _otel as sdk_otel
from opentelemetry import trace
from pydantic import BaseModel, Field

from sagemcp import Connector, ConnectorInfo, NoAuth, ToolContext, tool
from sagemcp.errors import UpstreamNotFound
from sagemcp.mcp import McpApp, McpSettings, create_mcp_app
from sagemcp.platform import (
    AuditEvent,
    CallGuard,
    CallLimits,
    ConnectorConfig,
    ConnectorRegistry,
    MemoryStore,
    Tenant,
    ToolPolicy,
)

from ._support import serve

# `chatty` logs, which the SDK flags as deprecated at 2026-07-28 on both paths alike.
pytestmark = pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning")

MODERN = "2026-07-28"
HANDSHAKE = "2025-11-25"
MAX_BODY = 8192
ALL = ToolPolicy(groups=["read", "write"])


class Echoed(BaseModel):
    text: str
    times: int


class Calls(Connector):
    """Tools for every way a call can end."""

    info = ConnectorInfo(id="calls", title="Calls", description="Tools for the shortcut.", default_groups=("read",))
    auth = (NoAuth(),)
    ran: ClassVar[list[str]] = []

    @tool(read_only=True, group="read")
    async def echo(
        self, ctx: ToolContext, text: str, times: Annotated[int, Field(ge=1, le=3, description="How often.")] = 1
    ) -> Echoed:
        """Say it back."""
        Calls.ran.append(f"echo {text}")
        return Echoed(text=text * times, times=times)

    @tool(read_only=True, group="read")
    async def missing(self, ctx: ToolContext) -> str:
        """Fail as an upstream 404 does (a tool error)."""
        raise UpstreamNotFound("no such thing upstream")

    @tool(read_only=True, group="read")
    async def crash(self, ctx: ToolContext) -> str:
        """Fail with an internal error."""
        raise RuntimeError("secret internal detail")

    @tool(read_only=False, group="write", destructive=True)
    async def delete(self, ctx: ToolContext, item: str) -> str:
        """Delete after the person confirms."""
        if not await ctx.confirm(f"Delete {item}?"):
            return f"kept {item}"
        Calls.ran.append(f"deleted {item}")
        return f"deleted {item}"

    @tool(read_only=True, group="read")
    async def pick(self, ctx: ToolContext) -> str:
        """Ask for a choice."""
        return f"picked {await ctx.choose('Which one?', ['red', 'blue'])}"

    @tool(read_only=True, group="read")
    async def chatty(self, ctx: ToolContext) -> str:
        """Report progress and log while working."""
        await ctx.report_progress(1, 2, "half way")
        await ctx.client.log("info", {"step": 1})
        await ctx.report_progress(2, 2)
        Calls.ran.append("chatty")
        return "done"


@dataclass
class Pair:
    """The same store served twice: with the shortcut (`fast`) and through the SDK only (`sdk`)."""

    fast: str
    sdk: str
    fast_app: McpApp
    sdk_app: McpApp
    fast_events: list[AuditEvent]
    sdk_events: list[AuditEvent]


@asynccontextmanager
async def serving_pair(limits: CallLimits | None = None) -> AsyncIterator[Pair]:
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme"))
    store.add_connector(ConnectorConfig(tenant_id=tenant.id, connector_type="calls", name="main", tool_policy=ALL))
    locked = ToolPolicy(groups=["read", "write"], read_only=True, exclude_tools=["calls_pick"])
    store.add_connector(ConnectorConfig(tenant_id=tenant.id, connector_type="calls", name="locked", tool_policy=locked))
    registry = ConnectorRegistry([Calls])
    fast_events: list[AuditEvent] = []
    sdk_events: list[AuditEvent] = []

    def app(call_shortcut: bool, events: list[AuditEvent]) -> McpApp:
        settings = McpSettings(tools_call_shortcut=call_shortcut, max_body_bytes=MAX_BODY, request_state_key=b"k" * 32)
        guard = CallGuard(defaults=limits) if limits is not None else None
        return create_mcp_app(
            store, registry, allow_anonymous=True, settings=settings, observer=events.append, guard=guard
        )

    fast_app, sdk_app = app(True, fast_events), app(False, sdk_events)
    now = float(int(time.time()) + 60)
    for one in (fast_app, sdk_app):
        # Request states carry their expiry in seconds: one clock for both apps, so that both seal alike.
        sealer = one.handlers.sealer
        sealer.seal = partial(type(sealer).seal, sealer, now=now)  # type: ignore[method-assign]
    Calls.ran.clear()
    async with serve(fast_app) as fast, serve(sdk_app) as sdk:
        yield Pair(fast, sdk, fast_app, sdk_app, fast_events, sdk_events)


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    async with serving_pair() as served:
        yield served


def envelope(capabilities: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": capabilities or {},
        "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "1"},
    }


def call(
    name: str,
    arguments: Any = None,
    *,
    version: str | None = MODERN,
    request_id: Any = 1,
    meta: Any = None,
    **extra: Any,
) -> tuple[list[tuple[str, str]], bytes]:
    """Headers and body of one `tools/call`, as a client of `version` sends it."""
    params: dict[str, Any] = {"name": name, **extra}
    if arguments is not None:
        params["arguments"] = arguments
    if meta is not None:
        params["_meta"] = meta
    elif version == MODERN:
        params["_meta"] = envelope()
    headers = [("Accept", "application/json, text/event-stream"), ("Content-Type", "application/json")]
    if version is not None:
        headers.append(("MCP-Protocol-Version", version))
    if version == MODERN:
        headers += [("Mcp-Method", "tools/call"), ("Mcp-Name", name)]
    body = json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}).encode()
    return headers, body


async def post(base: str, headers: list[tuple[str, str]], body: bytes, request_id: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.post(f"{base}/acme/mcp", content=body, headers=[*headers, ("X-Request-Id", request_id)])


VARYING = ("date",)
"""Headers whose values differ on every response: only their presence is compared."""


def same(a: httpx.Response, b: httpx.Response) -> None:
    """The same status, headers (the values of `VARYING` aside) and bytes."""

    def shown(r: httpx.Response) -> list[tuple[str, str]]:
        return sorted((k, "" if k in VARYING else v) for k, v in r.headers.multi_items())

    assert a.status_code == b.status_code
    assert shown(a) == shown(b)
    assert a.content == b.content


def audited(events: list[AuditEvent]) -> list[dict[str, Any]]:
    return [e.model_dump(exclude={"id", "duration_ms", "at"}) for e in events]


_counter = iter(range(1_000_000))


async def both(pair: Pair, headers: list[tuple[str, str]], body: bytes) -> httpx.Response:
    """Send one request to both apps; assert the same response and the same audit events; the fast response."""
    request_id = f"req-{next(_counter)}"
    before = len(pair.fast_events), len(pair.sdk_events)
    ran = len(Calls.ran)
    fast = await post(pair.fast, headers, body, request_id)
    ran_fast = Calls.ran[ran:]
    sdk = await post(pair.sdk, headers, body, request_id)
    same(fast, sdk)
    assert Calls.ran[ran + len(ran_fast) :] == ran_fast  # the tool ran as often on both
    assert audited(pair.fast_events[before[0] :]) == audited(pair.sdk_events[before[1] :])
    return fast


def result(response: httpx.Response) -> dict[str, Any]:
    payload: dict[str, Any] = response.json()
    return payload.get("result") or payload["error"]


ERAS = [MODERN, HANDSHAKE, None]


@pytest.mark.parametrize("version", ERAS)
@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("main__calls_echo", {"text": "hi", "times": 2}),  # structured content
        ("main__calls_echo", {"text": "é ☃ \u2028", "times": 1}),  # non-ASCII, and a separator JSON escapes
        ("main__calls_echo", {"text": "hi", "times": 9}),  # invalid arguments
        ("main__calls_echo", {}),  # a required argument missing
        ("main__calls_echo", None),  # no arguments at all
        ("main__calls_missing", {}),  # a tool error
        ("main__calls_crash", {}),  # an internal failure, reported without internals
        ("main__calls_nope", {}),  # an unknown tool
        ("locked__calls_pick", {}),  # a tool the policy disables
        ("locked__calls_delete", {"item": "x"}),  # refused by read-only mode
        ("main__calls_delete", {"item": "x"}),  # asks the client to confirm
        ("main__calls_pick", {}),  # asks the client to choose
        ("main__calls_chatty", {}),  # reports progress and logs
    ],
)
async def test_every_outcome_is_the_sdks_answer_and_audit(
    pair: Pair, version: str | None, name: str, arguments: Any
) -> None:
    response = await both(pair, *call(name, arguments, version=version))
    assert response.status_code in (200, 400)


async def test_the_outcomes_are_what_the_tools_did(pair: Pair) -> None:
    ok = result(await both(pair, *call("main__calls_echo", {"text": "ab", "times": 2})))
    assert ok["structuredContent"] == {"text": "abab", "times": 2} and not ok.get("isError")
    failed = result(await both(pair, *call("main__calls_crash", {}, version=HANDSHAKE)))
    assert failed["isError"] and "secret" not in json.dumps(failed)
    chatty = result(await both(pair, *call("main__calls_chatty", {}, version=HANDSHAKE)))
    assert chatty["content"][0]["text"] == "done"
    assert Calls.ran.count("chatty") == 2  # once per app
    asked = await both(pair, *call("main__calls_delete", {"item": "x"}, version=HANDSHAKE))
    assert "deleted x" not in asked.text and "deleted x" not in Calls.ran
    assert [e.outcome for e in pair.fast_events] == ["ok", "error", "ok", "invalid"]


@pytest.mark.parametrize(
    "capabilities",
    [{}, {"elicitation": {}}, {"elicitation": {"form": {}}}],
    ids=["no capability", "elicitation", "form elicitation"],
)
@pytest.mark.parametrize("name", ["main__calls_delete", "main__calls_pick"])
async def test_a_tool_that_asks_ends_as_on_the_sdk_path(pair: Pair, capabilities: dict[str, Any], name: str) -> None:
    arguments = {"item": "x"} if name == "main__calls_delete" else {}
    await both(pair, *call(name, arguments, meta=envelope(capabilities)))


@pytest.mark.parametrize("version", ERAS)
@pytest.mark.parametrize(
    "meta",
    [
        {"progressToken": 5},
        {"progressToken": "p"},
        {"io.modelcontextprotocol/logLevel": "debug"},
        {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
        {},
        "not an object",
    ],
)
async def test_meta_variants_are_the_sdks_answer(pair: Pair, version: str | None, meta: Any) -> None:
    if version == MODERN and isinstance(meta, dict):
        meta = {**envelope(), **meta}
    await both(pair, *call("main__calls_chatty", {}, version=version, meta=meta))


@pytest.mark.parametrize("version", ERAS)
@pytest.mark.parametrize("request_id", ["abc", 0, -7, 2**53, "", True, None, 1.5, [1]])
async def test_ids_are_echoed_or_refused_as_the_sdk_does(pair: Pair, version: str | None, request_id: Any) -> None:
    await both(pair, *call("main__calls_echo", {"text": "id"}, version=version, request_id=request_id))


@pytest.mark.parametrize("version", [MODERN, HANDSHAKE])
@pytest.mark.parametrize(
    "extra", [{"inputResponses": {}}, {"requestState": "abc"}, {"task": {"ttl": 1}}], ids=["input", "state", "task"]
)
async def test_input_round_fields_are_the_sdks_answer(pair: Pair, version: str, extra: dict[str, Any]) -> None:
    await both(pair, *call("main__calls_echo", {"text": "x"}, version=version, **extra))


def _replace(headers: list[tuple[str, str]], name: str, value: str | None) -> list[tuple[str, str]]:
    kept = [(k, v) for k, v in headers if k.lower() != name.lower()]
    return kept if value is None else [*kept, (name, value)]


@pytest.mark.parametrize(
    "change",
    [
        lambda h: _replace(h, "Mcp-Method", "tools/list"),
        lambda h: _replace(h, "Mcp-Method", None),
        lambda h: [*h, ("Mcp-Method", "tools/call")],
        lambda h: _replace(h, "Mcp-Name", "main__calls_other"),
        lambda h: _replace(h, "Mcp-Name", None),
        lambda h: [*h, ("Mcp-Name", "main__calls_echo")],
        lambda h: [*h, ("MCP-Protocol-Version", MODERN)],
        lambda h: _replace(h, "MCP-Protocol-Version", "2099-01-01"),
        lambda h: [*h, ("Mcp-Param-Text", "hi")],
        lambda h: _replace(h, "Accept", "text/html"),
        lambda h: _replace(h, "Accept", "text/event-stream"),
        lambda h: _replace(h, "Accept", None),
        lambda h: _replace(h, "Content-Type", "text/plain"),
        lambda h: _replace(h, "Content-Type", "application/json; charset=utf-8"),
        lambda h: _replace(h, "Content-Type", None),
    ],
    ids=[
        "method other",
        "method missing",
        "method twice",
        "name other",
        "name missing",
        "name twice",
        "version twice",
        "version unknown",
        "param header",
        "accept html",
        "accept sse only",
        "accept missing",
        "content type text",
        "content type charset",
        "content type missing",
    ],
)
async def test_header_refusals_are_the_sdks_own(pair: Pair, change: Any) -> None:
    headers, body = call("main__calls_echo", {"text": "hi"})
    await both(pair, change(headers), body)


@pytest.mark.parametrize("version", [HANDSHAKE, None])
@pytest.mark.parametrize(
    "change",
    [
        lambda h: _replace(h, "Accept", "text/html"),
        lambda h: _replace(h, "Accept", "application/json"),
        lambda h: _replace(h, "Content-Type", "text/plain"),
        lambda h: _replace(h, "Content-Type", "application/json, text/plain"),
        lambda h: [*h, ("Mcp-Method", "tools/list")],
        lambda h: [*h, ("Mcp-Session-Id", "0" * 32)],
    ],
)
async def test_handshake_era_header_refusals_are_the_sdks_own(pair: Pair, version: str | None, change: Any) -> None:
    headers, body = call("main__calls_echo", {"text": "hi"}, version=version)
    await both(pair, change(headers), body)


@pytest.mark.parametrize("version", ERAS)
@pytest.mark.parametrize(
    "body",
    [
        b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"main__calls_echo"',  # cut
        b"[]",
        b"null",
        b'{"jsonrpc":"2.0","method":"tools/call","params":{"name":"main__calls_echo"}}',  # a notification
        b'{"jsonrpc":"1.0","id":1,"method":"tools/call","params":{"name":"main__calls_echo"}}',
        b'{"jsonrpc":"2.0","id":1,"method":"tools/call"}',
        b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":7}}',
        b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"main__calls_echo","arguments":[1]}}',
        b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":[]}',
        b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"main__calls_echo"},"extra":1}',
        b'[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"main__calls_echo"}}]',
        b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"main__calls_echo","arguments":{"text":"'
        + b"x" * MAX_BODY
        + b'"}}}',  # oversized
    ],
)
async def test_malformed_and_oversized_bodies_are_the_sdks_answer(pair: Pair, version: str | None, body: bytes) -> None:
    headers, _ = call("main__calls_echo", version=version)
    await both(pair, headers, body)


def _modern_bodies() -> list[bytes]:
    """One well-formed 2026-07-28 call, spelled in ways a parser or the JSON-RPC envelope may read differently."""
    _, body = call("main__calls_echo", {"text": "hi"})
    text = body.decode()
    message = json.loads(body)

    def changed(**fields: Any) -> bytes:
        return json.dumps({**message, **fields}).encode()

    without_version = {k: v for k, v in message.items() if k != "jsonrpc"}
    return [
        b" \n" + body,  # whitespace before
        body + b" \r\n\t",  # and after
        body + b" {}",  # extra data
        b"\xef\xbb\xbf" + body,  # a UTF-8 byte order mark
        text.encode("utf-16-le"),
        text.encode("utf-16"),
        text.encode("utf-32"),
        body.replace(b'"hi"', b'"\\ud800"'),  # a lone surrogate, escaped
        body.replace(b'"hi"', b'"\xed\xa0\x80"'),  # and encoded
        body.replace(b'"hi"', b'"\xff"'),  # not UTF-8
        body.replace(b'"hi"', b'"h\ti"'),  # a control character, raw
        body.replace(b'"hi"', b'"\x7f\\u0001\\u2028"'),  # and escaped, with what JSON escapes on the way out
        body.replace(b'"hi"', '"é ☃ \U0001f600"'.encode()),
        body.replace(b'"id": 1', b'"id": 1, "id": "again"'),  # a repeated member: the last one wins
        body.replace(b'"id": 1', b'"id": 1' + b"0" * 5000),  # more digits than `int` reads
        changed(jsonrpc=2.0),
        changed(jsonrpc="2.0 "),
        json.dumps(without_version).encode(),
        changed(id=2**70),
        changed(id=1.0),
        changed(id=False),
    ]


@pytest.mark.parametrize("body", _modern_bodies())
async def test_bodies_parsed_and_enveloped_as_the_sdk_does(pair: Pair, body: bytes) -> None:
    headers, _ = call("main__calls_echo")
    await both(pair, headers, body)


async def asgi_post(app: McpApp, headers: list[tuple[str, str]], body: bytes) -> tuple[int, bytes]:
    """POST straight through the ASGI interface, headers exactly as given (a Content-Length that lies too)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/acme/mcp",
        "raw_path": b"/acme/mcp",
        "root_path": "",
        "query_string": b"",
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 5000),
        "headers": [(b"host", b"127.0.0.1")] + [(k.lower().encode(), v.encode()) for k, v in headers],
        "state": {},
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


@pytest.mark.parametrize("version", [MODERN, HANDSHAKE])
async def test_a_declared_oversized_body_is_the_sdks_answer(pair: Pair, version: str) -> None:
    headers, body = call("main__calls_echo", {"text": "hi"}, version=version)
    headers = [*headers, ("Content-Length", str(MAX_BODY + 1))]
    fast, sdk = await asgi_post(pair.fast_app, headers, body), await asgi_post(pair.sdk_app, headers, body)
    assert fast == sdk and fast[0] == 413
    assert Calls.ran == []


@pytest.mark.parametrize("version", ERAS)
async def test_call_limit_refusals_are_the_sdks_answer(version: str | None) -> None:
    async with serving_pair(CallLimits(calls_per_minute=2)) as pair:
        outcomes = []
        for n in range(3):
            response = await both(pair, *call("main__calls_echo", {"text": str(n)}, version=version))
            outcomes.append(bool(result(response).get("isError")))
        assert outcomes == [False, False, True]
        assert [e.outcome for e in pair.fast_events] == ["ok", "ok", "limited"]


@pytest.mark.parametrize("version", ERAS)
async def test_the_shortcut_is_taken_for_a_plain_call_and_not_otherwise(pair: Pair, version: str | None) -> None:
    manager = pair.fast_app._manager
    entered: list[str] = []
    sdk_handle = manager.handle_request

    async def handle(scope: Any, receive: Any, send: Any) -> None:
        entered.append(scope["path"])
        await sdk_handle(scope, receive, send)

    manager.handle_request = handle  # type: ignore[method-assign]
    ok = await post(pair.fast, *call("main__calls_echo", {"text": "fast"}, version=version), "r1")
    assert result(ok)["structuredContent"] == {"text": "fast", "times": 1}
    assert entered == []
    assert [e.outcome for e in pair.fast_events] == ["ok"]
    meta = {**envelope(), "progressToken": 1} if version == MODERN else {"progressToken": 1}
    await post(pair.fast, *call("main__calls_echo", {"text": "sdk"}, version=version, meta=meta), "r2")
    assert entered == ["/acme/mcp"]  # a progress token: the SDK serves it
    assert [e.outcome for e in pair.fast_events] == ["ok", "ok"]


async def test_a_tool_declaring_mcp_param_headers_is_left_to_the_sdk(pair: Pair) -> None:
    shortcut = pair.fast_app._call_shortcut
    assert shortcut is not None
    assert not shortcut._header_bound_tool("echo")
    lookup = shortcut.server.get_tool_input_schema
    schema = {"type": "object", "properties": {"region": {"type": "string", "x-mcp-header": "Region"}}}
    shortcut.server.get_tool_input_schema = lambda name: schema if name == "routed" else lookup(name)  # type: ignore[misc, union-attr]
    assert shortcut._header_bound_tool("routed")


class _RecordingTracer(trace.NoOpTracer):
    def __init__(self) -> None:
        self.spans: list[tuple[str, dict[str, Any]]] = []

    @contextmanager
    def start_as_current_span(self, name: str, *args: Any, **kwargs: Any) -> Iterator[Any]:  # type: ignore[override]
        self.spans.append((name, dict(kwargs.get("attributes") or {})))
        with super().start_as_current_span(name, *args, **kwargs) as span:
            yield span


class _RecordingProvider(trace.TracerProvider):
    def __init__(self, tracer: trace.Tracer) -> None:
        self.tracer = tracer

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        return self.tracer


@pytest.mark.parametrize("version", ERAS)
async def test_with_a_tracer_provider_the_sdks_spans_are_made_on_both_paths(
    pair: Pair, version: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracer = _RecordingTracer()
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", _RecordingProvider(tracer))  # neither the proxy nor the no-op
    monkeypatch.setattr(sdk_otel._tracer, "_real_tracer", tracer)
    request_id = "traced"
    headers, body = call("main__calls_echo", {"text": "t"}, version=version)
    fast = await post(pair.fast, headers, body, request_id)
    after_fast = list(tracer.spans)
    sdk = await post(pair.sdk, headers, body, request_id)
    same(fast, sdk)
    assert after_fast and after_fast[0][0] == "tools/call main__calls_echo"
    assert tracer.spans == after_fast * 2  # the same span, with the same attributes, on each path


async def test_without_the_sdk_pieces_it_reuses_the_sdk_serves_every_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """An SDK release that moved the private pieces the shortcut reuses turns it off; calls still work."""
    from sagemcp.mcp import _fastcall

    monkeypatch.setattr(_fastcall, "SDK_SUPPORTED", False)
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme"))
    store.add_connector(ConnectorConfig(tenant_id=tenant.id, connector_type="calls", name="main", tool_policy=ALL))
    app = create_mcp_app(store, ConnectorRegistry([Calls]), allow_anonymous=True)
    assert app._call_shortcut is None
    assert _fastcall.lifespan_state_of(app._manager) is None
    async with serve(app) as url:
        for version in ERAS:
            ok = await post(url, *call("calls_echo", {"text": "sdk"}, version=version), "r")
            assert result(ok)["structuredContent"] == {"text": "sdk", "times": 1}
