"""Discovery mode: per tenant (with its pinned tools) and per API key.

`tenants.discovery` turns the meta-tools on for the tenant-wide endpoint, `tenants.pinned_tools` lists
the tools shown beside them; `api_keys.discovery` overrides the tenant's choice for one key (NULL: the
tenant's).

Revision ID: 0009_tool_discovery
Revises: 0008_tenant_call_limits
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_tool_discovery"
down_revision = "0008_tenant_call_limits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tenants", sa.Column("discovery", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("tenants", sa.Column("pinned_tools", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column("api_keys", sa.Column("discovery", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("discovery")
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("pinned_tools")
        batch.drop_column("discovery")
