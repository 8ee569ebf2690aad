"""Schema migrations with Alembic, run on the store's own async engine.

`upgrade()` brings the database to the newest revision. On PostgreSQL it holds an
advisory lock meanwhile, so replicas starting together migrate one after the other.
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from sagemcp.platform import ConnectorRegistry

__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "current_revision",
    "head_revision",
    "known_revisions",
    "schema_serves",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_LOCK_ID = 0x5A6E_4D43_5000_0001 - (1 << 63)  # any fixed bigint; "sagemcp migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@functools.cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package ships migrations
        raise RuntimeError("no migrations found")
    return head


@functools.cache
def known_revisions() -> frozenset[str]:
    """Every revision this release ships."""
    return frozenset(script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions())


def schema_serves(revision: str | None) -> bool:
    """Whether this release can serve a database at `revision`.

    The head does, and so does a revision this release does not know: a newer release has
    migrated the database during a rolling upgrade, and migrations only add (columns, tables,
    indexes) so the older code keeps working until it is replaced. A known older revision,
    or an empty database, needs `sagemcp db upgrade` first.
    """
    return revision is not None and (revision == head_revision() or revision not in known_revisions())


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())


async def upgrade(
    engine: AsyncEngine, revision: str = "head", *, registry: ConnectorRegistry | None = None
) -> tuple[str | None, str]:
    """Upgrade the schema; returns (revision before, revision after).

    `registry` is the connector classes the data migrations consult (binding old credentials to
    their connectors' origins); without it, the installed ones.
    """

    def run(connection: Connection) -> tuple[str | None, str]:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
        before = MigrationContext.configure(connection).get_current_revision()
        config = alembic_config()
        config.attributes["connection"] = connection
        if registry is not None:
            config.attributes["registry"] = registry
        command.upgrade(config, revision)
        after = MigrationContext.configure(connection).get_current_revision()
        return before, after or ""

    async with engine.begin() as conn:
        return await conn.run_sync(run)
