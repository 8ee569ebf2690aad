"""A tenant's API keys: create one (the key shown once, with a copy button), list, revoke.

Creation and revocation are the admin API's `create_api_key` / `revoke_api_key`: the scope
rules (no `admin` on a key limited to one connector) and the at-once revocation are theirs.
The key is in the answer to the create form only; it is never stored in clear or shown again.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from sagemcp.platform import Tenant

from ..api import api_keys as api
from ..api.errors import ApiError, validation_details
from ..api.schemas import ApiKeyCreate, ApiKeyCreated
from ._shell import (
    ConsoleUser,
    FieldErrors,
    api_context,
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


async def _page(
    request: Request,
    user: ConsoleUser,
    tenant: Tenant,
    *,
    created: ApiKeyCreated | None = None,
    values: dict[str, str] | None = None,
    errors: FieldErrors | None = None,
    status: int = 200,
) -> Response:
    connectors = await services_of(request).store.list_connectors(tenant.id)
    keys = (await api.list_api_keys(api_context(request, user, slug=tenant.slug))).items
    names = {c.id: c.name for c in connectors}
    return page(
        request,
        user,
        "console/keys.html",
        status=status,
        title=f"API keys of {tenant.slug}",
        tenant=tenant,
        keys=sorted(keys, key=lambda k: (k.revoked, k.created_at), reverse=False),
        connectors=[("", "All connectors (tenant-wide)")] + [(c.name, c.name) for c in connectors],
        connector_names=names,
        created=created,
        values=values or {"scope.mcp": "on"},
        errors=errors or {},
        mcp_url=services_of(request).mcp_url(tenant.slug),
    )


async def list_page(request: Request, user: ConsoleUser) -> Response:
    tenant = (await tenant_page(request, user)).item
    return await _page(request, user, tenant)


async def create(request: Request, user: ConsoleUser) -> Response:
    tenant = (await tenant_page(request, user)).item
    fields = await form(request)
    data: dict[str, Any] = {
        "name": fields.get("name", "").strip(),
        "scopes": [s for s in ("mcp", "admin") if fields.get(f"scope.{s}") == "on"],
    }
    if fields.get("connector", ""):
        data["connector_id"] = fields["connector"]
    try:
        body = ApiKeyCreate.model_validate(data)
        created = await api.create_api_key(api_context(request, user, slug=tenant.slug), body)
    except ValidationError as exc:
        errors = _renamed(details_to_errors(validation_details(exc)))
        return await _page(request, user, tenant, values=fields, errors=errors, status=422)
    except ApiError as exc:
        if exc.status == 404:
            raise
        errors = _renamed(details_to_errors(exc.details))
        errors.setdefault("_form", exc.message)
        return await _page(request, user, tenant, values=fields, errors=errors, status=exc.status)
    return await _page(request, user, tenant, created=created)


def _renamed(errors: FieldErrors) -> FieldErrors:
    """API field names as this form's (`connector_id` is the connector select, `scopes.0` the scopes)."""
    out: FieldErrors = {}
    for name, message in errors.items():
        if name.startswith("scopes"):
            name = "scopes"
        elif name == "connector_id":
            name = "connector"
        out.setdefault(name, message)
    return out


async def revoke(request: Request, user: ConsoleUser) -> Response:
    tenant = (await tenant_page(request, user)).item
    await form(request)
    key_id = str(request.path_params["key_id"])[:64]
    await api.revoke_api_key(api_context(request, user, slug=tenant.slug, key_id=key_id))
    return go(f"/console/t/{tenant.slug}/keys", "The API key was revoked; it stops working at once.")


nav("API keys", "/console/t/{slug}/keys", "tenant_admin", order=70)

routes: list[BaseRoute] = [
    route("/t/{slug}/keys", list_page, ["GET"]),
    route("/t/{slug}/keys", create, ["POST"]),
    route("/t/{slug}/keys/{key_id}/revoke", revoke, ["POST"]),
]
