"""Key escalation through the reference server's admin API, property-based: chains of keys creating keys never
end with more rights than they started with. Each example starts from a tenant's keys (the platform admin, tenant
keys with `admin`, `mcp` or both, one limited to a connector, one with `admin` limited to a connector as stored
before such keys were refused) and lets random keys of the growing pool create keys with random scopes and
connector limits. The oracle: only the platform key and tenant-wide `admin` keys manage a tenant; a key gives at
most the scopes it has; `admin` never goes with a connector limit. Every created key is then used: its MCP reach
and its admin reach must be what its record says, never more."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from hypothesis import given, settings
from hypothesis import strategies as st

from sagemcp.platform import ConnectorRegistry, SecretBox

from . import _clients as c
from ._support import LEDGER, ScanningApp, serve

server_app = pytest.importorskip("sagemcp_server.app", reason="these tests run the reference server")
from sagemcp_server.connectors.demo import DemoConnector  # noqa: E402
from sagemcp_server.settings import Settings  # noqa: E402

pytestmark = pytest.mark.asyncio(loop_scope="module")

ADMIN_KEY = LEDGER.secret("smcp_" + "e" * 43)
_tenants = itertools.count()


@dataclass
class Key:
    raw: str
    scopes: frozenset[str]
    connector: str | None = None
    """The connector id the key is limited to."""
    platform: bool = False

    @property
    def manages(self) -> bool:
        return self.platform or ("admin" in self.scopes and self.connector is None)


@dataclass
class Tenant:
    slug: str
    connectors: list[str]
    keys: list[Key] = field(default_factory=list)


@dataclass
class Rig:
    http: httpx.AsyncClient
    store: object


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rig(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rig]:
    path = Path(tmp_path_factory.mktemp("escalation")) / "sagemcp.db"
    config = Settings(
        database_url=f"sqlite+aiosqlite:///{path}",
        secret_keys=SecretBox.generate_key(),
        admin_key=ADMIN_KEY,
        cache_ttl=0,
    )
    app = server_app.create_app(config, registry=ConnectorRegistry([DemoConnector]))
    async with serve(ScanningApp(app, "escalation")) as base, httpx.AsyncClient(base_url=base, timeout=20) as http:
        yield Rig(http, app.state.services.store)


def auth(key: Key) -> dict[str, str]:
    return {"Authorization": f"Bearer {key.raw}"}


async def new_tenant(rig: Rig) -> Tenant:
    platform = Key(ADMIN_KEY, frozenset({"admin", "mcp"}), platform=True)
    slug = f"esc-{next(_tenants)}"
    r = await rig.http.post("/api/v1/admin/tenants", json={"slug": slug}, headers=auth(platform))
    assert r.status_code == 201, r.text
    tenant_id = r.json()["id"]
    ids = []
    for name in ("one", "two"):
        body = {"connector_type": "demo", "name": name}
        r = await rig.http.post(f"/api/v1/admin/tenants/{slug}/connectors", json=body, headers=auth(platform))
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    tenant = Tenant(slug, ids, [platform])
    for scopes, connector in ((["admin"], None), (["mcp"], None), (["admin", "mcp"], None), (["mcp"], ids[0])):
        body = {"scopes": scopes, "connector_id": connector}
        r = await rig.http.post(f"/api/v1/admin/tenants/{slug}/api-keys", json=body, headers=auth(platform))
        assert r.status_code == 201, r.text
        tenant.keys.append(Key(LEDGER.secret(r.json()["key"]), frozenset(scopes), connector))
    raw, _ = await rig.store.create_api_key(  # type: ignore[attr-defined]
        tenant_id, name="stored before the rule", scopes={"admin", "mcp"}, connector_id=ids[0]
    )
    tenant.keys.append(Key(LEDGER.secret(raw), frozenset({"admin", "mcp"}), ids[0]))
    return tenant


def expected(creator: Key, scopes: frozenset[str], connector: str | None, known: bool) -> int:
    if not creator.manages:
        return 403
    if connector is not None and "admin" in scopes:
        return 422
    if not creator.platform and not scopes <= creator.scopes:
        return 403
    if connector is not None and not known:
        return 422
    return 201


async def reach(rig: Rig, tenant: Tenant, key: Key) -> tuple[bool, set[str]]:
    """Whether `key` may manage the tenant, and the connectors it may call tools on."""
    r = await rig.http.get(f"/api/v1/admin/tenants/{tenant.slug}/api-keys", headers=auth(key))
    assert r.status_code in (200, 403), r.text
    usable = set()
    for connector in tenant.connectors:
        reply = await c.call_modern(
            rig.http, f"/api/v1/{tenant.slug}/connectors/{connector}/mcp", key.raw, "tools/list"
        )
        assert reply.status in (200, 403, 404), reply.text
        if reply.status == 200 and reply.result is not None:
            usable.add(connector)
    return r.status_code == 200, usable


SCOPES = st.sampled_from([frozenset({"admin"}), frozenset({"mcp"}), frozenset({"admin", "mcp"})])


@settings(max_examples=25, deadline=None)
@given(data=st.data())
async def test_regression_no_chain_of_keys_gains_rights(rig: Rig, data: st.DataObject) -> None:
    tenant = await new_tenant(rig)
    for _ in range(data.draw(st.integers(2, 6), label="creations")):
        creator = data.draw(st.sampled_from(tenant.keys), label="creator")
        scopes = data.draw(SCOPES, label="scopes")
        choice = data.draw(st.sampled_from(["none", "none", "one", "two", "unknown"]), label="connector")
        connector = {"none": None, "one": tenant.connectors[0], "two": tenant.connectors[1]}.get(choice, "nope")
        body = {"scopes": sorted(scopes), "connector_id": connector}
        r = await rig.http.post(f"/api/v1/admin/tenants/{tenant.slug}/api-keys", json=body, headers=auth(creator))
        want = expected(creator, scopes, connector, known=choice != "unknown")
        assert r.status_code == want, (creator, body, r.status_code, r.text)
        if r.status_code != 201:
            continue
        made = r.json()
        key = Key(LEDGER.secret(made["key"]), frozenset(made["scopes"]), made["connector_id"])
        assert key.scopes == scopes and key.connector == connector
        assert creator.platform or key.scopes <= creator.scopes  # never more than its creator
        assert not ("admin" in key.scopes and key.connector is not None)
        tenant.keys.append(key)
    for key in tenant.keys:
        manages, usable = await reach(rig, tenant, key)
        assert manages == key.manages, key
        if "mcp" not in key.scopes:
            assert usable == set(), key
        elif key.connector is not None:
            assert usable == {key.connector}, key
        else:
            assert usable == set(tenant.connectors), key
