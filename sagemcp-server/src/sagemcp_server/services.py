"""`Services`: the objects one server process shares between its routes, built once by `create_app`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from sagemcp import Connector
from sagemcp.mcp import ApiKeyAuthenticator, CallerAuthenticator, McpApp
from sagemcp.platform import ConnectorRegistry, CredentialManager, OAuthFlows, SecretBox, UpstreamClient

from .auditlog import AuditBuffer
from .db.store import SqlStore
from .metrics import Metrics
from .settings import Settings

__all__ = ["Services"]


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    store: SqlStore
    box: SecretBox
    registry: ConnectorRegistry
    flows: OAuthFlows
    credentials: CredentialManager
    upstream: UpstreamClient
    api_keys: ApiKeyAuthenticator
    authenticator: CallerAuthenticator
    mcp: McpApp
    metrics: Metrics
    audit: AuditBuffer

    @property
    def public_url(self) -> str:
        return self.settings.resolved_public_url()

    def mcp_url(self, slug: str, connector: str | None = None) -> str:
        if connector is None:
            return f"{self.public_url}/api/v1/{slug}/mcp"
        return f"{self.public_url}/api/v1/{slug}/connectors/{connector}/mcp"

    def redirect_uri(self, provider: str) -> str:
        """The OAuth redirect URI for a provider: built from SAGEMCP_PUBLIC_URL, never from request headers."""
        return f"{self.public_url}/api/v1/oauth/callback/{provider}"

    def tenant_changed(self, slug: str) -> None:
        """Make this process serve a tenant's new state at once (other replicas follow within the cache TTL)."""
        self.mcp.resolver.invalidate(slug)

    def credential_changed(self, slug: str, tenant_id: str, provider: str) -> None:
        self.mcp.resolver.invalidate_credential(tenant_id, provider)
        self.mcp.resolver.invalidate(slug)

    def keys_changed(self) -> None:
        self.api_keys.invalidate()

    def providers(self) -> dict[str, list[type[Connector]]]:
        """Installed connector classes by credential provider."""
        found: dict[str, list[type[Connector]]] = {}
        for cls in self.registry:
            found.setdefault(cls.provider_id(), []).append(cls)
        return found
