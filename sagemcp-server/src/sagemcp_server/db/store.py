"""`SqlStore`: core's `TenantStore` on SQLAlchemy 2.0 (async), plus the management the admin API needs.

It matches the semantics of core's `MemoryStore`. Secrets are encrypted with `SecretBox`,
each bound to its row and column (the `context`), so a ciphertext copied elsewhere does
not decrypt; a credential's named secrets (`Credential.secrets`) are one encrypted JSON
object in `secrets_enc`. API keys are kept as SHA-256 hashes and found through a unique index.

Token refresh across processes: on PostgreSQL `lock_credential` holds `SELECT ... FOR
UPDATE` on the credential row in a transaction, and a `swap_credential` made while
holding it runs on that same connection and commits, which releases the lock. SQLite
has no row locks; there the lock excludes callers of this process only, which is right
for SQLite's one-machine deployments but not for several processes on one file (the
compare-and-swap still keeps the newest credential; a second refresh may then happen).

Database failures (no connection, timeouts) become `DatabaseUnavailable`, which the
API answers with 503; the pool reconnects by itself once the database is back. A value
the database refuses (SQLSTATE class 22 "data exception" or 54 "program limit exceeded",
a value the driver cannot bind) is `InvalidValue` instead, which the API answers with 422:
bad input is never reported as an outage.

Credentials are keyed by tenant, provider and user: `user_id` NULL is the tenant's shared
credential, a user id that member's own (`per_user` connectors). Every credential query
names which one it means, so a shared lookup never matches a member's row nor the reverse;
a member's secrets are encrypted under a context naming the member as well.

A credential's bound origins (`Credential.origins`) are written only when it is stored
(`put_credential`) or rebound by a platform admin (`rebind_credential`); a refresh's
compare-and-swap leaves them as they are. A pending OAuth authorization is opened once,
by one browser (`open_oauth_link`), and taken only with that browser's cookie.
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import hashlib
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import anyio
from pydantic import SecretStr
from sqlalchemy import ColumnElement, Select, and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sagemcp import Credential, CredentialStatus
from sagemcp.errors import ConnectorNotFound, LookupFailed, StoreError, TenantNotFound
from sagemcp.platform import (
    SLUG_PATTERN,
    ApiKeyRecord,
    AuditEvent,
    CallLimits,
    ConnectorConfig,
    OAuthApp,
    PendingAuthorization,
    Principal,
    SecretBox,
    Tenant,
    ToolPolicy,
    api_key_matches,
    generate_api_key,
    hash_api_key,
    utcnow,
)

from .engine import is_sqlite
from .models import (
    ApiKeyRow,
    AuditEventRow,
    ConnectorRow,
    CredentialRow,
    OAuthAppRow,
    OAuthStateRow,
    TenantRow,
    UserRow,
)

__all__ = [
    "MAX_PENDING_PER_USER",
    "DatabaseUnavailable",
    "Duplicate",
    "InvalidValue",
    "MemberCredential",
    "OpenedLink",
    "Page",
    "SqlStore",
    "Stamped",
    "TenantFootprint",
    "oauth_state_hash",
]

logger = logging.getLogger("sagemcp_server.store")

T = TypeVar("T")
_SLUG_RE = re.compile(SLUG_PATTERN)
MAX_PENDING_PER_USER = 10
"""Pending upstream authorizations one member may hold (connect pages opened and not completed)."""
_Key = tuple[str, str, str | None]
"""A credential's (tenant, provider, user); user None is the tenant's shared credential."""


class Duplicate(StoreError):
    """A row with the same unique key exists (tenant slug, connector name)."""

    code = "conflict"


class InvalidValue(StoreError):
    """The database refused a value (too long, out of range)."""

    code = "invalid_value"


class DatabaseUnavailable(StoreError):
    """The database cannot be reached or did not answer in time."""

    code = "database_unavailable"


@dataclass(frozen=True)
class Stamped(Generic[T]):
    """A core model with the row's timestamps, for the admin API."""

    item: T
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class MemberCredential:
    """A credential a member connected, with who they are (for the admin's list of members' connections)."""

    record: Stamped[Credential]
    email: str
    name: str


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class TenantFootprint:
    """Counts of what a tenant owns in the store (credentials: shared and members' own; keys: unrevoked)."""

    connectors: int
    credentials: int
    api_keys: int
    oauth_apps: int
    audit_events: int


@dataclass(frozen=True)
class OpenedLink:
    """A pending authorization whose single-use link a browser just opened."""

    state_hash: str
    provider: str
    authorization_url: str
    expires_at: float


_DATA_SQLSTATE_CLASSES = ("22", "54")
"""SQLSTATE classes of values the database refuses: data exception (`22P02` invalid JSON such as
`Infinity`, `22001` too long, `22003` out of range) and program limit exceeded (`54001` nesting too deep)."""
_SQLITE_DATA_ERRORS = frozenset({"SQLITE_TOOBIG", "SQLITE_MISMATCH", "SQLITE_RANGE"})


