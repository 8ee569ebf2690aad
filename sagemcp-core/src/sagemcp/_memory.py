"""`MemoryStore`: a complete in-process `TenantStore`, for tests, demos and single-process embedders.

It also has the management methods an embedder needs (adding tenants, connectors,
credentials, OAuth apps and API keys) and keeps pending OAuth authorizations.
Nothing survives a restart, and the credential lock only excludes callers of the
same process: use a database-backed store when several processes share tenants.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import anyio

from ._keys import api_key_matches, generate_api_key, hash_api_key
from ._models import ApiKeyRecord, AuditEvent, ConnectorConfig, Credential, OAuthApp, Principal, Tenant
from .errors import ConnectorNotFound, StoreError, TenantNotFound

if TYPE_CHECKING:
    from ._oauth import PendingAuthorization

__all__ = ["MemoryStore"]

_Key = tuple[str, str]
_CredentialKey = tuple[str, str, str | None]
"""(tenant, provider, user): user None is the tenant's shared credential."""


class MemoryStore:
    """Tenants, connectors, credentials, OAuth apps, API keys, audit events and OAuth states in memory.

    `audit_limit` caps the audit events kept per tenant (the oldest are dropped).
    """

    def __init__(self, *, audit_limit: int = 10_000) -> None:
        self._mutex = threading.Lock()
        self._tenants: dict[str, Tenant] = {}
        self._connectors: dict[str, ConnectorConfig] = {}
        self._credentials: dict[_CredentialKey, Credential] = {}
        self._versions: dict[_CredentialKey, int] = {}
        self._credential_locks: dict[_CredentialKey, anyio.Lock] = {}
        self._oauth_apps: dict[_Key, OAuthApp] = {}
        self._keys_by_hash: dict[str, ApiKeyRecord] = {}
        self._audit: dict[str, deque[AuditEvent]] = {}
        self._audit_limit = audit_limit
        self._states: dict[str, PendingAuthorization] = {}

    # -- tenants and connectors ----------------------------------------------------------

    def add_tenant(self, tenant: Tenant) -> Tenant:
        """Add a tenant, or replace the one with the same id; a slug belongs to one tenant."""
        with self._mutex:
            for other in self._tenants.values():
                if other.slug == tenant.slug and other.id != tenant.id:
                    raise StoreError(f"the slug {tenant.slug!r} is already used by another tenant")
            previous = self._tenants.get(tenant.id)
            if previous is not None:
                tenant = tenant.model_copy(update={"generation": previous.generation + 1})
            self._tenants[tenant.id] = tenant
        return tenant

    async def tenant_generation(self, tenant_id: str) -> int | None:
        tenant = self._tenants.get(tenant_id)
        return tenant.generation if tenant is not None else None

    def _changed(self, tenant_id: str) -> None:
        """Bump the tenant's generation (callers hold the mutex)."""
        tenant = self._tenants.get(tenant_id)
        if tenant is not None:
            self._tenants[tenant_id] = tenant.model_copy(update={"generation": tenant.generation + 1})

    async def get_tenant(self, slug: str) -> Tenant | None:
        return next((t for t in self._tenants.values() if t.slug == slug), None)

    async def get_tenant_by_id(self, tenant_id: str) -> Tenant | None:
        return self._tenants.get(tenant_id)

    def add_connector(self, cfg: ConnectorConfig) -> ConnectorConfig:
        """Add a connector to its tenant, or replace the one with the same id; names are unique per tenant."""
        with self._mutex:
            self._require_tenant(cfg.tenant_id)
            existing = self._connectors.get(cfg.id)
            if existing is not None and existing.tenant_id != cfg.tenant_id:
                raise StoreError(f"connector id {cfg.id!r} belongs to another tenant")
            for other in self._connectors.values():
                if other.tenant_id == cfg.tenant_id and other.name == cfg.name and other.id != cfg.id:
                    raise StoreError(f"the tenant already has a connector named {cfg.name!r}")
            self._connectors[cfg.id] = cfg
            self._changed(cfg.tenant_id)
        return cfg

    async def get_connector(self, tenant_id: str, connector_id: str) -> ConnectorConfig | None:
        cfg = self._connectors.get(connector_id)
        if cfg is not None and cfg.tenant_id == tenant_id:
            return cfg
        return next((c for c in self._connectors.values() if c.tenant_id == tenant_id and c.name == connector_id), None)

    async def list_connectors(self, tenant_id: str) -> list[ConnectorConfig]:
        return [c for c in self._connectors.values() if c.tenant_id == tenant_id]

    # -- credentials ---------------------------------------------------------------------

    def put_credential(self, cred: Credential) -> Credential:
        """Store `cred` as the tenant's shared credential for its provider (`cred.user_id` None) or as that
        member's own, replacing the one stored under the same key; other members' are not touched.

        The stored version is higher than any version stored before under that key, so a
        refresh that started earlier loses its compare-and-swap. `cred.origins` is kept as
        given: bind it (`sagemcp._execution.credential_binding`) before storing it, or it
        may be sent to whatever host its connector names.
        """
        key = (cred.tenant_id, cred.provider, cred.user_id)
        with self._mutex:
            self._require_tenant(cred.tenant_id)
            version = max(cred.version, self._versions.get(key, 0) + 1)
            stored = cred if version == cred.version else cred.model_copy(update={"version": version})
            self._credentials[key] = stored
            self._versions[key] = version
            self._changed(cred.tenant_id)
        return stored

    def delete_credential(self, tenant_id: str, provider: str, user_id: str | None = None) -> bool:
        """Forget the shared credential (`user_id` None) or that member's own; False if there was none."""
        with self._mutex:
            self._changed(tenant_id)
            return self._credentials.pop((tenant_id, provider, user_id), None) is not None

    def list_credentials(self, tenant_id: str) -> list[Credential]:
        """The tenant's credentials, shared and members' own, by provider then user (shared first)."""
        found = [c for (tenant, _, _), c in self._credentials.items() if tenant == tenant_id]
        return sorted(found, key=lambda c: (c.provider, c.user_id is not None, c.user_id or ""))

    def delete_user_credentials(self, user_id: str) -> int:
        """Forget every credential a member connected, in every tenant (the member left or was deleted)."""
        with self._mutex:
            doomed = [key for key in self._credentials if key[2] == user_id]
            for key in doomed:
                del self._credentials[key]
                self._changed(key[0])
        return len(doomed)

    async def get_credential(self, tenant_id: str, provider: str, user_id: str | None = None) -> Credential | None:
        return self._credentials.get((tenant_id, provider, user_id))

    @asynccontextmanager
    async def lock_credential(
        self, tenant_id: str, provider: str, user_id: str | None = None
    ) -> AsyncIterator[Credential | None]:
        key = (tenant_id, provider, user_id)
        with self._mutex:
            lock = self._credential_locks.setdefault(key, anyio.Lock())
        try:
            async with lock:
                yield self._credentials.get(key)
        finally:
            # One lock per credential being refreshed, not per credential ever refreshed (members add up).
            with self._mutex:
                idle = not lock.locked() and not lock.statistics().tasks_waiting
                if idle and self._credential_locks.get(key) is lock:
                    del self._credential_locks[key]

    async def swap_credential(self, expected_version: int, new: Credential) -> bool:
        if new.version != expected_version + 1:
            raise ValueError(f"a swapped credential must have version {expected_version + 1}, not {new.version}")
        key = (new.tenant_id, new.provider, new.user_id)
        with self._mutex:
            current = self._credentials.get(key)
            if current is None or current.version != expected_version:
                return False
            # A refresh never changes where the credential may go: only storing it again does.
            self._credentials[key] = new.model_copy(update={"origins": current.origins})
            self._versions[key] = max(new.version, self._versions.get(key, 0))
            self._changed(new.tenant_id)
            return True

    # -- OAuth apps and pending authorizations ---------------------------------------------

    def put_oauth_app(self, app: OAuthApp) -> OAuthApp:
        with self._mutex:
            self._require_tenant(app.tenant_id)
            self._oauth_apps[(app.tenant_id, app.provider)] = app
        return app

    async def get_oauth_app(self, tenant_id: str, provider: str) -> OAuthApp | None:
        return self._oauth_apps.get((tenant_id, provider))

    def save_oauth_state(self, state: PendingAuthorization) -> None:
        """Keep a pending authorization until `take_oauth_state`; expired ones are dropped here."""
        now = time.time()
        with self._mutex:
            for value in [v for v, p in self._states.items() if p.expired(now)]:
                del self._states[value]
            if state.state in self._states:
                raise StoreError("an OAuth state with this value is already pending")
            self._states[state.state] = state

    def take_oauth_state(self, state_value: str) -> PendingAuthorization | None:
        """Remove and return the pending authorization for a state; None if unknown or already taken."""
        with self._mutex:
            return self._states.pop(state_value, None)

    # -- API keys ------------------------------------------------------------------------

    def create_api_key(
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

        A platform admin key belongs to no tenant; every other key belongs to exactly one,
        and optionally to one of its connectors.
        """
        if platform_admin != (tenant_id is None):
            raise ValueError("a platform admin key has no tenant, and every other key needs one")
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
        with self._mutex:
            if tenant_id is not None:
                self._require_tenant(tenant_id)
                if connector_id is not None:
                    cfg = self._connectors.get(connector_id)
                    if cfg is None or cfg.tenant_id != tenant_id:
                        raise ConnectorNotFound(f"the tenant has no connector with id {connector_id!r}")
            elif connector_id is not None:
                raise ValueError("a platform admin key cannot be limited to a connector")
            self._keys_by_hash[key_hash] = record
        return raw, record

    def revoke_api_key(self, key_id: str) -> bool:
        """Revoke a key by its record id; False if there is no such key."""
        with self._mutex:
            for key_hash, record in self._keys_by_hash.items():
                if record.id == key_id:
                    self._keys_by_hash[key_hash] = record.model_copy(update={"revoked": True})
                    return True
        return False

    def list_api_keys(self, tenant_id: str | None) -> list[ApiKeyRecord]:
        """The key records of a tenant (None: the platform admin keys), revoked ones included."""
        return [r for r in self._keys_by_hash.values() if r.tenant_id == tenant_id]

    async def verify_api_key(self, raw_key: str) -> Principal | None:
        key_hash = hash_api_key(raw_key)
        record = self._keys_by_hash.get(key_hash)
        if record is None or record.revoked or not api_key_matches(raw_key, record.key_hash):
            return None
        return Principal(
            id=record.id,
            kind="platform_admin" if record.tenant_id is None else "api_key",
            tenant_id=record.tenant_id,
            scopes=record.scopes,
            connector_id=record.connector_id,
            name=record.name,
            discovery=record.discovery,
        )

    # -- audit ---------------------------------------------------------------------------

    async def record_audit(self, event: AuditEvent) -> None:
        with self._mutex:
            events = self._audit.get(event.tenant_id)
            if events is None:
                events = self._audit[event.tenant_id] = deque(maxlen=self._audit_limit)
            events.append(event)

    def audit_events(self, tenant_id: str) -> list[AuditEvent]:
        """The tenant's audit events, newest first."""
        return list(reversed(self._audit.get(tenant_id, ())))

    def _require_tenant(self, tenant_id: str) -> None:
        if tenant_id not in self._tenants:
            raise TenantNotFound(f"no tenant with id {tenant_id!r}; add it with add_tenant() first")
