"""`/admin/tenants/{slug}/credentials[/{provider}]`: the tenant's upstream credentials.

PUT stores a credential of one of the connector's auth schemes from its fields,
`{"kind": "github_app", "fields": {"app_id": ..., "installation_id": ..., "private_key": ...}}`,
validated against the scheme's fields model (422 naming each bad field, never echoing a
value); secret fields are encrypted at rest and never returned. The older body shape
`{"token": ..., "account": ..., "scopes": ..., "expires_at": ...}` still stores a bearer,
API-key or Basic credential. Schemes that make their own tokens (client credentials,
JWT bearer, GitHub App) are stored without one and get it on first use. GET returns
metadata only (secret names, never values); DELETE disconnects, revoking the token at
the provider first where the provider supports revocation. `{provider}` is a provider
(`slack`) or a linked credential of one (`slack:user`: the user token Slack's search
tools use); deleting a provider's credential also revokes and deletes its linked credentials.

A stored credential is bound to the upstream origins of the tenant's connectors that use
it, as configured at that moment (`bind_credential`); it is sent to no other origin, so a
key that can change a connector's host cannot make the next tool call carry the token
there. After a host change the credential is stored again, or the platform admin rebinds it
to the connectors' current origins (`POST .../credentials/{provider}/rebind`).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from sagemcp import (
    ApiKey,
    AuthScheme,
    BasicAuth,
    BearerToken,
    Connector,
    Credential,
    CredentialStatus,
    NoAuth,
    OAuth2,
    SelfRefreshingScheme,
    credential_from_fields,
)
from sagemcp.platform import Tenant, base_provider

from ..db.store import Stamped
from ..origins import binding_origins_for
from ..services import Services
from . import params
from .auth import tenant_for
from .errors import ApiError, validation_details
from .providers import classes_for_provider
from .routing import Context, Operation
from .schemas import CredentialList, CredentialOut, CredentialPut

__all__ = [
    "OPERATIONS",
    "bind_credential",
    "binding_origins",
    "credential_status",
    "disconnect",
    "renews_itself",
    "revoke_upstream",
]

logger = logging.getLogger("sagemcp_server.api")

_LEGACY_NAMES: tuple[tuple[type[AuthScheme], str, str], ...] = (
    (BearerToken, "token", "account"),
    (ApiKey, "key", "account"),
    (BasicAuth, "token", "username"),
)
"""Schemes the older body shape can store: the field names its `token` and `account` become."""


def credential_status(cred: Credential, renews_itself: bool = False) -> str:
    if cred.status == CredentialStatus.RECONNECT_REQUIRED:
        return "reconnect_required"
    if not renews_itself and cred.expires_within(0) and cred.refresh_token is None:
        return "expired"
    return "active"


def _out(record: Stamped[Credential], renews_itself: bool) -> CredentialOut:
    cred = record.item
    expires = datetime.fromtimestamp(cred.expires_at, UTC) if cred.expires_at is not None else None
    return CredentialOut(
        provider=cred.provider,
        kind=cred.kind,
        account=cred.account,
        scopes=cred.scopes,
        expires_at=expires,
        status=credential_status(cred, renews_itself),  # type: ignore[arg-type]
        has_access_token=cred.access_token is not None,
        has_refresh_token=cred.refresh_token is not None,
        secrets=sorted(cred.secrets),
        extra=cred.extra,
        origins=list(cred.origins) if cred.origins is not None else None,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def renews_itself(services: Services, cred: Credential) -> bool:
    """Whether the server gets this credential's tokens itself (a scheme such as client credentials)."""
    classes = services.providers().get(base_provider(cred.provider), [])
    return any(isinstance(cls.scheme_for(cred.kind), SelfRefreshingScheme) for cls in classes)


def _renews_itself(ctx: Context, cred: Credential) -> bool:
    return renews_itself(ctx.services, cred)


def _schemes(classes: list[type[Connector]]) -> dict[str, AuthScheme]:
    """The storable schemes of the provider's connectors by kind, the first connector's first."""
    found: dict[str, AuthScheme] = {}
    for cls in classes:
        for scheme in cls.auth:
            if not isinstance(scheme, NoAuth):
                found.setdefault(scheme.kind, scheme)
    return found


def _legacy_names(scheme: AuthScheme) -> tuple[str, str] | None:
    return next(((token, account) for base, token, account in _LEGACY_NAMES if isinstance(scheme, base)), None)


