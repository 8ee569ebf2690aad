"""HTTP-level answers of the MCP endpoints that need no SDK: JSON-RPC error bodies, what a browser
gets, quota refusals, and requests whose JSON-RPC `id` the protocol refuses.

JSON-RPC ids are strings or integers; MCP also forbids `null` on requests. A request with
another id (object, array, float, boolean) is answered with `-32600 Invalid Request` and
`id: null` on every transport, rather than taken for a notification and dropped.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import mcp_types as types
from pydantic import ValidationError
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import Message, Receive, Scope, Send

from ..errors import LimitReached

__all__ = [
    "LIMIT_ERROR",
    "browser_response",
    "error_body",
    "header",
    "jsonrpc_problem",
    "limit_response",
    "read_body",
    "refuse_invalid_ids",
    "stateless_get_response",
    "wants_event_stream",
]

ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LIMIT_ERROR = -32000
"""The JSON-RPC error code of a quota refusal (implementation-defined server error); `data.limit` names it."""

BROWSER_TEXT = """\
This is a Model Context Protocol (MCP) endpoint, not a web page.

Connect an MCP client to this URL instead: for example add it as a custom connector in Claude,
Cursor or VS Code, or open it in the MCP Inspector (npx @modelcontextprotocol/inspector).
Clients send JSON-RPC messages with POST and the header
    Authorization: Bearer <API key>
and open server-to-client streams with GET and the header
    Accept: text/event-stream
"""

STATELESS_GET_TEXT = """\
This MCP endpoint is stateless: it offers no server-to-client stream, so GET is not supported.
Send JSON-RPC messages with POST (Accept: application/json, text/event-stream).
"""


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header (`name` in lower case), or None."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def error_body(
    message: str, code: int = types.INVALID_REQUEST, data: Any = None, request_id: str | int | None = None
) -> dict[str, Any]:
    """A JSON-RPC error response (`id` null unless given)."""
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


def wants_event_stream(scope: Scope) -> bool:
    """Whether the request's Accept header names `text/event-stream` itself (a browser's `*/*` does not)."""
    accept = header(scope, b"accept") or ""
    return any(part.split(";", 1)[0].strip().lower() == "text/event-stream" for part in accept.split(","))


def browser_response() -> Response:
    """The answer to a GET that does not ask for an event stream: a person who pasted the URL into a browser."""
    return PlainTextResponse(BROWSER_TEXT, status_code=406, headers={"Cache-Control": "no-store"})


def stateless_get_response() -> Response:
    """The answer to `GET /mcp` on a stateless server (the transport allows 405: no stream is offered)."""
    return PlainTextResponse(STATELESS_GET_TEXT, status_code=405, headers={"Allow": "POST"})


def limit_response(exc: LimitReached) -> Response:
    """HTTP 429 with a JSON-RPC error saying which limit was reached and how to free room."""
    body = error_body(exc.message, LIMIT_ERROR, {"limit": exc.limit, "max": exc.maximum})
    return JSONResponse(body, status_code=429)


def valid_request_id(value: Any, method: Any) -> bool:
    """Whether `value` may be the `id` of a JSON-RPC request for `method` (null only on a notification)."""
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return True
    return value is None and isinstance(method, str) and method.startswith("notifications/")


def _has_refused_id(raw: Any) -> bool:
    return isinstance(raw, dict) and "method" in raw and "id" in raw and not valid_request_id(raw["id"], raw["method"])


def jsonrpc_problem(text: str | bytes) -> tuple[int, str, str | int | None] | None:
    """Why `text` is not one valid JSON-RPC message, or None when it is one.

    As an error code, a message and the id to answer with: the message's own id when it
    has a valid one, else None (as JSON-RPC requires when the id cannot be read).
    """
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError):
        return types.PARSE_ERROR, "Parse error: the message is not valid JSON", None
    if isinstance(raw, list):
        return types.INVALID_REQUEST, "Batches are not supported; send one message at a time", None
    if _has_refused_id(raw):
        return types.INVALID_REQUEST, "Invalid request: the id must be a string or an integer", None
    try:
        types.jsonrpc_message_adapter.validate_python(raw, by_name=False)
    except (ValidationError, RecursionError):
        rid = raw.get("id") if isinstance(raw, dict) else None
        echoed = rid if isinstance(rid, str) or (isinstance(rid, int) and not isinstance(rid, bool)) else None
        return types.INVALID_REQUEST, "Invalid request: not a JSON-RPC 2.0 message", echoed
    return None


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None once it exceeds `limit` bytes (the rest is not read)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands out `body` once, then whatever the client sends next (its disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def refuse_invalid_ids(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Run the SDK's Streamable HTTP handler on a POST, answering `-32600` where it would drop a request.

    The SDK's handshake-era transport takes a request whose id it cannot accept for a
    notification and acknowledges it with 202 and no body, so the client waits forever.
    Only then (202, rare and small) is the recorded body looked at; the hot path pays
    for one list append per body chunk.
    """
    chunks: list[bytes] = []
    replaced = False

    async def recording_receive() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
        return message

    async def checking_send(message: Message) -> None:
        nonlocal replaced
        if message["type"] == "http.response.start" and message["status"] == 202:
            try:
                refused = _has_refused_id(json.loads(b"".join(chunks)))
            except (ValueError, RecursionError):
                refused = False
            if refused:
                replaced = True
                body = json.dumps(error_body("Invalid request: the id must be a string or an integer")).encode()
                kept = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in (b"content-type", b"content-length")
                ]
                headers = [*kept, (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
                await send({"type": "http.response.start", "status": 400, "headers": headers})
                await send({"type": "http.response.body", "body": body, "more_body": False})
                return
        elif replaced and message["type"] == "http.response.body":
            return  # the body of the 202 that was replaced
        await send(message)

    await app(scope, recording_receive, checking_send)
