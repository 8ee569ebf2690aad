"""People in the admin API: `/admin/users` (platform admins only), a tenant's `/members` and `/invitations`,
and `GET /me` for a signed-in browser.

Only platform admins add an existing user to a tenant directly (`addMember`); a tenant's admins invite
people, so that they can neither learn who has an account on the platform nor add people of other tenants
without their consent.

Who may change roles: the platform admin, tenant admin keys and a tenant's owners may
give and take any role; a tenant `admin` manages admins and members but cannot make
anyone an owner, nor change or remove an owner (403 `owner_required`). The last owner
of a tenant always stays (409 `last_owner`, from `PeopleStore`).

An invitation's link (`{public URL}/invitations/{token}`) is in the answer that creates it
and nowhere else: only the SHA-256 of its token is stored.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sagemcp.platform import Tenant

from ..db.people import InvalidEmail, Invitation, Member, Role, User, normalize_email
from ..db.store import decode_cursor, encode_cursor
from ..passwords import PasswordPolicyError, check_policy
from ..services import Services
from ..web.session import current_user
from . import params
from .auth import tenant_for
from .credentials import revoke_upstream
from .errors import ApiError
from .people_schemas import (
    InvitationCreate,
    InvitationCreated,
    InvitationList,
    InvitationOut,
    MemberAdd,
    MemberList,
    MemberOut,
    MembershipOut,
    MemberUpdate,
    MeOut,
    UserCreate,
    UserDetail,
    UserList,
    UserOut,
    UserUpdate,
)
from .routing import Context, Operation
from .schemas import ListQuery

__all__ = ["OPERATIONS", "hash_new_password"]

logger = logging.getLogger("sagemcp_server.api")


async def hash_new_password(services: Services, password: str, field: str = "password") -> str:
    """The argon2id hash of a new password, or a 422 naming the rule it breaks."""
    try:
        check_policy(password)
    except PasswordPolicyError as exc:
        raise ApiError(422, "weak_password", f"The password is not accepted: {exc}.", [(field, str(exc))]) from None
    return await services.passwords.hash(password)


def _email(value: str, field: str = "email") -> str:
    try:
        return normalize_email(value)
    except InvalidEmail as exc:
        message = f"The e-mail address is not valid: {exc.message}."
        raise ApiError(422, "invalid_email", message, [(field, exc.message)]) from None


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        email_verified=user.email_verified,
        platform_admin=user.platform_admin,
        active=user.active,
        has_password=user.has_password,
        locked=user.locked(),
        created_at=user.created_at,
        updated_at=user.updated_at,
    )


def _no_user(user_id: str) -> ApiError:
    return ApiError(404, "user_not_found", f"There is no user {user_id!r}.")


# -- users ----------------------------------------------------------------------------------


async def create_user(ctx: Context, body: UserCreate) -> UserOut:
    email = _email(body.email)
    password_hash = None
    if body.password is not None:
        password_hash = await hash_new_password(ctx.services, body.password.get_secret_value())
    user = await ctx.services.people.create_user(
        email,
        name=body.name,
        password_hash=password_hash,
        email_verified=body.email_verified,
        platform_admin=body.platform_admin,
    )
    logger.info("user created", extra={"user_id": user.id})
    return user_out(user)


async def list_users(ctx: Context, query: ListQuery) -> UserList:
    after = None
    if query.cursor:
        decoded = decode_cursor(query.cursor, 1)
        if decoded is None:
            raise ApiError(422, "invalid_cursor", "The cursor is not one this API returned.", [("cursor", "invalid")])
        after = decoded[0]
    page = await ctx.services.people.list_users(limit=query.limit, after=after)
    cursor = encode_cursor([page.next_cursor]) if page.next_cursor is not None else None
    return UserList(items=[user_out(u) for u in page.items], next_cursor=cursor)


async def _user_detail(ctx: Context, user: User) -> UserDetail:
    people = ctx.services.people
    memberships = [
        MembershipOut(tenant=t.slug, tenant_name=t.name, role=role) for t, role in await people.memberships_of(user.id)
    ]
    identities = sorted({i.issuer for i in await people.list_identities(user.id)})
    return UserDetail(**user_out(user).model_dump(), memberships=memberships, identities=identities)


async def get_user(ctx: Context) -> UserDetail:
    user = await ctx.services.people.get_user(ctx.path["user_id"])
    if user is None:
        raise _no_user(ctx.path["user_id"])
    return await _user_detail(ctx, user)


async def update_user(ctx: Context, body: UserUpdate) -> UserDetail:
    people = ctx.services.people
    user_id = ctx.path["user_id"]
    if await people.get_user(user_id) is None:
        raise _no_user(user_id)
    email = _email(body.email) if body.email is not None else None
    password_hash = None
    if body.password is not None:
        password_hash = await hash_new_password(ctx.services, body.password.get_secret_value())
    updated = await people.update_user(
        user_id,
        name=body.name,
        email=email,
        email_verified=body.email_verified,
        platform_admin=body.platform_admin,
        active=body.active,
        unlock=body.unlock,
        password_hash=password_hash,
    )
    if updated is None:
        raise _no_user(user_id)
    if body.active is False:
        ctx.services.members_changed()  # a deactivated user's access tokens stop working at once
    logger.info("user updated", extra={"user_id": user_id})
    return await _user_detail(ctx, updated)


async def delete_user(ctx: Context) -> None:
    if not await ctx.services.people.delete_user(ctx.path["user_id"]):
        raise _no_user(ctx.path["user_id"])
    ctx.services.keys_changed()
    logger.info("user deleted", extra={"user_id": ctx.path["user_id"]})


# -- members --------------------------------------------------------------------------------


def member_out(member: Member) -> MemberOut:
    return MemberOut(
        user_id=member.user.id,
        email=member.user.email,
        name=member.user.name,
        role=member.role,
        active=member.user.active,
        created_at=member.created_at,
        updated_at=member.updated_at,
    )


async def _acting_role(ctx: Context, tenant: Tenant) -> Role:
    """The caller's standing in the tenant: keys and platform admins count as owners."""
    if ctx.principal.kind != "user" or ctx.principal.user_id is None:
        return "owner"
    role = await ctx.services.people.role_of(tenant.id, ctx.principal.user_id)
    return role or "member"


