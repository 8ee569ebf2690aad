"""`/admin/tenants/{slug}/api-keys`: a tenant's API keys. The key itself is shown once, at creation.

A key never creates a key with more rights than its own: a tenant key may only give the
scopes it has itself (403 `scope_escalation`), and a key limited to a connector cannot have
the `admin` scope (422 `connector_limited_admin`; the admin API refuses such keys anyway).

Revoking a key takes effect at once on this process and within the cache TTL
(`SAGEMCP_CACHE_TTL`, 5 s by default) on other replicas.
"""

from __future__ import annotations

import logging

from sagemcp.platform import ApiKeyRecord

from . import params
from .auth import tenant_for
from .errors import ApiError
from .routing import Context, Operation
from .schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyList, ApiKeyOut

__all__ = ["OPERATIONS"]

logger = logging.getLogger("sagemcp_server.api")


def _out(record: ApiKeyRecord) -> ApiKeyOut:
    return ApiKeyOut(
        id=record.id,
        name=record.name,
        prefix=record.prefix,
        scopes=sorted(record.scopes),
        connector_id=record.connector_id,
        created_at=record.created_at,
        revoked=record.revoked,
        discovery=record.discovery,
    )


async def create_api_key(ctx: Context, body: ApiKeyCreate) -> ApiKeyCreated:
    tenant = (await tenant_for(ctx)).item
    scopes = set(body.scopes)
    if body.connector_id is not None and "admin" in scopes:
        raise ApiError(
            422,
            "connector_limited_admin",
            "A key limited to one connector cannot have the `admin` scope: managing the tenant reaches every "
            'connector. Create it with scopes ["mcp"], or without connector_id.',
            [("scopes", "`admin` is not allowed together with connector_id")],
        )
    # The caller is the platform admin or a tenant-wide admin key (`authenticate` refuses connector-limited
    # keys), so "at most its own rights" comes down to its scopes.
    if not ctx.is_platform_admin and not scopes <= ctx.principal.scopes:
        missing = ", ".join(f"`{s}`" for s in sorted(scopes - ctx.principal.scopes))
        raise ApiError(
            403,
            "scope_escalation",
            f"This key cannot create a key with a scope it lacks itself ({missing}); use a key that has it, "
            "or the platform admin key.",
        )
    connector_id = None
    if body.connector_id is not None:
        cfg = await ctx.services.store.get_connector(tenant.id, body.connector_id)
        if cfg is None:
            raise ApiError(
                422,
                "unknown_connector",
                f"Tenant {tenant.slug!r} has no connector {body.connector_id!r}.",
                [("connector_id", "not found")],
            )
        connector_id = cfg.id
    raw, record = await ctx.services.store.create_api_key(
        tenant.id, name=body.name, scopes=scopes, connector_id=connector_id, discovery=body.discovery
    )
    logger.info("API key created", extra={"tenant": tenant.slug, "key_id": record.id})
    return ApiKeyCreated(**_out(record).model_dump(), key=raw)


async def list_api_keys(ctx: Context) -> ApiKeyList:
    tenant = (await tenant_for(ctx)).item
    return ApiKeyList(items=[_out(r) for r in await ctx.services.store.list_api_keys(tenant.id)])


async def revoke_api_key(ctx: Context) -> None:
    tenant = (await tenant_for(ctx)).item
    if not await ctx.services.store.revoke_api_key(ctx.path["key_id"], tenant_id=tenant.id):
        raise ApiError(404, "api_key_not_found", f"Tenant {tenant.slug!r} has no API key {ctx.path['key_id']!r}.")
    ctx.services.keys_changed()
    logger.info("API key revoked", extra={"tenant": tenant.slug, "key_id": ctx.path["key_id"]})


_P = {"slug": params.SLUG}
_BASE = "/admin/tenants/{slug}/api-keys"

OPERATIONS = [
    Operation(
        "POST",
        _BASE,
        "createApiKey",
        "Create an API key (shown once)",
        "api-keys",
        create_api_key,
        ApiKeyCreated,
        201,
        body=ApiKeyCreate,
        params=_P,
    ),
    Operation(
        "GET",
        _BASE,
        "listApiKeys",
        "List a tenant's API keys (never the keys)",
        "api-keys",
        list_api_keys,
        ApiKeyList,
        params=_P,
    ),
    Operation(
        "DELETE",
        _BASE + "/{key_id}",
        "revokeApiKey",
        "Revoke an API key (effective at once)",
        "api-keys",
        revoke_api_key,
        None,
        204,
        params={"slug": params.SLUG, "key_id": params.KEY_ID},
    ),
]
