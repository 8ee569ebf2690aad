"""End to end: the official MCP client -> a real `sagemcp serve` process -> a local fake of Google's APIs.

The reference server is set up as an operator would, with its `sagemcp` command in a fresh data
directory: `tenant create`, `connector add google` (every API pointed at the fake through the
connector's `endpoints`, loopback being allowed for development), `credential set google --kind
oauth2 --field-stdin access_token` and `key create`; then `sagemcp serve` runs in its own process.
The fake (Starlette under uvicorn, in a thread) checks every request against Google's discovery
documents as the Google host it stands for, answers from the fixtures, and records everything.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from google_support import FakeGoogle
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sagemcp.testing import (
    FakeUpstream,
    fake_upstream,
    free_port,
    mcp_client,
    operator_environment,
    sagemcp_cli,
    server_process,
    text_of,
)

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


def fake_google_app(record: FakeUpstream) -> Starlette:
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
def fake_google() -> Iterator[FakeUpstream]:
    with fake_upstream(fake_google_app, name="fake-google") as record:
        yield record


@dataclass
class SagemcpServer:
    url: str
    api_key: str
    data: Path


@pytest.fixture(scope="module")
def sagemcp_server(fake_google: FakeUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SagemcpServer]:
    data = tmp_path_factory.mktemp("sagemcp")
    env = operator_environment(data)
    endpoints = {api: fake_google.url for api in ("drive", "docs", "sheets", "calendar", "gmail")}
    sagemcp_cli(env, "db", "upgrade")
    sagemcp_cli(env, "tenant", "create", "acme", "--name", "Acme Corp")
    sagemcp_cli(env, "connector", "add", "google", "--tenant", "acme", "--config", json.dumps({"endpoints": endpoints}))
    sagemcp_cli(
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
    key = json.loads(sagemcp_cli(env, "key", "create", "--tenant", "acme", "--name", "e2e", "--json"))["key"]
    port = free_port()
    command = [sys.executable, "-m", "sagemcp_server", "serve", "--port", str(port), "--host", "127.0.0.1"]
    with server_process(command, port=port, log=data / "server.log", env=env, timeout=DEADLINE):
        yield SagemcpServer(url=f"http://127.0.0.1:{port}", api_key=key, data=data)


@pytest.fixture
def google(fake_google: FakeUpstream) -> FakeUpstream:
    return fake_google.reset()


def google_client(server: SagemcpServer) -> AbstractAsyncContextManager[Any]:
    url = f"{server.url}/api/v1/acme/connectors/google/mcp"
    return mcp_client(url, server.api_key, timeout=DEADLINE)


async def test_the_default_tools_are_listed(sagemcp_server: SagemcpServer, google: FakeUpstream) -> None:
    async with google_client(sagemcp_server) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
    assert {"google_search_files", "google_get_document", "google_read_range", "google_create_document"} <= names
    assert {"google_trash_file", "google_send_message", "google_list_events", "google_clear_range"}.isdisjoint(names)
    assert {"google_batch_update_document", "google_format_range"}.isdisjoint(names)
    assert len(names) <= 25, sorted(names)
    assert google.requests == []


async def test_a_document_comes_back_as_markdown_from_the_docs_host(
    sagemcp_server: SagemcpServer, google: FakeUpstream
) -> None:
    async with google_client(sagemcp_server) as client:
        result = await client.call_tool("google_get_document", {"document_id": "1aBcDocRoadmap2026xYz"})
    assert not result.is_error, result.content
    assert "# Goals" in text_of(result) and "| Team | Owner |" in text_of(result)
    (seen,) = google.requests
    assert seen["host"] == "https://docs.googleapis.com" and seen["path"] == "/v1/documents/1aBcDocRoadmap2026xYz"
    assert seen["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert google.violations == []


async def test_a_document_is_created_from_markdown(sagemcp_server: SagemcpServer, google: FakeUpstream) -> None:
    async with google_client(sagemcp_server) as client:
        result = await client.call_tool(
            "google_create_document", {"title": "Notes", "markdown": "# Notes\n\n- one\n- two"}
        )
    assert not result.is_error, result.content
    create, update = google.requests
    assert create["path"] == "/v1/documents" and update["path"].endswith(":batchUpdate")
    assert google.violations == []


async def test_a_sheet_range_reads_as_a_table(sagemcp_server: SagemcpServer, google: FakeUpstream) -> None:
    async with google_client(sagemcp_server) as client:
        result = await client.call_tool(
            "google_read_range", {"spreadsheet_id": "1sHeetBudgetQ1aaaaaaa", "range": "Summary!A1:D4"}
        )
    assert not result.is_error, result.content
    assert "'Q1 Sales'!A1:D4: rows 1-4 of 4, 4 columns (CSV)\nRegion,Owner,Q1,Q2\nSouth 1," in text_of(result)
    assert google.requests[0]["host"] == "https://sheets.googleapis.com" and google.violations == []


async def test_google_errors_reach_the_model_without_the_token(
    sagemcp_server: SagemcpServer, google: FakeUpstream
) -> None:
    async with google_client(sagemcp_server) as client:
        missing = await client.call_tool("google_get_file", {"file_id": "missing"})
        disabled = await client.call_tool("google_send_message", {"to": ["b@example.com"], "subject": "s", "body": "b"})
    assert missing.is_error and "File not found" in text_of(missing)
    assert disabled.is_error
    assert TOKEN not in text_of(missing) + text_of(disabled)
    assert [r["path"] for r in google.requests] == ["/drive/v3/files/missing"]  # the disabled tool sent nothing


async def test_a_wrong_api_key_gets_nothing(sagemcp_server: SagemcpServer, google: FakeUpstream) -> None:
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
