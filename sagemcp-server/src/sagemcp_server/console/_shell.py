"""What every console page shares: who is signed in, the layout, forms with CSRF, and error pages.

A page handler is `async def handler(request, user) -> Response`, registered with `route()`,
which signs the browser in first (a redirect to `/signin?next=...` without a session), turns
the errors a page can meet into pages (a bad form, a CSRF mismatch, an `ApiError` of the
admin API's own functions, the database being down) and never shows internal exception text.

Pages call the admin API's handler functions with `api_context()`: the same validation,
authorization by role and side effects as the JSON API, with the signed-in person as the
caller. `tenant_page()` resolves the `{slug}` of a tenant page: 404 for a tenant the person
does not belong to (as the API answers), 403 for a member where an admin role is needed.

Navigation entries are registered with `nav()`; `page()` shows only those the person may use.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, unquote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from sagemcp.platform import Principal, Tenant

from ..api import params
from ..api.errors import ApiError, from_exception
from ..api.routing import Context, PathParam
from ..db.people import User
from ..db.store import DatabaseUnavailable, Stamped
from ..services import Services
from ..web.pages import FormError, read_form
from ..web.session import check_csrf, current_user, signin_redirect

__all__ = [
    "PREFIX",
    "ConsoleUser",
    "FieldErrors",
    "NavEntry",
    "api_context",
    "continue_to",
    "details_to_errors",
    "flash",
    "forbidden",
    "form",
    "go",
    "nav",
    "not_found",
    "page",
    "route",
    "services_of",
    "signed_in",
    "tenant_page",
]

logger = logging.getLogger("sagemcp_server.console")

PREFIX = "/console"
_HERE = Path(__file__).parent
_FLASH_COOKIE = "sagemcp_console_flash"
_MAX_FLASH = 300
_MAX_FORM_BYTES = 256 * 1024
_MAX_FIELDS = 2000
"""Console forms are larger than the sign-in pages': a tool policy has a field per tool."""

