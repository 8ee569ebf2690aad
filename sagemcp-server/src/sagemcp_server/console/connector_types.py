"""Platform admins' view of the installed connector types and the ones that failed to load.

The listing is the admin API's `list_connector_types` (the same `ConnectorTypesOut`), so the
groups, tools, auth schemes and load failures shown are what the API reports.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from ..api.connector_types import list_connector_types
from ._shell import ConsoleUser, api_context, forbidden, nav, page, route

__all__ = ["routes"]


async def types_page(request: Request, user: ConsoleUser) -> Response:
    if not user.platform_admin:
        return forbidden(request, user, "Only platform admins see the installed connector types.")
    listing = await list_connector_types(api_context(request, user))
    return page(
        request,
        user,
        "console/connector_types.html",
        title="Connector types",
        types=listing.items,
        failures=listing.failures,
    )


nav("Connector types", "/console/connector-types", "platform", order=20)

routes: list[BaseRoute] = [route("/connector-types", types_page, ["GET"])]
