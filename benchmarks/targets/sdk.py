"""The bare MCP SDK: the low-level `Server`, stateless with JSON responses (or stateful with a session).

It serves the same tool list as the sagemcp target and one working tool,
`github_get_issue`, which makes the same upstream GET with a shared
`httpx.AsyncClient` and returns the same trimmed issue as structured content plus
the same Markdown text. On the echo path it serves the demo connector's tool list and
`demo_echo`, answering the text it is sent. No tenants, no auth, no argument validation
beyond reading the arguments: the SDK's own cost (plus the upstream call).

    python -m benchmarks.targets.sdk --port 18002 --upstream http://127.0.0.1:18001
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import mcp_types as types
from mcp.server import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.applications import Starlette
from starlette.routing import Route

from . import _tuning
from ._fixtures import ECHO_PATH, ECHO_TOOL, MCP_PATH, UPSTREAM_TOKEN, issue_text, trimmed_issue
from ._serve import common_arguments, load_catalog, load_echo_catalog, run

ToolCall = Callable[[types.CallToolRequestParams], Awaitable[types.CallToolResult]]


def _unknown(name: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=f"unknown tool {name}")], is_error=True)


def _manager(name: str, catalog: list[dict[str, Any]], call: ToolCall, stateful: bool) -> StreamableHTTPSessionManager:
    tools = [types.Tool.model_validate(t) for t in catalog]
    schemas = {t.name: t.input_schema for t in tools}

    async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        return await call(params)

    server: Server[Any] = Server(
        name, version="1.0", get_tool_input_schema=schemas.get, on_list_tools=list_tools, on_call_tool=call_tool
    )
    return StreamableHTTPSessionManager(app=server, stateless=not stateful, json_response=not stateful)


def build_app(
    upstream_url: str,
    catalog: list[dict[str, Any]],
    stateful: bool = False,
    echo_catalog: list[dict[str, Any]] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """The app; `transport` replaces the upstream client's plain one (the in-process cost cells' fake upstream)."""
    http = httpx.AsyncClient(
        base_url=upstream_url,
        transport=transport or _tuning.plain_transport(),
        timeout=httpx.Timeout(30.0, connect=10.0),
        headers={
            "Authorization": f"Bearer {UPSTREAM_TOKEN}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        },
    )

    async def get_issue(params: types.CallToolRequestParams) -> types.CallToolResult:
        if params.name != "github_get_issue":
            return _unknown(params.name)
        args = params.arguments or {}
        response = await http.get(f"/repos/{args['owner']}/{args['repo']}/issues/{int(args['issue_number'])}")
        response.raise_for_status()
        data = response.json()
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=issue_text(data))], structured_content=trimmed_issue(data)
        )

    async def echo(params: types.CallToolRequestParams) -> types.CallToolResult:
        if params.name != ECHO_TOOL:
            return _unknown(params.name)
        text = (params.arguments or {}).get("text")
        return types.CallToolResult(content=[types.TextContent(type="text", text=str(text))])

    managers = {MCP_PATH: _manager("bench-sdk", catalog, get_issue, stateful)}
    if echo_catalog:
        managers[ECHO_PATH] = _manager("bench-sdk-echo", echo_catalog, echo, stateful)

    class Endpoint:
        def __init__(self, manager: StreamableHTTPSessionManager) -> None:
            self.manager = manager

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await self.manager.handle_request(scope, receive, send)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for manager in managers.values():
                await stack.enter_async_context(manager.run())
            yield
        await http.aclose()

    routes = [Route(path, Endpoint(m), methods=["GET", "POST", "DELETE"]) for path, m in managers.items()]
    return Starlette(routes=routes, lifespan=lifespan)


def main(argv: list[str] | None = None) -> None:
    args = common_arguments(__doc__.splitlines()[0]).parse_args(argv)
    echo = load_echo_catalog(args.echo_catalog)
    run(build_app(args.upstream, load_catalog(args.catalog), args.stateful, echo), args)


if __name__ == "__main__":
    main()
