"""The exact HTTP requests the load generator sends, and a check that each one succeeds.

A 2026-07-28 request is self-contained: the body's `params._meta` carries the
protocol version and client capabilities (and client info), and the headers repeat
the version, the method and, for `tools/call`, the tool name (`MCP-Protocol-Version`,
`Mcp-Method`, `Mcp-Name`, plus an `Mcp-Param-*` header for every argument whose
schema declares `x-mcp-header`), exactly as the SDK's inbound classifier
(`mcp.shared.inbound.classify_inbound_request`) requires. A 2025-11-25 request is
plain JSON-RPC with `MCP-Protocol-Version`; with a session, it also carries the
`Mcp-Session-Id` that an `initialize` handshake returned.

A cell's method is `tools/list`, `tools/call` (`github_get_issue`: one upstream GET)
or `echo` (a `tools/call` of `demo_echo` on the echo connector's path: no upstream call).

`verify` sends a request once and checks that the answer is a successful JSON-RPC
result of the right shape (a benchmark of error responses would be worthless).
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass, field
from typing import Any

from .targets._fixtures import ECHO_PATH, ECHO_TEXT, ECHO_TOOL, ISSUE_NUMBER, MCP_PATH, OWNER, REPO

MODERN = "2026-07-28"
HANDSHAKE = "2025-11-25"
TOOL = "github_get_issue"
ARGUMENTS = {"owner": OWNER, "repo": REPO, "issue_number": ISSUE_NUMBER}
ECHO = "echo"
CALL = "tools/call"
ECHO_ARGUMENTS = {"text": ECHO_TEXT}
CLIENT_INFO = {"name": "sagemcp-bench", "version": "1.0"}
ACCEPT = "application/json, text/event-stream"


class VerificationError(RuntimeError):
    """A target answered a benchmark request with something other than the expected success."""


@dataclass
class HttpRequest:
    headers: dict[str, str]
    body: bytes
    path: str = MCP_PATH
    expect: str = ""
    """A substring every successful response body contains (checked by the wrk script too)."""
    unique_ids: bool = False
    """Give every request its own JSON-RPC id when replayed (needed within one session)."""
    extra: dict[str, Any] = field(default_factory=dict)

    def spec(self) -> bytes:
        """The request as the wrk script reads it: header lines, a blank line, the body."""
        head = "" if self.path == MCP_PATH else f":path: {self.path}\n"
        head += ":unique-ids: 1\n" if self.unique_ids else ""
        head += "".join(f"{k}: {v}\n" for k, v in self.headers.items())
        return head.encode() + b"\n" + self.body


def specs(requests: list[HttpRequest]) -> bytes:
    """Several requests for the wrk script to send round-robin."""
    return b"\n\x1e\n".join(r.spec() for r in requests)


def for_tenant(request: HttpRequest, tenant: str, api_key: str, connector: str = "github") -> HttpRequest:
    """The same request addressed to another tenant's connector, with that tenant's API key."""
    headers = {**request.headers, "Authorization": f"Bearer {api_key}"}
    path = f"/api/v1/{tenant}/connectors/{connector}/mcp"
    return HttpRequest(headers, request.body, path, request.expect, request.unique_ids)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _param_headers(catalog: list[dict[str, Any]], name: str, arguments: dict[str, Any]) -> dict[str, str]:
    """`Mcp-Param-*` headers for the tool's `x-mcp-header` annotations, as the SDK client would send them."""
    from mcp.shared.inbound import find_invalid_x_mcp_header, mcp_param_headers, x_mcp_header_map

    schema = next((t.get("inputSchema") for t in catalog if t.get("name") == name), None)
    if schema is None or find_invalid_x_mcp_header(schema) is not None:
        return {}
    return mcp_param_headers(x_mcp_header_map(schema), arguments)


def build(
    method: str, era: str, api_key: str, catalog: list[dict[str, Any]], session_id: str | None = None
) -> HttpRequest:
    """The request for one cell: `method` is `tools/list`, `tools/call` or `echo`, `era` a protocol version.

    `catalog` is the tool list of the path the request goes to (the echo connector's for `echo`).
    """
    if method not in ("tools/list", "tools/call", ECHO):
        raise ValueError(f"unknown cell method {method!r}: expected tools/list, tools/call or {ECHO}")
    tool, arguments, path = (ECHO_TOOL, ECHO_ARGUMENTS, ECHO_PATH) if method == ECHO else (TOOL, ARGUMENTS, MCP_PATH)
    rpc = "tools/call" if method == ECHO else method
    params: dict[str, Any] = {}
    if rpc == "tools/call":
        params = {"name": tool, "arguments": arguments}
    headers = {
        "Content-Type": "application/json",
        "Accept": ACCEPT,
        "Authorization": f"Bearer {api_key}",
        "MCP-Protocol-Version": era,
    }
    if era == MODERN:
        params["_meta"] = {
            "io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": CLIENT_INFO,
        }
        headers["Mcp-Method"] = rpc
        if rpc == "tools/call":
            headers["Mcp-Name"] = tool
            headers.update(_param_headers(catalog, tool, arguments))
    if session_id is not None:
        headers["Mcp-Session-Id"] = session_id
    body = _dumps({"jsonrpc": "2.0", "id": 1, "method": rpc, "params": params})
    expect = {"tools/call": '"structuredContent"', ECHO: ECHO_TEXT}.get(method, f'"name":"{TOOL}"')
    return HttpRequest(headers=headers, body=body, path=path, expect=expect, unique_ids=session_id is not None)


