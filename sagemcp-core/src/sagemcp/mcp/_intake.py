"""Reading a POST before the SDK sees it, so that a shortcut can answer it or hand it on untouched.

The shortcuts of `sagemcp.mcp._fastlist` and `sagemcp.mcp._fastcall` read the whole body
first; when they step aside, the SDK is given a `receive` that replays every message
they read, so it reads the same request as if nobody had looked.
"""

from __future__ import annotations

from mcp.server.streamable_http import check_accept_headers
from mcp.server.transport_security import TransportSecurityMiddleware
from mcp_types import DEFAULT_NEGOTIATED_VERSION
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS
from starlette.requests import Request
from starlette.types import Message, Receive, Scope

__all__ = [
    "DEFAULT_VERSION",
    "METHOD_HEADER",
    "VERSION_HEADER",
    "json_content_type",
    "read_recorded",
    "replaying_messages",
    "stateless_request",
    "version_of",
]

DEFAULT_VERSION = DEFAULT_NEGOTIATED_VERSION
"""The version the SDK assumes for a stateless request without `MCP-Protocol-Version` (the spec's default)."""
VERSION_HEADER = b"mcp-protocol-version"
METHOD_HEADER = b"mcp-method"


def version_of(scope: Scope) -> str:
    """The request's `MCP-Protocol-Version` (its first value, as the SDK reads it), or the default."""
    for key, value in scope["headers"]:
        if key == VERSION_HEADER:
            return str(value.decode("latin-1"))
    return DEFAULT_VERSION


async def read_recorded(receive: Receive, messages: list[Message], limit: int) -> bytes | None:
    """Read the body, recording every message; None once it exceeds `limit` bytes or the client left."""
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        if not message.get("more_body", False):
            return b"".join(m.get("body", b"") for m in messages)


def replaying_messages(messages: list[Message], receive: Receive) -> Receive:
    """A `receive` that hands out the recorded messages again, then whatever the client sends next."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


async def stateless_request(
    scope: Scope,
    receive: Receive,
    security: TransportSecurityMiddleware,
    version: str,
    method: str | None,
    expected: str,
) -> tuple[Request, bool] | None:
    """The request, and whether it is of the 2026-07-28 era, when the SDK's stateless transport would take
    it past its first checks as a request for `expected`: a protocol version it serves, on 2026-07-28 an
    `Mcp-Method` (`method`) of `expected`, Host/Origin and Content-Type, then an Accept admitting JSON.
    None otherwise: the SDK answers it."""
    modern = version in MODERN_PROTOCOL_VERSIONS
    if not modern and version not in HANDSHAKE_PROTOCOL_VERSIONS:
        return None
    if modern and method != expected:
        return None  # the SDK refuses a mismatch anyway: other methods skip the caller's parse
    request = Request(scope, receive)
    if await security.validate_request(request, is_post=True) is not None:
        return None
    if not check_accept_headers(request)[0]:
        return None
    return request, modern


def json_content_type(request: Request) -> bool:
    """The SDK transports' own Content-Type check (after the security middleware's): `application/json`
    among the media types before any parameter."""
    content_type = request.headers.get("content-type", "")
    return any(part.strip() == "application/json" for part in content_type.split(";")[0].split(","))
