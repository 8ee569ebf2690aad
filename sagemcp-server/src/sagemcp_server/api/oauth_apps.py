"""`/admin/tenants/{slug}/oauth-apps/{provider}`: a tenant's OAuth client registration with a provider.

The client secret is write-only: it is encrypted at rest and never returned.
"""

from __future__ import annotations

from sagemcp.platform import OAuthApp

from ..db.store import Stamped
from . import params
from .auth import tenant_for
from .errors import ApiError
from .providers import classes_for_provider
from .routing import Context, Operation
from .schemas import OAuthAppOut, OAuthAppPut

__all__ = ["OPERATIONS"]


def _out(ctx: Context, record: Stamped[OAuthApp]) -> OAuthAppOut:
    app = record.item
    return OAuthAppOut(
        provider=app.provider,
        client_id=app.client_id,
        has_client_secret=app.client_secret is not None,
        extra=app.extra,
        redirect_uri=ctx.services.redirect_uri(app.provider),
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


async def put_oauth_app(ctx: Context, body: OAuthAppPut) -> OAuthAppOut:
    tenant = (await tenant_for(ctx)).item
    provider = ctx.path["provider"]
    classes = await classes_for_provider(ctx, tenant, provider)
    if not any(cls.oauth2() is not None for cls in classes):
        raise ApiError(
            422,
            "oauth_not_supported",
            f"No installed {provider} connector uses OAuth.",
            [("provider", "no OAuth scheme")],
        )
    secret = body.client_secret
    if "client_secret" not in body.model_fields_set:
        existing = await ctx.services.store.get_oauth_app(tenant.id, provider)
        secret = existing.client_secret if existing is not None else None
    app = OAuthApp(
        tenant_id=tenant.id, provider=provider, client_id=body.client_id, client_secret=secret, extra=body.extra
    )
    record = await ctx.services.store.put_oauth_app(app)
    return _out(ctx, record)


async def get_oauth_app(ctx: Context) -> OAuthAppOut:
    tenant = (await tenant_for(ctx)).item
    record = await ctx.services.store.get_oauth_app_record(tenant.id, ctx.path["provider"])
    if record is None:
        raise ApiError(404, "oauth_app_not_found", f"Tenant {tenant.slug!r} has no {ctx.path['provider']} OAuth app.")
    return _out(ctx, record)


async def delete_oauth_app(ctx: Context) -> None:
    tenant = (await tenant_for(ctx)).item
    if not await ctx.services.store.delete_oauth_app(tenant.id, ctx.path["provider"]):
        raise ApiError(404, "oauth_app_not_found", f"Tenant {tenant.slug!r} has no {ctx.path['provider']} OAuth app.")


_P = {"slug": params.SLUG, "provider": params.PROVIDER}
_PATH = "/admin/tenants/{slug}/oauth-apps/{provider}"

OPERATIONS = [
    Operation(
        "PUT",
        _PATH,
        "putOAuthApp",
        "Set the tenant's OAuth client for a provider (the secret is write-only)",
        "oauth-apps",
        put_oauth_app,
        OAuthAppOut,
        body=OAuthAppPut,
        params=_P,
    ),
    Operation(
        "GET",
        _PATH,
        "getOAuthApp",
        "Read the tenant's OAuth client for a provider (never the secret)",
        "oauth-apps",
        get_oauth_app,
        OAuthAppOut,
        params=_P,
    ),
    Operation(
        "DELETE",
        _PATH,
        "deleteOAuthApp",
        "Remove the tenant's OAuth client for a provider",
        "oauth-apps",
        delete_oauth_app,
        None,
        204,
        params=_P,
    ),
]
