"""The sign-in pages: `/signin`, `/signout`, `/account` and `/invitations/{token}`.

Every form posts `application/x-www-form-urlencoded` with its `csrf_token`; bodies are read
up to `MAX_FORM_BYTES`. `next` (where to go after signing in) is honoured only when it is a
path on this server (`session.safe_next`). An invitation is shown with its tenant and role;
a visitor signs in, or creates an account with a password, and accepts it in the same step.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ..api.errors import ApiError
from ..db.people import InvalidEmail, InvitationUnusable, PeopleError, User, invitation_problem, normalize_email
from ..db.store import DatabaseUnavailable, Duplicate
from ..passwords import MIN_PASSWORD_LENGTH, PasswordPolicyError, check_policy
from ..services import Services
from .render import render
from .session import check_csrf, current_user, end_session, safe_next, signin_redirect, start_session
from .signin import FAILED, check_password

__all__ = ["MAX_FORM_BYTES", "FormError", "page_routes", "read_form"]

logger = logging.getLogger("sagemcp_server.signin")

MAX_FORM_BYTES = 16 * 1024
_MAX_FIELDS = 16


class FormError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


async def read_form(
    request: Request, *, max_bytes: int = MAX_FORM_BYTES, max_fields: int = _MAX_FIELDS
) -> dict[str, str]:
    """The fields of a URL-encoded form body (the first value of each), bounded in size and count."""
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > max_bytes:
            raise FormError(413, "The form is too large.")
    if not raw.strip():
        return {}
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise FormError(415, "Send the form as application/x-www-form-urlencoded.")
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=max_fields, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise FormError(400, "The form could not be read.") from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        if "\x00" in value:
            raise FormError(400, "The form could not be read.")
        fields.setdefault(name, value)
    return fields


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _message(request: Request, status: int, title: str, message: str, **extra: Any) -> Response:
    return render(request, "message.html", status, title=title, message=message, error=status >= 400, **extra)


def _guarded(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """Turn the errors a page can meet into pages: a CSRF mismatch, a bad form, the database being down."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except FormError as exc:
            return _message(request, exc.status, "Something is wrong with the form", exc.message)
        except ApiError as exc:
            return _message(request, exc.status, "Please try again", exc.message)
        except DatabaseUnavailable:
            return _message(request, 503, "Temporarily unavailable", "The server cannot reach its database; try again.")

    endpoint.__name__ = handler.__name__
    return endpoint


async def _providers(services: Services) -> list[Any]:
    return await services.people.list_all_oidc_providers()


def _sentence(text: str) -> str:
    """A store message (lower-case, no full stop) as a sentence of a page."""
    return (text[:1].upper() + text[1:]).rstrip(".") + "."


def _go(target: str) -> Response:
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})


# -- sign in and out ------------------------------------------------------------------------


async def signin_page(request: Request) -> Response:
    target = safe_next(request.query_params.get("next"))
    if await current_user(request) is not None:
        return _go(target)
    notice = "You are signed out." if request.query_params.get("signed_out") else None
    return render(
        request,
        "signin.html",
        title="Sign in",
        next=target,
        email="",
        error=None,
        notice=notice,
        providers=await _providers(_services(request)),
    )


async def signin_submit(request: Request) -> Response:
    form = await read_form(request)
    await current_user(request)
    check_csrf(request, form.get("csrf_token"))
    target = safe_next(form.get("next"))
    email = form.get("email", "")[:320]
    user = await check_password(_services(request), email, form.get("password", ""))
    if user is None:
        return render(
            request,
            "signin.html",
            401,
            title="Sign in",
            next=target,
            email=email,
            error=FAILED,
            notice=None,
            providers=await _providers(_services(request)),
        )
    response = _go(target)
    await start_session(request, response, user.id)
    logger.info("signed in", extra={"user_id": user.id, "method": "password"})
    return response


async def signout(request: Request) -> Response:
    form = await read_form(request)
    user = await current_user(request)
    if user is not None:
        check_csrf(request, form.get("csrf_token"))
    response = _go("/signin?signed_out=1")
    await end_session(request, response)
    if user is not None:
        logger.info("signed out", extra={"user_id": user.id})
    return response


