"""`/admin/tenants`: create, list, read, update and delete tenants."""

from __future__ import annotations

import base64
import binascii
import logging
import re

from sagemcp.platform import SLUG_PATTERN, Tenant

from ..db.store import Stamped
from . import params
from .auth import tenant_for
from .credentials import disconnect, revoke_upstream
from .errors import ApiError
from .routing import Context, Operation
from .schemas import ListQuery, TenantCreate, TenantList, TenantOut, TenantUpdate

__all__ = ["OPERATIONS", "RESERVED_SLUGS"]

logger = logging.getLogger("sagemcp_server.api")

RESERVED_SLUGS = frozenset({"admin", "oauth", "api", "healthz", "readyz", "metrics", "static", "openapi"})
"""Slugs that would collide with the server's own routes under /api/v1."""


def tenant_out(ctx: Context, record: Stamped[Tenant]) -> TenantOut:
    t = record.item
    return TenantOut(
        id=t.id,
        slug=t.slug,
        name=t.name,
        active=t.active,
        mcp_url=ctx.services.mcp_url(t.slug),
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def _encode(slug: str) -> str:
    return base64.urlsafe_b64encode(slug.encode()).rstrip(b"=").decode()


def _decode(cursor: str) -> str:
    try:
        slug = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode("utf-8")
        if not re.match(SLUG_PATTERN, slug):
            raise ValueError(slug)
        return slug
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiError(
            422, "invalid_cursor", "The cursor is not one this API returned.", [("cursor", "invalid")]
        ) from None


async def create_tenant(ctx: Context, body: TenantCreate) -> TenantOut:
    if body.slug in RESERVED_SLUGS:
        raise ApiError(
            422, "reserved_slug", f"The slug {body.slug!r} is reserved; choose another.", [("slug", "reserved")]
        )
    record = await ctx.services.store.create_tenant(body.slug, body.name, body.active)
    ctx.services.tenant_changed(body.slug)
    logger.info("tenant created", extra={"tenant": body.slug})
    return tenant_out(ctx, record)


async def list_tenants(ctx: Context, query: ListQuery) -> TenantList:
    after = _decode(query.cursor) if query.cursor else None
    if ctx.is_platform_admin:
        page = await ctx.services.store.list_tenants(limit=query.limit, after=after)
    elif ctx.principal.kind == "user" and ctx.principal.user_id is not None:
        managed = await ctx.services.people.managed_tenant_ids(ctx.principal.user_id)
        page = await ctx.services.store.list_tenants(limit=query.limit, after=after, only_ids=managed)
    else:
        page = await ctx.services.store.list_tenants(limit=query.limit, after=after, only_id=ctx.principal.tenant_id)
    return TenantList(
        items=[tenant_out(ctx, r) for r in page.items],
        next_cursor=_encode(page.next_cursor) if page.next_cursor else None,
    )


async def get_tenant(ctx: Context) -> TenantOut:
    return tenant_out(ctx, await tenant_for(ctx))


async def update_tenant(ctx: Context, body: TenantUpdate) -> TenantOut:
    record = await tenant_for(ctx)
    if body.active is not None and body.active != record.item.active and not ctx.is_platform_admin:
        raise ApiError(
            403, "platform_admin_required", "Only the platform admin key can activate or deactivate a tenant."
        )
    updated = await ctx.services.store.update_tenant(record.item.id, name=body.name, active=body.active)
    if updated is None:
        raise ApiError(404, "tenant_not_found", f"Tenant {record.item.slug!r} was deleted meanwhile.")
    ctx.services.tenant_changed(record.item.slug)
    return tenant_out(ctx, updated)


async def delete_tenant(ctx: Context) -> None:
    record = await tenant_for(ctx)
    tenant = record.item
    services = ctx.services
    # Revoke upstream tokens first, while the credentials and OAuth apps still exist.
    for credential in await services.store.list_credentials(tenant.id):
        await disconnect(ctx, tenant, credential)
    for found in await services.store.list_member_credentials(tenant.id):
        await revoke_upstream(services, tenant, found.record.item)  # the rows go with the tenant
    await services.store.delete_tenant(tenant.id)
    services.tenant_changed(tenant.slug)
    services.keys_changed()
    logger.info("tenant deleted", extra={"tenant": tenant.slug})


OPERATIONS = [
    Operation(
        "POST",
        "/admin/tenants",
        "createTenant",
        "Create a tenant",
        "tenants",
        create_tenant,
        TenantOut,
        201,
        body=TenantCreate,
        access="platform",
    ),
    Operation(
        "GET",
        "/admin/tenants",
        "listTenants",
        "List tenants (a tenant key sees its own)",
        "tenants",
        list_tenants,
        TenantList,
        query=ListQuery,
    ),
    Operation(
        "GET",
        "/admin/tenants/{slug}",
        "getTenant",
        "Read a tenant",
        "tenants",
        get_tenant,
        TenantOut,
        params={"slug": params.SLUG},
    ),
    Operation(
        "PATCH",
        "/admin/tenants/{slug}",
        "updateTenant",
        "Rename, activate or deactivate a tenant",
        "tenants",
        update_tenant,
        TenantOut,
        body=TenantUpdate,
        params={"slug": params.SLUG},
    ),
    Operation(
        "DELETE",
        "/admin/tenants/{slug}",
        "deleteTenant",
        "Delete a tenant, everything it owns, and revoke its upstream tokens",
        "tenants",
        delete_tenant,
        None,
        204,
        params={"slug": params.SLUG},
        access="platform",
    ),
]
