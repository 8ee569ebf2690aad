"""The WebSocket transport (subprotocol `mcp`, one JSON-RPC message per text frame).

The MCP SDK dropped WebSocket in 2.x; clients of the original SageMCP still use it.
The connection is admitted (authenticated and bound to tenant, connector and
caller) once, before it is accepted; every message then carries that binding.
A frame that is not one valid JSON-RPC message (including a request whose id is
neither a string nor an integer) gets an error frame; the connection stays open.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import mcp_types as types
from mcp.server import Server
from mcp.shared._context_streams import create_context_streams
from mcp.shared.message import ServerMessageMetadata, SessionMessage
from starlette.websockets import WebSocket, WebSocketDisconnect

from ._http import jsonrpc_problem
from ._streams import OpenStream

logger = logging.getLogger("sagemcp.mcp")

SUBPROTOCOL = "mcp"
MAX_FRAME_CHARS = 4 * 1024 * 1024


async def serve_websocket(
    server: Server[Any],
    ws: WebSocket,
    *,
    readmit: Callable[[], Awaitable[int | None]] | None = None,
    readmit_after: float = 5.0,
    stream: OpenStream | None = None,
) -> None:
    """Serve one connection. Every `readmit_after` seconds the next message first re-runs admission
    (`readmit` returns a close code to refuse), so a revoked key or a changed policy reaches open
    connections as it reaches new requests. `stream` is the connection as the stream guard tracks
    it: every frame either way marks it active, and when the guard closes it (idle, access
    revoked) the socket closes with the code that says why."""
    offered = ws.scope.get("subprotocols") or []
    await ws.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
    read_writer, read_stream = create_context_streams[SessionMessage | Exception](16)
    write_stream, write_reader = create_context_streams[SessionMessage](16)

    async def reader() -> None:
        try:
            async with read_writer:
                admitted = time.monotonic()
                while True:
                    text = await ws.receive_text()
                    if stream is not None:
                        stream.touch()
                    if readmit is not None and time.monotonic() - admitted >= readmit_after:
                        refused = await readmit()
                        if refused is not None:
                            await ws.close(code=refused, reason="access changed")
                            return
                        admitted = time.monotonic()
                    reply = _parse_error(text)
                    if reply is not None:
                        await ws.send_text(reply)
                        continue
                    message = types.jsonrpc_message_adapter.validate_json(text, by_name=False)
                    await read_writer.send(SessionMessage(message, metadata=ServerMessageMetadata(request_context=ws)))
        except (WebSocketDisconnect, RuntimeError, KeyError):
            pass  # client went away, or sent a binary frame (receive_text raises KeyError)
        finally:
            tg.cancel_scope.cancel()

    async def writer() -> None:
        try:
            async with write_reader:
                while True:
                    try:
                        msg = await write_reader.receive()
                    except (anyio.EndOfStream, anyio.ClosedResourceError):
                        return
                    await ws.send_text(msg.message.model_dump_json(by_alias=True, exclude_unset=True))
                    if stream is not None:
                        stream.touch()
        except (WebSocketDisconnect, RuntimeError):
            tg.cancel_scope.cancel()

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(reader)
            tg.start_soon(writer)
            try:
                await server.run(read_stream, write_stream, server.create_initialization_options())
            finally:
                tg.cancel_scope.cancel()
    finally:
        # Also when the guard cancelled the connection: the close code says why.
        code, reason = stream.websocket_close if stream is not None else (1000, "")
        with anyio.CancelScope(shield=True), contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await ws.close(code=code, reason=reason)


def _parse_error(text: str) -> str | None:
    """A JSON-RPC error frame for text that is not one valid JSON-RPC message, else None."""
    if len(text) > MAX_FRAME_CHARS:
        return _error(None, types.INVALID_REQUEST, f"Message larger than {MAX_FRAME_CHARS} characters")
    problem = jsonrpc_problem(text)
    if problem is None:
        return None
    code, message, request_id = problem
    return _error(request_id, code, message)


def _error(request_id: str | int | None, code: int, message: str) -> str:
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}})
