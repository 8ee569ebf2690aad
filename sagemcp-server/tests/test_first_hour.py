"""What a newcomer meets first: private database files, one clear line instead of a traceback when the schema is
missing or behind, read-only commands that leave the database alone, and printed URLs that say where they come
from."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from conftest import ADMIN_KEY, POSTGRES_URL, running
from procs import clean_env, free_port

from sagemcp.platform import ConnectorRegistry, SecretBox
from sagemcp_server.cli import main
from sagemcp_server.db import create_engine, current_revision, head_revision
from sagemcp_server.settings import Settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_sqlite_database_and_its_wal_are_created_0600(
    tmp_path: Path, registry: ConnectorRegistry, provider: Any, secret_key: str
) -> None:
    """Regression: SQLite created the database, its WAL and its shared-memory file world-readable (0644)."""
    old = os.umask(0o022)
    try:
        settings = Settings(data_dir=tmp_path / "data", secret_keys=secret_key, admin_key=ADMIN_KEY)
        async with running(settings, registry, provider) as srv:
            await srv.tenant("acme")
            files = {p.name: mode(p) for p in (tmp_path / "data").glob("sagemcp.db*")}
    finally:
        os.umask(old)
    assert {"sagemcp.db", "sagemcp.db-wal", "sagemcp.db-shm"} <= set(files), files
    assert all(m == 0o600 for m in files.values()), {n: oct(m) for n, m in files.items()}


async def test_an_existing_database_readable_by_others_is_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "shared.db"
    path.touch()
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, "sagemcp_server.db"):
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await engine.dispose()
    assert "can be read by other users" in caplog.text and "chmod 600" in caplog.text
    assert mode(path) == 0o644  # an operator's file is not changed behind their back


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, secret_key: str) -> Path:
    """A fresh directory, no SAGEMCP_* settings but a key ring: the embedded SQLite database, not yet created."""
    for name in list(os.environ):
        if name.startswith("SAGEMCP_") and name != "SAGEMCP_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("SAGEMCP_SECRET_KEYS", secret_key)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "sagemcp.db"


def _revision(path: Path) -> str | None:
    async def go() -> str | None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_read_only_commands_do_not_upgrade_the_schema(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: `tenant list` (and every other command) upgraded the schema, silently."""
    for command in (["tenant", "list"], ["connector", "list", "--tenant", "acme"], ["key", "list", "--tenant", "a"]):
        assert main(command) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "schema is empty" in err and "run `sagemcp db upgrade`" in err, err
    assert _revision(env) is None
    assert main(["tenant", "create", "acme"]) == 0
    assert f"upgraded the database schema from empty to {head_revision()}" in capsys.readouterr().err
    assert _revision(env) == head_revision()
    assert main(["tenant", "list"]) == 0
    captured = capsys.readouterr()
    assert "acme" in captured.out and captured.err == ""


def test_commands_that_write_do_not_upgrade_when_told_not_to(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SAGEMCP_AUTO_MIGRATE", "false")
    assert main(["tenant", "create", "acme"]) == 1
    assert "run `sagemcp db upgrade`" in capsys.readouterr().err
    assert _revision(env) is None


def test_printed_urls_say_where_they_come_from(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Regression: URLs and redirect URIs were printed with port 8000 whatever port the server was given."""
    monkeypatch.setenv("SAGEMCP_PORT", "9100")
    assert main(["tenant", "create", "acme"]) == 0
    out = capsys.readouterr().out
    assert "MCP URL: http://127.0.0.1:9100/api/v1/acme/mcp" in out
    assert "SAGEMCP_HOST and SAGEMCP_PORT" in out and "set SAGEMCP_PUBLIC_URL" in out
    monkeypatch.setenv("SAGEMCP_PUBLIC_URL", "https://mcp.example.com/")
    assert main(["connector", "add", "demo", "--tenant", "acme"]) == 0
    out = capsys.readouterr().out
    assert "MCP URL: https://mcp.example.com/api/v1/acme/connectors/" in out
    assert "built from SAGEMCP_PUBLIC_URL (https://mcp.example.com)" in out
    assert main(["connector", "add", "github", "--tenant", "acme"]) == 0
    capsys.readouterr()
    assert main(["oauth-app", "set", "github", "--tenant", "acme", "--client-id", "Iv1.abc"]) == 0
    out = capsys.readouterr().out
    assert "https://mcp.example.com/api/v1/oauth/callback/github" in out and "SAGEMCP_PUBLIC_URL" in out


def _serve(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sagemcp_server", "serve", "--port", str(free_port()), *args],
        cwd=cwd,
        env=clean_env(SAGEMCP_SECRET_KEYS=SecretBox.generate_key(), **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("sagemcp: error:")]
    assert len(errors) == 1, result.stderr[-2000:]
    return errors[0]


def test_serve_without_migrating_an_empty_database_says_what_to_run(tmp_path: Path) -> None:
    """Regression: `serve --no-migrate` on an empty database ended in a 150-line traceback."""
    line = _one_line_error(_serve(tmp_path, "--no-migrate"))
    assert "schema is empty" in line and "run `sagemcp db upgrade` first" in line
    assert _revision(tmp_path / "sagemcp.db") is None


@pytest.mark.postgres
def test_a_missing_postgresql_schema_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: a SAGEMCP_DATABASE_SCHEMA that does not exist ended in a traceback, for `serve` and the CLI."""
    if not POSTGRES_URL:
        pytest.skip("needs SAGEMCP_TEST_POSTGRES_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test)")
    schema = "sagemcp_missing_" + uuid.uuid4().hex[:8]
    env = {"SAGEMCP_DATABASE_URL": POSTGRES_URL, "SAGEMCP_DATABASE_SCHEMA": schema}
    line = _one_line_error(_serve(tmp_path, **env))
    assert f"no schema '{schema}'" in line and f"CREATE SCHEMA {schema}" in line
    for command in (["db", "upgrade"], ["db", "current"], ["tenant", "list"], ["tenant", "create", "acme"]):
        result = subprocess.run(
            [sys.executable, "-m", "sagemcp_server", *command],
            cwd=tmp_path,
            env=clean_env(SAGEMCP_SECRET_KEYS=SecretBox.generate_key(), **env),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert f"no schema '{schema}'" in _one_line_error(result), command
