"""The async engine for SQLite (aiosqlite) or PostgreSQL (asyncpg), set up the way the store needs it."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

__all__ = ["create_engine", "is_sqlite"]

logger = logging.getLogger("sagemcp_server.db")


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def create_engine(url: str, *, schema: str | None = None, pool_size: int = 10, timeout: float = 10.0) -> AsyncEngine:
    """An engine for `url`. SQLite gets WAL, a busy timeout and foreign keys; PostgreSQL an optional `search_path`.

    `timeout` bounds the wait for a connection (and SQLite's wait for its write lock), so
    that a database outage turns into errors the API answers with 503 instead of hanging.
    A new SQLite file is created readable by its owner only (mode 0600, like the key file);
    SQLite gives its `-wal` and `-shm` files the same mode.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    connect_args: dict[str, Any] = {}
    if backend == "sqlite":
        if parsed.get_driver_name() != "aiosqlite":
            raise ValueError("SQLite URLs must use the aiosqlite driver: sqlite+aiosqlite:///path/to/file.db")
        connect_args["timeout"] = timeout
        database = parsed.database or ""
        if database and not database.startswith(":memory:") and not database.startswith("file:"):
            path = Path(database).expanduser()
            path.parent.mkdir(parents=True, exist_ok=True)
            _create_private(path)
    elif backend == "postgresql":
        if parsed.get_driver_name() != "asyncpg":
            raise ValueError("PostgreSQL URLs must use the asyncpg driver: postgresql+asyncpg://user@host/db")
        connect_args["timeout"] = timeout
        connect_args["command_timeout"] = max(timeout * 3, 30.0)
        if schema:
            connect_args["server_settings"] = {"search_path": schema}
        kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_timeout=timeout, pool_recycle=1800)
    else:
        raise ValueError(f"unsupported database {backend!r}: use sqlite+aiosqlite:// or postgresql+asyncpg://")
    engine = create_async_engine(url, connect_args=connect_args, **kwargs)
    if backend == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _create_private(path: Path) -> None:
    """Create the database file with mode 0600 before SQLite does (it would use 0644, less the umask); warn
    about an existing one that other users can read: it holds encrypted tokens and the tenants' data."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            logger.warning(
                "the database file %s can be read by other users (mode %04o); restrict it: chmod 600 %s*",
                path,
                mode,
                path,
            )
        return
    os.close(fd)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()
