"""The event loop `sagemcp serve` runs on: asyncio's selector loop, accepting connections sanely at the
file-descriptor limit.

When `accept()` fails for lack of file descriptors (or memory), asyncio's selector loop logs the
error, stops watching the listening socket and schedules a retry a second later, and then goes on
with the next of up to `backlog` (2048 under uvicorn) queued connections, doing all of that again
for each: thousands of records with a traceback and thousands of retry timers per second, every
one of which logs one more error when the server stops. `GuardedSelectorEventLoop` ends the
round at the first such error, so that each round logs once and schedules one retry.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from typing import Any

__all__ = ["GuardedSelectorEventLoop"]

_EXHAUSTION_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


class _AcceptRound:
    """The listening socket as one round of accepting sees it: after an out-of-resources error, the queue
    looks empty, which ends the round."""

    __slots__ = ("exhausted", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.exhausted = False

    def accept(self) -> tuple[socket.socket, Any]:
        if self.exhausted:
            raise BlockingIOError(errno.EAGAIN, "this round of accepting ended at an out-of-resources error")
        try:
            return self.sock.accept()
        except OSError as exc:
            if exc.errno in _EXHAUSTION_ERRNOS:
                self.exhausted = True
            raise

    def fileno(self) -> int:
        return self.sock.fileno()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


class GuardedSelectorEventLoop(asyncio.SelectorEventLoop):
    """asyncio's selector event loop whose accept rounds stop at the first out-of-resources error."""

    def _accept_connection(self, protocol_factory: Any, sock: Any, *args: Any, **kwargs: Any) -> None:
        # A private method of asyncio's selector loop, and the one place where it accepts connections.
        # Its retry after an error hands the wrapper back to us: unwrap it.
        if isinstance(sock, _AcceptRound):
            sock = sock.sock
        accept = getattr(super(), "_accept_connection")  # noqa: B009 - not in the typeshed stubs
        accept(protocol_factory, _AcceptRound(sock), *args, **kwargs)
