"""Operations: migrations, health probes, and a database outage turning into 503s with recovery without restart."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from conftest import ADMIN_KEY, Database, Server, lifespan_in_task, mcp_call
from sqlalchemy.engine.url import make_url

from sagemcp_server.app import create_app
from sagemcp_server.db import create_engine, current_revision, head_revision, upgrade
from sagemcp_server.db.models import Base
from sagemcp_server.settings import Settings


async def test_migrations_match_the_models(database: Database) -> None:
    engine = create_engine(database.url, schema=database.schema)
    async with engine.connect() as conn:
        diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
    await engine.dispose()
    assert diff == []


async def test_upgrade_from_empty_and_again(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    assert await current_revision(engine) is None
    assert await upgrade(engine) == (None, head_revision())
    assert await upgrade(engine) == (head_revision(), head_revision())
    await engine.dispose()


async def test_health_probes(server: Server) -> None:
    async with server.client() as anonymous:
        assert (await anonymous.get("/healthz")).json() == {"status": "ok"}
        r = await anonymous.get("/readyz")
        assert r.status_code == 200 and r.json()["revision"] == head_revision()
        r = await anonymous.get("/metrics")
        assert r.status_code == 200 and "sagemcp_http_requests_total" in r.text


async def test_readyz_reports_a_schema_that_is_not_current(tmp_path: Path, registry) -> None:
    settings = Settings(data_dir=tmp_path, auto_migrate=False, secret_keys="", admin_key=ADMIN_KEY)
    app = create_app(settings, registry=registry)
    async with lifespan_in_task(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
            assert (await client.get("/healthz")).status_code == 200
            r = await client.get("/readyz")
            assert r.status_code == 503 and "sagemcp db upgrade" in r.json()["reason"]
            r = await client.get("/api/v1/admin/tenants", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
            assert r.status_code == 503 and r.json()["error"]["code"] == "database_unavailable"
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600


class Proxy:
    """A TCP proxy to PostgreSQL that can be cut and restored, to simulate an outage."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.server: asyncio.Server | None = None
        self.port = 0
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.writers -= {writer, up_writer}


async def test_database_outage_gives_503_and_recovers(database: Database, settings: Settings, registry) -> None:
    if database.backend != "postgres":
        pytest.skip("an outage is simulated by cutting the network to PostgreSQL; SQLite is a local file")
    url = make_url(database.url)
    proxy = Proxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    app = create_app(
        settings.model_copy(update={"database_url": proxied, "db_timeout": 2.0, "cache_ttl": 0.0}), registry=registry
    )
    async with lifespan_in_task(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://127.0.0.1:8000",
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        ) as client:
            assert (await client.post("/api/v1/admin/tenants", json={"slug": "acme"})).status_code == 201
            assert (
                await client.post(
                    "/api/v1/admin/tenants/acme/connectors", json={"connector_type": "demo", "name": "demo"}
                )
            ).status_code == 201
            await proxy.stop()
            r = await client.get("/api/v1/admin/tenants")
            assert r.status_code == 503 and r.json()["error"]["code"] == "database_unavailable"
            assert r.headers["retry-after"]
            assert (await client.get("/readyz")).status_code == 503
            assert (await client.get("/healthz")).status_code == 200
            r = await mcp_call(client, "/api/v1/acme/mcp", "tools/list")
            assert r.status_code == 503
            await proxy.start()  # same port: the database is back
            for _ in range(20):
                r = await client.get("/api/v1/admin/tenants")
                if r.status_code == 200:
                    break
                await asyncio.sleep(0.2)
            assert r.status_code == 200 and [t["slug"] for t in r.json()["items"]] == ["acme"]
            assert (await mcp_call(client, "/api/v1/acme/mcp", "tools/list")).status_code == 200
            assert (await client.get("/readyz")).status_code == 200
    await proxy.stop()


@pytest.mark.parametrize(
    ("revision", "ready"),
    [("0002_tenant_generation", False), ("9999_from_a_newer_release", True)],
    ids=["older-known-revision", "newer-unknown-revision"],
)
async def test_readyz_during_a_rolling_upgrade(tmp_path: Path, registry, revision: str, ready: bool) -> None:
    """An older schema needs `db upgrade`; a newer release's schema is served (migrations only add)."""
    settings = Settings(data_dir=tmp_path, auto_migrate=False, secret_keys="", admin_key=ADMIN_KEY)
    engine = create_engine(settings.resolved_database_url())
    try:
        await upgrade(engine)
        async with engine.begin() as conn:
            await conn.exec_driver_sql("UPDATE alembic_version SET version_num = ?", (revision,))
    finally:
        await engine.dispose()
    app = create_app(settings, registry=registry)
    async with lifespan_in_task(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
            r = await client.get("/readyz")
    assert (r.status_code == 200) is ready, r.json()
    if not ready:
        assert "sagemcp db upgrade" in r.json()["reason"]
