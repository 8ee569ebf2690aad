"""The initial schema: tenants, connectors, OAuth apps, credentials, API keys, OAuth states, audit events.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

_ID = sa.String(32)


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], name=f"fk_{table}_tenant_id_tenants", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", _ID, nullable=False),
        sa.Column("slug", sa.String(63), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_tenants"),
        sa.UniqueConstraint("slug", name="uq_tenants_slug"),
    )
    op.create_table(
        "connectors",
        sa.Column("id", _ID, nullable=False),
        sa.Column("tenant_id", _ID, nullable=False),
        sa.Column("connector_type", sa.String(32), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("configuration", sa.JSON(), nullable=False),
        sa.Column("tool_policy", sa.JSON(), nullable=False),
        sa.Column("provider", sa.String(64), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_connectors"),
        _tenant_fk("connectors"),
        sa.UniqueConstraint("tenant_id", "name", name="uq_connectors_tenant_id_name"),
    )
    op.create_table(
        "oauth_apps",
        sa.Column("tenant_id", _ID, nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(512), nullable=False),
        sa.Column("client_secret_enc", sa.Text(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("tenant_id", "provider", name="pk_oauth_apps"),
        _tenant_fk("oauth_apps"),
    )
    op.create_table(
        "credentials",
        sa.Column("id", _ID, nullable=False),
        sa.Column("tenant_id", _ID, nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("access_token_enc", sa.Text(), nullable=True),
        sa.Column("refresh_token_enc", sa.Text(), nullable=True),
        sa.Column("token_type", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("account", sa.String(512), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_credentials"),
        _tenant_fk("credentials"),
        sa.UniqueConstraint("tenant_id", "provider", name="uq_credentials_tenant_id_provider"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", _ID, nullable=False),
        sa.Column("tenant_id", _ID, nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("connector_id", _ID, nullable=True),
        sa.Column("platform_admin", sa.Boolean(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        _ts("created_at"),
        _ts("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        _tenant_fk("api_keys"),
        sa.ForeignKeyConstraint(
            ["connector_id"], ["connectors.id"], name="fk_api_keys_connector_id_connectors", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    op.create_index("ix_api_keys_tenant_id", "api_keys", ["tenant_id"])
    op.create_table(
        "oauth_states",
        sa.Column("state_hash", sa.String(64), nullable=False),
        sa.Column("tenant_id", _ID, nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("connector_id", _ID, nullable=True),
        sa.Column("code_verifier_enc", sa.Text(), nullable=True),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("state_hash", name="pk_oauth_states"),
        _tenant_fk("oauth_states"),
    )
    op.create_index("ix_oauth_states_expires_at", "oauth_states", ["expires_at"])
    op.create_table(
        "audit_events",
        sa.Column("id", _ID, nullable=False),
        sa.Column("tenant_id", _ID, nullable=False),
        sa.Column("connector_id", _ID, nullable=False),
        sa.Column("connector_type", sa.String(32), nullable=False),
        sa.Column("tool", sa.String(128), nullable=False),
        sa.Column("principal_id", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        _ts("at"),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
        _tenant_fk("audit_events"),
    )
    op.create_index("ix_audit_events_tenant_at", "audit_events", ["tenant_id", "at", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_tenant_at", table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_index("ix_oauth_states_expires_at", table_name="oauth_states")
    op.drop_table("oauth_states")
    op.drop_index("ix_api_keys_tenant_id", table_name="api_keys")
    op.drop_table("api_keys")
    op.drop_table("credentials")
    op.drop_table("oauth_apps")
    op.drop_table("connectors")
    op.drop_table("tenants")
