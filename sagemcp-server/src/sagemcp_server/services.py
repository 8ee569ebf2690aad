"""`Services`: the objects one server process shares between its routes, built once by `create_app`."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from sagemcp import Connector
from sagemcp.mcp import ApiKeyAuthenticator, BearerTokenAuthenticator, CallerAuthenticator, McpApp
from sagemcp.platform import (
    CallGuard,
    CallLimits,
    ConnectorRegistry,
    CredentialManager,
    OAuthFlows,
    SecretBox,
    UpstreamClient,
)

from .auditlog import AuditBuffer
from .authz.setup import AuthorizationSetup
from .authz.store import AuthorizationStore
from .db.people import PeopleStore
from .db.store import SqlStore
from .metrics import Metrics
from .passwords import Passwords
from .session_routing import RedisSessionRouter
from .settings import Settings

__all__ = ["Services"]


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    store: SqlStore
    people: PeopleStore
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
    passwords: Passwords
    authz: AuthorizationStore
    """The built-in authorization server's clients, codes and tokens."""
    authorization: AuthorizationSetup
    """How MCP clients are authorized in this process: the mode, the issuer, the verifier and provider."""
    access_tokens: BearerTokenAuthenticator | None = None
    """The MCP endpoints' access-token authenticator (None when only API keys are accepted)."""
    redis: Redis | None = None
    """The Redis the replicas share (`SAGEMCP_REDIS_URL`; None: one replica)."""
    sessions: RedisSessionRouter | None = None
    """Which replica holds which stateful MCP session (None without Redis or without stateful sessions)."""

    call_guard: CallGuard | None = None
    """The tool-call limits every `tools/call` of this process passes (shared through Redis when configured)."""

    def call_limit_defaults(self) -> CallLimits:
        """The limits of a tenant that sets none of its own (`SAGEMCP_CALLS_PER_MINUTE`, ...)."""
        return CallLimits(
            calls_per_minute=self.settings.calls_per_minute,
            concurrent_calls=self.settings.concurrent_calls,
            credential_calls_per_minute=self.settings.credential_calls_per_minute,
        )

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
        self.tokens_changed()  # a deactivated tenant's access tokens stop working at once

    def credential_changed(self, slug: str, tenant_id: str, provider: str, user_id: str | None = None) -> None:
        """Serve a changed credential at once: the tenant's shared one, or with `user_id` that member's own."""
        self.mcp.resolver.invalidate_credential(tenant_id, provider, user_id)
        self.mcp.resolver.invalidate(slug)

    def connect_url(self, slug: str, connector: str) -> str:
        """The page where a member connects their own account to a `per_user` connector."""
        return f"{self.public_url}/connect/{slug}/{connector}"

    def keys_changed(self) -> None:
        self.api_keys.invalidate()
        self.tokens_changed()

    def tokens_changed(self) -> None:
        """Stop accepting revoked access tokens in this process at once (other replicas follow within the cache
        TTL): after a revocation, and after a user, membership or tenant changed, since a token is only as good as
        its user's membership."""
        if self.access_tokens is not None:
            self.access_tokens.invalidate()

    def members_changed(self) -> None:
        """A user was deactivated or deleted, or a membership ended or changed: re-check their access tokens."""
        self.tokens_changed()

    def providers(self) -> dict[str, list[type[Connector]]]:
        """Installed connector classes by credential provider."""
        found: dict[str, list[type[Connector]]] = {}
        for cls in self.registry:
            found.setdefault(cls.provider_id(), []).append(cls)
        return found
