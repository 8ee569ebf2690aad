"""Credentials bound to their upstream origins; OAuth authorizations bound to the browser that started them.

`credentials.origins` holds the origins a credential was stored or authorized for; the
credential is sent nowhere else. Credentials stored before this revision have NULL there
(not bound) until they are stored again or a platform admin rebinds them.

`oauth_states` gains the single-use authorization link (`link_hash`), the hash of the
cookie set in the browser that opened it (`browser_hash`) and the provider's authorization
URL the link redirects to (`authorization_url_enc`, encrypted). States pending at the
upgrade have no link, so their callbacks are refused: connecting again starts a new one.

Revision ID: 0004_credential_origins
Revises: 0003_credential_secrets
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_credential_origins"
down_revision = "0003_credential_secrets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("credentials", sa.Column("origins", sa.JSON(), nullable=True))
    op.add_column("oauth_states", sa.Column("link_hash", sa.String(length=64), nullable=True))
    op.add_column("oauth_states", sa.Column("browser_hash", sa.String(length=64), nullable=True))
    op.add_column("oauth_states", sa.Column("authorization_url_enc", sa.Text(), nullable=True))
    op.create_index(op.f("ix_oauth_states_link_hash"), "oauth_states", ["link_hash"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_oauth_states_link_hash"), table_name="oauth_states")
    with op.batch_alter_table("oauth_states") as batch:
        batch.drop_column("authorization_url_enc")
        batch.drop_column("browser_hash")
        batch.drop_column("link_hash")
    with op.batch_alter_table("credentials") as batch:
        batch.drop_column("origins")
