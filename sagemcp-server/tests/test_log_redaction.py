"""Log redaction: every token format the connectors handle, PEM keys and Python reprs are caught; the MCP SDK's
DEBUG message dumps never reach the log; running out of file descriptors is logged once per interval."""

from __future__ import annotations

import errno
import io
import json
import logging
import secrets
import sys
from collections.abc import Iterator

import anyio
import httpx
import pytest
from conftest import Server

from sagemcp.testing import serve
from sagemcp_server.logging import (
    JsonFormatter,
    ResourceExhaustionFilter,
    SdkDebugFilter,
    TextFormatter,
    configure_logging,
    redact,
)

GITHUB = [
    ("ghp_" + "A1b2C3d4E5f6G7h8I9j0" * 2)[:40],
    "gho_16C7e42F292c6912E7710c838347Ae178B4a",
    "ghu_16C7e42F292c6912E7710c838347Ae178B4a",
    "ghs_16C7e42F292c6912E7710c838347Ae178B4a",
    "ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1ccbF66C46812d16D5B1A9Dc86A1498",
    "github_pat_11ABCDEFG0123456789abc_" + "x" * 59,
]
SLACK = [
    "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
    "xoxp-4956821562-4964826532-53432415425-9c4e9b2e0c2f6d8a3b1a",
    "xoxa-2-1234567890-abcdef",
    "xoxs-1234567890-abcdefghij",
    "xoxr-1234567890-abcdefghij",
    "xoxo-1234567890-abcdefghij",
    "xapp-1-A012B3CDEF4-5678901234567-abcdef0123456789",
    "xoxe.xoxp-1-Mi0yLTEyMzQ1Njc4OTAtMTIzNDU2Nzg5MA",
    "xoxe-1-My0xLTEyMzQ1Njc4OTAtMTIzNDU2Nzg5MA",
]
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----"
)


def test_github_and_slack_tokens_are_redacted() -> None:
    for token in GITHUB + SLACK:
        for line in (token, f"token={token}", f"Bearer {token}", f"failed with {token}.", f'"{token}"'):
            assert token not in redact(line), (token, line)


def test_pem_private_keys_are_redacted_whole() -> None:
    body_lines = PEM.splitlines()[1:-1]
    for text in (
        f"key: {PEM} after",
        json.dumps({"private_key": PEM}),  # escaped newlines
        PEM.replace("RSA ", "") + "\n" + PEM.replace("RSA", "EC"),
        PEM.replace("RSA", "ENCRYPTED"),
        PEM.replace("RSA", "OPENSSH"),
        "cut off: " + PEM.split("-----END")[0],  # no END line: everything after BEGIN goes
    ):
        cleaned = redact(text)
        assert "PRIVATE KEY-----" not in cleaned
        for line in body_lines:
            assert line not in cleaned, text
    assert redact(f"key: {PEM} after").endswith(" after")


def test_python_reprs_and_headers_are_redacted() -> None:
    secret = "s3cr3t-" + secrets.token_hex(8)
    lines = [
        repr({"access_token": secret, "name": "x"}),
        repr({"refresh_token": secret}),
        repr({"client_secret": secret}),
        repr({"bot_token": secret}),
        repr({"password": secret}),
        repr({"Authorization": f"Bearer {secret}"}),
        repr({"headers": {"authorization": secret}}),
        f"Credential(token={secret!r}, kind='bearer')",
        f'Config(api_key="{secret}")',
        f"Authorization: Bearer {secret}",
        f"authorization: {secret}",
        f"X-Api-Key: {secret}",
        f"Cookie: session={secret}; other=1",
        f"GET /cb?code={secret}&state=abc",
        json.dumps({"message": "refused", "data": {"access_token": secret}}),
        repr(json.dumps({"token": secret})),
    ]
    for line in lines:
        assert secret not in redact(line), line


def test_ordinary_text_is_left_alone() -> None:
    for text in (
        '{"code": "not_found", "state": "active", "name": "acme"}',
        "GET /api/v1/acme/mcp 200 3.1ms",
        "tenant acme: connector github added (token stored)",
        "{'kind': 'bearer', 'status': 'ok'}",
    ):
        assert redact(text) == text


def test_the_json_formatter_redacts_secrets_inside_messages_and_fields() -> None:
    secret = "s3cr3t-" + secrets.token_hex(8)
    record = logging.LogRecord(
        "sagemcp_server.api",
        logging.INFO,
        __file__,
        1,
        "upstream said %s",
        (json.dumps({"access_token": secret}),),
        None,
    )
    record.body = repr({"client_secret": secret})
    record.token_repr = f"token='{secret}'"
    line = JsonFormatter().format(record)
    assert secret not in line
    assert json.loads(line)["message"].startswith("upstream said")


def _exhausted_record(message: str = "socket.accept() out of system resource") -> logging.LogRecord:
    try:
        raise OSError(errno.EMFILE, "Too many open files")
    except OSError:
        info = sys.exc_info()
    return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, message, None, info)


def test_resource_exhaustion_is_logged_once_per_interval_with_a_count() -> None:
    now = [100.0]
    gate = ResourceExhaustionFilter(interval=60, clock=lambda: now[0])
    first = _exhausted_record()
    assert gate.filter(first) is True
    assert first.exc_info is None and "Too many open files" in first.getMessage() and "ulimit" in first.getMessage()
    for _ in range(500):
        now[0] += 0.01
        assert gate.filter(_exhausted_record()) is False
    now[0] += 60
    later = _exhausted_record()
    assert gate.filter(later) is True
    assert "500 more like it" in later.getMessage()
    # other errors pass untouched, with their traceback
    try:
        raise ValueError("boom")
    except ValueError:
        other = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    assert gate.filter(other) is True and other.exc_info is not None


