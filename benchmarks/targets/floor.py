"""The floor: a bare Starlette endpoint that parses the same JSON-RPC body and returns the same result.

No MCP machinery at all: `json.loads` the body, switch on `method`, and answer
with the same `tools/list` result or, for `tools/call`, the same upstream GET (a
shared `httpx.AsyncClient`) turned into the same trimmed issue; on the echo path,
the demo connector's tool list and `demo_echo`'s text. Requests that
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

from . import _tuning
from ._fixtures import ECHO_PATH, ECHO_TOOL, MCP_PATH, SERVER_INFO, UPSTREAM_TOKEN, issue_text, trimmed_issue
from ._serve import common_arguments, load_catalog, load_echo_catalog, run

_JSON = "application/json"


def build_app(
    upstream_url: str,
    catalog: list[dict[str, Any]],
    stateful: bool = False,
    echo_catalog: list[dict[str, Any]] | None = None,
) -> Starlette:
    http = httpx.AsyncClient(
        base_url=upstream_url,
        transport=_tuning.plain_transport(),
        timeout=httpx.Timeout(30.0, connect=10.0),
        headers={
            "Authorization": f"Bearer {UPSTREAM_TOKEN}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        },
    )

    async def result_for(path: str, method: str, params: dict[str, Any]) -> dict[str, Any]:
        echo = path == ECHO_PATH
        if method == "tools/list":
            return {"tools": echo_catalog if echo else catalog}
        if method == "tools/call" and echo:
            if params.get("name") != ECHO_TOOL:
                raise KeyError(params.get("name"))
            text = (params.get("arguments") or {}).get("text")
            return {"content": [{"type": "text", "text": str(text)}], "isError": False}
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
            result = await result_for(request.url.path, message["method"], message.get("params") or {})
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

    routes = [Route(MCP_PATH, endpoint, methods=["POST"])]
    if echo_catalog:
        routes.append(Route(ECHO_PATH, endpoint, methods=["POST"]))
    return Starlette(routes=routes, lifespan=lifespan)


def main(argv: list[str] | None = None) -> None:
    args = common_arguments(__doc__.splitlines()[0]).parse_args(argv)
    echo = load_echo_catalog(args.echo_catalog)
    run(build_app(args.upstream, load_catalog(args.catalog), args.stateful, echo), args)


if __name__ == "__main__":
    main()
