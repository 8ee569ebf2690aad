"""`PeopleStore`: users, their identities at OpenID Connect providers, memberships in tenants, invitations,
signed-in browser sessions, OpenID Connect providers and pending sign-ins, in SQL.

It runs on the engine and `SecretBox` of the `SqlStore` it is given, with the same error
handling (database outages become `DatabaseUnavailable`, refused values `InvalidValue`).
Secrets are kept the same way: OIDC client secrets, nonces and PKCE verifiers encrypted,
each bound to its row and column; invitation tokens and session cookies only as SHA-256.

Rules kept here, whoever calls (the admin API, the CLI, the pages):

- e-mail addresses are validated and stored lower-cased; one user per address;
- a tenant always keeps an owner: its last `owner` can be neither demoted nor removed, and a
  user who is the last owner of a tenant cannot be deleted (checked inside the transaction
  that makes the change, so two concurrent changes cannot both pass);
- an invitation is accepted at most once, before it expires, by the e-mail it names (if any);
- everything a caller can create is bounded: users (`max_users`), pending invitations per
  tenant, sessions per user (the oldest is signed out), OIDC providers, pending sign-ins.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import SecretStr
from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from sagemcp.errors import SageMCPError
from sagemcp.platform import SecretBox, Tenant, new_id, utcnow

from .models import (
    InvitationRow,
    MembershipRow,
    OidcProviderRow,
    OidcStateRow,
    TenantRow,
    UserIdentityRow,
    UserRow,
    WebSessionRow,
)
from .store import Duplicate, Page, SqlStore

__all__ = [
    "ROLES",
    "Identity",
    "InvalidEmail",
    "Invitation",
    "InvitationUnusable",
    "LastOwner",
    "Member",
    "OidcPending",
    "OidcProvider",
    "PeopleError",
    "PeopleLimitReached",
    "PeopleLimits",
    "PeopleStore",
    "Role",
    "User",
    "WebSession",
    "invitation_problem",
    "normalize_email",
    "token_hash",
]

Role = Literal["owner", "admin", "member"]
ROLES: tuple[Role, ...] = ("owner", "admin", "member")
_RANK = {"member": 0, "admin": 1, "owner": 2}

_EMAIL_LOCAL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}$")
_EMAIL_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class PeopleError(SageMCPError):
    """A request that breaks a rule about people; `status` is the HTTP status the API answers with."""

    code = "invalid_request"
    status = 422


class InvalidEmail(PeopleError):
    code = "invalid_email"


class LastOwner(PeopleError):
    code = "last_owner"
    status = 409


class PeopleLimitReached(PeopleError):
    code = "limit_reached"
    status = 409


class InvitationUnusable(PeopleError):
    """The invitation is unknown, expired, revoked, already accepted, or for another e-mail."""

    code = "invitation_unusable"
    status = 400


def normalize_email(value: str) -> str:
    """`value` lower-cased and checked to look like an address; `InvalidEmail` says what is wrong."""
    email = value.strip().lower()
    if not email or len(email) > 320:
        raise InvalidEmail("an e-mail address must have 1 to 320 characters")
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain:
        raise InvalidEmail(f"{email[:80]!r} is not an e-mail address (name@example.com)")
    if not _EMAIL_LOCAL.match(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        raise InvalidEmail(f"the part before @ of {email[:80]!r} is not valid")
    labels = domain.split(".")
    if len(labels) < 2 or len(domain) > 253 or not all(_EMAIL_LABEL.match(label) for label in labels):
        raise InvalidEmail(f"the domain of {email[:80]!r} is not valid (example.com)")
    return email


def token_hash(raw: str) -> str:
    """How invitation tokens, session cookies and OIDC states are kept: SHA-256, hex."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class PeopleLimits:
    max_users: int | None = 10_000
    max_sessions_per_user: int = 20
    max_pending_invitations_per_tenant: int = 100
    invitation_history_per_tenant: int = 200
    """Accepted, revoked and expired invitations kept per tenant (for the list); older ones are deleted."""
    max_oidc_providers: int = 50
    """Per tenant, and for the platform."""
    max_pending_oidc_signins: int = 10_000
    session_idle_timeout: float = 8 * 3600
    session_lifetime: float = 7 * 86400


