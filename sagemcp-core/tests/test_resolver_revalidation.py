"""The resolver keeps an expired tenant view, and its credentials, when the store says nothing changed."""

from __future__ import annotations

from collections import Counter
from typing import Any

import anyio
import pytest

from sagemcp import Credential
from sagemcp.mcp._resolve import Resolver
from sagemcp.platform import (
    ChangeTracking,
    ConnectorConfig,
    ConnectorRegistry,
    CredentialManager,
    MemoryStore,
    OAuthFlows,
    Tenant,
)

from ._support import NotesConnector

TTL = 0.05


class CountingStore(MemoryStore):
    """A MemoryStore that counts the data-plane reads the resolver makes."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: Counter[str] = Counter()

    async def get_tenant(self, slug: str) -> Tenant | None:
        self.reads["get_tenant"] += 1
        return await super().get_tenant(slug)

    async def list_connectors(self, tenant_id: str) -> list[ConnectorConfig]:
        self.reads["list_connectors"] += 1
        return await super().list_connectors(tenant_id)

    async def get_credential(self, tenant_id: str, provider: str) -> Credential | None:
        self.reads["get_credential"] += 1
        return await super().get_credential(tenant_id, provider)

    async def tenant_generation(self, tenant_id: str) -> int | None:
        self.reads["tenant_generation"] += 1
        return await super().tenant_generation(tenant_id)


class UntrackedStore(CountingStore):
    """The same store without change tracking: views are loaded again after every expiry."""

    tenant_generation = None  # type: ignore[assignment]


def world(store: CountingStore) -> tuple[Resolver, Tenant]:
    tenant = store.add_tenant(Tenant(slug="acme"))
    store.add_connector(ConnectorConfig(tenant_id=tenant.id, connector_type="notes", name="notes"))
    store.put_credential(Credential(tenant_id=tenant.id, provider="notes", kind="bearer", access_token="tok-1"))
    resolver = Resolver(store, ConnectorRegistry([NotesConnector]), CredentialManager(store, OAuthFlows()), ttl=TTL)
    return resolver, tenant


async def call(resolver: Resolver) -> tuple[Any, Credential | None]:
    view = await resolver.view("acme")
    return view, await resolver.credential(view, view.target("notes"))


def test_memory_store_tracks_changes() -> None:
    assert isinstance(MemoryStore(), ChangeTracking)
    assert not isinstance(UntrackedStore(), ChangeTracking)


async def test_an_unchanged_tenant_is_revalidated_with_one_lookup() -> None:
    store = CountingStore()
    resolver, _ = world(store)
    view, cred = await call(resolver)
    assert store.reads == {"get_tenant": 1, "list_connectors": 1, "get_credential": 1}
    for _ in range(3):
        await anyio.sleep(TTL * 1.5)
        again, same = await call(resolver)
        assert again is view and same is cred
    assert store.reads == {"get_tenant": 1, "list_connectors": 1, "get_credential": 1, "tenant_generation": 3}


@pytest.mark.parametrize("change", ["connector", "credential", "tenant"])
async def test_a_change_in_the_store_is_seen_after_the_ttl(change: str) -> None:
    store = CountingStore()
    resolver, tenant = world(store)
    view, _ = await call(resolver)
    if change == "connector":
        store.add_connector(ConnectorConfig(tenant_id=tenant.id, connector_type="notes", name="notes-2"))
    elif change == "credential":
        store.put_credential(Credential(tenant_id=tenant.id, provider="notes", kind="bearer", access_token="tok-2"))
    else:
        store.add_tenant(tenant.model_copy(update={"active": False}))
    same_view, _ = await call(resolver)
    assert same_view is view  # within the TTL nothing is asked
    await anyio.sleep(TTL * 1.5)
    new_view, new_cred = await call(resolver)
    assert new_view is not view
    assert store.reads["get_tenant"] == 2 and store.reads["get_credential"] == 2
    if change == "connector":
        assert set(new_view.by_name) == {"notes", "notes-2"}
    elif change == "credential":
        assert new_cred is not None and new_cred.access_token.get_secret_value() == "tok-2"
    else:
        assert new_view.tenant.active is False


async def test_without_change_tracking_views_are_loaded_again() -> None:
    store = UntrackedStore()
    resolver, _ = world(store)
    view, _ = await call(resolver)
    await anyio.sleep(TTL * 1.5)
    again, _ = await call(resolver)
    assert again is not view
    assert store.reads == {"get_tenant": 2, "list_connectors": 2, "get_credential": 2}


async def test_invalidating_a_credential_drops_it_from_the_kept_view() -> None:
    store = CountingStore()
    resolver, tenant = world(store)
    view, _ = await call(resolver)
    resolver.invalidate_credential(tenant.id, "notes")
    again, _ = await call(resolver)
    assert again is view
    assert store.reads["get_credential"] == 2
