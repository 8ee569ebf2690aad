"""Log redaction at DEBUG, against the reference server with its own logging (`configure_logging`, as
`sagemcp serve` sets it up) over every transport: stateless and stateful Streamable HTTP, legacy SSE and
WebSocket. Tool arguments carry an unrecognisable marker and secrets of every shape the connectors handle
(GitHub and Slack tokens, PEM keys, sagemcp keys); tenants store tokens of those shapes; wrong keys are sent.
Nothing of it may reach the log output: neither the SDK's message dumps nor the redactor's misses."""

from __future__ import annotations

import io
import logging
import secrets
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from sagemcp.platform import ConnectorRegistry, SecretBox

from . import _clients as c
from ._support import LEDGER, ScanningApp, make_probe_connector, serve

server_app = pytest.importorskip("sagemcp_server.app", reason="these tests run the reference server")
from sagemcp_server.logging import configure_logging  # noqa: E402
from sagemcp_server.settings import Settings  # noqa: E402

pytestmark = pytest.mark.asyncio(loop_scope="module")

ADMIN_KEY = LEDGER.secret("smcp_" + "r" * 43)


def shapes(*, register: bool) -> dict[str, str]:
    """Fresh secrets of every format the redactor must know; `register`: with the suite's ledger, which fails
    the session if they show up anywhere (not for values a tool echoes back on purpose)."""
    h = secrets.token_hex
    values = {
        "github classic": "ghp_" + h(18),
        "github oauth": "gho_" + h(18),
        "github app": "ghs_" + h(18),
        "github refresh": "ghr_" + h(30),
        "github fine-grained": f"github_pat_11{h(10).upper()}_{h(29)}",
        "slack bot": f"xoxb-{secrets.randbelow(10**11)}-{secrets.randbelow(10**11)}-{h(12)}",
        "slack user": f"xoxp-{secrets.randbelow(10**11)}-{secrets.randbelow(10**11)}-{h(16)}",
        "slack app": f"xapp-1-A{h(5).upper()}-{secrets.randbelow(10**13)}-{h(32)}",
        "slack refresh": f"xoxe-1-{h(24)}",
        "pem": "-----BEGIN PRIVATE KEY-----\n" + h(32) + "\n" + h(32) + "\n-----END PRIVATE KEY-----",
    }
    if register:
        for value in values.values():
            for line in value.splitlines():
                if "PRIVATE KEY" not in line:
                    LEDGER.secret(line)
    return values


@dataclass
class Rig:
    stateless: str
    stateful: str
    key: str
    logs: io.StringIO


@pytest.fixture(scope="module")
def server_logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    names = ("mcp", "sse_starlette", "httpx", "httpcore", "asyncio", "aiosqlite", "uvicorn", "uvicorn.error")
    saved = {n: (logging.getLogger(n).level, logging.getLogger(n).propagate) for n in names}
    real_stderr = sys.stderr
    sys.stderr = stream
    try:
        configure_logging("json", "debug")
    finally:
        sys.stderr = real_stderr
    root.handlers.extend(h for h in saved_handlers if h not in root.handlers)  # the suite's secret scan keeps tapping
    try:
        yield stream
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)
        for n, (level, propagate) in saved.items():
            logging.getLogger(n).setLevel(level)
            logging.getLogger(n).propagate = propagate
        logging.getLogger("uvicorn.access").disabled = False


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rig(tmp_path_factory: pytest.TempPathFactory, server_logs: io.StringIO) -> AsyncIterator[Rig]:
    path = Path(tmp_path_factory.mktemp("redaction")) / "sagemcp.db"
    common = {"database_url": f"sqlite+aiosqlite:///{path}", "secret_keys": SecretBox.generate_key()}
    registry = ConnectorRegistry([make_probe_connector()])
    apps = [
        server_app.create_app(Settings(**common, admin_key=ADMIN_KEY, mcp_stateful=s), registry=registry)
        for s in (False, True)
    ]
    async with (
        serve(ScanningApp(apps[0], "redaction-stateless"), log_level="debug") as stateless,
        serve(ScanningApp(apps[1], "redaction-stateful"), log_level="debug") as stateful,
        httpx.AsyncClient(base_url=stateless, timeout=20) as http,
    ):
        admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
        assert (await http.post("/api/v1/admin/tenants", json={"slug": "acme"}, headers=admin)).status_code == 201
        body = {"connector_type": "probe", "name": "probe", "configuration": {"upstream": "http://127.0.0.1:9/"}}
        assert (await http.post("/api/v1/admin/tenants/acme/connectors", json=body, headers=admin)).status_code == 201
        for value in shapes(register=True).values():
            r = await http.put("/api/v1/admin/tenants/acme/credentials/probe", json={"token": value}, headers=admin)
            assert r.status_code == 200, r.text
        r = await http.post("/api/v1/admin/tenants/acme/api-keys", json={"scopes": ["mcp"]}, headers=admin)
        yield Rig(stateless, stateful, LEDGER.secret(r.json()["key"]), server_logs)


