"""Tenant tool-call limits: calls per minute, concurrent calls, calls per minute per credential.

NULL in a column means the server's default (`SAGEMCP_CALLS_PER_MINUTE`, ...); 0 means no limit.

Revision ID: 0008_tenant_call_limits
Revises: 0007_bind_credential_origins
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_tenant_call_limits"
down_revision = "0007_bind_credential_origins"
branch_labels = None
depends_on = None

COLUMNS = ("calls_per_minute", "concurrent_calls", "credential_calls_per_minute")


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column("tenants", sa.Column(name, sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        for name in COLUMNS:
            batch.drop_column(name)
