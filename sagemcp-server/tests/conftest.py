"""Fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from SAGEMCP_TEST_POSTGRES_URL (e.g.
postgresql+asyncpg://postgres@127.0.0.1:5432/test). Without it the PostgreSQL variants
are skipped with that reason, never silently. Each session gets a schema of its own,
migrated once; tables are emptied between tests. SQLite tests copy a migrated file.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from sagemcp.platform import ConnectorRegistry, SecretBox
from sagemcp_server.app import create_app
from sagemcp_server.connectors.demo import DemoConnector
from sagemcp_server.db import create_engine, upgrade
from sagemcp_server.settings import Settings

sys.path.insert(0, str(Path(__file__).parent))

from helpers import CLIENT_ID, CLIENT_SECRET, FakeConnector, FakeProvider, TokenOnlyConnector

# Fake upstreams listen on 127.0.0.1, where the upstream client connects only with the operator's loopback switch.
os.environ.setdefault("SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS", "1")
POSTGRES_URL = os.environ.get("SAGEMCP_TEST_POSTGRES_URL")
ADMIN_KEY = "test-admin-key-0123456789"
TABLES = [
    "audit_events",
    "oauth_states",
    "api_keys",
    "credentials",
    "oauth_apps",
    "connectors",
    "web_sessions",
    "user_identities",
    "invitations",
    "memberships",
    "oidc_states",
    "oidc_providers",
    "users",
    "mcp_clients",
    "tenants",
]


@dataclass(frozen=True)
class Database:
    backend: str
    url: str
    schema: str | None = None


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"

    async def build() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine)
        async with engine.begin() as conn:
            await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        await engine.dispose()

    asyncio.run(build())
    return path


@pytest.fixture(scope="session")
def _postgres_schema() -> Iterator[str]:
    assert POSTGRES_URL
    schema = "sagemcp_test_" + uuid.uuid4().hex[:10]

    async def run(statements: list[str], migrate: bool = False) -> None:
        engine = create_engine(POSTGRES_URL)
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(text(statement))
        await engine.dispose()
        if migrate:
            engine = create_engine(POSTGRES_URL, schema=schema)
            await upgrade(engine)
            await engine.dispose()

    asyncio.run(run([f"CREATE SCHEMA {schema}"], migrate=True))
    yield schema
    asyncio.run(run([f"DROP SCHEMA IF EXISTS {schema} CASCADE"]))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        path = tmp_path / "sagemcp.db"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        yield Database("sqlite", f"sqlite+aiosqlite:///{path}")
        return
    if not POSTGRES_URL:
        pytest.skip(
            "PostgreSQL tests need SAGEMCP_TEST_POSTGRES_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test)"
        )
    schema = request.getfixturevalue("_postgres_schema")

    async def truncate() -> None:
        engine = create_engine(POSTGRES_URL, schema=schema)
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} CASCADE"))
        await engine.dispose()

    asyncio.run(truncate())
    yield Database("postgres", POSTGRES_URL, schema)


@pytest.fixture
def secret_key() -> str:
    return SecretBox.generate_key()


@pytest.fixture
def settings(database: Database, secret_key: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database.url,
        database_schema=database.schema,
        secret_keys=secret_key,
        admin_key=ADMIN_KEY,
        data_dir=tmp_path,
        public_url="https://sagemcp.test",
        audit_flush_interval=0.05,
    )


@pytest.fixture
def registry() -> ConnectorRegistry:
    return ConnectorRegistry([DemoConnector, FakeConnector, TokenOnlyConnector])


@pytest.fixture
def provider() -> FakeProvider:
    return FakeProvider()


@dataclass
class Server:
    """A running app (lifespan entered) and clients for it."""

    app: Any
    admin: httpx.AsyncClient
    provider: FakeProvider
    provider_transport: httpx.AsyncBaseTransport

    @property
    def services(self) -> Any:
        return self.app.state.services

    def client(self, key: str | None = None, **headers: str) -> httpx.AsyncClient:
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://127.0.0.1:8000", headers=headers
        )

    async def tenant(self, slug: str) -> dict[str, Any]:
        r = await self.admin.post("/api/v1/admin/tenants", json={"slug": slug, "name": slug.title()})
        assert r.status_code == 201, r.text
        return r.json()

    async def key(self, slug: str, scopes: list[str], connector_id: str | None = None) -> str:
        body: dict[str, Any] = {"scopes": scopes, "name": "k"}
        if connector_id:
            body["connector_id"] = connector_id
        r = await self.admin.post(f"/api/v1/admin/tenants/{slug}/api-keys", json=body)
        assert r.status_code == 201, r.text
        return str(r.json()["key"])

    async def connector(
        self, slug: str, connector_type: str = "demo", name: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        body = {"connector_type": connector_type, "name": name or connector_type, **extra}
        r = await self.admin.post(f"/api/v1/admin/tenants/{slug}/connectors", json=body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def oauth_app(self, slug: str) -> None:
        r = await self.admin.put(
            f"/api/v1/admin/tenants/{slug}/oauth-apps/fake",
            json={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
        )
        assert r.status_code == 200, r.text

    async def connect_oauth(self, slug: str, client: httpx.AsyncClient | None = None) -> httpx.Response:
        """Run the whole OAuth flow as a browser would; returns the callback's response."""
        r = await (client or self.admin).post(f"/api/v1/oauth/{slug}/fake/authorize", json={})
        assert r.status_code == 200, r.text
        async with self.browser() as browser:
            location = await self.follow_authorize(r.json()["authorization_url"], browser)
            return await browser.get(location)

    def browser(self) -> httpx.AsyncClient:
        """A browser: it keeps cookies, reaches this server at its public URL and the fake provider elsewhere."""
        return httpx.AsyncClient(
            mounts={"https://sagemcp.test": httpx.ASGITransport(app=self.app)},
            transport=self.provider_transport,
            base_url="https://sagemcp.test",
        )

    async def open_link(self, url: str, browser: httpx.AsyncClient) -> str:
        """Open the authorization link in `browser` (it sets the browser's cookie); return the provider's URL."""
        r = await browser.get(url)
        assert r.status_code == 302, r.text
        return r.headers["location"]

    async def follow_authorize(self, url: str, browser: httpx.AsyncClient) -> str:
        """Open the authorization link in `browser` and approve at the provider; return where the provider
        redirects (our callback, with code and state), relative to this server."""
        return await self.approve(await self.open_link(url, browser), browser)

    async def approve(self, provider_url: str, browser: httpx.AsyncClient) -> str:
        """Approve at the provider's authorization URL; return the callback it redirects to, relative to us."""
        r = await browser.get(provider_url)
        assert r.status_code == 302, r.text
        location = r.headers["location"]
        assert location.startswith("https://sagemcp.test/api/v1/oauth/callback/fake?")
        return location.removeprefix("https://sagemcp.test")


