"""The MCP adapter: the only part of sagemcp that imports the `mcp` SDK.

`create_mcp_app(store, registry, ...)` returns an ASGI app serving, for every tenant,
`/{tenant}/connectors/{connector}/mcp` (one connector) and `/{tenant}/mcp` (all of the
tenant's enabled connectors) over Streamable HTTP (protocol 2024-11-05 to 2026-07-28),
plus legacy HTTP+SSE (`.../sse`) and WebSocket (`.../ws`).

`tool_listing(cls, policy)` is the `tools/list` JSON this adapter serves for a connector.
"""

from ._app import McpApp, McpSettings, create_mcp_app
from ._auth import AllowAnonymous, ApiKeyAuthenticator, CallerAuthenticator, ChainAuthenticator, bearer_token
from ._convert import tool_listing
from ._handlers import ToolCallObserver

__all__ = [
    "AllowAnonymous",
    "ApiKeyAuthenticator",
    "CallerAuthenticator",
    "ChainAuthenticator",
    "McpApp",
    "McpSettings",
    "ToolCallObserver",
    "bearer_token",
    "create_mcp_app",
    "tool_listing",
]