async def _require_owner_for(ctx: Context, tenant: Tenant, *roles: Role | None) -> None:
    if "owner" in roles and await _acting_role(ctx, tenant) != "owner":
        raise ApiError(
            403,
            "owner_required",
            f"Only an owner of tenant {tenant.slug!r} can give, change or take the owner role.",
        )


async def list_members(ctx: Context) -> MemberList:
    tenant = (await tenant_for(ctx)).item
    return MemberList(items=[member_out(m) for m in await ctx.services.people.list_members(tenant.id)])


async def add_member(ctx: Context, body: MemberAdd) -> MemberOut:
    tenant = (await tenant_for(ctx)).item
    await _require_owner_for(ctx, tenant, body.role)
    user = await ctx.services.people.get_user_by_email(_email(body.email))
    if user is None:
        raise ApiError(
            422,
            "unknown_user",
            "No user has this e-mail address; send them an invitation instead "
            f"(POST /api/v1/admin/tenants/{tenant.slug}/invitations).",
            [("email", "no such user")],
        )
    member = await ctx.services.people.add_member(tenant.id, user.id, body.role)
    logger.info("member added", extra={"tenant": tenant.slug, "user_id": user.id, "role": body.role})
    return member_out(member)


async def _member(ctx: Context, tenant: Tenant) -> Member:
    member = await ctx.services.people.get_member(tenant.id, ctx.path["user_id"])
    if member is None:
        raise ApiError(404, "member_not_found", f"Tenant {tenant.slug!r} has no member {ctx.path['user_id']!r}.")
    return member


