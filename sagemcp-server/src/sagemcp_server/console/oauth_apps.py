"""A tenant's OAuth apps: the client id and secret it uses with each OAuth provider.

The secret is write-only: never rendered back, a blank field keeps the stored one, and a
checkbox removes it (a public client). Saving is the admin API's `put_oauth_app`.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from sagemcp.platform import Tenant

from ..api import oauth_apps as api
from ..api.errors import ApiError, validation_details
from ..api.schemas import OAuthAppOut, OAuthAppPut
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


def _oauth_providers(request: Request) -> list[tuple[str, str]]:
    """(provider, titles of its connector types) for every installed provider that authorizes with OAuth."""
    found = []
    for provider, classes in sorted(services_of(request).providers().items()):
        titles = [cls.info.title for cls in classes if cls.oauth2() is not None]
        if titles:
            found.append((provider, ", ".join(titles)))
    return found


async def _apps(request: Request, user: ConsoleUser, tenant: Tenant) -> dict[str, OAuthAppOut]:
    apps = {}
    for provider, _ in _oauth_providers(request):
        try:
            apps[provider] = await api.get_oauth_app(api_context(request, user, slug=tenant.slug, provider=provider))
        except ApiError as exc:
            if exc.code != "oauth_app_not_found":
                raise
    return apps


async def _page(
    request: Request,
    user: ConsoleUser,
    tenant: Tenant,
    editing: str | None = None,
    values: dict[str, str] | None = None,
    errors: FieldErrors | None = None,
    status: int = 200,
) -> Response:
    return page(
        request,
        user,
        "console/oauth_apps.html",
        status=status,
        title=f"OAuth apps of {tenant.slug}",
        tenant=tenant,
        providers=_oauth_providers(request),
        apps=await _apps(request, user, tenant),
        editing=editing,
        redirect_uri=services_of(request).redirect_uri,
        values=values or {},
        errors=errors or {},
    )


async def list_page(request: Request, user: ConsoleUser) -> Response:
    tenant = (await tenant_page(request, user)).item
    return await _page(request, user, tenant)


async def save(request: Request, user: ConsoleUser) -> Response:
    tenant = (await tenant_page(request, user)).item
    provider = str(request.path_params["provider"])[:64]
    fields = await form(request)
    shown = {k: v for k, v in fields.items() if k != "client_secret"}  # never rendered back
    data: dict[str, Any] = {"client_id": fields.get("client_id", "").strip()}
    if fields.get("remove_secret") == "on":
        data["client_secret"] = None
    elif fields.get("client_secret", ""):
        data["client_secret"] = fields["client_secret"]
    try:
        body = OAuthAppPut.model_validate(data)
        await api.put_oauth_app(api_context(request, user, slug=tenant.slug, provider=provider), body)
    except ValidationError as exc:
        errors = details_to_errors(validation_details(exc))
        return await _page(request, user, tenant, provider, shown, errors, 422)
    except ApiError as exc:
        if exc.status in (403, 404):
            raise
        errors = details_to_errors(exc.details) or {"_form": exc.message}
        errors.setdefault("_form", exc.message)
        return await _page(request, user, tenant, provider, shown, errors, exc.status)
    return go(f"/console/t/{tenant.slug}/oauth-apps", f"OAuth app for {provider} saved.")


async def delete(request: Request, user: ConsoleUser) -> Response:
    tenant = (await tenant_page(request, user)).item
    provider = str(request.path_params["provider"])[:64]
    await form(request)
    await api.delete_oauth_app(api_context(request, user, slug=tenant.slug, provider=provider))
    return go(f"/console/t/{tenant.slug}/oauth-apps", f"OAuth app for {provider} deleted.")


nav("OAuth apps", "/console/t/{slug}/oauth-apps", "tenant_admin", order=40)

routes: list[BaseRoute] = [
    route("/t/{slug}/oauth-apps", list_page, ["GET"]),
    route("/t/{slug}/oauth-apps/{provider}", save, ["POST"]),
    route("/t/{slug}/oauth-apps/{provider}/delete", delete, ["POST"]),
]
