"""Secrets at rest and in logs: nothing readable in a raw database dump, nothing in any log line; key rotation."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import TABLES, Database, Server, mcp_call, running
from helpers import CLIENT_SECRET
from pydantic import SecretStr
from sqlalchemy import text

from sagemcp.platform import SecretBox
from sagemcp_server.logging import JsonFormatter, TextFormatter, quiet_noisy_loggers, redact


async def _everything(server: Server) -> list[str]:
    """Run OAuth, a token credential, keys and tool calls; return every secret that passed through."""
    await server.tenant("acme")
    await server.connector("acme", "fake")
    await server.connector("acme", "tokenonly")
    await server.oauth_app("acme")
    r = await server.admin.post("/api/v1/oauth/acme/fake/authorize", json={})
    auth_url = r.json()["authorization_url"]
    async with server.browser() as browser:
        location = await server.follow_authorize(auth_url, browser)
        assert (await browser.get(location)).status_code == 200
    assert (
        await server.admin.put(
            "/api/v1/admin/tenants/acme/credentials/tokenonly", json={"token": "pat-very-secret-token-42"}
        )
    ).status_code == 200
    key = await server.key("acme", ["mcp", "admin"])
    async with server.client(key) as client:
        for name in ("fake_whoami", "tokenonly_whoami"):
            r = await mcp_call(client, "/api/v1/acme/mcp", "tools/call", {"name": name})
            assert r.json()["result"]["isError"] is False, r.text
        r = await mcp_call(client, "/api/v1/acme/mcp", "tools/call", {"name": "fake_whoami", "arguments": {"x": 1}})
    async with server.client("smcp_" + "A" * 43) as bad:
        await bad.get("/api/v1/admin/tenants")
    from urllib.parse import parse_qs, urlsplit

    query = parse_qs(urlsplit(location).query)
    verifier = server.provider.token_requests[0]["code_verifier"]
    return [
        *server.provider.issued,
        CLIENT_SECRET,
        "pat-very-secret-token-42",
        key,
        "smcp_" + "A" * 43,
        query["state"][0],
        query["code"][0],
        verifier,
    ]


async def test_no_secret_in_a_raw_database_dump(server: Server, database: Database) -> None:
    secrets = await _everything(server)
    dump = []
    async with server.services.engine.connect() as conn:
        for table in TABLES:
            for row in (await conn.execute(text(f"SELECT * FROM {table}"))).all():
                dump.append(repr(tuple(row)))
    text_dump = "\n".join(dump)
    if database.backend == "sqlite":
        path = Path(database.url.removeprefix("sqlite+aiosqlite:///"))
        for file in path.parent.glob(path.name + "*"):
            text_dump += file.read_bytes().decode("latin-1")
    assert "v1." in text_dump  # the secrets are there, encrypted
    for secret in secrets:
        assert secret not in text_dump, f"{secret[:6]}... found in the database"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handlers = []
    for formatter in (JsonFormatter(), TextFormatter()):
        handler = logging.StreamHandler(stream)
        handler.setFormatter(formatter)
        handler.setLevel(logging.DEBUG)
        handlers.append(handler)
    raw: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            raw.append(record)

    keep = Keep(logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.setLevel(logging.DEBUG)
    quiet_noisy_loggers()  # as `sagemcp serve` does
    for h in [*handlers, keep]:
        root.addHandler(h)
    stream.raw_records = raw  # type: ignore[attr-defined]
    try:
        yield stream
    finally:
        for h in [*handlers, keep]:
            root.removeHandler(h)
        root.setLevel(old_level)


async def test_no_secret_in_any_log_line(server: Server, captured: io.StringIO) -> None:
    secrets = await _everything(server)
    await server.admin.delete("/api/v1/admin/tenants/acme")
    output = captured.getvalue()
    assert "tenant created" in output and "OAuth connection completed" in output  # logging was captured
    raw = "\n".join(r.getMessage() + str(r.__dict__) for r in captured.raw_records)  # type: ignore[attr-defined]
    for secret in secrets:
        assert secret not in output, f"{secret[:6]}... appeared in the logs"
        assert secret not in raw, f"{secret[:6]}... was passed to a logger"


def test_redact_patterns() -> None:
    key = "smcp_" + "b" * 43
    line = f'Authorization: Bearer abcdefghijkl key={key} ?code=xyz&state=abc {{"access_token": "t0k3n"}}'
    cleaned = redact(line)
    for secret in ("abcdefghijkl", key, "xyz", "abc&", "t0k3n"):
        assert secret not in cleaned


async def test_key_rotation_reencrypts_everything(server: Server, settings, registry, provider) -> None:
    secrets = await _everything(server)
    store = server.services.store
    tenant = await store.get_tenant("acme")
    before = await store.get_credential(tenant.id, "fake")
    old_key = settings.secret_keys.get_secret_value()
    new_key = SecretBox.generate_key()
    rotated = store.__class__(server.services.engine, SecretBox([new_key, old_key]))
    changed = await rotated.rotate_secrets()
    assert changed >= 4  # client secret, two OAuth tokens, the PAT
    assert await rotated.rotate_secrets() == 0  # idempotent
    only_new = store.__class__(server.services.engine, SecretBox([new_key]))
    after = await only_new.get_credential(tenant.id, "fake")
    assert after.access_token.get_secret_value() == before.access_token.get_secret_value()
    assert (
        await only_new.get_credential(tenant.id, "tokenonly")
    ).access_token.get_secret_value() == "pat-very-secret-token-42"
    assert (await only_new.get_oauth_app(tenant.id, "fake")).client_secret.get_secret_value() == CLIENT_SECRET
    # and a server started with only the new key serves the tenant
    await server.services.engine.dispose()
    async with running(settings.model_copy(update={"secret_keys": SecretStr(new_key)}), registry, provider) as fresh:
        key = await fresh.key("acme", ["mcp"])
        async with fresh.client(key) as client:
            r = await mcp_call(client, "/api/v1/acme/mcp", "tools/call", {"name": "tokenonly_whoami"})
        assert r.json()["result"]["structuredContent"] == {"login": "token-user"}
    assert secrets


async def test_wrong_key_ring_is_reported_not_leaked(server: Server, settings, registry, provider) -> None:
    await server.tenant("acme")
    await server.connector("acme", "tokenonly")
    await server.admin.put("/api/v1/admin/tenants/acme/credentials/tokenonly", json={"token": "pat-kept-secret"})
    await server.services.engine.dispose()
    other = settings.model_copy(update={"secret_keys": SecretStr(SecretBox.generate_key())})
    async with running(other, registry, provider) as wrong:
        r = await wrong.admin.get("/api/v1/admin/tenants/acme/credentials/tokenonly")
        assert r.status_code == 500 and r.json()["error"]["code"] == "crypto_error"
        assert "SAGEMCP_SECRET_KEYS" in r.json()["error"]["message"] and "pat-kept-secret" not in r.text
