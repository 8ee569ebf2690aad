"""`AuthorizationStore`: the built-in authorization server's clients, authorization codes and tokens, in SQL.

It runs on the engine of the `SqlStore` it is given, with the same error handling
(outages become `DatabaseUnavailable`, refused values `InvalidValue`). Nothing secret is
stored: codes, tokens and client secrets only as SHA-256 digests (`authz.tokens`).

Rules kept here, whoever calls (the OAuth endpoints, the consent page, the CLI):

- a code is used at most once: `use_code` flips it in one conditional UPDATE, so of two
  concurrent exchanges exactly one wins;
- a refresh token is exchanged at most once (`rotate_refresh`, the same way); the tokens
  issued for it name it as their `parent_hash`;
- revoking anything revokes its whole family (every access and refresh token of the
  authorization);
- an access token grants something only while it is unexpired and unrevoked, its user is
  active and still a member of its tenant, and the tenant is active (`grant_for_access_token`
  checks all of it in one query);
- clients are bounded: `max_clients` in total (registered clients that were never used for a
  day make room first; cached metadata documents are not cached beyond it) and
  `max_registrations_per_hour` per network address.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from mcp.server.auth.provider import AccessToken, AuthorizationCode, RefreshToken
from pydantic import AnyUrl
from sqlalchemy import and_, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from sagemcp.errors import StoreError

from ..db.models import (
    McpAuthorizationCodeRow,
    McpClientRow,
    McpTokenRow,
    MembershipRow,
    TenantRow,
    UserRow,
)
from ..db.store import Page, SqlStore
from . import tokens

__all__ = [
    "AuthorizationLimits",
    "AuthorizationStore",
    "ClientRecord",
    "ClientSummary",
    "CodeRecord",
    "Grant",
    "IssuedTokens",
    "RegistrationLimitReached",
    "StoredAccessToken",
    "StoredCode",
    "StoredRefreshToken",
    "TokenRecord",
    "stored_access_token",
    "stored_code",
    "stored_refresh_token",
]

ClientKind = Literal["registered", "preregistered", "document"]
"""`registered` dynamically (RFC 7591), `preregistered` by an operator, or `document`: known by its Client ID
Metadata Document (the column holds 16 characters)."""
_UNUSED_CLIENT_AGE = 86_400.0
"""Seconds after which a registered client that never got a token may be dropped to make room."""
_CODE_KEEP = 3600.0
"""Seconds a used or expired code is kept after its expiry, so that a late second use still revokes its tokens."""


class RegistrationLimitReached(StoreError):
    """No more clients may be registered: in total, or from this address this hour."""

    code = "registration_limit"

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class AuthorizationLimits:
    max_clients: int = 10_000
    """Clients kept at once: registered ones and cached metadata documents together."""
    max_registrations_per_hour: int = 20
    """Dynamic registrations one network address may make per hour."""


@dataclass(frozen=True)
class ClientRecord:
    client_id: str
    kind: ClientKind
    secret_digest: str | None
    metadata: dict[str, Any]
    """The client's metadata as registered (RFC 7591 fields) or as its metadata document said."""
    created_at: float
    fetched_at: float | None

    @property
    def name(self) -> str:
        name = self.metadata.get("client_name")
        return name if isinstance(name, str) and name.strip() else self.client_id


@dataclass(frozen=True)
class ClientSummary:
    """A client as listed for operators: its record and how many unrevoked, unexpired grants it holds."""

    client: ClientRecord
    live_grants: int


@dataclass(frozen=True)
class CodeRecord:
    digest: str
    client_id: str
    user_id: str
    tenant_id: str
    resource: str
    scopes: list[str]
    code_challenge: str
    redirect_uri: str
    redirect_uri_provided_explicitly: bool
    expires_at: float
    used: bool

    @property
    def family_id(self) -> str:
        return tokens.family_of_code(self.digest)


@dataclass(frozen=True)
class TokenRecord:
    digest: str
    kind: Literal["access", "refresh"]
    family_id: str
    client_id: str
    user_id: str
    tenant_id: str
    resource: str
    scopes: list[str]
    created_at: float
    expires_at: float
    rotated: bool
    revoked: bool
    rotated_at: float | None
    parent_hash: str | None
    redirect_uri: str | None


