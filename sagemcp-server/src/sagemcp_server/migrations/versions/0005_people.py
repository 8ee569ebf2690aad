"""People: users, memberships, invitations, sign-in, the MCP authorization server and per-user credentials.

- `users`, `user_identities` (external OpenID Connect accounts), `memberships` (role per tenant),
  `invitations` (one-time links), `web_sessions` (signed-in browsers), `oidc_providers` and
  `oidc_states` (sign-in through an external provider).
- `mcp_clients`, `mcp_authorization_codes`, `mcp_tokens`: the built-in OAuth 2.1 authorization
  server for MCP clients (hashes of codes and tokens only).
- `connectors.connection_mode` (`shared` or `per_user`); `credentials.user_id` (NULL for the tenant's
  shared credential): the unique constraint on (tenant, provider) becomes one partial unique index for
  shared credentials and one for each member's own; `oauth_states.user_id` and `audit_events.user_id`.

Revision ID: 0005_people
Revises: 0004_credential_origins
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_people"
down_revision = "0004_credential_origins"
branch_labels = None
depends_on = None

_ID = 32
_TS = sa.DateTime(timezone=True)


def _user_fk(column: str = "user_id", *, nullable: bool = False, ondelete: str = "CASCADE") -> sa.Column[str]:
    return sa.Column(column, sa.String(_ID), sa.ForeignKey("users.id", ondelete=ondelete), nullable=nullable)


def _tenant_fk(*, nullable: bool = False) -> sa.Column[str]:
    return sa.Column("tenant_id", sa.String(_ID), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(_ID), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("email_verified", sa.Boolean(), nullable=False),
        sa.Column("platform_admin", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_signins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.Float(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )
    op.create_table(
        "user_identities",
        sa.Column("id", sa.String(_ID), primary_key=True),
        _user_fk(),
        sa.Column("issuer", sa.String(512), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.UniqueConstraint("issuer", "subject"),
    )
    op.create_index(op.f("ix_user_identities_user_id"), "user_identities", ["user_id"])
    op.create_table(
        "memberships",
        sa.Column("tenant_id", sa.String(_ID), sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.String(_ID), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )
    op.create_index(op.f("ix_memberships_user_id"), "memberships", ["user_id"])
    op.create_table(
        "invitations",
        sa.Column("id", sa.String(_ID), primary_key=True),
        _tenant_fk(),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        _user_fk("accepted_by", nullable=True, ondelete="SET NULL"),
        sa.Column("accepted_at", _TS, nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        _user_fk(),
        sa.Column("csrf_secret", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("last_seen_at", sa.Float(), nullable=False),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"])
    op.create_index(op.f("ix_web_sessions_expires_at"), "web_sessions", ["expires_at"])
    op.create_table(
        "oidc_providers",
        sa.Column("id", sa.String(_ID), primary_key=True),
        _tenant_fk(nullable=True),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("issuer", sa.String(512), nullable=False),
        sa.Column("client_id", sa.String(512), nullable=False),
        sa.Column("client_secret_enc", sa.Text(), nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("match_by", sa.String(16), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.UniqueConstraint("name"),
    )
    op.create_index(op.f("ix_oidc_providers_tenant_id"), "oidc_providers", ["tenant_id"])
    op.create_table(
        "oidc_states",
        sa.Column("state_hash", sa.String(64), primary_key=True),
        sa.Column(
            "provider_id", sa.String(_ID), sa.ForeignKey("oidc_providers.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("nonce_enc", sa.Text(), nullable=False),
        sa.Column("code_verifier_enc", sa.Text(), nullable=False),
        sa.Column("browser_hash", sa.String(64), nullable=False),
        sa.Column("return_to", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
    )
    op.create_index(op.f("ix_oidc_states_expires_at"), "oidc_states", ["expires_at"])
    op.create_table(
        "mcp_clients",
        sa.Column("client_id", sa.String(512), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("client_secret_hash", sa.String(64), nullable=True),
        sa.Column("client_metadata", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("fetched_at", sa.Float(), nullable=True),
    )
    op.create_table(
        "mcp_authorization_codes",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column("client_id", sa.String(512), nullable=False),
        _user_fk(),
        _tenant_fk(),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("code_challenge", sa.String(128), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("redirect_uri_provided_explicitly", sa.Boolean(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
    )
    op.create_index(op.f("ix_mcp_authorization_codes_user_id"), "mcp_authorization_codes", ["user_id"])
    op.create_index(op.f("ix_mcp_authorization_codes_expires_at"), "mcp_authorization_codes", ["expires_at"])
    op.create_table(
        "mcp_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("family_id", sa.String(_ID), nullable=False),
        sa.Column("client_id", sa.String(512), nullable=False),
        _user_fk(),
        _tenant_fk(),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("rotated", sa.Boolean(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
    )
    op.create_index(op.f("ix_mcp_tokens_family_id"), "mcp_tokens", ["family_id"])
    op.create_index(op.f("ix_mcp_tokens_user_id"), "mcp_tokens", ["user_id"])
    op.create_index(op.f("ix_mcp_tokens_expires_at"), "mcp_tokens", ["expires_at"])

    op.add_column(
        "connectors",
        sa.Column("connection_mode", sa.String(16), nullable=False, server_default=sa.text("'shared'")),
    )
    with op.batch_alter_table("credentials") as batch:
        batch.add_column(sa.Column("user_id", sa.String(_ID), nullable=True))
        batch.create_foreign_key(op.f("fk_credentials_user_id_users"), "users", ["user_id"], ["id"], ondelete="CASCADE")
        batch.drop_constraint("uq_credentials_tenant_id_provider", type_="unique")
        batch.create_index(op.f("ix_credentials_user_id"), ["user_id"])
    op.create_index(
        "uq_credentials_shared",
        "credentials",
        ["tenant_id", "provider"],
        unique=True,
        sqlite_where=sa.text("user_id IS NULL"),
        postgresql_where=sa.text("user_id IS NULL"),
    )
    op.create_index(
        "uq_credentials_per_user",
        "credentials",
        ["tenant_id", "provider", "user_id"],
        unique=True,
        sqlite_where=sa.text("user_id IS NOT NULL"),
        postgresql_where=sa.text("user_id IS NOT NULL"),
    )
    with op.batch_alter_table("oauth_states") as batch:
        batch.add_column(sa.Column("user_id", sa.String(_ID), nullable=True))
        batch.create_foreign_key(
            op.f("fk_oauth_states_user_id_users"), "users", ["user_id"], ["id"], ondelete="CASCADE"
        )
    op.add_column("audit_events", sa.Column("user_id", sa.String(_ID), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("user_id")
    with op.batch_alter_table("oauth_states") as batch:
        batch.drop_constraint(op.f("fk_oauth_states_user_id_users"), type_="foreignkey")
        batch.drop_column("user_id")
    op.execute("DELETE FROM credentials WHERE user_id IS NOT NULL")
    op.drop_index("uq_credentials_per_user", table_name="credentials")
    op.drop_index("uq_credentials_shared", table_name="credentials")
    with op.batch_alter_table("credentials") as batch:
        batch.drop_index(op.f("ix_credentials_user_id"))
        batch.create_unique_constraint("uq_credentials_tenant_id_provider", ["tenant_id", "provider"])
        batch.drop_constraint(op.f("fk_credentials_user_id_users"), type_="foreignkey")
        batch.drop_column("user_id")
    with op.batch_alter_table("connectors") as batch:
        batch.drop_column("connection_mode")
    for table in (
        "mcp_tokens",
        "mcp_authorization_codes",
        "mcp_clients",
        "oidc_states",
        "oidc_providers",
        "web_sessions",
        "invitations",
        "memberships",
        "user_identities",
        "users",
    ):
        op.drop_table(table)
