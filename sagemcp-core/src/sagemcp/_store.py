"""The `TenantStore` protocol: what the data plane needs from storage.

Only lookups, the credential compare-and-swap and lock used by token refresh,
API-key verification and the audit sink. A credential is keyed by tenant, provider
and user: `user_id` None is the tenant's shared credential (`shared` connectors), a
user id that member's own (`per_user` connectors); the default keeps stores written
before members existed working for shared credentials. Management (creating tenants and so on)
belongs to the store implementation; `MemoryStore` in `sagemcp._memory` and the SQL
store of `sagemcp-server` both satisfy this protocol, and the optional
`ChangeTracking` one.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol, runtime_checkable

from ._models import AuditEvent, ConnectorConfig, Credential, OAuthApp, Principal, Tenant

__all__ = ["ChangeTracking", "TenantStore"]


@runtime_checkable
class TenantStore(Protocol):
    async def get_tenant(self, slug: str) -> Tenant | None:
        """The tenant with this slug, or None."""
        ...

    async def get_connector(self, tenant_id: str, connector_id: str) -> ConnectorConfig | None:
        """A tenant's connector by id or by name, or None (never another tenant's)."""
        ...

    async def list_connectors(self, tenant_id: str) -> list[ConnectorConfig]:
        """All connectors of a tenant, enabled or not."""
        ...

    async def get_credential(self, tenant_id: str, provider: str, user_id: str | None = None) -> Credential | None:
        """The current credential for a provider: the tenant's shared one (`user_id` None) or that member's own,
        or None. A member's lookup never returns the shared credential or another member's, nor the reverse."""
        ...

    def lock_credential(
        self, tenant_id: str, provider: str, user_id: str | None = None
    ) -> AbstractAsyncContextManager[Credential | None]:
        """Hold the refresh lock for one credential (the shared one, or a member's) across processes where the
        store can, and yield its latest version. A refresh happens inside this lock so that only one caller
        anywhere refreshes it; other members' credentials of the same provider are not held."""
        ...

    async def swap_credential(self, expected_version: int, new: Credential) -> bool:
        """Replace the credential of `(new.tenant_id, new.provider, new.user_id)` if its version is still
        `expected_version`; `new.version` must be `expected_version + 1`. False if another writer won."""
        ...

    async def get_oauth_app(self, tenant_id: str, provider: str) -> OAuthApp | None:
        """The tenant's OAuth client registration for a provider, or None."""
        ...

    async def verify_api_key(self, raw_key: str) -> Principal | None:
        """The principal of a presented API key, or None if unknown or revoked (constant-time lookup)."""
        ...

    async def record_audit(self, event: AuditEvent) -> None:
        """Keep one tool-call audit event."""
        ...


@runtime_checkable
class ChangeTracking(Protocol):
    """Optional: a store that bumps `Tenant.generation` in the same transaction as every change to a
    tenant, its connectors or its credentials.

    The MCP adapter then revalidates an expired tenant view with this one cheap lookup
    and keeps it (and the credentials it cached) when nothing changed, instead of
    loading the tenant, its connectors and its credentials again.
    """

    async def tenant_generation(self, tenant_id: str) -> int | None:
        """The tenant's current `generation`, or None when the tenant no longer exists."""
        ...
