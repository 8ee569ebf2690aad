"""A tenant's members and invitations: invite (the one-time link shown once), add, change role, remove.

Every change is the admin API's own function (`api.people`), so the owner-only rules (only an
owner gives, changes or takes the owner role; the last owner stays) and the clean-up on
removal (the member's own connections revoked and deleted) are the API's.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from sagemcp.platform import Tenant

from ..api import people as api
from ..api.errors import ApiError, from_exception, validation_details
from ..api.people_schemas import InvitationCreate, InvitationCreated, MemberAdd, MemberUpdate
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

ROLES = (("member", "member"), ("admin", "admin"), ("owner", "owner"))
_DAY = 86400


async def _page(
    request: Request,
    user: ConsoleUser,
    tenant: Tenant,
    *,
    created: InvitationCreated | None = None,
    form_name: str | None = None,
    values: dict[str, str] | None = None,
    errors: FieldErrors | None = None,
    status: int = 200,
) -> Response:
    ctx = api_context(request, user, slug=tenant.slug)
    ttl_days = max(1, int(services_of(request).settings.invitation_ttl // _DAY))
    return page(
        request,
        user,
        "console/members.html",
        status=status,
        title=f"Members of {tenant.slug}",
        tenant=tenant,
        members=(await api.list_members(ctx)).items,
        invitations=(await api.list_invitations(ctx)).items,
        roles=ROLES,
        created=created,
        form_name=form_name,
        ttl_days=ttl_days,
        me=user.user.id,
        values=values or {},
        errors=errors or {},
    )


def _errors(exc: ApiError) -> FieldErrors:
    errors = details_to_errors(exc.details)
    errors.setdefault("_form", exc.message)
    return errors


async def list_page(request: Request, user: ConsoleUser) -> Response:
    tenant = (await tenant_page(request, user)).item
    return await _page(request, user, tenant)


async def invite(request: Request, user: ConsoleUser) -> Response:
    tenant = (await tenant_page(request, user)).item
    fields = await form(request)
    data: dict[str, Any] = {"role": fields.get("role", "member")}
    if fields.get("email", "").strip():
        data["email"] = fields["email"].strip()
    days = fields.get("expires_days", "").strip()
    errors: FieldErrors = {}
    if days:
        try:
            data["expires_in"] = int(float(days) * _DAY)
        except ValueError:
            errors["expires_days"] = "Enter a number of days."
    if errors:
        return await _page(request, user, tenant, form_name="invite", values=fields, errors=errors, status=422)
    try:
        body = InvitationCreate.model_validate(data)
        created = await api.create_invitation(api_context(request, user, slug=tenant.slug), body)
    except ValidationError as exc:
        found = {
            k.replace("expires_in", "expires_days"): v for k, v in details_to_errors(validation_details(exc)).items()
        }
        return await _page(request, user, tenant, form_name="invite", values=fields, errors=found, status=422)
    except ApiError as exc:
        if exc.status == 404:
            raise
        found = {k.replace("expires_in", "expires_days"): v for k, v in _errors(exc).items()}
        return await _page(request, user, tenant, form_name="invite", values=fields, errors=found, status=exc.status)
    # The link exists only in this answer: it is shown once, here, never stored or shown again.
    return await _page(request, user, tenant, created=created)


async def add(request: Request, user: ConsoleUser) -> Response:
    tenant = (await tenant_page(request, user)).item
    fields = await form(request)
    try:
        body = MemberAdd.model_validate({"email": fields.get("email", "").strip(), "role": fields.get("role", "")})
        out = await api.add_member(api_context(request, user, slug=tenant.slug), body)
    except ValidationError as exc:
        errors = details_to_errors(validation_details(exc))
        return await _page(request, user, tenant, form_name="add", values=fields, errors=errors, status=422)
    except Exception as exc:  # the store's Duplicate (already a member) included, as the API maps it
        error = from_exception(exc)
        if error.status in (404, 500):
            raise
        return await _page(
            request, user, tenant, form_name="add", values=fields, errors=_errors(error), status=error.status
        )
    return go(f"/console/t/{tenant.slug}/members", f"{out.email} added as {out.role}.")


async def set_role(request: Request, user: ConsoleUser) -> Response:
    tenant = (await tenant_page(request, user)).item
    fields = await form(request)
    user_id = str(request.path_params["user_id"])[:64]
    try:
        body = MemberUpdate.model_validate({"role": fields.get("role", "")})
        out = await api.update_member(api_context(request, user, slug=tenant.slug, user_id=user_id), body)
    except ValidationError as exc:
        errors = details_to_errors(validation_details(exc))
        return await _page(request, user, tenant, form_name=user_id, errors=errors, status=422)
    except Exception as exc:  # the last owner (LastOwner) included, as the API maps it
        error = from_exception(exc)
        if error.status in (404, 500):
            raise
        return await _page(request, user, tenant, form_name=user_id, errors=_errors(error), status=error.status)
    return go(f"/console/t/{tenant.slug}/members", f"{out.email} is now {out.role}.")


async def remove(request: Request, user: ConsoleUser) -> Response:
    tenant = (await tenant_page(request, user)).item
    await form(request)
    user_id = str(request.path_params["user_id"])[:64]
    try:
        await api.remove_member(api_context(request, user, slug=tenant.slug, user_id=user_id))
    except Exception as exc:  # the last owner (LastOwner) included
        error = from_exception(exc)
        if error.status in (404, 500):
            raise
        return await _page(request, user, tenant, form_name=user_id, errors=_errors(error), status=error.status)
    if user_id == user.user.id:
        return go("/console/", f"You left {tenant.slug}.")
    return go(f"/console/t/{tenant.slug}/members", "The member was removed; their own connections were disconnected.")


async def revoke_invitation(request: Request, user: ConsoleUser) -> Response:
    tenant = (await tenant_page(request, user)).item
    await form(request)
    invitation_id = str(request.path_params["invitation_id"])[:64]
    await api.revoke_invitation(api_context(request, user, slug=tenant.slug, invitation_id=invitation_id))
    return go(f"/console/t/{tenant.slug}/members", "The invitation was revoked.")


nav("Members", "/console/t/{slug}/members", "tenant_admin", order=60)

routes: list[BaseRoute] = [
    route("/t/{slug}/members", list_page, ["GET"]),
    route("/t/{slug}/members", add, ["POST"]),
    route("/t/{slug}/invitations", invite, ["POST"]),
    route("/t/{slug}/invitations/{invitation_id}/revoke", revoke_invitation, ["POST"]),
    route("/t/{slug}/members/{user_id}/role", set_role, ["POST"]),
    route("/t/{slug}/members/{user_id}/remove", remove, ["POST"]),
]