def test_exhaustion_found_in_the_cause_of_an_exception() -> None:
    try:
        try:
            raise OSError(errno.ENFILE, "Too many open files in system")
        except OSError as exc:
            raise RuntimeError("could not open the database") from exc
    except RuntimeError:
        info = sys.exc_info()
    gate = ResourceExhaustionFilter()
    assert gate.filter(logging.LogRecord("x", logging.ERROR, __file__, 1, "db", None, info)) is True
    assert gate.filter(logging.LogRecord("x", logging.ERROR, __file__, 1, "db", None, info)) is False


def test_sdk_debug_records_are_dropped_and_others_kept() -> None:
    sdk = SdkDebugFilter()

    def record(name: str, level: int) -> logging.LogRecord:
        return logging.LogRecord(name, level, __file__, 1, "m", None, None)

    assert not sdk.filter(record("mcp.server.sse", logging.DEBUG))
    assert not sdk.filter(record("mcp", logging.DEBUG))
    assert not sdk.filter(record("sse_starlette.sse", logging.DEBUG))
    assert sdk.filter(record("mcp.server.sse", logging.INFO))
    assert sdk.filter(record("mcp.server.streamable_http", logging.WARNING))
    assert sdk.filter(record("sagemcp.mcp", logging.DEBUG))
    assert sdk.filter(record("mcpx", logging.DEBUG))


# -- the whole server at DEBUG ------------------------------------------------------------------------


@pytest.fixture
def server_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The server's own logging (`configure_logging`, as `sagemcp serve` sets it up) at DEBUG, into a buffer."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    levels = {n: logging.getLogger(n).level for n in ("mcp", "httpx", "httpcore", "asyncio", "uvicorn", "aiosqlite")}
    monkeypatch.setattr(sys, "stderr", stream)
    configure_logging("json", "debug")
    try:
        yield stream
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        logging.getLogger("uvicorn.access").disabled = False


async def _legacy_sse_echo(base: str, path: str, key: str, text: str) -> str:
    """Open a legacy SSE stream, post `tools/call demo_echo` on it, return the result's text."""
    headers = {"Authorization": f"Bearer {key}"}
    async with (
        httpx.AsyncClient(base_url=base, timeout=10) as http,
        http.stream("GET", path + "/sse", headers={**headers, "Accept": "text/event-stream"}) as stream,
    ):
        assert stream.status_code == 200
        lines = stream.aiter_lines()
        event, endpoint = None, None
        with anyio.fail_after(10):
            async for line in lines:
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "endpoint":
                    endpoint = line[5:].strip()
                    break
        assert endpoint is not None

        async def post(message: dict[str, object]) -> None:
            r = await http.post(endpoint, json=message, headers=headers)
            assert r.status_code == 202, r.text

        init = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
        await post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init})
        await post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        call = {"name": "demo_echo", "arguments": {"text": text}}
        await post({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": call})
        with anyio.fail_after(10):
            async for line in lines:
                if line.startswith("data:"):
                    message = json.loads(line[5:])
                    if message.get("id") == 2:
                        return str(message["result"]["content"][0]["text"])
    raise AssertionError("no answer on the SSE stream")


async def test_no_tool_argument_or_secret_reaches_the_log_at_debug(server: Server, server_logs: io.StringIO) -> None:
    """Regression: at DEBUG the SDK's legacy SSE transport logged every message it received and sent whole
    (`Received JSON: ...`), tool arguments and results included, which no redactor can recognise."""
    await server.tenant("acme")
    await server.connector("acme", "demo")
    key = await server.key("acme", ["mcp"])
    marker = "note-" + secrets.token_hex(16)  # an argument no pattern recognises
    secret_log = [*GITHUB, *SLACK, PEM]
    async with serve(server.app, log_level="debug", lifespan="off") as base:  # the fixture runs the lifespan
        assert await _legacy_sse_echo(base, "/api/v1/acme", key, marker) == marker
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            r = await http.post(
                "/api/v1/acme/mcp",
                json={
                    "jsonrpc": "2.0",
                    "id": 3,
                    "method": "tools/call",
                    "params": {"name": "demo_echo", "arguments": {"text": marker}},
                },
                headers={
                    "Authorization": f"Bearer {key}",
                    "Accept": "application/json, text/event-stream",
                    "MCP-Protocol-Version": "2025-11-25",
                },
            )
            assert marker in r.text
    log = logging.getLogger("sagemcp_server.test")
    for value in secret_log:
        log.debug("upstream answered %s", value)
        log.error("headers %r", {"Authorization": f"Bearer {value}"})
    output = server_logs.getvalue()
    assert '"level": "debug"' in output and "sagemcp_server" in output  # DEBUG records were written
    assert "Received JSON" not in output and "Sending message via SSE" not in output
    assert marker not in output
    assert key not in output
    for value in secret_log:
        for part in value.splitlines():
            assert part not in output, part[:20]


def test_the_text_formatter_redacts_too() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s and %r", (SLACK[0], {"password": "hunter2x"}), None)
    text = TextFormatter().format(record)
    assert SLACK[0] not in text and "hunter2x" not in text
