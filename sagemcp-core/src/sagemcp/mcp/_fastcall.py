"""`tools/call` without the SDK's transport machinery, where that changes nothing the client sees.

A stateless, JSON-response POST holding one plain `tools/call` request needs none of what the
SDK builds for it: at 2026-07-28 the `Mcp-Param` header walk over the tool's input schema
(when the schema declares no `x-mcp-header`, it can refuse nothing); in the handshake era a
transport, memory streams, a dispatcher and its task groups per request. Such a request is
checked here as the SDK's transport checks it, in its order, and then served by the SDK's
own request kernel (`ServerRunner.on_request`: the server middleware, OpenTelemetry spans
included, params validation, `Handlers.call_tool`, the result's wire shaping) under a
dispatch context that behaves as the transport's would; the reply is framed as that
transport frames it:

- 2026-07-28: Host/Origin and Content-Type, Accept, the JSON-RPC envelope, duplicated
  routing headers, the `_meta` envelope against `MCP-Protocol-Version`, `Mcp-Method` and
  `Mcp-Name`; the back channel is closed and notifications have no stream (as in the SDK's
  JSON-response mode);
- handshake era (`MCP-Protocol-Version` absent or a handshake version): Host/Origin and
  Content-Type, Accept, Content-Type again, the JSON-RPC message; requests to the client
  fail with `NoBackChannelError` and notifications are dropped, as the SDK's stateless
  JSON-response transport does.

So a tool that asks the client, confirms, reports progress or logs ends exactly as it ends
through the SDK, and the call runs once through the same pipeline (tool policy, read-only
mode, call limits, credentials, audit and metrics). Eligible are requests whose params are
`name`, `arguments` and (2026-07-28) a `_meta` of the protocol envelope only; anything else —
a progress token, a log level, `inputResponses` or `requestState`, a session, SSE responses,
a notification, a batch, a tool whose schema declares `x-mcp-header`, a malformed body,
headers the SDK would refuse — goes to the SDK untouched, so every such error and every
protocol difference stays the SDK's own.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import anyio
import pydantic_core
from mcp.server.connection import Connection
from mcp.server.context import CallNext
from mcp.server.lowlevel import Server
from mcp.server.runner import ServerRunner
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from mcp.shared.dispatcher import CallOptions, DispatchContext
from mcp.shared.exceptions import NoBackChannelError
from mcp.shared.inbound import InboundLadderRejection, classify_inbound_request
from mcp.shared.jsonrpc_dispatcher import handler_exception_to_error_data
from mcp.shared.message import MessageMetadata, ServerMessageMetadata
from mcp.shared.transport_context import TransportContext
from mcp_types import (
    CLIENT_CAPABILITIES_META_KEY,
    CLIENT_INFO_META_KEY,
    PROTOCOL_VERSION_META_KEY,
    ErrorData,
    JSONRPCError,
    JSONRPCRequest,
    JSONRPCResponse,
    RequestId,
    jsonrpc_message_adapter,
)
from opentelemetry import trace
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from ._intake import (
    DEFAULT_VERSION,
    METHOD_HEADER,
    VERSION_HEADER,
    json_content_type,
    read_recorded,
    replaying_messages,
    stateless_request,
)

try:  # The SDK's private pieces this shortcut reuses: where a release moved them, the SDK serves every call.
    from mcp.server._otel import OpenTelemetryMiddleware
    from mcp.server._streamable_http_modern import _SingleExchangeDispatchContext, _to_jsonrpc_response, _write
    from mcp.server.runner import _apply_middleware, aclose_shielded
except ImportError:  # pragma: no cover - depends on the installed SDK
    SDK_SUPPORTED = False
else:
    SDK_SUPPORTED = True

__all__ = ["SDK_SUPPORTED", "ToolCallShortcut", "lifespan_state_of"]

logger = logging.getLogger("sagemcp.mcp")

ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_ENVELOPE_KEYS = frozenset({PROTOCOL_VERSION_META_KEY, CLIENT_INFO_META_KEY, CLIENT_CAPABILITIES_META_KEY})
"""The `_meta` keys a 2026-07-28 call may carry here: the protocol envelope, nothing that asks for a back channel."""
_CALL_KEYS = frozenset({"name", "arguments", "_meta"})
_CONTENT_LENGTH = b"content-length"
_VERSION_NAME = VERSION_HEADER.decode()
_METHOD_NAME = METHOD_HEADER.decode()


class ToolCallShortcut:
    """Serves eligible `tools/call` POSTs with the SDK's request kernel; hands every other request on."""

    def __init__(
        self,
        server: Server[Any],
        security: TransportSecuritySettings | None,
        max_body: int,
        lifespan_state: Callable[[], Any],
    ) -> None:
        self.server = server
        self.security = TransportSecurityMiddleware(security)
        self.max_body = max_body
        self.lifespan_state = lifespan_state
        """The state of the server's lifespan, which the SDK's session manager entered (read per request)."""
        self._header_bound: dict[str, bool] = {}
        """Per known tool: whether its input schema declares `x-mcp-header` (then the SDK checks `Mcp-Param-*`)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send, fallback: ASGIApp) -> None:
        headers = _Headers.of(scope)
        if headers is None or not self._declared_size_fits(headers.content_length):
            await fallback(scope, receive, send)  # nothing read yet: the SDK sees the request as it came
            return
        messages: list[Message] = []
        body = await read_recorded(receive, messages, self.max_body)
        replay = replaying_messages(messages, receive)
        answer = None if body is None else await self._answer(scope, replay, body, headers)
        if answer is None:
            await fallback(scope, replay, send)
            return
        await answer(scope, replay, send)

    def _declared_size_fits(self, declared: bytes | None) -> bool:
        if declared is None:
            return True
        try:
            return int(declared) <= self.max_body
        except ValueError:
            return True  # the SDK ignores a Content-Length it cannot read, and counts the body

    async def _answer(self, scope: Scope, receive: Receive, body: bytes, headers: _Headers) -> ASGIApp | None:
        """The response of an eligible request, its call already made; None to let the SDK answer."""
        admitted = await stateless_request(scope, receive, self.security, headers.version, headers.method, "tools/call")
        if admitted is None:
            return None
        request, modern = admitted
        if modern:
            return await self._answer_modern(request, body, headers)
        return await self._answer_handshake(request, body, headers.version)

    async def _answer_modern(self, request: Request, body: bytes, headers: _Headers) -> ASGIApp | None:
        """A 2026-07-28 request, checked as the SDK's single-exchange transport checks it, in its order."""
        try:
            decoded: Any = _loads(body)  # the transport's own parser, so both read the same message
        except (ValueError, RecursionError):
            return None
        if not _plain_call(decoded, modern=True):
            return None
        # What `JSONRPCRequest` accepts of such a message, without building it: the version "2.0" and an id that
        # is an integer or a string (strictly: not a boolean or a float). Its other fields `_plain_call` checked.
        request_id = decoded["id"]
        if decoded.get("jsonrpc") != "2.0" or type(request_id) not in (int, str):
            return None
        # `_Headers.of` declined every repeated `Mcp-*` header, so no routing header is duplicated, and the
        # ladder reads only `Mcp-*` headers (version, method, name): their mapping stands for all of them.
        verdict = classify_inbound_request(decoded, headers=headers.routing)
        if isinstance(verdict, InboundLadderRejection):
            return None
        if self._header_bound_tool(decoded["params"]["name"]):
            return None
        connection = Connection.from_envelope(
            verdict.protocol_version, verdict.client_info, verdict.client_capabilities
        )
        dctx = _SingleExchangeDispatchContext(
            transport=TransportContext(kind="streamable-http", can_send_request=False, headers=request.headers),
            request_id=request_id,
            message_metadata=ServerMessageMetadata(request_context=request),
        )
        # A copy of the params, as the validated request holds one.
        served = self._serve_one(dctx, "tools/call", dict(decoded["params"]), connection)
        reply = await _to_jsonrpc_response(request_id, served)
        if not isinstance(reply, JSONRPCResponse):
            return partial(_write, reply)
        # The transport's `_write` of a result: its `json.dumps(..., separators=(",", ":"))` is this encoder's
        # `encode`, without building an encoder per response.
        payload = _ENCODER.encode(reply.model_dump(mode="json", by_alias=True, exclude_none=True))
        return Response(payload, status_code=200, media_type="application/json")

    async def _serve_one(
        self,
        dctx: DispatchContext[TransportContext],
        method: str,
        params: Mapping[str, Any] | None,
        connection: Connection,
    ) -> dict[str, Any]:
        """The SDK's `serve_one`: one request through the server's kernel, then the connection's cleanup."""
        runner = _Runner(self.server, connection, self.lifespan_state())
        try:
            return await runner.on_request(dctx, method, params)
        finally:
            await _close(connection)

    async def _answer_handshake(self, request: Request, body: bytes, version: str) -> ASGIApp | None:
        """A handshake-era request, checked and answered as the SDK's stateless JSON-response transport does."""
        if not json_content_type(request):
            return None
        try:
            raw: Any = pydantic_core.from_json(body)
        except ValueError:
            return None
        if not _plain_call(raw, modern=False):
            return None
        try:
            message = jsonrpc_message_adapter.validate_python(raw, by_name=False)
        except ValidationError:
            return None
        if not isinstance(message, JSONRPCRequest):
            return None
        connection = Connection.from_envelope(version, None, None)
        metadata = ServerMessageMetadata(request_context=request, can_send_request=False)
        dctx = _StatelessDispatchContext(
            transport=TransportContext(kind="streamable-http", can_send_request=False),
            request_id=message.id,
            message_metadata=metadata,
        )
        reply: JSONRPCResponse | JSONRPCError
        try:
            try:
                result = await _Runner(self.server, connection, self.lifespan_state()).on_request(
                    dctx, message.method, message.params
                )
            finally:
                dctx.close()
            reply = JSONRPCResponse(jsonrpc="2.0", id=message.id, result=result)
        except Exception as exc:
            error = handler_exception_to_error_data(exc)
            if error is None:
                # The SDK's dispatcher answers an unmapped failure so (code 0 for compatibility).
                logger.exception("handler for %r raised", message.method)
                error = ErrorData(code=0, message=str(exc))
            reply = JSONRPCError(jsonrpc="2.0", id=message.id, error=error)
        finally:
            await _close(connection)
        return Response(
            reply.model_dump_json(by_alias=True, exclude_unset=True),
            status_code=200,
            headers={"Content-Type": "application/json"},
        )

    def _header_bound_tool(self, name: str) -> bool:
        """Whether the SDK would compare `Mcp-Param-*` headers with this call's arguments (then it answers)."""
        found = self._header_bound.get(name)
        if found is None:
            lookup = self.server.get_tool_input_schema
            schema = lookup(name) if lookup is not None else None
            if schema is None:
                return lookup is None  # a tool the schema lookup does not know: the SDK checks nothing
            found = self._header_bound[name] = "x-mcp-header" in json.dumps(schema)
        return found


