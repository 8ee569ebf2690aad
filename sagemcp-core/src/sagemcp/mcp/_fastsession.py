"""`tools/list` on a stateful Streamable HTTP session, answered from the cached catalogue as the SDK answers it.

A session POST normally travels the SDK's whole way: its transport, the session's message
loop, the runner, then the response is validated into a model, dumped to JSON again and
framed as a server-sent event, which for a catalogue of a hundred tools costs milliseconds.
`SessionToolListShortcut` answers a POST holding one `tools/list` request with at most a cursor
this catalogue issued (and any `_meta` the params validate with) with the same bytes, once
every check the SDK makes of that POST would pass:

- the manager's: a handshake-era `MCP-Protocol-Version` (or none), a declared body within the
  limit, a session id it holds, presented with the credential that opened it (sagemcp's
  admission binds tenant, endpoint and key into that credential);
- the transport's: not terminated, not idled out, Host/Origin and Content-Type, an `Accept` of
  both JSON and event streams, the JSON-RPC message, no request of the same id in flight;
- the runner's: an initialized session (its `initialize` accepted) and params valid for the
  version the session negotiated.

The answer is the SDK's: the version the session negotiated shapes the page, the
`MCP-Protocol-Version` header decides the priming event, the event store (when configured)
stores the priming event and the response under the request's stream before anything is
sent, so event ids and replays are the SDK's own, and the response headers and event
framing are built by the SDK's SSE library. The session still hears `list_changed` (the
request registers it as the SDK path does), and its idle countdown restarts as for any
request. Anything else goes to the SDK untouched.

What the SDK keeps privately (its session table and owners, a transport's requests in
flight and idle countdown) is read in `_Live` only, and a session's connection in
`sagemcp.mcp._handlers.sdk_connection`: whenever it is not there, every request goes to the SDK.
"""

from __future__ import annotations

import logging
import math
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
import pydantic_core
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser, authorization_context
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.streamable_http import StreamableHTTPServerTransport, check_accept_headers
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecurityMiddleware
from mcp_types import (
    DEFAULT_NEGOTIATED_VERSION,
    INTERNAL_ERROR,
    ErrorData,
    JSONRPCError,
    JSONRPCRequest,
    JSONRPCResponse,
    jsonrpc_message_adapter,
)
from mcp_types import methods as _methods
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, is_version_at_least
from pydantic import ValidationError
from sse_starlette import EventSourceResponse, ServerSentEvent
from sse_starlette.event import ensure_bytes
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from ._handlers import Handlers, notifiable, sdk_connection
from ._http import header
from ._intake import VERSION_HEADER, json_content_type, read_recorded, replaying_messages
from ._resolve import CallScope

__all__ = ["SessionConnections", "SessionToolListShortcut"]

logger = logging.getLogger("sagemcp.mcp")

ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_SESSION_HEADER = b"mcp-session-id"
_CONTENT_LENGTH = b"content-length"
_JSON = "application/json"


class SessionConnections:
    """A server middleware noting the SDK connection of every Streamable HTTP session it sees a message of.

    The `initialize` request of a session passes here first, so its connection is known before
    the client can send anything else. Held weakly: an ended session drops out.
    """

    def __init__(self) -> None:
        self.by_session: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        connection = sdk_connection(ctx)
        if connection is not None:
            session_id = getattr(connection, "session_id", None)
            if isinstance(session_id, str) and session_id not in self.by_session:
                self.by_session[session_id] = connection
        return await call_next(ctx)