_ENV = Environment(
    loader=FileSystemLoader(_HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

Needs = Literal["signed_in", "platform", "tenant_member", "tenant_admin"]


@dataclass(frozen=True)
class ConsoleUser:
    """The signed-in person, whether they are a platform admin, and their role in each tenant (by slug)."""

    user: User
    platform_admin: bool
    roles: dict[str, str] = field(default_factory=dict)
    csrf_token: str = ""

    def may_admin(self, slug: str) -> bool:
        """Whether this person manages tenant `slug` (its owner or admin, or a platform admin)."""
        return self.platform_admin or self.roles.get(slug) in ("owner", "admin")

    def is_member(self, slug: str) -> bool:
        """Whether this person belongs to tenant `slug` in any role (platform admins see every tenant)."""
        return self.platform_admin or slug in self.roles

    @property
    def principal(self) -> Principal:
        """The caller the admin API's functions see: the same one a session-cookie API request gets."""
        kind: Literal["platform_admin", "user"] = "platform_admin" if self.platform_admin else "user"
        return Principal(
            id=f"user:{self.user.id}",
            kind=kind,
            scopes=frozenset({"admin", "mcp"}),
            name=self.user.email,
            user_id=self.user.id,
        )


@dataclass(frozen=True)
class NavEntry:
    """One navigation link; `path` may hold `{slug}` for a tenant's page (shown on that tenant's pages)."""

    label: str
    path: str
    needs: Needs
    order: int = 100

    def visible(self, user: ConsoleUser, slug: str | None) -> bool:
        if self.needs == "signed_in":
            return True
        if self.needs == "platform":
            return user.platform_admin
        if slug is None:
            return False
        return user.may_admin(slug) if self.needs == "tenant_admin" else user.is_member(slug)


_NAV: list[NavEntry] = []


def nav(label: str, path: str, needs: Needs, order: int = 100) -> None:
    """Register a navigation entry (at import of a page module); the same label and path once only."""
    entry = NavEntry(label, path, needs, order)
    if entry not in _NAV:
        _NAV.append(entry)
        _NAV.sort(key=lambda e: e.order)


FieldErrors = dict[str, str]
"""Field name -> message, shown next to the field and tied to it with `aria-describedby`."""


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def signed_in(request: Request) -> ConsoleUser | Response:
    """The console user of this request, or a redirect to the sign-in page that comes back here."""
    session_user = await current_user(request)
    if session_user is None:
        return signin_redirect(request)
    services = services_of(request)
    person = await services.people.get_user(session_user.id)
    if person is None or not person.active:
        return signin_redirect(request)
    roles: dict[str, str] = {tenant.slug: role for tenant, role in await services.people.memberships_of(person.id)}
    return ConsoleUser(
        user=person, platform_admin=person.platform_admin, roles=roles, csrf_token=session_user.csrf_token
    )


def api_context(request: Request, user: ConsoleUser, **path: str) -> Context:
    """A `Context` for calling an admin API handler function as this person."""
    return Context(request, services_of(request), user.principal, dict(path))


async def tenant_page(request: Request, user: ConsoleUser, *, admin: bool = True) -> Stamped[Tenant]:
    """The tenant of `{slug}` in the path, if this person may see this page of it.

    404 (`ApiError`) when they do not belong to it or it does not exist, the same answer either
    way; 403 when they are only a member and the page needs an admin role.
    """
    slug = str(request.path_params.get("slug", ""))
    record = await services_of(request).store.get_tenant_record(slug) if len(slug) <= 63 else None
    if record is None or not user.is_member(slug):
        raise ApiError(404, "tenant_not_found", f"Tenant {slug[:63]!r} not found.")
    if admin and not user.may_admin(slug):
        raise ApiError(
            403,
            "admin_role_required",
            "This page needs the owner or admin role in this tenant; ask a tenant owner to change your role.",
        )
    return record


async def form(request: Request) -> dict[str, str]:
    """The fields of a POSTed form, after checking its CSRF token (403 page otherwise)."""
    fields = await read_form(request, max_bytes=_MAX_FORM_BYTES, max_fields=_MAX_FIELDS)
    await current_user(request)
    check_csrf(request, fields.get("csrf_token"))
    return fields


def details_to_errors(details: list[tuple[str | None, str]]) -> FieldErrors:
    """`ApiError.details` as field errors (the first message per field; `None` goes under `_form`)."""
    errors: FieldErrors = {}
    for name, message in details:
        errors.setdefault(name or "_form", message)
    return errors


def flash(response: Response, message: str) -> Response:
    """Show `message` once on the next console page (after a redirect)."""
    response.set_cookie(
        _FLASH_COOKIE, quote(message[:_MAX_FLASH]), path=PREFIX, httponly=True, samesite="strict", max_age=60
    )
    return response


def go(path: str, message: str | None = None) -> Response:
    """303 to a console page, with an optional flash message for it."""
    response = RedirectResponse(path, status_code=303)
    return flash(response, message) if message else response


def continue_to(request: Request, user: ConsoleUser, url: str, destination: str) -> Response:
    """A page that sends the browser on to `url` on another site (a provider's authorization page).

    A form's POST cannot be answered with a redirect there: browsers apply the page's CSP
    `form-action 'self'` to every redirect after a form submission, and Chromium blocks one to another
    origin. This page navigates with a `Refresh` header instead (no script), and shows the link too.
    """
    response = page(
        request, user, "console/continue.html", title=f"Continue to {destination}", url=url, destination=destination
    )
    response.headers["Refresh"] = f"0; url={url}"
    return response


def _tenant_nav(user: ConsoleUser, slug: str | None) -> list[dict[str, str]]:
    return [
        {"label": e.label, "href": e.path.format(slug=quote(slug or "", safe=""))}
        for e in _NAV
        if "{slug}" in e.path and e.visible(user, slug)
    ]


def page(request: Request, user: ConsoleUser | None, template: str, *, status: int = 200, **context: Any) -> Response:
    """A console template rendered with the navigation, the CSRF token and the flash message."""
    slug = request.path_params.get("slug")
    slug = str(slug) if slug is not None and user is not None and user.is_member(str(slug)) else None
    message = request.cookies.get(_FLASH_COOKIE)
    context.setdefault("title", "Console")
    context.setdefault("errors", {})
    context.setdefault("values", {})
    # The slugs of the person's tenants; a page's own `tenants` (a platform admin's list) takes precedence.
    context.setdefault("tenants", sorted(user.roles) if user is not None else [])
    context.update(
        request=request,
        user=user,
        csrf_token=user.csrf_token if user is not None else "",
        flash=unquote(message)[:_MAX_FLASH] if message else None,
        main_nav=[]
        if user is None
        else [{"label": e.label, "href": e.path} for e in _NAV if "{slug}" not in e.path and e.visible(user, None)],
        tenant_slug=slug,
        tenant_nav=_tenant_nav(user, slug) if user is not None and slug else [],
        member_tenants=sorted(user.roles) if user is not None else [],
        current_path=request.url.path,
    )
    html = _ENV.get_template(template).render(**context)
    response = HTMLResponse(html, status_code=status)
    if message:
        response.delete_cookie(_FLASH_COOKIE, path=PREFIX, httponly=True, samesite="strict")
    return response


def _error(request: Request, user: ConsoleUser | None, status: int, heading: str, message: str) -> Response:
    return page(request, user, "console/error.html", status=status, title=heading, heading=heading, message=message)


def forbidden(request: Request, user: ConsoleUser | None, message: str = "You may not use this page.") -> Response:
    return _error(request, user, 403, "Not allowed", message)


def not_found(request: Request, user: ConsoleUser | None, message: str = "There is no such page.") -> Response:
    return _error(request, user, 404, "Not found", message)


Handler = Callable[[Request, ConsoleUser], Awaitable[Response]]

_PATH_PARAMS: dict[str, PathParam] = {
    "slug": params.SLUG,
    "name": params.CONNECTOR,
    "connector": params.CONNECTOR,
    "provider": params.CREDENTIAL_KEY,
    "user_id": params.USER_ID,
    "key_id": params.KEY_ID,
    "invitation_id": params.INVITATION_ID,
}
"""The console's path parameters and the admin API's rules for them: a value the API would refuse is a 404."""
_COMPILED = {name: re.compile(p.pattern) for name, p in _PATH_PARAMS.items()}


def _bad_path(request: Request) -> str | None:
    for name, value in request.path_params.items():
        rule = _PATH_PARAMS.get(name)
        if rule is not None and (len(str(value)) > rule.max_length or not _COMPILED[name].match(str(value))):
            return name
    return None


def route(path: str, handler: Handler, methods: list[str], name: str | None = None) -> Route:
    """A console route at `PREFIX + path` whose handler gets the signed-in `ConsoleUser`."""

    async def endpoint(request: Request) -> Response:
        user: ConsoleUser | None = None
        try:
            found = await signed_in(request)
            if isinstance(found, Response):
                return found
            user = found
            if _bad_path(request) is not None:
                return not_found(request, user)
            return await handler(request, user)
        except FormError as exc:
            return _error(request, user, exc.status, "Something is wrong with the form", exc.message)
        except DatabaseUnavailable:
            return _error(request, user, 503, "Temporarily unavailable", "The server cannot reach its database.")
        except Exception as exc:  # ApiError and the store's errors, as the JSON API maps them
            error = from_exception(exc)
            if error.status == 404:
                return not_found(request, user, error.message)
            if error.status == 403:
                return forbidden(request, user, error.message)
            return _error(request, user, error.status, "The request failed", error.message)

    endpoint.__name__ = handler.__name__
    return Route(PREFIX + path, endpoint, methods=methods, name=name or f"console.{handler.__name__}")
