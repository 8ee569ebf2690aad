"""Fixtures of the browser tests: Chromium through Playwright, a real `sagemcp serve`, a fake OAuth provider.

Chromium is Debian's (`apt-get install chromium`, at `/usr/bin/chromium` or `SAGEMCP_CHROMIUM`), launched
through the `playwright` package with `executable_path`: Playwright's own browser downloads are not used.
Without it the tests are skipped with the reason, unless `SAGEMCP_BROWSER_STRICT=1` (CI), where a missing
browser fails them. The server runs on SQLite and on PostgreSQL (a private schema of
`SAGEMCP_TEST_POSTGRES_URL`, dropped afterwards; skipped with the reason without it).

Screenshots go to `.artifacts/console/<backend>/`; with `SAGEMCP_CONSOLE_SCREENSHOTS=1` the SQLite run also
writes the documentation's copies under `docs/images/console/`.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from sagemcp.platform import SecretBox

from ._fake_provider import FakeProvider

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / ".artifacts" / "console"
DOC_IMAGES = ROOT / "docs" / "images" / "console"
CHROMIUM = os.environ.get("SAGEMCP_CHROMIUM", "/usr/bin/chromium")
STRICT = os.environ.get("SAGEMCP_BROWSER_STRICT") == "1"
POSTGRES_URL = os.environ.get("SAGEMCP_TEST_POSTGRES_URL")
ADMIN_KEY = "smcp_browser_admin_" + secrets.token_hex(12)
PASSWORD = "browser tests password 42"


def _missing_browser() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install 'playwright>=1.50,<2')"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium, or set SAGEMCP_CHROMIUM)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, proc: subprocess.Popen[bytes] | None, log: Path | None, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the server exited with {proc.returncode}:\n{_tail(log)}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer in {timeout} s:\n{_tail(log)}")


def _tail(log: Path | None) -> str:
    return log.read_text(errors="replace")[-4000:] if log is not None and log.exists() else ""


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """A headless Chromium (Debian's) driven by Playwright."""
    missing = _missing_browser()
    if missing is not None:
        if STRICT:
            pytest.fail(f"SAGEMCP_BROWSER_STRICT=1 and {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def provider() -> Iterator[tuple[str, FakeProvider]]:
    """The fake OAuth provider on a loopback port, served by uvicorn in a thread of the test process."""
    import uvicorn

    fake = FakeProvider()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(fake.app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    _wait_ready(base + "/api/whoami", None, None, timeout=20)
    yield base, fake
    server.should_exit = True
    thread.join(10)


@dataclass
class Console:
    """A running `sagemcp serve` and what the tests need to drive it."""

    backend: str
    base: str
    provider: FakeProvider
    admin: httpx.Client
    shots: Path
    users: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.base + path

    def create_user(self, email: str, *, platform_admin: bool = False) -> str:
        r = self.admin.post(
            "/api/v1/admin/users", json={"email": email, "password": PASSWORD, "platform_admin": platform_admin}
        )
        assert r.status_code == 201, r.text
        self.users[email] = str(r.json()["id"])
        return self.users[email]

    def screenshot(self, page: Any, name: str) -> None:
        """Save a screenshot among the artefacts (and as the documentation's copy when asked to)."""
        self.shots.mkdir(parents=True, exist_ok=True)
        target = self.shots / f"{name}.png"
        page.screenshot(path=str(target), full_page=True)
        if self.backend == "sqlite" and os.environ.get("SAGEMCP_CONSOLE_SCREENSHOTS") == "1":
            DOC_IMAGES.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(target, DOC_IMAGES / f"{name}.png")


def _postgres_schema(url: str, statement: str) -> None:
    from sqlalchemy import text

    from sagemcp_server.db import create_engine

    async def run() -> None:
        engine = create_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text(statement))
        await engine.dispose()

    # Playwright's synchronous API keeps an event loop running in this thread: run ours in another.
    failures: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(run())
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(60)
    if failures:
        raise failures[0]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def console(request: pytest.FixtureRequest, chromium: Any, provider: tuple[str, FakeProvider]) -> Iterator[Console]:
    """`sagemcp serve` (with the fake `notes` connector) on a fresh database, its public URL its loopback one."""
    backend = request.param
    workdir = Path(tempfile.mkdtemp(prefix="sagemcp-browser-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAGEMCP_")}
    env.update(
        PYTHONUNBUFFERED="1",
        SAGEMCP_DATA_DIR=str(workdir),
        SAGEMCP_ADMIN_KEY=ADMIN_KEY,
        SAGEMCP_SECRET_KEYS=SecretBox.generate_key(),
        SAGEMCP_PUBLIC_URL=base,
        SAGEMCP_BROWSER_PROVIDER=provider[0],
        # The fake provider listens on loopback, where upstream requests go only with the operator's switch.
        SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS="1",
        SAGEMCP_AUDIT_FLUSH_INTERVAL="0.1",
        SAGEMCP_PASSWORD_MEMORY_KIB="8192",
        SAGEMCP_PASSWORD_TIME_COST="1",
        SAGEMCP_LOG_FORMAT="json",
    )
    schema = None
    if backend == "sqlite":
        env["SAGEMCP_DATABASE_URL"] = f"sqlite+aiosqlite:///{workdir / 'sagemcp.db'}"
    else:
        if not POSTGRES_URL:
            pytest.skip(
                "PostgreSQL tests need SAGEMCP_TEST_POSTGRES_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test)"
            )
        schema = "browser_" + secrets.token_hex(6)
        _postgres_schema(POSTGRES_URL, f"CREATE SCHEMA {schema}")
        env["SAGEMCP_DATABASE_URL"] = POSTGRES_URL
        env["SAGEMCP_DATABASE_SCHEMA"] = schema
    log = workdir / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.browser._serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_ready(base + "/readyz", proc, log)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=10) as admin:
            yield Console(backend, base, provider[1], admin, ARTIFACTS / backend)
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if schema is not None and POSTGRES_URL:
            _postgres_schema(POSTGRES_URL, f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        shutil.rmtree(workdir, ignore_errors=True)
