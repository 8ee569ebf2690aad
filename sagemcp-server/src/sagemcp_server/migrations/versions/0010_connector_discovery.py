"""Discovery mode per connector, with its pinned tools.

`connectors.discovery` turns the meta-tools on for the connector's own endpoint, `connectors.pinned_tools`
lists the tools (by the names that endpoint serves) shown beside them; an API key's `discovery` still
overrides it for that key.

Revision ID: 0010_connector_discovery
Revises: 0009_tool_discovery
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_connector_discovery"
down_revision = "0009_tool_discovery"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("connectors", sa.Column("discovery", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("connectors", sa.Column("pinned_tools", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("connectors") as batch:
        batch.drop_column("pinned_tools")
        batch.drop_column("discovery")
