"""The console's home: health at a glance, and each tenant's own overview page.

Health: readiness (the same check as `/readyz`), the database, connector types that failed
to load (platform admins), and the shared credentials that need reconnecting in the tenants
the person manages, plus their own connections that do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from sagemcp.platform import SLUG_PATTERN

from ..api.credentials import credential_status, renews_itself
from ..health import readiness
from ._shell import ConsoleUser, go, nav, not_found, page, route, services_of, tenant_page

__all__ = ["routes", "unknown_route"]

_MAX_TENANTS = 200
"""Tenants whose credentials the dashboard checks (a platform admin's first ones by slug)."""


@dataclass(frozen=True)
class NeedsReconnect:
    tenant: str
    provider: str
    status: str
    expires_at: datetime | None
    own: bool
    """The person's own connection (per-user connector), not the tenant's shared credential."""


async def _needing_reconnect(request: Request, user: ConsoleUser) -> list[NeedsReconnect]:
    services = services_of(request)
    found: list[NeedsReconnect] = []
    if user.platform_admin:
        page_ = await services.store.list_tenants(limit=_MAX_TENANTS)
        tenants = [r.item for r in page_.items]
    else:
        tenants = [t for t, role in await services.people.memberships_of(user.user.id) if role in ("owner", "admin")]
    for tenant in tenants:
        for record in await services.store.list_credential_records(tenant.id):
            cred = record.item
            status = credential_status(cred, renews_itself(services, cred))
            if status != "active":
                found.append(NeedsReconnect(tenant.slug, cred.provider, status, _when(cred.expires_at), False))
    slugs = {t.id: t.slug for t, _ in await services.people.memberships_of(user.user.id)}
    for record in await services.store.list_user_credentials(None, user.user.id):
        cred = record.item
        status = credential_status(cred, renews_itself(services, cred))
        if status != "active" and cred.tenant_id in slugs:
            found.append(NeedsReconnect(slugs[cred.tenant_id], cred.provider, status, _when(cred.expires_at), True))
    return found


def _when(timestamp: float | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, UTC) if timestamp is not None else None


async def dashboard(request: Request, user: ConsoleUser) -> Response:
    services = services_of(request)
    state = await readiness(services)
    failures = list(services.registry.failures)
    reconnect = await _needing_reconnect(request, user) if state.ready else []
    memberships = await services.people.memberships_of(user.user.id)
    return page(
        request,
        user,
        "console/dashboard.html",
        title="Dashboard",
        ready=state,
        database=services.engine.dialect.name,
        failures=failures,
        connector_types=len(list(services.registry)),
        reconnect=reconnect,
        memberships=memberships,
    )


async def open_tenant(request: Request, user: ConsoleUser) -> Response:
    """The tenant chooser's target: `/console/t?slug=acme` goes to that tenant's overview."""
    slug = request.query_params.get("slug", "").strip().lower()
    if not re.match(SLUG_PATTERN, slug) or not user.is_member(slug):
        return not_found(request, user, f"Tenant {slug[:63]!r} not found.")
    return go(f"/console/t/{slug}")


async def tenant_home(request: Request, user: ConsoleUser) -> Response:
    record = await tenant_page(request, user, admin=False)
    tenant = record.item
    services = services_of(request)
    role = "platform admin" if user.platform_admin and tenant.slug not in user.roles else user.roles[tenant.slug]
    connectors = await services.store.list_connectors(tenant.id)
    return page(
        request,
        user,
        "console/tenant_home.html",
        title=tenant.name or tenant.slug,
        tenant=tenant,
        role=role,
        connectors=connectors,
        mcp_url=services.mcp_url(tenant.slug),
        may_admin=user.may_admin(tenant.slug),
    )


async def unknown(request: Request, user: ConsoleUser) -> Response:
    return not_found(request, user)


nav("Dashboard", "/console/", "signed_in", order=0)
nav("Overview", "/console/t/{slug}", "tenant_member", order=0)

unknown_route = route("/{rest:path}", unknown, ["GET", "POST"])
"""Mounted after every other console route by `console_routes`."""

routes: list[BaseRoute] = [
    route("/", dashboard, ["GET"]),
    route("/t", open_tenant, ["GET"]),
    route("/t/{slug}", tenant_home, ["GET"]),
]
