"""A throwaway PostgreSQL cluster for the benchmark, when the PostgreSQL server binaries are installed.

`SAGEMCP_BENCH_POSTGRES_URL` (or `--postgres-url`) names an existing database
instead; it must be empty or disposable, since the benchmark creates its tables.
The temporary cluster listens on 127.0.0.1 only, runs as the `postgres` user when
the harness runs as root (PostgreSQL refuses root), and is removed at the end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from ._harness import Pinning, free_port


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for base in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (base / name).exists():
            return str(base / name)
    return None


def unavailable_reason() -> str | None:
    if os.environ.get("SAGEMCP_BENCH_POSTGRES_URL"):
        return None
    if _binary("initdb") is None or _binary("pg_ctl") is None:
        return "no PostgreSQL server binaries (initdb, pg_ctl) and SAGEMCP_BENCH_POSTGRES_URL is not set"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no `postgres` user to run a temporary cluster as"
    return None


@contextlib.contextmanager
def cluster(pinning: Pinning, url: str | None = None) -> Iterator[str]:
    """Yield a `postgresql+asyncpg://` URL of an empty database; a temporary cluster unless `url` is given."""
    url = url or os.environ.get("SAGEMCP_BENCH_POSTGRES_URL")
    if url:
        yield url
        return
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise RuntimeError(unavailable_reason() or "PostgreSQL binaries not found")
    as_user: list[str] = []
    workdir = Path(tempfile.mkdtemp(prefix="sagemcp-bench-pg-"))
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = workdir / "data", free_port()
    try:
        subprocess.run(
            [*as_user, initdb, "-D", str(data), "-U", "bench", "--auth=trust", "-E", "UTF8"],
            check=True,
            capture_output=True,
        )
        options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        subprocess.run(
            [
                *pinning.prefix(pinning.load),
                *as_user,
                pg_ctl,
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(workdir / "pg.log"),
                "-w",
                "start",
            ],
            check=True,
            capture_output=True,
        )
        time.sleep(0.2)
        subprocess.run(
            [
                *as_user,
                _binary("createdb") or "createdb",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "bench",
                "sagemcp",
            ],
            check=True,
            capture_output=True,
        )
        yield f"postgresql+asyncpg://bench@127.0.0.1:{port}/sagemcp"
    finally:
        subprocess.run(
            [*as_user, pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(workdir, ignore_errors=True)
