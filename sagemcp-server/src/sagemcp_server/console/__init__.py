"""The web console at `/console`: server-rendered pages for platform admins, tenant admins and members.

`console_routes()` gives the routes to mount in the server app, `ConsoleHeadersMiddleware`
(`_headers`) the headers every console response carries. Pages are plain HTML forms that
work without JavaScript; the vendored htmx (`static/`) only enhances them.
"""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from ._headers import ConsoleHeadersMiddleware

__all__ = ["ConsoleHeadersMiddleware", "console_routes"]

_STATIC = Path(__file__).parent / "static"


def console_routes() -> list[BaseRoute]:
    """Every console page's routes and the static files, under `/console`."""
    from . import (
        audit,
        connections,
        connector_types,
        connectors,
        credentials,
        dashboard,
        keys,
        members,
        oauth_apps,
        playground,
        tenants,
    )

    modules = [dashboard, tenants, connector_types, connectors, oauth_apps, credentials, members, keys]
    modules += [connections, playground, audit]
    routes: list[BaseRoute] = []
    for module in modules:
        routes.extend(module.routes)
    routes.append(Mount("/console/static", app=StaticFiles(directory=_STATIC), name="console.static"))
    routes.append(dashboard.unknown_route)  # last: a console-styled 404 for any other path under /console
    return routes
