"""The built-in authorization server: registration limits per address, refresh rotation with a grace period.

- `mcp_clients.registered_from`: SHA-256 of the address that registered a client dynamically, so that
  registrations per address and hour can be bounded across replicas.
- `mcp_tokens.rotated_at` and `mcp_tokens.parent_hash`: when a refresh token was exchanged and which refresh
  token a token was issued for, so that a client that lost the answer to a refresh may present the old
  refresh token again for a few seconds (its unused successor is then revoked) while a later reuse still
  revokes the whole family.
- `mcp_tokens.redirect_uri`: the redirect URI of the authorization a family came from (a metadata-document
  client's id is shared by every installation; its grants can be revoked per redirect URI).
- Indexes on `mcp_tokens.client_id` and `mcp_tokens.tenant_id` (revocation by client, cascades on tenant
  deletion).

Revision ID: 0006_authorization_server
Revises: 0005_people
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_authorization_server"
down_revision = "0005_people"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("mcp_clients", sa.Column("registered_from", sa.String(64), nullable=True))
    op.create_index(op.f("ix_mcp_clients_registered_from"), "mcp_clients", ["registered_from"])
    op.add_column("mcp_tokens", sa.Column("rotated_at", sa.Float(), nullable=True))
    op.add_column("mcp_tokens", sa.Column("parent_hash", sa.String(64), nullable=True))
    op.add_column("mcp_tokens", sa.Column("redirect_uri", sa.Text(), nullable=True))
    op.create_index(op.f("ix_mcp_tokens_parent_hash"), "mcp_tokens", ["parent_hash"])
    op.create_index(op.f("ix_mcp_tokens_client_id"), "mcp_tokens", ["client_id"])
    op.create_index(op.f("ix_mcp_tokens_tenant_id"), "mcp_tokens", ["tenant_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_mcp_tokens_tenant_id"), table_name="mcp_tokens")
    op.drop_index(op.f("ix_mcp_tokens_client_id"), table_name="mcp_tokens")
    op.drop_index(op.f("ix_mcp_tokens_parent_hash"), table_name="mcp_tokens")
    with op.batch_alter_table("mcp_tokens") as batch:
        batch.drop_column("redirect_uri")
        batch.drop_column("parent_hash")
        batch.drop_column("rotated_at")
    op.drop_index(op.f("ix_mcp_clients_registered_from"), table_name="mcp_clients")
    with op.batch_alter_table("mcp_clients") as batch:
        batch.drop_column("registered_from")
