"""`/admin/tenants`: create, list, read, update and delete tenants."""

from __future__ import annotations

import base64
import binascii
import logging
import re

from sagemcp.platform import SLUG_PATTERN, CallLimits, Tenant

from ..db.store import Stamped
from . import params
from .auth import tenant_for
from .credentials import disconnect, revoke_upstream
from .errors import ApiError, refuse_duplicate_pins
from .routing import Context, Operation
from .schemas import CallLimitsOut, TenantCreate, TenantList, TenantListQuery, TenantOut, TenantUpdate

__all__ = ["OPERATIONS", "RESERVED_SLUGS"]

logger = logging.getLogger("sagemcp_server.api")

RESERVED_SLUGS = frozenset({"admin", "oauth", "api", "healthz", "readyz", "metrics", "static", "openapi"})
"""Slugs that would collide with the server's own routes under /api/v1."""


def tenant_out(ctx: Context, record: Stamped[Tenant]) -> TenantOut:
    t = record.item
    effective = t.limits.over(ctx.services.call_limit_defaults())
    return TenantOut(
        id=t.id,
        slug=t.slug,
        name=t.name,
        active=t.active,
        mcp_url=ctx.services.mcp_url(t.slug),
        limits=CallLimitsOut(**t.limits.model_dump()),
        effective_limits=CallLimitsOut(**effective.model_dump()),
        discovery=t.discovery,
        pinned_tools=list(t.pinned_tools),
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
    limits = CallLimits(**body.limits.model_dump()) if body.limits is not None else None
    record = await ctx.services.store.create_tenant(
        body.slug, body.name, body.active, limits=limits, discovery=body.discovery
    )
    ctx.services.tenant_changed(body.slug)
    logger.info("tenant created", extra={"tenant": body.slug})
    return tenant_out(ctx, record)


async def list_tenants(ctx: Context, query: TenantListQuery) -> TenantList:
    after = _decode(query.cursor) if query.cursor else None
    if ctx.is_platform_admin:
        page = await ctx.services.store.list_tenants(limit=query.limit, after=after, search=query.search)
    elif ctx.principal.kind == "user" and ctx.principal.user_id is not None:
        managed = await ctx.services.people.managed_tenant_ids(ctx.principal.user_id)
        page = await ctx.services.store.list_tenants(
            limit=query.limit, after=after, only_ids=managed, search=query.search
        )
    else:
        page = await ctx.services.store.list_tenants(
            limit=query.limit, after=after, only_id=ctx.principal.tenant_id, search=query.search
        )
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
    limits = body.limits.model_dump(include=body.limits.model_fields_set) if body.limits is not None else None
    if limits and not ctx.is_platform_admin:
        # A tenant's own key must not lift the limits the operator set for it.
        raise ApiError(403, "platform_admin_required", "Only the platform admin key can change a tenant's limits.")
    if body.pinned_tools is not None:
        await _check_pins(ctx, record.item, body.pinned_tools)
    updated = await ctx.services.store.update_tenant(
        record.item.id,
        name=body.name,
        active=body.active,
        limits=limits,
        discovery=body.discovery,
        pinned_tools=body.pinned_tools,
    )
    if updated is None:
        raise ApiError(404, "tenant_not_found", f"Tenant {record.item.slug!r} was deleted meanwhile.")
    ctx.services.tenant_changed(record.item.slug)
    return tenant_out(ctx, updated)


async def _check_pins(ctx: Context, tenant: Tenant, pins: list[str]) -> None:
    """Refuse pins naming no tool of the tenant's connectors, under either tenant-wide name a tool can have
    (its own, or prefixed with its connector's name when the type is there twice)."""
    known: set[str] = set()
    for cfg in await ctx.services.store.list_connectors(tenant.id):
        if cfg.connector_type not in ctx.services.registry:
            continue
        prefix = f"{cfg.name.replace('-', '_')}__"
        for name in ctx.services.registry.get(cfg.connector_type).tools:
            known.update((name, prefix + name))
    unknown = [p for p in pins if p not in known]
    if unknown:
        raise ApiError(
            422,
            "unknown_tool",
            f"Tenant {tenant.slug!r} has no tool {unknown[0]!r} to pin. Pin tools by their tenant-wide names "
            "(GET /api/v1/admin/tenants/{slug}/connectors/{connector}/tools lists a connector's tools).",
            [("pinned_tools", f"unknown tool {name!r}") for name in unknown],
        )
    refuse_duplicate_pins(pins)


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
        query=TenantListQuery,
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
