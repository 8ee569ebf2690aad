"""`McpSettings`: how the MCP endpoints behave, and the limits on what one caller may hold open."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mcp.server.streamable_http import EventStore
from mcp.server.transport_security import TransportSecuritySettings

from .. import __version__


@dataclass
class McpSettings:
    """How the MCP endpoints behave. The defaults are the fastest safe choice: stateless JSON responses.

    Limits on open sessions and streams apply per process, each counted per tenant, per
    caller (API key, token or the anonymous principal) and in total; None lifts one.
    """

    stateful: bool = False
    """Keep sessions (needed for server-to-client requests: sampling, elicitation, streamed progress and logs)."""
    json_response: bool = True
    """Answer stateless requests with plain JSON instead of an SSE stream. Ignored when `stateful`."""
    max_result_chars: int = 100_000
    """Cap on a tool result's text (about 25,000 tokens); longer text is cut with a marker."""
    max_body_bytes: int = 4 * 1024 * 1024
    cache_ttl: float = 5.0
    """Seconds a process may serve a cached tenant, connector, credential or API key."""
    allowed_hosts: list[str] | None = None
    """Host header values accepted (DNS-rebinding protection); None disables the check."""
    allowed_origins: list[str] | None = None
    session_idle_timeout: float = 1800.0
    """Seconds a stateful session may go without a request in flight before it ends."""
    max_sessions: int | None = 10_000
    """Stateful sessions open in this process; beyond it a new session gets HTTP 503."""
    max_sessions_per_tenant: int | None = 1_000
    """Stateful sessions one tenant may hold open in this process; beyond it a new one gets HTTP 429."""
    max_sessions_per_key: int | None = 200
    """Stateful sessions one caller (API key) may hold open in this process; beyond it HTTP 429."""
    max_streams: int | None = 5_000
    """Long-lived streams open in this process (legacy SSE, `GET /mcp`, WebSocket); beyond it HTTP 429."""
    max_streams_per_tenant: int | None = 200
    """Long-lived streams one tenant may hold open in this process; beyond it HTTP 429."""
    max_streams_per_key: int | None = 50
    """Long-lived streams one caller may hold open in this process; beyond it HTTP 429."""
    stream_idle_timeout: float | None = 1800.0
    """Seconds a long-lived stream may carry no message either way (keep-alive pings do not count)
    before the server closes it; None: never."""
    tools_page_size: int = 200
    """Tools per `tools/list` page. A larger catalogue (a tenant-wide endpoint over many connectors)
    is served in pages linked by `nextCursor`; a smaller one is one page without a cursor."""
    legacy_sse: bool = True
    websocket: bool = True
    event_store: EventStore | None = None
    retry_interval: int | None = None
    server_name: str = "sagemcp"
    server_version: str = __version__
    www_authenticate: str = 'Bearer realm="sagemcp"'

    def __post_init__(self) -> None:
        for name in (
            "max_sessions",
            "max_sessions_per_tenant",
            "max_sessions_per_key",
            "max_streams",
            "max_streams_per_tenant",
            "max_streams_per_key",
        ):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"McpSettings.{name} must be at least 1, or None for no limit")
        if self.tools_page_size < 1:
            raise ValueError("McpSettings.tools_page_size must be at least 1")
        idle = self.stream_idle_timeout
        if idle is not None and not (math.isfinite(idle) and idle > 0):
            raise ValueError("McpSettings.stream_idle_timeout must be a positive number of seconds, or None")

    @classmethod
    def for_local_bind(cls, port: int, **kwargs: Any) -> McpSettings:
        """Settings with DNS-rebinding protection for a server bound to localhost on `port`."""
        hosts = [f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"]
        origins = [f"http://{h}" for h in hosts]
        return cls(allowed_hosts=hosts, allowed_origins=origins, **kwargs)

    def transport_security(self) -> TransportSecuritySettings | None:
        if self.allowed_hosts is None and self.allowed_origins is None:
            return None
        return TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=list(self.allowed_hosts or []),
            allowed_origins=list(self.allowed_origins or []),
        )

    @property
    def readmit_interval(self) -> float:
        """Seconds between re-admissions of the callers of open streams and sessions.

        Half the cache TTL (at least 0.5 s, at most 30 s), so a key revoked on another replica
        closes its streams here within about 1.5 x `cache_ttl`.
        """
        return min(max(self.cache_ttl / 2, 0.5), 30.0)

    @property
    def idle_check_interval(self) -> float:
        """Seconds between checks for idle streams: a quarter of the idle timeout (0.1 s to 30 s)."""
        if self.stream_idle_timeout is None:
            return 30.0
        return min(max(self.stream_idle_timeout / 4, 0.1), 30.0)
