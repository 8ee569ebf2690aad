"""Signed-in browsers: the session cookie, who is signed in, CSRF tokens and safe redirects.

The cookie `sagemcp_session` holds 256 random bits; the database keeps only its SHA-256
(`web_sessions`), with an idle expiry (`SAGEMCP_SESSION_IDLE_TIMEOUT`) that each request
pushes forward, never past the absolute one (`SAGEMCP_SESSION_LIFETIME`). The cookie is
HttpOnly, SameSite=Lax, Path=/ and Secure when the public URL is https. Signing in always
starts a new session (the old one is deleted), so a session id planted before sign-in is
worthless; signing out deletes it.

CSRF: every session has a random secret; forms carry `HMAC-SHA256(secret, session hash)`
in a hidden `csrf_token` field, and JSON requests that use the cookie send the same value
in `X-CSRF-Token`. Forms shown before signing in (the sign-in form itself) use a separate
random cookie, `sagemcp_csrf`, the same way, so that another site cannot sign a browser
into an account of its choosing. `check_csrf` compares in constant time.

`current_user` must be awaited before `check_csrf` for a signed-in browser's token to be
known; `check_csrf` then checks that one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response

from ..api.errors import ApiError
from ..db.people import WebSession, token_hash

if TYPE_CHECKING:
    from ..services import Services

__all__ = [
    "ANONYMOUS_CSRF_COOKIE",
    "SESSION_COOKIE",
    "SignedInUser",
    "check_csrf",
    "check_csrf_header",
    "current_user",
    "end_session",
    "form_csrf_token",
    "safe_next",
    "set_pending_cookies",
    "signin_redirect",
    "start_session",
]

SESSION_COOKIE = "sagemcp_session"
ANONYMOUS_CSRF_COOKIE = "sagemcp_csrf"
DEFAULT_LANDING = "/account"
_TOUCH_AFTER = 60.0
"""Seconds between writes that push a session's idle expiry forward (not one write per request)."""
_COOKIE_RE = re.compile(r"^[A-Za-z0-9_-]{32,128}$")
_RESOLVED = "_sagemcp_user_resolved"


@dataclass(frozen=True)
class SignedInUser:
    """The person a browser is signed in as, and the CSRF token its forms must carry."""

    id: str
    email: str
    name: str
    platform_admin: bool
    csrf_token: str


def _services(conn: HTTPConnection) -> Services:
    services: Services = conn.app.state.services
    return services


def _secure(conn: HTTPConnection) -> bool:
    return _services(conn).public_url.startswith("https://")


def _session_csrf(session: WebSession) -> str:
    return hmac.new(bytes.fromhex(session.csrf_secret), session.token_hash.encode("ascii"), hashlib.sha256).hexdigest()


def _anonymous_csrf(cookie: str) -> str:
    return hmac.new(cookie.encode("ascii"), b"sagemcp-signin-form", hashlib.sha256).hexdigest()


async def current_user(request: HTTPConnection) -> SignedInUser | None:
    """The signed-in user of this request's session cookie, or None (no cookie, expired, deactivated).

    The answer is kept on `request.state` for the rest of the request; a session used
    again after a minute or more gets its idle expiry pushed forward.
    """
    state = request.state
    if getattr(state, _RESOLVED, False):
        user: SignedInUser | None = getattr(state, "signed_in_user", None)
        return user
    raw = request.cookies.get(SESSION_COOKIE, "")
    found: SignedInUser | None = None
    if _COOKIE_RE.match(raw):
        services = _services(request)
        session = await services.people.get_session(raw)
        if session is not None:
            person = await services.people.get_user(session.user_id)
            if person is not None and person.active:
                if time.time() - session.last_seen_at > _TOUCH_AFTER:
                    session = await services.people.touch_session(session)
                found = SignedInUser(
                    id=person.id,
                    email=person.email,
                    name=person.name,
                    platform_admin=person.platform_admin,
                    csrf_token=_session_csrf(session),
                )
                state.web_session = session
                state.csrf_token = found.csrf_token
    state.signed_in_user = found
    setattr(state, _RESOLVED, True)
    return found


