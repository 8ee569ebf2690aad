"""OpenID Connect sign-in providers: platform-wide at `/admin/oidc-providers` (platform admins), per tenant at
`/admin/tenants/{slug}/oidc-providers` (that tenant's admins).

A provider's name is unique on the platform, since it is part of the redirect URI to register
with the provider (`{public URL}/signin/oidc/{name}/callback`). Client secrets are write-only.
The issuer URL must be https on a public address (the server fetches its discovery document,
keys and tokens), under the same rules as connectors' upstream URLs (`SAGEMCP_UPSTREAM_ALLOW`).

What a tenant's provider may do (see `web.oidc`): with `match_by=email` it signs in the user
whose e-mail equals a verified e-mail claim only if that user is a member of the tenant, and
creates an account (as a `member` of the tenant) for a verified e-mail no user has; with
`match_by=subject` only accounts linked before sign in. Platform providers sign in existing
users (by verified e-mail or link) and never create accounts without an invitation.
"""

from __future__ import annotations

import logging
from typing import Literal

from sagemcp import validate_api_url

from ..db.people import OidcProvider
from . import params
from .auth import tenant_for
from .errors import ApiError
from .people_schemas import OidcProviderCreate, OidcProviderList, OidcProviderOut, OidcProviderUpdate
from .routing import Context, Operation, PathParam

__all__ = ["OPERATIONS", "check_issuer", "provider_out"]

logger = logging.getLogger("sagemcp_server.api")


def check_issuer(value: str) -> str:
    """The issuer as given (it must equal the ID tokens' `iss` exactly), once it passed the upstream URL rules."""
    issuer = value.strip()
    try:
        validate_api_url(issuer, example="https://login.example.com/realms/acme", field="issuer")
    except ValueError as exc:
        raise ApiError(
            422, "invalid_issuer", f"The issuer URL is not accepted: {exc}.", [("issuer", str(exc))]
        ) from None
    return issuer


async def provider_out(ctx: Context, provider: OidcProvider) -> OidcProviderOut:
    slug = None
    if provider.tenant_id is not None:
        tenant = await ctx.services.store.get_tenant_by_id(provider.tenant_id)
        slug = tenant.slug if tenant is not None else None
    return OidcProviderOut(
        name=provider.name,
        display_name=provider.display_name,
        tenant=slug,
        issuer=provider.issuer,
        client_id=provider.client_id,
        has_client_secret=provider.client_secret is not None,
        scopes=provider.scopes,
        match_by=provider.match_by,
        redirect_uri=f"{ctx.services.public_url}/signin/oidc/{provider.name}/callback",
        created_at=provider.created_at,
        updated_at=provider.updated_at,
    )


def _scopes(scopes: list[str]) -> list[str]:
    wanted = list(dict.fromkeys(scopes))
    if "openid" not in wanted:
        wanted.insert(0, "openid")
    return wanted


async def _owner(ctx: Context) -> str | None:
    """The tenant id the path names (checked like every tenant route), or None on the platform routes."""
    if "slug" in ctx.path:
        return (await tenant_for(ctx)).item.id
    return None


async def _found(ctx: Context) -> OidcProvider:
    owner = await _owner(ctx)
    provider = await ctx.services.people.get_oidc_provider(ctx.path["name"])
    if provider is None or provider.tenant_id != owner:
        where = f"tenant {ctx.path['slug']!r}" if "slug" in ctx.path else "the platform"
        raise ApiError(404, "oidc_provider_not_found", f"{where} has no sign-in provider {ctx.path['name']!r}.")
    return provider


async def create_provider(ctx: Context, body: OidcProviderCreate) -> OidcProviderOut:
    owner = await _owner(ctx)
    provider = await ctx.services.people.create_oidc_provider(
        tenant_id=owner,
        name=body.name,
        display_name=body.display_name,
        issuer=check_issuer(body.issuer),
        client_id=body.client_id,
        client_secret=body.client_secret.get_secret_value() if body.client_secret is not None else None,
        scopes=_scopes(body.scopes),
        match_by=body.match_by,
    )
    logger.info("sign-in provider created", extra={"provider": provider.name})
    return await provider_out(ctx, provider)


async def list_providers(ctx: Context) -> OidcProviderList:
    owner = await _owner(ctx)
    found = await ctx.services.people.list_oidc_providers(owner)
    return OidcProviderList(items=[await provider_out(ctx, p) for p in found])


async def get_provider(ctx: Context) -> OidcProviderOut:
    return await provider_out(ctx, await _found(ctx))


async def update_provider(ctx: Context, body: OidcProviderUpdate) -> OidcProviderOut:
    current = await _found(ctx)
    secret: str | Literal[False] | None = False
    if "client_secret" in body.model_fields_set:
        secret = body.client_secret.get_secret_value() if body.client_secret is not None else None
    updated = await ctx.services.people.update_oidc_provider(
        current.id,
        client_secret=secret,
        display_name=body.display_name,
        issuer=check_issuer(body.issuer) if body.issuer is not None else None,
        client_id=body.client_id,
        scopes=_scopes(body.scopes) if body.scopes is not None else None,
        match_by=body.match_by,
    )
    if updated is None:
        raise ApiError(404, "oidc_provider_not_found", f"The sign-in provider {current.name!r} was deleted meanwhile.")
    return await provider_out(ctx, updated)


async def delete_provider(ctx: Context) -> None:
    current = await _found(ctx)
    await ctx.services.people.delete_oidc_provider(current.id)
    logger.info("sign-in provider deleted", extra={"provider": current.name})


_PLATFORM = "/admin/oidc-providers"
_TENANT = "/admin/tenants/{slug}/oidc-providers"
_ONE = {"name": params.OIDC_PROVIDER}
_T_ONE = {"slug": params.SLUG, "name": params.OIDC_PROVIDER}


def _operations(
    base: str, prefix: str, where: str, one: dict[str, PathParam], access: Literal["admin", "platform"]
) -> list[Operation]:
    coll = {k: v for k, v in one.items() if k != "name"}
    return [
        Operation(
            "POST",
            base,
            f"create{prefix}OidcProvider",
            f"Add an OpenID Connect sign-in provider {where}",
            "oidc-providers",
            create_provider,
            OidcProviderOut,
            201,
            body=OidcProviderCreate,
            params=coll,
            access=access,
        ),
        Operation(
            "GET",
            base,
            f"list{prefix}OidcProviders",
            f"List the sign-in providers {where}",
            "oidc-providers",
            list_providers,
            OidcProviderList,
            params=coll,
            access=access,
        ),
        Operation(
            "GET",
            base + "/{name}",
            f"get{prefix}OidcProvider",
            f"Read a sign-in provider {where}",
            "oidc-providers",
            get_provider,
            OidcProviderOut,
            params=one,
            access=access,
        ),
        Operation(
            "PATCH",
            base + "/{name}",
            f"update{prefix}OidcProvider",
            f"Change a sign-in provider {where}",
            "oidc-providers",
            update_provider,
            OidcProviderOut,
            body=OidcProviderUpdate,
            params=one,
            access=access,
        ),
        Operation(
            "DELETE",
            base + "/{name}",
            f"delete{prefix}OidcProvider",
            f"Remove a sign-in provider {where}",
            "oidc-providers",
            delete_provider,
            None,
            204,
            params=one,
            access=access,
        ),
    ]


OPERATIONS = [
    *_operations(_PLATFORM, "Platform", "for the whole platform", _ONE, access="platform"),
    *_operations(_TENANT, "Tenant", "for a tenant", _T_ONE, access="admin"),
]
