"""The tables. Secrets are stored only as `SecretBox` tokens (`*_enc` columns) or hashes (`key_hash`, `state_hash`).

Every row hangs off a tenant with `ON DELETE CASCADE`, so deleting a tenant deletes
everything it owns. The Alembic migrations in `sagemcp_server/migrations` create
exactly these tables; a test compares the two.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "ApiKeyRow",
    "AuditEventRow",
    "Base",
    "ConnectorRow",
    "CredentialRow",
    "InvitationRow",
    "McpAuthorizationCodeRow",
    "McpClientRow",
    "McpTokenRow",
    "MembershipRow",
    "OAuthAppRow",
    "OAuthStateRow",
    "OidcProviderRow",
    "OidcStateRow",
    "TenantRow",
    "UserIdentityRow",
    "UserRow",
    "WebSessionRow",
]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_ID = 32
_TS = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


def _tenant_fk() -> Mapped[str]:
    return mapped_column(String(_ID), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)


class TenantRow(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(_ID), primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    generation: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default=text("0"))
    """Bumped in the transaction of every change to the tenant, its connectors or its credentials."""
    # The tenant's own tool-call limits (`sagemcp.platform.CallLimits`): NULL takes the server's default.
    calls_per_minute: Mapped[int | None] = mapped_column(Integer, nullable=True)
    concurrent_calls: Mapped[int | None] = mapped_column(Integer, nullable=True)
    credential_calls_per_minute: Mapped[int | None] = mapped_column(Integer, nullable=True)
    discovery: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    """Discovery mode of the tenant-wide endpoint: the meta-tools and `pinned_tools` instead of every tool."""
    pinned_tools: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(_TS, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(_TS, nullable=False)


class ConnectorRow(Base):
    __tablename__ = "connectors"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[str] = mapped_column(String(_ID), primary_key=True)
    tenant_id: Mapped[str] = _tenant_fk()
    connector_type: Mapped[str] = mapped_column(String(32), nullable=False)
    name: Mapped[str] = mapped_column(String(63), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    configuration: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    tool_policy: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    provider: Mapped[str | None] = mapped_column(String(64), nullable=True)
    connection_mode: Mapped[str] = mapped_column(
        String(16), nullable=False, default="shared", server_default=text("'shared'")
    )
    """`shared` (one credential for the tenant) or `per_user` (each member connects their own account)."""
    discovery: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    """Discovery mode of the connector's own endpoint: the meta-tools and `pinned_tools` instead of every tool."""
    pinned_tools: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(_TS, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(_TS, nullable=False)


class OAuthAppRow(Base):
    __tablename__ = "oauth_apps"

    tenant_id: Mapped[str] = mapped_column(String(_ID), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    provider: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(512), nullable=False)
    client_secret_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(_TS, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(_TS, nullable=False)


class CredentialRow(Base):
    """One row per (tenant, provider) for the tenant's shared credential and one per (tenant, provider, user)
    for each member's own, kept across disconnects so that `version` only ever grows.

    A disconnected credential keeps its row with `deleted` set and its secrets wiped: a
    refresh that started before the disconnect then loses its compare-and-swap against
    whatever is stored later, instead of matching a restarted version number.
    """

    __tablename__ = "credentials"
    __table_args__ = (
        Index(
            "uq_credentials_shared",
            "tenant_id",
            "provider",
            unique=True,
            sqlite_where=text("user_id IS NULL"),
            postgresql_where=text("user_id IS NULL"),
        ),
        Index(
            "uq_credentials_per_user",
            "tenant_id",
            "provider",
            "user_id",
            unique=True,
            sqlite_where=text("user_id IS NOT NULL"),
            postgresql_where=text("user_id IS NOT NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(_ID), primary_key=True)
    tenant_id: Mapped[str] = _tenant_fk()
    provider: Mapped[str] = mapped_column(String(64), nullable=False)
    user_id: Mapped[str | None] = mapped_column(
        String(_ID), ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    )
    """The member whose own credential this is; NULL for the tenant's shared credential."""
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    access_token_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    """None while the credential has no access token yet (a scheme that makes its own gets one on first use)."""
    refresh_token_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    secrets_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    """The credential's named secrets (private key, client secret) as one encrypted JSON object."""
    token_type: Mapped[str] = mapped_column(String(32), nullable=False, default="Bearer")
    expires_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    account: Mapped[str | None] = mapped_column(String(512), nullable=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    origins: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    """The upstream origins the credential was stored or authorized for (`Credential.origins`); NULL: not
    bound (stored before 0004_credential_origins)."""
    deleted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(_TS, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(_TS, nullable=False)


class ApiKeyRow(Base):
    """An API key: only the SHA-256 of the (256-bit random) key is kept, looked up by a unique index."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(_ID), primary_key=True)
    tenant_id: Mapped[str | None] = mapped_column(
        String(_ID), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=True, index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    connector_id: Mapped[str | None] = mapped_column(
        String(_ID), ForeignKey("connectors.id", ondelete="CASCADE"), nullable=True
    )
    platform_admin: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    revoked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    discovery: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    """This key's choice of discovery mode on the tenant-wide endpoint; NULL: the tenant's."""
    created_at: Mapped[datetime] = mapped_column(_TS, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(_TS, nullable=True)


class OAuthStateRow(Base):
    """A pending upstream authorization. The state is kept as a hash and the PKCE verifier encrypted.

    The authorization link handed to the admin is single-use: opening it sets a random cookie
    in that browser, whose hash (`browser_hash`) the callback must match, and clears `link_hash`.
    """

    __tablename__ = "oauth_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = _tenant_fk()
    provider: Mapped[str] = mapped_column(String(64), nullable=False)
    connector_id: Mapped[str | None] = mapped_column(String(_ID), nullable=True)
    code_verifier_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    redirect_uri: Mapped[str] = mapped_column(Text, nullable=False)
    scopes: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    expires_at: Mapped[float] = mapped_column(Float, nullable=False, index=True)
    created_at: Mapped[float] = mapped_column(Float, nullable=False)
    user_id: Mapped[str | None] = mapped_column(String(_ID), ForeignKey("users.id", ondelete="CASCADE"), nullable=True)
    """The member connecting their own account (a `per_user` connector); NULL for the tenant's shared one."""
    link_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True, index=True)
    """SHA-256 of the single-use authorization link's token; NULL once the link was opened."""
    browser_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """SHA-256 of the cookie set in the browser that opened the link; NULL until then."""
    authorization_url_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    """The provider's authorization URL (it holds the state), encrypted; the link redirects there."""


class AuditEventRow(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_tenant_at", "tenant_id", "at", "id"),)

    id: Mapped[str] = mapped_column(String(_ID), primary_key=True)
    tenant_id: Mapped[str] = _tenant_fk()
    connector_id: Mapped[str] = mapped_column(String(_ID), nullable=False)
    connector_type: Mapped[str] = mapped_column(String(32), nullable=False)
    tool: Mapped[str] = mapped_column(String(128), nullable=False)
    principal_id: Mapped[str] = mapped_column(String(64), nullable=False)
    user_id: Mapped[str | None] = mapped_column(String(_ID), nullable=True)
    """The member the call ran for (OAuth tokens and member sessions); no foreign key: the record outlives them."""
    outcome: Mapped[str] = mapped_column(String(32), nullable=False)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    duration_ms: Mapped[float] = mapped_column(Float, nullable=False)
    request_id: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[datetime] = mapped_column(_TS, nullable=False)


# -- people -------------------------------------------------------------------------------


def _user_fk(*, nullable: bool = False) -> Mapped[str]:
    return mapped_column(String(_ID), ForeignKey("users.id", ondelete="CASCADE"), nullable=nullable, index=True)


class UserRow(Base):
    """A person. Built-in accounts have a password hash (argon2id); people who sign in only through an
    OpenID Connect provider have none. `email` is stored lower-cased."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(_ID), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    password_hash: Mapped[str | None] = mapped_column(Text, nullable=True)
    email_verified: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    platform_admin: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    failed_signins: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    """Consecutive failed password sign-ins; reset by a successful one."""
    locked_until: Mapped[float | None] = mapped_column(Float, nullable=True)
    """Unix time until which password sign-in is refused after too many failures."""
    created_at: Mapped[datetime] = mapped_column(_TS, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(_TS, nullable=False)


class UserIdentityRow(Base):
    """A user's account at an external OpenID Connect provider, matched by (issuer, subject)."""

    __tablename__ = "user_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[str] = mapped_column(String(_ID), primary_key=True)
    user_id: Mapped[str] = _user_fk()
    issuer: Mapped[str] = mapped_column(String(512), nullable=False)
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    created_at: Mapped[datetime] = mapped_column(_TS, nullable=False)


class MembershipRow(Base):
    """A user's role in a tenant: `owner`, `admin` or `member`."""

    __tablename__ = "memberships"

    tenant_id: Mapped[str] = mapped_column(String(_ID), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(_ID), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = mapped_column(_TS, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(_TS, nullable=False)


class InvitationRow(Base):
    """A one-time invitation link into a tenant with a role; only the hash of its token is kept."""

    __tablename__ = "invitations"

    id: Mapped[str] = mapped_column(String(_ID), primary_key=True)
    tenant_id: Mapped[str] = _tenant_fk()
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    """When set, only the user with this e-mail may accept it."""
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    expires_at: Mapped[float] = mapped_column(Float, nullable=False)
    accepted_by: Mapped[str | None] = mapped_column(
        String(_ID), ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    accepted_at: Mapped[datetime | None] = mapped_column(_TS, nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(_TS, nullable=False)


class WebSessionRow(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is kept."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = _user_fk()
    csrf_secret: Mapped[str] = mapped_column(String(64), nullable=False)
    """Random per session; forms carry an HMAC of it (not secret to the signed-in browser, useless elsewhere)."""
    created_at: Mapped[float] = mapped_column(Float, nullable=False)
    expires_at: Mapped[float] = mapped_column(Float, nullable=False, index=True)
    last_seen_at: Mapped[float] = mapped_column(Float, nullable=False)


class OidcProviderRow(Base):
    """An external OpenID Connect provider people sign in with, for the platform (`tenant_id` NULL) or a tenant."""

    __tablename__ = "oidc_providers"
    __table_args__ = (UniqueConstraint("name"),)

    id: Mapped[str] = mapped_column(String(_ID), primary_key=True)
    tenant_id: Mapped[str | None] = mapped_column(
        String(_ID), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=True, index=True
    )
    name: Mapped[str] = mapped_column(String(63), nullable=False)
    display_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    issuer: Mapped[str] = mapped_column(String(512), nullable=False)
    client_id: Mapped[str] = mapped_column(String(512), nullable=False)
    client_secret_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    match_by: Mapped[str] = mapped_column(String(16), nullable=False, default="email")
    """`email` (a verified e-mail claim links an existing user) or `subject` (only an identity linked before)."""
    created_at: Mapped[datetime] = mapped_column(_TS, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(_TS, nullable=False)


class OidcStateRow(Base):
    """A pending sign-in at an external provider: state kept as a hash, nonce and PKCE verifier encrypted."""

    __tablename__ = "oidc_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider_id: Mapped[str] = mapped_column(
        String(_ID), ForeignKey("oidc_providers.id", ondelete="CASCADE"), nullable=False
    )
    nonce_enc: Mapped[str] = mapped_column(Text, nullable=False)
    code_verifier_enc: Mapped[str] = mapped_column(Text, nullable=False)
    browser_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    return_to: Mapped[str] = mapped_column(Text, nullable=False, default="/")
    expires_at: Mapped[float] = mapped_column(Float, nullable=False, index=True)


# -- the MCP authorization server -----------------------------------------------------------


class McpClientRow(Base):
    """An OAuth client of the built-in authorization server: registered dynamically (RFC 7591) or known by its
    Client ID Metadata Document (the `client_id` is then the document's HTTPS URL, cached here)."""

    __tablename__ = "mcp_clients"

    client_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    """`registered` (RFC 7591), `preregistered` (by an operator) or `document` (known by its metadata document)."""
    client_secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    client_metadata: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[float] = mapped_column(Float, nullable=False)
    fetched_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    """When a metadata document was last fetched; it is fetched again once stale."""
    registered_from: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    """SHA-256 of the network address that registered the client (RFC 7591), for the per-address limit."""


class McpAuthorizationCodeRow(Base):
    """An authorization code issued after consent, single-use, bound to the user, tenant, resource and PKCE."""

    __tablename__ = "mcp_authorization_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(512), nullable=False)
    user_id: Mapped[str] = _user_fk()
    tenant_id: Mapped[str] = _tenant_fk()
    resource: Mapped[str] = mapped_column(Text, nullable=False)
    scopes: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    code_challenge: Mapped[str] = mapped_column(String(128), nullable=False)
    redirect_uri: Mapped[str] = mapped_column(Text, nullable=False)
    redirect_uri_provided_explicitly: Mapped[bool] = mapped_column(Boolean, nullable=False)
    expires_at: Mapped[float] = mapped_column(Float, nullable=False, index=True)
    used: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class McpTokenRow(Base):
    """An access or refresh token of the built-in authorization server; only its SHA-256 is kept.

    Tokens of one authorization share a `family_id`: a refresh token presented again after it was
    rotated revokes the whole family (reuse detection).
    """

    __tablename__ = "mcp_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    """`access` or `refresh`."""
    family_id: Mapped[str] = mapped_column(String(_ID), nullable=False, index=True)
    client_id: Mapped[str] = mapped_column(String(512), nullable=False, index=True)
    user_id: Mapped[str] = _user_fk()
    tenant_id: Mapped[str] = mapped_column(
        String(_ID), ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True
    )
    resource: Mapped[str] = mapped_column(Text, nullable=False)
    scopes: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[float] = mapped_column(Float, nullable=False)
    expires_at: Mapped[float] = mapped_column(Float, nullable=False, index=True)
    rotated: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    """A refresh token already exchanged for a new one."""
    revoked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    rotated_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    """When a refresh token was exchanged: presented again within the grace period it is exchanged once more
    (the client lost the answer), later it revokes the family."""
    parent_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    """The refresh token this one was issued in exchange for; NULL for tokens issued for an authorization code."""
    redirect_uri: Mapped[str | None] = mapped_column(Text, nullable=True)
    """The redirect URI of the authorization the family came from: a metadata-document client's id is shared
    by every installation, so its grants can be revoked per redirect URI."""
