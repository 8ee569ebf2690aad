"""The MCP adapter: the only part of sagemcp that imports the `mcp` SDK.

`create_mcp_app(store, registry, ...)` returns an ASGI app serving, for every tenant,
`/{tenant}/connectors/{connector}/mcp` (one connector) and `/{tenant}/mcp` (all of the
tenant's enabled connectors) over Streamable HTTP (protocol 2024-11-05 to 2026-07-28),
plus legacy HTTP+SSE (`.../sse`) and WebSocket (`.../ws`).

`tool_listing(cls, policy)` is the `tools/list` JSON this adapter serves for a connector.

What one caller may hold open is bounded (`McpSettings`: sessions and streams per
tenant, per key and in total, idle timeouts); `McpApp.usage` counts it for metrics,
with limit names from `LIMITS`, transports from `STREAM_KINDS` and closure reasons
from `CLOSE_REASONS`.

Every endpoint is an OAuth protected resource (RFC 9728): `McpSettings.authorization_servers`
names the issuers, `protected_resource_routes(settings, mount_prefix)` serves the metadata
at the host's root, and `BearerTokenAuthenticator` admits access tokens checked by a
`TokenVerifier` (the built-in authorization server's, or `JwtTokenVerifier` for an external
issuer's JWTs). `canonical_resource(url)` spells resource URLs the way they are compared.

Behind a load balancer, a `SessionRouter` (`create_mcp_app(..., router=...)`) forwards requests
for a stateful session to the replica that holds it; the reference server implements it on Redis.
"""

from ._app import McpApp, McpSettings, McpUsage, create_mcp_app
from ._auth import (
    AllowAnonymous,
    ApiKeyAuthenticator,
    BearerTokenAuthenticator,
    CallerAuthenticator,
    ChainAuthenticator,
    InvalidationSource,
    TokenVerifier,
    bearer_token,
)
from ._convert import tool_listing
from ._handlers import ToolCallObserver
from ._jwt import JwtTokenVerifier, VerifiedJwt
from ._limits import LIMITS
from ._resolve import tenant_wide_prefixes
from ._resource import canonical_resource, protected_resource_routes
from ._routing import SESSION_GONE, SessionRouter
from ._streams import CLOSE_REASONS, STREAM_KINDS

__all__ = [
    "CLOSE_REASONS",
    "LIMITS",
    "SESSION_GONE",
    "STREAM_KINDS",
    "AllowAnonymous",
    "ApiKeyAuthenticator",
    "BearerTokenAuthenticator",
    "CallerAuthenticator",
    "ChainAuthenticator",
    "InvalidationSource",
    "JwtTokenVerifier",
    "McpApp",
    "McpSettings",
    "McpUsage",
    "SessionRouter",
    "TokenVerifier",
    "ToolCallObserver",
    "VerifiedJwt",
    "bearer_token",
    "canonical_resource",
    "create_mcp_app",
    "protected_resource_routes",
    "tenant_wide_prefixes",
    "tool_listing",
]
