"""Two server processes on one PostgreSQL: concurrent calls with an expired token cause exactly one refresh."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from conftest import ADMIN_KEY, MCP_HEADERS, Database
from helpers import CLIENT_ID, CLIENT_SECRET, FakeProvider
from procs import clean_env, free_port, start, stop, wait_ready
from pydantic import SecretStr

from sagemcp import Credential
from sagemcp.platform import ConnectorConfig, OAuthApp, SecretBox
from sagemcp_server.db import SqlStore, create_engine

pytestmark = pytest.mark.e2e


class ThreadServer:
    def __init__(self, app, port: int) -> None:
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


async def test_one_refresh_across_two_processes(database: Database, secret_key: str, tmp_path: Path) -> None:
    if database.backend != "postgres":
        pytest.skip("refresh across processes relies on PostgreSQL row locks; SQLite is single-process")
    provider = FakeProvider(refresh_delay=0.5)
    fake_port = free_port()
    # the expired credential, with a refresh token the provider knows
    store = SqlStore(create_engine(database.url, schema=database.schema), SecretBox([secret_key]))
    tenant = (await store.create_tenant("acme")).item
    await store.add_connector(ConnectorConfig(tenant_id=tenant.id, connector_type="fake", name="fake"))
    await store.put_oauth_app(
        OAuthApp(tenant_id=tenant.id, provider="fake", client_id=CLIENT_ID, client_secret=SecretStr(CLIENT_SECRET))
    )
    provider.refresh_tokens["fake-rt-initial"] = "octocat"
    await store.put_credential(
        Credential(
            tenant_id=tenant.id,
            provider="fake",
            access_token=SecretStr("fake-at-old"),
            refresh_token=SecretStr("fake-rt-initial"),
            expires_at=time.time() - 60,
        )
    )
    key, _ = await store.create_api_key(tenant.id, scopes={"mcp"})
    await store.close()

    env = clean_env(
        SAGEMCP_DATABASE_URL=database.url,
        SAGEMCP_DATABASE_SCHEMA=database.schema or "",
        SAGEMCP_SECRET_KEYS=secret_key,
        SAGEMCP_ADMIN_KEY=ADMIN_KEY,
        SAGEMCP_TEST_FAKE_BASE=f"http://127.0.0.1:{fake_port}",
        SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS="1",  # the fake provider listens on 127.0.0.1
    )
    script = str(Path(__file__).parent / "serve_app.py")
    ports = [free_port(), free_port()]
    with ThreadServer(provider.app(), fake_port):
        procs = [start([script, str(p)], env, tmp_path, f"server{i}") for i, p in enumerate(ports)]
        try:
            for i, (port, proc) in enumerate(zip(ports, procs, strict=True)):
                wait_ready(port, proc, tmp_path, f"server{i}")
            body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "fake_whoami"}}
            headers = {**MCP_HEADERS, "Authorization": f"Bearer {key}"}
            async with httpx.AsyncClient(timeout=30) as client:
                calls = [
                    client.post(f"http://127.0.0.1:{port}/api/v1/acme/mcp", json=body, headers=headers)
                    for port in ports
                    for _ in range(5)
                ]
                responses = await asyncio.gather(*calls)
        finally:
            codes = [stop(p) for p in procs]
    for r in responses:
        assert r.status_code == 200, r.text
        assert r.json()["result"]["structuredContent"] == {"login": "octocat"}, r.text
    assert provider.refresh_count == 1
    assert all(c in (0, -15) for c in codes)
