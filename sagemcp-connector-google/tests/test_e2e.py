"""End to end: the official MCP client -> a real `sagemcp serve` process -> a local fake of Google's APIs.

The reference server is set up as an operator would, with its `sagemcp` command in a fresh data
directory: `tenant create`, `connector add google` (every API pointed at the fake through the
connector's `endpoints`, loopback being allowed for development), `credential set google --kind
oauth2 --field-stdin access_token` and `key create`; then `sagemcp serve` runs in its own process.
The fake (Starlette under uvicorn, in a thread) checks every request against Google's discovery
documents as the Google host it stands for, answers from the fixtures, and records everything.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
import uvicorn
from google_support import FakeGoogle
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

pytestmark = pytest.mark.e2e

TOKEN = "ya29.google-e2e-access-token-0123456789"
DEADLINE = 60.0
HOSTS = {
    "drive": "https://www.googleapis.com",
    "upload": "https://www.googleapis.com",
    "calendar": "https://www.googleapis.com",
    "v1": "https://docs.googleapis.com",
    "v4": "https://sheets.googleapis.com",
    "gmail": "https://gmail.googleapis.com",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes] | None = None, timeout: float = DEADLINE) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the server process exited with {proc.returncode}")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listened on 127.0.0.1:{port} within {timeout} seconds")


@dataclass
class FakeGoogleServer:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)


def fake_google_app(record: FakeGoogleServer) -> Starlette:
    checker = FakeGoogle()

    async def api(request: Request) -> Response:
        content = await request.body()
        raw_path = request.scope["raw_path"].decode("ascii")
        host = HOSTS.get(raw_path.strip("/").split("/", 1)[0], "https://unknown.invalid")
        record.requests.append(
            {"method": request.method, "path": raw_path, "host": host, "headers": dict(request.headers)}
        )
        stands_for = httpx.Request(
            request.method,
            httpx.URL(f"{host}{raw_path}", query=request.url.query.encode()),
            headers=request.headers.raw,
            content=content,
        )
        try:
            answer = checker(stands_for)
        except AssertionError as exc:
            record.violations.append(str(exc))
            return JSONResponse({"error": {"code": 400, "message": "Not described", "status": "INVALID_ARGUMENT"}}, 400)
        if "missing" in raw_path:
            return JSONResponse(
                {
                    "error": {
                        "code": 404,
                        "message": "File not found: missing.",
                        "status": "NOT_FOUND",
                        "errors": [{"reason": "notFound"}],
                    }
                },
                404,
            )
        return Response(answer.content, status_code=answer.status_code, media_type=answer.headers.get("content-type"))

    return Starlette(routes=[Route("/{rest:path}", api, methods=["GET", "POST", "PATCH", "PUT", "DELETE"])])


@pytest.fixture(scope="module")
def fake_google() -> Iterator[FakeGoogleServer]:
    port = free_port()
    record = FakeGoogleServer(url=f"http://127.0.0.1:{port}")
    server = uvicorn.Server(
        uvicorn.Config(fake_google_app(record), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="fake-google", daemon=True)
    thread.start()
    try:
        wait_for_port(port)
        yield record
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class SagemcpServer:
    url: str
    api_key: str
    data: Path


def sagemcp(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "sagemcp_server", *args],
        env=env,
        input=stdin.encode() if stdin is not None else None,
        capture_output=True,
        timeout=DEADLINE,
        check=False,
    )
    assert done.returncode == 0, f"sagemcp {' '.join(args)} failed: {done.stderr.decode(errors='replace')}"
    return done.stdout.decode()


@pytest.fixture(scope="module")
def sagemcp_server(fake_google: FakeGoogleServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SagemcpServer]:
    data = tmp_path_factory.mktemp("sagemcp")
    env = {key: value for key, value in os.environ.items() if not key.startswith("SAGEMCP_")}
    env.update(SAGEMCP_DATA_DIR=str(data), SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS="1", SAGEMCP_LOG_LEVEL="warning")
    endpoints = {api: fake_google.url for api in ("drive", "docs", "sheets", "calendar", "gmail")}
    sagemcp(env, "db", "upgrade")
    sagemcp(env, "tenant", "create", "acme", "--name", "Acme Corp")
    sagemcp(env, "connector", "add", "google", "--tenant", "acme", "--config", json.dumps({"endpoints": endpoints}))
    sagemcp(
        env,
        "credential",
        "set",
        "google",
        "--tenant",
        "acme",
        "--kind",
        "oauth2",
        "--field-stdin",
        "access_token",
        stdin=TOKEN,
    )
    key = json.loads(sagemcp(env, "key", "create", "--tenant", "acme", "--name", "e2e", "--json"))["key"]
    port = free_port()
    log = (data / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sagemcp_server", "serve", "--port", str(port), "--host", "127.0.0.1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, proc)
        yield SagemcpServer(url=f"http://127.0.0.1:{port}", api_key=key, data=data)
    except BaseException:
        log.flush()
        sys.stderr.write((data / "server.log").read_text(errors="replace"))
        raise
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.fixture
def google(fake_google: FakeGoogleServer) -> FakeGoogleServer:
    fake_google.requests.clear()
    fake_google.violations.clear()
    return fake_google


@contextlib.asynccontextmanager
async def mcp_client(server: SagemcpServer) -> AsyncIterator[Client]:
    url = f"{server.url}/api/v1/acme/connectors/google/mcp"
    headers = {"Authorization": f"Bearer {server.api_key}"}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(DEADLINE)) as http:
        async with Client(streamable_http_client(url, http_client=http), read_timeout_seconds=DEADLINE) as client:  # type: ignore[arg-type]
            yield client


def text_of(result: Any) -> str:
    return "".join(getattr(part, "text", "") for part in result.content)


async def test_the_default_tools_are_listed(sagemcp_server: SagemcpServer, google: FakeGoogleServer) -> None:
    async with mcp_client(sagemcp_server) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
    assert {"google_search_files", "google_get_document", "google_read_range", "google_create_document"} <= names
    assert {"google_trash_file", "google_send_message", "google_list_events", "google_clear_range"}.isdisjoint(names)
    assert {"google_batch_update_document", "google_format_range"}.isdisjoint(names)
    assert len(names) <= 25, sorted(names)
    assert google.requests == []


async def test_a_document_comes_back_as_markdown_from_the_docs_host(
    sagemcp_server: SagemcpServer, google: FakeGoogleServer
) -> None:
    async with mcp_client(sagemcp_server) as client:
        result = await client.call_tool("google_get_document", {"document_id": "1aBcDocRoadmap2026xYz"})
    assert not result.is_error, result.content
    assert "# Goals" in text_of(result) and "| Team | Owner |" in text_of(result)
    (seen,) = google.requests
    assert seen["host"] == "https://docs.googleapis.com" and seen["path"] == "/v1/documents/1aBcDocRoadmap2026xYz"
    assert seen["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert google.violations == []


async def test_a_document_is_created_from_markdown(sagemcp_server: SagemcpServer, google: FakeGoogleServer) -> None:
    async with mcp_client(sagemcp_server) as client:
        result = await client.call_tool(
            "google_create_document", {"title": "Notes", "markdown": "# Notes\n\n- one\n- two"}
        )
    assert not result.is_error, result.content
    create, update = google.requests
    assert create["path"] == "/v1/documents" and update["path"].endswith(":batchUpdate")
    assert google.violations == []


async def test_a_sheet_range_reads_as_a_table(sagemcp_server: SagemcpServer, google: FakeGoogleServer) -> None:
    async with mcp_client(sagemcp_server) as client:
        result = await client.call_tool(
            "google_read_range", {"spreadsheet_id": "1sHeetBudgetQ1aaaaaaa", "range": "Summary!A1:D4"}
        )
    assert not result.is_error, result.content
    assert "'Q1 Sales'!A1:D4: rows 1-4 of 4, 4 columns (CSV)\nRegion,Owner,Q1,Q2\nSouth 1," in text_of(result)
    assert google.requests[0]["host"] == "https://sheets.googleapis.com" and google.violations == []


async def test_google_errors_reach_the_model_without_the_token(
    sagemcp_server: SagemcpServer, google: FakeGoogleServer
) -> None:
    async with mcp_client(sagemcp_server) as client:
        missing = await client.call_tool("google_get_file", {"file_id": "missing"})
        disabled = await client.call_tool("google_send_message", {"to": ["b@example.com"], "subject": "s", "body": "b"})
    assert missing.is_error and "File not found" in text_of(missing)
    assert disabled.is_error
    assert TOKEN not in text_of(missing) + text_of(disabled)
    assert [r["path"] for r in google.requests] == ["/drive/v3/files/missing"]  # the disabled tool sent nothing


async def test_a_wrong_api_key_gets_nothing(sagemcp_server: SagemcpServer, google: FakeGoogleServer) -> None:
    async with httpx.AsyncClient(timeout=DEADLINE) as http:
        response = await http.post(
            f"{sagemcp_server.url}/api/v1/acme/connectors/google/mcp",
            headers={"Authorization": "Bearer not-a-key", "Accept": "application/json, text/event-stream"},
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        )
    assert response.status_code == 401
    assert google.requests == []


def test_the_server_log_holds_no_token(sagemcp_server: SagemcpServer) -> None:
    log = sagemcp_server.data / "server.log"
    assert TOKEN not in log.read_text(errors="replace")
