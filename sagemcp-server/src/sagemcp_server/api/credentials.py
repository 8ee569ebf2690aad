"""`/admin/tenants/{slug}/credentials[/{provider}]`: the tenant's upstream credentials.

PUT stores a token (PAT, bot token, API token; encrypted at rest); GET returns metadata
only, never a token; DELETE disconnects, revoking the token at the provider first where
the provider supports revocation. `{provider}` is a provider (`slack`) or a linked
credential of one (`slack:user`: the user token Slack's search tools use); deleting a
provider's credential also revokes and deletes its linked credentials.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from sagemcp.connector import Connector
from sagemcp.models import Credential, CredentialStatus, Tenant, base_provider

from ..db.store import Stamped
from . import params
from .auth import tenant_for
from .errors import ApiError
from .providers import classes_for_provider
from .routing import Context, Operation
from .schemas import CredentialList, CredentialOut, CredentialPut

__all__ = ["OPERATIONS", "credential_status", "disconnect"]

logger = logging.getLogger("sagemcp_server.api")


def credential_status(cred: Credential) -> str:
    if cred.status == CredentialStatus.RECONNECT_REQUIRED:
        return "reconnect_required"
    if cred.expires_within(0) and cred.refresh_token is None:
        return "expired"
    return "active"


def _out(record: Stamped[Credential]) -> CredentialOut:
    cred = record.item
    expires = datetime.fromtimestamp(cred.expires_at, UTC) if cred.expires_at is not None else None
    return CredentialOut(
        provider=cred.provider,
        kind=cred.kind,
        account=cred.account,
        scopes=cred.scopes,
        expires_at=expires,
        status=credential_status(cred),  # type: ignore[arg-type]
        has_refresh_token=cred.refresh_token is not None,
        extra=cred.extra,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def _token_kinds(classes: list[type[Connector]]) -> list[str]:
    kinds: list[str] = []
    for cls in classes:
        for scheme in cls.auth:
            if scheme.kind not in ("none", "oauth2") and scheme.kind not in kinds:
                kinds.append(scheme.kind)
    return kinds


def _linked_names(classes: list[type[Connector]]) -> set[str]:
    """Linked credential names the connectors use: tools' `token` and their OAuth scheme's linked tokens."""
    names = {spec.token for cls in classes for spec in cls.tools.values() if spec.token}
    for cls in classes:
        scheme = cls.oauth2()
        if scheme is not None:
            names.update(linked.name for linked in scheme.linked_tokens)
    return names


async def put_credential(ctx: Context, body: CredentialPut) -> CredentialOut:
    tenant = (await tenant_for(ctx)).item
    provider = ctx.path["provider"]
    classes = await classes_for_provider(ctx, tenant, base_provider(provider))
    _, _, linked = provider.partition(":")
    known = _linked_names(classes)
    if linked and linked not in known:
        used = ", ".join(sorted(known)) or "none"
        raise ApiError(
            422,
            "unknown_linked_credential",
            f"No {base_provider(provider)} connector uses a linked {linked!r} credential (linked credentials: {used}).",
            [("provider", "unknown linked credential")],
        )
    kinds = _token_kinds(classes)
    kind = body.kind or (kinds[0] if kinds else None)
    if kind is None or kind not in kinds:
        accepted = ", ".join(kinds) or "none (use the OAuth flow)"
        raise ApiError(
            422,
            "unsupported_credential_kind",
            f"{provider} connectors accept these token kinds: {accepted}.",
            [("kind", "not accepted")],
        )
    expires_at = body.expires_at.timestamp() if body.expires_at is not None else None
    if expires_at is not None and expires_at <= time.time():
        raise ApiError(422, "expired_token", "expires_at is in the past.", [("expires_at", "in the past")])
    cred = Credential(
        tenant_id=tenant.id,
        provider=provider,
        kind=kind,
        access_token=body.token,
        account=body.account,
        scopes=list(body.scopes),
        expires_at=expires_at,
        extra=body.extra,
    )
    await ctx.services.store.put_credential(cred)
    ctx.services.credential_changed(tenant.slug, tenant.id, provider)
    logger.info("credential stored", extra={"tenant": tenant.slug, "provider": provider, "kind": kind})
    record = await ctx.services.store.get_credential_record(tenant.id, provider)
    if record is None:
        raise ApiError(404, "credential_not_found", f"The {provider} credential was removed meanwhile.")
    return _out(record)


async def get_credential(ctx: Context) -> CredentialOut:
    tenant = (await tenant_for(ctx)).item
    record = await ctx.services.store.get_credential_record(tenant.id, ctx.path["provider"])
    if record is None:
        raise ApiError(404, "credential_not_found", f"Tenant {tenant.slug!r} has no {ctx.path['provider']} credential.")
    return _out(record)


async def list_credentials(ctx: Context) -> CredentialList:
    tenant = (await tenant_for(ctx)).item
    return CredentialList(items=[_out(r) for r in await ctx.services.store.list_credential_records(tenant.id)])


async def delete_credential(ctx: Context) -> None:
    tenant = (await tenant_for(ctx)).item
    provider = ctx.path["provider"]
    cred = await ctx.services.store.get_credential(tenant.id, provider)
    if cred is None:
        raise ApiError(404, "credential_not_found", f"Tenant {tenant.slug!r} has no {provider} credential.")
    doomed = [cred]
    if ":" not in provider:
        linked = await ctx.services.store.list_credentials(tenant.id)
        doomed += [c for c in linked if c.provider.startswith(f"{provider}:")]
    for credential in doomed:
        await disconnect(ctx, tenant, credential)


async def disconnect(ctx: Context, tenant: Tenant, credential: Credential) -> None:
    """Revoke one credential at its provider (best effort, OAuth credentials only), then delete it."""
    services = ctx.services
    provider = credential.provider
    classes = [c for c in services.providers().get(base_provider(provider), []) if c.oauth2() is not None]
    if classes and credential.kind == "oauth2":
        try:
            revoked = await services.credentials.revoke(tenant.id, provider, classes[0])
        except Exception as exc:  # best effort: the credential is removed anyway
            logger.warning("revoking the %s token failed: %s", provider, type(exc).__name__)
            revoked = False
        logger.info("upstream token %s", "revoked" if revoked else "not revoked", extra={"provider": provider})
    await services.store.delete_credential(tenant.id, provider)
    services.credential_changed(tenant.slug, tenant.id, provider)


_P = {"slug": params.SLUG, "provider": params.CREDENTIAL_KEY}
_LIST = "/admin/tenants/{slug}/credentials"
_PATH = _LIST + "/{provider}"

OPERATIONS = [
    Operation(
        "GET",
        _LIST,
        "listCredentials",
        "List the tenant's credentials, linked ones included (metadata only, never tokens)",
        "credentials",
        list_credentials,
        CredentialList,
        params={"slug": params.SLUG},
    ),
    Operation(
        "PUT",
        _PATH,
        "putCredential",
        "Store a token-type credential (PAT, bot token, API token)",
        "credentials",
        put_credential,
        CredentialOut,
        body=CredentialPut,
        params=_P,
    ),
    Operation(
        "GET",
        _PATH,
        "getCredential",
        "Read a credential's metadata (never the token)",
        "credentials",
        get_credential,
        CredentialOut,
        params=_P,
    ),
    Operation(
        "DELETE",
        _PATH,
        "deleteCredential",
        "Disconnect: revoke at the provider where supported, then delete",
        "credentials",
        delete_credential,
        None,
        204,
        params=_P,
    ),
]