@dataclass
class _Headers:
    """What the shortcut reads from the request headers, in one pass over them."""

    version: str
    method: str | None
    content_length: bytes | None
    routing: dict[str, str]
    """The `Mcp-*` headers by lower-case name: all that the SDK's envelope checks read of the headers."""

    @classmethod
    def of(cls, scope: Scope) -> _Headers | None:
        """The headers of a request; None when an `Mcp-*` header appears twice (the SDK decides about those)."""
        routing: dict[str, str] = {}
        content_length: bytes | None = None
        for key, value in scope["headers"]:
            if key[:4] == b"mcp-":
                name = key.decode("latin-1")
                if name in routing:
                    return None
                routing[name] = value.decode("latin-1")
            elif key == _CONTENT_LENGTH and content_length is None:
                content_length = value
        version = routing.get(_VERSION_NAME)
        return cls(DEFAULT_VERSION if version is None else version, routing.get(_METHOD_NAME), content_length, routing)


class _Runner(ServerRunner[Any]):
    """The SDK's request kernel, without the OpenTelemetry middleware while no tracer provider is set.

    With none set, the SDK's spans are non-recording and reach nobody, so leaving them out
    changes nothing; once a provider is set (in code or by `OTEL_PYTHON_TRACER_PROVIDER`),
    every span is made as the SDK makes it.
    """

    def _compose_server_middleware(self, inner: CallNext) -> CallNext:
        if not _tracing():
            middleware = self.server.middleware
            if any(isinstance(m, OpenTelemetryMiddleware) for m in middleware):
                call = inner
                for one in reversed(middleware):
                    if not isinstance(one, OpenTelemetryMiddleware):
                        call = partial(_apply_middleware, one, call)
                return call
        return super()._compose_server_middleware(inner)


