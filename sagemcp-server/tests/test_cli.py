"""The `sagemcp` CLI, in-process, on both databases: people's output and --json for scripts."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import Database

from sagemcp.platform import SecretBox
from sagemcp_server.cli import main


@pytest.fixture
def env(database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, secret_key: str) -> Database:
    for name in list(os.environ):
        if name.startswith("SAGEMCP_") and name != "SAGEMCP_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("SAGEMCP_DATABASE_URL", database.url)
    if database.schema:
        monkeypatch.setenv("SAGEMCP_DATABASE_SCHEMA", database.schema)
    monkeypatch.setenv("SAGEMCP_SECRET_KEYS", secret_key)
    monkeypatch.chdir(tmp_path)
    return database


def run(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> str:
    assert main(list(args)) == code
    return capsys.readouterr().out


def run_json(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> Any:
    return json.loads(run(capsys, *args, "--json", code=code))


def test_tenant_connector_key_flow(env: Database, capsys: pytest.CaptureFixture[str]) -> None:
    assert "database at" in run(capsys, "db", "upgrade")
    tenant = run_json(capsys, "tenant", "create", "acme", "--name", "Acme")
    assert tenant["slug"] == "acme"
    assert "acme" in run(capsys, "tenant", "list")
    connector = run_json(capsys, "connector", "add", "demo", "--tenant", "acme", "--name", "tools", "--read-only")
    assert connector["tool_policy"]["read_only"] is True
    assert [c["name"] for c in run_json(capsys, "connector", "list", "--tenant", "acme")["items"]] == ["tools"]
    key = run_json(capsys, "key", "create", "--tenant", "acme", "--scope", "mcp", "--connector", "tools")
    assert key["key"].startswith("smcp_") and key["connector_id"] == connector["id"]
    listed = run(capsys, "key", "list", "--tenant", "acme")
    assert key["id"] in listed and key["key"] not in listed
    assert "revoked" in run(capsys, "key", "revoke", key["id"], "--tenant", "acme")
    assert run_json(capsys, "key", "list", "--tenant", "acme")["items"][0]["revoked"] is True
    admin = run_json(capsys, "key", "create", "--platform-admin")
    assert set(admin["scopes"]) == {"admin", "mcp"}
    run(capsys, "connector", "remove", "tools", "--tenant", "acme")
    assert run_json(capsys, "connector", "list", "--tenant", "acme")["items"] == []
    run(capsys, "tenant", "delete", "acme", code=2)  # needs --yes
    run(capsys, "tenant", "delete", "acme", "--yes")
    assert run_json(capsys, "tenant", "list")["items"] == []


def test_errors_are_reported(env: Database, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tenant", "create", "Bad_Slug"]) == 1
    assert "slug" in capsys.readouterr().err
    run(capsys, "tenant", "create", "acme")
    body = run_json(capsys, "tenant", "create", "acme", code=1)
    assert body["error"]["code"] == "conflict"
    body = run_json(capsys, "connector", "add", "nope", "--tenant", "acme", code=1)
    assert body["error"]["code"] == "unknown_connector_type"
    body = run_json(capsys, "connector", "add", "demo", "--tenant", "acme", "--config", '{"x": 1}', code=1)
    assert body["error"]["code"] == "invalid_configuration"


def test_connectors_command_lists_types_and_failures(env: Database, capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "connectors")
    assert "demo" in [c["id"] for c in data["items"]]
    assert isinstance(data["failures"], list)
    assert "demo" in run(capsys, "connectors")


def test_credential_oauth_app_and_key_rotation(
    env: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, secret_key: str
) -> None:
    pytest.importorskip(
        "sagemcp_github", reason="needs a connector with token and OAuth schemes (sagemcp-connector-github)"
    )
    run(capsys, "tenant", "create", "acme")
    run(capsys, "connector", "add", "github", "--tenant", "acme")
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("ghp_secret_token_value\n"))
    out = run(capsys, "credential", "set", "github", "--tenant", "acme", "--token-stdin", "--account", "octocat")
    assert "credential stored" in out and "ghp_secret_token_value" not in out
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("client-secret-value\n"))
    app = run_json(
        capsys, "oauth-app", "set", "github", "--tenant", "acme", "--client-id", "cid", "--client-secret-stdin"
    )
    assert app["has_client_secret"] is True and "client-secret-value" not in json.dumps(app)
    new_key = SecretBox.generate_key()
    monkeypatch.setenv("SAGEMCP_SECRET_KEYS", f"{new_key},{secret_key}")
    result = run_json(capsys, "keys", "rotate")
    assert result["re_encrypted"] == 2
    monkeypatch.setenv("SAGEMCP_SECRET_KEYS", new_key)  # the old key is no longer needed
    assert run_json(capsys, "keys", "rotate")["re_encrypted"] == 0


def test_key_file_rotation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for name in list(os.environ):
        if name.startswith("SAGEMCP_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAGEMCP_DATA_DIR", str(tmp_path))
    run(capsys, "tenant", "create", "acme")  # generates the key file next to the database
    key_file = tmp_path / "secret.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    run(capsys, "connector", "add", "demo", "--tenant", "acme")
    before = key_file.read_text()
    data = run_json(capsys, "keys", "rotate")
    assert len(data["key_ids"]) == 2 and data["old_keys_dropped"] is False
    data = run_json(capsys, "keys", "rotate", "--drop-old")
    assert len(data["key_ids"]) == 1 and data["old_keys_dropped"] is True
    assert key_file.read_text() != before
    assert run_json(capsys, "tenant", "list")["items"][0]["slug"] == "acme"


def test_a_running_server_follows_a_key_file_rotation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The store a server holds keeps reading and writing secrets while `sagemcp keys rotate` changes the file."""
    import asyncio

    from pydantic import SecretStr

    from sagemcp import Credential
    from sagemcp_server.db import SqlStore, create_engine
    from sagemcp_server.keyring import load_secret_box
    from sagemcp_server.settings import Settings

    for name in list(os.environ):
        if name.startswith("SAGEMCP_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAGEMCP_DATA_DIR", str(tmp_path))
    run(capsys, "tenant", "create", "acme")
    settings = Settings()
    box = load_secret_box(settings)  # what `sagemcp serve` holds
    first_key = box.key_ids[0]

    async def store_token(value: str) -> None:
        engine = create_engine(settings.resolved_database_url())
        try:
            store = SqlStore(engine, box)
            tenant = await store.get_tenant("acme")
            assert tenant is not None
            await store.put_credential(
                Credential(tenant_id=tenant.id, provider="github", kind="bearer", access_token=SecretStr(value))
            )
        finally:
            await engine.dispose()

    async def read_token() -> str:
        engine = create_engine(settings.resolved_database_url())
        try:
            store = SqlStore(engine, box)
            tenant = await store.get_tenant("acme")
            assert tenant is not None
            cred = await store.get_credential(tenant.id, "github")
            assert cred is not None
            return cred.require_token()
        finally:
            await engine.dispose()

    asyncio.run(store_token("ghp_before"))
    data = run_json(capsys, "keys", "rotate")  # another process re-encrypts under a new key
    new_key = data["encrypting_key"]
    assert new_key != first_key
    assert asyncio.run(read_token()) == "ghp_before"  # unknown key id: the server re-read the file
    asyncio.run(store_token("ghp_after"))
    assert box.key_ids[0] == new_key  # and now encrypts under the new key
    data = run_json(capsys, "keys", "rotate", "--drop-old")
    assert data["key_ids"] == [data["encrypting_key"]]
    assert asyncio.run(read_token()) == "ghp_after"
    assert box.key_ids == (data["encrypting_key"],)
