"""The connection to the Redis the replicas share (`SAGEMCP_REDIS_URL`), for every feature that needs one.

One client per process: `redis.asyncio` keeps a connection pool, so features share it. Commands
time out after `redis_timeout` seconds: a Redis that is down or unreachable must slow no request
down for longer than that, and each feature decides what it does without Redis.
"""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from .settings import Settings

__all__ = ["connect_redis", "redis_key", "redis_state"]


def connect_redis(settings: Settings) -> Redis | None:
    """A client for `settings.redis_url`, or None when it is unset (single-replica mode).

    Nothing is sent until the first command, so a Redis that is down does not stop the server starting.
    """
    if settings.redis_url is None:
        return None
    return Redis.from_url(
        settings.redis_url.get_secret_value(),
        socket_timeout=settings.redis_timeout,
        socket_connect_timeout=settings.redis_timeout,
        health_check_interval=30,
        # Failures are handled by the callers (fallbacks, readiness), not by retrying inside a request.
        retry=Retry(NoBackoff(), 0),
        decode_responses=False,
    )


def redis_key(settings: Settings, *parts: str) -> str:
    """A key under this deployment's prefix: `redis_key(s, "limits", "t", tenant_id)` -> `sagemcp:limits:t:...`."""
    return settings.redis_key_prefix + ":".join(parts)


async def redis_state(redis: Redis) -> str:
    """`ok` when Redis answers a PING within `redis_timeout`, else `unreachable (<error class>)` (for `/readyz`)."""
    try:
        await redis.ping()  # type: ignore[misc]
    except Exception as exc:
        return f"unreachable ({type(exc).__name__})"
    return "ok"
