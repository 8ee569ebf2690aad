"""Tool-call limits shared by every replica: core's `CallGuard` over a Redis backend (`RedisLimiter`).

Each admission is one Lua script, so checking and counting are atomic across replicas, and it
reads the clock of Redis (`TIME`), so replicas whose clocks differ still agree. Rates are
sliding-window logs (a sorted set of the admitted calls of the last 60 s per tenant and per
credential): no 60-second span ever holds more calls than the limit. Running calls hold a slot in
a sorted set scored by when their lease ends; this process renews the leases of its running calls
every third of `call_slot_lease`, so the slots of a replica that crashed come free within one
lease. An upstream back-off is a key with that expiry. Every key of a tenant carries the tenant id
as a hash tag, so a Redis Cluster keeps one tenant's keys in one slot.

Without Redis (or while it is down) the guard enforces the limits in each process on its own;
see `sagemcp.platform.CallGuard` and docs/operations.md.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from sagemcp.platform import WINDOW, Admission, CallGuard, CallLimits, LimiterUnavailable, Refusal

from .settings import Settings

__all__ = ["RedisLimiter", "build_call_guard", "call_limits_state"]

logger = logging.getLogger("sagemcp_server.call_limits")

_ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local token = ARGV[1]
local tenant_rate = tonumber(ARGV[2])
local credential_rate = tonumber(ARGV[3])
local concurrent = tonumber(ARGV[4])
local lease = tonumber(ARGV[5])
local window = tonumber(ARGV[6])
local has_credential = ARGV[7] == '1'
if has_credential then
  local wait = redis.call('PTTL', KEYS[4])
  if wait > 0 then return {'upstream_backoff', 0, wait} end
end
if concurrent > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  if redis.call('ZCARD', KEYS[3]) >= concurrent then return {'concurrent_calls', concurrent, 1000} end
end
local function full(key, maximum, name)
  if maximum <= 0 then return nil end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local n = redis.call('ZCARD', key)
  if n < maximum then return nil end
  local oldest = redis.call('ZRANGE', key, n - maximum, n - maximum, 'WITHSCORES')
  return {name, maximum, tonumber(oldest[2]) + window - now}
end
local refused = full(KEYS[1], tenant_rate, 'calls_per_minute')
if refused then return refused end
if has_credential then
  refused = full(KEYS[2], credential_rate, 'credential_calls_per_minute')
  if refused then return refused end
end
if tenant_rate > 0 then
  redis.call('ZADD', KEYS[1], now, token)
  redis.call('PEXPIRE', KEYS[1], window + 1000)
end
if has_credential and credential_rate > 0 then
  redis.call('ZADD', KEYS[2], now, token)
  redis.call('PEXPIRE', KEYS[2], window + 1000)
end
if concurrent > 0 then
  redis.call('ZADD', KEYS[3], now + lease, token)
  redis.call('PEXPIRE', KEYS[3], lease + 1000)
end
return {'', 0, 0}
"""

_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now + lease, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], lease + 1000)
return 0
"""

_BACK_OFF = """
local wanted = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < wanted then redis.call('SET', KEYS[1], '1', 'PX', wanted) end
return 0
"""


class RedisLimiter:
    """The counts of every replica in one Redis. Each method raises `LimiterUnavailable` when Redis fails."""

    def __init__(self, redis: Redis, *, prefix: str = "sagemcp:", lease: float = 120.0) -> None:
        self.redis = redis
        self.prefix = prefix
        self.lease_ms = int(lease * 1000)
        self._admit = redis.register_script(_ADMIT)
        self._renew = redis.register_script(_RENEW)
        self._back_off = redis.register_script(_BACK_OFF)
        self._held: dict[str, set[str]] = {}
        """Slots this process holds, by tenant id: their leases are renewed while the calls run."""

    def _key(self, tenant_id: str, *parts: str) -> str:
        return f"{self.prefix}limits:{{{tenant_id}}}:" + ":".join(parts)

    async def admit(self, admission: Admission, token: str) -> Refusal | None:
        tenant = admission.tenant_id
        credential = admission.credential_key or ""
        keys = [
            self._key(tenant, "calls"),
            self._key(tenant, "credential", credential, "calls"),
            self._key(tenant, "running"),
            self._key(tenant, "credential", credential, "backoff"),
        ]
        args = [
            token,
            admission.calls_per_minute or 0,
            admission.credential_calls_per_minute or 0,
            admission.concurrent_calls or 0,
            self.lease_ms,
            int(WINDOW * 1000),
            1 if admission.credential_key else 0,
        ]
        answer = await self._run(self._admit, keys, args)
        limit = answer[0].decode() if isinstance(answer[0], bytes) else str(answer[0])
        if limit:
            return Refusal(limit, int(answer[1]), max(int(answer[2]), 0) / 1000)
        if admission.concurrent_calls:
            self._held.setdefault(tenant, set()).add(token)
        return None

    async def release(self, tenant_id: str, token: str) -> None:
        held = self._held.get(tenant_id)
        if held is not None:
            held.discard(token)
            if not held:
                del self._held[tenant_id]
        try:
            await self.redis.zrem(self._key(tenant_id, "running"), token)
        except (RedisError, OSError) as exc:
            raise LimiterUnavailable(_describe(exc)) from exc

    async def back_off(self, tenant_id: str, credential_key: str, seconds: float) -> None:
        key = self._key(tenant_id, "credential", credential_key, "backoff")
        await self._run(self._back_off, [key], [max(int(seconds * 1000), 1)])

    async def renew(self) -> None:
        """Extend the lease of every slot this process holds (one script per tenant)."""
        for tenant_id, tokens in list(self._held.items()):
            if tokens:
                await self._run(self._renew, [self._key(tenant_id, "running")], [self.lease_ms, *tokens])

    async def run(self) -> None:
        """Renew the leases every third of a lease until cancelled; a failed renewal is retried next time."""
        interval = self.lease_ms / 3000
        while True:
            await asyncio.sleep(interval)
            try:
                await self.renew()
            except LimiterUnavailable as exc:
                logger.debug("could not renew call slots in Redis: %s", exc)

    @staticmethod
    async def _run(script: Any, keys: list[str], args: list[Any]) -> Any:
        try:
            return await script(keys=keys, args=args)
        except (RedisError, OSError) as exc:
            raise LimiterUnavailable(_describe(exc)) from exc


def _describe(exc: BaseException) -> str:
    # The class only: a Redis error can quote the URL, and with it a password.
    return f"Redis unreachable ({type(exc).__name__})"


def build_call_guard(settings: Settings, redis: Redis | None) -> CallGuard:
    """The guard of the tool-call limits: defaults from settings, shared through `redis` when there is one."""
    defaults = CallLimits(
        calls_per_minute=settings.calls_per_minute,
        concurrent_calls=settings.concurrent_calls,
        credential_calls_per_minute=settings.credential_calls_per_minute,
    )
    backend = (
        RedisLimiter(redis, prefix=settings.redis_key_prefix, lease=settings.call_slot_lease)
        if redis is not None
        else None
    )
    return CallGuard(backend, defaults=defaults, max_backoff=settings.max_upstream_backoff)


def call_limits_state(guard: CallGuard) -> str:
    """For `/readyz`: `shared` (Redis), `degraded (...)` (Redis down: per-process limits), or `local`."""
    if not guard.shared:
        return "local"
    reason = guard.degraded
    return "shared" if reason is None else f"degraded: {reason}; each replica enforces the limits on its own"
