"""Stateful sessions across replicas: the seam through which a host routes a session's requests to
the process that holds it.

A stateful session (Streamable HTTP with `Mcp-Session-Id`, or a legacy HTTP+SSE stream) lives in
one process. When several replicas sit behind a load balancer, a request for a session can land on
a replica that does not hold it. With a `SessionRouter` given to the app, such a request is handed
to the router instead of being answered 404: the router finds the holder (a registry the replicas
share) and forwards the request there, or answers itself (session gone: 404; registry unreachable:
503). The holder admits a forwarded request again with its own credentials, so a session stays
bound to the tenant, connector and caller that opened it exactly as on one replica.

Core knows nothing of the registry: the reference server implements the protocol on Redis.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from ._http import error_body

__all__ = ["SESSION_GONE", "SessionRouter", "session_gone_response"]

SESSION_GONE = (
    "Session not found: it ended, expired, or the server holding it stopped. "
    "Start a new session: send initialize without an Mcp-Session-Id header (legacy SSE: open the stream again)."
)


@runtime_checkable
class SessionRouter(Protocol):
    """Where this process's sessions are registered, and how requests for other processes' sessions travel.

    `binding` is the identity a session is tied to (tenant, connector and caller of the admitted
    request); a forward carries it so the holder can check it saw the same caller.
    """

    async def opened(self, session_id: str) -> None:
        """This process now holds `session_id`: register it before its id reaches the client.
        Must not raise (a registry outage leaves the session usable on this process only)."""
        ...

    async def closed(self, session_id: str) -> None:
        """This process no longer holds `session_id`. Must not raise."""
        ...

    def inbound(self, scope: Scope, binding: str) -> bool | None:
        """Whether an admitted request was forwarded by another replica: None when it was not, True when
        its forward is authentic and names `binding`, False when it claims to be a forward but is not
        authentic or names another caller (refuse it)."""
        ...

    async def forward(
        self, session_id: str, binding: str, scope: Scope, body: bytes | None, receive: Receive, send: Send
    ) -> None:
        """Answer a request for a session this process does not hold: forward it to the holder (with
        `body`, already read and bounded, for a POST) and relay the answer, or answer 404 when no
        replica holds the session, 503 with Retry-After when the registry cannot be reached."""
        ...


def session_gone_response() -> Response:
    """HTTP 404 with a JSON-RPC error telling the client to start a new session (as the transport requires)."""
    return JSONResponse(error_body(SESSION_GONE), status_code=404, headers={"Cache-Control": "no-store"})


async def refuse_forward(scope: Scope, receive: Receive, send: Send) -> None:
    """A request that claims to come from another replica but is not authentic: refused, nothing revealed."""
    body = error_body("This request claims to be forwarded by another replica but its signature is not valid.")
    await JSONResponse(body, status_code=403)(scope, receive, send)
