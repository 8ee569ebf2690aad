"""`sagemcp credential set` with a scheme's fields (a GitHub App): files and standard input for secrets.

Synchronous tests: the CLI runs its own event loop."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest
from conftest import Database
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import text
from test_cli import env, run, run_json  # noqa: F401  (env is a fixture)

from sagemcp_server.db import create_engine

pytest.importorskip("sagemcp_github", reason="needs a connector with a GitHub App scheme (sagemcp-connector-github)")


@pytest.fixture(scope="module")
def private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()


async def stored_row(database: Database) -> dict[str, object]:
    engine = create_engine(database.url, schema=database.schema)
    try:
        async with engine.connect() as conn:
            query = text("SELECT * FROM credentials WHERE provider = 'github' AND deleted = :no")
            return dict((await conn.execute(query, {"no": False})).mappings().one())
    finally:
        await engine.dispose()


def test_a_github_app_from_fields_and_a_key_file(
    env: Database,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    private_key: str,
) -> None:
    run(capsys, "tenant", "create", "acme")
    run(capsys, "connector", "add", "github", "--tenant", "acme")
    key_file = tmp_path / "app.pem"
    key_file.write_text(private_key)
    args = ["credential", "set", "github", "--tenant", "acme", "--kind", "github_app"]
    args += ["--field", "app_id=123", "--field", "installation_id:=456", "--field-file", f"private_key={key_file}"]
    out = run_json(capsys, *args)
    assert out["kind"] == "github_app" and out["secrets"] == ["private_key"] and out["has_access_token"] is False
    assert out["extra"] == {"app_id": "123", "installation_id": 456}
    assert private_key.splitlines()[3] not in json.dumps(out)
    row = asyncio.run(stored_row(env))
    middle = private_key.splitlines()[3]
    assert row["secrets_enc"] and middle not in json.dumps(row, default=str)

    human = run(capsys, *args)
    assert "github github_app credential stored for acme" in human
    assert "secrets stored encrypted: private_key" in human and "when a tool first needs it" in human


def test_a_secret_field_from_standard_input_and_mistakes(
    env: Database,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    private_key: str,
) -> None:
    run(capsys, "tenant", "create", "acme")
    run(capsys, "connector", "add", "github", "--tenant", "acme")
    base = ["credential", "set", "github", "--tenant", "acme", "--kind", "github_app"]
    fields = ["--field", "app_id=123", "--field", "installation_id=456"]
    monkeypatch.setattr("sys.stdin", io.StringIO(private_key + "\n"))
    out = run_json(capsys, *base, *fields, "--field-stdin", "private_key")
    assert out["secrets"] == ["private_key"]

    monkeypatch.setattr("sys.stdin", io.StringIO("not a key\n"))
    body = run_json(capsys, *base, *fields, "--field-stdin", "private_key", code=1)
    assert body["error"]["code"] == "invalid_credential_fields"
    assert [d["field"] for d in body["error"]["details"]] == ["fields.private_key"]
    assert "not a key" not in json.dumps(body)

    assert main_code(capsys, *base, "--field", "app_id") == 2
    assert main_code(capsys, *base, *fields, "--token", "ghp_x") == 2
    assert main_code(capsys, *base, "--field-file", "private_key=/no/such/file.pem") == 1
    body = run_json(capsys, *base, "--token", "ghp_x", code=1)
    assert body["error"]["code"] == "fields_required"


def main_code(capsys: pytest.CaptureFixture[str], *args: str) -> int:
    from sagemcp_server.cli import main

    code = main(list(args))
    capsys.readouterr()
    return code