@dataclass(frozen=True)
class User:
    id: str
    email: str
    name: str
    email_verified: bool
    platform_admin: bool
    active: bool
    has_password: bool
    locked_until: float | None
    created_at: datetime
    updated_at: datetime

    def locked(self, now: float | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (time.time() if now is None else now)


@dataclass(frozen=True)
class Member:
    user: User
    role: Role
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Identity:
    id: str
    user_id: str
    issuer: str
    subject: str
    email: str | None
    created_at: datetime


@dataclass(frozen=True)
class Invitation:
    id: str
    tenant_id: str
    email: str | None
    role: Role
    created_by: str
    expires_at: float
    accepted_by: str | None
    accepted_at: datetime | None
    revoked: bool
    created_at: datetime

    def status(self, now: float | None = None) -> Literal["pending", "accepted", "revoked", "expired"]:
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked:
            return "revoked"
        if self.expires_at <= (time.time() if now is None else now):
            return "expired"
        return "pending"


@dataclass(frozen=True)
class WebSession:
    token_hash: str
    user_id: str
    csrf_secret: str
    created_at: float
    expires_at: float
    last_seen_at: float


@dataclass(frozen=True)
class OidcProvider:
    id: str
    tenant_id: str | None
    name: str
    display_name: str
    issuer: str
    client_id: str
    client_secret: SecretStr | None
    scopes: list[str]
    match_by: Literal["email", "subject"]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class OidcPending:
    provider_id: str
    nonce: str
    code_verifier: str
    return_to: str
    expires_at: float


class PeopleStore:
    """People, memberships and sign-in state; see the module docstring for the rules it keeps."""

    def __init__(self, store: SqlStore, limits: PeopleLimits | None = None) -> None:
        self._store = store
        self.engine = store.engine
        self.box: SecretBox = store.box
        self.limits = limits or PeopleLimits()

    # -- users ---------------------------------------------------------------------------

    @staticmethod
    def _user(row: Any) -> User:
        return User(
            id=row.id,
            email=row.email,
            name=row.name,
            email_verified=row.email_verified,
            platform_admin=row.platform_admin,
            active=row.active,
            has_password=row.password_hash is not None,
            locked_until=row.locked_until,
            created_at=_aware(row.created_at),
            updated_at=_aware(row.updated_at),
        )

    async def get_user(self, user_id: str) -> User | None:
        if len(user_id) > 64:
            return None
        async with self._store.read() as conn:
            row = (await conn.execute(select(UserRow).where(UserRow.id == user_id))).first()
        return self._user(row) if row is not None else None

    async def get_user_by_email(self, email: str) -> User | None:
        try:
            email = normalize_email(email)
        except InvalidEmail:
            return None
        async with self._store.read() as conn:
            row = (await conn.execute(select(UserRow).where(UserRow.email == email))).first()
        return self._user(row) if row is not None else None

    async def password_state(self, email: str) -> tuple[User, str | None, int] | None:
        """The user with this e-mail, their password hash and consecutive failed sign-ins (for sign-in only)."""
        try:
            email = normalize_email(email)
        except InvalidEmail:
            return None
        async with self._store.read() as conn:
            row = (await conn.execute(select(UserRow).where(UserRow.email == email))).first()
        return (self._user(row), row.password_hash, row.failed_signins) if row is not None else None

    async def create_user(
        self,
        email: str,
        *,
        name: str = "",
        password_hash: str | None = None,
        email_verified: bool = False,
        platform_admin: bool = False,
    ) -> User:
        """A new user; `Duplicate` if the e-mail is taken, `PeopleLimitReached` beyond `max_users`."""
        email = normalize_email(email)
        now = utcnow()
        user_id = new_id()
        limit = self.limits.max_users
        try:
            async with self._store.write() as conn:
                if limit is not None:
                    count = int((await conn.execute(select(func.count()).select_from(UserRow))).scalar_one())
                    if count >= limit:
                        raise PeopleLimitReached(
                            f"the platform has {limit} users, its limit (SAGEMCP_MAX_USERS); delete unused "
                            "accounts or raise the limit"
                        )
                await conn.execute(
                    insert(UserRow).values(
                        id=user_id,
                        email=email,
                        name=name,
                        password_hash=password_hash,
                        email_verified=email_verified,
                        platform_admin=platform_admin,
                        active=True,
                        failed_signins=0,
                        created_at=now,
                        updated_at=now,
                    )
                )
                row = (await conn.execute(select(UserRow).where(UserRow.id == user_id))).one()
        except IntegrityError:
            raise Duplicate(f"a user with e-mail {email!r} already exists") from None
        return self._user(row)

    async def list_users(self, *, limit: int = 100, after: str | None = None) -> Page[User]:
        """Users ordered by e-mail; `after` is the last e-mail of the previous page."""
        query = select(UserRow).order_by(UserRow.email).limit(limit + 1)
        if after is not None:
            query = query.where(UserRow.email > after)
        async with self._store.read() as conn:
            rows = (await conn.execute(query)).all()
        items = [self._user(r) for r in rows[:limit]]
        return Page(items, items[-1].email if len(rows) > limit else None)

    async def update_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        email: str | None = None,
        email_verified: bool | None = None,
        platform_admin: bool | None = None,
        active: bool | None = None,
        unlock: bool = False,
        password_hash: str | None = None,
    ) -> User | None:
        """Change a user in one transaction; a new password or deactivating signs them out everywhere (a new
        password also clears a lockout). None if there is no such user."""
        values: dict[str, Any] = {"updated_at": utcnow()}
        if password_hash is not None:
            values["password_hash"] = password_hash
            unlock = True
        if name is not None:
            values["name"] = name
        if email is not None:
            values["email"] = normalize_email(email)
        if email_verified is not None:
            values["email_verified"] = email_verified
        if platform_admin is not None:
            values["platform_admin"] = platform_admin
        if active is not None:
            values["active"] = active
        if unlock:
            values["failed_signins"] = 0
            values["locked_until"] = None
        try:
            async with self._store.write() as conn:
                result = await conn.execute(update(UserRow).where(UserRow.id == user_id).values(**values))
                if not result.rowcount:
                    return None
                if active is False or password_hash is not None:
                    await conn.execute(delete(WebSessionRow).where(WebSessionRow.user_id == user_id))
                row = (await conn.execute(select(UserRow).where(UserRow.id == user_id))).one()
        except IntegrityError:
            raise Duplicate(f"a user with e-mail {values.get('email')!r} already exists") from None
        return self._user(row)

    async def rehash_password(self, user_id: str, old_hash: str, new_hash: str) -> None:
        """Store a hash made with new parameters, unless the password was changed meanwhile."""
        async with self._store.write() as conn:
            await conn.execute(
                update(UserRow)
                .where(UserRow.id == user_id, UserRow.password_hash == old_hash)
                .values(password_hash=new_hash)
            )

    async def record_failed_signin(self, user_id: str, *, max_failures: int, lockout: float) -> bool:
        """Count a failed password sign-in; at `max_failures` in a row, lock the account for `lockout`
        seconds (and start counting again). Returns whether the account is now locked."""
        now = time.time()
        async with self._store.write() as conn:
            row = (
                await conn.execute(
                    update(UserRow)
                    .where(UserRow.id == user_id)
                    .values(failed_signins=UserRow.failed_signins + 1)
                    .returning(UserRow.failed_signins)
                )
            ).first()
            if row is None or row.failed_signins < max_failures:
                return False
            await conn.execute(
                update(UserRow).where(UserRow.id == user_id).values(failed_signins=0, locked_until=now + lockout)
            )
        return True

    async def record_signin(self, user_id: str) -> None:
        """A successful sign-in: clear the failure count."""
        async with self._store.write() as conn:
            await conn.execute(update(UserRow).where(UserRow.id == user_id).values(failed_signins=0, locked_until=None))

    async def delete_user(self, user_id: str) -> bool:
        """Delete a user with their memberships, identities and sessions; `LastOwner` if a tenant would be left
        without an owner."""
        async with self._store.write() as conn:
            owned = (
                await conn.execute(
                    select(MembershipRow.tenant_id).where(
                        MembershipRow.user_id == user_id, MembershipRow.role == "owner"
                    )
                )
            ).all()
            for (tenant_id,) in owned:
                await self._lock_tenant(conn, tenant_id)
            result = await conn.execute(delete(UserRow).where(UserRow.id == user_id))
            for (tenant_id,) in owned:
                await self._require_owner(conn, tenant_id, "deleted: they are the last owner of")
        return bool(result.rowcount)

    # -- identities ----------------------------------------------------------------------

    @staticmethod
    def _identity(row: Any) -> Identity:
        return Identity(row.id, row.user_id, row.issuer, row.subject, row.email, _aware(row.created_at))

    async def find_identity(self, issuer: str, subject: str) -> Identity | None:
        query = select(UserIdentityRow).where(UserIdentityRow.issuer == issuer, UserIdentityRow.subject == subject)
        async with self._store.read() as conn:
            row = (await conn.execute(query)).first()
        return self._identity(row) if row is not None else None

    async def link_identity(self, user_id: str, issuer: str, subject: str, email: str | None) -> Identity:
        """Link an account at a provider to a user; `Duplicate` if it is linked to someone already."""
        identity_id = new_id()
        now = utcnow()
        try:
            async with self._store.write() as conn:
                await conn.execute(
                    insert(UserIdentityRow).values(
                        id=identity_id, user_id=user_id, issuer=issuer, subject=subject, email=email, created_at=now
                    )
                )
        except IntegrityError:
            raise Duplicate("this account at the provider is linked to another user already") from None
        return Identity(identity_id, user_id, issuer, subject, email, now)

    async def list_identities(self, user_id: str) -> list[Identity]:
        query = select(UserIdentityRow).where(UserIdentityRow.user_id == user_id).order_by(UserIdentityRow.issuer)
        async with self._store.read() as conn:
            return [self._identity(r) for r in (await conn.execute(query)).all()]

    # -- memberships ---------------------------------------------------------------------

    async def _lock_tenant(self, conn: AsyncConnection, tenant_id: str) -> None:
        """Serialise changes to one tenant's memberships (PostgreSQL row lock; SQLite has one writer anyway)."""
        if not self._store._sqlite:
            await conn.execute(select(TenantRow.id).where(TenantRow.id == tenant_id).with_for_update())

    @staticmethod
    async def _is_owner(conn: AsyncConnection, tenant_id: str, user_id: str) -> bool:
        query = select(MembershipRow.role).where(MembershipRow.tenant_id == tenant_id, MembershipRow.user_id == user_id)
        return (await conn.execute(query)).scalar_one_or_none() == "owner"

    @staticmethod
    async def _require_owner(conn: AsyncConnection, tenant_id: str, what: str) -> None:
        """Raise `LastOwner` (rolling the transaction back) if the tenant has no owner left but still exists."""
        owners = (
            await conn.execute(
                select(func.count())
                .select_from(MembershipRow)
                .where(MembershipRow.tenant_id == tenant_id, MembershipRow.role == "owner")
            )
        ).scalar_one()
        if owners:
            return
        slug = (await conn.execute(select(TenantRow.slug).where(TenantRow.id == tenant_id))).scalar_one_or_none()
        if slug is None:
            return
        raise LastOwner(f"the user cannot be {what} tenant {slug!r}; make someone else an owner first")

    async def role_of(self, tenant_id: str, user_id: str) -> Role | None:
        query = select(MembershipRow.role).where(MembershipRow.tenant_id == tenant_id, MembershipRow.user_id == user_id)
        async with self._store.read() as conn:
            role = (await conn.execute(query)).scalar_one_or_none()
        return _as_role(role) if role in _RANK else None

    async def memberships_of(self, user_id: str) -> list[tuple[Tenant, Role]]:
        """The tenants a user belongs to, with their role, by slug."""
        query = (
            select(TenantRow, MembershipRow.role)
            .join(MembershipRow, MembershipRow.tenant_id == TenantRow.id)
            .where(MembershipRow.user_id == user_id)
            .order_by(TenantRow.slug)
        )
        async with self._store.read() as conn:
            rows = (await conn.execute(query)).all()
        return [
            (Tenant(id=r.id, slug=r.slug, name=r.name, active=r.active, generation=r.generation), r.role) for r in rows
        ]

    async def managed_tenant_ids(self, user_id: str) -> list[str]:
        """The tenants a user may manage (role `owner` or `admin`)."""
        query = select(MembershipRow.tenant_id).where(
            MembershipRow.user_id == user_id, MembershipRow.role.in_(("owner", "admin"))
        )
        async with self._store.read() as conn:
            return [r[0] for r in (await conn.execute(query)).all()]

    async def list_members(self, tenant_id: str) -> list[Member]:
        query = (
            select(
                UserRow,
                MembershipRow.role,
                MembershipRow.created_at.label("m_created"),
                MembershipRow.updated_at.label("m_updated"),
            )
            .join(MembershipRow, MembershipRow.user_id == UserRow.id)
            .where(MembershipRow.tenant_id == tenant_id)
            .order_by(UserRow.email)
        )
        async with self._store.read() as conn:
            rows = (await conn.execute(query)).all()
        return [Member(self._user(r), r.role, _aware(r.m_created), _aware(r.m_updated)) for r in rows]

    async def get_member(self, tenant_id: str, user_id: str) -> Member | None:
        for member in await self.list_members_of(tenant_id, [user_id]):
            return member
        return None

    async def list_members_of(self, tenant_id: str, user_ids: Sequence[str]) -> list[Member]:
        query = (
            select(
                UserRow,
                MembershipRow.role,
                MembershipRow.created_at.label("m_created"),
                MembershipRow.updated_at.label("m_updated"),
            )
            .join(MembershipRow, MembershipRow.user_id == UserRow.id)
            .where(MembershipRow.tenant_id == tenant_id, MembershipRow.user_id.in_(list(user_ids)))
        )
        async with self._store.read() as conn:
            rows = (await conn.execute(query)).all()
        return [Member(self._user(r), r.role, _aware(r.m_created), _aware(r.m_updated)) for r in rows]

    async def add_member(self, tenant_id: str, user_id: str, role: Role) -> Member:
        """Make a user a member; `Duplicate` if they are one already (change the role with `set_role`)."""
        _check_role(role)
        now = utcnow()
        try:
            async with self._store.write() as conn:
                await conn.execute(
                    insert(MembershipRow).values(
                        tenant_id=tenant_id, user_id=user_id, role=role, created_at=now, updated_at=now
                    )
                )
        except IntegrityError:
            if await self.role_of(tenant_id, user_id) is not None:
                raise Duplicate("the user is a member of this tenant already; change their role instead") from None
            raise
        member = await self.get_member(tenant_id, user_id)
        assert member is not None
        return member

    async def set_role(self, tenant_id: str, user_id: str, role: Role) -> Member | None:
        """Change a member's role; None if they are no member, `LastOwner` when demoting the last owner."""
        _check_role(role)
        async with self._store.write() as conn:
            await self._lock_tenant(conn, tenant_id)
            was_owner = await self._is_owner(conn, tenant_id, user_id)
            result = await conn.execute(
                update(MembershipRow)
                .where(MembershipRow.tenant_id == tenant_id, MembershipRow.user_id == user_id)
                .values(role=role, updated_at=utcnow())
            )
            if not result.rowcount:
                return None
            if was_owner:
                await self._require_owner(conn, tenant_id, f"made {role} in")
        return await self.get_member(tenant_id, user_id)

    async def remove_member(self, tenant_id: str, user_id: str) -> bool:
        """End a membership; `LastOwner` when it is the tenant's last owner."""
        async with self._store.write() as conn:
            await self._lock_tenant(conn, tenant_id)
            was_owner = await self._is_owner(conn, tenant_id, user_id)
            result = await conn.execute(
                delete(MembershipRow).where(MembershipRow.tenant_id == tenant_id, MembershipRow.user_id == user_id)
            )
            if result.rowcount and was_owner:
                await self._require_owner(conn, tenant_id, "removed from")
        return bool(result.rowcount)

    # -- invitations ---------------------------------------------------------------------

    @staticmethod
    def _invitation(row: Any) -> Invitation:
        return Invitation(
            id=row.id,
            tenant_id=row.tenant_id,
            email=row.email,
            role=row.role,
            created_by=row.created_by,
            expires_at=row.expires_at,
            accepted_by=row.accepted_by,
            accepted_at=_aware(row.accepted_at) if row.accepted_at is not None else None,
            revoked=row.revoked,
            created_at=_aware(row.created_at),
        )

    @staticmethod
    def _pending_invitation(now: float) -> Any:
        return and_(
            InvitationRow.accepted_at.is_(None), InvitationRow.revoked.is_(False), InvitationRow.expires_at > now
        )

    async def create_invitation(
        self, tenant_id: str, role: Role, *, ttl: float, created_by: str, email: str | None = None
    ) -> tuple[str, Invitation]:
        """A new invitation and its one-time token (returned only here; only its hash is stored)."""
        _check_role(role)
        email = normalize_email(email) if email is not None else None
        raw = secrets.token_urlsafe(32)
        now = time.time()
        created = utcnow()
        invitation_id = new_id()
        limit = self.limits.max_pending_invitations_per_tenant
        try:
            async with self._store.write() as conn:
                await self._lock_tenant(conn, tenant_id)
                pending = (
                    await conn.execute(
                        select(func.count())
                        .select_from(InvitationRow)
                        .where(InvitationRow.tenant_id == tenant_id, self._pending_invitation(now))
                    )
                ).scalar_one()
                if pending >= limit:
                    raise PeopleLimitReached(
                        f"the tenant has {limit} pending invitations, the limit "
                        "(SAGEMCP_MAX_PENDING_INVITATIONS); revoke unused ones first"
                    )
                await self._trim_invitations(conn, tenant_id, now)
                await conn.execute(
                    insert(InvitationRow).values(
                        id=invitation_id,
                        tenant_id=tenant_id,
                        token_hash=token_hash(raw),
                        email=email,
                        role=role,
                        created_by=created_by,
                        expires_at=now + ttl,
                        revoked=False,
                        created_at=created,
                    )
                )
                row = (await conn.execute(select(InvitationRow).where(InvitationRow.id == invitation_id))).one()
        except IntegrityError:
            from sagemcp.errors import TenantNotFound

            raise TenantNotFound(f"no tenant with id {tenant_id!r}") from None
        return raw, self._invitation(row)

    async def _trim_invitations(self, conn: AsyncConnection, tenant_id: str, now: float) -> None:
        """Keep at most `invitation_history_per_tenant` finished invitations of a tenant (the newest)."""
        keep = self.limits.invitation_history_per_tenant
        finished = (
            select(InvitationRow.id)
            .where(InvitationRow.tenant_id == tenant_id, ~self._pending_invitation(now))
            .order_by(InvitationRow.created_at.desc(), InvitationRow.id.desc())
            .offset(max(keep - 1, 0))
        )
        stale = [r[0] for r in (await conn.execute(finished)).all()]
        if stale:
            await conn.execute(delete(InvitationRow).where(InvitationRow.id.in_(stale)))

    async def get_invitation(self, raw_token: str) -> Invitation | None:
        """The invitation with this token, in whatever state it is."""
        if not raw_token or len(raw_token) > 128:
            return None
        query = select(InvitationRow).where(InvitationRow.token_hash == token_hash(raw_token))
        async with self._store.read() as conn:
            row = (await conn.execute(query)).first()
        return self._invitation(row) if row is not None else None

    async def list_invitations(self, tenant_id: str) -> list[Invitation]:
        query = (
            select(InvitationRow)
            .where(InvitationRow.tenant_id == tenant_id)
            .order_by(InvitationRow.created_at.desc(), InvitationRow.id)
        )
        async with self._store.read() as conn:
            return [self._invitation(r) for r in (await conn.execute(query)).all()]

    async def revoke_invitation(self, tenant_id: str, invitation_id: str) -> bool:
        """Revoke a pending invitation; False if the tenant has no such pending invitation."""
        if len(invitation_id) > 64:
            return False
        async with self._store.write() as conn:
            result = await conn.execute(
                update(InvitationRow)
                .where(
                    InvitationRow.tenant_id == tenant_id,
                    InvitationRow.id == invitation_id,
                    self._pending_invitation(time.time()),
                )
                .values(revoked=True)
            )
        return bool(result.rowcount)

    async def accept_invitation(self, raw_token: str, user: User) -> tuple[Invitation, Role]:
        """Accept an invitation for `user`: exactly once, before it expires, by the e-mail it names.

        The user becomes a member with the invitation's role; one who is a member already keeps
        the higher of their role and the invited one (an invitation never demotes). Returns the
        invitation and the resulting role; `InvitationUnusable` says why it cannot be accepted.
        """
        invitation = await self.get_invitation(raw_token)
        if invitation is None or invitation.status() != "pending":
            raise InvitationUnusable(invitation_problem(invitation))
        if invitation.email is not None and invitation.email != user.email:
            raise InvitationUnusable(
                "this invitation is for another e-mail address; sign in with the account it was sent to"
            )
        now = utcnow()
        async with self._store.write() as conn:
            await self._lock_tenant(conn, invitation.tenant_id)
            taken = await conn.execute(
                update(InvitationRow)
                .where(InvitationRow.id == invitation.id, self._pending_invitation(time.time()))
                .values(accepted_by=user.id, accepted_at=now)
            )
            if not taken.rowcount:
                raise InvitationUnusable(invitation_problem(None))
            current = (
                await conn.execute(
                    select(MembershipRow.role).where(
                        MembershipRow.tenant_id == invitation.tenant_id, MembershipRow.user_id == user.id
                    )
                )
            ).scalar_one_or_none()
            role: Role = invitation.role
            if current is None:
                await conn.execute(
                    insert(MembershipRow).values(
                        tenant_id=invitation.tenant_id, user_id=user.id, role=role, created_at=now, updated_at=now
                    )
                )
            elif _RANK[current] < _RANK[role]:
                await conn.execute(
                    update(MembershipRow)
                    .where(MembershipRow.tenant_id == invitation.tenant_id, MembershipRow.user_id == user.id)
                    .values(role=role, updated_at=now)
                )
            else:
                role = _as_role(current)
        return invitation, role

    # -- web sessions --------------------------------------------------------------------

    @staticmethod
    def _session(row: Any) -> WebSession:
        return WebSession(
            row.token_hash, row.user_id, row.csrf_secret, row.created_at, row.expires_at, row.last_seen_at
        )

    async def create_session(self, user_id: str) -> tuple[str, WebSession]:
        """A new session and its cookie value (256 random bits; only the hash is stored). A user over
        `max_sessions_per_user` loses their oldest sessions; expired sessions of anyone are deleted."""
        raw = secrets.token_urlsafe(32)
        now = time.time()
        session = WebSession(
            token_hash=token_hash(raw),
            user_id=user_id,
            csrf_secret=secrets.token_hex(32),
            created_at=now,
            expires_at=now + min(self.limits.session_idle_timeout, self.limits.session_lifetime),
            last_seen_at=now,
        )
        async with self._store.write() as conn:
            await conn.execute(delete(WebSessionRow).where(WebSessionRow.expires_at <= now))
            keep = max(self.limits.max_sessions_per_user - 1, 0)
            older = (
                select(WebSessionRow.token_hash)
                .where(WebSessionRow.user_id == user_id)
                .order_by(WebSessionRow.last_seen_at.desc(), WebSessionRow.token_hash)
                .offset(keep)
            )
            stale = [r[0] for r in (await conn.execute(older)).all()]
            if stale:
                await conn.execute(delete(WebSessionRow).where(WebSessionRow.token_hash.in_(stale)))
            await conn.execute(
                insert(WebSessionRow).values(
                    token_hash=session.token_hash,
                    user_id=user_id,
                    csrf_secret=session.csrf_secret,
                    created_at=session.created_at,
                    expires_at=session.expires_at,
                    last_seen_at=session.last_seen_at,
                )
            )
        return raw, session

    async def get_session(self, raw_token: str) -> WebSession | None:
        """The live session of a cookie value; None if unknown or expired."""
        if not raw_token or len(raw_token) > 128:
            return None
        query = select(WebSessionRow).where(
            WebSessionRow.token_hash == token_hash(raw_token), WebSessionRow.expires_at > time.time()
        )
        async with self._store.read() as conn:
            row = (await conn.execute(query)).first()
        return self._session(row) if row is not None else None

    async def touch_session(self, session: WebSession) -> WebSession:
        """Extend a session's idle expiry (never past its absolute lifetime)."""
        now = time.time()
        expires = min(now + self.limits.session_idle_timeout, session.created_at + self.limits.session_lifetime)
        async with self._store.write() as conn:
            await conn.execute(
                update(WebSessionRow)
                .where(WebSessionRow.token_hash == session.token_hash)
                .values(last_seen_at=now, expires_at=expires)
            )
        return WebSession(session.token_hash, session.user_id, session.csrf_secret, session.created_at, expires, now)

    async def delete_session(self, session_hash: str) -> bool:
        async with self._store.write() as conn:
            result = await conn.execute(delete(WebSessionRow).where(WebSessionRow.token_hash == session_hash))
        return bool(result.rowcount)

    # -- OpenID Connect providers ----------------------------------------------------------

    @staticmethod
    def _secret_context(provider_id: str) -> str:
        return f"oidc_provider:{provider_id}:client_secret"

    def _provider(self, row: Any) -> OidcProvider:
        secret = None
        if row.client_secret_enc is not None:
            secret = SecretStr(self.box.decrypt(row.client_secret_enc, context=self._secret_context(row.id)))
        return OidcProvider(
            id=row.id,
            tenant_id=row.tenant_id,
            name=row.name,
            display_name=row.display_name,
            issuer=row.issuer,
            client_id=row.client_id,
            client_secret=secret,
            scopes=list(row.scopes or []),
            match_by=row.match_by,
            created_at=_aware(row.created_at),
            updated_at=_aware(row.updated_at),
        )

    async def create_oidc_provider(
        self,
        *,
        tenant_id: str | None,
        name: str,
        issuer: str,
        client_id: str,
        client_secret: str | None,
        scopes: Sequence[str],
        match_by: Literal["email", "subject"],
        display_name: str = "",
    ) -> OidcProvider:
        """A new provider for the platform (`tenant_id` None) or a tenant; names are unique platform-wide
        (they are part of the redirect URI)."""
        provider_id = new_id()
        now = utcnow()
        secret = self.box.encrypt(client_secret, context=self._secret_context(provider_id)) if client_secret else None
        owner = OidcProviderRow.tenant_id.is_(None) if tenant_id is None else OidcProviderRow.tenant_id == tenant_id
        try:
            async with self._store.write() as conn:
                if tenant_id is not None:
                    await self._lock_tenant(conn, tenant_id)
                count = (
                    await conn.execute(select(func.count()).select_from(OidcProviderRow).where(owner))
                ).scalar_one()
                if count >= self.limits.max_oidc_providers:
                    raise PeopleLimitReached(
                        f"at most {self.limits.max_oidc_providers} sign-in providers may be configured here; "
                        "remove one first"
                    )
                await conn.execute(
                    insert(OidcProviderRow).values(
                        id=provider_id,
                        tenant_id=tenant_id,
                        name=name,
                        display_name=display_name,
                        issuer=issuer,
                        client_id=client_id,
                        client_secret_enc=secret,
                        scopes=list(scopes),
                        match_by=match_by,
                        created_at=now,
                        updated_at=now,
                    )
                )
                row = (await conn.execute(select(OidcProviderRow).where(OidcProviderRow.id == provider_id))).one()
        except IntegrityError:
            raise Duplicate(f"a sign-in provider named {name!r} exists already (names are unique)") from None
        return self._provider(row)

    async def update_oidc_provider(
        self, provider_id: str, *, client_secret: str | Literal[False] | None = False, **values: Any
    ) -> OidcProvider | None:
        """Change a provider's fields; `client_secret` False keeps it, None removes it, a string replaces it."""
        allowed = {"display_name", "issuer", "client_id", "scopes", "match_by"}
        changes: dict[str, Any] = {k: v for k, v in values.items() if k in allowed and v is not None}
        if client_secret is not False:
            changes["client_secret_enc"] = (
                self.box.encrypt(client_secret, context=self._secret_context(provider_id)) if client_secret else None
            )
        changes["updated_at"] = utcnow()
        async with self._store.write() as conn:
            result = await conn.execute(
                update(OidcProviderRow).where(OidcProviderRow.id == provider_id).values(**changes)
            )
            if not result.rowcount:
                return None
            row = (await conn.execute(select(OidcProviderRow).where(OidcProviderRow.id == provider_id))).one()
        return self._provider(row)

    async def get_oidc_provider(self, name: str) -> OidcProvider | None:
        if len(name) > 63:
            return None
        async with self._store.read() as conn:
            row = (await conn.execute(select(OidcProviderRow).where(OidcProviderRow.name == name))).first()
        return self._provider(row) if row is not None else None

    async def list_oidc_providers(self, tenant_id: str | None) -> list[OidcProvider]:
        """The platform's providers (`tenant_id` None) or a tenant's."""
        column = OidcProviderRow.tenant_id
        where: Any = column.is_(None) if tenant_id is None else column == tenant_id
        async with self._store.read() as conn:
            rows = (await conn.execute(select(OidcProviderRow).where(where).order_by(OidcProviderRow.name))).all()
        return [self._provider(r) for r in rows]

    async def list_all_oidc_providers(self) -> list[OidcProvider]:
        """Every provider, the platform's and all tenants' (the sign-in page lists them)."""
        async with self._store.read() as conn:
            rows = (await conn.execute(select(OidcProviderRow).order_by(OidcProviderRow.name))).all()
        return [self._provider(r) for r in rows]

    async def delete_oidc_provider(self, provider_id: str) -> bool:
        async with self._store.write() as conn:
            result = await conn.execute(delete(OidcProviderRow).where(OidcProviderRow.id == provider_id))
        return bool(result.rowcount)

    # -- pending OpenID Connect sign-ins ---------------------------------------------------

    @staticmethod
    def _state_context(state_hash: str, column: str) -> str:
        return f"oidc_state:{state_hash}:{column}"

    async def save_oidc_state(
        self,
        state: str,
        *,
        provider_id: str,
        nonce: str,
        code_verifier: str,
        browser_hash: str,
        return_to: str,
        ttl: float,
    ) -> None:
        """Keep a pending sign-in until `take_oidc_state`; `PeopleLimitReached` when too many are pending."""
        digest = token_hash(state)
        now = time.time()
        async with self._store.write() as conn:
            await conn.execute(delete(OidcStateRow).where(OidcStateRow.expires_at <= now))
            pending = (await conn.execute(select(func.count()).select_from(OidcStateRow))).scalar_one()
            if pending >= self.limits.max_pending_oidc_signins:
                raise PeopleLimitReached("too many sign-ins are in progress right now; try again in a few minutes")
            await conn.execute(
                insert(OidcStateRow).values(
                    state_hash=digest,
                    provider_id=provider_id,
                    nonce_enc=self.box.encrypt(nonce, context=self._state_context(digest, "nonce")),
                    code_verifier_enc=self.box.encrypt(
                        code_verifier, context=self._state_context(digest, "code_verifier")
                    ),
                    browser_hash=browser_hash,
                    return_to=return_to,
                    expires_at=now + ttl,
                )
            )

    async def oidc_state_pending(self, state: str) -> bool:
        query = select(OidcStateRow.state_hash).where(OidcStateRow.state_hash == token_hash(state))
        async with self._store.read() as conn:
            return (await conn.execute(query)).first() is not None

    async def take_oidc_state(self, state: str, browser_hash: str) -> OidcPending | None:
        """Remove and return the live pending sign-in with this state started by this browser; None otherwise.
        One `DELETE ... RETURNING`, so of two callbacks with one state exactly one gets it."""
        digest = token_hash(state)
        async with self._store.write() as conn:
            row = (
                await conn.execute(
                    delete(OidcStateRow)
                    .where(OidcStateRow.state_hash == digest, OidcStateRow.browser_hash == browser_hash)
                    .returning(OidcStateRow)
                )
            ).first()
        if row is None or row.expires_at <= time.time():
            return None
        return OidcPending(
            provider_id=row.provider_id,
            nonce=self.box.decrypt(row.nonce_enc, context=self._state_context(digest, "nonce")),
            code_verifier=self.box.decrypt(row.code_verifier_enc, context=self._state_context(digest, "code_verifier")),
            return_to=row.return_to,
            expires_at=row.expires_at,
        )

    # -- key rotation ----------------------------------------------------------------------

    async def rotate_secrets(self, batch: int = 200) -> int:
        """Re-encrypt OIDC client secrets, nonces and verifiers under the first key of the ring (see
        `SqlStore.rotate_secrets`); returns how many values changed."""
        changed = await self._store._rotate(
            OidcProviderRow,
            (OidcProviderRow.id,),
            {"client_secret_enc": lambda k: self._secret_context(k[0])},
            batch,
        )
        changed += await self._store._rotate(
            OidcStateRow,
            (OidcStateRow.state_hash,),
            {
                "nonce_enc": lambda k: self._state_context(k[0], "nonce"),
                "code_verifier_enc": lambda k: self._state_context(k[0], "code_verifier"),
            },
            batch,
        )
        return changed


def _as_role(value: str) -> Role:
    for role in ROLES:
        if role == value:
            return role
    raise PeopleError(f"unknown role {value[:32]!r} stored")


def _check_role(role: str) -> None:
    if role not in _RANK:
        raise PeopleError(f"unknown role {role[:32]!r}: use owner, admin or member")


def invitation_problem(invitation: Invitation | None) -> str:
    """Why an invitation cannot be accepted (None: no such invitation), for the person holding the link."""
    if invitation is None:
        return "this invitation link is unknown or no longer valid; ask for a new one"
    status = invitation.status()
    if status == "accepted":
        return "this invitation was accepted already: an invitation works once; ask for a new one"
    if status == "revoked":
        return "this invitation was revoked; ask for a new one"
    return "this invitation has expired; ask for a new one"
