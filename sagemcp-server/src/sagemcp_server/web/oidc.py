"""Signing in with an external OpenID Connect provider: `GET /signin/oidc/{name}` and its callback.

The start sets a random cookie in the browser (HttpOnly, SameSite=Lax, Secure on https,
limited to the callback's path) and stores only its hash with the pending sign-in; the
state is single-use and expires after `SAGEMCP_OIDC_STATE_TTL`. The callback is accepted
only with that cookie, like the upstream OAuth callback (`oauth_routes`).

Which account a verified ID token signs in:

1. the user already linked to the provider's (issuer, `sub`);
2. otherwise, a browser already signed in links the account to its user;
3. otherwise, with `match_by=email`, the user whose e-mail equals the token's `email` claim,
   only when the provider says it is verified (`email_verified` true). A platform provider
   links only a user whose own address is verified (accounts made by admins; not ones made
   from an invitation with a password). A tenant's provider links only members of that
   tenant who belong to no other tenant and are not platform admins: whoever runs that
   provider could otherwise sign in as anyone;
4. otherwise a new account is created for the verified e-mail, but only when the sign-in
   started from a pending invitation's page (whose e-mail, if it names one, must match;
   the person then accepts it), or when the provider belongs to a tenant (the person joins
   it as `member`). Platform providers never create accounts without an invitation.

With `match_by=subject`, step 3 is skipped: only linked accounts, links made by a signed-in
browser, and new accounts (step 4) sign in. A platform admin never signs in through a
tenant's provider.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ..db.people import OidcProvider, PeopleError, User
from ..db.store import DatabaseUnavailable, Duplicate
from ..services import Services
from .oidc_client import OidcClient, OidcFailure
from .render import render
from .session import current_user, safe_next, start_session

__all__ = ["COOKIE_PREFIX", "oidc_routes"]

logger = logging.getLogger("sagemcp_server.signin")

COOKIE_PREFIX = "sagemcp_oidc_"
_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_INVITATION_PATH = re.compile(r"^/invitations/([A-Za-z0-9_-]{16,128})$")
_PROVIDER_ERRORS = {
    "access_denied": "the sign-in was declined",
    "login_required": "you must sign in at the provider",
    "consent_required": "you must consent at the provider",
    "interaction_required": "the provider needs you to interact",
    "invalid_scope": "the provider refused the requested scopes",
    "unauthorized_client": "this server may not use the provider this way",
    "server_error": "the provider failed",
    "temporarily_unavailable": "the provider is busy or down for now",
}


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _client(request: Request) -> OidcClient:
    client: OidcClient | None = getattr(request.app.state, "oidc_client", None)
    if client is None:
        client = OidcClient(_services(request).upstream)
        request.app.state.oidc_client = client
    return client


def redirect_uri(services: Services, name: str) -> str:
    return f"{services.public_url}/signin/oidc/{name}/callback"


def _callback_path(name: str) -> str:
    return f"/signin/oidc/{name}/callback"


def _failed(request: Request, status: int, message: str) -> Response:
    return render(
        request,
        "message.html",
        status,
        title="Sign-in failed",
        message=message,
        error=True,
        link="/signin",
        link_text="Back to sign-in",
    )


async def start(request: Request) -> Response:
    services = _services(request)
    name = str(request.path_params["name"])
    target = safe_next(request.query_params.get("next"))
    try:
        provider = await services.people.get_oidc_provider(name) if _NAME_RE.match(name) else None
        if provider is None:
            return _failed(request, 404, "There is no such sign-in provider.")
        signin = await _client(request).begin(provider, redirect_uri(services, name))
        browser = secrets.token_urlsafe(32)
        await services.people.save_oidc_state(
            signin.state,
            provider_id=provider.id,
            nonce=signin.nonce,
            code_verifier=signin.code_verifier,
            browser_hash=_digest(browser),
            return_to=target,
            ttl=services.settings.oidc_state_ttl,
        )
    except OidcFailure as exc:
        logger.warning("OIDC sign-in could not start", extra={"provider": name, "reason": exc.reason})
        return _failed(request, 502, exc.message)
    except PeopleError as exc:
        return _failed(request, 503, exc.message[:1].upper() + exc.message[1:] + ".")
    except DatabaseUnavailable:
        return _failed(request, 503, "The server cannot reach its database right now; try again in a minute.")
    response = RedirectResponse(signin.url, status_code=302, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        COOKIE_PREFIX + _digest(signin.state)[:16],
        browser,
        max_age=int(services.settings.oidc_state_ttl) + 60,
        path=_callback_path(name),
        secure=services.public_url.startswith("https://"),
        httponly=True,
        samesite="lax",
    )
    return response


async def callback(request: Request) -> Response:
    services = _services(request)
    name = str(request.path_params["name"])
    state = request.query_params.get("state", "")
    if not _NAME_RE.match(name) or not state or len(state) > 512:
        return _failed(request, 400, "The provider's answer is incomplete. Start signing in again.")
    cookie_name = COOKIE_PREFIX + _digest(state)[:16]
    try:
        response = await _callback(request, services, name, state, request.cookies.get(cookie_name, ""))
    except DatabaseUnavailable:
        response = _failed(request, 503, "The server cannot reach its database right now; try again in a minute.")
    response.delete_cookie(
        cookie_name,
        path=_callback_path(name),
        secure=services.public_url.startswith("https://"),
        httponly=True,
        samesite="lax",
    )
    return response


async def _callback(request: Request, services: Services, name: str, state: str, cookie: str) -> Response:
    people = services.people
    pending = await people.take_oidc_state(state, _digest(cookie)) if cookie else None
    if pending is None:
        if await people.oidc_state_pending(state):
            logger.warning("OIDC callback from another browser refused", extra={"provider": name})
            return _failed(
                request, 403, "This sign-in was started in another browser; start signing in again in this one."
            )
        return _failed(request, 400, "This sign-in is unknown, expired or was already completed. Start again.")
    provider = await people.get_oidc_provider(name)
    if provider is None or provider.id != pending.provider_id:
        return _failed(request, 400, "This sign-in was started with another provider. Start again.")
    error = request.query_params.get("error")
    if error:
        code = error if error in _PROVIDER_ERRORS else "error"
        reason = _PROVIDER_ERRORS.get(code, "the provider gave no known reason")
        logger.info("OIDC provider refused the sign-in", extra={"provider": name, "error": code})
        return _failed(request, 400, f"The provider did not sign you in ({code}: {reason}). Start again.")
    code_value = request.query_params.get("code", "")
    if not code_value or len(code_value) > 4096:
        return _failed(request, 400, "The provider's answer has no code. Start signing in again.")
    try:
        claims = await _client(request).exchange(
            provider,
            code=code_value,
            redirect_uri=redirect_uri(services, name),
            code_verifier=pending.code_verifier,
            nonce=pending.nonce,
        )
        signed_in = await current_user(request)
        user = await _account_for(services, provider, claims, pending.return_to, signed_in.id if signed_in else None)
    except OidcFailure as exc:
        logger.warning("OIDC sign-in refused", extra={"provider": name, "reason": exc.reason})
        return _failed(request, 403 if exc.reason.startswith("account") else 400, exc.message)
    response = RedirectResponse(pending.return_to, status_code=303, headers={"Cache-Control": "no-store"})
    await start_session(request, response, user.id)
    logger.info("signed in", extra={"user_id": user.id, "method": "oidc", "provider": name})
    return response


def _refuse(reason: str, message: str) -> OidcFailure:
    return OidcFailure("account_" + reason, message)


def _verified_email(claims: dict[str, Any]) -> str | None:
    email = claims.get("email")
    verified = claims.get("email_verified")
    if not isinstance(email, str) or not (verified is True or verified == "true"):
        return None
    return email.strip().lower()


async def _account_for(
    services: Services, provider: OidcProvider, claims: dict[str, Any], return_to: str, signed_in_id: str | None
) -> User:
    """The user a verified ID token signs in (see the module docstring), linking or creating one if allowed."""
    people = services.people
    subject = str(claims["sub"])
    email = _verified_email(claims)
    raw_email = claims.get("email") if isinstance(claims.get("email"), str) else None
    identity = await people.find_identity(provider.issuer, subject)
    if identity is not None:
        user = await people.get_user(identity.user_id)
        return _usable(provider, user)
    if signed_in_id is not None:
        user = _usable(provider, await people.get_user(signed_in_id))
        await _link(services, provider, user, subject, raw_email)
        return user
    if provider.match_by == "email":
        if email is None:
            raise _refuse(
                "unverified_email",
                "The provider did not confirm your e-mail address (email_verified), so it cannot be matched to an "
                "account here. Ask the provider's administrator, or sign in another way.",
            )
        existing = await people.get_user_by_email(email)
        if existing is not None:
            user = _usable(provider, existing)
            await _may_link_by_email(services, provider, user)
            await _link(services, provider, user, subject, raw_email)
            return user
    return await _create(services, provider, claims, subject, email, raw_email, return_to)


def _usable(provider: OidcProvider, user: User | None) -> User:
    if user is None or not user.active:
        raise _refuse("inactive", "This account is deactivated; ask an administrator.")
    if provider.tenant_id is not None and user.platform_admin:
        raise _refuse("platform_admin", "A platform admin cannot sign in with a tenant's provider.")
    return user


async def _may_link_by_email(services: Services, provider: OidcProvider, user: User) -> None:
    if provider.tenant_id is None:
        if not user.email_verified:
            raise _refuse(
                "unverified_account",
                "An account with this e-mail exists but its address was never confirmed; sign in with its password "
                "first, then sign in with this provider to link it.",
            )
        return
    tenants = {t.id for t, _ in await services.people.memberships_of(user.id)}
    if tenants != {provider.tenant_id}:
        raise _refuse(
            "other_tenants",
            "This provider can sign in only accounts that belong to its tenant alone; sign in another way, then "
            "sign in with this provider to link it.",
        )


async def _link(services: Services, provider: OidcProvider, user: User, subject: str, email: str | None) -> None:
    try:
        await services.people.link_identity(user.id, provider.issuer, subject, email[:320] if email else None)
    except Duplicate:
        raise _refuse("linked_elsewhere", "This account at the provider is linked to another user already.") from None


async def _create(
    services: Services,
    provider: OidcProvider,
    claims: dict[str, Any],
    subject: str,
    email: str | None,
    raw_email: str | None,
    return_to: str,
) -> User:
    people = services.people
    invitation = None
    match = _INVITATION_PATH.match(return_to)
    if match:
        found = await people.get_invitation(match.group(1))
        if found is not None and found.status(time.time()) == "pending":
            invitation = found
    if invitation is None and provider.tenant_id is None:
        raise _refuse(
            "no_account",
            "There is no account for you here. Ask a tenant's owner for an invitation, and open its link.",
        )
    if email is None:
        raise _refuse(
            "unverified_email",
            "The provider did not give a confirmed e-mail address (email_verified), which a new account needs.",
        )
    if invitation is not None and invitation.email is not None and invitation.email != email:
        raise _refuse("invitation_email", f"This invitation is for {invitation.email}; sign in with that account.")
    name = claims.get("name") if isinstance(claims.get("name"), str) else ""
    try:
        user = await people.create_user(
            email,
            name=str(name)[:200],
            # A tenant's provider vouches for addresses within its tenant only (see `_may_link_by_email`).
            email_verified=provider.tenant_id is None,
        )
    except Duplicate:
        raise _refuse(
            "email_taken", "An account with this e-mail exists already; sign in with it, then link this provider."
        ) from None
    except PeopleError as exc:
        raise _refuse("not_created", exc.message[:1].upper() + exc.message[1:] + ".") from None
    await _link(services, provider, user, subject, raw_email)
    if invitation is None and provider.tenant_id is not None:
        await people.add_member(provider.tenant_id, user.id, "member")
    logger.info("account created", extra={"user_id": user.id, "method": "oidc", "provider": provider.name})
    return user


def oidc_routes() -> list[BaseRoute]:
    return [
        Route("/signin/oidc/{name}", start, methods=["GET"], name="oidcSignin"),
        Route("/signin/oidc/{name}/callback", callback, methods=["GET"], name="oidcCallback"),
    ]
