"""Platform admins' tenant pages: list (search, pages), create, deactivate or activate, delete.

Every change goes through the admin API's tenant functions (`api.tenants`), so the slug rules,
reserved slugs, the platform-admin check and the upstream revocation on delete are theirs. The
delete confirmation names what will be lost (`SqlStore.tenant_footprint` and the members) and
asks for the slug to be typed.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from sagemcp.platform import Tenant

from ..api import tenants as api
from ..api.auth import tenant_for
from ..api.errors import from_exception, validation_details
from ..api.schemas import TenantCreate, TenantListQuery, TenantUpdate
from ..db.store import TenantFootprint
from ._shell import (
    ConsoleUser,
    FieldErrors,
    api_context,
    details_to_errors,
    forbidden,
    form,
    go,
    nav,
    page,
    route,
    services_of,
)

__all__ = ["Footprint", "footprint", "routes"]

PAGE_SIZE = 25


@dataclass(frozen=True)
class Footprint:
    """What deleting a tenant removes."""

    store: TenantFootprint
    members: int
    invitations: int

    def lines(self) -> list[tuple[str, int]]:
        return [
            ("connectors", self.store.connectors),
            ("credentials, shared and per member", self.store.credentials),
            ("API keys", self.store.api_keys),
            ("OAuth apps", self.store.oauth_apps),
            ("members", self.members),
            ("pending invitations", self.invitations),
            ("audit events", self.store.audit_events),
        ]


async def footprint(request: Request, tenant: Tenant) -> Footprint:
    services = services_of(request)
    pending = [i for i in await services.people.list_invitations(tenant.id) if i.status() == "pending"]
    return Footprint(
        await services.store.tenant_footprint(tenant.id),
        len(await services.people.list_members(tenant.id)),
        len(pending),
    )


async def _list(
    request: Request,
    user: ConsoleUser,
    values: dict[str, str] | None = None,
    errors: FieldErrors | None = None,
    status: int = 200,
) -> Response:
    search = request.query_params.get("search", "").strip()[:100]
    cursor = request.query_params.get("cursor") or None
    try:
        query = TenantListQuery(limit=PAGE_SIZE, cursor=cursor, search=search or None)
    except ValidationError:
        query = TenantListQuery(limit=PAGE_SIZE)
    listing = await api.list_tenants(api_context(request, user), query)
    return page(
        request,
        user,
        "console/tenants.html",
        status=status,
        title="Tenants",
        tenants=listing.items,
        next_cursor=listing.next_cursor,
        search=search,
        paged=cursor is not None,
        values=values or {},
        errors=errors or {},
    )


async def list_page(request: Request, user: ConsoleUser) -> Response:
    if not user.platform_admin:
        return forbidden(request, user, "Only platform admins manage tenants.")
    return await _list(request, user)


async def create(request: Request, user: ConsoleUser) -> Response:
    if not user.platform_admin:
        return forbidden(request, user, "Only platform admins create tenants.")
    fields = await form(request)
    data = {"slug": fields.get("slug", "").strip(), "name": fields.get("name", "").strip()}
    try:
        body = TenantCreate.model_validate(data)
        out = await api.create_tenant(api_context(request, user), body)
    except ValidationError as exc:
        return await _list(request, user, fields, details_to_errors(validation_details(exc)), 422)
    except Exception as exc:  # a reserved slug (ApiError) or one taken already (the store's Duplicate)
        error = from_exception(exc)
        if error.status in (403, 404, 500, 503):
            raise
        errors = details_to_errors(error.details)
        if not errors:
            errors = {"slug": error.message} if error.status == 409 else {"_form": error.message}
        return await _list(request, user, fields, errors, error.status)
    return go(f"/console/t/{out.slug}", f"Tenant {out.slug} created.")


async def set_active(request: Request, user: ConsoleUser) -> Response:
    fields = await form(request)
    slug = str(request.path_params["slug"])[:63]
    active = fields.get("active") == "true"
    out = await api.update_tenant(api_context(request, user, slug=slug), TenantUpdate(active=active))
    return go("/console/tenants", f"Tenant {out.slug} {'activated' if active else 'deactivated'}.")


async def delete_page(request: Request, user: ConsoleUser) -> Response:
    if not user.platform_admin:
        return forbidden(request, user, "Only platform admins delete tenants.")
    tenant = (await tenant_for(api_context(request, user, slug=str(request.path_params["slug"])[:63]))).item
    return page(
        request,
        user,
        "console/tenant_delete.html",
        title=f"Delete {tenant.slug}",
        tenant=tenant,
        lost=(await footprint(request, tenant)).lines(),
        errors={},
    )


async def delete(request: Request, user: ConsoleUser) -> Response:
    if not user.platform_admin:
        return forbidden(request, user, "Only platform admins delete tenants.")
    fields = await form(request)
    ctx = api_context(request, user, slug=str(request.path_params["slug"])[:63])
    tenant = (await tenant_for(ctx)).item
    if fields.get("confirm", "").strip() != tenant.slug:
        return page(
            request,
            user,
            "console/tenant_delete.html",
            status=422,
            title=f"Delete {tenant.slug}",
            tenant=tenant,
            lost=(await footprint(request, tenant)).lines(),
            errors={"confirm": f"Type {tenant.slug} to confirm the deletion."},
        )
    await api.delete_tenant(ctx)
    return go("/console/tenants", f"Tenant {tenant.slug} and everything it owned were deleted.")


nav("Tenants", "/console/tenants", "platform", order=10)

routes: list[BaseRoute] = [
    route("/tenants", list_page, ["GET"]),
    route("/tenants", create, ["POST"]),
    route("/tenants/{slug}/active", set_active, ["POST"]),
    route("/tenants/{slug}/delete", delete_page, ["GET"]),
    route("/tenants/{slug}/delete", delete, ["POST"]),
]
