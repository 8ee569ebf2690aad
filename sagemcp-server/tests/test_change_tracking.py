"""Tenant generations: every change to a tenant, its connectors or credentials bumps it in the same
transaction, and a second replica revalidates its cached view with one query instead of reloading."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
from conftest import Server, mcp_call, running
from helpers import FakeProvider
from sqlalchemy import event

from sagemcp import Credential
from sagemcp.platform import ChangeTracking, ConnectorRegistry
from sagemcp_server.settings import Settings

BASE = "/api/v1/admin/tenants/acme"


async def _generation(server: Server) -> int:
    store = server.services.store
    tenant = await store.get_tenant("acme")
    generation = await store.tenant_generation(tenant.id)
    assert generation == tenant.generation
    return int(generation)


async def test_every_change_to_what_a_view_holds_bumps_the_generation(server: Server) -> None:
    assert isinstance(server.services.store, ChangeTracking)
    await server.tenant("acme")
    seen = [await _generation(server)]

    async def changed(response: Any, status: int) -> None:
        assert response.status_code == status, response.text
        seen.append(await _generation(server))
        assert seen[-1] > seen[-2], f"no bump after {response.request.method} {response.request.url.path}"

    await changed(await server.admin.post(f"{BASE}/connectors", json={"connector_type": "demo", "name": "d"}), 201)
    await changed(await server.admin.patch(f"{BASE}/connectors/d", json={"enabled": False}), 200)
    await changed(await server.admin.put(f"{BASE}/credentials/tokenonly", json={"token": "pat-1"}), 200)
    await changed(await server.admin.delete(f"{BASE}/credentials/tokenonly"), 204)
    await changed(await server.admin.patch(BASE, json={"active": False}), 200)
    await changed(await server.admin.delete(f"{BASE}/connectors/d"), 204)

    store = server.services.store
    tenant = await store.get_tenant("acme")
    cred = await store.put_credential(Credential(tenant_id=tenant.id, provider="fake", access_token="a"))
    before = await _generation(server)
    assert await store.swap_credential(cred.version, cred.model_copy(update={"version": cred.version + 1}))
    assert await _generation(server) == before + 1
    assert not await store.swap_credential(cred.version, cred.model_copy(update={"version": cred.version + 1}))
    assert await _generation(server) == before + 1  # a lost compare-and-swap changes nothing

    # API keys and OAuth apps are not part of a tenant's view.
    before = await _generation(server)
    await server.key("acme", ["mcp"])
    r = await server.admin.put(f"{BASE}/oauth-apps/fake", json={"client_id": "c", "client_secret": "s"})
    assert r.status_code == 200
    assert await _generation(server) == before


@contextmanager
def statements(server: Server) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engine = server.services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def _whoami(server: Server, key: str) -> dict[str, Any]:
    async with server.client(key) as client:
        r = await mcp_call(client, "/api/v1/acme/connectors/tok/mcp", "tools/call", {"name": "tokenonly_whoami"})
    assert r.status_code == 200, r.text
    return dict(r.json()["result"])


async def test_a_second_replica_revalidates_with_one_query_and_sees_changes(
    settings: Settings, registry: ConnectorRegistry, provider: FakeProvider
) -> None:
    ttl = 0.2
    settings = settings.model_copy(update={"cache_ttl": ttl})
    async with running(settings, registry, provider) as a, running(settings, registry, provider) as b:
        await a.tenant("acme")
        await a.connector("acme", "tokenonly", name="tok")
        r = await a.admin.put(f"{BASE}/credentials/tokenonly", json={"token": "pat-one"})
        assert r.status_code == 200
        key = await a.key("acme", ["mcp"])
        first = await _whoami(b, key)
        assert first["structuredContent"] == {"login": "token-user"}

        await anyio.sleep(ttl * 1.5)
        with statements(b) as seen:
            await _whoami(b, key)
        about_tenants = [s for s in seen if "tenants" in s]
        assert len(about_tenants) == 1 and "generation" in about_tenants[0], seen
        assert not [s for s in seen if "connectors" in s or "credentials" in s], seen

        # A change made through replica A reaches replica B within the TTL.
        r = await a.admin.patch(f"{BASE}/connectors/tok", json={"tool_policy": {"exclude_tools": ["tokenonly_whoami"]}})
        assert r.status_code == 200
        await anyio.sleep(ttl * 1.5)
        refused = await _whoami(b, key)
        assert refused.get("isError") is True and "disabled" in refused["content"][0]["text"]
