"""`SqlStore` against core's `TenantStore` semantics (those of `MemoryStore`), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time

import pytest
from conftest import Database
from pydantic import SecretStr

from sagemcp import Credential, CredentialStatus
from sagemcp.errors import ConnectorNotFound, StoreError, TenantNotFound
from sagemcp.platform import AuditEvent, ConnectorConfig, OAuthApp, PendingAuthorization, SecretBox, TenantStore
from sagemcp_server.db import Duplicate, SqlStore, create_engine


@pytest.fixture
async def store(database: Database, secret_key: str):  # type: ignore[no-untyped-def]
    s = SqlStore(create_engine(database.url, schema=database.schema), SecretBox([secret_key]))
    yield s
    await s.close()


def cred(tenant_id: str, token: str = "at", version: int = 1, **kw: object) -> Credential:
    return Credential(tenant_id=tenant_id, provider="gh", access_token=SecretStr(token), version=version, **kw)


async def test_satisfies_the_protocol(store: SqlStore) -> None:
    assert isinstance(store, TenantStore)


async def test_tenants_and_connectors(store: SqlStore) -> None:
    a = (await store.create_tenant("a")).item
    b = (await store.create_tenant("b")).item
    with pytest.raises(Duplicate):
        await store.create_tenant("a")
    cfg = (await store.add_connector(ConnectorConfig(tenant_id=a.id, connector_type="demo", name="one"))).item
    with pytest.raises(Duplicate):
        await store.add_connector(ConnectorConfig(tenant_id=a.id, connector_type="demo", name="one"))
    await store.add_connector(
        ConnectorConfig(tenant_id=b.id, connector_type="demo", name="one")
    )  # names are per tenant
    with pytest.raises(TenantNotFound):
        await store.add_connector(ConnectorConfig(tenant_id="0" * 32, connector_type="demo", name="x"))
    assert (await store.get_connector(a.id, cfg.id)) == cfg
    assert (await store.get_connector(a.id, "one")) == cfg
    assert await store.get_connector(b.id, cfg.id) is None  # never another tenant's
    assert [c.name for c in await store.list_connectors(a.id)] == ["one"]
    assert await store.delete_connector(b.id, cfg.id) is False
    assert await store.delete_connector(a.id, cfg.id) is True


async def test_credential_versions_and_compare_and_swap(store: SqlStore) -> None:
    t = (await store.create_tenant("a")).item
    first = await store.put_credential(cred(t.id, "one"))
    assert first.version == 1
    second = await store.put_credential(cred(t.id, "two"))
    assert second.version == 2 and second.id == first.id
    assert await store.swap_credential(1, cred(t.id, "stale", version=2)) is False
    assert await store.swap_credential(2, cred(t.id, "three", version=3)) is True
    with pytest.raises(ValueError, match="version"):
        await store.swap_credential(3, cred(t.id, "bad", version=5))
    current = await store.get_credential(t.id, "gh")
    assert current.access_token.get_secret_value() == "three" and current.version == 3
    # after a disconnect, a reconnect gets a higher version: a refresh that started before cannot win
    assert await store.delete_credential(t.id, "gh") is True
    assert await store.get_credential(t.id, "gh") is None
    assert await store.swap_credential(3, cred(t.id, "late", version=4)) is False
    again = await store.put_credential(cred(t.id, "new"))
    assert again.version > 4
    assert await store.delete_credential(t.id, "nope") is False
    marked = again.model_copy(update={"status": CredentialStatus.RECONNECT_REQUIRED, "version": again.version + 1})
    assert await store.swap_credential(again.version, marked) is True
    assert (await store.get_credential(t.id, "gh")).status == CredentialStatus.RECONNECT_REQUIRED


async def test_credential_lock_excludes_concurrent_refreshers(
    store: SqlStore, database: Database, secret_key: str
) -> None:
    t = (await store.create_tenant("a")).item
    await store.put_credential(cred(t.id, "old", expires_at=time.time() - 1))
    # a second store with its own engine stands for another process (on PostgreSQL the row lock spans processes)
    other = SqlStore(create_engine(database.url, schema=database.schema), SecretBox([secret_key]))
    stores = [store, other] if database.backend == "postgres" else [store, store]
    refreshes = 0

    async def refresh(s: SqlStore) -> str:
        nonlocal refreshes
        async with s.lock_credential(t.id, "gh") as latest:
            assert latest is not None
            if latest.expires_within(0):
                refreshes += 1
                await asyncio.sleep(0.3)
                new = latest.model_copy(
                    update={
                        "access_token": SecretStr(f"fresh-{refreshes}"),
                        "expires_at": time.time() + 3600,
                        "version": latest.version + 1,
                    }
                )
                assert await s.swap_credential(latest.version, new)
                return "refreshed"
            return latest.access_token.get_secret_value()

    try:
        results = await asyncio.gather(*[refresh(s) for s in stores])
    finally:
        await other.close()
    assert refreshes == 1
    assert sorted(results) == ["fresh-1", "refreshed"]


async def test_oauth_apps_and_states(store: SqlStore) -> None:
    t = (await store.create_tenant("a")).item
    await store.put_oauth_app(OAuthApp(tenant_id=t.id, provider="gh", client_id="cid", client_secret=SecretStr("s3")))
    app = await store.get_oauth_app(t.id, "gh")
    assert app.client_secret.get_secret_value() == "s3"
    await store.put_oauth_app(OAuthApp(tenant_id=t.id, provider="gh", client_id="cid2"))
    assert (await store.get_oauth_app(t.id, "gh")).client_secret is None
    now = time.time()
    pending = PendingAuthorization(
        state="s" * 48,
        tenant_id=t.id,
        provider="gh",
        connector_id=None,
        code_verifier="v" * 64,
        redirect_uri="https://x/cb",
        scopes=("a", "b"),
        expires_at=now + 600,
        created_at=now,
    )
    await store.save_oauth_state(pending)
    with pytest.raises(StoreError):
        await store.save_oauth_state(pending)
    taken = await asyncio.gather(store.take_oauth_state("s" * 48), store.take_oauth_state("s" * 48))
    assert sorted([x is None for x in taken]) == [False, True]  # single-use, even when taken concurrently
    got = next(x for x in taken if x is not None)
    assert got == pending


async def test_api_keys(store: SqlStore) -> None:
    t = (await store.create_tenant("a")).item
    cfg = (await store.add_connector(ConnectorConfig(tenant_id=t.id, connector_type="demo", name="one"))).item
    raw, record = await store.create_api_key(t.id, scopes={"mcp", "admin"}, connector_id=cfg.id)
    principal = await store.verify_api_key(raw)
    assert principal.id == record.id and principal.tenant_id == t.id and principal.connector_id == cfg.id
    assert principal.kind == "api_key" and principal.scopes == {"mcp", "admin"}
    assert await store.verify_api_key(raw + "x") is None
    assert await store.verify_api_key("") is None
    with pytest.raises(ConnectorNotFound):
        await store.create_api_key(t.id, connector_id="0" * 32)
    with pytest.raises(ValueError, match="platform admin"):
        await store.create_api_key(None)
    admin_raw, _ = await store.create_api_key(None, platform_admin=True, scopes={"admin"})
    assert (await store.verify_api_key(admin_raw)).kind == "platform_admin"
    assert await store.count_platform_admin_keys() == 1
    assert await store.revoke_api_key(record.id, tenant_id="0" * 32) is False  # only the tenant's own keys
    assert await store.revoke_api_key(record.id, tenant_id=t.id) is True
    assert await store.verify_api_key(raw) is None
    assert [k.revoked for k in await store.list_api_keys(t.id)] == [True]


async def test_audit_batches_skip_deleted_tenants(store: SqlStore) -> None:
    a = (await store.create_tenant("a")).item

    def event(tenant_id: str, tool: str) -> AuditEvent:
        return AuditEvent(
            tenant_id=tenant_id,
            connector_id="c",
            connector_type="demo",
            tool=tool,
            principal_id="p",
            outcome="ok",
            duration_ms=1.0,
            request_id="r",
        )

    assert await store.record_audits([event(a.id, "t1"), event("0" * 32, "t2"), event(a.id, "t3")]) == 2
    page = await store.list_audit(a.id)
    assert [e.tool for e in page.items] == ["t3", "t1"]
