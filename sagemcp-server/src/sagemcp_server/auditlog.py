"""`AuditBuffer`: tool-call audit events written in batches in the background.

The MCP adapter hands every tool call's event to the observer synchronously; the
buffer only appends it to memory, so a call never waits on a database write. A
background task writes what has gathered every `interval` seconds (or sooner when a
batch is full). When the buffer is full the oldest events are dropped and counted;
on shutdown what is left is written.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable

import anyio

from sagemcp.platform import AuditEvent

from .db.store import SqlStore

__all__ = ["AuditBuffer"]

logger = logging.getLogger("sagemcp_server.audit")


class AuditBuffer:
    def __init__(
        self,
        store: SqlStore,
        *,
        interval: float = 0.5,
        maxsize: int = 10_000,
        batch: int = 500,
        on_drop: Callable[[int], None] | None = None,
    ) -> None:
        self.store = store
        self.interval = interval
        self.batch = batch
        self._events: deque[AuditEvent] = deque()
        self._maxsize = maxsize
        self._wake = anyio.Event()
        self._on_drop = on_drop
        self._lock = anyio.Lock()
        self.dropped = 0

    def __call__(self, event: AuditEvent) -> None:
        """Queue one event (the tool-call observer): never blocks, never raises."""
        if len(self._events) >= self._maxsize:
            self._events.popleft()
            self.dropped += 1
            if self._on_drop is not None:
                self._on_drop(1)
        self._events.append(event)
        if len(self._events) >= self.batch:
            self._wake.set()

    def __len__(self) -> int:
        return len(self._events)

    async def flush(self) -> int:
        """Write everything queued now; returns the number written. On failure the events are kept for later."""
        written = 0
        async with self._lock:
            while self._events:
                chunk = [self._events.popleft() for _ in range(min(self.batch, len(self._events)))]
                try:
                    written += await self.store.record_audits(chunk)
                except Exception:
                    self._events.extendleft(reversed(chunk))
                    raise
        return written

    async def run(self) -> None:
        """Flush periodically until cancelled."""
        while True:
            with anyio.move_on_after(self.interval):
                await self._wake.wait()
            self._wake = anyio.Event()
            try:
                await self.flush()
            except Exception as exc:
                logger.warning("could not write %d audit events yet (%s); will retry", len(self), type(exc).__name__)
