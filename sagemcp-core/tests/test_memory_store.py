from __future__ import annotations

import time

import anyio
import pytest
from pydantic import SecretStr, ValidationError

from sagemcp import Credential
from sagemcp.errors import ConnectorNotFound, StoreError, TenantNotFound
from sagemcp.platform import (
    AuditEvent,
    ConnectorConfig,
    MemoryStore,
    OAuthApp,
    PendingAuthorization,
    Tenant,
    TenantStore,
)


def _store() -> tuple[MemoryStore, Tenant, Tenant]:
    store = MemoryStore()
    acme = store.add_tenant(Tenant(slug="acme", name="Acme"))
    other = store.add_tenant(Tenant(slug="other"))
    return store, acme, other


def _cred(tenant_id: str, token: str = "tok-1", version: int = 1) -> Credential:
    return Credential(
        tenant_id=tenant_id, provider="github", access_token=SecretStr(token), version=version, expires_at=None
    )


def _pending(state: str, *, expires_in: float = 600.0) -> PendingAuthorization:
    now = time.time()
    return PendingAuthorization(
        state=state,
        tenant_id="t",
        provider="github",
        connector_id=None,
        code_verifier="v" * 64,
        redirect_uri="https://app.example/cb",
        scopes=("repo",),
        expires_at=now + expires_in,
        created_at=now,
    )


def test_satisfies_the_protocol() -> None:
    assert isinstance(MemoryStore(), TenantStore)


async def test_tenants_by_slug_and_unique_slugs() -> None:
    store, acme, _ = _store()
    assert await store.get_tenant("acme") == acme
    assert await store.get_tenant("nope") is None
    assert await store.get_tenant_by_id(acme.id) == acme
    with pytest.raises(StoreError):
        store.add_tenant(Tenant(slug="acme"))
    renamed = store.add_tenant(acme.model_copy(update={"name": "Acme Inc"}))
    assert (await store.get_tenant("acme")) == renamed


async def test_connector_lookup_by_id_or_name_never_crosses_tenants() -> None:
    store, acme, other = _store()
    mine = store.add_connector(ConnectorConfig(tenant_id=acme.id, connector_type="github", name="gh"))
    theirs = store.add_connector(ConnectorConfig(tenant_id=other.id, connector_type="github", name="gh2"))
    assert await store.get_connector(acme.id, mine.id) == mine
    assert await store.get_connector(acme.id, "gh") == mine
    assert await store.get_connector(acme.id, theirs.id) is None
    assert await store.get_connector(acme.id, "gh2") is None
    assert await store.get_connector(other.id, mine.id) is None
    assert await store.list_connectors(acme.id) == [mine]


def test_connector_names_unique_per_tenant_and_tenant_required() -> None:
    store, acme, other = _store()
    store.add_connector(ConnectorConfig(tenant_id=acme.id, connector_type="github", name="gh"))
    with pytest.raises(StoreError):
        store.add_connector(ConnectorConfig(tenant_id=acme.id, connector_type="slack", name="gh"))
    store.add_connector(ConnectorConfig(tenant_id=other.id, connector_type="github", name="gh"))
    with pytest.raises(TenantNotFound):
        store.add_connector(ConnectorConfig(tenant_id="missing", connector_type="github", name="gh"))


async def test_a_connectors_discovery_setting_is_kept_and_bumps_the_generation() -> None:
    store, acme, other = _store()
    cfg = store.add_connector(ConnectorConfig(tenant_id=acme.id, connector_type="github", name="gh"))
    assert (cfg.discovery, cfg.pinned_tools) == (False, [])
    before = await store.tenant_generation(acme.id)
    untouched = await store.tenant_generation(other.id)
    store.add_connector(cfg.model_copy(update={"discovery": True, "pinned_tools": ["github_get_issue"]}))
    stored = await store.get_connector(acme.id, "gh")
    assert stored is not None and (stored.discovery, stored.pinned_tools) == (True, ["github_get_issue"])
    assert before is not None and await store.tenant_generation(acme.id) == before + 1
    assert await store.tenant_generation(other.id) == untouched
    with pytest.raises(ValidationError):
        ConnectorConfig(tenant_id=acme.id, connector_type="github", name="gh", pinned_tools=["x"] * 21)


async def test_put_credential_bumps_versions_even_after_delete() -> None:
    store, acme, _ = _store()
    first = store.put_credential(_cred(acme.id, "a"))
    assert first.version == 1
    second = store.put_credential(_cred(acme.id, "b"))
    assert second.version == 2
    assert store.delete_credential(acme.id, "github")
    assert not store.delete_credential(acme.id, "github")
    assert await store.get_credential(acme.id, "github") is None
    third = store.put_credential(_cred(acme.id, "c"))
    assert third.version == 3
    assert not await store.swap_credential(1, _cred(acme.id, "stale", version=2))
    assert (await store.get_credential(acme.id, "github")) == third


async def test_swap_credential_is_compare_and_swap() -> None:
    store, acme, other = _store()
    store.put_credential(_cred(acme.id))
    assert await store.swap_credential(1, _cred(acme.id, "new", version=2))
    assert not await store.swap_credential(1, _cred(acme.id, "late", version=2))
    current = await store.get_credential(acme.id, "github")
    assert current is not None
    assert current.access_token.get_secret_value() == "new"
    with pytest.raises(ValueError):
        await store.swap_credential(2, _cred(acme.id, "jump", version=5))
    assert not await store.swap_credential(0, _cred(other.id, "none", version=1))
    assert await store.get_credential(other.id, "github") is None


