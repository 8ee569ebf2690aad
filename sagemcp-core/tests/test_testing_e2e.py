"""sagemcp.testing.e2e: the fake upstream, the server process, the operator's CLI and the MCP client."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sagemcp.mcp import McpSettings, create_mcp_app
from sagemcp.platform import ConnectorRegistry, UpstreamClient
from sagemcp.testing import (
    FakeUpstream,
    fake_upstream,
    free_port,
    mcp_client,
    operator_environment,
    sagemcp_cli,
    serve,
    server_process,
    text_of,
    wait_for_port,
)

from ._support import FakeNotesApi, NotesConnector
from .test_mcp_adapter import build_store


def echo_app(upstream: FakeUpstream) -> Starlette:
    async def thing(request: Request) -> Response:
        upstream.requests.append({"method": request.method, "path": request.url.path, "headers": dict(request.headers)})
        if request.path_params["name"] == "bad":
            upstream.violations.append("GET /things/bad is not described")
            return JSONResponse({"message": "not described"}, status_code=400)
        # The app was built knowing its own URL: it can hand out links to itself.
        return JSONResponse({"self": f"{upstream.url}{request.url.path}", "thread": threading.current_thread().name})

    return Starlette(routes=[Route("/things/{name}", thing)])


def test_a_fake_upstream_serves_its_app_in_a_thread_and_records_requests() -> None:
    with fake_upstream(echo_app, name="fake-things") as upstream:
        answer = httpx.get(f"{upstream.url}/things/one", headers={"Authorization": "Bearer test-token"}).json()
        assert answer == {"self": f"{upstream.url}/things/one", "thread": "fake-things"}
        assert httpx.get(f"{upstream.url}/things/bad").status_code == 400
        (first, _) = upstream.requests
        assert first["path"] == "/things/one" and first["headers"]["authorization"] == "Bearer test-token"
        assert upstream.violations == ["GET /things/bad is not described"]
        assert upstream.reset() is upstream and upstream.requests == [] and upstream.violations == []
        port = httpx.URL(upstream.url).port
    assert port is not None
    with pytest.raises(httpx.ConnectError):  # stopped with the block
        httpx.get(f"http://127.0.0.1:{port}/things/one", timeout=2)


SERVER = textwrap.dedent(
    """
    import http.server, sys
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/readyz" else 404)
            self.end_headers()
        def log_message(self, *args):
            pass
    print("serving", flush=True)
    http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
    """
)


def test_a_server_process_is_waited_for_and_stopped(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "server.log"
    with server_process([sys.executable, "-c", SERVER, str(port)], port=port, log=log, ready_path="/readyz") as proc:
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
        assert proc.poll() is None
    assert proc.poll() is not None
    assert log.read_text() == "serving\n"


def test_a_server_that_exits_fails_with_its_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    command = [sys.executable, "-c", "import sys; print('no database configured'); sys.exit(3)"]
    with pytest.raises(AssertionError, match="exited with 3"):
        with server_process(command, port=free_port(), log=tmp_path / "server.log"):
            raise AssertionError("not reached")
    assert "no database configured" in capsys.readouterr().err


def test_waiting_for_a_port_gives_up() -> None:
    with pytest.raises(AssertionError, match=r"nothing listened on 127\.0\.0\.1:\d+ within 0\.2 seconds"):
        wait_for_port(free_port(), timeout=0.2)


def test_the_operator_environment_starts_from_scratch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SAGEMCP_DATABASE_URL", "postgresql+asyncpg://elsewhere/db")
    monkeypatch.setenv("SAGEMCP_ADMIN_KEY", "a-key-of-the-test-process")
    env = operator_environment(tmp_path, SAGEMCP_PUBLIC_URL="https://mcp.example")
    assert "SAGEMCP_DATABASE_URL" not in env and "SAGEMCP_ADMIN_KEY" not in env
    assert env["SAGEMCP_DATA_DIR"] == str(tmp_path) and env["SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS"] == "1"
    assert env["SAGEMCP_PUBLIC_URL"] == "https://mcp.example" and env["PATH"]


@pytest.mark.skipif(
    importlib.util.find_spec("sagemcp_server") is None, reason="the sagemcp command comes with sagemcp-server"
)
def test_the_sagemcp_command_runs_as_an_operator_would(tmp_path: Path) -> None:
    env = operator_environment(tmp_path)
    sagemcp_cli(env, "db", "upgrade")
    sagemcp_cli(env, "tenant", "create", "acme", "--name", "Acme Corp")
    assert "acme" in sagemcp_cli(env, "tenant", "list")
    with pytest.raises(AssertionError, match=r"sagemcp tenant create acme failed: .*acme"):
        sagemcp_cli(env, "tenant", "create", "acme")


async def test_the_mcp_client_calls_tools_with_the_api_key() -> None:
    store, keys, _, _ = build_store()
    api = FakeNotesApi()
    upstream = UpstreamClient(transport=httpx.MockTransport(api))
    app = create_mcp_app(store, ConnectorRegistry([NotesConnector]), upstream=upstream, settings=McpSettings())
    try:
        async with serve(app) as base:
            url = f"{base}/acme/connectors/notes/mcp"
            async with mcp_client(url, keys["acme"]) as client:
                result: Any = await client.call_tool("notes_get_note", {"note_id": 2})
            with pytest.raises(Exception):  # the SDK's error for a refused key (an exception group)
                async with mcp_client(url, "not-a-key", timeout=5) as client:
                    await client.list_tools()
    finally:
        await upstream.aclose()
    assert result.structured_content == {"id": 2, "title": "second"}
    assert "second" in text_of(result)
    assert [r.headers["authorization"] for r in api.requests] == ["Bearer tok-a"]
