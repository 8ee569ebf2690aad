"""The `ttlMs`/`cacheScope` hints of list and read results (2026-07-28, SEP-2549).

Every cacheable result a tenant's endpoint serves depends on that tenant's configuration,
and a `resources/read` or prompt may depend on the caller's own connection, so all are
`private` (reused only within the authorization context that fetched them: one API key,
one member's token). Their lifetime is the one the server itself caches a tenant for
(`McpSettings.cache_ttl`): a change made in the admin API reaches every replica within
that time, so a client that keeps a result that long sees no staler data than the server
would serve. `server/discover` is the same for every caller and tenant: `public`.
"""

from __future__ import annotations

from mcp.server.caching import CacheHint
from mcp_types.methods import CacheableMethod

__all__ = ["cache_hints"]

_PER_CALLER: tuple[CacheableMethod, ...] = (
    "tools/list",
    "prompts/list",
    "resources/list",
    "resources/templates/list",
    "resources/read",
)


def cache_hints(cache_ttl: float) -> dict[CacheableMethod, CacheHint]:
    """The server-wide hints for a process that caches tenants for `cache_ttl` seconds."""
    ttl_ms = max(int(cache_ttl * 1000), 0)
    hints: dict[CacheableMethod, CacheHint] = {m: CacheHint(ttl_ms=ttl_ms, scope="private") for m in _PER_CALLER}
    hints["server/discover"] = CacheHint(ttl_ms=ttl_ms, scope="public")
    return hints
