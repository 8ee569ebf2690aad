"""The floor: a bare Starlette endpoint that parses the same JSON-RPC body and returns the same result.

No MCP machinery at all: `json.loads` the body, switch on `method`, and answer
with the same `tools/list` result or, for `tools/call`, the same upstream GET (a
shared `httpx.AsyncClient`) turned into the same trimmed issue. Requests that
carry an `Mcp-Session-Id` are answered as an SSE event, as the SDK's stateful
transport answers them. This is what HTTP, JSON and the upstream call cost on
this machine; everything above it is protocol and platform.

    python -m benchmarks.targets.floor --port 18003 --upstream http://127.0.0.1:18001
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._fixtures import MCP_PATH, SERVER_INFO, UPSTREAM_TOKEN, issue_text, trimmed_issue
from ._serve import common_arguments, load_catalog, run

_JSON = "application/json"


def build_app(upstream_url: str, catalog: list[dict[str, Any]], stateful: bool = False) -> Starlette:
    http = httpx.AsyncClient(
        base_url=upstream_url,
        timeout=httpx.Timeout(30.0, connect=10.0),
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=200),
        headers={
            "Authorization": f"Bearer {UPSTREAM_TOKEN}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        },
    )

    async def result_for(method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "tools/list":
            return {"tools": catalog}
        if method == "tools/call":
            args = params.get("arguments") or {}
            response = await http.get(f"/repos/{args['owner']}/{args['repo']}/issues/{int(args['issue_number'])}")
            response.raise_for_status()
            data = response.json()
            return {
                "content": [{"type": "text", "text": issue_text(data)}],
                "structuredContent": trimmed_issue(data),
                "isError": False,
            }
        if method == "initialize":
            return {
                "protocolVersion": params.get("protocolVersion", "2025-11-25"),
                "capabilities": {"tools": {"listChanged": False}},
                "serverInfo": SERVER_INFO,
            }
        if method in ("ping", "server/discover"):
            return {}
        raise KeyError(method)

    async def endpoint(request: Request) -> Response:
        message = json.loads(await request.body())
        if "id" not in message:
            return Response(status_code=202)
        try:
            result = await result_for(message["method"], message.get("params") or {})
            reply: dict[str, Any] = {"jsonrpc": "2.0", "id": message["id"], "result": result}
        except KeyError:
            reply = {"jsonrpc": "2.0", "id": message["id"], "error": {"code": -32601, "message": "Method not found"}}
        body = json.dumps(reply, separators=(",", ":"))
        headers: dict[str, str] = {}
        session = request.headers.get("mcp-session-id")
        if message.get("method") == "initialize" and stateful:
            session = headers["mcp-session-id"] = uuid.uuid4().hex
        if session is not None:
            headers["mcp-session-id"] = session
            return Response(f"event: message\r\ndata: {body}\r\n\r\n", headers=headers, media_type="text/event-stream")
        return Response(body, headers=headers, media_type=_JSON)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await http.aclose()

    return Starlette(routes=[Route(MCP_PATH, endpoint, methods=["POST"])], lifespan=lifespan)


def main(argv: list[str] | None = None) -> None:
    args = common_arguments(__doc__.splitlines()[0]).parse_args(argv)
    run(build_app(args.upstream, load_catalog(args.catalog), args.stateful), args)


if __name__ == "__main__":
    main()
