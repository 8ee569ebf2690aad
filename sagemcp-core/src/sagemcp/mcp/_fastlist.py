"""`tools/list` answered from the cached catalogue, where that changes nothing the client sees.

The SDK validates and re-serialises every result, which for a catalogue of a hundred tools
with their schemas costs milliseconds per request. A stateless, JSON-response POST holding one
plain `tools/list` request with at most a cursor this catalogue issued is answered here with
the bytes the SDK would send, built once per catalogue page and protocol version:

- handshake era (`MCP-Protocol-Version` absent or a handshake version): no `_meta` at all
  (`Listing.wire`);
- 2026-07-28: after the same checks the SDK's single-exchange transport makes, in its order
  (Host/Origin and Content-Type, Accept, the JSON-RPC envelope, duplicated routing headers,
  the `_meta` envelope against `MCP-Protocol-Version` and `Mcp-Method`, the params for that
  version), with the runner's `serverInfo` stamp (`Listing.modern_wire`). Any `_meta` the
  params validate with is accepted: a JSON response carries no progress or log messages.

Anything else — another method, a session, SSE responses, a foreign or stale cursor, a
malformed body, headers the SDK would refuse — goes to the SDK untouched, so every error and
every protocol difference stays the SDK's own.

Stateful sessions have their own shortcut before the SDK (`sagemcp.mcp._fastsession`). Inside the
SDK, `ToolListMiddleware` does the same for the requests the HTTP shortcuts leave alone (SSE
responses, WebSocket, legacy SSE, requests a shortcut declined): after the SDK's own
checks of the request would pass (the params validate for the connection's version, the session
is initialized), it returns the page already shaped as the runner would shape it, which skips
re-validating and re-dumping the catalogue on every request; the transport still frames and
sends the response.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pydantic_core
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from mcp.shared.inbound import InboundLadderRejection, classify_inbound_request, find_duplicated_routing_header
from mcp_types import SERVER_INFO_META_KEY, JSONRPCRequest
from mcp_types import methods as _methods
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from ._handlers import Handlers
from ._http import header
from ._intake import METHOD_HEADER, read_recorded, replaying_messages, stateless_request, version_of
from ._resolve import CallScope, scope_of

__all__ = ["ToolListMiddleware", "ToolListShortcut"]

ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class ToolListShortcut:
    """Serves eligible `tools/list` POSTs from the caller's `Listing`; hands every other request on."""

    def __init__(
        self,
        handlers: Handlers,
        security: TransportSecuritySettings | None,
        max_body: int,
        server_info: dict[str, Any],
    ) -> None:
        self.handlers = handlers
        self.security = TransportSecurityMiddleware(security)
        self.max_body = max_body
        self.server_info = server_info
        """The runner's `serverInfo` stamp of 2026-era results (`Server.server_info_stamp`)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send, fallback: ASGIApp) -> None:
        messages: list[Message] = []
        body = await read_recorded(receive, messages, self.max_body)
        replay = replaying_messages(messages, receive)
        answer = None if body is None else await self._answer(scope, replay, body)
        if answer is None:
            await fallback(scope, replay, send)
            return
        await answer(scope, replay, send)

    async def _answer(self, scope: Scope, receive: Receive, body: bytes) -> Response | None:
        """The response for an eligible request, or None to let the SDK answer."""
        version = version_of(scope)
        method = header(scope, METHOD_HEADER) if version in MODERN_PROTOCOL_VERSIONS else None
        admitted = await stateless_request(scope, receive, self.security, version, method, "tools/list")
        if admitted is None:
            return None
        request, modern = admitted
        if modern:
            return self._answer_modern(request, body)
        request_id, cursor = _plain_tools_list(body)
        if request_id is None:
            return None
        cs: CallScope = scope["sagemcp.call"]
        listing = self.handlers.listing(cs)
        start = listing.issued_start(cursor)
        if start is None:
            return None
        result = listing.wire(start, version, self.handlers.list_hint)
        payload = b'{"jsonrpc":"2.0","id":' + pydantic_core.to_json(request_id) + b',"result":' + result + b"}"
        return Response(payload, status_code=200, headers={"Content-Type": "application/json"})

    def _answer_modern(self, request: Request, body: bytes) -> Response | None:
        """A 2026-07-28 request, checked as the SDK's single-exchange transport checks it, in its order."""
        try:
            decoded: Any = json.loads(body)  # the transport's own parser, so both read the same message
        except (ValueError, RecursionError):
            return None
        request_id, cursor, params = _modern_tools_list(decoded)
        if request_id is None:
            return None
        if find_duplicated_routing_header(request.headers.items()) is not None:
            return None
        verdict = classify_inbound_request(decoded, headers=dict(request.headers))
        if isinstance(verdict, InboundLadderRejection):
            return None
        try:
            _methods.validate_client_request("tools/list", verdict.protocol_version, params)
        except Exception:
            return None  # the SDK answers it, with its own error
        cs: CallScope = request.scope["sagemcp.call"]
        listing = self.handlers.listing(cs)
        start = listing.issued_start(cursor)
        if start is None:
            return None
        result = listing.modern_wire(start, verdict.protocol_version, self.handlers.list_hint, self.server_info)
        payload = b'{"jsonrpc":"2.0","id":' + json.dumps(request_id).encode() + b',"result":' + result + b"}"
        return Response(payload, status_code=200, media_type="application/json")