def send(port: int, request: HttpRequest, timeout: float = 30.0) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", request.path, body=request.body, headers=request.headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def decode(headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """The JSON-RPC response in a JSON or SSE answer."""
    if headers.get("content-type", "").startswith("text/event-stream"):
        for line in body.decode().splitlines():
            if line.startswith("data:"):
                message = json.loads(line[5:].strip() or "null")
                if isinstance(message, dict) and ("result" in message or "error" in message):
                    return message
        raise VerificationError(f"no JSON-RPC response in the SSE stream: {body[:300]!r}")
    decoded: dict[str, Any] = json.loads(body)
    return decoded


def open_session(port: int, api_key: str, path: str = MCP_PATH) -> str:
    """`initialize` + `notifications/initialized` on 2025-11-25 at `path`; returns the `Mcp-Session-Id`."""
    headers = {
        "Content-Type": "application/json",
        "Accept": ACCEPT,
        "Authorization": f"Bearer {api_key}",
        "MCP-Protocol-Version": HANDSHAKE,
    }
    init = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {"protocolVersion": HANDSHAKE, "capabilities": {}, "clientInfo": CLIENT_INFO},
    }
    status, got, body = send(port, HttpRequest(headers=headers, body=_dumps(init), path=path))
    session_id = got.get("mcp-session-id")
    if status != 200 or not session_id:
        raise VerificationError(f"initialize answered {status} without a session id: {body[:300]!r}")
    message = decode(got, body)
    if "result" not in message:
        raise VerificationError(f"initialize failed: {message}")
    note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    status, _, body = send(
        port, HttpRequest(headers={**headers, "Mcp-Session-Id": session_id}, body=_dumps(note), path=path)
    )
    if status not in (200, 202):
        raise VerificationError(f"notifications/initialized answered {status}: {body[:300]!r}")
    return session_id


def verify(port: int, request: HttpRequest, method: str, tool_count: int | None = None) -> int:
    """Send `request` once; raise `VerificationError` unless it is a successful result. Returns the body size."""
    status, headers, body = send(port, request)
    return check(status, headers, body, request, method, tool_count)


def check(
    status: int, headers: dict[str, str], body: bytes, request: HttpRequest, method: str, tool_count: int | None = None
) -> int:
    """Raise `VerificationError` unless this answer to `request` is a successful result; returns the body size.

    `headers` have lower-case names.
    """
    if status != 200:
        raise VerificationError(f"HTTP {status}: {body[:500]!r}")
    message = decode(headers, body)
    if "error" in message or "result" not in message:
        raise VerificationError(f"JSON-RPC error: {json.dumps(message)[:500]}")
    result = message["result"]
    if method == ECHO:
        if result.get("isError"):
            raise VerificationError(f"the echo tool answered an error: {json.dumps(result)[:500]}")
        texts = [c.get("text") for c in result.get("content") or () if isinstance(c, dict)]
        if texts != [ECHO_TEXT]:
            raise VerificationError(f"the echo tool did not answer {ECHO_TEXT!r}: {json.dumps(result)[:500]}")
    elif method == "tools/call":
        if result.get("isError"):
            raise VerificationError(f"the tool answered an error: {json.dumps(result)[:500]}")
        structured = result.get("structuredContent") or {}
        if structured.get("number") != ISSUE_NUMBER:
            raise VerificationError(f"unexpected tool result: {json.dumps(result)[:500]}")
    else:
        names = [t.get("name") for t in result.get("tools", [])]
        if TOOL not in names:
            raise VerificationError(f"{TOOL} is not listed: {names[:10]}")
        if tool_count is not None and len(names) != tool_count:
            raise VerificationError(f"{len(names)} tools listed, the catalog has {tool_count}")
    if request.expect.encode() not in body:
        raise VerificationError(f"the response lacks {request.expect!r}, which the wrk script checks")
    if b'"isError":true' in body:
        raise VerificationError("the response contains isError:true")
    return len(body)
