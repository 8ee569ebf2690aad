"""Tool-call limits: per-tenant rate and concurrency, per-credential rate, and upstream back-offs.

`CallGuard` is what `ToolRunner` asks before every call (and tells after it, and when an upstream
said a credential is rate limited). The counts live in a `LimiterBackend`: `MemoryLimiter` keeps
them in this process; the reference server has a Redis backend that all replicas share. When the
backend raises `LimiterUnavailable` the guard falls back to its own `MemoryLimiter` (each process
then enforces every limit on its own), logs that once, and tries the backend again after
`retry_interval` seconds.

Rates are sliding-window logs: a call is admitted when fewer than N calls were admitted in the
60 seconds before it, so no 60-second span ever holds more than N, with no burst at a window
boundary. A refused call is not counted.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from ._models import CallLimits, Credential, Tenant, new_id
from .errors import CallLimitReached

__all__ = [
    "CALL_LIMITS",
    "WINDOW",
    "Admission",
    "CallGuard",
    "LimiterBackend",
    "LimiterUnavailable",
    "MemoryLimiter",
    "Permit",
    "Refusal",
]

logger = logging.getLogger("sagemcp.limits")

WINDOW = 60.0
"""Seconds of the rolling window of the per-minute limits."""

CALL_LIMITS = ("calls_per_minute", "concurrent_calls", "credential_calls_per_minute", "upstream_backoff")
"""Every limit a refused call can name (`CallLimitReached.limit`, the `limit` metric label)."""

CONCURRENCY_RETRY = 1.0
"""The wait a refusal by `concurrent_calls` suggests: a running call may end at any moment."""

_SWEEP_EVERY = 4_096
_T = TypeVar("_T")


class LimiterUnavailable(Exception):
    """A backend could not be reached (Redis down): the guard uses its in-process limiter meanwhile."""


@dataclass(frozen=True)
class Admission:
    """One call to admit: who makes it and the limits in force (None or 0: no limit)."""

    tenant_id: str
    credential_key: str | None
    calls_per_minute: int | None = None
    concurrent_calls: int | None = None
    credential_calls_per_minute: int | None = None


@dataclass(frozen=True)
class Refusal:
    """Why a call was not admitted: the limit, its value, and the seconds until a call may succeed."""

    limit: str
    maximum: int
    retry_after: float


class LimiterBackend(Protocol):
    """Where the counts live. Every method may raise `LimiterUnavailable`."""

    async def admit(self, admission: Admission, token: str) -> Refusal | None:
        """Count the call and, if it has a concurrency limit, hold a slot named `token`; or refuse it (nothing
        counted). Checks and counting are one atomic step."""
        ...

    async def release(self, tenant_id: str, token: str) -> None:
        """Free the concurrency slot `token` of `tenant_id` (nothing if it holds none)."""
        ...

    async def back_off(self, tenant_id: str, credential_key: str, seconds: float) -> None:
        """Refuse calls with this credential (of `tenant_id`) for `seconds`; a longer back-off recorded stays."""
        ...


@dataclass(eq=False)
class Permit:
    """A call admitted by `CallGuard.admit`; give it back with `CallGuard.release` when the call ends."""

    tenant_id: str
    token: str
    backend: LimiterBackend
    released: bool = False


def _active(value: int | None) -> int | None:
    return value if value else None


class MemoryLimiter:
    """The counts in this process: exact, and shared by nothing else."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._calls: dict[str, deque[float]] = {}
        self._running: dict[str, set[str]] = {}
        self._backoff: dict[str, float] = {}
        self._admitted = 0

    async def admit(self, admission: Admission, token: str) -> Refusal | None:
        now = self._clock()
        key = admission.credential_key
        if key is not None:
            until = self._backoff.get(key)
            if until is not None:
                if until > now:
                    return Refusal("upstream_backoff", 0, until - now)
                del self._backoff[key]
        concurrent = _active(admission.concurrent_calls)
        running = self._running.get(admission.tenant_id, set())
        if concurrent is not None and len(running) >= concurrent:
            return Refusal("concurrent_calls", concurrent, CONCURRENCY_RETRY)
        logs: list[tuple[deque[float], int]] = []
        checks = [("calls_per_minute", "t:" + admission.tenant_id, admission.calls_per_minute)]
        if key is not None:
            checks.append(("credential_calls_per_minute", "c:" + key, admission.credential_calls_per_minute))
        for name, log_key, value in checks:
            maximum = _active(value)
            if maximum is None:
                continue
            log = self._calls.setdefault(log_key, deque())
            while log and log[0] <= now - WINDOW:
                log.popleft()
            if len(log) >= maximum:
                # The oldest calls that must leave the window before one more fits.
                return Refusal(name, maximum, log[len(log) - maximum] + WINDOW - now)
            logs.append((log, maximum))
        for log, _ in logs:
            log.append(now)
        if concurrent is not None:
            self._running.setdefault(admission.tenant_id, running).add(token)
        self._admitted += 1
        if self._admitted % _SWEEP_EVERY == 0:
            self._sweep(now)
        return None

    async def release(self, tenant_id: str, token: str) -> None:
        running = self._running.get(tenant_id)
        if running is not None:
            running.discard(token)
            if not running:
                del self._running[tenant_id]

    async def back_off(self, tenant_id: str, credential_key: str, seconds: float) -> None:
        until = self._clock() + seconds
        self._backoff[credential_key] = max(until, self._backoff.get(credential_key, until))

    def _sweep(self, now: float) -> None:
        """Forget tenants and credentials idle for a whole window, so memory follows the active ones."""
        for key in [k for k, log in self._calls.items() if not log or log[-1] <= now - WINDOW]:
            del self._calls[key]
        for key in [k for k, until in self._backoff.items() if until <= now]:
            del self._backoff[key]