def arguments() -> tuple[list[str], dict[str, object]]:
    """Tool arguments (echoed back in the result, so not in the ledger) and the strings the log must not hold."""
    marker = "marker-" + secrets.token_hex(16)
    values = shapes(register=False)
    text = " ".join([marker, *values.values()])
    lines = [marker, *(line for v in values.values() for line in v.splitlines() if "PRIVATE KEY" not in line)]
    return lines, {"text": text[:10_000], "tags": list(values.values())[:5]}


PATH = "/api/v1/acme/connectors/probe"


def assert_clean(rig: Rig, markers: list[str]) -> None:
    output = rig.logs.getvalue()
    assert '"level": "debug"' in output  # DEBUG records were written
    for dump in ("Received JSON", "Sending message via SSE", "Validated client message", "chunk: b'"):
        assert dump not in output, dump
    for marker in markers:
        assert marker not in output
    leaks = [secret for secret in LEDGER.known if secret in output]
    assert not leaks, [s[:12] for s in leaks]


async def test_streamable_http_stateless_and_stateful(rig: Rig) -> None:
    markers, args = arguments()
    marker = markers[0]
    async with httpx.AsyncClient(timeout=20) as http:
        reply = await c.call_modern(
            http, rig.stateless + PATH + "/mcp", rig.key, "tools/call", {"name": "probe_echo", "arguments": args}
        )
        assert marker in reply.text
        reply, session = await c.open_session(http, rig.stateful + PATH + "/mcp", rig.key)
        assert session, reply.text
        reply = await c.call_handshake(
            http,
            rig.stateful + PATH + "/mcp",
            rig.key,
            "tools/call",
            {"name": "probe_echo", "arguments": args},
            session,
        )
        assert marker in reply.text
        for wrong in ("smcp_" + secrets.token_urlsafe(32), shapes(register=False)["github classic"]):
            await c.call_modern(http, rig.stateless + PATH + "/mcp", LEDGER.secret(wrong), "tools/list")
    assert_clean(rig, markers)


async def test_regression_legacy_sse_messages_reached_the_log_at_debug(rig: Rig) -> None:
    """Regression: at DEBUG the SDK's SSE transport logged every message whole, arguments and results included."""
    markers, args = arguments()
    marker = markers[0]
    for base in (rig.stateless, rig.stateful):
        async with (
            httpx.AsyncClient(base_url=base, timeout=20) as http,
            c.sse_session(http, PATH + "/sse", rig.key) as sse,
        ):
            assert sse.status == 200
            await sse.handshake(rig.key)
            status, reply = await sse.call("tools/call", {"name": "probe_echo", "arguments": args}, rig.key)
            assert status == 202 and reply is not None and marker in str(reply)
    assert_clean(rig, markers)


async def test_websocket(rig: Rig) -> None:
    markers, args = arguments()
    marker = markers[0]
    async with c.ws_connect(rig.stateless, PATH + "/ws", rig.key) as ws:
        await c.ws_handshake(ws)
        reply = await c.ws_exchange(ws, c.request("tools/call", {"name": "probe_echo", "arguments": args}))
        assert marker in str(reply)
    assert_clean(rig, markers)
