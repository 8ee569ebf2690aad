"""`notifications/tools/list_changed` for the stateful sessions that listed a tenant's tools.

A session (Streamable HTTP with sessions, legacy SSE, WebSocket) that called `tools/list`
is remembered under its tenant, weakly: a closed session simply drops out. Every time the
resolver builds a tenant's view it reports it here; when the tools the tenant serves
(its connectors, their tool policies, the discovery settings and pins of the tenant and of
each connector) differ from those of the view before, each of the tenant's listening
sessions is sent the notification. Views are
rebuilt when this process changes the tenant, and within the cache TTL when another replica
does (a request, or the periodic re-admission of open sessions and streams, revalidates the
view), so every replica notifies its own sessions.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import weakref
from typing import Any, Protocol

import anyio
from anyio.streams.memory import MemoryObjectSendStream

from ._resolve import TenantView

__all__ = ["ListChangeNotifier", "served_digest"]

logger = logging.getLogger("sagemcp.mcp")

SEND_TIMEOUT = 5.0
"""Seconds one session may take to accept the notification before it is skipped."""


class _Notifiable(Protocol):
    async def send_tool_list_changed(self) -> None: ...


def served_digest(view: TenantView) -> str:
    """A digest of everything that decides which tools the tenant's endpoints list."""
    h = hashlib.sha256()
    tenant = view.tenant
    h.update(f"{tenant.discovery}|{','.join(tenant.pinned_tools)}|{tenant.active}".encode())
    for target in view.targets:
        h.update(f"\n{target.config.id}:{target.wide_prefix}:".encode())
        h.update(",".join(sorted(target.tools)).encode())
        h.update(f"|{target.config.discovery}|{','.join(target.config.pinned_tools)}".encode())
    return h.hexdigest()


class ListChangeNotifier:
    """Listening sessions by tenant, the served digest last seen per tenant, and the sender task."""

    def __init__(self) -> None:
        self._sessions: dict[str, weakref.WeakSet[Any]] = {}
        self._digests: dict[str, str] = {}
        # Made by `run`, so an app whose lifespan never ran leaves no stream open behind it.
        self._queue: MemoryObjectSendStream[str] | None = None
        self.sent = 0
        """Notifications sent since start (for tests and metrics)."""

    def listened(self, tenant_id: str, session: _Notifiable) -> None:
        """Remember a stateful session that listed the tenant's tools."""
        sessions = self._sessions.get(tenant_id)
        if sessions is None:
            sessions = self._sessions[tenant_id] = weakref.WeakSet()
        sessions.add(session)

    def view_built(self, view: TenantView) -> None:
        """Called with every view the resolver builds: queue a notification when the tenant's tools changed."""
        tenant_id = view.tenant.id
        digest = served_digest(view)
        before = self._digests.get(tenant_id)
        self._digests[tenant_id] = digest
        if before is not None and before != digest and self._sessions.get(tenant_id) and self._queue is not None:
            with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
                self._queue.send_nowait(tenant_id)

    async def run(self) -> None:
        """Send queued notifications until cancelled (runs in the app's lifespan)."""
        queue, pending = anyio.create_memory_object_stream[str](math.inf)
        self._queue = queue
        try:
            async with queue, pending:
                async for tenant_id in pending:
                    for session in list(self._sessions.get(tenant_id, ())):
                        await self._send(tenant_id, session)
        finally:
            self._queue = None

    async def _send(self, tenant_id: str, session: _Notifiable) -> None:
        try:
            with anyio.move_on_after(SEND_TIMEOUT):
                await session.send_tool_list_changed()
                self.sent += 1
                return
        except Exception:
            # A session that ended meanwhile: nothing to tell, and it drops out of the weak set.
            logger.debug("tools/list_changed not delivered to a session of tenant %s", tenant_id, exc_info=True)
        sessions = self._sessions.get(tenant_id)
        if sessions is not None:
            sessions.discard(session)