def lifespan_state_of(manager: Any) -> Callable[[], Any] | None:
    """How to read the lifespan state the SDK's session manager entered (it keeps it privately); None
    when this SDK keeps it elsewhere or the pieces above are missing: the shortcut is then not used."""
    if not SDK_SUPPORTED or not hasattr(manager, "_lifespan_state"):
        return None
    return lambda: manager._lifespan_state


def _tracing() -> bool:
    """Whether a tracer provider is set, so that the SDK's spans are recorded somewhere."""
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider | trace.NoOpTracerProvider)


async def _close(connection: Connection) -> None:
    """The SDK's shielded cleanup of a connection's exit stack, skipped when nothing was pushed onto it."""
    # The stack's callbacks are stdlib-private: where they cannot be read, the stack is unwound as always.
    if getattr(connection.exit_stack, "_exit_callbacks", True):
        await aclose_shielded(connection)


@dataclass
class _StatelessDispatchContext:
    """The dispatch context of a stateless, JSON-response handshake-era request, as the SDK's dispatcher gives it.

    The response body holds only the reply: requests to the client fail with `NoBackChannelError`,
    and notifications (progress, log messages) have no wire, so they are dropped. `progress`
    needs a progress token, and eligible requests carry none.
    """

    transport: TransportContext
    request_id: RequestId
    message_metadata: MessageMetadata
    cancel_requested: anyio.Event = field(default_factory=anyio.Event)
    _closed: bool = False

    @property
    def can_send_request(self) -> bool:
        return False

    async def notify(self, method: str, params: Mapping[str, Any] | None, opts: CallOptions | None = None) -> None:
        logger.debug("dropped %s: a JSON response carries only the reply", method)

    async def send_raw_request(
        self, method: str, params: Mapping[str, Any] | None, opts: CallOptions | None = None
    ) -> dict[str, Any]:
        raise NoBackChannelError(method)

    async def progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        return None

    def close(self) -> None:
        self._closed = True


