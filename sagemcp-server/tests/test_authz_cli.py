"""`sagemcp oauth-client` and `sagemcp token revoke`, in-process, on both databases."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import Database

from sagemcp.platform import SecretBox
from sagemcp_server.authz import tokens
from sagemcp_server.authz.store import AuthorizationStore
from sagemcp_server.cli import main
from sagemcp_server.db import SqlStore, create_engine
from sagemcp_server.db.people import PeopleStore


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


def _grant(database: Database, secret_key: str, email: str, slug: str, client_id: str, redirect: str) -> str:
    """Issue a grant to `email` for tenant `slug` directly in the store; returns its access token."""

    async def go() -> str:
        engine = create_engine(database.url, schema=database.schema)
        sql = SqlStore(engine, SecretBox([secret_key]))
        try:
            user = await PeopleStore(sql).get_user_by_email(email)
            tenant = await sql.get_tenant(slug)
            assert user is not None and tenant is not None
            issued = await AuthorizationStore(sql).issue_tokens(
                family_id=tokens.digest(email + slug + redirect)[:32],
                client_id=client_id,
                user_id=user.id,
                tenant_id=tenant.id,
                resource=f"https://sagemcp.test/api/v1/{slug}/mcp",
                scopes=["mcp"],
                redirect_uri=redirect,
                access_lifetime=3600,
                refresh_lifetime=86400,
            )
            return issued.access_token
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _live(database: Database, secret_key: str, access_token: str) -> bool:
    async def go() -> bool:
        engine = create_engine(database.url, schema=database.schema)
        try:
            store = AuthorizationStore(SqlStore(engine, SecretBox([secret_key])))
            return await store.grant_for_access_token(tokens.digest(access_token)) is not None
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_oauth_clients_and_token_revocation(env: Database, secret_key: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "db", "upgrade")
    for slug in ("acme", "globex"):
        run(capsys, "tenant", "create", slug)
    for email in ("olive@example.com", "alice@example.com"):
        run(capsys, "user", "create", email, "--no-password")
        for slug in ("acme", "globex"):
            run(
                capsys,
                "member",
                "add",
                email,
                "--tenant",
                slug,
                "--role",
                "owner" if email.startswith("olive") else "member",
            )

    added = run_json(capsys, "oauth-client", "add", "--name", "Internal", "--redirect-uri", "https://tools.example/cb")
    assert added["client_secret"].startswith("smcpcs_") and added["token_endpoint_auth_method"] == "client_secret_post"
    public = run_json(
        capsys, "oauth-client", "add", "--name", "Desktop", "--public", "--redirect-uri", "http://127.0.0.1/cb"
    )
    assert public["client_secret"] is None
    run(capsys, "oauth-client", "add", "--name", "Bad", "--redirect-uri", "http://evil.example/cb", code=2)

    cimd = "https://app.example/oauth/client.json"  # one client id shared by every installation
    alice_acme = _grant(env, secret_key, "alice@example.com", "acme", added["client_id"], "https://tools.example/cb")
    alice_globex = _grant(
        env, secret_key, "alice@example.com", "globex", added["client_id"], "https://tools.example/cb"
    )
    install_one = _grant(env, secret_key, "olive@example.com", "acme", cimd, "http://127.0.0.1:4001/cb")
    install_two = _grant(env, secret_key, "olive@example.com", "globex", cimd, "https://app.example/cb")
    olive_pre = _grant(env, secret_key, "olive@example.com", "acme", added["client_id"], "https://tools.example/cb")

    listed = run_json(capsys, "oauth-client", "list")["items"]
    internal = next(c for c in listed if c["client_id"] == added["client_id"])
    assert internal["kind"] == "preregistered" and internal["live_grants"] == 3
    text = run(capsys, "oauth-client", "list")
    assert "Internal" in text and added["client_secret"] not in text

    assert run_json(capsys, "token", "revoke", "--user", "alice@example.com", "--tenant", "acme") == {
        "revoked_grants": 1
    }
    assert not _live(env, secret_key, alice_acme) and _live(env, secret_key, alice_globex)
    # one installation of a metadata-document client, by its redirect URI
    revoked = run_json(capsys, "token", "revoke", "--client", cimd, "--redirect-uri", "http://127.0.0.1:4001/cb")
    assert revoked == {"revoked_grants": 1}
    assert not _live(env, secret_key, install_one) and _live(env, secret_key, install_two)
    run(capsys, "token", "revoke", code=2)
    run(capsys, "token", "revoke", "--redirect-uri", "https://app.example/cb", code=2)
    run(capsys, "token", "revoke", "--user", "nobody@example.com", code=1)

    run(capsys, "oauth-client", "delete", added["client_id"], code=2)  # needs --yes
    assert "revoked its tokens" in run(capsys, "oauth-client", "delete", added["client_id"], "--yes")
    assert not _live(env, secret_key, alice_globex) and not _live(env, secret_key, olive_pre)
    assert added["client_id"] not in run(capsys, "oauth-client", "list")
    run(capsys, "oauth-client", "delete", added["client_id"], "--yes", code=1)
