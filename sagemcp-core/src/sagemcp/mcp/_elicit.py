"""Sending a member to connect their own account: URL-mode elicitation, for clients that declared it.

A member calling a `per_user` connector without a usable connection gets an error result
whose text names the provider and holds the link (`ConnectionRequired`). A client that
declared URL-mode elicitation (`capabilities.elicitation.url`) is asked to open the link
instead, as its protocol version says:

- 2025-11-25 (handshake era; the capabilities of the session's `initialize`): the call is
  answered with the JSON-RPC error -32042 (`URLElicitationRequiredError`) carrying one
  URL-mode elicitation with a fresh `elicitationId`. The client opens the link and calls
  the tool again once the account is connected.
- 2026-07-28 (the capabilities of the request's `_meta`): -32042 no longer exists there;
  the call returns an `InputRequiredResult` with one URL-mode `elicitation/create` input
  request. The client opens the link and retries with its answer; a retry that answers it
  and still finds no connection gets the error result with the link, so a client never
  loops.

Stateless handshake-era requests carry no capabilities (they were sent with `initialize`,
another request), so their members get the link in the result.
"""

from __future__ import annotations

import uuid
from typing import Any

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import UrlElicitationRequiredError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from ..errors import ConnectionRequired

__all__ = ["connection_input_key", "elicit_connection", "raise_url_elicitation", "supports_url_elicitation"]

_FIRST_URL_ELICITATION_VERSION = "2025-11-25"


def connection_input_key(error: ConnectionRequired) -> str:
    """The key of the input request asking to connect `error.provider` (2026-07-28)."""
    return f"connect:{error.provider or 'account'}"


def supports_url_elicitation(ctx: ServerRequestContext[Any]) -> bool:
    """Whether the client of this request declared URL-mode elicitation in a protocol version that has it."""
    version = ctx.protocol_version
    if version not in MODERN_PROTOCOL_VERSIONS and version < _FIRST_URL_ELICITATION_VERSION:
        return False  # ISO dates compare as strings; URL mode is new in 2025-11-25
    capabilities = ctx.session.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and elicitation.url is not None


def elicit_connection(
    ctx: ServerRequestContext[Any], error: ConnectionRequired, input_responses: dict[str, Any] | None
) -> types.InputRequiredResult | None:
    """Ask the client to open the connect link, when it can be asked: raises `UrlElicitationRequiredError`
    (2025-11-25) or returns the `InputRequiredResult` (2026-07-28); None when the caller should get the error
    result with the link instead (no link, no URL-mode support, or a 2026-07-28 retry that already answered)."""
    if error.connect_url is None or not supports_url_elicitation(ctx):
        return None
    if ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
        raise_url_elicitation(ctx, error)
    key = connection_input_key(error)
    if input_responses and key in input_responses:
        return None
    params = types.ElicitRequestURLParams(message=error.message, url=error.connect_url)
    return types.InputRequiredResult(input_requests={key: types.ElicitRequest(params=params)})


def raise_url_elicitation(ctx: ServerRequestContext[Any], error: ConnectionRequired) -> None:
    """Raise the -32042 `UrlElicitationRequiredError` for a 2025-11-25 session that declared URL-mode
    elicitation; return (doing nothing) for any other request."""
    if error.connect_url is None or ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
        return
    if not supports_url_elicitation(ctx):
        return
    elicitation = types.ElicitRequestURLParams(
        message=error.message, url=error.connect_url, elicitation_id=uuid.uuid4().hex
    )
    raise UrlElicitationRequiredError([elicitation], message=error.message)
