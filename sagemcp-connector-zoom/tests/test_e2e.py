"""End to end: the official MCP client -> a real `sagemcp serve` process -> a local fake Zoom.

The reference server is set up as an operator would, with its `sagemcp` command in a fresh data
directory (SQLite, a key file): `tenant create`, `connector add zoom` (pointed at the fake Zoom,
loopback being allowed for development), `credential set zoom --kind oauth2 --field-stdin access_token` and
`key create`; then `sagemcp serve` runs in its own process. Where `sagemcp-server` is not installed (this
package's own test session holds core and the connector only), the server process is core's MCP app with
the same tenant, `tests/_e2e_server.py`. The fake Zoom (Starlette under
uvicorn, in a thread) checks every API request against Zoom's description like the other tests,
serves the transcript file only to requests carrying the tenant's token, and records everything.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from zoom_support import FakeZoom, fixture, transcript_vtt

from sagemcp.testing import (
    FakeUpstream,
    OpenAPIValidator,
    fake_upstream,
    free_port,
    mcp_client,
    operator_environment,
    sagemcp_cli,
    server_process,
    text_of,
)

pytestmark = pytest.mark.e2e

TESTS = Path(__file__).resolve().parent
TOKEN = "zoom-e2e-access-token-0123456789"
DEADLINE = 60.0
TRANSCRIPT = "/rec/download/e2e-transcript.vtt"


def fake_zoom_app(record: FakeUpstream, validator: OpenAPIValidator) -> Starlette:
    recording = fixture("recordingGet.transcript")
    recording["recording_files"][-1]["download_url"] = record.url + TRANSCRIPT
    checker = FakeZoom(validator, responses={"recordingGet": recording})

    async def api(request: Request) -> Response:
        body = await request.body()
        raw_path = request.scope["raw_path"].decode("ascii")  # as sent: UUIDs stay percent-encoded
        record.requests.append({"method": request.method, "path": raw_path, "headers": dict(request.headers)})
        # Checked as the api.zoom.us request it stands for.
        stands_for = httpx.Request(
            request.method,
            httpx.URL(f"https://api.zoom.us{raw_path}", query=request.url.query.encode()),
            headers=request.headers.raw,
            content=body,
        )
        try:
            answer = checker(stands_for)
        except AssertionError as exc:
            record.violations.append(str(exc))
            return JSONResponse({"code": 300, "message": "Not described"}, status_code=400)
        return Response(answer.content, status_code=answer.status_code, media_type="application/json")

    async def download(request: Request) -> Response:
        record.requests.append({"method": request.method, "path": request.url.path, "headers": dict(request.headers)})
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return JSONResponse({"code": 124, "message": "Invalid access token."}, status_code=401)
        return PlainTextResponse(transcript_vtt(), media_type="text/vtt")

    return Starlette(
        routes=[
            Route("/v2/{rest:path}", api, methods=["GET", "POST", "PATCH", "PUT", "DELETE"]),
            Route(TRANSCRIPT, download),
        ]
    )


@pytest.fixture(scope="module")
def fake_zoom(zoom_description: OpenAPIValidator) -> Iterator[FakeUpstream]:
    with fake_upstream(lambda record: fake_zoom_app(record, zoom_description), name="fake-zoom") as record:
        yield record


@dataclass
class SagemcpServer:
    mcp_url: str
    """The MCP endpoint of tenant `acme`'s `zoom` connector."""
    api_key: str
    log: Path


REFERENCE_SERVER = importlib.util.find_spec("sagemcp_server") is not None
"""Whether `sagemcp-server` is installed (the development environment); the package's own test session
installs core and this connector only, and then the server process is `tests/_e2e_server.py`."""


def reference_server(zoom_url: str, data: Path, port: int) -> tuple[list[str], dict[str, str], str, str]:
    """`sagemcp serve`, after the operator's setup commands in a fresh data directory."""
    env = operator_environment(data)
    configuration = {"api_url": f"{zoom_url}/v2", "download_origins": [zoom_url]}
    sagemcp_cli(env, "db", "upgrade")
    sagemcp_cli(env, "tenant", "create", "acme", "--name", "Acme Corp")
    sagemcp_cli(env, "connector", "add", "zoom", "--tenant", "acme", "--config", json.dumps(configuration))
    sagemcp_cli(env, "credential", "set", "zoom", "--tenant", "acme", "--kind", "oauth2", "--field-stdin",
                "access_token", stdin=TOKEN)  # fmt: skip
    key = json.loads(sagemcp_cli(env, "key", "create", "--tenant", "acme", "--name", "e2e", "--json"))["key"]
    command = [sys.executable, "-m", "sagemcp_server", "serve", "--port", str(port), "--host", "127.0.0.1"]
    return command, env, key, f"http://127.0.0.1:{port}/api/v1/acme/connectors/zoom/mcp"