def _linked_names(classes: list[type[Connector]]) -> set[str]:
    """Linked credential names the connectors use: tools' `token` and their OAuth scheme's linked tokens."""
    names = {spec.token for cls in classes for spec in cls.tools.values() if spec.token}
    for cls in classes:
        scheme = cls.oauth2()
        if scheme is not None:
            names.update(linked.name for linked in scheme.linked_tokens)
    return names


def _choose_scheme(provider: str, schemes: dict[str, AuthScheme], body: CredentialPut) -> AuthScheme:
    """The scheme the body is for: `kind`, or the provider's first scheme that fits the body's shape."""
    legacy = body.fields is None
    fitting = [k for k, s in schemes.items() if (_legacy_names(s) is not None if legacy else not isinstance(s, OAuth2))]
    kind = body.kind or (fitting[0] if fitting else None)
    if kind is None or kind not in schemes:
        accepted = ", ".join(k for k, s in schemes.items() if not isinstance(s, OAuth2)) or "none (use the OAuth flow)"
        raise ApiError(
            422,
            "unsupported_credential_kind",
            f"{provider} connectors accept these credential kinds: {accepted}.",
            [("kind", "not accepted")],
        )
    scheme = schemes[kind]
    if legacy and _legacy_names(scheme) is None:
        names = ", ".join(scheme.fields_model().model_fields)
        raise ApiError(
            422,
            "fields_required",
            f'A {kind} credential is stored from its fields ({names}): send {{"kind": "{kind}", "fields": '
            "{...}}; GET /api/v1/admin/connector-types describes them.",
            [("fields", "required for this kind")],
        )
    return scheme


def _legacy_fields(scheme: AuthScheme, body: CredentialPut) -> tuple[dict[str, Any], dict[str, str]]:
    """The older body as the scheme's fields, and the field names to report errors under."""
    names = _legacy_names(scheme)
    assert names is not None  # _choose_scheme only passes schemes the older shape can store
    assert body.token is not None
    token_name, account_name = names
    fields: dict[str, Any] = {token_name: body.token.get_secret_value()}
    if body.account is not None:
        fields[account_name] = body.account
    if body.scopes:
        fields["scopes"] = list(body.scopes)
    if body.expires_at is not None:
        fields["expires_at"] = body.expires_at
    return fields, {token_name: "token", account_name: "account"}


async def binding_origins(services: Services, tenant_id: str, credential: Credential) -> tuple[str, ...]:
    """The origins a credential is bound to when stored now (`origins.binding_origins_for`, with the tenant's
    connectors as they are configured now)."""
    return binding_origins_for(services.registry, credential, await services.store.list_connectors(tenant_id))


async def bind_credential(services: Services, tenant_id: str, credential: Credential) -> Credential:
    """`credential` bound to the origins it may be sent to (`binding_origins`), ready to be stored."""
    return credential.model_copy(update={"origins": await binding_origins(services, tenant_id, credential)})


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
    scheme = _choose_scheme(provider, _schemes(classes), body)
    if body.fields is None:
        fields, renamed = _legacy_fields(scheme, body)
    else:
        fields, renamed = body.fields, {}
    try:
        cred = credential_from_fields(scheme, fields, tenant_id=tenant.id, provider=provider)
    except ValidationError as exc:
        details = [
            (_reported(field, renamed, legacy=body.fields is None), message)
            for field, message in validation_details(exc)
        ]
        raise ApiError(
            422,
            "invalid_credential_fields",
            f"The fields of the {scheme.kind} credential are not valid; GET /api/v1/admin/connector-types "
            "describes them.",
            details,
        ) from None
    if cred.expires_at is not None and cred.expires_at <= time.time():
        field = "expires_at" if body.fields is None else "fields.expires_at"
        raise ApiError(422, "expired_token", "expires_at is in the past.", [(field, "in the past")])
    if body.extra:
        cred = cred.model_copy(update={"extra": {**body.extra, **cred.extra}})
    cred = await bind_credential(ctx.services, tenant.id, cred)
    await ctx.services.store.put_credential(cred)
    ctx.services.credential_changed(tenant.slug, tenant.id, provider)
    logger.info("credential stored", extra={"tenant": tenant.slug, "provider": provider, "kind": scheme.kind})
    record = await ctx.services.store.get_credential_record(tenant.id, provider)
    if record is None:
        raise ApiError(404, "credential_not_found", f"The {provider} credential was removed meanwhile.")
    return _out(record, isinstance(scheme, SelfRefreshingScheme))


