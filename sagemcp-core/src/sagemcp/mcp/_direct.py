"""Requests for the Streamable HTTP endpoints, handed straight to their route.

The MCP app is a Starlette app, so every request passed its error middleware, its exception
middleware and its router (each route's regular expression tried in turn) before reaching an
endpoint: about a hundred lines of Python per request. Nearly every request is for one of the two
Streamable HTTP endpoints, `/{tenant}/mcp` and `/{tenant}/connectors/{connector}/mcp`, whose paths
are simple to recognise exactly. `DirectRoutes` serves such a request, with a method its route
allows, as the Starlette app would: the scope set as its router sets it, an `HTTPException`
answered as its exception middleware answers one, any other failure as its error middleware does
(500, then raised). Every other request (other paths and methods, WebSockets) goes through the
Starlette app.
"""

from __future__ import annotations

from starlette._utils import get_route_path
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

__all__ = ["DirectRoutes"]


class DirectRoutes:
    """Serve `{tenant_wide}` (`/{tenant}/mcp`) and `{per_connector}` (`/{tenant}/connectors/{connector}/mcp`),
    routes of `app`, without `app`'s middleware and router."""

    def __init__(self, app: Starlette, *, tenant_wide: Route, per_connector: Route) -> None:
        if tenant_wide.path != "/{tenant}/mcp" or per_connector.path != "/{tenant}/connectors/{connector}/mcp":
            raise ValueError("DirectRoutes recognises /{tenant}/mcp and /{tenant}/connectors/{connector}/mcp only")
        self.app = app
        self.tenant_wide = tenant_wide
        self.per_connector = per_connector

    def match(self, scope: Scope) -> tuple[Route, dict[str, str]] | None:
        """The route an HTTP request is for and its path parameters, or None: the Starlette app decides.

        Exactly the requests the router would hand to one of the two routes with a full match
        (each parameter one non-empty path segment, a method the route allows).
        """
        parts = get_route_path(scope).split("/")
        if len(parts) == 3:
            if parts[0] or not parts[1] or parts[2] != "mcp":
                return None
            route, params = self.tenant_wide, {"tenant": parts[1]}
        elif len(parts) == 5:
            if parts[0] or not parts[1] or parts[2] != "connectors" or not parts[3] or parts[4] != "mcp":
                return None
            route, params = self.per_connector, {"tenant": parts[1], "connector": parts[3]}
        else:
            return None
        if route.methods is not None and scope["method"] not in route.methods:
            return None  # the router answers 405 (a partial match)
        return route, params

    async def serve(self, found: tuple[Route, dict[str, str]], scope: Scope, receive: Receive, send: Send) -> None:
        """Serve an HTTP request `match` found a route for."""
        route, params = found
        scope["app"] = self.app
        if "router" not in scope:
            scope["router"] = self.app.router
        scope["route"] = route
        path_params = dict(scope.get("path_params", {}))
        path_params.update(params)
        scope["endpoint"] = route.endpoint
        scope["path_params"] = path_params
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await route.app(scope, receive, sending)
        except HTTPException as exc:
            if started:
                raise RuntimeError("Caught handled exception, but response already started.") from exc
            if exc.status_code in (204, 304):
                await Response(status_code=exc.status_code, headers=exc.headers)(scope, receive, send)
            else:
                await PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)(
                    scope, receive, send
                )
        except Exception:
            if not started:
                await PlainTextResponse("Internal Server Error", status_code=500)(scope, receive, send)
            raise