@dataclass(frozen=True)
class Grant:
    """What a valid access token lets its bearer do now."""

    family_id: str
    client_id: str
    client_name: str
    user_id: str
    tenant_id: str
    resource: str
    scopes: list[str]
    expires_at: float


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    scopes: list[str]


def _client(row: Any) -> ClientRecord:
    return ClientRecord(
        client_id=row.client_id,
        kind=row.kind,
        secret_digest=row.client_secret_hash,
        metadata=dict(row.client_metadata or {}),
        created_at=row.created_at,
        fetched_at=row.fetched_at,
    )


def _code(row: Any) -> CodeRecord:
    return CodeRecord(
        digest=row.code_hash,
        client_id=row.client_id,
        user_id=row.user_id,
        tenant_id=row.tenant_id,
        resource=row.resource,
        scopes=list(row.scopes),
        code_challenge=row.code_challenge,
        redirect_uri=row.redirect_uri,
        redirect_uri_provided_explicitly=row.redirect_uri_provided_explicitly,
        expires_at=row.expires_at,
        used=row.used,
    )


def _token(row: Any) -> TokenRecord:
    return TokenRecord(
        digest=row.token_hash,
        kind=row.kind,
        family_id=row.family_id,
        client_id=row.client_id,
        user_id=row.user_id,
        tenant_id=row.tenant_id,
        resource=row.resource,
        scopes=list(row.scopes),
        created_at=row.created_at,
        expires_at=row.expires_at,
        rotated=row.rotated,
        revoked=row.revoked,
        rotated_at=row.rotated_at,
        parent_hash=row.parent_hash,
        redirect_uri=row.redirect_uri,
    )


class StoredCode(AuthorizationCode):
    """An authorization code as the SDK's token endpoint handles it, with what issuing its tokens needs."""

    digest: str
    user_id: str
    tenant_id: str
    family_id: str


class StoredRefreshToken(RefreshToken):
    """A refresh token as the SDK's token endpoint handles it, with what rotating it needs."""

    digest: str
    family_id: str
    user_id: str
    tenant_id: str
    redirect_uri: str | None
    rotated: bool


class StoredAccessToken(AccessToken):
    """An access token as the SDK's bearer authentication handles it, with the grant it belongs to."""

    digest: str
    family_id: str
    user_id: str
    tenant_id: str


def _grant_fields(record: CodeRecord | TokenRecord) -> dict[str, Any]:
    """The fields a code and a refresh token share: whom the grant is for, and what it reaches."""
    return {
        "client_id": record.client_id,
        "scopes": record.scopes,
        "resource": record.resource,
        "subject": record.user_id,
        "digest": record.digest,
        "user_id": record.user_id,
        "tenant_id": record.tenant_id,
        "family_id": record.family_id,
    }


def stored_code(record: CodeRecord, code: str, client_id: str) -> StoredCode | None:
    """`record` as the SDK's model of the presented `code`; None when it was issued to another client."""
    if record.client_id != client_id:
        return None
    return StoredCode(
        code=code,
        expires_at=record.expires_at,
        code_challenge=record.code_challenge,
        redirect_uri=AnyUrl(record.redirect_uri),
        redirect_uri_provided_explicitly=record.redirect_uri_provided_explicitly,
        **_grant_fields(record),
    )


def stored_refresh_token(record: TokenRecord, token: str, client_id: str) -> StoredRefreshToken | None:
    """`record` as the SDK's model of the presented refresh `token`; None when it was issued to another client."""
    if record.client_id != client_id:
        return None
    return StoredRefreshToken(
        token=token,
        expires_at=int(record.expires_at),
        redirect_uri=record.redirect_uri,
        rotated=record.rotated,
        **_grant_fields(record),
    )


def stored_access_token(record: TokenRecord, token: str) -> StoredAccessToken:
    """`record` as the SDK's model of the presented access `token`."""
    return StoredAccessToken(token=token, expires_at=int(record.expires_at), **_grant_fields(record))


def _live_tokens(now: float) -> Any:
    return and_(McpTokenRow.revoked.is_(False), McpTokenRow.expires_at > now)


