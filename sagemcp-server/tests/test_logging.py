"""Log records about clients that hung up are one INFO line, not an error with a traceback."""

from __future__ import annotations

import logging
import sys

from starlette.requests import ClientDisconnect

from sagemcp_server.logging import ClientGoneFilter, JsonFormatter


def _record(exc: BaseException) -> logging.LogRecord:
    try:
        raise exc
    except BaseException:
        info = sys.exc_info()
    return logging.LogRecord(
        "mcp.server.streamable_http", logging.ERROR, __file__, 1, "Error handling POST request", None, info
    )


def test_a_client_disconnect_becomes_one_info_line() -> None:
    record = _record(ClientDisconnect())
    assert ClientGoneFilter().filter(record) is True
    assert record.levelno == logging.INFO and record.levelname == "INFO"
    assert record.exc_info is None
    line = JsonFormatter().format(record)
    assert "Traceback" not in line and "disconnected" in line


def test_other_errors_keep_their_level_and_traceback() -> None:
    record = _record(RuntimeError("boom"))
    assert ClientGoneFilter().filter(record) is True
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert "Traceback" in JsonFormatter().format(record)
