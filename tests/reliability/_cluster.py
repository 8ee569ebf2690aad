"""Several reference-server processes on one PostgreSQL schema, for the multi-process tests.

`PgCluster` creates a private schema in the database of `SAGEMCP_TEST_POSTGRES_URL`, migrates it, seeds it
through the server's `SqlStore`, starts `python -m tests.reliability._replica` processes (optionally
through a `TcpProxy` that can cut the database away), and drops the schema at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ._support import LEDGER, free_port

ROOT = Path(__file__).resolve().parents[2]


def server_available() -> str | None:
    """None when the reference server can be run here, else why not."""
    try:
        from sagemcp_server.app import create_app  # noqa: F401
        from sagemcp_server.db import SqlStore, create_engine, upgrade  # noqa: F401
        from sagemcp_server.settings import Settings  # noqa: F401
    except Exception as exc:  # an unfinished server may fail in any way at import
        return f"the reference server (sagemcp_server.app.create_app, SqlStore) is not importable: {exc!r}"
    return None


class TcpProxy:
    """A TCP relay to PostgreSQL that can be cut (every connection reset, new ones refused) and restored."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.cuts = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)

    async def cut(self) -> None:
        """The database 'restarts': the listener closes and every open connection is reset."""
        self.cuts += 1
        if self._server is not None:
            self._server.close()
            self._server = None
        for w in list(self._writers):
            with contextlib.suppress(Exception):
                w.transport.abort()
        self._writers.clear()

    async def restore(self) -> None:
        await self.start()

    async def close(self) -> None:
        await self.cut()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update({writer, up_writer})

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                with contextlib.suppress(Exception):
                    dst.transport.abort()

        try:
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        finally:
            self._writers.discard(writer)
            self._writers.discard(up_writer)


@dataclass
class Replica:
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class PgCluster:
    url: str
    """The SQLAlchemy URL of the test database (postgresql+asyncpg://...)."""
    token_url: str
    schema: str = field(default_factory=lambda: f"rel_{secrets.token_hex(6)}")
    secret_key: str = ""
    admin_key: str = field(default_factory=lambda: LEDGER.secret("smcp_" + secrets.token_urlsafe(32)[:43]))
    replicas: list[Replica] = field(default_factory=list)
    store: Any = None
    logdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="sagemcp-replicas-")))
    proxy: TcpProxy | None = None

    async def setup(self, *, through_proxy: bool = False) -> None:
        from sagemcp.platform import SecretBox
        from sagemcp_server.db import SqlStore, create_engine, upgrade

        self.secret_key = SecretBox.generate_key()
        admin = create_engine(self.url)
        from sqlalchemy import text

        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        await admin.dispose()
        engine = create_engine(self.url, schema=self.schema)
        await upgrade(engine)
        self.store = SqlStore(engine, SecretBox([self.secret_key]))
        if through_proxy:
            from sqlalchemy.engine import make_url

            parsed = make_url(self.url)
            self.proxy = TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432)
            await self.proxy.start()

    def replica_url(self) -> str:
        """The URL the replicas use: the database itself, or the proxy in front of it."""
        if self.proxy is None:
            return self.url
        from sqlalchemy.engine import make_url

        return make_url(self.url).set(host="127.0.0.1", port=self.proxy.port).render_as_string(hide_password=False)

    def start(self, count: int, **settings: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SAGEMCP_")}
        env.update(
            PYTHONUNBUFFERED="1",
            SAGEMCP_DATABASE_URL=self.replica_url(),
            SAGEMCP_DATABASE_SCHEMA=self.schema,
            SAGEMCP_SECRET_KEYS=self.secret_key,
            SAGEMCP_ADMIN_KEY=self.admin_key,
            SAGEMCP_CACHE_TTL="1",
            SAGEMCP_DB_TIMEOUT="2",
            SAGEMCP_AUDIT_FLUSH_INTERVAL="0.2",
            SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS="1",  # the fake upstream listens on 127.0.0.1
            RELIABILITY_TOKEN_URL=self.token_url,
        )
        env.update(settings)
        for i in range(count):
            port = free_port()
            log = self.logdir / f"replica-{i}.log"
            with log.open("wb") as out:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "tests.reliability._replica", str(port)],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            self.replicas.append(Replica(port, proc, log))

    async def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as http:
            for r in self.replicas:
                while True:
                    if r.proc.poll() is not None:
                        raise AssertionError(f"replica on {r.port} exited:\n{r.log.read_text()[-3000:]}")
                    with contextlib.suppress(httpx.HTTPError):
                        if (await http.get(r.base + "/readyz")).status_code == 200:
                            break
                    if time.monotonic() > deadline:
                        raise AssertionError(f"replica on {r.port} not ready:\n{r.log.read_text()[-3000:]}")
                    await asyncio.sleep(0.2)

    async def stop(self, timeout: float = 20.0) -> None:
        """Terminate the replicas and wait for them without blocking the loop (the relay runs in it)."""
        for r in self.replicas:
            if r.proc.poll() is None:
                r.proc.terminate()
        deadline = time.monotonic() + timeout
        for r in self.replicas:
            while r.proc.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if r.proc.poll() is None:
                r.proc.kill()
                r.proc.wait()

    def scan_logs(self) -> int:
        """Scan every replica's log for secrets; returns the number of lines scanned."""
        lines = 0
        for r in self.replicas:
            for line in r.log.read_text(errors="replace").splitlines():
                LEDGER.scan(line, f"log:replica-{r.port}")
                lines += 1
        return lines

    async def scan_database(self) -> int:
        """Scan a dump of the schema (pg_dump when installed, and every row as JSON) for secrets."""
        from sqlalchemy import text

        scanned = 0
        pg_dump = shutil.which("pg_dump")
        if pg_dump:
            libpq = self.url.replace("postgresql+asyncpg://", "postgresql://")
            dump = subprocess.run(
                [pg_dump, "--no-owner", "--schema", self.schema, libpq],
                capture_output=True,
                timeout=60,
                check=True,
            ).stdout.decode(errors="replace")
            LEDGER.scan(dump, f"db:pg_dump {self.schema}")
            scanned += len(dump)
        async with self.store.engine.connect() as conn:
            tables = (
                await conn.execute(
                    text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"), {"s": self.schema}
                )
            ).scalars()
            for table in list(tables):
                rows = (
                    await conn.execute(text(f'SELECT row_to_json(t)::text FROM "{self.schema}"."{table}" t'))
                ).scalars()
                for row in rows:
                    LEDGER.scan(row, f"db:{table}")
                    scanned += len(row)
        return scanned

    async def teardown(self) -> None:
        await self.stop()
        if self.proxy is not None:
            await self.proxy.close()
        if self.store is not None:
            await self.store.close()
        from sqlalchemy import text

        from sagemcp_server.db import create_engine

        admin = create_engine(self.url)
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
        await admin.dispose()
        if not os.environ.get("RELIABILITY_KEEP_LOGS"):
            shutil.rmtree(self.logdir, ignore_errors=True)
