"""Open sessions and long-lived streams of one process: quotas, idle timeouts and re-admission.

Three kinds of stream are tracked: legacy SSE (`sse`), the `GET /mcp` stream of a
stateful session (`get`) and WebSocket connections (`websocket`). Each counts against
the stream quota of its tenant and caller from opening to close. A stateful session
counts against the session quota from the answer that creates it until the SDK
discards it (DELETE, idle timeout, crash, termination).

`StreamGuard.watch()` runs for the app's lifetime:

- every `McpSettings.idle_check_interval` seconds, a stream that carried no message
  either way for `stream_idle_timeout` seconds is closed (keep-alive pings do not count);
- every `McpSettings.readmit_interval` seconds, and at once when this process
  invalidates its keys or a tenant (a key revoked, a tenant or connector changed), every
  stream and session is admitted again, once per distinct credential and path; those
  whose caller is now refused (key revoked, tenant deleted or inactive, connector gone or
  out of the key's reach) are closed: an SSE stream ends, a WebSocket closes with 1008, a
  session is terminated (its id then answers 404).

Since admission reads the same caches as requests, another replica's revocation closes
streams here within `cache_ttl` plus one interval.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
from starlette.types import Message, Receive, Scope, Send

from ._limits import Quota
from ._resolve import CallScope
from ._settings import McpSettings

__all__ = ["CLOSE_REASONS", "STREAM_KINDS", "OpenStream", "SessionSlot", "StreamGuard"]

logger = logging.getLogger("sagemcp.mcp")

StreamKind = Literal["sse", "get", "websocket"]
CloseReason = Literal["idle", "revoked"]
STREAM_KINDS: tuple[StreamKind, ...] = ("sse", "get", "websocket")
CLOSE_REASONS: tuple[CloseReason, ...] = ("idle", "revoked")

Readmit = Callable[[Scope, str], Awaitable[bool | None]]
"""Admission run again on a stream's scope for its key id: True admitted, False refused, None unknown now."""

_SSE_SESSION = re.compile(rb"session_id=([0-9a-f]{32})")
_CLOSING_EVENT = {
    "idle": b": closed: no message either way for too long; reconnect to continue\n\n",
    "revoked": b": closed: access was revoked or changed\n\n",
}
_ADMISSION_HEADERS = (b"authorization", b"cookie")
_PER_REQUEST = ("state", "sagemcp.call", "user")


@dataclass(eq=False)
class _Held:
    """Something a caller holds open: who holds it, and the request to admit again."""

    tenant_id: str
    key_id: str
    scope: Scope = field(repr=False)
    """A copy of the opening request's scope, without its per-request state."""
    admission: tuple[Any, ...] = field(repr=False)
    """What admission depends on (credentials and path): holders with the same are admitted once."""


@dataclass(eq=False)
class _Session(_Held):
    session_id: str = ""


@dataclass(eq=False)
class OpenStream(_Held):
    """One long-lived stream: its kind, the session it belongs to, when it last carried a message."""

    kind: StreamKind = "sse"
    session: str | None = None
    """The SDK's session id: the legacy SSE session (learnt from its endpoint event), or the
    Streamable HTTP session a `GET /mcp` stream belongs to."""
    last_active: float = field(default_factory=time.monotonic)
    cancel: anyio.CancelScope = field(default_factory=anyio.CancelScope, repr=False)
    closed_for: CloseReason | None = None

    def touch(self) -> None:
        self.last_active = time.monotonic()

    def close(self, reason: CloseReason) -> None:
        """End the stream (from any task): its transport is cancelled and the stream ended cleanly."""
        if self.closed_for is None:
            self.closed_for = reason
            self.cancel.cancel()

    @property
    def websocket_close(self) -> tuple[int, str]:
        """The WebSocket close code and reason for how this stream ended."""
        if self.closed_for == "revoked":
            return 1008, "access revoked or changed"
        if self.closed_for == "idle":
            return 1000, "idle for too long"
        return 1000, ""


