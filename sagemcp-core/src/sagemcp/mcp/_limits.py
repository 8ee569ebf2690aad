"""Quotas on what callers hold open in one process: counted per tenant, per caller and in total.

A tenant filling its own quota leaves every other tenant's untouched; only the total is
shared. Counts live in this process (replicas each apply the limits to what they hold),
and per-tenant counts never leave it: metrics see totals and refusals by limit name.
"""

from __future__ import annotations

import logging
import time
from typing import Literal

from .._models import Tenant
from ..errors import LimitReached

__all__ = ["LIMITS", "Quota"]

logger = logging.getLogger("sagemcp.mcp")

Kind = Literal["session", "stream"]

LIMITS = (
    "sessions",
    "sessions_per_tenant",
    "sessions_per_key",
    "streams",
    "streams_per_tenant",
    "streams_per_key",
)
"""Every limit name a refusal can report (`LimitReached.limit`, the `limit` metric label)."""

_WHAT = {"session": "MCP sessions", "stream": "MCP streams (legacy SSE, GET /mcp, WebSocket)"}
_LOG_EVERY = 60.0


class Quota:
    """Things of one kind held open, counted in total, per tenant and per key, each against its maximum.

    `acquire` counts one more or raises `LimitReached` naming the limit and how to free
    room; `release` gives it back. `refused` counts refusals by limit name since start.
    """

    def __init__(
        self, kind: Kind, *, total: int | None, per_tenant: int | None, per_key: int | None, hint: str
    ) -> None:
        self.kind = kind
        self.maximum = total
        self.per_tenant = per_tenant
        self.per_key = per_key
        self.hint = hint
        self.total = 0
        self._tenants: dict[str, int] = {}
        self._keys: dict[str, int] = {}
        self.refused: dict[str, int] = {name: 0 for name in LIMITS if name.startswith(kind)}
        self._logged: dict[str, tuple[float, int]] = {}

    def held(self, *, tenant_id: str | None = None, key_id: str | None = None) -> int:
        """How many are open for a tenant, for a key, or (with neither) in total."""
        if tenant_id is not None:
            return self._tenants.get(tenant_id, 0)
        if key_id is not None:
            return self._keys.get(key_id, 0)
        return self.total

    def acquire(self, tenant: Tenant, key_id: str) -> None:
        """Count one more for `tenant` and `key_id`, or raise `LimitReached` (nothing counted)."""
        plural = f"{self.kind}s"
        tenant_held = self._tenants.get(tenant.id, 0)
        key_held = self._keys.get(key_id, 0)
        what = _WHAT[self.kind]
        if self.per_tenant is not None and tenant_held >= self.per_tenant:
            self._refuse(
                f"{plural}_per_tenant",
                self.per_tenant,
                f"Tenant {tenant.slug!r} has {tenant_held} open {what}, the most this server allows per tenant "
                f"(max_{plural}_per_tenant = {self.per_tenant}). {self.hint}",
                tenant.slug,
            )
        if self.per_key is not None and key_held >= self.per_key:
            self._refuse(
                f"{plural}_per_key",
                self.per_key,
                f"This key has {key_held} open {what}, the most this server allows per key "
                f"(max_{plural}_per_key = {self.per_key}). {self.hint}",
                tenant.slug,
            )
        if self.maximum is not None and self.total >= self.maximum:
            self._refuse(
                plural,
                self.maximum,
                f"This server has {self.total} open {what}, the most it allows (max_{plural} = {self.maximum}). "
                "Try again in a minute; its operator can raise the limit or add replicas.",
                tenant.slug,
            )
        self._tenants[tenant.id] = tenant_held + 1
        self._keys[key_id] = key_held + 1
        self.total += 1

    def release(self, tenant_id: str, key_id: str) -> None:
        """Give back one counted by `acquire` for the same tenant and key."""
        self.total = max(self.total - 1, 0)
        _decrement(self._tenants, tenant_id)
        _decrement(self._keys, key_id)

    def count_refusal(self, limit: str) -> None:
        """Count a refusal made elsewhere (the SDK's own session limit)."""
        if limit in self.refused:
            self.refused[limit] += 1

    def _refuse(self, limit: str, maximum: int, message: str, slug: str) -> None:
        self.refused[limit] += 1
        # One line per limit and minute: a client hammering a full quota must not flood the log.
        now = time.monotonic()
        last, quiet = self._logged.get(limit, (-_LOG_EVERY, 0))
        if now - last >= _LOG_EVERY:
            more = f" ({quiet} more refusals since the last report)" if quiet else ""
            logger.warning("refused a new %s for tenant %s: %s (%d) reached%s", self.kind, slug, limit, maximum, more)
            self._logged[limit] = (now, 0)
        else:
            self._logged[limit] = (last, quiet + 1)
        raise LimitReached(message, limit, maximum)


def _decrement(counts: dict[str, int], key: str) -> None:
    held = counts.get(key, 0)
    if held <= 1:
        counts.pop(key, None)  # a tenant or key holding nothing takes no memory
    else:
        counts[key] = held - 1
