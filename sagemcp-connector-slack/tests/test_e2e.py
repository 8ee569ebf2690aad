"""End to end: the official MCP client -> a real sagemcp server process -> a local fake Slack.

The fake Slack (Starlette under uvicorn, in this test's event loop) records every request
and checks it against Slack's API description like the other tests. The server is
`tests/_e2e_server.py`, run with this Python as a subprocess; it loads the connector
through its entry point. Every wait is bounded and the process is always terminated.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from slack_support import Contract, fixture
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sagemcp.testing import OpenAPIValidator, stop_process

pytestmark = pytest.mark.e2e

SERVER = Path(__file__).resolve().parent / "_e2e_server.py"
TOKEN = "xoxb-test-e2e-0000000000-abcdefabcdef"
USER_TOKEN = "xoxp-test-e2e-0000000000-fedcbafedcba"
START_TIMEOUT = 30.0

HISTORY = {
    "ok": True,
    "messages": [
        {
            "type": "message",
            "user": "U0AAAAAAA",
            "text": "*Shipped* <https://ci.example/1|build 1> :tada:",
            "ts": "1714564800.000200",
        },
        {"type": "message", "user": "U0BBBBBBB", "text": "thanks <@U0AAAAAAA>", "ts": "1714564700.000100"},
    ],
    "has_more": True,
    "response_metadata": {"next_cursor": "bmV4dF90czoxNzE0NTY0NzAw"},
}
PEOPLE = {"U0AAAAAAA": "alice", "U0BBBBBBB": "bob"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeSlackServer:
    """Slack's Web API on a real socket: answers from fixtures, records and checks every request."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.requests: list[httpx.Request] = []
        self.violations: list[str] = []
        self.app = Starlette(routes=[Route("/api/{method}", self.endpoint, methods=["GET", "POST"])])

    async def endpoint(self, request: Request) -> JSONResponse:
        body = await request.body()
        # Rebuilt as the slack.com request it stands for, so the contract sees Slack's own paths.
        recorded = httpx.Request(
            request.method,
            httpx.URL(f"https://slack.com{request.url.path}", query=request.url.query.encode()),
            headers=dict(request.headers),
            content=body,
        )
        self.requests.append(recorded)
        try:
            self.contract.check(recorded)
        except AssertionError as exc:
            self.violations.append(str(exc))
        method = request.path_params["method"]
        return JSONResponse(self.answer(method, dict(request.query_params)))

    def answer(self, method: str, query: dict[str, str]) -> dict[str, Any]:
        if method == "conversations.history":
            return HISTORY
        if method == "users.info":
            uid = query.get("user", "")
            if uid in PEOPLE:
                return {"ok": True, "user": {"id": uid, "name": PEOPLE[uid], "profile": {"display_name": PEOPLE[uid]}}}
            return {"ok": False, "error": "user_not_found"}
        return fixture(method)

    def sent(self, method: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == f"/api/{method}"]


@contextlib.asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.ensure_future(server.serve())
    try:
        with anyio.fail_after(10):
            while not server.started:
                if task.done():
                    task.result()
                await anyio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with anyio.fail_after(10):
            await task


@contextlib.asynccontextmanager
async def sagemcp_server(slack_url: str) -> AsyncIterator[tuple[str, str]]:
    """Start _e2e_server.py; yield its base URL and the tenant API key; always stop it."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(SERVER), "--slack-url", slack_url, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with anyio.fail_after(START_TIMEOUT):
            line = await anyio.to_thread.run_sync(process.stdout.readline)  # type: ignore[union-attr]
            if not line:
                raise AssertionError(f"the server exited: {process.wait()} {process.stderr.read()}")  # type: ignore[union-attr]
            key = json.loads(line)["key"]
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        break
                except OSError:
                    assert process.poll() is None, f"the server exited: {process.stderr.read()}"  # type: ignore[union-attr]
                    await anyio.sleep(0.1)
        yield f"http://127.0.0.1:{port}", key
    finally:
        stop_process(process)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@contextlib.asynccontextmanager
async def mcp_client(url: str, key: str) -> AsyncIterator[Client]:
    """The official SDK client over Streamable HTTP with the tenant's API key (its HTTP client closed after)."""
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(15.0)) as http:
        async with Client(streamable_http_client(url, http_client=http)) as client:  # type: ignore[arg-type]
            yield client


async def test_history_through_a_real_server(contract_validator: OpenAPIValidator) -> None:
    fake = FakeSlackServer(Contract(contract_validator))
    with anyio.fail_after(120):
        async with serve(fake.app) as slack_base, sagemcp_server(f"{slack_base}/api") as (base, key):
            async with mcp_client(f"{base}/acme/connectors/slack/mcp", key) as client:
                tools = {t.name: t for t in (await client.list_tools()).tools}
                assert "slack_list_messages" in tools
                assert tools["slack_list_messages"].annotations.read_only_hint is True
                assert "slack_send_message" not in tools  # messages_write is off by default
                result = await client.call_tool(
                    "slack_list_messages", {"channel": "C012AB3CD", "window": "7d", "limit": 2}
                )
                denied = await client.call_tool("slack_send_message", {"channel": "C012AB3CD", "text": "x"})
                found = await client.call_tool("slack_search_messages", {"query": "launch"})

            async with mcp_client(f"{base}/acme/connectors/slack-rw/mcp", key) as client:
                outside = await client.call_tool("slack_send_message", {"channel": "C012AB3CD", "text": "hi"})
            async with mcp_client(f"{base}/acme/connectors/slack-ro/mcp", key) as client:
                read_only = await client.call_tool("slack_send_message", {"channel": "C061EG9T2", "text": "hi"})

    assert not result.is_error, result.content
    items = result.structured_content["items"]
    assert [m["author"] for m in items] == ["alice", "bob"]
    assert items[0]["text"] == "**Shipped** [build 1](https://ci.example/1) :tada:"
    assert items[1]["text"] == "thanks @alice"
    assert result.structured_content["channel_name"] == "general"
    assert result.structured_content["next_cursor"]
    assert "@alice" in result.content[0].text

    (history,) = fake.sent("conversations.history")
    assert history.method == "GET"
    assert history.headers["authorization"] == f"Bearer {TOKEN}"
    assert history.url.params["channel"] == "C012AB3CD"
    assert history.url.params["limit"] == "2"
    assert float(history.url.params["oldest"]) > 1_700_000_000
    assert fake.violations == []

    # Search runs with the tenant's linked user token (its name lookups too); other tools with the bot token.
    assert not found.is_error, found.content
    (search,) = fake.sent("search.messages")
    assert search.headers["authorization"] == f"Bearer {USER_TOKEN}"
    assert {r.headers["authorization"] for r in fake.requests} == {f"Bearer {TOKEN}", f"Bearer {USER_TOKEN}"}
    for method in ("conversations.history", "conversations.info"):
        assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in fake.sent(method)), method

    assert denied.is_error and "disabled" in denied.content[0].text
    assert outside.is_error and "allowed_channels" in outside.content[0].text
    assert read_only.is_error and "read-only" in read_only.content[0].text
    assert not fake.sent("chat.postMessage")