@dataclass(frozen=True)
class _Live:
    """A session the SDK holds and would serve this request on, with what answering it needs."""

    transport: StreamableHTTPServerTransport
    connection: Any
    in_flight: Any
    """The transport's streams of requests in flight, by request id (its own, read only)."""

    @classmethod
    def of(
        cls, manager: StreamableHTTPSessionManager, connections: SessionConnections, session_id: str, scope: Scope
    ) -> _Live | None:
        """The session `session_id` when the SDK would hand this request to its transport, else None."""
        try:
            transport = manager._server_instances.get(session_id)
            if transport is None:
                return None
            user = scope.get("user")
            requestor = authorization_context(user) if isinstance(user, AuthenticatedUser) else None
            if requestor != manager._session_owners.get(session_id):
                return None
            in_flight = transport._request_streams
            if not isinstance(getattr(transport, "_requests_in_flight", None), int):
                return None
        except AttributeError:
            return None
        if transport.is_terminated or transport.is_json_response_enabled:
            return None
        idle = transport.idle_scope
        if idle is not None and idle.cancel_called:
            return None  # the SDK terminates it and answers 404
        connection = connections.by_session.get(session_id)
        if connection is None or not getattr(connection, "initialize_accepted", False):
            return None  # not initialized: the SDK's init gate answers
        return cls(transport, connection, in_flight)

    async def serve(self, idle_timeout: float | None, answer: Callable[[], Awaitable[None]]) -> None:
        """Run `answer` as a request in flight: the idle countdown held meanwhile, restarted after."""
        idle = self.transport.idle_scope
        if idle is None or idle_timeout is None:
            await answer()
            return
        idle.deadline = math.inf
        try:
            await answer()
        finally:
            if not self.transport._requests_in_flight:
                idle.deadline = anyio.current_time() + idle_timeout


class SessionToolListShortcut:
    """Serves eligible `tools/list` POSTs of stateful sessions from the caller's `Listing`; hands every other on."""

    def __init__(
        self,
        handlers: Handlers,
        manager: StreamableHTTPSessionManager,
        connections: SessionConnections,
        max_body: int,
    ) -> None:
        self.handlers = handlers
        self.manager = manager
        self.connections = connections
        self.security = TransportSecurityMiddleware(manager.security_settings)
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send, fallback: ASGIApp) -> None:
        live = self._session(scope)
        if live is None:
            await fallback(scope, receive, send)
            return
        messages: list[Message] = []
        body = await read_recorded(receive, messages, self.max_body)
        replay = replaying_messages(messages, receive)
        answer = None if body is None else await self._answer(live, scope, replay, body)
        if answer is None:
            await fallback(scope, replay, send)
            return
        await live.serve(self.manager.session_idle_timeout, lambda: answer(scope, replay, send))

    def _session(self, scope: Scope) -> _Live | None:
        """The live session of a handshake-era POST the SDK's manager would hand to its transport."""
        version = header(scope, VERSION_HEADER)
        if version is not None and version not in HANDSHAKE_PROTOCOL_VERSIONS:
            return None
        declared = header(scope, _CONTENT_LENGTH)
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            return None
        session_id = header(scope, _SESSION_HEADER)
        if session_id is None:
            return None
        return _Live.of(self.manager, self.connections, session_id, scope)

    async def _answer(self, live: _Live, scope: Scope, receive: Receive, body: bytes) -> ASGIApp | None:
        """The SSE answer to an eligible request (its events already stored), or None to let the SDK answer."""
        request = Request(scope, receive)
        if await self.security.validate_request(request, is_post=True) is not None:
            return None
        if check_accept_headers(request) != (True, True) or not json_content_type(request):
            return None
        message = _tools_list_request(body)
        if message is None:
            return None
        request_id = str(message.id)
        if request_id in live.in_flight:
            return None  # the SDK's own business: it replaces that request's stream
        params = message.params
        cursor = params.get("cursor") if params is not None else None
        negotiated = live.connection.protocol_version
        if negotiated not in HANDSHAKE_PROTOCOL_VERSIONS:
            return None
        try:
            _methods.validate_client_request("tools/list", negotiated, params)
        except Exception:
            return None  # the SDK answers it, with its own error
        cs: CallScope = scope["sagemcp.call"]
        listing = self.handlers.listing(cs)
        start = listing.issued_start(cursor)
        if start is None:
            return None
        hint = self.handlers.list_hint
        store = self.manager.event_store
        priming: bytes | None = None
        event_id: str | None = None
        session_id = live.transport.mcp_session_id
        assert session_id is not None
        sse = EventSourceResponse(content=_NoEvents(), headers=_sse_headers(session_id))
        if store is not None:
            version = request.headers.get(VERSION_HEADER.decode(), DEFAULT_NEGOTIATED_VERSION)
            try:
                if is_version_at_least(version, "2025-11-25"):
                    event = await store.store_event(request_id, None)
                    priming = _priming_event(event, self.manager.retry_interval, sse.sep)
            except Exception:
                return None  # the SDK tries again, and answers a failure its own way
            response = JSONRPCResponse(
                jsonrpc="2.0", id=message.id, result=dict(listing.shaped(start, negotiated, hint))
            )
            try:
                event_id = await store.store_event(request_id, response)
            except Exception:
                logger.exception("cannot store the tools/list response of session %s", session_id[:64])
                return _failed(session_id)
        self.handlers.listened_on(cs, notifiable(scope, live.connection))
        payload = (
            b'{"jsonrpc":"2.0","id":'
            + pydantic_core.to_json(message.id)
            + b',"result":'
            + listing.wire(start, negotiated, hint)
            + b"}"
        )
        return _SseAnswer(
            sse.raw_headers, [*([priming] if priming else []), _message_event(payload, event_id, sse.sep)]
        )


