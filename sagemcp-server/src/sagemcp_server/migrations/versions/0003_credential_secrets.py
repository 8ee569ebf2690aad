"""Credential secrets: a scheme's named secrets (a private key, a client secret), encrypted at rest.

Auth schemes keep their material as data: plain fields in `credentials.extra`, secrets
in the new `secrets_enc` column, one `SecretBox` token holding a JSON object of them.
`access_token_enc` has been nullable since 0001_initial; it is now NULL for credentials
that have no access token yet (schemes that make their own get one on first use), where
earlier versions stored a placeholder.

Revision ID: 0003_credential_secrets
Revises: 0002_tenant_generation
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_credential_secrets"
down_revision = "0002_tenant_generation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("credentials", sa.Column("secrets_enc", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.drop_column("secrets_enc")
