"""Who may call the admin API, and on which tenant.

`Authorization: Bearer <API key>`. The platform admin key (`SAGEMCP_ADMIN_KEY`, or one
stored hashed) may do everything. A tenant key with scope `admin` manages its own
tenant only: for any other tenant the answer is the same 404 as for a tenant that
does not exist, so a key cannot even learn which other tenants exist.

A key limited to one connector never manages its tenant, whatever its scopes: the admin
API refuses it (403 `connector_limited_key`), and such keys can no longer be created with
the `admin` scope (`api_keys`). Managing a tenant reaches every connector, credential and
key of it, which a limit to one connector cannot express.

A request without an `Authorization` header may instead use a signed-in browser's session
cookie (`web.session`), with its CSRF token in `X-CSRF-Token` on every method but GET and
HEAD. The person's roles decide: a platform admin (`users.platform_admin`) is the platform
admin; an `owner` or `admin` of a tenant manages that tenant like a tenant key with the
`admin` scope (any other tenant is the same 404 as one that does not exist); a `member` has
no part in the admin API (403). Roles are read on every request, so a change takes effect at once.
"""

from __future__ import annotations

import hashlib
import hmac

from starlette.requests import HTTPConnection, Request

from sagemcp.mcp import bearer_token
from sagemcp.platform import Principal, Tenant

from ..db.store import Stamped
from ..services import Services
from ..web.session import SESSION_COOKIE, check_csrf_header, current_user
from .errors import ApiError
from .routing import Context, Operation

__all__ = ["EnvAdminAuthenticator", "authenticate", "tenant_for"]

ENV_ADMIN_ID = "platform-admin"


class EnvAdminAuthenticator:
    """Recognises the platform admin key given in `SAGEMCP_ADMIN_KEY` (only its hash is kept in memory)."""

    def __init__(self, raw_key: str) -> None:
        self._digest = hashlib.sha256(raw_key.encode("utf-8")).digest()
        self.principal = Principal(
            id=ENV_ADMIN_ID, kind="platform_admin", scopes=frozenset({"admin", "mcp"}), name="SAGEMCP_ADMIN_KEY"
        )

    async def authenticate(self, conn: HTTPConnection) -> Principal | None:
        token = bearer_token(conn)
        if token is None or len(token) > 512:
            return None
        if hmac.compare_digest(hashlib.sha256(token.encode("utf-8")).digest(), self._digest):
            return self.principal
        return None


async def authenticate(request: Request, op: Operation) -> Principal:
    """The caller of an admin operation; 401 without a valid key, 403 without the needed scope."""
    if op.access == "public":
        return Principal(id="anonymous", kind="anonymous")
    services: Services = request.app.state.services
    principal = await services.authenticator.authenticate(request)
    if principal is None or principal.kind == "anonymous":
        if request.headers.get("authorization") is None and SESSION_COOKIE in request.cookies:
            return await _session_principal(request, op)
        raise _not_authenticated(request)
    if principal.kind == "platform_admin":
        return principal
    if op.access == "platform":
        raise ApiError(403, "platform_admin_required", "Only the platform admin key can do this.")
    if "admin" not in principal.scopes:
        raise ApiError(403, "insufficient_scope", "This key lacks the `admin` scope needed for the admin API.")
    if principal.connector_id is not None:
        raise ApiError(
            403,
            "connector_limited_key",
            "This key is limited to one connector, so it cannot manage the tenant; use a tenant-wide key "
            "with the `admin` scope.",
        )
    return principal


_SAFE_METHODS = frozenset({"GET", "HEAD"})


async def _session_principal(request: Request, op: Operation) -> Principal:
    """The caller of a request signed in with the session cookie (see the module docstring)."""
    services: Services = request.app.state.services
    user = await current_user(request)
    if user is None:
        raise ApiError(401, "not_authenticated", "The sign-in session has expired or ended; sign in again at /signin.")
    if request.method not in _SAFE_METHODS:
        check_csrf_header(request)
    if user.platform_admin:
        return Principal(
            id=f"user:{user.id}",
            kind="platform_admin",
            scopes=frozenset({"admin", "mcp"}),
            name=user.email,
            user_id=user.id,
        )
    if op.access == "platform":
        raise ApiError(403, "platform_admin_required", "Only a platform admin can do this.")
    if not await services.people.managed_tenant_ids(user.id):
        raise ApiError(
            403,
            "admin_role_required",
            "Managing a tenant needs the owner or admin role in it; ask a tenant owner to change your role.",
        )
    return Principal(
        id=f"user:{user.id}", kind="user", scopes=frozenset({"admin", "mcp"}), name=user.email, user_id=user.id
    )


def _not_authenticated(request: Request) -> ApiError:
    """401 that says whether a key was missing, sent the wrong way, or not accepted."""
    header = request.headers.get("authorization")
    if header is None or not header.strip():
        return ApiError(401, "not_authenticated", "Send an API key: Authorization: Bearer <key>.")
    if bearer_token(request) is None:
        return ApiError(401, "not_authenticated", "Send the API key as a bearer token: Authorization: Bearer <key>.")
    return ApiError(
        401,
        "invalid_api_key",
        "The API key was not accepted: it is wrong, revoked, or its tenant was deleted. Check the key, or "
        "create a new one (`sagemcp key create`).",
    )


def _hidden(slug: str) -> ApiError:
    return ApiError(404, "tenant_not_found", f"Tenant {slug!r} not found or not accessible with this key.")


async def tenant_for(ctx: Context, slug: str | None = None) -> Stamped[Tenant]:
    """The tenant named in the path, if the caller may manage it; 404 otherwise (never another tenant's data)."""
    slug = slug if slug is not None else ctx.path["slug"]
    record = await ctx.services.store.get_tenant_record(slug)
    if record is None:
        raise _hidden(slug)
    if ctx.is_platform_admin:
        return record
    if ctx.principal.kind == "user":
        # A signed-in person manages the tenants they are an owner or admin of, as of this request.
        role = None
        if ctx.principal.user_id is not None:
            role = await ctx.services.people.role_of(record.item.id, ctx.principal.user_id)
        if role not in ("owner", "admin"):
            raise _hidden(slug)
        return record
    if ctx.principal.tenant_id != record.item.id:
        raise _hidden(slug)
    return record
