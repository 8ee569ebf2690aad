"""Host binding: a stored upstream token never leaves for a host it was not bound to.

A tenant `admin` key can change a connector's base URL, but not read the tenant's write-only tokens: were
the next tool call to carry the stored token to the new host, the key could read it there. The reference
server (SQLite, uvicorn on 127.0.0.1) binds each credential to the upstream origins of the tenant's
connectors when it is stored, and refuses to send it anywhere else until it is stored again or the
platform admin rebinds it.

Three fake GitHub APIs listen on 127.0.0.1 (a fourth origin names the first by another host name). A
random walk of host changes, credential stores, rebinds and tool calls through both MCP endpoints checks,
after every step, that every request any fake received carried only tokens bound to the origin it was
sent to, and that every refused call said which host the credential was issued for.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from sagemcp.platform import ConnectorRegistry, SecretBox

from . import _clients as c
from ._fake_upstream import FakeUpstream, behave
from ._support import LEDGER, ScanningApp, new_secret, serve

pytest.importorskip("sagemcp_server", reason="host binding is checked through the reference server's admin API")
github = pytest.importorskip("sagemcp_github", reason="the GitHub connector is the one with a configurable base URL")

ADMIN_KEY = LEDGER.secret("smcp_" + "hostbinding-admin-key-0123456789abcdefghijkl"[:43])
ME = {"login": "octocat", "id": 1, "type": "User"}


@dataclass
class Rig:
    http: httpx.AsyncClient
    fakes: dict[str, FakeUpstream]
    origins: dict[str, str]
    """Host name -> base URL: `a`, `b`, `c` are three fakes, `a-by-name` is the first one as `localhost`."""
    tenant_admin: str
    mcp: str
    bound: dict[str, set[str]] = field(default_factory=dict)
    """Token -> every origin it was ever bound to (stored for, or rebound to by the platform admin)."""
    refused: int = 0
    answered: int = 0

    async def admin(self, method: str, path: str, body: Any = None, *, key: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key or self.tenant_admin}"}
        return await self.http.request(method, "/api/v1/admin/tenants/acme" + path, json=body, headers=headers)

    def check_no_token_left_for_an_unbound_host(self) -> None:
        for fake in self.fakes.values():
            for seen in fake.seen:
                origin = "http://" + seen.headers["host"]
                assert seen.token is not None and origin in self.bound.get(seen.token, set()), (
                    f"a token bound to {sorted(self.bound.get(seen.token or '', set()))} reached {origin}"
                )


@pytest.fixture
async def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_new_leaks: None) -> AsyncIterator[Rig]:
    from sagemcp_server.app import create_app
    from sagemcp_server.settings import Settings

    monkeypatch.setenv("SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS", "1")  # the fakes listen on 127.0.0.1
    settings = Settings(
        host="127.0.0.1",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'binding.db'}",
        secret_keys=SecretBox.generate_key(),
        admin_key=ADMIN_KEY,
    )
    app = create_app(settings, registry=ConnectorRegistry([github.GitHubConnector]))
    async with (
        FakeUpstream(behave.json(200, ME)) as a,
        FakeUpstream(behave.json(200, ME)) as b,
        FakeUpstream(behave.json(200, ME)) as fake_c,
        serve(ScanningApp(app, "host-binding")) as base,
        httpx.AsyncClient(base_url=base, timeout=20) as http,
    ):
        platform = {"Authorization": f"Bearer {ADMIN_KEY}"}
        assert (await http.post("/api/v1/admin/tenants", json={"slug": "acme"}, headers=platform)).status_code == 201
        keys = "/api/v1/admin/tenants/acme/api-keys"
        tenant_admin = (await http.post(keys, json={"scopes": ["admin", "mcp"]}, headers=platform)).json()["key"]
        mcp = (await http.post(keys, json={"scopes": ["mcp"]}, headers=platform)).json()["key"]
        origins = {
            "a": f"http://127.0.0.1:{a.port}",
            "b": f"http://127.0.0.1:{b.port}",
            "c": f"http://127.0.0.1:{fake_c.port}",
            "a-by-name": f"http://localhost:{a.port}",
        }
        yield Rig(http, {"a": a, "b": b, "c": fake_c}, origins, LEDGER.secret(tenant_admin), LEDGER.secret(mcp))


async def create(rig: Rig, name: str, host: str) -> None:
    body = {
        "connector_type": "github",
        "name": name,
        "configuration": {"api_url": rig.origins[host]},
        "tool_policy": {"groups": ["context"]},
    }
    r = await rig.admin("POST", "/connectors", body)
    assert r.status_code == 201, r.text


async def store(rig: Rig, host: str) -> str:
    token = new_secret("at")
    r = await rig.admin("PUT", "/credentials/github", {"token": token})
    assert r.status_code == 200, r.text
    assert r.json()["origins"] == [rig.origins[host]]
    rig.bound.setdefault(token, set()).add(rig.origins[host])
    return token


async def get_me(rig: Rig, endpoint: str) -> c.Reply:
    reply = await c.call_modern(rig.http, endpoint, rig.mcp, "tools/call", {"name": "github_get_me"})
    assert reply.status == 200 and reply.result is not None, reply.text
    return reply


def text_of(reply: c.Reply) -> str:
    return " ".join(part.get("text", "") for part in reply.result.get("content", []))


async def test_a_host_change_by_a_tenant_admin_never_gets_the_token(rig: Rig) -> None:
    await create(rig, "gh", "a")
    token = await store(rig, "a")
    assert not (await get_me(rig, "/api/v1/acme/connectors/gh/mcp")).result["isError"]
    assert [s.token for s in rig.fakes["a"].seen] == [token]
    for host in ("b", "a-by-name"):  # another port, and the same socket by another name
        r = await rig.admin("PATCH", "/connectors/gh", {"configuration": {"api_url": rig.origins[host]}})
        assert r.status_code == 200, r.text
        for endpoint in ("/api/v1/acme/connectors/gh/mcp", "/api/v1/acme/mcp"):
            reply = await get_me(rig, endpoint)
            assert reply.result["isError"] is True
            assert (
                f"the stored github credential was issued for {rig.origins['a']}; store it again for "
                f"{rig.origins[host]}"
            ) in text_of(reply)
    assert len(rig.fakes["a"].seen) == 1 and rig.fakes["b"].seen == []
    # a second connector of the provider, on another host, gets nothing either
    await rig.admin("PATCH", "/connectors/gh", {"configuration": {"api_url": rig.origins["a"]}})
    await create(rig, "gh2", "c")
    assert (await get_me(rig, "/api/v1/acme/connectors/gh2/mcp")).result["isError"] is True
    assert rig.fakes["c"].seen == []
    assert not (await get_me(rig, "/api/v1/acme/connectors/gh/mcp")).result["isError"]
    rig.check_no_token_left_for_an_unbound_host()


async def test_storing_again_or_a_platform_rebind_moves_the_token(rig: Rig) -> None:
    await create(rig, "gh", "a")
    await store(rig, "a")
    await rig.admin("PATCH", "/connectors/gh", {"configuration": {"api_url": rig.origins["b"]}})
    refused = await rig.admin("POST", "/credentials/github/rebind")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "platform_admin_required"
    assert (await get_me(rig, "/api/v1/acme/mcp")).result["isError"] is True
    rebound = await rig.admin("POST", "/credentials/github/rebind", key=ADMIN_KEY)
    assert rebound.status_code == 200 and rebound.json()["origins"] == [rig.origins["b"]]
    for token in rig.bound:
        rig.bound[token].add(rig.origins["b"])
    assert not (await get_me(rig, "/api/v1/acme/mcp")).result["isError"]
    await rig.admin("PATCH", "/connectors/gh", {"configuration": {"api_url": rig.origins["c"]}})
    await store(rig, "c")
    assert not (await get_me(rig, "/api/v1/acme/mcp")).result["isError"]
    assert len(rig.fakes["b"].seen) == 1 and len(rig.fakes["c"].seen) == 1
    rig.check_no_token_left_for_an_unbound_host()


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_no_sequence_of_host_changes_and_stores_sends_a_token_to_an_unbound_host(rig: Rig, seed: int) -> None:
    """A random walk; the model: a call succeeds exactly when the connector's origin is the stored token's."""
    rng = random.Random(seed)
    host = "a"
    await create(rig, "gh", host)
    token: str | None = None
    current: set[str] = set()
    for _ in range(30):
        step = rng.choice(["move", "move", "store", "call", "call", "call", "rebind"])
        if step == "move":
            host = rng.choice(sorted(rig.origins))
            r = await rig.admin("PATCH", "/connectors/gh", {"configuration": {"api_url": rig.origins[host]}})
            assert r.status_code == 200, r.text
        elif step == "store":
            token = await store(rig, host)
            current = {rig.origins[host]}
        elif step == "rebind" and token is not None:
            r = await rig.admin("POST", "/credentials/github/rebind", key=ADMIN_KEY)
            assert r.status_code == 200 and r.json()["origins"] == [rig.origins[host]], r.text
            rig.bound[token].add(rig.origins[host])
            current = {rig.origins[host]}
        elif step == "call":
            endpoint = rng.choice(["/api/v1/acme/connectors/gh/mcp", "/api/v1/acme/mcp"])
            reply = await get_me(rig, endpoint)
            if token is not None and rig.origins[host] in current:
                assert not reply.result["isError"], text_of(reply)
                rig.answered += 1
            else:
                assert reply.result["isError"] is True
                if token is not None:
                    assert f"store it again for {rig.origins[host]}" in text_of(reply), text_of(reply)
                rig.refused += 1
        rig.check_no_token_left_for_an_unbound_host()
    sent = sum(len(f.seen) for f in rig.fakes.values())
    assert sent == rig.answered
