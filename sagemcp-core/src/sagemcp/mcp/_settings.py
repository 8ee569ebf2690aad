"""`McpSettings`: how the MCP endpoints behave, the limits on what one caller may hold open, and how the
endpoints present themselves as OAuth protected resources."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from mcp.server.streamable_http import EventStore
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import HTTPConnection
from starlette.types import Scope

from .. import __version__
from .._models import SLUG_PATTERN, ConnectorConfig, Principal, Tenant
from ._resource import canonical_resource, endpoint_path, resource_metadata_url, scope_base_url

REQUIRED_SCOPE = "mcp"
"""The scope a caller needs on an MCP endpoint (API keys and access tokens alike)."""
_SCOPE_TOKEN_RE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")  # RFC 6749 §3.3 scope-token
_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
_SLUG = SLUG_PATTERN.removeprefix("^").removesuffix("$")
_ENDPOINT_RE = re.compile(rf"^/(?P<tenant>{_SLUG})(?:/connectors/(?P<connector>{_SLUG}))?/mcp$")


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
    tools_list_shortcut: bool = True
    """Answer `tools/list` from the cached catalogue: plain stateless POSTs and POSTs on stateful sessions
    with the cached wire JSON before the SDK, other requests with the pre-shaped result inside it (the same
    answers, several times cheaper; see `sagemcp.mcp._fastlist`, `sagemcp.mcp._fastsession`). Off: the SDK
    validates and serialises every listing."""
    tools_call_shortcut: bool = True
    """Serve plain stateless `tools/call` POSTs (JSON responses, no progress token, no input round) with the
    SDK's request kernel but without its per-request transport machinery: the same answers and the same
    audit, several times cheaper in the handshake era (see `sagemcp.mcp._fastcall`). Off: the SDK's
    transport serves every call."""
    legacy_sse: bool = True
    websocket: bool = True
    event_store: EventStore | None = None
    retry_interval: int | None = None
    server_name: str = "sagemcp"
    server_version: str = __version__
    realm: str = "sagemcp"
    """The `realm` of the `WWW-Authenticate: Bearer` challenges of 401 and 403 answers."""
    request_state_key: bytes | None = None
    """The HMAC key (32 bytes or more) sealing the request state of 2026-07-28 input rounds. None: a random
    key per process, so a round must come back to the same process; replicas behind one URL share one key."""
    public_url: str | None = None
    """The public URL this MCP app is served at, mount prefix included (the server: `https://host/api/v1`).
    Canonical resource URLs are this plus the endpoint path. None: built from the ASGI scope (the
    socket's address and the root path), which is right only when clients reach the socket directly."""
    authorization_servers: list[str] = field(default_factory=list)
    """Issuer URLs of the authorization servers whose access tokens the endpoints accept, advertised in
    the RFC 9728 metadata and pointed at by `resource_metadata` in 401 challenges. Empty: OAuth is off,
    no metadata is served and challenges name no metadata (API keys only)."""
    resource_scopes: list[str] = field(default_factory=lambda: [REQUIRED_SCOPE])
    """Scopes a client asks for to use the endpoints (`scopes_supported`, and the `scope` of challenges).
    Must include `mcp`, the scope every endpoint requires."""
    resource_name: str | None = None
    """A human-readable name for the endpoints in their resource metadata."""
    resource_documentation: str | None = None
    """A URL of documentation for people connecting clients, in the resource metadata."""
    connect_url: Callable[[Tenant, ConnectorConfig, Principal], str] | None = None
    """The page where a member connects their own account to a `per_user` connector (`tenant`, the connector,
    the calling member). A member calling such a connector without a connection is sent there: by a link in the
    tool result, or a URL-mode elicitation for clients that support it. None: no link, only the explanation."""

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
        self._check_resource_settings()
        if self.tools_page_size < 1:
            raise ValueError("McpSettings.tools_page_size must be at least 1")
        idle = self.stream_idle_timeout
        if idle is not None and not (math.isfinite(idle) and idle > 0):
            raise ValueError("McpSettings.stream_idle_timeout must be a positive number of seconds, or None")

    def _check_resource_settings(self) -> None:
        if self.public_url is not None:
            self.public_url = self.public_url.strip().rstrip("/")
            parts = urlsplit(self.public_url)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
                raise ValueError(
                    "McpSettings.public_url must be an http:// or https:// URL without query or fragment, "
                    f"e.g. https://mcp.example.com/api/v1; got {self.public_url!r}"
                )
        for issuer in self.authorization_servers:
            parts = urlsplit(issuer)
            loopback = parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS
            if not (parts.scheme == "https" or loopback) or not parts.hostname or parts.query or parts.fragment:
                raise ValueError(
                    "McpSettings.authorization_servers must hold issuer URLs: https:// (http:// only on loopback), "
                    f"without query or fragment; got {issuer!r}"
                )
        if REQUIRED_SCOPE not in self.resource_scopes:
            raise ValueError(
                f"McpSettings.resource_scopes must include {REQUIRED_SCOPE!r}, which every endpoint requires"
            )
        bad = [s for s in self.resource_scopes if not _SCOPE_TOKEN_RE.match(s)]
        if bad:
            raise ValueError(f"McpSettings.resource_scopes holds invalid scope names (RFC 6749 §3.3): {bad}")
        doc = self.resource_documentation
        if doc is not None and urlsplit(doc).scheme not in ("http", "https"):
            raise ValueError(f"McpSettings.resource_documentation must be an http(s) URL; got {doc!r}")
        if '"' in self.realm or "\\" in self.realm:
            raise ValueError("McpSettings.realm must not contain quotes or backslashes")

    @property
    def oauth_enabled(self) -> bool:
        """Whether the endpoints advertise themselves as OAuth protected resources (an authorization server is set)."""
        return bool(self.authorization_servers)

    def resource_url(self, conn: HTTPConnection | Scope) -> str:
        """The canonical resource URL (RFC 8707) of the MCP endpoint a request is for: its `/mcp` URL.

        `conn` is a request or WebSocket (or its ASGI scope) routed to an endpoint of the MCP app, so
        its path parameters name the tenant and the connector; the transport (`/sse`, `/ws`,
        `/messages/`) does not change the answer.
        """
        scope = conn.scope if isinstance(conn, HTTPConnection) else conn
        params = scope.get("path_params", {})
        base = self.public_url if self.public_url is not None else scope_base_url(scope)
        return base + endpoint_path(params["tenant"], params.get("connector"))

    def resource_metadata_url(self, conn: HTTPConnection | Scope) -> str:
        """The RFC 9728 metadata URL of the endpoint a request is for (path-aware well-known URL)."""
        return resource_metadata_url(self.resource_url(conn))

    def endpoint_for(self, resource: str) -> tuple[str, str | None] | None:
        """The endpoint a canonical resource URL names, as (tenant slug, connector name or None for the
        tenant-wide endpoint); None when it names no MCP endpoint of this app (another host, another path).

        For authorization servers and token verifiers mapping a requested `resource` to a tenant.
        Needs `public_url`: without it the app's public address is unknown.
        """
        if self.public_url is None:
            raise ValueError("McpSettings.endpoint_for needs McpSettings.public_url")
        try:
            base, url = canonical_resource(self.public_url), canonical_resource(resource)
        except ValueError:
            return None
        if not url.startswith(base + "/"):
            return None
        match = _ENDPOINT_RE.match(url[len(base) :])
        if match is None:
            return None
        return match["tenant"], match["connector"]

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
