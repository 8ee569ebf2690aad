"""`SqlStore` keeps a credential's named secrets encrypted and its access token optional, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from conftest import Database
from pydantic import SecretStr
from sqlalchemy import text

from sagemcp import Credential
from sagemcp.errors import CryptoError
from sagemcp.platform import SecretBox
from sagemcp_server.db import SqlStore, create_engine

PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA-not-really-a-key\n-----END RSA PRIVATE KEY-----"
CLIENT_SECRET = "client-secret-9f8e7d"


@pytest.fixture
async def store(database: Database, secret_key: str):  # type: ignore[no-untyped-def]
    s = SqlStore(create_engine(database.url, schema=database.schema), SecretBox([secret_key]))
    yield s
    await s.close()


def app_credential(tenant_id: str, **changes: object) -> Credential:
    base: dict[str, object] = {
        "tenant_id": tenant_id,
        "provider": "github",
        "kind": "github_app",
        "extra": {"app_id": "1", "installation_id": 2},
        "secrets": {"private_key": SecretStr(PRIVATE_KEY), "client_secret": SecretStr(CLIENT_SECRET)},
    }
    return Credential(**{**base, **changes})  # type: ignore[arg-type]


async def raw_row(store: SqlStore, provider: str = "github") -> dict[str, object]:
    async with store.engine.connect() as conn:
        row = (await conn.execute(text(f"SELECT * FROM credentials WHERE provider = '{provider}'"))).mappings().one()
    return dict(row)


def assert_no_plaintext(row: dict[str, object], *values: str) -> None:
    dumped = json.dumps(row, default=str)
    for value in values:
        for piece in [value, *value.splitlines()]:
            assert piece not in dumped


async def test_secrets_round_trip_encrypted_and_without_an_access_token(store: SqlStore) -> None:
    tenant = (await store.create_tenant("acme")).item
    await store.put_credential(app_credential(tenant.id))
    got = await store.get_credential(tenant.id, "github")
    assert got is not None and got.access_token is None and got.refresh_token is None
    assert got.secret("private_key") == PRIVATE_KEY and got.secret("client_secret") == CLIENT_SECRET
    assert got.extra == {"app_id": "1", "installation_id": 2}

    row = await raw_row(store)
    assert row["access_token_enc"] is None
    assert isinstance(row["secrets_enc"], str) and row["secrets_enc"].startswith("v1.")
    assert_no_plaintext(row, PRIVATE_KEY, CLIENT_SECRET, "private_key", "client_secret")

    # The ciphertext is bound to its row: copied to another credential it does not decrypt.
    other = (await store.create_tenant("beta")).item
    await store.put_credential(app_credential(other.id, secrets={}))
    async with store.engine.begin() as conn:
        await conn.execute(
            text("UPDATE credentials SET secrets_enc = :v WHERE tenant_id = :t"),
            {"v": row["secrets_enc"], "t": other.id},
        )
    with pytest.raises(CryptoError):
        await store.get_credential(other.id, "github")


async def test_a_minted_token_is_stored_next_to_the_secrets(store: SqlStore) -> None:
    tenant = (await store.create_tenant("acme")).item
    first = await store.put_credential(app_credential(tenant.id))
    minted = first.model_copy(
        update={"access_token": SecretStr("ghs_minted"), "expires_at": 4_000_000_000.0, "version": first.version + 1}
    )
    assert await store.swap_credential(first.version, minted)
    got = await store.get_credential(tenant.id, "github")
    assert got is not None and got.require_token() == "ghs_minted" and got.secret("private_key") == PRIVATE_KEY
    assert_no_plaintext(await raw_row(store), "ghs_minted", PRIVATE_KEY)


async def test_rotation_and_deletion_cover_the_secrets(store: SqlStore, secret_key: str) -> None:
    tenant = (await store.create_tenant("acme")).item
    await store.put_credential(app_credential(tenant.id, access_token=SecretStr("at")))
    new_key = SecretBox.generate_key()
    rotated = SqlStore(store.engine, SecretBox([new_key, secret_key]))
    assert await rotated.rotate_secrets() == 2  # the access token and the secrets
    only_new = SqlStore(store.engine, SecretBox([new_key]))
    got = await only_new.get_credential(tenant.id, "github")
    assert got is not None and got.secret("private_key") == PRIVATE_KEY
    assert await only_new.delete_credential(tenant.id, "github")
    row = await raw_row(store)
    assert row["deleted"] and row["secrets_enc"] is None and row["access_token_enc"] is None
