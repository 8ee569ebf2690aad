"""End to end: the official MCP client calls Notion tools through a real `sagemcp serve` process.

The tenant is set up with the operator's own commands, as the README says (`sagemcp db upgrade`,
`tenant create`, `connector add notion --config '{"api_url": ...}'`, `credential set notion --kind
bearer --token-stdin`, `key create`), on a SQLite database in a temporary folder; then `sagemcp
serve` runs in its own process. The Notion it reaches is a local fake (Starlette under uvicorn
in a thread) that checks every request against Notion's description and answers from the
fixtures.
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
from notion_support import PAGE_ID, FakeNotion, error
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
    operator_environment,
    sagemcp_cli,
    server_process,
    text_of,
)

pytestmark = pytest.mark.e2e

TOKEN = "ntn_e2e_test_token_0123456789abcdef"
DEADLINE = 60.0
MISSING = "00000000-0000-0000-0000-00000000dead"


def fake_notion_app(record: FakeUpstream, validator: OpenAPIValidator) -> Starlette:
    checker = FakeNotion(validator)

    async def any_request(request: Request) -> Response:
        content = await request.body()
        record.requests.append({"method": request.method, "path": request.url.path, "headers": dict(request.headers)})
        if MISSING in request.url.path:
            answer = error(404, "object_not_found", "Could not find page.")
        else:
            try:
                answer = checker(
                    httpx.Request(request.method, str(request.url), headers=request.headers.raw, content=content)
                )
            except AssertionError as exc:
                record.violations.append(str(exc))
                return JSONResponse(
                    {"object": "error", "status": 400, "code": "invalid_request", "message": "undescribed"}, 400
                )
        return Response(answer.content, status_code=answer.status_code, media_type="application/json")

    return Starlette(routes=[Route("/{path:path}", any_request, methods=["GET", "POST", "PATCH", "DELETE"])])


@pytest.fixture(scope="module")
def fake_notion(notion_description: OpenAPIValidator) -> Iterator[FakeUpstream]:
    with fake_upstream(lambda record: fake_notion_app(record, notion_description), name="fake-notion") as record:
        yield record


def sagemcp(env: dict[str, str], *args: str, stdin: str | None = None) -> Any:
    """Run one `sagemcp ... --json` command as an operator would, and return its JSON output."""
    out = sagemcp_cli(env, *args, "--json", stdin=stdin, timeout=DEADLINE)
    return json.loads(out) if out.strip() else None


@dataclass
class Served:
    mcp_url: str
    api_key: str


@pytest.fixture(scope="module")
def served(fake_notion: FakeUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("sagemcp")
    port = free_port()
    env = operator_environment(data, SAGEMCP_PORT=str(port), SAGEMCP_CACHE_TTL="0")
    sagemcp(env, "db", "upgrade")
    sagemcp(env, "tenant", "create", "acme", "--name", "Acme")
    added = sagemcp(
        env, "connector", "add", "notion", "--tenant", "acme", "--config", json.dumps({"api_url": fake_notion.url})
    )
    sagemcp(env, "credential", "set", "notion", "--tenant", "acme", "--kind", "bearer", "--token-stdin", stdin=TOKEN)
    key = sagemcp(env, "key", "create", "--tenant", "acme", "--name", "e2e")["key"]
    command = [sys.executable, "-m", "sagemcp_server", "serve", "--port", str(port)]
    with server_process(command, port=port, log=data / "server.log", env=env, timeout=DEADLINE):
        yield Served(mcp_url=added["mcp_url"], api_key=key)


@pytest.fixture
def notion(fake_notion: FakeUpstream) -> FakeUpstream:
    return fake_notion.reset()


def notion_client(served: Served) -> AbstractAsyncContextManager[Any]:
    return mcp_client(served.mcp_url, served.api_key, timeout=DEADLINE)


async def test_a_page_is_read_as_markdown_through_the_server(served: Served, notion: FakeUpstream) -> None:
    async with notion_client(served) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        result = await client.call_tool("notion_get_page_content", {"page_id": PAGE_ID})
    assert "notion_get_page_content" in names and "notion_query_data_source" in names
    assert "notion_archive_page" not in names  # trash is off by default
    assert len(names) == 24
    assert not result.is_error, result.content
    text = text_of(result)
    assert text.startswith("# Quarterly planning") and "| Platform | 6 |" in text
    assert result.structured_content is not None and result.structured_content["blocks"] == 100
    assert notion.violations == []
    assert len(notion.requests) == 6
    for seen in notion.requests:
        assert seen["headers"]["authorization"] == f"Bearer {TOKEN}"
        assert seen["headers"]["notion-version"] == "2025-09-03"


async def test_a_page_is_created_from_markdown_through_the_server(served: Served, notion: FakeUpstream) -> None:
    async with notion_client(served) as client:
        result = await client.call_tool(
            "notion_create_page", {"parent_page_id": PAGE_ID, "title": "Notes", "markdown": "# Hello\n\n- [ ] a task"}
        )
    assert not result.is_error, result.content
    assert "Created page" in text_of(result)
    assert [(r["method"], r["path"]) for r in notion.requests] == [("POST", "/v1/pages")]
    assert notion.violations == []


async def test_a_page_notion_cannot_find_is_explained(served: Served, notion: FakeUpstream) -> None:
    async with notion_client(served) as client:
        result = await client.call_tool("notion_get_page", {"page_id": MISSING})
    assert result.is_error
    text = text_of(result)
    assert "share it with the integration" in text
    assert TOKEN not in text and TOKEN not in json.dumps(result.structured_content or {})


async def test_a_wrong_api_key_reaches_nothing(served: Served, notion: FakeUpstream) -> None:
    async with httpx.AsyncClient(timeout=DEADLINE) as http:
        response = await http.post(
            served.mcp_url,
            headers={"Authorization": "Bearer not-a-key", "Accept": "application/json, text/event-stream"},
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        )
    assert response.status_code == 401
    assert notion.requests == []


def test_the_readme_commands_are_the_ones_tested() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for command in (
        "sagemcp connector add notion --tenant acme",
        "sagemcp credential set notion --tenant acme --kind bearer --token-stdin",
    ):
        assert command in readme, command
