"""The servers under test, each started as its own process by `benchmarks.run`.

- `floor`: a bare Starlette endpoint answering the same JSON-RPC bodies with the same results.
- `sdk`: the MCP SDK's low-level `Server`, one tool making the same upstream GET with httpx.
- `sagemcp_core`: core's `create_mcp_app` over a `MemoryStore` (or the server's SQL store),
  API-key auth, a connector tool calling the same fake upstream, audit events and metrics on.
- `sagemcp_server`: the reference server (`sagemcp serve`), when it is installed, on the same
  upstream network backend as the others (`_tuning`).
- `fake_upstream`: the fake GitHub API every target calls.
"""
