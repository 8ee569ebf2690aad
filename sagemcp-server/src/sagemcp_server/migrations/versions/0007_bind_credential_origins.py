"""Bind credentials stored before 0004_credential_origins to the origins of their connectors.

Such credentials have NULL `origins` (not bound): they would follow a connector's host
wherever it is changed to. Each one (shared or a member's, not disconnected) is bound to
the origins its tenant's connectors of its provider are configured for at the upgrade,
worked out as when a credential is stored (`sagemcp_server.origins`). A credential whose
origins cannot be worked out (its connector type is not installed, or every connector's
configuration is refused) stays unbound and is named in a warning: store it again, or
have a platform admin rebind it (`POST .../credentials/{provider}/rebind`).

The connector classes are those the upgrade is given (`upgrade(engine, registry=...)`),
else the installed ones (the `sagemcp.connectors` entry points). Secrets are not read:
the origins depend on the configuration and the credential's plain fields only.

Downgrading keeps the bindings (0004's column stays until 0004 itself is downgraded).

Revision ID: 0007_bind_credential_origins
Revises: 0006_authorization_server
Create Date: 2026-12-04
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from pydantic import ValidationError

from sagemcp import Credential
from sagemcp.platform import ConnectorRegistry
from sagemcp_server.origins import ConfiguredConnector, binding_origins_for

revision = "0007_bind_credential_origins"
down_revision = "0006_authorization_server"
branch_labels = None
depends_on = None

logger = logging.getLogger("sagemcp_server.migrations")

_credentials = sa.table(
    "credentials",
    sa.column("id", sa.String),
    sa.column("tenant_id", sa.String),
    sa.column("provider", sa.String),
    sa.column("user_id", sa.String),
    sa.column("kind", sa.String),
    sa.column("scopes", sa.JSON),
    sa.column("account", sa.String),
    sa.column("extra", sa.JSON),
    sa.column("version", sa.Integer),
    sa.column("deleted", sa.Boolean),
    sa.column("origins", sa.JSON),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
_connectors = sa.table(
    "connectors",
    sa.column("tenant_id", sa.String),
    sa.column("connector_type", sa.String),
    sa.column("provider", sa.String),
    sa.column("configuration", sa.JSON),
)


def _registry() -> ConnectorRegistry:
    given = context.config.attributes.get("registry")
    return given if isinstance(given, ConnectorRegistry) else ConnectorRegistry.from_entry_points()


def upgrade() -> None:
    bind = op.get_bind()
    c = _credentials.c
    # Unbound is SQL NULL (the rows 0004 found) or JSON null (written by code that bound nothing): both read None.
    unbound = [
        row
        for row in bind.execute(
            sa.select(c.id, c.tenant_id, c.provider, c.user_id, c.kind, c.scopes, c.account, c.extra, c.origins).where(
                c.deleted.is_(sa.false())
            )
        )
        if row.origins is None
    ]
    if not unbound:
        return
    registry = _registry()
    connectors: dict[str, list[ConfiguredConnector]] = {}
    for configured in bind.execute(
        sa.select(
            _connectors.c.tenant_id, _connectors.c.connector_type, _connectors.c.provider, _connectors.c.configuration
        )
    ):
        connectors.setdefault(configured.tenant_id, []).append(
            ConfiguredConnector(configured.connector_type, configured.provider, dict(configured.configuration or {}))
        )
    now = datetime.now(UTC)
    left: list[str] = []
    for row in unbound:
        origins = _origins(registry, row, connectors.get(row.tenant_id, []))
        if not origins:
            left.append(
                f"{row.provider} of tenant {row.tenant_id}" + (f" (member {row.user_id})" if row.user_id else "")
            )
            continue
        bind.execute(
            sa.update(_credentials)
            .where(c.id == row.id)
            .values(origins=list(origins), version=c.version + 1, updated_at=now)
        )
    if left:
        logger.warning(
            "%d credential(s) stored before credentials were bound to origins could not be bound (no installed "
            "connector of their provider names an origin): %s; store them again, or have a platform admin rebind "
            "them, before they can be used",
            len(left),
            ", ".join(left),
        )


def _origins(registry: ConnectorRegistry, row: Any, tenant_connectors: list[ConfiguredConnector]) -> tuple[str, ...]:
    try:
        credential = Credential(
            tenant_id=row.tenant_id,
            provider=row.provider,
            user_id=row.user_id,
            kind=row.kind,
            scopes=list(row.scopes or []),
            account=row.account,
            extra=dict(row.extra or {}),
        )
    except ValidationError:
        return ()
    return binding_origins_for(registry, credential, tenant_connectors)


def downgrade() -> None:
    """Nothing to undo: the bindings are data in 0004's column."""
