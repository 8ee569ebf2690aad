"""Tenant generation: bumped with every change to a tenant, its connectors or its credentials.

Replicas revalidate their cached view of a tenant by comparing this one number
instead of loading the tenant, its connectors and its credentials again.

Revision ID: 0002_tenant_generation
Revises: 0001_initial
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_tenant_generation"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tenants", sa.Column("generation", sa.BigInteger(), nullable=False, server_default=sa.text("0")))


def downgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("generation")
