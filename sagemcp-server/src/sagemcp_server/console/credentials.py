"""A tenant's shared credentials: status and expiry, connect or reconnect with OAuth, paste a token, delete.

Connecting with OAuth starts the existing flow (`oauth_routes.authorize`, as
`POST /api/v1/oauth/{slug}/{provider}/authorize` does) and sends the browser to its single-use
link, so the provider's callback is bound to this browser. Pasted credentials are stored by the
admin API's `put_credential` from a form generated from the scheme's fields (errors under
`fields.<name>`); secret fields are password inputs and nothing secret is ever rendered back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from sagemcp import AuthScheme, Connector, NoAuth, OAuth2
from sagemcp.platform import Tenant

from ..api import credentials as api
from ..api.errors import ApiError, validation_details
from ..api.providers import classes_for_provider
from ..api.schemas import AuthorizeRequest, CredentialOut, CredentialPut
from ..oauth_routes import authorize
from ._schema_form import FormField, fields_of, values_from
from ._shell import (
    ConsoleUser,
    FieldErrors,
    api_context,
    continue_to,
    details_to_errors,
    form,
    go,
    nav,
    page,
    route,
    services_of,
    tenant_page,
)

__all__ = ["routes"]

_FIELDS = "fields."


@dataclass(frozen=True)
class PasteForm:
    kind: str
    description: str
    fields: list[FormField]


@dataclass(frozen=True)
class ProviderView:
    provider: str
    titles: str
    oauth: bool
    forms: list[PasteForm]
    credentials: list[CredentialOut]
    """The provider's stored shared credential and its linked ones (`slack:user`)."""


def _paste_forms(schemes: list[AuthScheme]) -> list[PasteForm]:
    forms = []
    for scheme in schemes:
        fields = fields_of(scheme.fields_model().model_json_schema(), prefix=_FIELDS)
        fields.sort(key=lambda f: not f.required)
        forms.append(PasteForm(scheme.kind, scheme.description, fields))
    return forms


def _schemes(classes: list[type[Connector]]) -> tuple[bool, list[AuthScheme]]:
    """Whether the provider of `classes` authorizes with OAuth, and its schemes a credential can be pasted for."""
    oauth = False
    found: dict[str, AuthScheme] = {}
    for cls in classes:
        for scheme in cls.auth:
            if isinstance(scheme, OAuth2):
                oauth = True
            elif not isinstance(scheme, NoAuth):
                found.setdefault(scheme.kind, scheme)
    return oauth, list(found.values())


async def _classes(request: Request, user: ConsoleUser, tenant: Tenant, provider: str) -> list[type[Connector]]:
    """The connector types whose credentials are stored under `provider` in this tenant (the API's rule)."""
    return await classes_for_provider(api_context(request, user, slug=tenant.slug), tenant, provider)


async def _views(request: Request, user: ConsoleUser, tenant: Tenant) -> list[ProviderView]:
    services = services_of(request)
    stored = (await api.list_credentials(api_context(request, user, slug=tenant.slug))).items
    # Installed providers, and those the tenant's connectors store their credentials under instead.
    providers = set(services.providers())
    providers.update(c.provider for c in await services.store.list_connectors(tenant.id) if c.provider)
    views = []
    for provider in sorted(providers):
        classes = await _classes(request, user, tenant, provider)
        oauth, schemes = _schemes(classes)
        if not oauth and not schemes:
            continue  # connectors that need no credential
        mine = [c for c in stored if c.provider == provider or c.provider.startswith(provider + ":")]
        titles = ", ".join(cls.info.title for cls in classes)
        views.append(ProviderView(provider, titles, oauth, _paste_forms(schemes), mine))
    return views


async def _page(
    request: Request,
    user: ConsoleUser,
    tenant: Tenant,
    editing: tuple[str, str] | None = None,
    values: dict[str, str] | None = None,
    errors: FieldErrors | None = None,
    status: int = 200,
) -> Response:
    return page(
        request,
        user,
        "console/credentials.html",
        status=status,
        title=f"Credentials of {tenant.slug}",
        tenant=tenant,
        views=await _views(request, user, tenant),
        editing=editing,
        values=values or {},
        errors=errors or {},
        now=datetime.now(UTC),
    )


async def list_page(request: Request, user: ConsoleUser) -> Response:
    tenant = (await tenant_page(request, user)).item
    return await _page(request, user, tenant)


async def paste(request: Request, user: ConsoleUser) -> Response:
    tenant = (await tenant_page(request, user)).item
    provider = str(request.path_params["provider"])[:64]
    fields = await form(request)
    kind = fields.get("kind", "")[:32]
    _, schemes = _schemes(await _classes(request, user, tenant, provider))
    scheme = next((s for s in schemes if s.kind == kind), None)
    editing = (provider, kind)
    # What was typed, secrets left out: a form shown again never holds a secret.
    shown = {k: v for k, v in fields.items() if not k.startswith(_FIELDS)}
    if scheme is None:
        return await _page(request, user, tenant, editing, shown, {"_form": f"{provider} takes no {kind!r}."}, 422)
    form_fields = _paste_forms([scheme])[0].fields
    shown.update({f.name: fields.get(f.name, "") for f in form_fields if not f.secret})
    values, errors = values_from(fields, form_fields)
    if errors:
        return await _page(request, user, tenant, editing, shown, errors, 422)
    data: dict[str, Any] = {"kind": kind, "fields": values}
    try:
        body = CredentialPut.model_validate(data)
        await api.put_credential(api_context(request, user, slug=tenant.slug, provider=provider), body)
    except ValidationError as exc:
        return await _page(request, user, tenant, editing, shown, details_to_errors(validation_details(exc)), 422)
    except ApiError as exc:
        if exc.status in (403, 404):
            raise
        errors = details_to_errors(exc.details)
        errors.setdefault("_form", exc.message)
        return await _page(request, user, tenant, editing, shown, errors, exc.status)
    return go(f"/console/t/{tenant.slug}/credentials", f"The {provider} credential was stored.")


async def connect(request: Request, user: ConsoleUser) -> Response:
    """Start the provider's OAuth flow and send this browser to its single-use link."""
    tenant = (await tenant_page(request, user)).item
    provider = str(request.path_params["provider"])[:64]
    await form(request)
    try:
        started = await authorize(api_context(request, user, slug=tenant.slug, provider=provider), AuthorizeRequest())
    except ApiError as exc:
        if exc.status in (403, 404):
            raise
        if exc.code == "oauth_app_missing":
            message = f"Configure the tenant's {provider} OAuth app first (OAuth apps page)."
        else:
            message = exc.message
        return await _page(request, user, tenant, (provider, "oauth2"), {}, {"_form": message}, exc.status)
    return continue_to(request, user, started.authorization_url, provider)


async def delete(request: Request, user: ConsoleUser) -> Response:
    tenant = (await tenant_page(request, user)).item
    provider = str(request.path_params["provider"])[:64]
    await form(request)
    await api.delete_credential(api_context(request, user, slug=tenant.slug, provider=provider))
    return go(f"/console/t/{tenant.slug}/credentials", f"The {provider} credential was disconnected and deleted.")


nav("Credentials", "/console/t/{slug}/credentials", "tenant_admin", order=50)

routes: list[BaseRoute] = [
    route("/t/{slug}/credentials", list_page, ["GET"]),
    route("/t/{slug}/credentials/{provider}", paste, ["POST"]),
    route("/t/{slug}/credentials/{provider}/connect", connect, ["POST"]),
    route("/t/{slug}/credentials/{provider}/delete", delete, ["POST"]),
]