@asynccontextmanager
async def lifespan_in_task(app: Any) -> AsyncIterator[None]:
    """Enter the app's lifespan in a task of its own: fixtures set up and tear down in different tasks,
    and the MCP session manager's task group must be exited by the task that entered it."""
    ready = asyncio.Event()
    stop = asyncio.Event()
    failure: list[BaseException] = []

    async def run() -> None:
        try:
            async with app.router.lifespan_context(app):
                ready.set()
                await stop.wait()
        except BaseException as exc:
            failure.append(exc)
            ready.set()
            raise

    task = asyncio.create_task(run())
    await ready.wait()
    if failure:
        raise failure[0]
    try:
        yield
    finally:
        stop.set()
        await task


@asynccontextmanager
async def running(settings: Settings, registry: ConnectorRegistry, provider: FakeProvider) -> AsyncIterator[Server]:
    transport = httpx.ASGITransport(app=provider.app())
    app = create_app(settings, registry=registry, oauth_transport=transport, upstream_transport=transport)
    async with lifespan_in_task(app):
        admin = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://127.0.0.1:8000",
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        )
        async with admin:
            yield Server(app, admin, provider, transport)


@pytest.fixture
async def server(settings: Settings, registry: ConnectorRegistry, provider: FakeProvider) -> AsyncIterator[Server]:
    async with running(settings, registry, provider) as srv:
        yield srv


MCP_HEADERS = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"}


async def mcp_call(
    client: httpx.AsyncClient, path: str, method: str, params: dict[str, Any] | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method}
    if params is not None:
        body["params"] = params
    return await client.post(path, json=body, headers=MCP_HEADERS)
