"""The soak against the reference server, CI-sized: a few seconds of `python -m tests.soak --server reference`
(the real `sagemcp serve` process, provisioned through the admin API, on SQLite and, with
SAGEMCP_TEST_POSTGRES_URL, on a throwaway PostgreSQL database), so that the mode cannot rot; and the
defect the full soak found in legacy SSE behind the reference server's `/api/v1` mount.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sagemcp.platform import ConnectorRegistry, SecretBox

from . import _clients as c
from ._support import LEDGER, serve

pytest.importorskip("sagemcp_server", reason="the soak's reference mode runs the reference server")
pytest.importorskip("sagemcp_github", reason="the soak's reference mode calls the GitHub connector")

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_ENV = "SAGEMCP_TEST_POSTGRES_URL"


def _databases(url: str) -> set[str]:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    async def names() -> set[str]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(text("SELECT datname FROM pg_database"))
                return {r[0] for r in rows}
        finally:
            await engine.dispose()

    return asyncio.run(names())


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_the_soak_runs_against_the_reference_server(backend: str, tmp_path: Path) -> None:
    report_path = tmp_path / "soak.json"
    command = [sys.executable, "-m", "tests.soak", "--server", "reference", "--duration", "6", "--measure", "2"]
    command += ["--tenants", "3", "--rate", "0.4", "--report", str(report_path)]  # headroom on a shared machine
    url = os.environ.get(POSTGRES_ENV) if backend == "postgresql" else None
    if backend == "postgresql":
        if not url:
            pytest.skip(f"needs PostgreSQL: set {POSTGRES_ENV}")
        command += ["--database", url]
    env = {k: v for k, v in os.environ.items() if k != "SAGEMCP_SOAK"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    output = done.stdout[-4000:] + done.stderr[-4000:]
    assert done.returncode == 0, output
    report = json.loads(report_path.read_text())
    assert (report["server"], report["database"], report["tenants"]) == ("reference", backend, 3)
    assert report["unexpected"] == 0 and not report["broken"], output
    assert report["requests"] >= 30, report["requests"]
    assert {"modern tools/list", "modern tools/call", "stateful session"} <= set(report["kinds"]), report["kinds"]
    assert report["samples"] and report["rss_end_kb"] > 10_000 and report["fds_end"] > 0
    assert report["sessions_end"] == 0
    if url is not None:
        created = re.search(r"created the database (sagemcp_soak_[0-9a-f]+)", done.stdout)
        assert created, output
        assert created.group(1) not in _databases(url), "the throwaway database was not dropped"


def test_the_soak_checks_each_answer_against_its_tenant() -> None:
    """Meta-check: the reference profile refuses another tenant's issue, an error, and an invalid-argument
    answer where a real issue was due."""
    from tests import soak

    profile = soak.reference_profile({"tenant-0": "ghp_zero", "tenant-1": "ghp_one"}, tools=40)
    invalid, get_issue = profile.calls
    mine = {"structuredContent": {"title": soak.issue_title("ghp_zero")}}
    theirs = {"structuredContent": {"title": soak.issue_title("ghp_one")}}
    assert get_issue.check(mine, "tenant-0")
    assert not get_issue.check(theirs, "tenant-0")
    assert not get_issue.check({**mine, "isError": True}, "tenant-0")
    refusal = {"isError": True, "content": [{"type": "text", "text": "Invalid arguments: issue_number: >= 1"}]}
    assert invalid.check(refusal, "tenant-0") and not invalid.check(mine, "tenant-0")
    assert invalid.arguments["issue_number"] == 0 and get_issue.arguments["issue_number"] > 0


# -- legacy SSE behind the /api/v1 mount -----------------------------------------------------------------

ADMIN_KEY = LEDGER.secret("smcp_reliability-soak-admin-key-0123456789abcdefghijk")


@pytest.fixture
async def demo_tenant(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, str, str]]:
    from sagemcp_server.app import create_app
    from sagemcp_server.connectors.demo import DemoConnector
    from sagemcp_server.settings import Settings

    settings = Settings(
        host="127.0.0.1",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'sse.db'}",
        secret_keys=SecretBox.generate_key(),
        admin_key=ADMIN_KEY,
        mcp_stateful=True,
    )
    app = create_app(settings, registry=ConnectorRegistry([DemoConnector]))
    async with serve(app) as base, httpx.AsyncClient(base_url=base, timeout=10) as http:
        admin: dict[str, Any] = {"headers": {"Authorization": f"Bearer {ADMIN_KEY}"}}
        assert (await http.post("/api/v1/admin/tenants", json={"slug": "acme"}, **admin)).status_code == 201
        body = {"connector_type": "demo", "name": "demo"}
        assert (await http.post("/api/v1/admin/tenants/acme/connectors", json=body, **admin)).status_code == 201
        r = await http.post("/api/v1/admin/tenants/acme/api-keys", json={"scopes": ["mcp"]}, **admin)
        yield http, "/api/v1/acme/connectors/demo", LEDGER.secret(r.json()["key"])


async def test_legacy_sse_behind_the_api_mount_announces_a_reachable_endpoint(
    demo_tenant: tuple[httpx.AsyncClient, str, str],
) -> None:
    """Regression found by the reference soak: `GET /api/v1/acme/connectors/demo/sse` announced
    `/api/v1/api/v1/acme/connectors/demo/messages/?session_id=...`, where every POST got 404."""
    http, path, key = demo_tenant
    async with c.sse_session(http, path + "/sse", key) as sse:
        assert sse.status == 200 and sse.endpoint is not None
        assert httpx.URL(sse.endpoint).path == path + "/messages/", sse.endpoint
        init = await sse.handshake(key)
        assert init is not None and "result" in init
        status, reply = await sse.call("tools/call", {"name": "demo_echo", "arguments": {"text": "hi"}}, key)
        assert status == 202 and reply is not None and reply["result"]["content"][0]["text"] == "hi"
