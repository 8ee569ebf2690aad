"""The MCP-first router answers every path exactly as walking the route table would, and knows when it may not
take its shortcut."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from conftest import ADMIN_KEY, MCP_HEADERS, Server
from starlette.routing import Mount, Route, Router, WebSocketRoute
from starlette.types import Receive, Scope, Send

from sagemcp_server.routing import McpFirstRouter, _reserved_segments

pytestmark = pytest.mark.asyncio


async def _nothing(scope: Scope, receive: Receive, send: Send) -> None:
    raise AssertionError("not called")


def _route(path: str) -> Route:
    return Route(path, _nothing)


def test_reserved_segments_are_the_literal_first_segments_under_the_prefix() -> None:
    routes = [
        _route("/healthz"),
        _route("/api/v1/openapi.json"),
        _route("/api/v1/admin/tenants/{slug}"),
        _route("/api/v1/me/connections"),
        WebSocketRoute("/socket", _nothing),
        Mount("/console/static", app=_nothing),
        _route("/api"),
        _route("/api/v2/{anything}"),
        _route("/api/v1"),
    ]
    assert _reserved_segments(routes, "/api/v1") == {"openapi.json", "admin", "me"}


@pytest.mark.parametrize(
    "path",
    ["/{page}", "/api/{version}/x", "/api/v1/{tenant}/extra", "/", "/api", ""],
)
def test_a_route_that_could_match_under_the_prefix_turns_the_shortcut_off(path: str) -> None:
    route: Any = Mount(path, app=_nothing) if path in ("/", "/api", "") else _route(path)
    assert _reserved_segments([_route("/api/v1/admin"), route], "/api/v1") is None


PATHS = [
    ("GET", "/api/v1/acme/mcp"),
    ("POST", "/api/v1/acme/mcp"),
    ("DELETE", "/api/v1/acme/mcp"),
    ("PUT", "/api/v1/acme/mcp"),
    ("POST", "/api/v1/acme/connectors/demo/mcp"),
    ("POST", "/api/v1/nobody/mcp"),
    ("GET", "/api/v1/acme/sse"),
    ("POST", "/api/v1/acme/messages/"),
    ("POST", "/api/v1/acme/messages"),
    ("GET", "/api/v1/acme/nothing-here"),
    ("GET", "/api/v1/acme"),
    ("GET", "/api/v1/"),
    ("GET", "/api/v1"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/admin/tenants"),
    ("DELETE", "/api/v1/admin/tenants"),
    ("GET", "/api/v1/admin/nothing"),
    ("GET", "/api/v1/oauth/nothing"),
    ("GET", "/api/v1/me/connections"),
    ("GET", "/healthz"),
    ("GET", "/nowhere"),
]


async def _answers(app: Any) -> list[tuple[int, str, str]]:
    answers = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        for method, path in PATHS:
            for key in (None,) if path.endswith("/sse") else (None, ADMIN_KEY):  # a served stream stays open
                headers = dict(MCP_HEADERS) | ({"Authorization": f"Bearer {key}"} if key else {})
                if method == "GET":
                    headers["Accept"] = "text/html"  # no event stream that would stay open
                body = b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}' if method == "POST" else None
                r = await client.request(method, path, headers=headers, content=body)
                text = re.sub(r'"request_id":\s*"[0-9a-f]+"', "", r.text)  # one of a kind per request
                answers.append((r.status_code, r.headers.get("content-type", ""), text))
    return answers


async def test_the_server_answers_every_path_as_the_plain_route_table_does(server: Server) -> None:
    await server.tenant("acme")
    await server.connector("acme")
    app = server.app
    assert isinstance(app.router, McpFirstRouter) and app.router._reserved  # the shortcut is on
    fast = await _answers(app)
    shortcut = app.router
    plain = Router(shortcut.routes, lifespan=shortcut.lifespan_context)
    app.router = plain
    app.middleware_stack = None  # rebuilt around the plain router on the next request
    try:
        assert await _answers(app) == fast
    finally:
        app.router = shortcut
        app.middleware_stack = None
    assert [status for status, _, _ in fast][:2] != [404, 404]  # the MCP endpoint itself answered