class AuthorizationStore:
    """Clients, codes and tokens of the built-in authorization server; see the module docstring."""

    def __init__(self, store: SqlStore, limits: AuthorizationLimits | None = None) -> None:
        self._store = store
        self.engine = store.engine
        self.limits = limits or AuthorizationLimits()

    # -- clients -------------------------------------------------------------------------

    async def get_client(self, client_id: str) -> ClientRecord | None:
        if not client_id or len(client_id) > 512:
            return None
        async with self._store.read() as conn:
            row = (await conn.execute(select(McpClientRow).where(McpClientRow.client_id == client_id))).first()
        return _client(row) if row is not None else None

    async def register_client(
        self,
        client_id: str,
        metadata: dict[str, Any],
        *,
        secret_digest: str | None,
        registered_from: str | None,
        kind: Literal["registered", "preregistered"] = "registered",
    ) -> ClientRecord:
        """Store a registered client, or `RegistrationLimitReached`."""
        now = time.time()
        async with self._store.write() as conn:
            if registered_from is not None:
                recent = (
                    await conn.execute(
                        select(func.count())
                        .select_from(McpClientRow)
                        .where(McpClientRow.registered_from == registered_from, McpClientRow.created_at > now - 3600)
                    )
                ).scalar_one()
                if recent >= self.limits.max_registrations_per_hour:
                    raise RegistrationLimitReached(
                        f"This network address registered {recent} clients in the last hour, the most allowed; "
                        "reuse a registered client, or try again in an hour.",
                        retry_after=3600,
                    )
            if await self._count_clients(conn) >= self.limits.max_clients:
                await self._drop_unused_registrations(conn, now)
                if await self._count_clients(conn) >= self.limits.max_clients:
                    raise RegistrationLimitReached(
                        f"The server holds {self.limits.max_clients} OAuth clients, the most it keeps; an operator "
                        "can remove unused ones with `sagemcp oauth-client delete`."
                    )
            await conn.execute(
                insert(McpClientRow).values(
                    client_id=client_id,
                    kind=kind,
                    client_secret_hash=secret_digest,
                    client_metadata=metadata,
                    created_at=now,
                    fetched_at=None,
                    registered_from=registered_from,
                )
            )
        return ClientRecord(client_id, kind, secret_digest, metadata, now, None)

    async def cache_metadata_document(self, client_id: str, metadata: dict[str, Any], *, fresh_for: float) -> bool:
        """Keep a client's fetched metadata document; False when it could not be kept (the client table is full of
        clients in use), which only means it is fetched again next time."""
        now = time.time()
        try:
            async with self._store.write() as conn:
                updated = await conn.execute(
                    update(McpClientRow)
                    .where(McpClientRow.client_id == client_id, McpClientRow.kind == "document")
                    .values(client_metadata=metadata, fetched_at=now)
                )
                if updated.rowcount:
                    return True
                if await self._count_clients(conn) >= self.limits.max_clients:
                    await self._drop_stale_documents(conn, now - fresh_for)
                    if await self._count_clients(conn) >= self.limits.max_clients:
                        return False
                await conn.execute(
                    insert(McpClientRow).values(
                        client_id=client_id,
                        kind="document",
                        client_secret_hash=None,
                        client_metadata=metadata,
                        created_at=now,
                        fetched_at=now,
                        registered_from=None,
                    )
                )
        except IntegrityError:
            return False  # a registered client with this id (impossible: those are UUIDs), or a concurrent insert
        return True

    async def forget_metadata_document(self, client_id: str) -> None:
        """Drop a cached metadata document (its URL no longer serves a valid one)."""
        async with self._store.write() as conn:
            await conn.execute(
                delete(McpClientRow).where(McpClientRow.client_id == client_id, McpClientRow.kind == "document")
            )

    @staticmethod
    async def _count_clients(conn: AsyncConnection) -> int:
        return int((await conn.execute(select(func.count()).select_from(McpClientRow))).scalar_one())

    @staticmethod
    def _unused(now: float) -> Any:
        used = exists().where(McpTokenRow.client_id == McpClientRow.client_id, _live_tokens(now))
        pending = exists().where(
            McpAuthorizationCodeRow.client_id == McpClientRow.client_id, McpAuthorizationCodeRow.expires_at > now
        )
        return and_(~used, ~pending)

    async def _drop_unused_registrations(self, conn: AsyncConnection, now: float, batch: int = 500) -> None:
        doomed = (
            select(McpClientRow.client_id)
            .where(
                McpClientRow.kind == "registered",
                McpClientRow.created_at < now - _UNUSED_CLIENT_AGE,
                self._unused(now),
            )
            .order_by(McpClientRow.created_at)
            .limit(batch)
        )
        ids = [r[0] for r in (await conn.execute(doomed)).all()]
        if ids:
            await conn.execute(delete(McpClientRow).where(McpClientRow.client_id.in_(ids)))

    async def _drop_stale_documents(self, conn: AsyncConnection, stale_before: float, batch: int = 500) -> None:
        doomed = (
            select(McpClientRow.client_id)
            .where(
                McpClientRow.kind == "document",
                McpClientRow.fetched_at < stale_before,
                self._unused(time.time()),
            )
            .order_by(McpClientRow.fetched_at)
            .limit(batch)
        )
        ids = [r[0] for r in (await conn.execute(doomed)).all()]
        if ids:
            await conn.execute(delete(McpClientRow).where(McpClientRow.client_id.in_(ids)))

    async def list_clients(self, *, limit: int = 100, after: str | None = None) -> Page[ClientSummary]:
        now = time.time()
        live = (
            select(func.count(func.distinct(McpTokenRow.family_id)))
            .where(McpTokenRow.client_id == McpClientRow.client_id, _live_tokens(now))
            .scalar_subquery()
        )
        query = select(McpClientRow, live.label("live_grants")).order_by(McpClientRow.client_id).limit(limit + 1)
        if after is not None:
            query = query.where(McpClientRow.client_id > after)
        async with self._store.read() as conn:
            rows = (await conn.execute(query)).all()
        items = [ClientSummary(_client(r), int(r.live_grants or 0)) for r in rows[:limit]]
        return Page(items, items[-1].client.client_id if len(rows) > limit else None)

    async def delete_client(self, client_id: str) -> bool:
        """Remove a client with every code and token it holds."""
        async with self._store.write() as conn:
            await conn.execute(delete(McpTokenRow).where(McpTokenRow.client_id == client_id))
            await conn.execute(delete(McpAuthorizationCodeRow).where(McpAuthorizationCodeRow.client_id == client_id))
            result = await conn.execute(delete(McpClientRow).where(McpClientRow.client_id == client_id))
        return bool(result.rowcount)

    # -- authorization codes ---------------------------------------------------------------

    async def create_code(
        self,
        *,
        client_id: str,
        user_id: str,
        tenant_id: str,
        resource: str,
        scopes: Sequence[str],
        code_challenge: str,
        redirect_uri: str,
        redirect_uri_provided_explicitly: bool,
        lifetime: float,
    ) -> str:
        """A new single-use authorization code (returned once; only its digest is kept)."""
        code = tokens.new_secret(tokens.CODE_PREFIX)
        try:
            async with self._store.write() as conn:
                await conn.execute(
                    insert(McpAuthorizationCodeRow).values(
                        code_hash=tokens.digest(code),
                        client_id=client_id,
                        user_id=user_id,
                        tenant_id=tenant_id,
                        resource=resource,
                        scopes=list(scopes),
                        code_challenge=code_challenge,
                        redirect_uri=redirect_uri,
                        redirect_uri_provided_explicitly=redirect_uri_provided_explicitly,
                        expires_at=time.time() + lifetime,
                        used=False,
                    )
                )
        except IntegrityError:
            raise StoreError("the user or tenant was deleted meanwhile") from None
        return code

    async def get_code(self, code_digest: str) -> CodeRecord | None:
        async with self._store.read() as conn:
            row = (
                await conn.execute(
                    select(McpAuthorizationCodeRow).where(McpAuthorizationCodeRow.code_hash == code_digest)
                )
            ).first()
        return _code(row) if row is not None else None

    async def use_code(self, code_digest: str) -> bool:
        """Mark a code used; False when it already was (or is gone)."""
        async with self._store.write() as conn:
            result = await conn.execute(
                update(McpAuthorizationCodeRow)
                .where(McpAuthorizationCodeRow.code_hash == code_digest, McpAuthorizationCodeRow.used.is_(False))
                .values(used=True)
            )
        return bool(result.rowcount)

    # -- tokens ----------------------------------------------------------------------------

    async def issue_tokens(
        self,
        *,
        family_id: str,
        client_id: str,
        user_id: str,
        tenant_id: str,
        resource: str,
        scopes: Sequence[str],
        redirect_uri: str | None,
        access_lifetime: float,
        refresh_lifetime: float,
        parent_digest: str | None = None,
    ) -> IssuedTokens:
        """A new access token and refresh token in `family_id` (returned once; only digests are kept)."""
        now = time.time()
        access = tokens.new_secret(tokens.ACCESS_PREFIX)
        refresh = tokens.new_secret(tokens.REFRESH_PREFIX)
        common = {
            "family_id": family_id,
            "client_id": client_id,
            "user_id": user_id,
            "tenant_id": tenant_id,
            "resource": resource,
            "scopes": list(scopes),
            "created_at": now,
            "rotated": False,
            "revoked": False,
            "rotated_at": None,
            "parent_hash": parent_digest,
            "redirect_uri": redirect_uri,
        }
        try:
            async with self._store.write() as conn:
                await conn.execute(
                    insert(McpTokenRow),
                    [
                        {**common, "token_hash": tokens.digest(access), "kind": "access",
                         "expires_at": now + access_lifetime},
                        {**common, "token_hash": tokens.digest(refresh), "kind": "refresh",
                         "expires_at": now + refresh_lifetime},
                    ],
                )  # fmt: skip
        except IntegrityError:
            raise StoreError("the user or tenant was deleted meanwhile") from None
        return IssuedTokens(access, refresh, int(access_lifetime), list(scopes))

    async def get_token(self, token_digest: str) -> TokenRecord | None:
        async with self._store.read() as conn:
            row = (await conn.execute(select(McpTokenRow).where(McpTokenRow.token_hash == token_digest))).first()
        return _token(row) if row is not None else None

    async def rotate_refresh(self, token_digest: str) -> bool:
        """Mark a refresh token exchanged; False when it already was, or was revoked meanwhile."""
        async with self._store.write() as conn:
            result = await conn.execute(
                update(McpTokenRow)
                .where(
                    McpTokenRow.token_hash == token_digest,
                    McpTokenRow.kind == "refresh",
                    McpTokenRow.rotated.is_(False),
                    McpTokenRow.revoked.is_(False),
                )
                .values(rotated=True, rotated_at=time.time())
            )
        return bool(result.rowcount)

    async def withdraw_successors(self, parent_digest: str) -> bool:
        """Revoke the tokens issued in exchange for a refresh token, unless their refresh token was itself
        exchanged already (then the client has moved on and the parent's reuse is a replay): True if revoked."""
        async with self._store.write() as conn:
            moved_on = (
                await conn.execute(
                    select(func.count())
                    .select_from(McpTokenRow)
                    .where(
                        McpTokenRow.parent_hash == parent_digest,
                        McpTokenRow.kind == "refresh",
                        McpTokenRow.rotated.is_(True),
                    )
                )
            ).scalar_one()
            if moved_on:
                return False
            await conn.execute(update(McpTokenRow).where(McpTokenRow.parent_hash == parent_digest).values(revoked=True))
        return True

    async def revoke_family(self, family_id: str) -> int:
        """Revoke every token of an authorization; how many were still unrevoked."""
        async with self._store.write() as conn:
            result = await conn.execute(
                update(McpTokenRow)
                .where(McpTokenRow.family_id == family_id, McpTokenRow.revoked.is_(False))
                .values(revoked=True)
            )
        return int(result.rowcount or 0)

    async def revoke(
        self,
        *,
        user_id: str | None = None,
        tenant_id: str | None = None,
        client_id: str | None = None,
        redirect_uri: str | None = None,
    ) -> int:
        """Revoke every unexpired grant matching all the given filters; how many grants (families) were revoked.
        At least one of `user_id`, `tenant_id` and `client_id` is required."""
        if user_id is None and tenant_id is None and client_id is None:
            raise ValueError("name a user, a tenant or a client whose tokens to revoke")
        conditions = [_live_tokens(time.time())]
        if user_id is not None:
            conditions.append(McpTokenRow.user_id == user_id)
        if tenant_id is not None:
            conditions.append(McpTokenRow.tenant_id == tenant_id)
        if client_id is not None:
            conditions.append(McpTokenRow.client_id == client_id)
        if redirect_uri is not None:
            conditions.append(McpTokenRow.redirect_uri == redirect_uri)
        async with self._store.write() as conn:
            families = [
                r[0] for r in (await conn.execute(select(McpTokenRow.family_id).where(*conditions).distinct())).all()
            ]
            for start in range(0, len(families), 500):
                chunk = families[start : start + 500]
                await conn.execute(
                    update(McpTokenRow)
                    .where(McpTokenRow.family_id.in_(chunk), McpTokenRow.revoked.is_(False))
                    .values(revoked=True)
                )
        return len(families)

    async def grant_for_access_token(self, token_digest: str) -> Grant | None:
        """What an access token grants now, or None: unknown, expired, revoked, or its user, membership or tenant
        is gone or inactive."""
        now = time.time()
        query = (
            select(
                McpTokenRow.family_id,
                McpTokenRow.client_id,
                McpTokenRow.user_id,
                McpTokenRow.tenant_id,
                McpTokenRow.resource,
                McpTokenRow.scopes,
                McpTokenRow.expires_at,
                McpClientRow.client_metadata,
            )
            .join(TenantRow, and_(TenantRow.id == McpTokenRow.tenant_id, TenantRow.active.is_(True)))
            .join(UserRow, and_(UserRow.id == McpTokenRow.user_id, UserRow.active.is_(True)))
            .join(
                MembershipRow,
                and_(MembershipRow.tenant_id == McpTokenRow.tenant_id, MembershipRow.user_id == McpTokenRow.user_id),
            )
            .outerjoin(McpClientRow, McpClientRow.client_id == McpTokenRow.client_id)
            .where(McpTokenRow.token_hash == token_digest, McpTokenRow.kind == "access", _live_tokens(now))
        )
        async with self._store.read() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        metadata = row.client_metadata or {}
        name = metadata.get("client_name") if isinstance(metadata, dict) else None
        return Grant(
            family_id=row.family_id,
            client_id=row.client_id,
            client_name=name if isinstance(name, str) and name.strip() else row.client_id,
            user_id=row.user_id,
            tenant_id=row.tenant_id,
            resource=row.resource,
            scopes=list(row.scopes),
            expires_at=row.expires_at,
        )

    async def in_good_standing(self, user_id: str, tenant_id: str) -> bool:
        """Whether the user is active and a member of the tenant, and the tenant is active."""
        query = (
            select(MembershipRow.role)
            .join(UserRow, and_(UserRow.id == MembershipRow.user_id, UserRow.active.is_(True)))
            .join(TenantRow, and_(TenantRow.id == MembershipRow.tenant_id, TenantRow.active.is_(True)))
            .where(MembershipRow.user_id == user_id, MembershipRow.tenant_id == tenant_id)
        )
        async with self._store.read() as conn:
            return (await conn.execute(query)).first() is not None

    # -- housekeeping ----------------------------------------------------------------------

    async def purge_expired(self, *, batch: int = 1000) -> int:
        """Delete up to `batch` expired tokens and codes (codes an hour after their expiry); how many went."""
        now = time.time()
        async with self._store.write() as conn:
            doomed_tokens = select(McpTokenRow.token_hash).where(McpTokenRow.expires_at < now).limit(batch)
            token_ids = [r[0] for r in (await conn.execute(doomed_tokens)).all()]
            if token_ids:
                await conn.execute(delete(McpTokenRow).where(McpTokenRow.token_hash.in_(token_ids)))
            doomed_codes = (
                select(McpAuthorizationCodeRow.code_hash)
                .where(McpAuthorizationCodeRow.expires_at < now - _CODE_KEEP)
                .limit(batch)
            )
            code_ids = [r[0] for r in (await conn.execute(doomed_codes)).all()]
            if code_ids:
                await conn.execute(
                    delete(McpAuthorizationCodeRow).where(McpAuthorizationCodeRow.code_hash.in_(code_ids))
                )
        return len(token_ids) + len(code_ids)

    async def count(self) -> dict[str, int]:
        """How many clients, codes and tokens are stored (for operators)."""
        async with self._store.read() as conn:
            clients = await self._count_clients(conn)
            codes = (await conn.execute(select(func.count()).select_from(McpAuthorizationCodeRow))).scalar_one()
            live = (
                await conn.execute(select(func.count()).select_from(McpTokenRow).where(_live_tokens(time.time())))
            ).scalar_one()
        return {"clients": clients, "codes": int(codes), "live_tokens": int(live)}