class ToolListMiddleware:
    """A server middleware answering `tools/list` from the caller's `Listing`, shaped once per page and version."""

    def __init__(self, handlers: Handlers, server: Server[Any]) -> None:
        self.handlers = handlers
        self.server = server

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method != "tools/list" or ctx.request_id is None:
            return await call_next(ctx)
        cs = scope_of(ctx.request)
        # The SDK's pre-handler checks: an initialized connection and params valid for its version.
        connection = getattr(ctx.session, "_connection", None)
        if cs is None or not getattr(connection, "initialize_accepted", False):
            return await call_next(ctx)
        params = ctx.params
        cursor: Any = None
        if params is not None:
            if not set(params) <= {"cursor", "_meta"}:
                return await call_next(ctx)
            cursor = params.get("cursor")
            if cursor is not None and not isinstance(cursor, str):
                return await call_next(ctx)
        try:
            _methods.validate_client_request("tools/list", ctx.protocol_version, params)
        except Exception:
            return await call_next(ctx)  # the SDK answers it, with its own error
        listing = self.handlers.listing(cs)
        start = listing.issued_start(cursor)
        if start is None:
            return await call_next(ctx)
        self.handlers.listened(ctx, cs)
        shaped = listing.shaped(start, ctx.protocol_version, self.handlers.list_hint)
        if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
            # The runner's `serverInfo` stamp of 2026-era results (our pages carry no `_meta` of their own).
            return {**shaped, "_meta": {SERVER_INFO_META_KEY: self.server.server_info_stamp}}
        return dict(shaped)


def _plain_tools_list(body: bytes) -> tuple[str | int | None, str | None]:
    """The id and cursor of a body that is exactly one plain `tools/list` request; (None, None) otherwise."""
    try:
        message: Any = pydantic_core.from_json(body)
    except ValueError:
        return None, None
    if not isinstance(message, dict) or message.get("method") != "tools/list" or message.get("jsonrpc") != "2.0":
        return None, None
    if not set(message) <= {"jsonrpc", "id", "method", "params"}:
        return None, None
    request_id = message.get("id")
    if isinstance(request_id, bool) or not isinstance(request_id, str | int):
        return None, None
    params = message.get("params")
    if params is None:
        return request_id, None
    if not isinstance(params, dict) or not set(params) <= {"cursor"}:
        return None, None
    cursor = params.get("cursor")
    if cursor is not None and not isinstance(cursor, str):
        return None, None
    return request_id, cursor


def _modern_tools_list(message: Any) -> tuple[str | int | None, str | None, dict[str, Any]]:
    """The id, cursor and params of a decoded body that is one `tools/list` request with params of
    `cursor` and `_meta` only; a None id otherwise (the transport's envelope checks are the SDK's)."""
    if not isinstance(message, dict) or message.get("method") != "tools/list" or message.get("jsonrpc") != "2.0":
        return None, None, {}
    if not set(message) <= {"jsonrpc", "id", "method", "params"}:
        return None, None, {}
    request_id = message.get("id")
    params = message.get("params")
    if isinstance(request_id, bool) or not isinstance(request_id, str | int) or not isinstance(params, dict):
        return None, None, {}
    if not set(params) <= {"cursor", "_meta"} or not isinstance(params.get("_meta"), dict):
        return None, None, {}
    cursor = params.get("cursor")
    if cursor is not None and not isinstance(cursor, str):
        return None, None, {}
    try:
        JSONRPCRequest.model_validate(message)
    except ValidationError:
        return None, None, {}
    return request_id, cursor, params
