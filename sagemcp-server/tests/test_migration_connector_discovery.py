"""Migration 0010: a connector's discovery setting. Connectors stored at 0009 come through the upgrade with
discovery off and no pins, the store then keeps both, and the downgrade removes the two columns again."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from conftest import POSTGRES_URL
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from sagemcp.platform import SecretBox
from sagemcp_server.db import SqlStore, create_engine, current_revision, head_revision, upgrade
from sagemcp_server.db.migrate import alembic_config

BEFORE = "0009_tool_discovery"
REVISION = "0010_connector_discovery"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A database at revision 0009 (SQLite file, or a fresh PostgreSQL schema)."""
    schema: str | None = None
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    else:
        if not POSTGRES_URL:
            pytest.skip("PostgreSQL tests need SAGEMCP_TEST_POSTGRES_URL")
        url, schema = POSTGRES_URL, "sagemcp_mig_" + uuid.uuid4().hex[:10]
        await _run(url, f"CREATE SCHEMA {schema}")
    found = create_engine(url, schema=schema)
    try:
        await upgrade(found, BEFORE)
        yield found
    finally:
        await found.dispose()
        if schema is not None:
            await _run(url, f"DROP SCHEMA IF EXISTS {schema} CASCADE")


async def _run(url: str, statement: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


async def seed(engine: AsyncEngine) -> tuple[str, str]:
    """Tenant `acme` with a `demo` connector, as a server at revision 0009 stored them."""
    now = datetime.now(UTC)
    tenant, connector = uuid.uuid4().hex, uuid.uuid4().hex
    meta = sa.MetaData()
    tenants = sa.Table("tenants", meta, *_columns("id slug name active created_at updated_at"))
    connectors = sa.Table(
        "connectors",
        meta,
        *_columns("id tenant_id connector_type name description enabled configuration tool_policy provider"),
        *_columns("created_at updated_at"),
    )
    async with engine.begin() as conn:
        await conn.execute(
            tenants.insert().values(id=tenant, slug="acme", name="Acme", active=True, created_at=now, updated_at=now)
        )
        await conn.execute(
            connectors.insert().values(
                id=connector,
                tenant_id=tenant,
                connector_type="demo",
                name="demo",
                description="",
                enabled=True,
                configuration={},
                tool_policy={},
                provider=None,
                created_at=now,
                updated_at=now,
            )
        )
    return tenant, connector


def _columns(names: str) -> list[sa.Column[object]]:
    types: dict[str, sa.types.TypeEngine[object]] = {
        "active": sa.Boolean(),
        "enabled": sa.Boolean(),
        "configuration": sa.JSON(),
        "tool_policy": sa.JSON(),
        "created_at": sa.DateTime(timezone=True),
        "updated_at": sa.DateTime(timezone=True),
    }
    return [sa.Column(name, types.get(name, sa.String())) for name in names.split()]


async def connector_columns(engine: AsyncEngine) -> set[str]:
    def read(conn: Connection) -> set[str]:
        schema = conn.exec_driver_sql("SELECT current_schema()").scalar() if conn.dialect.name == "postgresql" else None
        return {column["name"] for column in sa.inspect(conn).get_columns("connectors", schema=schema)}

    async with engine.connect() as conn:
        return await conn.run_sync(read)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


async def test_upgrade_keeps_connectors_with_discovery_off_and_downgrade_removes_the_columns(
    engine: AsyncEngine, secret_key: str
) -> None:
    tenant, connector = await seed(engine)
    assert not {"discovery", "pinned_tools"} & await connector_columns(engine)
    assert await upgrade(engine, REVISION) == (BEFORE, REVISION)
    assert {"discovery", "pinned_tools"} <= await connector_columns(engine)
    store = SqlStore(engine, SecretBox([secret_key]))
    stored = await store.get_connector(tenant, connector)
    assert stored is not None and (stored.discovery, stored.pinned_tools) == (False, [])
    await store.replace_connector(stored.model_copy(update={"discovery": True, "pinned_tools": ["demo_echo"]}))
    again = await store.get_connector(tenant, "demo")
    assert again is not None and (again.discovery, again.pinned_tools) == (True, ["demo_echo"])

    await downgrade(engine, BEFORE)
    assert await current_revision(engine) == BEFORE
    assert not {"discovery", "pinned_tools"} & await connector_columns(engine)
    async with engine.connect() as conn:
        names = (await conn.execute(sa.text("SELECT name FROM connectors"))).scalars().all()
    assert names == ["demo"]  # the rows stay
    assert await upgrade(engine) == (BEFORE, head_revision())  # and up again