def _loads(body: bytes) -> Any:
    """`json.loads(body)`, with less work around the parse for a UTF-8 body that starts with `{`.

    The same scanner reads the same text: `json.loads` takes such a body for UTF-8 (no byte
    order mark starts with `{`, and a second byte of zero would mean UTF-16 or UTF-32), decodes
    it so, skips no leading whitespace and requires nothing but whitespace after the value. Any
    other body goes to `json.loads` itself.
    """
    if body[:1] != b"{" or body[1:2] == b"\x00":
        return json.loads(body)
    text = body.decode("utf-8", "surrogatepass")
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        return json.loads(body)  # raises, as it would have
    if end != len(text) and text[end:].strip(_JSON_WHITESPACE):
        return json.loads(body)  # raises "Extra data"
    return value


_ENCODER = json.JSONEncoder(separators=(",", ":"))
_DECODER = json.JSONDecoder()
_scan: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
_JSON_WHITESPACE = " \t\n\r"
"""What `json.loads` skips around the value."""


def _plain_call(message: Any, *, modern: bool) -> bool:
    """Whether a decoded body is one `tools/call` request whose params this shortcut may serve.

    `name` a string, `arguments` an object when present, and `_meta` the 2026-07-28 envelope
    only (or absent, in the handshake era); the SDK validates the rest as it always does.
    """
    if not isinstance(message, dict) or message.get("method") != "tools/call" or "id" not in message:
        return False
    params = message.get("params")
    if not isinstance(params, dict) or not params.keys() <= _CALL_KEYS or not isinstance(params.get("name"), str):
        return False
    arguments = params.get("arguments")
    if arguments is not None and not isinstance(arguments, dict):
        return False
    meta = params.get("_meta")
    if modern:
        return isinstance(meta, dict) and meta.keys() <= _ENVELOPE_KEYS
    return meta is None