class SessionSlot:
    """Room for one session, reserved before the SDK opens it: bound to the session id once the SDK
    answers with one, given back otherwise."""

    def __init__(self, guard: StreamGuard, cs: CallScope) -> None:
        self._guard = guard
        self._tenant_id = cs.tenant.id
        self._key_id = cs.principal.id
        self.bound = False
        self._settled = False

    def bind(self, session_id: str, scope: Scope) -> None:
        if self._settled:
            return
        self._settled = self.bound = True
        self._guard._sessions[session_id] = _Session(
            self._tenant_id, self._key_id, _admission_scope(scope), admission_key(scope), session_id
        )

    def release(self) -> None:
        """Give the room back unless a session took it (idempotent)."""
        if not self._settled:
            self._settled = True
            self._guard.sessions.release(self._tenant_id, self._key_id)


class StreamGuard:
    """The sessions and streams open in this process, their quotas, and the watcher that closes
    idle ones and those whose caller lost access."""

    def __init__(self, settings: McpSettings, readmit: Readmit, end_session: Callable[[str], Awaitable[None]]) -> None:
        session_idle = f"; idle ones end after {settings.session_idle_timeout:g} s"
        stream_idle = (
            f"; idle ones close after {settings.stream_idle_timeout:g} s"
            if settings.stream_idle_timeout is not None
            else ""
        )
        self.sessions = Quota(
            "session",
            total=None,  # the SDK's own limit (max_sessions) answers 503 beyond the total
            per_tenant=settings.max_sessions_per_tenant,
            per_key=settings.max_sessions_per_key,
            hint=f"End sessions you no longer use (HTTP DELETE with their Mcp-Session-Id){session_idle}.",
        )
        self.streams = Quota(
            "stream",
            total=settings.max_streams,
            per_tenant=settings.max_streams_per_tenant,
            per_key=settings.max_streams_per_key,
            hint=f"Close streams you no longer use{stream_idle}.",
        )
        self.idle_timeout = settings.stream_idle_timeout
        self.idle_check_interval = settings.idle_check_interval
        self.readmit_interval = settings.readmit_interval
        self.open_by_kind: dict[StreamKind, int] = {kind: 0 for kind in STREAM_KINDS}
        self.closed: dict[CloseReason, int] = {reason: 0 for reason in CLOSE_REASONS}
        self._readmit = readmit
        self._end_session = end_session
        self._open: set[OpenStream] = set()
        self._by_session: dict[tuple[StreamKind, str], OpenStream] = {}
        self._sessions: dict[str, _Session] = {}
        self._wake: anyio.Event | None = None

    # -- sessions -------------------------------------------------------------------------

    def reserve_session(self, cs: CallScope) -> SessionSlot:
        """Room for a new session of this caller, or `LimitReached`."""
        self.sessions.acquire(cs.tenant, cs.principal.id)
        return SessionSlot(self, cs)

    def session_ended(self, session_id: str) -> None:
        """The SDK discarded a session: give its room back (idempotent)."""
        held = self._sessions.pop(session_id, None)
        if held is not None:
            self.sessions.release(held.tenant_id, held.key_id)

    # -- streams --------------------------------------------------------------------------

    def open_stream(self, kind: StreamKind, cs: CallScope, scope: Scope, session: str | None = None) -> OpenStream:
        """Count and track a stream being opened, or raise `LimitReached`. Pair with `stream_closed`."""
        self.streams.acquire(cs.tenant, cs.principal.id)
        stream = OpenStream(
            cs.tenant.id, cs.principal.id, _admission_scope(scope), admission_key(scope), kind=kind, session=session
        )
        self._open.add(stream)
        self.open_by_kind[kind] += 1
        if session is not None:
            self._by_session[(kind, session)] = stream
        return stream

    def stream_closed(self, stream: OpenStream) -> None:
        if stream not in self._open:
            return
        self._open.discard(stream)
        self.open_by_kind[stream.kind] -= 1
        self.streams.release(stream.tenant_id, stream.key_id)
        if stream.session is not None and self._by_session.get((stream.kind, stream.session)) is stream:
            del self._by_session[(stream.kind, stream.session)]
        if stream.closed_for is not None:
            self.closed[stream.closed_for] += 1

    def touch(self, kind: StreamKind, session: str) -> None:
        """A client message reached the session a stream belongs to: the stream is not idle."""
        stream = self._by_session.get((kind, session))
        if stream is not None:
            stream.touch()

    async def serve(
        self, stream: OpenStream, app: Callable[..., Awaitable[None]], scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Run an HTTP stream's transport, tracking what it sends, until it ends or `stream.close()`."""
        started = ended = False

        async def watched(message: Message) -> None:
            nonlocal started, ended
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body":
                body: bytes = message.get("body", b"")
                if body and not body.startswith(b":"):  # SSE comments are keep-alive pings
                    stream.touch()
                    if stream.kind == "sse" and stream.session is None:
                        self._learn_sse_session(stream, body)
                ended = not message.get("more_body", False)
            await send(message)

        try:
            with stream.cancel:
                await app(scope, receive, watched)
        finally:
            self.stream_closed(stream)
            if stream.closed_for is not None and started and not ended:
                # Cancelled mid-stream: end the response properly, with a comment saying why.
                with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                    await send({"type": "http.response.body", "body": _CLOSING_EVENT[stream.closed_for]})
                    await send({"type": "http.response.body", "body": b"", "more_body": False})

    def _learn_sse_session(self, stream: OpenStream, body: bytes) -> None:
        """The legacy SSE session id, from the endpoint event the stream opens with."""
        found = _SSE_SESSION.search(body)
        if found is not None:
            stream.session = found.group(1).decode("ascii")
            self._by_session[("sse", stream.session)] = stream

    # -- the watcher ----------------------------------------------------------------------

    def wake(self) -> None:
        """Check open streams and sessions now (keys or a tenant changed in this process)."""
        if self._wake is not None:
            self._wake.set()

    async def watch(self) -> None:
        """Close idle streams and re-admit callers on their intervals, or at once when woken, until cancelled."""
        self._wake = anyio.Event()
        readmitted = time.monotonic()
        while True:
            with anyio.move_on_after(min(self.idle_check_interval, self.readmit_interval)):
                await self._wake.wait()
            woken = self._wake.is_set()
            self._wake = anyio.Event()  # before the sweep, so a change during it triggers the next
            now = time.monotonic()
            # Re-admission may ask the store (once per distinct key whose cache entry expired): not more often.
            readmit = woken or now - readmitted >= self.readmit_interval
            try:
                await self.sweep(readmit=readmit)
            except Exception:
                logger.exception("checking the open MCP streams and sessions failed")
            if readmit:
                readmitted = now

    async def sweep(self, *, readmit: bool = True) -> None:
        """Close idle streams, then (with `readmit`) those streams and sessions whose caller is now refused."""
        now = time.monotonic()
        idle = 0
        if self.idle_timeout is not None:
            for stream in list(self._open):
                if stream.closed_for is None and now - stream.last_active >= self.idle_timeout:
                    stream.close("idle")
                    idle += 1
        if not readmit:
            if idle:
                logger.info("closed %d idle MCP streams", idle)
            return
        groups: dict[tuple[Any, ...], list[_Held]] = {}
        for stream in self._open:
            if stream.closed_for is None:
                groups.setdefault(stream.admission, []).append(stream)
        for session in self._sessions.values():
            groups.setdefault(session.admission, []).append(session)
        revoked_streams = revoked_sessions = 0
        for members in groups.values():
            first = members[0]
            if await self._readmit(first.scope, first.key_id) is not False:
                continue
            for held in members:
                if isinstance(held, OpenStream):
                    if held.closed_for is None:
                        held.close("revoked")
                        revoked_streams += 1
                elif isinstance(held, _Session) and self._sessions.get(held.session_id) is held:
                    await self._end_session(held.session_id)
                    self.session_ended(held.session_id)
                    revoked_sessions += 1
        if idle or revoked_streams or revoked_sessions:
            logger.info(
                "closed %d idle MCP streams, %d streams and %d sessions whose caller lost access",
                idle,
                revoked_streams,
                revoked_sessions,
            )


def admission_key(scope: Scope) -> tuple[Any, ...]:
    """What admission of a request depends on: its credentials and the tenant and connector of its path."""
    credentials = tuple(value for key, value in scope["headers"] if key in _ADMISSION_HEADERS)
    query = scope.get("query_string", b"") if scope["type"] == "websocket" else b""
    params = scope.get("path_params", {})
    return scope["type"], credentials, query, params.get("tenant"), params.get("connector")


def _admission_scope(scope: Scope) -> Scope:
    return {k: v for k, v in scope.items() if k not in _PER_REQUEST}
