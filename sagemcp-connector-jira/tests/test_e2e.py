"""End to end: the official MCP client -> a real `sagemcp serve` process -> a local fake Jira Cloud site.

The server is the reference server's CLI (`python -m sagemcp_server serve`) on a fresh SQLite
database in a temporary directory; the same CLI creates tenant `acme`, adds the `jira` connector
(loaded through its entry point) pointed at the fake site, stores an e-mail + API token credential
(the token on standard input) and an API key, as the README says. The fake Jira (Starlette under
uvicorn, in a thread) checks every request against Atlassian's description, as the contract tests do,
and answers from the fixtures. Every wait is bounded and the process is always stopped.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from jira_support import CLOUD, SITE, Deployment, Descriptions, FakeJira
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
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

EMAIL = "me@example.com"
API_TOKEN = "ATATT3xFfGF0-e2e-api-token-0123456789"
DEADLINE = 30.0


class FakeSite:
    """The fake Jira Cloud site: its URL, what it received, and what broke the description."""

    def __init__(self, checker: FakeJira) -> None:
        self.checker = checker
        self.upstream = FakeUpstream(url="")

    @property
    def url(self) -> str:
        return self.upstream.url

    @property
    def received(self) -> list[dict[str, Any]]:
        return self.upstream.requests

    @property
    def violations(self) -> list[str]:
        return self.upstream.violations

    def app(self, upstream: FakeUpstream) -> Starlette:
        self.upstream = upstream

        async def endpoint(request: Request) -> Response:
            content = await request.body()
            upstream.requests.append(
                {"method": request.method, "path": request.url.path, "headers": dict(request.headers), "body": content}
            )
            # Rebuilt as the request to the Cloud site it stands for, so the contract sees Atlassian's host.
            seen = httpx.Request(
                request.method,
                httpx.URL(f"{SITE}{request.url.path}", query=request.url.query.encode()),
                headers=[(k, v) for k, v in request.headers.items() if k != "host"],
                content=content,
            )
            try:
                answer = self.checker(seen)
            except AssertionError as exc:
                upstream.violations.append(str(exc))
                return Response(json.dumps({"errorMessages": ["not described"]}), status_code=400)
            return Response(
                answer.content, status_code=answer.status_code, headers={"content-type": "application/json"}
            )

        return Starlette(routes=[Route("/{path:path}", endpoint, methods=["GET", "POST", "PUT", "DELETE"])])


@pytest.fixture(scope="module")
def fake_site(jira_descriptions: Descriptions) -> Iterator[FakeSite]:
    credential = CLOUD.credential.model_copy(update={"account": EMAIL})
    deployment = Deployment("cloud", CLOUD.config, credential, SITE, token=API_TOKEN)
    site = FakeSite(FakeJira(jira_descriptions, deployment))
    with fake_upstream(site.app, name="fake-jira"):
        yield site


@dataclass
class Server:
    url: str
    key: str
    log: Path


def _cli(cwd: Path, *args: str, stdin: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(sagemcp_cli(operator_environment(), *args, "--json", cwd=cwd, stdin=stdin))
    return result


@pytest.fixture(scope="module")
def server(fake_site: FakeSite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("sagemcp")
    port = free_port()
    command = [sys.executable, "-m", "sagemcp_server", "serve", "--port", str(port)]
    log = home / "server.log"
    with server_process(
        command, port=port, log=log, env=operator_environment(), cwd=home, ready_path="/readyz", timeout=DEADLINE
    ):
        _cli(home, "tenant", "create", "acme")
        _cli(home, "connector", "add", "jira", "--tenant", "acme", "--config", json.dumps({"site_url": fake_site.url}))
        _cli(
            home,
            "credential",
            "set",
            "jira",
            "--tenant",
            "acme",
            "--kind",
            "basic",
            "--field",
            f"username={EMAIL}",
            "--field-stdin",
            "token",
            stdin=API_TOKEN,
        )
        key = _cli(home, "key", "create", "--tenant", "acme")["key"]
        yield Server(url=f"http://127.0.0.1:{port}/api/v1/acme/connectors/jira/mcp", key=key, log=log)


@pytest.fixture
def site(fake_site: FakeSite) -> FakeSite:
    fake_site.upstream.reset()
    fake_site.checker.requests.clear()
    fake_site.checker.operations.clear()
    return fake_site


async def _call(server: Server, name: str, arguments: dict[str, Any]) -> Any:
    async with mcp_client(server.url, server.key, timeout=DEADLINE) as client:
        if name == "tools/list":
            return await client.list_tools()
        return await client.call_tool(name, arguments)


async def test_the_default_tools_are_listed(server: Server, site: FakeSite) -> None:
    tools = {tool.name for tool in (await _call(server, "tools/list", {})).tools}
    assert {
        "jira_search_issues",
        "jira_get_issue",
        "jira_create_issue",
        "jira_transition_issue",
        "jira_add_comment",
    } <= tools
    assert "jira_list_boards" not in tools and "jira_delete_issue" not in tools  # off by default
    assert len(tools) == 27
    assert site.received == []


async def test_a_search_reaches_the_site_with_the_stored_api_token(server: Server, site: FakeSite) -> None:
    result = await _call(server, "jira_search_issues", {"jql": "project = EX ORDER BY updated DESC", "limit": 5})
    assert not result.is_error, text_of(result)
    assert site.violations == []
    (seen,) = site.received
    assert seen["method"] == "POST" and seen["path"] == "/rest/api/3/search/jql"
    assert seen["headers"]["authorization"] == "Basic " + base64.b64encode(f"{EMAIL}:{API_TOKEN}".encode()).decode()
    assert json.loads(seen["body"])["jql"] == "project = EX ORDER BY updated DESC"
    assert result.structured_content["items"][0]["key"] == "ED-1"
    assert "| ED-1 | Example issue 1 | To Do |" in text_of(result)


async def test_a_comment_is_written_as_adf(server: Server, site: FakeSite) -> None:
    result = await _call(server, "jira_add_comment", {"issue": "EX-1", "body": "**Fixed** in `main`"})
    assert not result.is_error, text_of(result)
    assert site.violations == []
    (seen,) = site.received
    body = json.loads(seen["body"])["body"]
    assert body["type"] == "doc"
    assert body["content"][0]["content"][0] == {"type": "text", "text": "Fixed", "marks": [{"type": "strong"}]}


async def test_a_jira_error_becomes_a_tool_error_without_the_token(server: Server, site: FakeSite) -> None:
    def missing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            404, json={"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}
        )

    site.checker.responses["getIssue"] = missing
    try:
        result = await _call(server, "jira_get_issue", {"issue": "EX-404"})
    finally:
        site.checker.responses.pop("getIssue")
    assert result.is_error
    assert "Issue does not exist or you do not have permission to see it." in text_of(result)
    assert API_TOKEN not in text_of(result)
    assert API_TOKEN not in server.log.read_text(errors="replace")


async def test_a_group_that_is_off_cannot_be_called(server: Server, site: FakeSite) -> None:
    result = await _call(server, "jira_list_boards", {})
    assert result.is_error
    assert site.received == []


async def test_a_wrong_api_key_reaches_nothing(server: Server, site: FakeSite) -> None:
    async with httpx.AsyncClient(timeout=DEADLINE) as http:
        response = await http.post(
            server.url,
            headers={"Authorization": "Bearer not-a-key", "Accept": "application/json, text/event-stream"},
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "jira_get_current_user"}},
        )
    assert response.status_code == 401
    assert site.received == []
