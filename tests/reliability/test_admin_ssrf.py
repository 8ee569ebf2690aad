"""SSRF through the admin API: a tenant cannot point a connector's upstream at internal addresses.

The reference server (`sagemcp_server.app.create_app`, SQLite in a temporary directory) is served by
uvicorn on 127.0.0.1; the GitHub connector's configuration is created and patched through the admin API.
Every hostile base URL is refused with a 4xx naming the problem, and nothing is stored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from sagemcp.platform import ConnectorRegistry, SecretBox

from ._support import serve

pytest.importorskip("sagemcp_server", reason="SSRF through the admin API needs the reference server")
github = pytest.importorskip("sagemcp_github", reason="the GitHub connector is the one with a configurable base URL")

ADMIN_KEY = "smcp_reliability-admin-key-0123456789abcdefghijklmnop"
HOSTILE = [
    "http://127.0.0.1:8000/api/v1/admin",
    "https://localhost./",
    "https://169.254.169.254/latest/meta-data",
    "https://0xa9fea9fe/",
    "https://10.0.0.7/api/v3",
    "https://[fd00::1]/api/v3",
    "file:///etc/passwd",
    "gopher://internal.example/",
    "https://ghe.example.com/api/%2e%2e/admin",
    "https://user:pw@ghe.example.com/api/v3",
    "https://127\u30020\u30020\u30021/",  # ideographic full stops: httpx sends 127.0.0.1
    "https://169\uff0e254\uff0e169\uff0e254/",  # full-width full stops
    "https://[::ffff:a9fe:a9fe]/",  # IPv4-mapped cloud metadata
    "https://[64:ff9b::a00:7]/api/v3",  # 10.0.0.7 through NAT64
]


@pytest.fixture(autouse=True)
def _production_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS", raising=False)


@pytest.fixture
async def admin(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    from sagemcp_server.app import create_app
    from sagemcp_server.settings import Settings

    settings = Settings(
        host="127.0.0.1",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'ssrf.db'}",
        secret_keys=SecretBox.generate_key(),
        admin_key=ADMIN_KEY,
    )
    app = create_app(settings, registry=ConnectorRegistry([github.GitHubConnector]))
    async with (
        serve(app) as base,
        httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=10) as client,
    ):
        created = await client.post("/api/v1/admin/tenants", json={"slug": "acme", "name": "Acme"})
        assert created.status_code == 201, created.text
        yield client


@pytest.mark.parametrize("url", HOSTILE)
async def test_hostile_base_urls_are_refused_on_create_and_update(admin: httpx.AsyncClient, url: str) -> None:
    connectors = "/api/v1/admin/tenants/acme/connectors"
    refused = await admin.post(
        connectors, json={"connector_type": "github", "name": "gh", "configuration": {"api_url": url}}
    )
    assert 400 <= refused.status_code < 500, refused.text
    assert "api_url" in refused.text
    assert (await admin.get(connectors)).json()["items"] == []

    ok = await admin.post(connectors, json={"connector_type": "github", "name": "gh"})
    assert ok.status_code == 201, ok.text
    connector_id = ok.json()["id"]
    patched = await admin.patch(f"{connectors}/{connector_id}", json={"configuration": {"api_url": url}})
    assert 400 <= patched.status_code < 500, patched.text
    stored = (await admin.get(f"{connectors}/{connector_id}")).json()
    assert stored["configuration"].get("api_url", "https://api.github.com") == "https://api.github.com"
