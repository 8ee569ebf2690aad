"""End to end: the official MCP client calls Notion tools through a real `sagemcp serve` process.

The tenant is set up with the operator's own commands, as the README says (`sagemcp db upgrade`,
`tenant create`, `connector add notion --config '{"api_url": ...}'`, `credential set notion --kind
bearer --token-stdin`, `key create`), on a SQLite database in a temporary folder; then `sagemcp
serve` runs in its own process. The Notion it reaches is a local fake (Starlette under uvicorn
in a thread) that checks every request against Notion's description and answers from the
fixtures.
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
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from notion_support import PAGE_ID, FakeNotion, error
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sagemcp.testing import OpenAPIValidator

pytestmark = pytest.mark.e2e

TOKEN = "ntn_e2e_test_token_0123456789abcdef"
DEADLINE = 60.0
MISSING = "00000000-0000-0000-0000-00000000dead"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes] | None = None) -> None:
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the server exited with {proc.returncode}")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listened on 127.0.0.1:{port} within {DEADLINE} seconds")


@dataclass
class FakeNotionServer:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)


def fake_notion_app(record: FakeNotionServer, validator: OpenAPIValidator) -> Starlette:
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
def fake_notion(notion_description: OpenAPIValidator) -> Iterator[FakeNotionServer]:
    port = free_port()
    record = FakeNotionServer(url=f"http://127.0.0.1:{port}")
    server = uvicorn.Server(
        uvicorn.Config(
            fake_notion_app(record, notion_description),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
        )
    )
    thread = threading.Thread(target=server.run, name="fake-notion", daemon=True)
    thread.start()
    try:
        wait_for_port(port)
        yield record
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def sagemcp(env: dict[str, str], *args: str, stdin: str | None = None) -> Any:
    """Run one `sagemcp ... --json` command as an operator would, and return its JSON output."""
    command = [sys.executable, "-m", "sagemcp_server.cli", *args, "--json"]
    done = subprocess.run(command, env=env, input=stdin, capture_output=True, text=True, timeout=DEADLINE)
    assert done.returncode == 0, f"{' '.join(args)}: {done.stderr}"
    return json.loads(done.stdout) if done.stdout.strip() else None


@dataclass
class Served:
    mcp_url: str
    api_key: str


@pytest.fixture(scope="module")
def served(fake_notion: FakeNotionServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("sagemcp")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAGEMCP_")}
    env.update(
        SAGEMCP_DATA_DIR=str(data),
        SAGEMCP_PORT=str(port),
        SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS="1",
        SAGEMCP_LOG_LEVEL="warning",
        SAGEMCP_CACHE_TTL="0",
    )
    sagemcp(env, "db", "upgrade")
    sagemcp(env, "tenant", "create", "acme", "--name", "Acme")
    added = sagemcp(
        env, "connector", "add", "notion", "--tenant", "acme", "--config", json.dumps({"api_url": fake_notion.url})
    )
    sagemcp(env, "credential", "set", "notion", "--tenant", "acme", "--kind", "bearer", "--token-stdin", stdin=TOKEN)
    key = sagemcp(env, "key", "create", "--tenant", "acme", "--name", "e2e")["key"]
    log = (data / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sagemcp_server.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, proc)
        yield Served(mcp_url=added["mcp_url"], api_key=key)
    except BaseException:
        log.flush()
        sys.stderr.write((data / "server.log").read_text(errors="replace")[-5000:])
        raise
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.fixture
def notion(fake_notion: FakeNotionServer) -> FakeNotionServer:
    fake_notion.requests.clear()
    fake_notion.violations.clear()
    return fake_notion


@contextlib.asynccontextmanager
async def mcp_client(served: Served) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {served.api_key}"}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(DEADLINE)) as http:
        async with Client(
            streamable_http_client(served.mcp_url, http_client=http), read_timeout_seconds=DEADLINE
        ) as client:  # type: ignore[arg-type]
            yield client


def text_of(result: Any) -> str:
    return "".join(getattr(part, "text", "") for part in result.content)


async def test_a_page_is_read_as_markdown_through_the_server(served: Served, notion: FakeNotionServer) -> None:
    async with mcp_client(served) as client:
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


async def test_a_page_is_created_from_markdown_through_the_server(served: Served, notion: FakeNotionServer) -> None:
    async with mcp_client(served) as client:
        result = await client.call_tool(
            "notion_create_page", {"parent_page_id": PAGE_ID, "title": "Notes", "markdown": "# Hello\n\n- [ ] a task"}
        )
    assert not result.is_error, result.content
    assert "Created page" in text_of(result)
    assert [(r["method"], r["path"]) for r in notion.requests] == [("POST", "/v1/pages")]
    assert notion.violations == []


async def test_a_page_notion_cannot_find_is_explained(served: Served, notion: FakeNotionServer) -> None:
    async with mcp_client(served) as client:
        result = await client.call_tool("notion_get_page", {"page_id": MISSING})
    assert result.is_error
    text = text_of(result)
    assert "share it with the integration" in text
    assert TOKEN not in text and TOKEN not in json.dumps(result.structured_content or {})


async def test_a_wrong_api_key_reaches_nothing(served: Served, notion: FakeNotionServer) -> None:
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
