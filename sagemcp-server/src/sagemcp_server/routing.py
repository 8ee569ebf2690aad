"""The server's router: MCP endpoint paths go straight to the MCP mount, everything else through the table.

Starlette tries routes in order, and the admin API, the web pages and the authorization server put some ninety
routes before the `/api/v1` mount of the MCP app: every tool call paid for trying each of them. A path under the
mount whose first segment no other route can match (`/api/v1/acme/mcp`, but not `/api/v1/admin/...`) could only
ever reach the mount, so `McpFirstRouter` hands it there at once. Any route that could match such a path (a
parameter where a literal would rule it out) turns the shortcut off, so the answers never differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Mount, Route, Router, WebSocketRoute
from starlette.types import Receive, Scope, Send

__all__ = ["McpFirstRouter"]


class McpFirstRouter(Router):
    """A `Router` that dispatches paths only `mount` can serve without walking the routes before it."""

    def __init__(self, routes: Sequence[BaseRoute], *, mount: Mount, lifespan: Any = None) -> None:
        super().__init__(list(routes), lifespan=lifespan)
        self._mount = mount
        self._prefix = mount.path + "/"
        self._reserved = _reserved_segments([r for r in routes if r is not mount], mount.path)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._reserved is not None and scope["type"] in ("http", "websocket"):
            path = get_route_path(scope)
            if path.startswith(self._prefix) and path[len(self._prefix) :].split("/", 1)[0] not in self._reserved:
                match, child_scope = self._mount.matches(scope)
                if match is Match.FULL:
                    scope.setdefault("router", self)
                    scope["route"] = self._mount
                    scope.update(child_scope)
                    await self._mount.handle(scope, receive, send)
                    return
        await super().app(scope, receive, send)


def _reserved_segments(routes: Sequence[BaseRoute], prefix: str) -> frozenset[str] | None:
    """The first segments under `prefix` that other routes use, or None when a route could match any of them."""
    reserved: set[str] = set()
    prefix_parts = prefix.strip("/").split("/")
    for route in routes:
        if not isinstance(route, (Route, WebSocketRoute, Mount)):
            return None
        trimmed = route.path.strip("/")
        parts = trimmed.split("/") if trimmed else []
        for depth, expected in enumerate(prefix_parts):
            if depth >= len(parts):
                if isinstance(route, Mount):
                    return None  # a mount above the prefix serves everything under it
                break  # a shorter route cannot match a path under the prefix
            if "{" in parts[depth]:
                return None  # a parameter here could match the prefix
            if parts[depth] != expected:
                break  # this route cannot match a path under the prefix
        else:
            if len(parts) <= len(prefix_parts):
                continue  # the prefix itself (`/api/v1`), not a path under it
            first = parts[len(prefix_parts)]
            if "{" in first:
                return None
            reserved.add(first)
    return frozenset(reserved)