async def account(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return signin_redirect(request)
    services = _services(request)
    person = await services.people.get_user(user.id)
    joined = request.query_params.get("joined")
    notice = f"You joined {joined[:63]}." if joined else None
    return render(
        request,
        "account.html",
        title="Your account",
        user=person,
        memberships=await services.people.memberships_of(user.id),
        notice=notice,
    )


# -- invitations ----------------------------------------------------------------------------


async def _invitation_page(request: Request, token: str, status: int = 200, **extra: Any) -> Response:
    services = _services(request)
    invitation = await services.people.get_invitation(token)
    if invitation is None or invitation.status() != "pending":
        return _message(
            request, status if status >= 400 else 400, "Invitation not valid", _sentence(invitation_problem(invitation))
        )
    tenant = await services.store.get_tenant_by_id(invitation.tenant_id)
    if tenant is None:
        return _message(request, 400, "Invitation not valid", "The tenant of this invitation no longer exists.")
    extra.setdefault("error", None)
    extra.setdefault("email", "")
    extra.setdefault("name", "")
    return render(
        request,
        "invitation.html",
        status,
        title=f"Join {tenant.name or tenant.slug}",
        invitation=invitation,
        tenant=tenant,
        token=token,
        next=f"/invitations/{token}",
        min_password=MIN_PASSWORD_LENGTH,
        providers=await _providers(services),
        **extra,
    )


async def invitation_page(request: Request) -> Response:
    await current_user(request)
    return await _invitation_page(request, str(request.path_params["token"]))


async def _accept(request: Request, token: str, user: User) -> Response:
    services = _services(request)
    try:
        invitation, role = await services.people.accept_invitation(token, user)
    except InvitationUnusable as exc:
        return await _invitation_page(request, token, 400, error=_sentence(exc.message))
    tenant = await services.store.get_tenant_by_id(invitation.tenant_id)
    slug = tenant.slug if tenant is not None else ""
    logger.info("invitation accepted", extra={"user_id": user.id, "tenant": slug, "role": role})
    return _go(f"/account?joined={slug}")


async def invitation_submit(request: Request) -> Response:
    token = str(request.path_params["token"])
    form = await read_form(request)
    signed_in = await current_user(request)
    check_csrf(request, form.get("csrf_token"))
    services = _services(request)
    action = form.get("action", "")
    if action == "accept":
        if signed_in is None:
            return signin_redirect(request)
        user = await services.people.get_user(signed_in.id)
        if user is None:
            return signin_redirect(request)
        return await _accept(request, token, user)
    invitation = await services.people.get_invitation(token)
    if invitation is None or invitation.status() != "pending":
        return await _invitation_page(request, token)
    email = form.get("email", "")[:320]
    if action == "signin":
        found = await check_password(services, email, form.get("password", ""))
        if found is None:
            return await _invitation_page(request, token, 401, error=FAILED, email=email)
        response = await _accept(request, token, found)
        if response.status_code == 303:
            await start_session(request, response, found.id)
            logger.info("signed in", extra={"user_id": found.id, "method": "password"})
        return response
    if action == "create":
        return await _create_account(request, token, form, email)
    return await _invitation_page(request, token, 400, error="Choose whether to sign in or to create an account.")


async def _create_account(request: Request, token: str, form: dict[str, str], email: str) -> Response:
    services = _services(request)
    name = form.get("name", "").strip()[:200]
    password = form.get("password", "")

    def again(error: str, status: int = 422) -> Awaitable[Response]:
        return _invitation_page(request, token, status, error=error, email=email, name=name)

    try:
        email = normalize_email(email)
    except InvalidEmail as exc:
        return await again(f"The e-mail address is not valid: {exc.message}.")
    invitation = await services.people.get_invitation(token)
    if invitation is not None and invitation.email is not None and invitation.email != email:
        return await again(f"This invitation is for {invitation.email}; create the account with that address.")
    if password != form.get("confirm", ""):
        return await again("The two passwords differ; type the same password twice.")
    try:
        check_policy(password)
    except PasswordPolicyError as exc:
        return await again(f"The password is not accepted: {exc}.")
    password_hash = await services.passwords.hash(password)
    try:
        user = await services.people.create_user(email, name=name, password_hash=password_hash)
    except Duplicate:
        return await again("An account with this e-mail exists already; sign in with it instead.", 409)
    except PeopleError as exc:
        return await again(_sentence(exc.message), exc.status)
    logger.info("account created", extra={"user_id": user.id, "method": "invitation"})
    response = await _accept(request, token, user)
    if response.status_code == 303:
        await start_session(request, response, user.id)
    return response


def page_routes() -> list[BaseRoute]:
    return [
        Route("/signin", _guarded(signin_page), methods=["GET"], name="signinPage"),
        Route("/signin", _guarded(signin_submit), methods=["POST"], name="signin"),
        Route("/signout", _guarded(signout), methods=["POST"], name="signout"),
        Route("/account", _guarded(account), methods=["GET"], name="account"),
        Route("/invitations/{token}", _guarded(invitation_page), methods=["GET"], name="invitationPage"),
        Route("/invitations/{token}", _guarded(invitation_submit), methods=["POST"], name="acceptInvitation"),
    ]