async def update_member(ctx: Context, body: MemberUpdate) -> MemberOut:
    tenant = (await tenant_for(ctx)).item
    current = await _member(ctx, tenant)
    await _require_owner_for(ctx, tenant, current.role, body.role)
    updated = await ctx.services.people.set_role(tenant.id, current.user.id, body.role)
    if updated is None:
        raise ApiError(404, "member_not_found", f"Tenant {tenant.slug!r} has no member {current.user.id!r}.")
    logger.info("member role changed", extra={"tenant": tenant.slug, "user_id": current.user.id, "role": body.role})
    return member_out(updated)


async def remove_member(ctx: Context) -> None:
    tenant = (await tenant_for(ctx)).item
    current = await _member(ctx, tenant)
    await _require_owner_for(ctx, tenant, current.role)
    if not await ctx.services.people.remove_member(tenant.id, current.user.id):
        raise ApiError(404, "member_not_found", f"Tenant {tenant.slug!r} has no member {current.user.id!r}.")
    ctx.services.members_changed()  # their access tokens for this tenant stop working at once
    # The accounts they connected for this tenant go with them: revoked upstream where possible, then deleted.
    for found in await ctx.services.store.list_user_credentials(tenant.id, current.user.id):
        await revoke_upstream(ctx.services, tenant, found.item)
        ctx.services.credential_changed(tenant.slug, tenant.id, found.item.provider, current.user.id)
    await ctx.services.store.delete_user_credentials(tenant.id, current.user.id)
    logger.info("member removed", extra={"tenant": tenant.slug, "user_id": current.user.id})


# -- invitations ----------------------------------------------------------------------------


def invitation_out(invitation: Invitation) -> InvitationOut:
    return InvitationOut(
        id=invitation.id,
        role=invitation.role,
        email=invitation.email,
        status=invitation.status(),
        created_by=invitation.created_by,
        expires_at=datetime.fromtimestamp(invitation.expires_at, UTC),
        accepted_by=invitation.accepted_by,
        accepted_at=invitation.accepted_at,
        created_at=invitation.created_at,
    )


async def create_invitation(ctx: Context, body: InvitationCreate) -> InvitationCreated:
    tenant = (await tenant_for(ctx)).item
    await _require_owner_for(ctx, tenant, body.role)
    limit = ctx.services.settings.invitation_ttl
    if body.expires_in is not None and body.expires_in > limit:
        raise ApiError(
            422,
            "invalid_expiry",
            f"An invitation may be valid for at most {int(limit)} seconds (SAGEMCP_INVITATION_TTL).",
            [("expires_in", f"at most {int(limit)}")],
        )
    email = _email(body.email) if body.email is not None else None
    raw, invitation = await ctx.services.people.create_invitation(
        tenant.id,
        body.role,
        ttl=float(body.expires_in) if body.expires_in is not None else limit,
        created_by=ctx.principal.id,
        email=email,
    )
    logger.info("invitation created", extra={"tenant": tenant.slug, "invitation_id": invitation.id})
    return InvitationCreated(
        **invitation_out(invitation).model_dump(), url=f"{ctx.services.public_url}/invitations/{raw}"
    )


async def list_invitations(ctx: Context) -> InvitationList:
    tenant = (await tenant_for(ctx)).item
    return InvitationList(items=[invitation_out(i) for i in await ctx.services.people.list_invitations(tenant.id)])


async def revoke_invitation(ctx: Context) -> None:
    tenant = (await tenant_for(ctx)).item
    if not await ctx.services.people.revoke_invitation(tenant.id, ctx.path["invitation_id"]):
        raise ApiError(
            404,
            "invitation_not_found",
            f"Tenant {tenant.slug!r} has no pending invitation {ctx.path['invitation_id']!r}.",
        )
    logger.info("invitation revoked", extra={"tenant": tenant.slug, "invitation_id": ctx.path["invitation_id"]})


# -- me -------------------------------------------------------------------------------------


async def get_me(ctx: Context) -> MeOut:
    signed_in = await current_user(ctx.request)
    if signed_in is None:
        raise ApiError(401, "not_authenticated", "Sign in first at /signin; this needs the browser's session.")
    memberships = await ctx.services.people.memberships_of(signed_in.id)
    return MeOut(
        id=signed_in.id,
        email=signed_in.email,
        name=signed_in.name,
        platform_admin=signed_in.platform_admin,
        memberships=[MembershipOut(tenant=t.slug, tenant_name=t.name, role=role) for t, role in memberships],
        csrf_token=signed_in.csrf_token,
    )