async def test_lock_credential_excludes_and_yields_the_latest() -> None:
    store, acme, _ = _store()
    store.put_credential(_cred(acme.id))
    order: list[str] = []
    inside = anyio.Event()

    async def first() -> None:
        async with store.lock_credential(acme.id, "github") as cred:
            assert cred is not None
            assert cred.version == 1
            order.append("first in")
            inside.set()
            await anyio.sleep(0.05)
            assert await store.swap_credential(1, _cred(acme.id, "new", version=2))
            order.append("first out")

    async def second() -> None:
        await inside.wait()
        async with store.lock_credential(acme.id, "github") as cred:
            order.append("second in")
            assert cred is not None
            assert cred.version == 2

    async with anyio.create_task_group() as tg:
        tg.start_soon(first)
        tg.start_soon(second)
    assert order == ["first in", "first out", "second in"]


async def test_lock_is_per_tenant_and_provider() -> None:
    store, acme, other = _store()
    async with store.lock_credential(acme.id, "github") as cred:
        assert cred is None
        with anyio.fail_after(1):
            async with store.lock_credential(other.id, "github"):
                pass
            async with store.lock_credential(acme.id, "slack"):
                pass


async def test_oauth_apps() -> None:
    store, acme, other = _store()
    app = store.put_oauth_app(OAuthApp(tenant_id=acme.id, provider="github", client_id="cid"))
    assert await store.get_oauth_app(acme.id, "github") == app
    assert await store.get_oauth_app(other.id, "github") is None
    with pytest.raises(TenantNotFound):
        store.put_oauth_app(OAuthApp(tenant_id="missing", provider="github", client_id="cid"))


async def test_api_keys_store_only_the_hash_and_verify() -> None:
    store, acme, _ = _store()
    raw, record = store.create_api_key(acme.id, name="ci", scopes={"mcp", "admin"})
    assert raw not in record.model_dump_json()
    assert record.prefix == raw[:12]
    principal = await store.verify_api_key(raw)
    assert principal is not None
    assert (principal.id, principal.kind, principal.tenant_id) == (record.id, "api_key", acme.id)
    assert principal.scopes == frozenset({"mcp", "admin"})
    assert principal.name == "ci"
    assert await store.verify_api_key(raw + "x") is None
    assert await store.verify_api_key("") is None
    assert store.list_api_keys(acme.id) == [record]


async def test_revoked_key_is_refused() -> None:
    store, acme, _ = _store()
    raw, record = store.create_api_key(acme.id)
    assert store.revoke_api_key(record.id)
    assert await store.verify_api_key(raw) is None
    assert not store.revoke_api_key("unknown")
    assert store.list_api_keys(acme.id)[0].revoked


async def test_platform_admin_and_connector_scoped_keys() -> None:
    store, acme, other = _store()
    raw, _ = store.create_api_key(None, platform_admin=True)
    admin = await store.verify_api_key(raw)
    assert admin is not None
    assert admin.kind == "platform_admin"
    assert admin.tenant_id is None
    assert admin.can_use(other.id)

    cfg = store.add_connector(ConnectorConfig(tenant_id=acme.id, connector_type="github", name="gh"))
    raw2, _ = store.create_api_key(acme.id, connector_id=cfg.id)
    scoped = await store.verify_api_key(raw2)
    assert scoped is not None
    assert scoped.connector_id == cfg.id
    assert scoped.can_use(acme.id, [cfg.id])
    assert not scoped.can_use(acme.id, ["another"])
    assert not scoped.can_use(other.id)

    theirs = store.add_connector(ConnectorConfig(tenant_id=other.id, connector_type="github", name="gh"))
    with pytest.raises(ConnectorNotFound):
        store.create_api_key(acme.id, connector_id=theirs.id)
    with pytest.raises(ValueError):
        store.create_api_key(None)
    with pytest.raises(ValueError):
        store.create_api_key(acme.id, platform_admin=True)
    with pytest.raises(TenantNotFound):
        store.create_api_key("missing")


async def test_audit_events_newest_first_per_tenant_and_capped() -> None:
    store = MemoryStore(audit_limit=3)
    for i in range(5):
        await store.record_audit(
            AuditEvent(
                tenant_id="t1",
                connector_id="c",
                connector_type="github",
                tool=f"tool_{i}",
                principal_id="p",
                outcome="ok",
                duration_ms=1.0,
                request_id=str(i),
            )
        )
    events = store.audit_events("t1")
    assert [e.tool for e in events] == ["tool_4", "tool_3", "tool_2"]
    assert store.audit_events("t2") == []


def test_oauth_state_is_single_use() -> None:
    store = MemoryStore()
    pending = _pending("s1")
    store.save_oauth_state(pending)
    assert store.take_oauth_state("s1") == pending
    assert store.take_oauth_state("s1") is None
    assert store.take_oauth_state("never-saved") is None


def test_oauth_state_values_are_unique_and_expired_ones_are_dropped() -> None:
    store = MemoryStore()
    store.save_oauth_state(_pending("old", expires_in=-1))
    store.save_oauth_state(_pending("s1"))
    with pytest.raises(StoreError):
        store.save_oauth_state(_pending("s1"))
    assert store.take_oauth_state("old") is None


async def test_concurrent_takes_get_the_state_once() -> None:
    store = MemoryStore()
    store.save_oauth_state(_pending("s1"))
    results: list[PendingAuthorization | None] = []

    async def take() -> None:
        await anyio.sleep(0)
        results.append(store.take_oauth_state("s1"))

    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(take)
    assert sum(r is not None for r in results) == 1