class _SseAnswer:
    """The SDK's SSE response to one request: its headers, its events, then the end of the stream."""

    def __init__(self, headers: list[tuple[bytes, bytes]], events: list[bytes]) -> None:
        self.headers = headers
        self.events = events

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.headers})
        for event in self.events:
            await send({"type": "http.response.body", "body": event, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _failed(session_id: str) -> Response:
    """The transport's answer when handling a POST failed: a 500 with a JSON-RPC error and no id."""
    error = JSONRPCError(
        jsonrpc="2.0", id=None, error=ErrorData(code=INTERNAL_ERROR, message="Error handling POST request")
    )
    return Response(
        error.model_dump_json(by_alias=True, exclude_unset=True),
        status_code=500,
        headers={"Content-Type": _JSON, "mcp-session-id": session_id},
    )


class _NoEvents:
    """The content of an `EventSourceResponse` built for its headers and separator only (never iterated)."""

    def __aiter__(self) -> _NoEvents:
        return self

    async def __anext__(self) -> Any:
        raise StopAsyncIteration


def _sse_headers(session_id: str) -> dict[str, str]:
    """The headers the SDK's transport gives the SSE response to a request on session `session_id`."""
    return {
        "Cache-Control": "no-cache, no-transform",
        "Connection": "keep-alive",
        "Content-Type": "text/event-stream",
        "mcp-session-id": session_id,
    }


def _priming_event(event_id: str, retry: int | None, sep: str) -> bytes:
    """The SDK's priming event: the resumption cursor of the request's stream, and the retry interval if any."""
    event: dict[str, Any] = {"id": event_id, "data": ""}
    if retry is not None:
        event["retry"] = retry
    return ensure_bytes(event, sep)


def _message_event(payload: bytes, event_id: str | None, sep: str) -> bytes:
    """The SSE event carrying `payload`, framed as the SDK frames a message event."""
    if b"\n" in payload or b"\r" in payload:
        return ensure_bytes(ServerSentEvent(payload.decode(), event="message", id=event_id, sep=sep), sep)
    # One data line: the head (`id`, `event`) as the library writes it, then the payload without a re-encode.
    head = ServerSentEvent(event="message", id=event_id, sep=sep).encode()[: -len(sep)]
    end = sep.encode()
    return head + b"data: " + payload + end + end


def _tools_list_request(body: bytes) -> JSONRPCRequest | None:
    """The request of a body that is exactly one `tools/list` request with at most `cursor` and `_meta` as
    params, as the transport validates it; None otherwise."""
    try:
        raw: Any = pydantic_core.from_json(body)
    except ValueError:
        return None
    if not isinstance(raw, dict) or raw.get("method") != "tools/list" or raw.get("jsonrpc") != "2.0":
        return None
    if not set(raw) <= {"jsonrpc", "id", "method", "params"}:
        return None
    request_id = raw.get("id")
    if isinstance(request_id, bool) or not isinstance(request_id, str | int):
        return None
    params = raw.get("params")
    if params is not None:
        if not isinstance(params, dict) or not set(params) <= {"cursor", "_meta"}:
            return None
        cursor = params.get("cursor")
        if cursor is not None and not isinstance(cursor, str):
            return None
    try:
        message = jsonrpc_message_adapter.validate_python(raw, by_name=False)
    except ValidationError:
        return None
    return message if isinstance(message, JSONRPCRequest) else None
