"""Label cardinality of `/metrics`, property-based, against the reference server over real HTTP: random HTTP
method tokens, paths (under every prefix the server routes), tool names, connector references, tenants and
WebSocket paths never add label values outside the fixed sets (standard methods and `other`, route templates and
`unmatched`, the installed connectors' tools, types and providers and `unknown`, three-digit statuses), and the
number of series stays bounded however many distinct values clients send."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from hypothesis import given, settings
from hypothesis import strategies as st

from sagemcp.platform import ConnectorRegistry, SecretBox

from . import _clients as c
from ._support import LEDGER, ScanningApp, make_probe_connector, serve

server_app = pytest.importorskip("sagemcp_server.app", reason="these tests run the reference server")
from sagemcp_server.connectors.demo import DemoConnector  # noqa: E402
from sagemcp_server.metrics import HTTP_METHODS  # noqa: E402
from sagemcp_server.settings import Settings  # noqa: E402

pytestmark = pytest.mark.asyncio(loop_scope="module")

ADMIN_KEY = LEDGER.secret("smcp_" + "m" * 43)
_SAMPLE = re.compile(r"^(sagemcp_[a-z_]+?)(_bucket|_count|_sum|_created|_total)?\{(.*)\} ")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


@dataclass
class Rig:
    base: str
    http: httpx.AsyncClient
    key: str
    routes: frozenset[str]
    tools: frozenset[str]
    kinds: frozenset[str]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rig(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rig]:
    path = Path(tmp_path_factory.mktemp("cardinality")) / "sagemcp.db"
    config = Settings(
        database_url=f"sqlite+aiosqlite:///{path}", secret_keys=SecretBox.generate_key(), admin_key=ADMIN_KEY
    )
    registry = ConnectorRegistry([DemoConnector, make_probe_connector()])
    app = server_app.create_app(config, registry=registry)
    metrics = app.state.services.metrics
    async with serve(ScanningApp(app, "cardinality")) as base, httpx.AsyncClient(base_url=base, timeout=20) as http:
        admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
        assert (await http.post("/api/v1/admin/tenants", json={"slug": "acme"}, headers=admin)).status_code == 201
        body = {"connector_type": "demo", "name": "demo"}
        assert (await http.post("/api/v1/admin/tenants/acme/connectors", json=body, headers=admin)).status_code == 201
        r = await http.post("/api/v1/admin/tenants/acme/api-keys", json={"scopes": ["mcp"]}, headers=admin)
        key = LEDGER.secret(r.json()["key"])
        yield Rig(
            base,
            http,
            key,
            metrics.routes.values,
            metrics.tools.values,
            metrics.connector_types.values,
        )


def series(text: str) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    found = set()
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match:
            labels = tuple(sorted((k, v) for k, v in _LABEL.findall(match.group(3)) if k != "le"))
            found.add((match.group(1), labels))
    return found


def check_labels(rig: Rig, found: set[tuple[str, tuple[tuple[str, str], ...]]]) -> None:
    allowed = {
        "method": HTTP_METHODS | {"WS", "other"},
        "route": rig.routes | {"unmatched"},
        "tool": rig.tools | {"unknown"},
        "connector_type": rig.kinds | {"unknown"},
        "provider": rig.kinds | {"unknown"},
        "outcome": {"ok", "error", "denied", "invalid", "upstream_error", "other", "failed"},
    }
    for name, labels in found:
        for key, value in labels:
            if key in allowed:
                assert value in allowed[key], (name, key, value)
            if key == "status":
                assert value in ("none", "other") or 100 <= int(value) <= 599, (name, value)


TOKEN = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~", min_size=1, max_size=24
)
SEGMENT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.~%", min_size=1, max_size=16)
PREFIXES = [
    "",
    "/api/v1",
    "/api/v1/admin",
    "/api/v1/admin/tenants/acme",
    "/api/v1/oauth",
    "/api/v1/acme",
    "/api/v1/acme/connectors",
    "/metrics",
    "/healthz",
]


@settings(max_examples=40, deadline=None)
@given(
    methods=st.lists(TOKEN, min_size=1, max_size=4),
    paths=st.lists(st.tuples(st.sampled_from(PREFIXES), st.lists(SEGMENT, max_size=3)), min_size=1, max_size=4),
    tools=st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=3),
    connectors=st.lists(SEGMENT, min_size=1, max_size=2),
)
async def test_random_input_never_adds_label_values(
    rig: Rig, methods: list[str], paths: list[tuple[str, list[str]]], tools: list[str], connectors: list[str]
) -> None:
    for method in methods:
        for prefix, segments in paths:
            path = prefix + "".join("/" + s for s in segments) or "/"
            await rig.http.request(method, path)
            headers = {"Authorization": f"Bearer {rig.key}", "Accept": c.ACCEPT, "MCP-Protocol-Version": c.HANDSHAKE}
            await rig.http.request(method, path, headers=headers)
    for tool in tools:
        params = {"name": tool, "arguments": {}}
        await c.call_modern(rig.http, "/api/v1/acme/mcp", rig.key, "tools/call", params)
        for ref in connectors:
            await c.call_modern(rig.http, f"/api/v1/acme/connectors/{ref}/mcp", rig.key, "tools/call", params)
            await c.call_modern(rig.http, f"/api/v1/{ref}/mcp", rig.key, "tools/list")
    check_labels(rig, series((await rig.http.get("/metrics")).text))


async def test_regression_distinct_methods_paths_and_tools_made_new_series(rig: Rig) -> None:
    before = len(series((await rig.http.get("/metrics")).text))
    for i in range(400):
        await rig.http.request(f"M{i}", f"/api/v1/acme/x{i}")
        await rig.http.request(f"N{i}", f"/z/{i}")
        await c.call_modern(rig.http, "/api/v1/acme/mcp", rig.key, "tools/call", {"name": f"t{i}", "arguments": {}})
    found = series((await rig.http.get("/metrics")).text)
    check_labels(rig, found)
    assert len(found) - before < 20, (before, len(found))