def _refused_value(exc: BaseException) -> bool:
    """Whether a database error says the value was bad (not that the database is unavailable)."""
    if isinstance(exc, DataError):
        return True
    if isinstance(exc, StatementError) and not isinstance(exc, DBAPIError):
        # Raised before the database saw anything: a value the driver or a type could not bind.
        return isinstance(exc.orig, (ValueError, TypeError, OverflowError, RecursionError))
    orig = getattr(exc, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if isinstance(sqlstate, str) and sqlstate[:2] in _DATA_SQLSTATE_CLASSES:
        return True
    return getattr(orig, "sqlite_errorname", None) in _SQLITE_DATA_ERRORS


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def oauth_state_hash(state: str) -> str:
    """How a pending authorization's state is kept: SHA-256, hex."""
    return hashlib.sha256(state.encode("utf-8")).hexdigest()


def encode_cursor(data: Sequence[Any]) -> str:
    raw = json.dumps(list(data), separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str, length: int) -> list[Any] | None:
    """The values inside a cursor made by `encode_cursor`, or None if it is not one."""
    try:
        if len(cursor) > 512:
            return None
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8"))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(data, list) or len(data) != length or not all(isinstance(v, str) for v in data):
        return None
    return data


class SqlStore:
    """Tenants, connectors, OAuth apps, credentials, API keys, OAuth states and audit events in SQL."""

    def __init__(self, engine: AsyncEngine, box: SecretBox) -> None:
        self.engine = engine
        self.box = box
        self._sqlite = is_sqlite(engine)
        self._locks: dict[_Key, anyio.Lock] = {}
        self._held: contextvars.ContextVar[dict[_Key, AsyncConnection] | None] = contextvars.ContextVar(
            f"sagemcp_credential_locks_{id(self)}", default=None
        )

    # -- plumbing ------------------------------------------------------------------------

    @asynccontextmanager
    async def _errors(self) -> AsyncIterator[None]:
        try:
            yield
        except (IntegrityError, StoreError):
            raise
        except (DBAPIError, StatementError) as exc:
            if _refused_value(exc):
                logger.info("the database refused a value: %s", type(getattr(exc, "orig", exc)).__name__)
                raise InvalidValue(
                    "the database refused a value (too long, too deeply nested, out of range or not valid JSON); "
                    "correct the request and send it again"
                ) from exc
            if not isinstance(exc, DBAPIError):
                logger.warning("database error: %s", type(exc).__name__)
                raise DatabaseUnavailable("the database failed the request; try again shortly") from exc
            logger.warning("database unavailable: %s", type(exc).__name__)
            raise DatabaseUnavailable("the database is unavailable; try again shortly") from exc
        except (PoolTimeout, OSError, TimeoutError) as exc:
            logger.warning("database unavailable: %s", type(exc).__name__)
            raise DatabaseUnavailable("the database is unavailable; try again shortly") from exc
        except SQLAlchemyError as exc:
            logger.warning("database error: %s", type(exc).__name__)
            raise DatabaseUnavailable("the database failed the request; try again shortly") from exc

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reading, with database failures as `DatabaseUnavailable` (also for the stores of
        people and of the authorization server, which share this engine)."""
        async with self._errors(), self.engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a transaction that commits when the block ends, with failures as in `read`."""
        async with self._errors(), self.engine.begin() as conn:
            yield conn

    async def ping(self) -> None:
        """Raise `DatabaseUnavailable` unless the database answers."""
        async with self.read() as conn:
            await conn.execute(select(1))

    async def close(self) -> None:
        await self.engine.dispose()

    # -- tenants -------------------------------------------------------------------------

    @staticmethod
    def _tenant(row: Any) -> Tenant:
        limits = CallLimits(
            calls_per_minute=row.calls_per_minute,
            concurrent_calls=row.concurrent_calls,
            credential_calls_per_minute=row.credential_calls_per_minute,
        )
        return Tenant(
            id=row.id,
            slug=row.slug,
            name=row.name,
            active=row.active,
            generation=row.generation,
            limits=limits,
            discovery=bool(row.discovery),
            pinned_tools=list(row.pinned_tools or ()),
        )

    def _stamped_tenant(self, row: Any) -> Stamped[Tenant]:
        return Stamped(self._tenant(row), _aware(row.created_at), _aware(row.updated_at))

    async def get_tenant(self, slug: str) -> Tenant | None:
        if not _SLUG_RE.match(slug):
            return None  # no such tenant can exist; and a NUL byte would upset PostgreSQL
        async with self.read() as conn:
            row = (await conn.execute(select(TenantRow).where(TenantRow.slug == slug))).first()
        return self._tenant(row) if row is not None else None

    async def get_tenant_by_id(self, tenant_id: str) -> Tenant | None:
        async with self.read() as conn:
            row = (await conn.execute(select(TenantRow).where(TenantRow.id == tenant_id))).first()
        return self._tenant(row) if row is not None else None

    async def get_tenant_record(self, slug: str) -> Stamped[Tenant] | None:
        if not _SLUG_RE.match(slug):
            return None
        async with self.read() as conn:
            row = (await conn.execute(select(TenantRow).where(TenantRow.slug == slug))).first()
        return self._stamped_tenant(row) if row is not None else None

    @staticmethod
    async def _changed(conn: AsyncConnection, tenant_id: str) -> None:
        """Bump the tenant's generation in the transaction of a change to it, its connectors or credentials."""
        await conn.execute(
            update(TenantRow).where(TenantRow.id == tenant_id).values(generation=TenantRow.generation + 1)
        )

    async def tenant_generation(self, tenant_id: str) -> int | None:
        """The tenant's generation (see `sagemcp._store.ChangeTracking`), or None if it is gone."""
        async with self.read() as conn:
            found = (await conn.execute(select(TenantRow.generation).where(TenantRow.id == tenant_id))).first()
        return int(found[0]) if found is not None else None

    async def create_tenant(
        self,
        slug: str,
        name: str = "",
        active: bool = True,
        limits: CallLimits | None = None,
        *,
        discovery: bool = False,
        pinned_tools: Sequence[str] = (),
    ) -> Stamped[Tenant]:
        tenant = Tenant(
            slug=slug,
            name=name,
            active=active,
            limits=limits or CallLimits(),
            discovery=discovery,
            pinned_tools=list(pinned_tools),
        )
        now = utcnow()
        try:
            async with self.write() as conn:
                await conn.execute(
                    insert(TenantRow).values(
                        id=tenant.id,
                        slug=slug,
                        name=name,
                        active=active,
                        created_at=now,
                        updated_at=now,
                        discovery=tenant.discovery,
                        pinned_tools=tenant.pinned_tools,
                        **tenant.limits.model_dump(),
                    )
                )
        except IntegrityError:
            raise Duplicate(f"a tenant with slug {slug!r} already exists") from None
        return Stamped(tenant, now, now)

    async def list_tenants(
        self,
        *,
        limit: int = 100,
        after: str | None = None,
        only_id: str | None = None,
        only_ids: Sequence[str] | None = None,
        search: str | None = None,
    ) -> Page[Stamped[Tenant]]:
        """Tenants by slug; `only_id` / `only_ids` restrict the list to those tenants (an empty `only_ids`: none),
        `search` to those whose slug or name contains it (case-insensitive)."""
        query = select(TenantRow).order_by(TenantRow.slug).limit(limit + 1)
        if search:
            pattern = "%" + re.sub(r"([\\%_])", r"\\\1", search.lower()) + "%"
            query = query.where(
                or_(
                    func.lower(TenantRow.slug).like(pattern, escape="\\"),
                    func.lower(TenantRow.name).like(pattern, escape="\\"),
                )
            )
        if after is not None:
            query = query.where(TenantRow.slug > after)
        if only_id is not None:
            query = query.where(TenantRow.id == only_id)
        if only_ids is not None:
            query = query.where(TenantRow.id.in_(list(only_ids)))
        async with self.read() as conn:
            rows = (await conn.execute(query)).all()
        items = [self._stamped_tenant(r) for r in rows[:limit]]
        return Page(items, items[-1].item.slug if len(rows) > limit else None)

    async def update_tenant(
        self,
        tenant_id: str,
        *,
        name: str | None = None,
        active: bool | None = None,
        limits: Mapping[str, int | None] | None = None,
        discovery: bool | None = None,
        pinned_tools: Sequence[str] | None = None,
    ) -> Stamped[Tenant] | None:
        """Change what is given; `limits` maps `CallLimits` field names to their new value (None: the default)."""
        values: dict[str, Any] = {"updated_at": utcnow(), "generation": TenantRow.generation + 1}
        if discovery is not None:
            values["discovery"] = discovery
        if pinned_tools is not None:
            values["pinned_tools"] = list(pinned_tools)
        if name is not None:
            values["name"] = name
        if active is not None:
            values["active"] = active
        for field_name, value in (limits or {}).items():
            if field_name not in CallLimits.model_fields:
                raise ValueError(f"{field_name!r} is not a tool-call limit")
            values[field_name] = value
        async with self.write() as conn:
            await conn.execute(update(TenantRow).where(TenantRow.id == tenant_id).values(**values))
            row = (await conn.execute(select(TenantRow).where(TenantRow.id == tenant_id))).first()
        return self._stamped_tenant(row) if row is not None else None

    async def delete_tenant(self, tenant_id: str) -> bool:
        """Delete a tenant and, through the foreign keys, every row it owns."""
        async with self.write() as conn:
            result = await conn.execute(delete(TenantRow).where(TenantRow.id == tenant_id))
        return bool(result.rowcount)

    async def count_tenants(self) -> int:
        async with self.read() as conn:
            return int((await conn.execute(select(func.count()).select_from(TenantRow))).scalar_one())

    async def tenant_footprint(self, tenant_id: str) -> TenantFootprint:
        """How much a tenant owns: what deleting it removes (members are counted by the people store)."""
        counted: list[tuple[Any, Any]] = [
            (ConnectorRow, ConnectorRow.tenant_id == tenant_id),
            (CredentialRow, and_(CredentialRow.tenant_id == tenant_id, CredentialRow.deleted.is_(False))),
            (ApiKeyRow, and_(ApiKeyRow.tenant_id == tenant_id, ApiKeyRow.revoked.is_(False))),
            (OAuthAppRow, OAuthAppRow.tenant_id == tenant_id),
            (AuditEventRow, AuditEventRow.tenant_id == tenant_id),
        ]
        async with self.read() as conn:
            counts = [
                int((await conn.execute(select(func.count()).select_from(table).where(where))).scalar_one())
                for table, where in counted
            ]
        return TenantFootprint(*counts)

    # -- connectors ----------------------------------------------------------------------

    @staticmethod
    def _connector(row: Any) -> ConnectorConfig:
        return ConnectorConfig(
            id=row.id,
            tenant_id=row.tenant_id,
            connector_type=row.connector_type,
            name=row.name,
            description=row.description,
            enabled=row.enabled,
            configuration=dict(row.configuration or {}),
            tool_policy=ToolPolicy.model_validate(row.tool_policy or {}),
            provider=row.provider,
            connection_mode=row.connection_mode,
            discovery=bool(row.discovery),
            pinned_tools=list(row.pinned_tools or ()),
        )

    def _stamped_connector(self, row: Any) -> Stamped[ConnectorConfig]:
        return Stamped(self._connector(row), _aware(row.created_at), _aware(row.updated_at))

    def _connector_query(self, tenant_id: str, connector_id: str) -> Select[Any]:
        return select(ConnectorRow).where(
            ConnectorRow.tenant_id == tenant_id, or_(ConnectorRow.id == connector_id, ConnectorRow.name == connector_id)
        )

    async def get_connector(self, tenant_id: str, connector_id: str) -> ConnectorConfig | None:
        record = await self.get_connector_record(tenant_id, connector_id)
        return record.item if record is not None else None

    async def get_connector_record(self, tenant_id: str, connector_id: str) -> Stamped[ConnectorConfig] | None:
        if not _SLUG_RE.match(connector_id):
            return None  # ids (32 hex digits) and names both match the slug pattern
        async with self.read() as conn:
            rows = (await conn.execute(self._connector_query(tenant_id, connector_id))).all()
        # An id match wins over a name match (a name could look like another connector's id).
        rows.sort(key=lambda r: r.id != connector_id)
        return self._stamped_connector(rows[0]) if rows else None

    async def list_connectors(self, tenant_id: str) -> list[ConnectorConfig]:
        return [r.item for r in await self.list_connector_records(tenant_id)]

    async def list_connector_records(self, tenant_id: str) -> list[Stamped[ConnectorConfig]]:
        query = select(ConnectorRow).where(ConnectorRow.tenant_id == tenant_id).order_by(ConnectorRow.name)
        async with self.read() as conn:
            rows = (await conn.execute(query)).all()
        return [self._stamped_connector(r) for r in rows]

    async def add_connector(self, cfg: ConnectorConfig) -> Stamped[ConnectorConfig]:
        now = utcnow()
        try:
            async with self.write() as conn:
                await conn.execute(
                    insert(ConnectorRow).values(
                        id=cfg.id,
                        tenant_id=cfg.tenant_id,
                        connector_type=cfg.connector_type,
                        name=cfg.name,
                        description=cfg.description,
                        enabled=cfg.enabled,
                        configuration=cfg.configuration,
                        tool_policy=cfg.tool_policy.model_dump(mode="json"),
                        provider=cfg.provider,
                        connection_mode=cfg.connection_mode,
                        discovery=cfg.discovery,
                        pinned_tools=list(cfg.pinned_tools),
                        created_at=now,
                        updated_at=now,
                    )
                )
                await self._changed(conn, cfg.tenant_id)
        except IntegrityError:
            if await self.get_tenant_by_id(cfg.tenant_id) is None:
                raise TenantNotFound(f"no tenant with id {cfg.tenant_id!r}") from None
            raise Duplicate(f"the tenant already has a connector named {cfg.name!r}") from None
        return Stamped(cfg, now, now)

    async def replace_connector(self, cfg: ConnectorConfig) -> Stamped[ConnectorConfig] | None:
        """Store new values for an existing connector (same id and tenant); None if it is gone."""
        try:
            async with self.write() as conn:
                result = await conn.execute(
                    update(ConnectorRow)
                    .where(ConnectorRow.id == cfg.id, ConnectorRow.tenant_id == cfg.tenant_id)
                    .values(
                        name=cfg.name,
                        description=cfg.description,
                        enabled=cfg.enabled,
                        configuration=cfg.configuration,
                        tool_policy=cfg.tool_policy.model_dump(mode="json"),
                        provider=cfg.provider,
                        connection_mode=cfg.connection_mode,
                        discovery=cfg.discovery,
                        pinned_tools=list(cfg.pinned_tools),
                        updated_at=utcnow(),
                    )
                )
                if not result.rowcount:
                    return None
                await self._changed(conn, cfg.tenant_id)
                row = (await conn.execute(select(ConnectorRow).where(ConnectorRow.id == cfg.id))).one()
        except IntegrityError:
            raise Duplicate(f"the tenant already has a connector named {cfg.name!r}") from None
        return self._stamped_connector(row)

    async def delete_connector(self, tenant_id: str, connector_id: str) -> bool:
        async with self.write() as conn:
            result = await conn.execute(
                delete(ConnectorRow).where(ConnectorRow.tenant_id == tenant_id, ConnectorRow.id == connector_id)
            )
            await self._changed(conn, tenant_id)
        return bool(result.rowcount)

    # -- OAuth apps ----------------------------------------------------------------------

    @staticmethod
    def _app_context(tenant_id: str, provider: str) -> str:
        return f"oauth_app:{tenant_id}:{provider}:client_secret"

    def _oauth_app(self, row: Any) -> OAuthApp:
        secret = None
        if row.client_secret_enc is not None:
            secret = SecretStr(
                self.box.decrypt(row.client_secret_enc, context=self._app_context(row.tenant_id, row.provider))
            )
        return OAuthApp(
            tenant_id=row.tenant_id,
            provider=row.provider,
            client_id=row.client_id,
            client_secret=secret,
            extra=dict(row.extra or {}),
        )

    async def get_oauth_app(self, tenant_id: str, provider: str) -> OAuthApp | None:
        record = await self.get_oauth_app_record(tenant_id, provider)
        return record.item if record is not None else None

    async def get_oauth_app_record(self, tenant_id: str, provider: str) -> Stamped[OAuthApp] | None:
        query = select(OAuthAppRow).where(OAuthAppRow.tenant_id == tenant_id, OAuthAppRow.provider == provider)
        async with self.read() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return Stamped(self._oauth_app(row), _aware(row.created_at), _aware(row.updated_at))

    async def put_oauth_app(self, app: OAuthApp) -> Stamped[OAuthApp]:
        """Store the tenant's registration with a provider, replacing any other."""
        now = utcnow()
        secret = None
        if app.client_secret is not None:
            secret = self.box.encrypt(
                app.client_secret.get_secret_value(), context=self._app_context(app.tenant_id, app.provider)
            )
        values = {"client_id": app.client_id, "client_secret_enc": secret, "extra": app.extra, "updated_at": now}
        where = (OAuthAppRow.tenant_id == app.tenant_id, OAuthAppRow.provider == app.provider)
        for attempt in range(2):
            try:
                async with self.write() as conn:
                    result = await conn.execute(update(OAuthAppRow).where(*where).values(**values))
                    if not result.rowcount:
                        await conn.execute(
                            insert(OAuthAppRow).values(
                                tenant_id=app.tenant_id, provider=app.provider, created_at=now, **values
                            )
                        )
                    row = (await conn.execute(select(OAuthAppRow).where(*where))).one()
                return Stamped(app, _aware(row.created_at), _aware(row.updated_at))
            except IntegrityError:
                if attempt or await self.get_tenant_by_id(app.tenant_id) is None:
                    raise TenantNotFound(f"no tenant with id {app.tenant_id!r}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def delete_oauth_app(self, tenant_id: str, provider: str) -> bool:
        async with self.write() as conn:
            result = await conn.execute(
                delete(OAuthAppRow).where(OAuthAppRow.tenant_id == tenant_id, OAuthAppRow.provider == provider)
            )
        return bool(result.rowcount)

    # -- credentials ---------------------------------------------------------------------

    @staticmethod
    def _cred_context(tenant_id: str, provider: str, column: str, user_id: str | None = None) -> str:
        """The encryption context of a credential's secret column; a member's names the member, so that their
        ciphertext neither decrypts as the shared credential nor as another member's."""
        if user_id is None:
            return f"credential:{tenant_id}:{provider}:{column}"
        return f"member_credential:{tenant_id}:{user_id}:{provider}:{column}"

    @staticmethod
    def _owner(user_id: str | None) -> Any:
        """The condition selecting the tenant's shared credential (`user_id` None) or that member's own."""
        return CredentialRow.user_id.is_(None) if user_id is None else CredentialRow.user_id == user_id

    def _decrypted(self, row: Any, column: str) -> SecretStr | None:
        value = getattr(row, f"{column}_enc")
        if value is None:
            return None
        context = self._cred_context(row.tenant_id, row.provider, column, row.user_id)
        return SecretStr(self.box.decrypt(value, context=context))

    def _credential(self, row: Any) -> Credential:
        secrets: dict[str, SecretStr] = {}
        blob = self._decrypted(row, "secrets")
        if blob is not None:
            secrets = {name: SecretStr(value) for name, value in json.loads(blob.get_secret_value()).items()}
        return Credential(
            id=row.id,
            tenant_id=row.tenant_id,
            provider=row.provider,
            user_id=row.user_id,
            kind=row.kind,
            access_token=self._decrypted(row, "access_token"),
            refresh_token=self._decrypted(row, "refresh_token"),
            secrets=secrets,
            token_type=row.token_type,
            expires_at=row.expires_at,
            scopes=list(row.scopes or []),
            account=row.account,
            extra=dict(row.extra or {}),
            status=CredentialStatus(row.status),
            version=row.version,
            origins=tuple(row.origins) if row.origins is not None else None,
        )

    def _stamped_credential(self, row: Any) -> Stamped[Credential]:
        return Stamped(self._credential(row), _aware(row.created_at), _aware(row.updated_at))

    def _encrypted(self, cred: Credential, column: str, value: SecretStr | str | None) -> str | None:
        if value is None:
            return None
        plain = value.get_secret_value() if isinstance(value, SecretStr) else value
        context = self._cred_context(cred.tenant_id, cred.provider, column, cred.user_id)
        return self.box.encrypt(plain, context=context)

    def _credential_values(self, cred: Credential) -> dict[str, Any]:
        secrets = None
        if cred.secrets:
            secrets = json.dumps({name: value.get_secret_value() for name, value in sorted(cred.secrets.items())})
        return {
            "kind": cred.kind,
            "access_token_enc": self._encrypted(cred, "access_token", cred.access_token),
            "refresh_token_enc": self._encrypted(cred, "refresh_token", cred.refresh_token),
            "secrets_enc": self._encrypted(cred, "secrets", secrets),
            "token_type": cred.token_type,
            "expires_at": cred.expires_at,
            "scopes": list(cred.scopes),
            "account": cred.account,
            "extra": cred.extra,
            "status": cred.status.value,
            "origins": list(cred.origins) if cred.origins is not None else None,
            "deleted": False,
            "updated_at": utcnow(),
        }

    def _live_credential(self, tenant_id: str, provider: str, user_id: str | None = None) -> Select[Any]:
        return select(CredentialRow).where(
            CredentialRow.tenant_id == tenant_id,
            CredentialRow.provider == provider,
            self._owner(user_id),
            CredentialRow.deleted.is_(False),
        )

    async def get_credential(self, tenant_id: str, provider: str, user_id: str | None = None) -> Credential | None:
        record = await self.get_credential_record(tenant_id, provider, user_id)
        return record.item if record is not None else None

    async def get_credential_record(
        self, tenant_id: str, provider: str, user_id: str | None = None
    ) -> Stamped[Credential] | None:
        async with self.read() as conn:
            row = (await conn.execute(self._live_credential(tenant_id, provider, user_id))).first()
        if row is None:
            return None
        return self._stamped_credential(row)

    async def list_credentials(self, tenant_id: str) -> list[Credential]:
        """The tenant's shared credentials (linked ones included), ordered by provider key."""
        return [record.item for record in await self.list_credential_records(tenant_id)]

    async def list_credential_records(self, tenant_id: str) -> list[Stamped[Credential]]:
        """The tenant's shared credentials (linked ones included), ordered by provider key; members' own are
        listed by `list_member_credentials`."""
        query = select(CredentialRow).where(
            CredentialRow.tenant_id == tenant_id, CredentialRow.user_id.is_(None), CredentialRow.deleted.is_(False)
        )
        async with self.read() as conn:
            rows = (await conn.execute(query.order_by(CredentialRow.provider))).all()
        return [self._stamped_credential(r) for r in rows]

    async def list_member_credentials(
        self,
        tenant_id: str,
        provider: str | None = None,
        *,
        limit: int | None = None,
        after: tuple[str, str] | None = None,
    ) -> list[MemberCredential]:
        """The credentials the tenant's members connected themselves (linked ones included), with each
        member's e-mail and name, ordered by provider then user; only `provider`'s and its linked ones when
        given; those after the (provider, user id) `after`. For listings of who connected what: callers show
        metadata only, never the tokens."""
        query = (
            select(CredentialRow, UserRow.email, UserRow.name)
            .join(UserRow, UserRow.id == CredentialRow.user_id)
            .where(CredentialRow.tenant_id == tenant_id, CredentialRow.deleted.is_(False))
        )
        if provider is not None:
            query = query.where(
                or_(CredentialRow.provider == provider, CredentialRow.provider.startswith(f"{provider}:"))
            )
        if after is not None:
            query = query.where(
                or_(
                    CredentialRow.provider > after[0],
                    and_(CredentialRow.provider == after[0], CredentialRow.user_id > after[1]),
                )
            )
        query = query.order_by(CredentialRow.provider, CredentialRow.user_id)
        if limit is not None:
            query = query.limit(limit)
        async with self.read() as conn:
            rows = (await conn.execute(query)).all()
        return [MemberCredential(self._stamped_credential(r), r.email, r.name) for r in rows]

    async def list_user_credentials(self, tenant_id: str | None, user_id: str) -> list[Stamped[Credential]]:
        """A member's own credentials in one tenant, or in every tenant with `tenant_id` None; by tenant, then
        provider."""
        query = select(CredentialRow).where(CredentialRow.user_id == user_id, CredentialRow.deleted.is_(False))
        if tenant_id is not None:
            query = query.where(CredentialRow.tenant_id == tenant_id)
        async with self.read() as conn:
            rows = (await conn.execute(query.order_by(CredentialRow.tenant_id, CredentialRow.provider))).all()
        return [self._stamped_credential(r) for r in rows]

    async def put_credential(self, cred: Credential) -> Credential:
        """Store `cred` as the tenant's shared credential for its provider (`cred.user_id` None) or as that
        member's own, replacing the one under the same key (never a duplicate); other members' stay.

        The stored version is higher than every version stored before under that key, so a
        refresh that started earlier loses its compare-and-swap. `cred.origins` is stored as
        given: the callers bind it to the connectors' origins first.
        """
        values = self._credential_values(cred)
        where = (
            CredentialRow.tenant_id == cred.tenant_id,
            CredentialRow.provider == cred.provider,
            self._owner(cred.user_id),
        )
        bumped = (
            func.max(CredentialRow.version + 1, cred.version)
            if self._sqlite
            else func.greatest(CredentialRow.version + 1, cred.version)
        )
        for attempt in range(2):
            try:
                async with self.write() as conn:
                    # Write first: on SQLite a read-then-write transaction can fail to take the write lock.
                    result = await conn.execute(
                        update(CredentialRow)
                        .where(*where)
                        .values(version=bumped, **values)
                        .returning(CredentialRow.id, CredentialRow.version)
                    )
                    found = result.first()
                    await self._changed(conn, cred.tenant_id)
                    if found is None:
                        await conn.execute(
                            insert(CredentialRow).values(
                                id=cred.id,
                                tenant_id=cred.tenant_id,
                                provider=cred.provider,
                                user_id=cred.user_id,
                                version=max(cred.version, 1),
                                created_at=values["updated_at"],
                                **values,
                            )
                        )
                        return cred.model_copy(update={"version": max(cred.version, 1)})
                return cred.model_copy(update={"id": found.id, "version": found.version})
            except IntegrityError:
                # Two first-time writers raced on the unique key; the loser updates instead.
                if await self.get_tenant_by_id(cred.tenant_id) is None:
                    raise TenantNotFound(f"no tenant with id {cred.tenant_id!r}") from None
                if cred.user_id is not None and not await self._user_exists(cred.user_id):
                    raise LookupFailed(f"no user with id {cred.user_id!r}") from None
                if attempt:
                    raise StoreError("the credential could not be stored; try again") from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _user_exists(self, user_id: str) -> bool:
        async with self.read() as conn:
            return (await conn.execute(select(UserRow.id).where(UserRow.id == user_id))).first() is not None

    async def delete_credential(self, tenant_id: str, provider: str, user_id: str | None = None) -> bool:
        """Forget the shared credential (or, with `user_id`, that member's): its secrets are wiped, its version
        kept; False if there was none."""
        async with self.write() as conn:
            result = await conn.execute(
                update(CredentialRow)
                .where(
                    CredentialRow.tenant_id == tenant_id,
                    CredentialRow.provider == provider,
                    self._owner(user_id),
                    CredentialRow.deleted.is_(False),
                )
                .values(
                    deleted=True,
                    access_token_enc=None,
                    refresh_token_enc=None,
                    secrets_enc=None,
                    origins=None,
                    version=CredentialRow.version + 1,
                    updated_at=utcnow(),
                )
            )
            await self._changed(conn, tenant_id)
        return bool(result.rowcount)

    async def delete_user_credentials(self, tenant_id: str, user_id: str) -> int:
        """Remove every credential a member connected in a tenant (they left it); returns how many.

        The rows go entirely: a member's credentials need no version history once the member is gone
        (a refresh in flight for them then finds nothing and stores nothing)."""
        async with self.write() as conn:
            result = await conn.execute(
                delete(CredentialRow).where(CredentialRow.tenant_id == tenant_id, CredentialRow.user_id == user_id)
            )
            if result.rowcount:
                await self._changed(conn, tenant_id)
        return int(result.rowcount or 0)

    async def rebind_credential(
        self, tenant_id: str, provider: str, origins: Sequence[str], user_id: str | None = None
    ) -> Credential | None:
        """Bind the credential to `origins` in place of the ones it was stored for; None if there is none.

        The version goes up, so a refresh that read the old binding loses its compare-and-swap.
        """
        async with self.write() as conn:
            result = await conn.execute(
                update(CredentialRow)
                .where(
                    CredentialRow.tenant_id == tenant_id,
                    CredentialRow.provider == provider,
                    self._owner(user_id),
                    CredentialRow.deleted.is_(False),
                )
                .values(origins=list(origins), version=CredentialRow.version + 1, updated_at=utcnow())
            )
            if not result.rowcount:
                return None
            await self._changed(conn, tenant_id)
        return await self.get_credential(tenant_id, provider, user_id)

    @asynccontextmanager
    async def lock_credential(
        self, tenant_id: str, provider: str, user_id: str | None = None
    ) -> AsyncIterator[Credential | None]:
        key = (tenant_id, provider, user_id)
        if self._sqlite:
            lock = self._locks.setdefault(key, anyio.Lock())
            try:
                async with lock:
                    yield await self.get_credential(tenant_id, provider, user_id)
            finally:
                # One lock per credential being refreshed, not per credential ever refreshed (members add up).
                if not lock.locked() and not lock.statistics().tasks_waiting and self._locks.get(key) is lock:
                    del self._locks[key]
            return
        async with self._errors(), self.engine.connect() as conn:
            await conn.begin()
            row = (await conn.execute(self._live_credential(tenant_id, provider, user_id).with_for_update())).first()
            held = dict(self._held.get() or {})
            held[key] = conn
            token = self._held.set(held)
            try:
                yield self._credential(row) if row is not None else None
            finally:
                self._held.reset(token)
                if conn.in_transaction():
                    await conn.rollback()

    async def swap_credential(self, expected_version: int, new: Credential) -> bool:
        if new.version != expected_version + 1:
            raise ValueError(f"a swapped credential must have version {expected_version + 1}, not {new.version}")
        values = self._credential_values(new)
        del values["origins"]  # a refresh never changes where the credential may go
        statement = (
            update(CredentialRow)
            .where(
                CredentialRow.tenant_id == new.tenant_id,
                CredentialRow.provider == new.provider,
                self._owner(new.user_id),
                CredentialRow.version == expected_version,
                CredentialRow.deleted.is_(False),
            )
            .values(version=new.version, **values)
        )
        held = (self._held.get() or {}).get((new.tenant_id, new.provider, new.user_id))
        if held is not None:
            # We hold the row lock on this connection: update there and commit, which releases the lock.
            async with self._errors():
                result = await held.execute(statement)
                if result.rowcount:
                    await self._changed(held, new.tenant_id)
                await held.commit()
            return bool(result.rowcount)
        async with self.write() as conn:
            result = await conn.execute(statement)
            if result.rowcount:
                await self._changed(conn, new.tenant_id)
        return bool(result.rowcount)

    # -- pending OAuth authorizations ----------------------------------------------------

    @staticmethod
    def _state_context(state_hash: str) -> str:
        return f"oauth_state:{state_hash}:code_verifier"

    async def save_oauth_state(
        self,
        pending: PendingAuthorization,
        *,
        link_hash: str | None = None,
        authorization_url: str | None = None,
        browser_hash: str | None = None,
    ) -> None:
        """Keep a pending authorization until `take_oauth_state`; expired ones are dropped here.

        `link_hash` is the hash of the single-use link a browser opens (`open_oauth_link`) to be
        sent on to `authorization_url`, the provider's (kept encrypted: it holds the state).
        `browser_hash` binds it at once to the browser that started it (a signed-in member
        connecting their own account, who is redirected to the provider directly). A member
        keeps at most `MAX_PENDING_PER_USER` pending authorizations: starting another drops
        their oldest.
        """
        digest = oauth_state_hash(pending.state)
        verifier = None
        if pending.code_verifier is not None:
            verifier = self.box.encrypt(pending.code_verifier, context=self._state_context(digest))
        url_enc = None
        if authorization_url is not None:
            url_enc = self.box.encrypt(authorization_url, context=self._link_context(digest))
        try:
            async with self.write() as conn:
                await conn.execute(delete(OAuthStateRow).where(OAuthStateRow.expires_at < time.time() - 60))
                if pending.user_id is not None:
                    await self._trim_user_states(conn, pending.user_id)
                await conn.execute(
                    insert(OAuthStateRow).values(
                        state_hash=digest,
                        tenant_id=pending.tenant_id,
                        provider=pending.provider,
                        connector_id=pending.connector_id,
                        user_id=pending.user_id,
                        code_verifier_enc=verifier,
                        redirect_uri=pending.redirect_uri,
                        scopes=list(pending.scopes),
                        expires_at=pending.expires_at,
                        created_at=pending.created_at,
                        link_hash=link_hash,
                        authorization_url_enc=url_enc,
                        browser_hash=browser_hash,
                    )
                )
        except IntegrityError:
            if pending.user_id is not None and not await self._user_exists(pending.user_id):
                raise LookupFailed(f"no user with id {pending.user_id!r}") from None
            raise StoreError("an OAuth state with this value is already pending") from None

    @staticmethod
    async def _trim_user_states(conn: AsyncConnection, user_id: str) -> None:
        """Drop a member's oldest pending authorizations so that one more fits under `MAX_PENDING_PER_USER`."""
        stale = (
            select(OAuthStateRow.state_hash)
            .where(OAuthStateRow.user_id == user_id)
            .order_by(OAuthStateRow.created_at.desc(), OAuthStateRow.state_hash)
            .offset(MAX_PENDING_PER_USER - 1)
        )
        doomed = [row[0] for row in (await conn.execute(stale)).all()]
        if doomed:
            await conn.execute(delete(OAuthStateRow).where(OAuthStateRow.state_hash.in_(doomed)))

    @staticmethod
    def _link_context(state_hash: str) -> str:
        return f"oauth_state:{state_hash}:authorization_url"

    async def open_oauth_link(self, link_hash: str, browser_hash: str) -> OpenedLink | None:
        """Bind a pending authorization to the browser opening its link (the hash of its new cookie).

        One `UPDATE ... RETURNING` that also clears the link: of two browsers opening the same
        link, exactly one gets it. None when the link is unknown, expired or already opened.
        """
        async with self.write() as conn:
            row = (
                await conn.execute(
                    update(OAuthStateRow)
                    .where(
                        OAuthStateRow.link_hash == link_hash,
                        OAuthStateRow.expires_at > time.time(),
                        OAuthStateRow.browser_hash.is_(None),
                    )
                    .values(link_hash=None, browser_hash=browser_hash)
                    .returning(
                        OAuthStateRow.state_hash,
                        OAuthStateRow.provider,
                        OAuthStateRow.authorization_url_enc,
                        OAuthStateRow.expires_at,
                    )
                )
            ).first()
        if row is None or row.authorization_url_enc is None:
            return None
        url = self.box.decrypt(row.authorization_url_enc, context=self._link_context(row.state_hash))
        return OpenedLink(row.state_hash, row.provider, url, row.expires_at)

    async def oauth_state_pending(self, state: str) -> bool:
        """Whether an authorization with this state is pending (not yet taken), expired or not."""
        query = select(OAuthStateRow.state_hash).where(OAuthStateRow.state_hash == oauth_state_hash(state))
        async with self.read() as conn:
            return (await conn.execute(query)).first() is not None

    async def take_oauth_state(self, state: str, *, browser_hash: str | None = None) -> PendingAuthorization | None:
        """Remove and return the pending authorization for a state; None if unknown or already taken.

        With `browser_hash`, only the authorization bound to that browser (`open_oauth_link`) is
        taken: a callback from another browser leaves it pending for the one that started it.
        One `DELETE ... RETURNING`: of two callbacks with the same state, exactly one gets it.
        """
        digest = oauth_state_hash(state)
        condition = OAuthStateRow.state_hash == digest
        if browser_hash is not None:
            condition = and_(condition, OAuthStateRow.browser_hash == browser_hash)
        async with self.write() as conn:
            row = (await conn.execute(delete(OAuthStateRow).where(condition).returning(OAuthStateRow))).first()
        if row is None:
            return None
        verifier = None
        if row.code_verifier_enc is not None:
            verifier = self.box.decrypt(row.code_verifier_enc, context=self._state_context(digest))
        return PendingAuthorization(
            state=state,
            tenant_id=row.tenant_id,
            provider=row.provider,
            connector_id=row.connector_id,
            code_verifier=verifier,
            redirect_uri=row.redirect_uri,
            scopes=tuple(row.scopes or ()),
            expires_at=row.expires_at,
            created_at=row.created_at,
            user_id=row.user_id,
        )

    # -- API keys ------------------------------------------------------------------------

    @staticmethod
    def _api_key(row: Any) -> ApiKeyRecord:
        return ApiKeyRecord(
            id=row.id,
            tenant_id=row.tenant_id,
            name=row.name,
            prefix=row.prefix,
            key_hash=row.key_hash,
            scopes=frozenset(row.scopes or ()),
            connector_id=row.connector_id,
            created_at=_aware(row.created_at),
            revoked=row.revoked,
            discovery=row.discovery,
        )

    async def create_api_key(
        self,
        tenant_id: str | None,
        *,
        name: str = "",
        scopes: Iterable[str] = frozenset({"mcp"}),
        connector_id: str | None = None,
        platform_admin: bool = False,
        discovery: bool | None = None,
    ) -> tuple[str, ApiKeyRecord]:
        """Create a key; return the raw key (show it once, it is not kept) and the stored record.

        `discovery` is the key's choice of discovery mode on the tenant-wide endpoint (None: the tenant's).
        """
        if platform_admin != (tenant_id is None):
            raise ValueError("a platform admin key has no tenant, and every other key needs one")
        if platform_admin and connector_id is not None:
            raise ValueError("a platform admin key cannot be limited to a connector")
        if connector_id is not None and tenant_id is not None:
            cfg = await self.get_connector(tenant_id, connector_id)
            if cfg is None or cfg.id != connector_id:
                raise ConnectorNotFound(f"the tenant has no connector with id {connector_id!r}")
        raw, key_hash, prefix = generate_api_key()
        record = ApiKeyRecord(
            tenant_id=tenant_id,
            name=name,
            prefix=prefix,
            key_hash=key_hash,
            scopes=frozenset(scopes),
            connector_id=connector_id,
            discovery=discovery,
        )
        try:
            async with self.write() as conn:
                await conn.execute(
                    insert(ApiKeyRow).values(
                        id=record.id,
                        tenant_id=tenant_id,
                        name=name,
                        prefix=prefix,
                        key_hash=key_hash,
                        scopes=sorted(record.scopes),
                        connector_id=connector_id,
                        platform_admin=platform_admin,
                        revoked=False,
                        created_at=record.created_at,
                        discovery=discovery,
                    )
                )
        except IntegrityError:
            raise TenantNotFound("the tenant or connector was deleted meanwhile") from None
        return raw, record

    async def list_api_keys(self, tenant_id: str | None) -> list[ApiKeyRecord]:
        """The key records of a tenant (None: the platform admin keys), revoked ones included."""
        query = select(ApiKeyRow).where(
            ApiKeyRow.tenant_id.is_(None) if tenant_id is None else ApiKeyRow.tenant_id == tenant_id
        )
        async with self.read() as conn:
            rows = (await conn.execute(query.order_by(ApiKeyRow.created_at, ApiKeyRow.id))).all()
        return [self._api_key(r) for r in rows]

    async def get_api_key(self, key_id: str) -> ApiKeyRecord | None:
        async with self.read() as conn:
            row = (await conn.execute(select(ApiKeyRow).where(ApiKeyRow.id == key_id))).first()
        return self._api_key(row) if row is not None else None

    async def revoke_api_key(self, key_id: str, tenant_id: str | None = None) -> bool:
        """Revoke a key by id (only the tenant's when `tenant_id` is given); False if there is no such key."""
        query = update(ApiKeyRow).where(ApiKeyRow.id == key_id)
        if tenant_id is not None:
            query = query.where(ApiKeyRow.tenant_id == tenant_id)
        async with self.write() as conn:
            result = await conn.execute(query.values(revoked=True, revoked_at=utcnow()))
        return bool(result.rowcount)

    async def count_platform_admin_keys(self) -> int:
        query = (
            select(func.count())
            .select_from(ApiKeyRow)
            .where(ApiKeyRow.platform_admin.is_(True), ApiKeyRow.revoked.is_(False))
        )
        async with self.read() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def verify_api_key(self, raw_key: str) -> Principal | None:
        if not raw_key or len(raw_key) > 512:
            return None
        key_hash = hash_api_key(raw_key)
        async with self.read() as conn:
            row = (await conn.execute(select(ApiKeyRow).where(ApiKeyRow.key_hash == key_hash))).first()
        if row is None or row.revoked or not api_key_matches(raw_key, row.key_hash):
            return None
        return Principal(
            id=row.id,
            kind="platform_admin" if row.platform_admin else "api_key",
            tenant_id=row.tenant_id,
            scopes=frozenset(row.scopes or ()),
            connector_id=row.connector_id,
            name=row.name,
            discovery=row.discovery,
        )

    # -- audit ---------------------------------------------------------------------------

    @staticmethod
    def _audit_values(event: AuditEvent) -> dict[str, Any]:
        return event.model_dump()

    async def record_audit(self, event: AuditEvent) -> None:
        await self.record_audits([event])

    async def record_audits(self, events: Sequence[AuditEvent]) -> int:
        """Insert a batch of audit events; events of tenants deleted meanwhile are dropped. Returns the count kept."""
        if not events:
            return 0
        try:
            async with self.write() as conn:
                await conn.execute(insert(AuditEventRow), [self._audit_values(e) for e in events])
            return len(events)
        except IntegrityError:
            kept = 0
            for event in events:
                try:
                    async with self.write() as conn:
                        await conn.execute(insert(AuditEventRow).values(**self._audit_values(event)))
                    kept += 1
                except IntegrityError:
                    continue
            return kept

    async def list_audit(
        self,
        tenant_id: str,
        *,
        limit: int = 50,
        cursor: tuple[datetime, str] | None = None,
        connector_id: str | None = None,
        tool: str | None = None,
        outcome: str | None = None,
        user_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Page[AuditEvent]:
        """The tenant's audit events, newest first; `cursor` is the (at, id) of the last event seen.

        `since` is inclusive and `until` exclusive; `user_id` keeps the calls run for that member."""
        query = select(AuditEventRow).where(
            *self._audit_conditions(tenant_id, connector_id, tool, outcome, user_id, since, until)
        )
        if cursor is not None:
            at, event_id = cursor
            query = query.where(or_(AuditEventRow.at < at, and_(AuditEventRow.at == at, AuditEventRow.id < event_id)))
        query = query.order_by(AuditEventRow.at.desc(), AuditEventRow.id.desc()).limit(limit + 1)
        async with self.read() as conn:
            rows = (await conn.execute(query)).all()
        items = [
            AuditEvent(
                id=r.id,
                tenant_id=r.tenant_id,
                connector_id=r.connector_id,
                connector_type=r.connector_type,
                tool=r.tool,
                principal_id=r.principal_id,
                user_id=r.user_id,
                outcome=r.outcome,
                error_code=r.error_code,
                duration_ms=r.duration_ms,
                request_id=r.request_id,
                at=_aware(r.at),
            )
            for r in rows[:limit]
        ]
        next_cursor = None
        if len(rows) > limit:
            last = items[-1]
            next_cursor = encode_cursor([last.at.isoformat(), last.id])
        return Page(items, next_cursor)

    @staticmethod
    def _audit_conditions(
        tenant_id: str,
        connector_id: str | None,
        tool: str | None,
        outcome: str | None,
        user_id: str | None,
        since: datetime | None,
        until: datetime | None,
    ) -> list[ColumnElement[bool]]:
        found = [AuditEventRow.tenant_id == tenant_id]
        if connector_id is not None:
            found.append(AuditEventRow.connector_id == connector_id)
        if tool is not None:
            found.append(AuditEventRow.tool == tool)
        if outcome is not None:
            found.append(AuditEventRow.outcome == outcome)
        if user_id is not None:
            found.append(AuditEventRow.user_id == user_id)
        if since is not None:
            found.append(AuditEventRow.at >= since)
        if until is not None:
            found.append(AuditEventRow.at < until)
        return found

    async def audit_samples(
        self,
        tenant_id: str,
        *,
        since: datetime,
        until: datetime,
        limit: int = 50_000,
        connector_id: str | None = None,
        tool: str | None = None,
        outcome: str | None = None,
        user_id: str | None = None,
    ) -> tuple[list[tuple[datetime, str, str, float]], bool]:
        """(time, tool, outcome, duration in ms) of the tenant's matching events in [since, until), newest first,
        for charts and latency percentiles; at most `limit`, and whether more matched (the oldest were left out)."""
        query = select(AuditEventRow.at, AuditEventRow.tool, AuditEventRow.outcome, AuditEventRow.duration_ms).where(
            *self._audit_conditions(tenant_id, connector_id, tool, outcome, user_id, since, until)
        )
        query = query.order_by(AuditEventRow.at.desc(), AuditEventRow.id.desc()).limit(limit + 1)
        async with self.read() as conn:
            rows = (await conn.execute(query)).all()
        samples = [(_aware(r[0]), str(r[1]), str(r[2]), float(r[3])) for r in rows[:limit]]
        return samples, len(rows) > limit

    # -- key rotation --------------------------------------------------------------------

    async def rotate_secrets(self, batch: int = 200) -> int:
        """Re-encrypt every stored secret under the first key of the ring; returns how many changed.

        Values already under the first key are left alone, so running it twice is harmless,
        and a run that stopped half-way can simply be started again.
        """
        changed = 0
        changed += await self._rotate(
            OAuthAppRow,
            (OAuthAppRow.tenant_id, OAuthAppRow.provider),
            {"client_secret_enc": lambda k: self._app_context(k[0], k[1])},
            batch,
        )
        changed += await self._rotate(
            CredentialRow,
            (CredentialRow.id, CredentialRow.tenant_id, CredentialRow.provider, CredentialRow.user_id),
            {
                "access_token_enc": lambda k: self._cred_context(k[1], k[2], "access_token", k[3]),
                "refresh_token_enc": lambda k: self._cred_context(k[1], k[2], "refresh_token", k[3]),
                "secrets_enc": lambda k: self._cred_context(k[1], k[2], "secrets", k[3]),
            },
            batch,
        )
        changed += await self._rotate(
            OAuthStateRow,
            (OAuthStateRow.state_hash,),
            {
                "code_verifier_enc": lambda k: self._state_context(k[0]),
                "authorization_url_enc": lambda k: self._link_context(k[0]),
            },
            batch,
        )
        return changed

    async def _rotate(self, table: Any, keys: tuple[Any, ...], columns: dict[str, Any], batch: int) -> int:
        changed = 0
        cols = [getattr(table, name) for name in columns]
        async with self.read() as conn:
            rows = (await conn.execute(select(*keys, *cols))).all()
        pending: list[tuple[tuple[Any, ...], dict[str, str], dict[str, str]]] = []
        for row in rows:
            key = tuple(row[: len(keys)])
            updates: dict[str, str] = {}
            originals: dict[str, str] = {}
            for offset, (name, context) in enumerate(columns.items()):
                value = row[len(keys) + offset]
                if value is not None and self.box.needs_rotation(value):
                    updates[name] = self.box.rotate(value, context=context(key))
                    originals[name] = value
            if updates:
                pending.append((key, updates, originals))
        for start in range(0, len(pending), batch):
            async with self.write() as conn:
                for key, updates, originals in pending[start : start + batch]:
                    where = [k == v for k, v in zip(keys, key, strict=True)]
                    # Only replace the value we read, so a concurrent writer's newer secret is never clobbered.
                    guards = [getattr(table, name) == value for name, value in originals.items()]
                    result = await conn.execute(update(table).where(*where, *guards).values(**updates))
                    changed += len(updates) if result.rowcount else 0
        return changed