@dataclass
class _State:
    degraded_since: float | None = None
    retry_at: float = 0.0
    reason: str = ""


@dataclass(eq=False)
class CallGuard:
    """Admits tool calls against the tenant's limits (its own, else `defaults`) and upstream back-offs.

    `backend` defaults to a `MemoryLimiter`; with another one (Redis), `local` takes over while it is
    unavailable. `refused` counts refusals by limit since start; `degraded` says the fallback is in use.
    """

    backend: LimiterBackend | None = None
    defaults: CallLimits = field(default_factory=CallLimits)
    max_backoff: float = 3600.0
    retry_interval: float = 5.0
    clock: Callable[[], float] = time.monotonic
    local: MemoryLimiter = field(init=False)
    refused: dict[str, int] = field(init=False)
    _state: _State = field(default_factory=_State, init=False)

    def __post_init__(self) -> None:
        self.local = MemoryLimiter(self.clock)
        if self.backend is None:
            self.backend = self.local
        self.refused = {name: 0 for name in CALL_LIMITS}

    @property
    def shared(self) -> bool:
        """Whether the counts are kept outside this process (another backend than the local one)."""
        return self.backend is not self.local

    @property
    def degraded(self) -> str | None:
        """Why the in-process fallback is in use right now, or None when the backend serves."""
        return self._state.reason if self._state.degraded_since is not None else None

    def limits_for(self, tenant: Tenant) -> CallLimits:
        return tenant.limits.over(self.defaults)

    async def admit(self, tenant: Tenant, credential: Credential | None, *, provider: str) -> Permit | None:
        """Admit one call of `tenant` with `credential` (to `provider`, named in messages), or raise
        `CallLimitReached` saying which limit and how long to wait. None: no concurrency slot to give back."""
        # Plain lookups, not `limits_for`: this runs on every call, and building a model costs more than the check.
        own, default = tenant.limits, self.defaults
        calls = own.calls_per_minute if own.calls_per_minute is not None else default.calls_per_minute
        concurrent = own.concurrent_calls if own.concurrent_calls is not None else default.concurrent_calls
        if credential is None and not (calls or concurrent):
            return None  # no limit applies, and without a credential there is no back-off to honour
        per_credential = own.credential_calls_per_minute
        if per_credential is None:
            per_credential = default.credential_calls_per_minute
        admission = Admission(
            tenant_id=tenant.id,
            credential_key=credential.id if credential is not None else None,
            calls_per_minute=calls,
            concurrent_calls=concurrent,
            credential_calls_per_minute=per_credential,
        )
        token = new_id()  # uuid4 hex, without building a `uuid.UUID` on every call

        async def admit(backend: LimiterBackend) -> tuple[Refusal | None, LimiterBackend]:
            return await backend.admit(admission, token), backend

        refusal, backend = await self._use(admit)
        if refusal is None:
            # Only a concurrency slot needs giving back; rates are counted once and for all.
            return Permit(tenant.id, token, backend) if concurrent else None
        self.refused[refusal.limit] = self.refused.get(refusal.limit, 0) + 1
        raise CallLimitReached(
            _message(refusal, tenant, provider), refusal.limit, refusal.maximum, _seconds(refusal.retry_after)
        )

    async def release(self, permit: Permit) -> None:
        """Give back a permit's concurrency slot; never raises (an unreachable backend's slot expires there)."""
        if permit.released:
            return
        permit.released = True
        try:
            await permit.backend.release(permit.tenant_id, permit.token)
        except LimiterUnavailable as exc:
            self._degrade(exc)

    async def upstream_limited(self, credential: Credential, retry_after: float | None) -> None:
        """An upstream said `credential` is rate limited for `retry_after` seconds: refuse its calls until then
        (on every replica sharing the backend). Without a wait there is nothing to record."""
        if retry_after is None or retry_after <= 0:
            return
        seconds = min(float(retry_after), self.max_backoff)
        # Kept here as well: if the shared backend goes down, this process still remembers.
        await self.local.back_off(credential.tenant_id, credential.id, seconds)
        if self.shared:
            with_backend = self._backend_now()
            if with_backend is not self.local:
                try:
                    await with_backend.back_off(credential.tenant_id, credential.id, seconds)
                except LimiterUnavailable as exc:
                    self._degrade(exc)
                else:
                    self._recover()

    def _backend_now(self) -> LimiterBackend:
        assert self.backend is not None
        state = self._state
        if state.degraded_since is not None and self.clock() < state.retry_at:
            return self.local
        return self.backend

    async def _use(self, operation: Callable[[LimiterBackend], Awaitable[_T]]) -> _T:
        backend = self._backend_now()
        if backend is self.local:
            return await operation(backend)
        try:
            result = await operation(backend)
        except LimiterUnavailable as exc:
            self._degrade(exc)
            return await operation(self.local)
        self._recover()
        return result

    def _degrade(self, exc: LimiterUnavailable) -> None:
        state = self._state
        now = self.clock()
        state.retry_at = now + self.retry_interval
        if state.degraded_since is None:
            state.degraded_since = now
            state.reason = str(exc) or type(exc).__name__
            logger.warning(
                "tool-call limits: the shared limiter is unavailable (%s); each process enforces the limits on "
                "its own until it is back",
                state.reason,
            )

    def _recover(self) -> None:
        state = self._state
        if state.degraded_since is not None:
            logger.warning(
                "tool-call limits: the shared limiter is back after %.0f s", self.clock() - state.degraded_since
            )
            state.degraded_since = None
            state.reason = ""


