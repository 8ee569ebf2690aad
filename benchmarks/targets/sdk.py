"""The bare MCP SDK: the low-level `Server`, stateless with JSON responses (or stateful with a session).

It serves the same tool list as the sagemcp target and one working tool,
`github_get_issue`, which makes the same upstream GET with a shared
`httpx.AsyncClient` and returns the same trimmed issue as structured content plus
the same Markdown text. No tenants, no auth, no argument validation beyond reading three
arguments: the SDK's own cost plus the upstream call.

    python -m benchmarks.targets.sdk --port 18002 --upstream http://127.0.0.1:18001
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import mcp_types as types
from mcp.server import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.applications import Starlette
from starlette.routing import Route

from ._fixtures import MCP_PATH, UPSTREAM_TOKEN, issue_text, trimmed_issue
from ._serve import common_arguments, load_catalog, run


def build_app(upstream_url: str, catalog: list[dict[str, Any]], stateful: bool = False) -> Starlette:
    tools = [types.Tool.model_validate(t) for t in catalog]
    schemas = {t.name: t.input_schema for t in tools}
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

    async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        if params.name != "github_get_issue":
            return types.CallToolResult(content=[types.TextContent(type="text", text="unknown tool")], is_error=True)
        args = params.arguments or {}
        response = await http.get(f"/repos/{args['owner']}/{args['repo']}/issues/{int(args['issue_number'])}")
        response.raise_for_status()
        data = response.json()
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=issue_text(data))], structured_content=trimmed_issue(data)
        )

    server: Server[Any] = Server(
        "bench-sdk", version="1.0", get_tool_input_schema=schemas.get, on_list_tools=list_tools, on_call_tool=call_tool
    )
    manager = StreamableHTTPSessionManager(app=server, stateless=not stateful, json_response=not stateful)

    class Endpoint:
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await manager.handle_request(scope, receive, send)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with manager.run():
            yield
        await http.aclose()

    return Starlette(routes=[Route(MCP_PATH, Endpoint(), methods=["GET", "POST", "DELETE"])], lifespan=lifespan)


def main(argv: list[str] | None = None) -> None:
    args = common_arguments(__doc__.splitlines()[0]).parse_args(argv)
    run(build_app(args.upstream, load_catalog(args.catalog), args.stateful), args)


if __name__ == "__main__":
    main()
