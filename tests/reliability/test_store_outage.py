"""The tenant store failing (a database outage, as core sees it): every transport answers a clear 503 or an
`isError` result, never a 500; warm caches keep serving; service resumes by itself when the store is back.
The same outage on a real PostgreSQL, through the reference server, is `test_database_faults.py`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from sagemcp import Credential
from sagemcp.errors import StoreError
from sagemcp.mcp import McpApp, McpSettings, create_mcp_app
from sagemcp.platform import ConnectorConfig, ConnectorRegistry, MemoryStore, Tenant, UpstreamClient

from . import _clients as c
from ._fake_upstream import FakeUpstream
from ._support import ScanningApp, make_probe_connector, new_secret, serve

PATH = "/acme/connectors/probe/mcp"
STORE_METHODS = (
    "get_tenant",
    "get_connector",
    "list_connectors",
    "get_credential",
    "swap_credential",
    "get_oauth_app",
    "verify_api_key",
    "record_audit",
)


class FlakyStore(MemoryStore):
    """A `MemoryStore` whose data-plane methods raise `StoreError` (as the SQL store's `DatabaseUnavailable`
    does) while `down` is set."""

    down = False

    def __getattribute__(self, name: str) -> Any:
        if name in STORE_METHODS and object.__getattribute__(self, "down"):

            async def unavailable(*args: Any, **kwargs: Any) -> Any:
                raise StoreError("the database is unavailable; try again shortly")

            return unavailable
        return super().__getattribute__(name)


@dataclass
class Rig:
    store: FlakyStore
    app: McpApp
    base: str
    http: httpx.AsyncClient
    key: str
    tenant_id: str

    async def call(self, tool: str = "probe_whoami") -> c.Reply:
        return await c.call_modern(self.http, self.base + PATH, self.key, "tools/call", {"name": tool, "arguments": {}})

    def cold(self) -> None:
        self.app.resolver.invalidate()
        self.app.authenticator.invalidate()  # type: ignore[attr-defined]


@pytest_asyncio.fixture
async def rig(no_new_leaks: None) -> AsyncIterator[Rig]:
    store = FlakyStore()
    async with FakeUpstream() as fake:
        tenant = store.add_tenant(Tenant(slug="acme"))
        store.add_connector(
            ConnectorConfig(
                tenant_id=tenant.id, connector_type="probe", name="probe", configuration={"upstream": fake.url}
            )
        )
        store.put_credential(
            Credential(tenant_id=tenant.id, provider="probe", kind="bearer", access_token=new_secret("at"))
        )
        key, _ = store.create_api_key(tenant.id)
        upstream = UpstreamClient(timeout=2)
        app = create_mcp_app(
            store, ConnectorRegistry([make_probe_connector()]), upstream=upstream, settings=McpSettings(cache_ttl=30)
        )
        async with serve(ScanningApp(app, "store-outage")) as base, httpx.AsyncClient(timeout=10) as http:
            yield Rig(store, app, base, http, key, tenant.id)
        await upstream.aclose()


async def test_warm_caches_keep_serving_through_an_outage(rig: Rig) -> None:
    assert not (await rig.call("probe_fetch")).result.get("isError")
    rig.store.down = True
    for _ in range(5):  # tenant, connector, key and credential all come from the caches: no store query
        reply = await rig.call("probe_fetch")
        assert reply.status == 200 and not reply.result.get("isError"), reply.text


async def test_a_cold_outage_is_a_503_on_every_http_transport_and_service_resumes(rig: Rig) -> None:
    rig.store.down = True
    rig.cold()
    assert (await rig.call()).status == 503
    assert (await c.call_handshake(rig.http, rig.base + PATH, rig.key, "tools/list", {})).status == 503
    async with c.sse_session(rig.http, rig.base + PATH.replace("/mcp", "/sse"), rig.key) as sse:
        assert sse.status == 503
    rig.store.down = False
    reply = await rig.call()
    assert reply.status == 200 and not reply.result.get("isError"), reply.text


async def test_an_outage_after_admission_is_a_clear_tool_error(rig: Rig) -> None:
    """Admitted from the caches, but the credential is not cached: the tool says the database is unavailable."""
    assert (await rig.call()).status == 200
    rig.app.resolver.invalidate_credential(rig.tenant_id, "probe")
    rig.store.down = True
    reply = await rig.call()
    assert reply.status == 200 and reply.result["isError"], reply.text
    assert "database is unavailable" in reply.result["content"][0]["text"]


async def test_regression_a_store_outage_during_authentication_is_not_reported_as_one(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """Regression, fixed (core, sagemcp.mcp._app.McpApp._admit): `authenticator.authenticate()` runs outside the
    try/except that turns a `SageMCPError` from the store into "503: cannot reach its store". A store
    failure while verifying the key escapes to `_Endpoint`, which answers the generic "cannot serve this
    request right now" and logs an ERROR with a full traceback for every request of the outage."""
    rig.store.down = True
    rig.cold()
    caplog.set_level(logging.ERROR, "sagemcp.mcp")
    reply = await rig.call()
    assert reply.status == 503
    tracebacks = [r for r in caplog.records if r.name == "sagemcp.mcp" and r.exc_info]
    assert "cannot reach its store" in reply.text, reply.text
    assert tracebacks == [], "an expected outage logs an ERROR traceback per request"


async def test_regression_a_websocket_upgrade_during_a_store_outage_is_a_500(rig: Rig) -> None:
    """Regression, fixed (core, sagemcp.mcp._app.McpApp._websocket): `_admit()` is awaited without any exception
    handling, so the store's error escapes the ASGI app and uvicorn answers the upgrade with HTTP 500."""
    rig.store.down = True
    rig.cold()
    status = await c.ws_status(rig.base, PATH.replace("/mcp", "/ws"), rig.key)
    assert status != 500, "WebSocket upgrade answered 500 during a store outage"
    rig.store.down = False
    assert await c.ws_status(rig.base, PATH.replace("/mcp", "/ws"), rig.key) == 101