def _seconds(wait: float) -> float:
    """A wait as whole seconds, at least 1: a client told "0 s" would retry into the same refusal."""
    return float(max(1, math.ceil(wait - 1e-9)))


def _message(refusal: Refusal, tenant: Tenant, provider: str) -> str:
    wait = int(_seconds(refusal.retry_after))
    if refusal.limit == "upstream_backoff":
        return (
            f"{provider} said this credential is rate limited: its calls are held back until then. "
            f"Retry in {wait} s (limit upstream_backoff)."
        )
    if refusal.limit == "concurrent_calls":
        return (
            f"Tenant {tenant.slug!r} already runs {refusal.maximum} tool calls at once, the most it may "
            f"(limit concurrent_calls = {refusal.maximum}). Retry in {wait} s, when one has finished."
        )
    if refusal.limit == "calls_per_minute":
        return (
            f"Tenant {tenant.slug!r} made {refusal.maximum} tool calls in the last minute, the most it may "
            f"(limit calls_per_minute = {refusal.maximum}). Retry in {wait} s."
        )
    return (
        f"This {provider} credential was used for {refusal.maximum} tool calls in the last minute, the most "
        f"tenant {tenant.slug!r} allows per credential (limit credential_calls_per_minute = {refusal.maximum}). "
        f"Retry in {wait} s."
    )
