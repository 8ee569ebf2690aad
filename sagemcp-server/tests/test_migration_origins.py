"""Credentials stored before credentials had origins are bound to their connectors' origins at the upgrade.

The database is created at revision 0004 (the origins column exists, every credential in it is NULL: not
bound) and seeded as a server of that time left it; upgrading binds each credential to the origin its
tenant's connector is configured for, and from then on a host change no longer receives the token.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import ADMIN_KEY, POSTGRES_URL, Server
from helpers import FAKE_BASE, FakeConnector
from sqlalchemy.ext.asyncio import AsyncEngine
from test_credential_origins import (
    BASE,
    ELSEWHERE,
    HOME,
    HostedConnector,
    Recorder,
    srv,  # noqa: F401 - the server fixture, here on this module's `settings`
    text,
    whoami,
)

from sagemcp.platform import ConnectorRegistry, SecretBox
from sagemcp_server.db import create_engine, current_revision, head_revision, upgrade
from sagemcp_server.settings import Settings

BEFORE = "0004_credential_origins"
TOKEN = "pat-stored-long-ago-0001"
REGISTRY = ConnectorRegistry([HostedConnector, FakeConnector])


def _ids() -> str:
    return uuid.uuid4().hex


async def seed(engine: AsyncEngine, box: SecretBox) -> dict[str, str]:
    """Tenant `acme` with a `hosted` connector on HOME and four credentials as revision 0004 stored them."""
    now = datetime.now(UTC)
    tenant = _ids()
    meta = sa.MetaData()
    tenants = sa.Table("tenants", meta, *_columns("id slug name active created_at updated_at"))
    connectors = sa.Table(
        "connectors",
        meta,
        *_columns("id tenant_id connector_type name description enabled configuration tool_policy provider"),
        *_columns("created_at updated_at"),
    )
    credentials = sa.Table(
        "credentials",
        meta,
        *_columns("id tenant_id provider kind access_token_enc token_type scopes extra status version deleted"),
        *_columns("origins created_at updated_at"),
    )
    ids = {name: _ids() for name in ("hosted", "gone", "disconnected", "fake")}

    def credential(name: str, provider: str, *, deleted: bool = False) -> dict[str, object]:
        context = f"credential:{tenant}:{provider}:access_token"
        return {
            "id": ids[name],
            "tenant_id": tenant,
            "provider": provider,
            "kind": "bearer",
            "access_token_enc": None if deleted else box.encrypt(TOKEN, context=context),
            "token_type": "Bearer",
            "scopes": [],
            "extra": {},
            "status": "active",
            "version": 3,
            "deleted": deleted,
            "origins": sa.null(),  # as 0004 added the column
            "created_at": now,
            "updated_at": now,
        }

    async with engine.begin() as conn:
        await conn.execute(
            tenants.insert().values(id=tenant, slug="acme", name="Acme", active=True, created_at=now, updated_at=now)
        )
        await conn.execute(
            connectors.insert().values(
                id=_ids(),
                tenant_id=tenant,
                connector_type="hosted",
                name="hosted",
                description="",
                enabled=True,
                configuration={"api_url": HOME},
                tool_policy={},
                provider=None,
                created_at=now,
                updated_at=now,
            )
        )
        await conn.execute(
            credentials.insert(),
            [
                credential("hosted", "hosted"),
                credential("gone", "uninstalled"),  # no installed connector type names its origin
                credential("disconnected", "tokenonly", deleted=True),
                credential("fake", "fake"),  # no connector of this provider yet: the type's default host
            ],
        )
    return ids


def _columns(names: str) -> list[sa.Column[object]]:
    types: dict[str, sa.types.TypeEngine[object]] = {
        "active": sa.Boolean(),
        "enabled": sa.Boolean(),
        "deleted": sa.Boolean(),
        "version": sa.Integer(),
        "configuration": sa.JSON(),
        "tool_policy": sa.JSON(),
        "scopes": sa.JSON(),
        "extra": sa.JSON(),
        "origins": sa.JSON(),
        "created_at": sa.DateTime(timezone=True),
        "updated_at": sa.DateTime(timezone=True),
    }
    return [sa.Column(name, types.get(name, sa.String())) for name in names.split()]


async def origins_in(engine: AsyncEngine) -> dict[str, tuple[object, int]]:
    table = sa.Table("credentials", sa.MetaData(), *_columns("id origins version"))
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.select(table))).all()
    return {row.id: (row.origins, row.version) for row in rows}


@dataclass
class Seeded:
    engine: AsyncEngine
    ids: dict[str, str]
    url: str
    schema: str | None


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def migrated(request: pytest.FixtureRequest, tmp_path: Path, secret_key: str) -> AsyncIterator[Seeded]:
    """A database at revision 0004 (SQLite file, or a fresh PostgreSQL schema), seeded."""
    schema: str | None = None
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    else:
        if not POSTGRES_URL:
            pytest.skip("PostgreSQL tests need SAGEMCP_TEST_POSTGRES_URL")
        url, schema = POSTGRES_URL, "sagemcp_mig_" + uuid.uuid4().hex[:10]
        await _run(url, f"CREATE SCHEMA {schema}")
    engine = create_engine(url, schema=schema)
    try:
        await upgrade(engine, BEFORE)
        assert await current_revision(engine) == BEFORE
        yield Seeded(engine, await seed(engine, SecretBox([secret_key])), url, schema)
    finally:
        await engine.dispose()
        if schema is not None:
            await _run(url, f"DROP SCHEMA IF EXISTS {schema} CASCADE")


async def _run(url: str, statement: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


async def test_the_upgrade_binds_each_credential_to_its_connectors_origin(
    migrated: Seeded, caplog: pytest.LogCaptureFixture
) -> None:
    engine, ids = migrated.engine, migrated.ids
    assert {origins for origins, _ in (await origins_in(engine)).values()} == {None}
    with caplog.at_level("WARNING", logger="sagemcp_server.migrations"):
        before, after = await upgrade(engine, registry=REGISTRY)
    assert (before, after) == (BEFORE, head_revision())
    found = await origins_in(engine)
    assert found[ids["hosted"]] == ([HOME], 4)  # the version moves on: caches reload it
    assert found[ids["fake"]] == ([FAKE_BASE], 4)
    assert found[ids["gone"]] == (None, 3)
    assert found[ids["disconnected"]] == (None, 3)
    assert "could not be bound" in caplog.text and "uninstalled of tenant" in caplog.text
    assert TOKEN not in caplog.text


@pytest.fixture
async def settings(migrated: Seeded, secret_key: str, tmp_path: Path) -> Settings:
    """The server's settings (for `srv`) on the database seeded at 0004, upgraded with the test's connectors."""
    await upgrade(migrated.engine, registry=REGISTRY)
    return Settings(
        database_url=migrated.url,
        database_schema=migrated.schema,
        secret_keys=secret_key,
        admin_key=ADMIN_KEY,
        data_dir=tmp_path,
        public_url="https://sagemcp.test",
        audit_flush_interval=0.05,
    )


async def test_after_the_upgrade_a_host_change_never_receives_the_old_token(
    srv: tuple[Server, Recorder],  # noqa: F811 - the fixture imported above
) -> None:
    server, recorder = srv
    listed = await server.admin.get(f"{BASE}/credentials/hosted")
    assert listed.status_code == 200 and listed.json()["origins"] == [HOME], listed.text
    key = await server.key("acme", ["mcp", "admin"])
    assert (await whoami(server, key))["isError"] is False
    assert recorder.tokens_at(HOME) == {TOKEN}
    async with server.client(key) as tenant_admin:
        r = await tenant_admin.patch(f"{BASE}/connectors/hosted", json={"configuration": {"api_url": ELSEWHERE}})
        assert r.status_code == 200, r.text
    result = await whoami(server, key)
    assert result["isError"] is True
    assert f"issued for {HOME}; store it again for {ELSEWHERE}" in text(result), text(result)
    assert recorder.tokens_at(ELSEWHERE) == set()