def form_csrf_token(request: Request) -> str:
    """The token this request's forms carry: the session's when signed in (after `current_user`), otherwise
    the sign-in form token of the `sagemcp_csrf` cookie (made now, and set by `set_pending_cookies`)."""
    token: str | None = getattr(request.state, "csrf_token", None)
    if token:
        return token
    cookie = request.cookies.get(ANONYMOUS_CSRF_COOKIE, "")
    if not _COOKIE_RE.match(cookie):
        cookie = getattr(request.state, "new_anonymous_csrf", None) or secrets.token_urlsafe(32)
        request.state.new_anonymous_csrf = cookie
    return _anonymous_csrf(cookie)


def set_pending_cookies(request: Request, response: Response) -> Response:
    """Set the sign-in form cookie made by `form_csrf_token` for this request, if any."""
    cookie = getattr(request.state, "new_anonymous_csrf", None)
    if cookie:
        response.set_cookie(
            ANONYMOUS_CSRF_COOKIE, cookie, path="/", secure=_secure(request), httponly=True, samesite="lax"
        )
    return response


def _expected_csrf(request: HTTPConnection) -> str | None:
    token: str | None = getattr(request.state, "csrf_token", None)
    if token:
        return token
    cookie = request.cookies.get(ANONYMOUS_CSRF_COOKIE, "")
    return _anonymous_csrf(cookie) if _COOKIE_RE.match(cookie) else None


def check_csrf(request: HTTPConnection, submitted: str | None) -> None:
    """Raise `ApiError(403, "csrf_failed")` unless `submitted` is this browser's CSRF token."""
    expected = _expected_csrf(request)
    if not submitted or expected is None or not hmac.compare_digest(submitted.encode(), expected.encode()):
        raise ApiError(
            403,
            "csrf_failed",
            "The form is out of date or was not sent from this site. Reload the page and try again.",
        )


def check_csrf_header(request: HTTPConnection) -> None:
    """`check_csrf` for JSON requests that use the session cookie: the token is in `X-CSRF-Token`."""
    value = request.headers.get("x-csrf-token")
    try:
        check_csrf(request, value)
    except ApiError:
        raise ApiError(
            403,
            "csrf_failed",
            "A request signed in with the session cookie must send its CSRF token in the X-CSRF-Token header "
            "(GET /api/v1/me returns it).",
        ) from None


def safe_next(value: str | None, default: str = DEFAULT_LANDING) -> str:
    """`value` if it is a path on this server (`/x?y`), else `default`: never another site (open redirect)."""
    if not value or len(value) > 2048:
        return default
    if not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ord(c) < 0x21 or c in "\\\x7f" for c in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def signin_redirect(request: HTTPConnection) -> Response:
    """303 to the sign-in page, coming back to this page (path and query) afterwards."""
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    return RedirectResponse("/signin?next=" + quote(safe_next(target), safe="/"), status_code=303)


def _set_session_cookie(request: HTTPConnection, response: Response, raw: str) -> None:
    services = _services(request)
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=int(services.settings.session_lifetime),
        path="/",
        secure=_secure(request),
        httponly=True,
        samesite="lax",
    )


async def start_session(request: HTTPConnection, response: Response, user_id: str) -> None:
    """Sign `user_id` in on this browser: end any session it had, start a new one and set its cookie."""
    services = _services(request)
    old = request.cookies.get(SESSION_COOKIE, "")
    if _COOKIE_RE.match(old):
        await services.people.delete_session(token_hash(old))
    raw, _ = await services.people.create_session(user_id)
    await services.people.record_signin(user_id)
    _set_session_cookie(request, response, raw)
    response.delete_cookie(ANONYMOUS_CSRF_COOKIE, path="/", secure=_secure(request), httponly=True, samesite="lax")


async def end_session(request: HTTPConnection, response: Response) -> None:
    """Sign this browser out: delete its session and its cookie."""
    raw = request.cookies.get(SESSION_COOKIE, "")
    if _COOKIE_RE.match(raw):
        await _services(request).people.delete_session(token_hash(raw))
    response.delete_cookie(SESSION_COOKIE, path="/", secure=_secure(request), httponly=True, samesite="lax")