@pytest.fixture(scope="module")
def sagemcp_server(fake_zoom: FakeUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SagemcpServer]:
    data = tmp_path_factory.mktemp("sagemcp")
    port = free_port()
    key_file = data / "api-key"
    if REFERENCE_SERVER:
        command, env, key, url = reference_server(fake_zoom.url, data, port)
    else:
        (data / "token").write_text(TOKEN, encoding="utf-8")
        command = [
            sys.executable, str(TESTS / "_e2e_server.py"), "--zoom-url", fake_zoom.url, "--port", str(port),
            "--key-file", str(key_file), "--token-file", str(data / "token"),
        ]  # fmt: skip
        env = {**os.environ, "SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS": "1"}
        key, url = "", f"http://127.0.0.1:{port}/acme/connectors/zoom/mcp"
    log = data / "server.log"
    with server_process(command, port=port, log=log, env=env, cwd=TESTS, timeout=DEADLINE):
        if not REFERENCE_SERVER:
            key = key_file.read_text(encoding="utf-8")
        yield SagemcpServer(mcp_url=url, api_key=key, log=log)


@pytest.fixture
def zoom_server(fake_zoom: FakeUpstream) -> FakeUpstream:
    """The module's fake Zoom, with the requests of earlier tests forgotten."""
    return fake_zoom.reset()


def zoom_client(server: SagemcpServer) -> AbstractAsyncContextManager[Any]:
    return mcp_client(server.mcp_url, server.api_key, timeout=DEADLINE)


async def test_the_default_tools_are_listed(sagemcp_server: SagemcpServer, zoom_server: FakeUpstream) -> None:
    async with zoom_client(sagemcp_server) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
    assert {"zoom_list_meetings", "zoom_get_transcript", "zoom_get_meeting_summary", "zoom_create_meeting"} <= names
    assert {"zoom_delete_meeting", "zoom_delete_recording", "zoom_list_users"}.isdisjoint(names)
    assert zoom_server.requests == []


async def test_a_transcript_comes_back_as_speaker_labelled_text(
    sagemcp_server: SagemcpServer, zoom_server: FakeUpstream
) -> None:
    async with zoom_client(sagemcp_server) as client:
        result = await client.call_tool("zoom_get_transcript", {"meeting": "4444AAAiAAAAAiAiAiiAii=="})
    assert not result.is_error, result.content
    assert result.structured_content is not None
    assert result.structured_content["speakers"] == ["Ana Lima", "Ben Okafor", "Chen Wei"]
    assert "[00:00:10] Ben Okafor: The importer shipped on Tuesday." in text_of(result)
    api, download = zoom_server.requests
    assert api["path"] == "/v2/meetings/4444AAAiAAAAAiAiAiiAii%3D%3D/recordings"
    assert api["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert download["path"] == TRANSCRIPT and download["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert zoom_server.violations == []


async def test_a_meeting_is_created_with_its_time_zone(
    sagemcp_server: SagemcpServer, zoom_server: FakeUpstream
) -> None:
    arguments = {"topic": "Roadmap", "start_time": "2026-06-02T09:30:00", "timezone": "Europe/Paris", "duration": 30}
    async with zoom_client(sagemcp_server) as client:
        result = await client.call_tool("zoom_create_meeting", arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None and result.structured_content["id"] == "1100000"
    (created,) = zoom_server.requests
    assert created["method"] == "POST" and created["path"] == "/v2/users/me/meetings"
    assert zoom_server.violations == []


async def test_zoom_errors_reach_the_model_without_the_token(
    sagemcp_server: SagemcpServer, zoom_server: FakeUpstream
) -> None:
    async with zoom_client(sagemcp_server) as client:
        result = await client.call_tool("zoom_get_meeting", {"meeting_id": 0})
        disabled = await client.call_tool("zoom_delete_meeting", {"meeting_id": 1})
    assert result.is_error and "meeting_id" in text_of(result)
    assert disabled.is_error
    assert TOKEN not in text_of(result) + text_of(disabled)
    assert zoom_server.requests == []


async def test_a_wrong_api_key_gets_nothing(sagemcp_server: SagemcpServer, zoom_server: FakeUpstream) -> None:
    async with httpx.AsyncClient(timeout=DEADLINE) as http:
        response = await http.post(
            sagemcp_server.mcp_url,
            headers={"Authorization": "Bearer not-a-key", "Accept": "application/json, text/event-stream"},
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        )
    assert response.status_code == 401
    assert zoom_server.requests == []


def test_the_server_log_holds_no_token(sagemcp_server: SagemcpServer) -> None:
    assert TOKEN not in sagemcp_server.log.read_text(errors="replace")