_USER = {"user_id": params.USER_ID}
_MEMBER = {"slug": params.SLUG, "user_id": params.USER_ID}
_INVITATION = {"slug": params.SLUG, "invitation_id": params.INVITATION_ID}
_T = {"slug": params.SLUG}

OPERATIONS = [
    Operation(
        "POST",
        "/admin/users",
        "createUser",
        "Create a user",
        "users",
        create_user,
        UserOut,
        201,
        body=UserCreate,
        access="platform",
    ),
    Operation(
        "GET",
        "/admin/users",
        "listUsers",
        "List users by e-mail",
        "users",
        list_users,
        UserList,
        query=ListQuery,
        access="platform",
    ),
    Operation(
        "GET",
        "/admin/users/{user_id}",
        "getUser",
        "Read a user, their tenants and linked accounts",
        "users",
        get_user,
        UserDetail,
        params=_USER,
        access="platform",
    ),
    Operation(
        "PATCH",
        "/admin/users/{user_id}",
        "updateUser",
        "Change a user: name, e-mail, password, platform admin, active, unlock",
        "users",
        update_user,
        UserDetail,
        body=UserUpdate,
        params=_USER,
        access="platform",
    ),
    Operation(
        "DELETE",
        "/admin/users/{user_id}",
        "deleteUser",
        "Delete a user (not the last owner of a tenant)",
        "users",
        delete_user,
        None,
        204,
        params=_USER,
        access="platform",
    ),
    Operation(
        "GET",
        "/admin/tenants/{slug}/members",
        "listMembers",
        "List a tenant's members and their roles",
        "members",
        list_members,
        MemberList,
        params=_T,
    ),
    Operation(
        "POST",
        "/admin/tenants/{slug}/members",
        "addMember",
        "Add an existing user to a tenant with a role (platform admins; tenant admins send invitations)",
        "members",
        add_member,
        MemberOut,
        201,
        body=MemberAdd,
        params=_T,
        access="platform",
        description="Only platform admins add people directly: a tenant's admins could otherwise learn who has an "
        "account on the platform, and add people of other tenants without their consent. Tenant admins invite "
        "people instead (an invitation may name the e-mail that must accept it).",
    ),
    Operation(
        "PATCH",
        "/admin/tenants/{slug}/members/{user_id}",
        "updateMember",
        "Change a member's role",
        "members",
        update_member,
        MemberOut,
        body=MemberUpdate,
        params=_MEMBER,
    ),
    Operation(
        "DELETE",
        "/admin/tenants/{slug}/members/{user_id}",
        "removeMember",
        "Remove a member from a tenant (not its last owner)",
        "members",
        remove_member,
        None,
        204,
        params=_MEMBER,
    ),
    Operation(
        "POST",
        "/admin/tenants/{slug}/invitations",
        "createInvitation",
        "Invite someone into a tenant with a role: returns a one-time link (shown once)",
        "invitations",
        create_invitation,
        InvitationCreated,
        201,
        body=InvitationCreate,
        params=_T,
    ),
    Operation(
        "GET",
        "/admin/tenants/{slug}/invitations",
        "listInvitations",
        "List a tenant's invitations (never their links)",
        "invitations",
        list_invitations,
        InvitationList,
        params=_T,
    ),
    Operation(
        "DELETE",
        "/admin/tenants/{slug}/invitations/{invitation_id}",
        "revokeInvitation",
        "Revoke a pending invitation",
        "invitations",
        revoke_invitation,
        None,
        204,
        params=_INVITATION,
    ),
    Operation(
        "GET",
        "/me",
        "getMe",
        "The signed-in user (session cookie), their tenants and roles, and the CSRF token",
        "me",
        get_me,
        MeOut,
        access="public",
        description="Needs the browser's `sagemcp_session` cookie; answers 401 without it.",
    ),
]
