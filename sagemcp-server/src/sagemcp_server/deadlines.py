"""Deadlines for slow clients, so that a socket that sends nothing, trickles its headers or never
sends the body it declared cannot hold a connection (and a file descriptor) for ever.

- **Headers**: `GuardedH11Protocol`, uvicorn's h11 protocol with a deadline: a connection must
  send complete request headers within `SAGEMCP_HTTP_HEADER_TIMEOUT` seconds of connecting, or
  of the end of its previous response. Every byte a client sends resets uvicorn's keep-alive
  timer, so only a deadline that data does not reset stops a client that trickles. `sagemcp
  serve` uses it; with uvicorn's own command line: `--http sagemcp_server.deadlines:GuardedH11Protocol`.
  The deadline comes from the environment because uvicorn builds the protocol itself, in every
  worker process.
- **Body**: `BodyDeadlineMiddleware`, ASGI: a request must have sent its whole body within
  `timeout` seconds of its headers. The application is cancelled and the client gets
  `408 Request Timeout` (the connection is closed). Long-lived responses (SSE streams) are
  not affected: the deadline ends when the body is complete.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = [
    "DEFAULT_HEADER_TIMEOUT",
    "HEADER_TIMEOUT_ENV",
    "BodyDeadlineMiddleware",
    "GuardedH11Protocol",
    "header_timeout",
]

logger = logging.getLogger("sagemcp_server.http")

HEADER_TIMEOUT_ENV = "SAGEMCP_HTTP_HEADER_TIMEOUT"
DEFAULT_HEADER_TIMEOUT = 10.0

_REQUEST_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


def header_timeout() -> float:
    """The header deadline: `SAGEMCP_HTTP_HEADER_TIMEOUT` seconds (a positive number), else the default."""
    raw = os.environ.get(HEADER_TIMEOUT_ENV, "")
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_HEADER_TIMEOUT
    return value if 0 < value < float("inf") else DEFAULT_HEADER_TIMEOUT


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, closing connections that do not send complete request headers within
    `header_timeout()` seconds of connecting or of their previous response."""

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self._header_timeout = header_timeout()
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_deadline()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._header_timer is not None and not self._waiting_for_headers():
            self._disarm_header_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # may start a pipelined request at once
        if self._waiting_for_headers():
            self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_deadline()
        super().connection_lost(exc)

    def _waiting_for_headers(self) -> bool:
        """Whether this connection is between requests: no request in progress, still ours (not upgraded)."""
        if self.transport is None or self.transport.is_closing():
            return False
        if self.transport.get_protocol() is not self:  # upgraded to a WebSocket
            return False
        return self.cycle is None or self.cycle.response_complete

    def _arm_header_deadline(self) -> None:
        self._disarm_header_deadline()
        self._header_timer = self.loop.call_later(self._header_timeout, self._header_deadline_passed)

    def _disarm_header_deadline(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_deadline_passed(self) -> None:
        self._header_timer = None
        if not self._waiting_for_headers():
            return
        partial, _closed = self.conn.trailing_data
        if partial:
            self.transport.write(_REQUEST_TIMEOUT)
        logger.debug("closed a connection that sent no complete request headers within %g s", self._header_timeout or 0)
        self.transport.close()


@dataclass(eq=False)
class _Progress:
    deadline: float
    task: asyncio.Task[Any]
    body_done: bool = False
    started: bool = False
    watched: bool = False
    timed_out: bool = False
    finished: bool = False
    """The app returned: a read now (by a task it left behind) is outside the deadline."""


class _Watch:
    """The requests of one event loop waiting for their body, and one timer at the earliest of their deadlines.

    Arming and cancelling a timer per request costs more than the rest of the deadline's work; here a
    request only enters and leaves a dictionary, and the timer is re-armed only when a request's deadline
    comes before the one it is set for (deadlines follow the order requests arrived in, nearly always).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.pending: dict[_Progress, None] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._armed_for = math.inf

    def add(self, progress: _Progress) -> None:
        self.pending[progress] = None
        if progress.deadline < self._armed_for:
            self._arm(progress.deadline)

    def _arm(self, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._armed_for = when
        self._timer = self.loop.call_at(when, self._sweep)

    def _sweep(self) -> None:
        # The loop runs a timer up to its clock resolution early: what it was armed for has passed.
        limit = max(self.loop.time(), self._armed_for)
        self._timer, self._armed_for = None, math.inf
        for progress in [p for p in self.pending if p.deadline <= limit]:
            del self.pending[progress]
            # The body did not arrive in time: cancel the request. A read in the request's own task is
            # cancelled where it waits; a read in another task learns that the client is gone (and whatever
            # it answers is dropped: the answer is the 408).
            progress.timed_out = True
            progress.task.cancel()
        if self.pending:
            self._arm(min(p.deadline for p in self.pending))


class BodyDeadlineMiddleware:
    """Cancel a request whose body has not fully arrived `timeout` seconds after its headers, and answer
    `408 Request Timeout` with `Connection: close` (when no response was started yet).

    The server runs on asyncio only (its database drivers need it): the deadline cancels the request's
    task, as `asyncio.timeout` does, rather than through anyio cancel scopes, which cost several times
    more on every request.
    """

    def __init__(self, app: ASGIApp, timeout: float) -> None:
        self.app = app
        self.timeout = timeout
        self._watch: _Watch | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        watch = self._watch
        if watch is None or watch.loop is not loop:
            watch = self._watch = _Watch(loop)
        task = asyncio.current_task()
        assert task is not None  # an ASGI request always runs in a task
        progress = _Progress(loop.time() + self.timeout, task)

        async def bounded_receive() -> Message:
            if progress.body_done or progress.finished:
                return await receive()
            if progress.timed_out:
                return {"type": "http.disconnect"}
            if not progress.watched:
                progress.watched = True
                watch.add(progress)  # a deadline already passed cancels the request at its next wait
            message = await receive()
            if progress.timed_out:
                return {"type": "http.disconnect"}
            if message["type"] != "http.request" or not message.get("more_body", False):
                progress.body_done = True
                watch.pending.pop(progress, None)
            return message

        async def tracking_send(message: Message) -> None:
            if progress.timed_out:
                return
            if message["type"] == "http.response.start":
                progress.started = True
            await send(message)

        cancelling = task.cancelling()
        uncancelled = False
        try:
            await self.app(scope, bounded_receive, tracking_send)
        except asyncio.CancelledError:
            if not progress.timed_out:
                raise
            uncancelled = True
            if task.uncancel() > cancelling:
                raise  # cancelled for another reason too
        finally:
            progress.finished = True
            watch.pending.pop(progress, None)
            if progress.timed_out and not uncancelled:
                task.uncancel()  # the app caught the cancellation and returned

        if progress.timed_out:
            logger.info("the request body did not arrive within %g s; answered 408", self.timeout)
            if not progress.started:
                body = json.dumps(
                    {
                        "error": {
                            "code": "request_timeout",
                            "message": f"The request body did not arrive within {self.timeout:g} seconds of its "
                            "headers; send it at once.",
                        }
                    }
                ).encode()
                headers = [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ]
                await send({"type": "http.response.start", "status": 408, "headers": headers})
                await send({"type": "http.response.body", "body": body})
