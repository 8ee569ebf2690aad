"""The image, built from the Dockerfile with buildah and run with podman: non-root, read-only root filesystem,
every connector loaded as a plugin, `/healthz` and the HEALTHCHECK answering, a clean stop on SIGTERM, and the
compose flow (a one-shot `db upgrade`, then `serve --no-migrate` with secrets from files) on PostgreSQL.

Skipped, with the reason, where no builder can work (not root, no buildah, no base image); `nox -s deploy` says
so at the end of its run.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from . import _image

pytestmark = pytest.mark.e2e

_why_not = _image.builder_problem()
if _why_not:
    pytestmark = [pytest.mark.e2e, pytest.mark.skip(reason=f"image not built: {_why_not}")]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def image() -> Iterator[dict[str, object]]:
    """Builds the image once; yields its configuration as buildah reports it, then removes it (vfs storage keeps
    a full copy of every layer: images left behind by each run would fill the disk). The base stays, as a cache."""
    try:
        log = _image.build()
        assert "Successfully tagged" in log or "COMMIT" in log, log[-3000:]
        inspected = json.loads(_image.buildah("inspect", "--type", "image", _image.IMAGE).stdout)
        yield inspected["Docker"]["config"]
    finally:
        _image.buildah("rmi", "--force", _image.IMAGE, check=False)
        _image.buildah("rmi", "--prune", check=False)


@pytest.fixture
def runner() -> None:
    problem = _image.runner_problem()
    if problem:
        pytest.skip(f"image built but not run: {problem}")


def wait_for(url: str, timeout: float = 60.0, status: int = 200) -> httpx.Response:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == status:
                return response
            last = response.status_code
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.3)
    raise AssertionError(f"{url} did not answer {status} within {timeout} s (last: {last!r})")


def test_the_image_is_configured_as_documented(image: dict[str, object]) -> None:
    assert image["User"] == "10001:10001"
    assert image["Entrypoint"] == ["sagemcp-entrypoint"] and image["Cmd"] == ["serve"]
    assert set(image["ExposedPorts"]) == {"8000/tcp"}  # type: ignore[arg-type]
    assert set(image["Volumes"]) == {"/data"}  # type: ignore[arg-type]
    health = image["Healthcheck"]
    assert "/healthz" in " ".join(health["Test"])  # type: ignore[index]
    labels = image["Labels"]
    assert labels["org.opencontainers.image.title"] == "sagemcp"  # type: ignore[index]
    assert labels["org.opencontainers.image.revision"] == "test"  # type: ignore[index]
    env = dict(item.split("=", 1) for item in image["Env"])  # type: ignore[union-attr]
    assert env["SAGEMCP_DATA_DIR"] == "/data" and env["SAGEMCP_HOST"] == "0.0.0.0"


def test_the_image_serves_read_only_as_a_non_root_user(image: dict[str, object], runner: None) -> None:
    port = free_port()
    with _image.container(f"sagemcp-test-{secrets.token_hex(3)}", port) as box:
        try:
            assert wait_for(f"http://127.0.0.1:{port}/healthz").json() == {"status": "ok"}
            ready = wait_for(f"http://127.0.0.1:{port}/readyz").json()
        except AssertionError:
            raise AssertionError(box.logs()[-4000:]) from None
        assert ready["status"] == "ready"
        assert _image.podman("healthcheck", "run", box.name, check=False).returncode == 0
        assert box.exec("id", "-u").stdout.strip() == "10001"
        assert box.exec("sh", "-c", "touch /opt/sagemcp/written").returncode != 0, "the root filesystem is writable"
        connectors = json.loads(box.exec("sagemcp", "connectors", "--json", check=True).stdout)
        assert {"demo", "github", "slack"} <= {c["id"] for c in connectors["items"]}
        assert connectors["failures"] == []
        listing = box.exec("ls", "-a", "/data").stdout.split()
        assert {"sagemcp.db", "secret.key"} <= set(listing) and ".cache" not in listing
        stopped = time.monotonic()
        _image.podman("stop", "--time", "20", box.name)
        assert time.monotonic() - stopped < 15, "SIGTERM did not stop the server promptly"
        logs = box.logs()
        assert "sagemcp server stopped" in logs, logs[-3000:]
        assert '"level": "error"' not in logs, logs[-3000:]


@pytest.fixture
def postgres_schema() -> Iterator[tuple[str, str]]:
    url = os.environ.get("SAGEMCP_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("needs PostgreSQL: set SAGEMCP_TEST_POSTGRES_URL")
    from sqlalchemy import text

    from sagemcp_server.db import create_engine

    schema = f"img_{secrets.token_hex(5)}"

    async def execute(statement: str) -> None:
        engine = create_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(execute(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url, schema
    finally:
        asyncio.run(execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def test_the_compose_flow_migrates_once_then_serves_with_secret_files(
    image: dict[str, object], runner: None, postgres_schema: tuple[str, str], tmp_path: Path
) -> None:
    from sagemcp.platform import SecretBox

    url, schema = postgres_schema
    folder = tmp_path / "secrets"
    folder.mkdir()
    admin_key = "test-admin-" + secrets.token_urlsafe(24)
    for name, value in (("database_url", url), ("secret_keys", SecretBox.generate_key()), ("admin_key", admin_key)):
        (folder / name).write_text(value + "\n")
        (folder / name).chmod(0o644)
    env = {
        "SAGEMCP_DATABASE_URL_FILE": "/run/secrets/database_url",
        "SAGEMCP_SECRET_KEYS_FILE": "/run/secrets/secret_keys",
        "SAGEMCP_ADMIN_KEY_FILE": "/run/secrets/admin_key",
        "SAGEMCP_DATABASE_SCHEMA": schema,
    }
    mounts = (f"{folder}:/run/secrets:ro",)
    migrated = _image.run_once("db", "upgrade", "--json", env=env, mounts=mounts)
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    assert json.loads(migrated.stdout)["from"] is None
    port = free_port()
    name = f"sagemcp-test-{secrets.token_hex(3)}"
    with _image.container(name, port, "serve", "--no-migrate", env=env, mounts=mounts) as box:
        try:
            ready = wait_for(f"http://127.0.0.1:{port}/readyz").json()
        except AssertionError:
            raise AssertionError(box.logs()[-4000:]) from None
        assert ready["status"] == "ready"
        admin = {"Authorization": f"Bearer {admin_key}"}
        created = httpx.post(f"http://127.0.0.1:{port}/api/v1/admin/tenants", json={"slug": "acme"}, headers=admin)
        assert created.status_code == 201, created.text
        assert admin_key not in box.logs()
        environment = box.exec("env").stdout  # the container's own environment, not the server process's
        assert "SAGEMCP_ADMIN_KEY_FILE=/run/secrets/admin_key" in environment
        assert "SAGEMCP_ADMIN_KEY=" not in environment and admin_key not in environment