def _reported(field: str | None, renamed: dict[str, str], *, legacy: bool) -> str | None:
    """Where a field error is reported: the older body's own name, or `fields.<name>`."""
    if field is None:
        return None if legacy else "fields"
    head, dot, rest = field.partition(".")
    if legacy:
        return renamed.get(head, head) + dot + rest
    return f"fields.{field}"


async def get_credential(ctx: Context) -> CredentialOut:
    tenant = (await tenant_for(ctx)).item
    record = await ctx.services.store.get_credential_record(tenant.id, ctx.path["provider"])
    if record is None:
        raise ApiError(404, "credential_not_found", f"Tenant {tenant.slug!r} has no {ctx.path['provider']} credential.")
    return _out(record, _renews_itself(ctx, record.item))


async def list_credentials(ctx: Context) -> CredentialList:
    tenant = (await tenant_for(ctx)).item
    records = await ctx.services.store.list_credential_records(tenant.id)
    return CredentialList(items=[_out(r, _renews_itself(ctx, r.item)) for r in records])


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


async def rebind_credential(ctx: Context) -> CredentialOut:
    """Bind a stored credential (and, for a provider, its linked ones) to the connectors' current origins."""
    tenant = (await tenant_for(ctx)).item
    provider = ctx.path["provider"]
    store = ctx.services.store
    cred = await store.get_credential(tenant.id, provider)
    if cred is None:
        raise ApiError(404, "credential_not_found", f"Tenant {tenant.slug!r} has no {provider} credential.")
    targets = [cred]
    if ":" not in provider:
        targets += [c for c in await store.list_credentials(tenant.id) if c.provider.startswith(f"{provider}:")]
    for target in targets:
        origins = await binding_origins(ctx.services, tenant.id, target)
        await store.rebind_credential(tenant.id, target.provider, origins)
        ctx.services.credential_changed(tenant.slug, tenant.id, target.provider)
        logger.info(
            "credential rebound by the platform admin",
            extra={"tenant": tenant.slug, "provider": target.provider, "origins": list(origins)},
        )
    record = await store.get_credential_record(tenant.id, provider)
    if record is None:
        raise ApiError(404, "credential_not_found", f"The {provider} credential was removed meanwhile.")
    return _out(record, _renews_itself(ctx, record.item))


async def revoke_upstream(services: Services, tenant: Tenant, credential: Credential) -> bool:
    """Revoke one credential (the shared one or a member's) at its provider: best effort, OAuth credentials
    only; False when it was not revoked there. The stored credential is left alone."""
    provider = credential.provider
    classes = [c for c in services.providers().get(base_provider(provider), []) if c.oauth2() is not None]
    if not classes or credential.kind != "oauth2":
        return False
    try:
        revoked = await services.credentials.revoke(tenant.id, provider, classes[0], credential.user_id)
    except Exception as exc:  # best effort: the credential is removed anyway
        logger.warning("revoking the %s token failed: %s", provider, type(exc).__name__)
        revoked = False
    logger.info("upstream token %s", "revoked" if revoked else "not revoked", extra={"provider": provider})
    return revoked


async def disconnect(ctx: Context, tenant: Tenant, credential: Credential) -> None:
    """Revoke one credential at its provider (best effort, OAuth credentials only), then delete it."""
    services = ctx.services
    provider = credential.provider
    await revoke_upstream(services, tenant, credential)
    await services.store.delete_credential(tenant.id, provider, credential.user_id)
    services.credential_changed(tenant.slug, tenant.id, provider, credential.user_id)


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
        "Store a credential from its scheme's fields (token, API key, client credentials, GitHub App...)",
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
        "POST",
        _PATH + "/rebind",
        "rebindCredential",
        "Bind a credential to its connectors' current upstream origins (platform admin)",
        "credentials",
        rebind_credential,
        CredentialOut,
        params=_P,
        access="platform",
        description="A credential is sent only to the origins it was stored for. After a connector's host "
        "changed, a tenant stores the credential again; the platform admin can instead bind the stored one "
        "(and, for a provider, its linked credentials) to the origins the connectors name now.",
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
