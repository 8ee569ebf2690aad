"""End to end: an MCP client calls GitHub tools through a real sagemcp server process and a local fake GitHub.

The fake GitHub is a small Starlette app (in a thread) that checks every request it
gets against GitHub's API description, answers from the recorded fixtures and keeps
the requests. The server is `tests/_e2e_server.py` in its own process: tenant `acme`,
the GitHub connector pointed at the fake, a personal access token and an API key.
The client is the official MCP SDK client over Streamable HTTP.
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
from _e2e_server import PAT
from github_support import FakeGitHub, fixture_body
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sagemcp.testing import (
    FakeUpstream,
    OpenAPIValidator,
    fake_upstream,
    free_port,
    mcp_client,
    server_process,
    text_of,
)

pytestmark = pytest.mark.e2e

TESTS = Path(__file__).resolve().parent
DEADLINE = 30.0


def fake_github_app(record: FakeUpstream, validator: OpenAPIValidator) -> Starlette:
    checker = FakeGitHub(validator)

    async def issue(request: Request) -> Response:
        record.requests.append({"method": request.method, "path": request.url.path, "headers": dict(request.headers)})
        try:
            checker(httpx.Request(request.method, str(request.url), headers=request.headers.raw))
        except AssertionError as exc:
            record.violations.append(str(exc))
            return JSONResponse({"message": "Not described"}, status_code=400)
        number = int(request.path_params["number"])
        if number == 404:
            return JSONResponse({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, 404)
        body = fixture_body("issues/get")
        body.update(number=number, title="Found a bug", body="I'm having a problem with this.")
        body["html_url"] = f"https://github.com/octocat/Hello-World/issues/{number}"
        return JSONResponse(body)

    return Starlette(routes=[Route("/repos/{owner}/{repo}/issues/{number:int}", issue)])


@pytest.fixture(scope="module")
def fake_github(github_description: OpenAPIValidator) -> Iterator[FakeUpstream]:
    with fake_upstream(lambda record: fake_github_app(record, github_description), name="fake-github") as record:
        yield record


@dataclass
class SagemcpServer:
    url: str
    api_key: str


@pytest.fixture
def fake_github_server(fake_github: FakeUpstream) -> FakeUpstream:
    """The module's fake GitHub, with the requests of earlier tests forgotten."""
    return fake_github.reset()


@pytest.fixture(scope="module")
def sagemcp_server(fake_github: FakeUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SagemcpServer]:
    tmp_path = tmp_path_factory.mktemp("sagemcp")
    port = free_port()
    key_file = tmp_path / "api-key"
    command = [
        sys.executable,
        str(TESTS / "_e2e_server.py"),
        "--github-url",
        fake_github.url,
        "--port",
        str(port),
        "--key-file",
        str(key_file),
    ]
    with server_process(command, port=port, log=tmp_path / "server.log", cwd=TESTS, timeout=DEADLINE):
        assert key_file.exists()
        yield SagemcpServer(url=f"http://127.0.0.1:{port}", api_key=key_file.read_text(encoding="utf-8"))


def github_client(server: SagemcpServer) -> AbstractAsyncContextManager[Any]:
    """The official SDK client on the tenant's GitHub connector endpoint, authenticated with the API key."""
    return mcp_client(f"{server.url}/acme/connectors/github/mcp", server.api_key, timeout=DEADLINE)


async def test_tools_call_reaches_github_with_the_tenants_token(
    sagemcp_server: SagemcpServer, fake_github_server: FakeUpstream
) -> None:
    async with github_client(sagemcp_server) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        result = await client.call_tool(
            "github_get_issue", {"owner": "octocat", "repo": "Hello-World", "issue_number": 1347}
        )

    assert "github_get_issue" in names and "github_create_pull_request" in names
    assert "github_list_dependabot_alerts" not in names  # the security group is off by default
    assert not result.is_error, result.content
    structured = result.structured_content
    assert structured is not None
    assert structured["number"] == 1347
    assert structured["title"] == "Found a bug"
    assert structured["author"] == "octocat"
    assert structured["url"] == "https://github.com/octocat/Hello-World/issues/1347"
    text = text_of(result)
    assert "Found a bug" in text

    (seen,) = fake_github_server.requests
    assert seen["method"] == "GET" and seen["path"] == "/repos/octocat/Hello-World/issues/1347"
    assert seen["headers"]["authorization"] == f"Bearer {PAT}"
    assert seen["headers"]["x-github-api-version"] == "2022-11-28"
    assert seen["headers"]["accept"] == "application/vnd.github+json"
    assert fake_github_server.violations == []


async def test_github_404_becomes_an_explained_tool_error(
    sagemcp_server: SagemcpServer, fake_github_server: FakeUpstream
) -> None:
    async with github_client(sagemcp_server) as client:
        result = await client.call_tool(
            "github_get_issue", {"owner": "octocat", "repo": "Hello-World", "issue_number": 404}
        )
    assert result.is_error
    text = text_of(result)
    assert "not found, or the token cannot see it" in text
    assert PAT not in text and PAT not in json.dumps(result.structured_content or {})


async def test_disabled_groups_cannot_be_called(
    sagemcp_server: SagemcpServer, fake_github_server: FakeUpstream
) -> None:
    async with github_client(sagemcp_server) as client:
        result = await client.call_tool("github_list_dependabot_alerts", {"owner": "octocat", "repo": "Hello-World"})
    assert result.is_error
    assert fake_github_server.requests == []


async def test_a_wrong_api_key_gets_nothing(sagemcp_server: SagemcpServer, fake_github_server: FakeUpstream) -> None:
    async with httpx.AsyncClient(timeout=DEADLINE) as http:
        response = await http.post(
            f"{sagemcp_server.url}/acme/connectors/github/mcp",
            headers={"Authorization": "Bearer not-a-key", "Accept": "application/json, text/event-stream"},
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        )
    assert response.status_code == 401
    assert fake_github_server.requests == []
