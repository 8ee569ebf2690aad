"""`DirectRoutes` answers exactly as the Starlette app it bypasses: same routes, parameters, scope and failures."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from sagemcp.mcp._direct import DirectRoutes

SEEN: list[dict[str, Any]] = []


class _Endpoint:
    """Answers what routing put in the scope; `/boom/...` raises, `/teapot/...` raises an HTTPException."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        tenant = scope["path_params"]["tenant"]
        if tenant == "boom":
            raise RuntimeError("the endpoint failed")
        if tenant == "teapot":
            raise HTTPException(418, "short and stout", headers={"x-kind": "teapot"})
        SEEN.append(scope)
        body = json.dumps(
            {
                "endpoint": self.name,
                "params": scope["path_params"],
                "route": scope["route"].path,
                "router": type(scope["router"]).__name__,
            }
        ).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})


def _inner() -> Starlette:
    return Starlette(
        routes=[
            Route("/{tenant}/connectors/{connector}/mcp", _Endpoint("one"), methods=["GET", "POST", "DELETE"]),
            Route("/{tenant}/mcp", _Endpoint("all"), methods=["GET", "POST", "DELETE"]),
            Route("/{tenant}/sse", _Endpoint("sse"), methods=["GET"]),
        ]
    )


class _Direct:
    """The inner app behind `DirectRoutes`, as `McpApp` uses it."""

    def __init__(self) -> None:
        self.app = _inner()
        one, tenant_wide = self.app.router.routes[:2]
        assert isinstance(one, Route)
        assert isinstance(tenant_wide, Route)
        self.direct = DirectRoutes(self.app, tenant_wide=tenant_wide, per_connector=one)
        self.served = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            found = self.direct.match(scope)
            if found is not None:
                self.served += 1
                await self.direct.serve(found, scope, receive, send)
                return
        await self.app(scope, receive, send)


def _mounted(inner: Any) -> Starlette:
    return Starlette(routes=[Mount("/api/v1", app=inner)])


CASES = [
    ("POST", "/api/v1/acme/mcp", True),
    ("GET", "/api/v1/acme/mcp", True),
    ("HEAD", "/api/v1/acme/mcp", True),
    ("DELETE", "/api/v1/acme/connectors/github/mcp", True),
    ("POST", "/api/v1/acme%20x/connectors/git%40hub/mcp", True),
    ("POST", "/api/v1/acme/connectors/git%2Fhub/mcp", False),  # ASGI paths are decoded: one segment more
    ("PUT", "/api/v1/acme/mcp", False),  # 405 from the router
    ("PATCH", "/api/v1/acme/connectors/github/mcp", False),
    ("POST", "/api/v1//mcp", False),
    ("POST", "/api/v1/acme/connectors//mcp", False),
    ("POST", "/api/v1/acme/mcp/", False),  # the router's slash redirect
    ("POST", "/api/v1/acme/other/mcp", False),
    ("POST", "/api/v1/acme/connectors/github/mcpx", False),
    ("GET", "/api/v1/acme/sse", False),
    ("POST", "/api/v1/acme", False),
    ("POST", "/api/v1/teapot/mcp", True),
]


@pytest.mark.parametrize(("method", "path", "direct"), CASES)
async def test_answers_as_the_starlette_app(method: str, path: str, direct: bool) -> None:
    fast = _Direct()
    answers = []
    for app in (_mounted(_inner()), _mounted(fast)):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            r = await http.request(method, path, follow_redirects=False)
        answers.append((r.status_code, sorted(r.headers.items()), r.content))
    assert answers[0] == answers[1]
    assert fast.served == (1 if direct else 0)


async def test_the_scope_is_set_as_the_router_sets_it() -> None:
    SEEN.clear()
    for app in (_mounted(_inner()), _mounted(_Direct())):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            r = await http.post("/api/v1/acme/connectors/github/mcp")
        assert r.json() == {
            "endpoint": "one",
            "params": {"tenant": "acme", "connector": "github"},
            "route": "/{tenant}/connectors/{connector}/mcp",
            "router": "Router",
        }
    routed, direct = SEEN
    for key in ("path_params", "root_path", "path"):
        assert routed[key] == direct[key], key
    assert routed["endpoint"].name == direct["endpoint"].name == "one"
    assert routed["route"].path == direct["route"].path
    assert routed["router"] is not None and direct["router"] is not None


async def test_a_failure_answers_500_and_is_raised() -> None:
    app = _Direct()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/boom/mcp",
        "root_path": "",
        "headers": [],
        "query_string": b"",
    }
    with pytest.raises(RuntimeError, match="the endpoint failed"):
        await app(scope, receive, send)
    assert app.served == 1
    assert sent[0]["status"] == 500 and sent[1]["body"] == b"Internal Server Error"


def test_only_the_two_streamable_routes() -> None:
    app = _inner()
    sse = app.router.routes[2]
    assert isinstance(sse, Route)
    with pytest.raises(ValueError, match="recognises"):
        DirectRoutes(app, tenant_wide=sse, per_connector=sse)
