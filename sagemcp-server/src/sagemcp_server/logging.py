"""Logs: one JSON object per line (or readable text on a terminal), each with the request id.

Every line goes through `redact()` before it is written, as a second line of defence:
the code never logs secrets on purpose, and anything shaped like a secret is replaced by
`[redacted]` anyway: sagemcp API keys, GitHub and Slack tokens, PEM private keys, bearer
and basic credentials, `Authorization`-style headers, `SecretBox` ciphertexts, and
secret-named fields in query strings, JSON, Python reprs and keyword reprs
(`code=`, `"access_token": "..."`, `'client_secret': '...'`, `token='...'`).

The MCP SDK's DEBUG output is never written (`SdkDebugFilter`): its transports log whole
messages there, tool arguments and results included. Uvicorn's access log (which prints
query strings, and so OAuth codes) is replaced by our own, which logs paths without query
strings. Running out of file descriptors or memory is logged once per interval, with a
count of the repeats, instead of once per refused connection (`ResourceExhaustionFilter`).
"""

from __future__ import annotations

import contextvars
import errno
import json
import logging
import re
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from starlette.requests import ClientDisconnect

__all__ = [
    "JsonFormatter",
    "ResourceExhaustionFilter",
    "SdkDebugFilter",
    "TextFormatter",
    "configure_logging",
    "current_request_id",
    "quiet_noisy_loggers",
    "redact",
    "request_id_var",
]

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("sagemcp_request_id", default=None)

_REDACTED = "[redacted]"
# Names whose values are secrets: of fields (JSON, reprs) and, adding OAuth's `code` and `state`, of parameters.
_SECRET_FIELDS = r"(?:\w*(?:token|secret|password|passwd|api_?key|private_key)|key|code_verifier|authorization|cookie)"
_SECRET_PARAMS = r"(?:" + _SECRET_FIELDS + r"|code|state)"
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # PEM private keys, the whole block (or everything after a BEGIN line whose END was cut off)
    (
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----.*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|\Z)", re.DOTALL
        ),
        _REDACTED,
    ),
    # API keys made by sagemcp._keys: <prefix>_<43 URL-safe characters>
    (re.compile(r"\b[a-z][a-z0-9]{0,15}_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])"), _REDACTED),
    # GitHub tokens: classic and OAuth (ghp_, gho_, ghu_, ghs_, ghr_) and fine-grained (github_pat_)
    (re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{16,})"), _REDACTED),
    # Slack tokens: bot, user, app-level, refresh and rotating ones (xoxb-, xoxp-, xapp-, xoxe-, xoxe.xoxp-)
    (re.compile(r"\b(?:xox(?:[abposr]|e(?:\.xox[abposr])?)|xapp)-[A-Za-z0-9-]{6,}"), _REDACTED),
    # SecretBox ciphertexts
    (re.compile(r"\bv1\.[0-9a-f]{8}\.[A-Za-z0-9_-]{20,}"), _REDACTED),
    # Authorization header values
    (re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + _REDACTED),
    # headers that carry credentials, up to the end of the line: `Authorization: ...`, `X-Api-Key: ...`
    (
        re.compile(
            r"(?i)\b(authorization|proxy-authorization|x-api-key|api-key|x-auth-token|private-token|cookie|set-cookie)"
            r"(\s*:\s*)(?!\[redacted\])[^\s'\"][^\r\n'\"]*"
        ),
        r"\1\2" + _REDACTED,
    ),
    # query-string and form parameters that carry secrets
    (re.compile(r"(?i)\b(" + _SECRET_PARAMS + r")=(?!\[redacted\])([^&\s\"',)]+)"), r"\1=" + _REDACTED),
    # keyword reprs: token='...', client_secret="..."
    (
        re.compile(r"(?i)\b(" + _SECRET_FIELDS + r")=(['\"])(?:\\.|(?!\2)[^\\])*\2"),
        r"\1=\2" + _REDACTED + r"\2",
    ),
    # JSON fields and Python dict reprs: "access_token": "...", 'client_secret': '...'
    (
        re.compile(r"(?i)(['\"])(" + _SECRET_FIELDS + r")\1(\s*:\s*)(['\"])(?:\\.|(?!\4)[^\\])*\4"),
        r"\1\2\1\3\4" + _REDACTED + r"\4",
    ),
]


def redact(text: str) -> str:
    """`text` with anything that looks like a secret replaced by `[redacted]`."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def current_request_id() -> str | None:
    return request_id_var.get()


_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "request_id", "taskName", "color_message"}
)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request id, extra fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            data["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                data[key] = value if isinstance(value, (int, float, bool, type(None))) else str(value)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        # Each value is redacted before it is quoted (JSON escaping would hide `"token": "..."` in a message)
        # and the whole line once more after.
        data = {key: redact(value) if isinstance(value, str) else value for key, value in data.items()}
        return redact(json.dumps(data, ensure_ascii=False, default=str))


class TextFormatter(logging.Formatter):
    """Readable lines for a terminal: time, level, logger, message, [request id]."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            first, sep, rest = text.partition("\n")
            text = f"{first} [{request_id}]{sep}{rest}"
        return redact(text)


def configure_logging(fmt: Literal["auto", "json", "text"] = "auto", level: str = "info") -> None:
    """Send every log record to stderr in the chosen format; quiet the chatty HTTP client loggers."""
    if fmt == "auto":
        fmt = "text" if sys.stderr.isatty() else "json"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(SdkDebugFilter())
    handler.addFilter(ClientGoneFilter())
    handler.addFilter(ResourceExhaustionFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    quiet_noisy_loggers()


class ClientGoneFilter(logging.Filter):
    """Turn "error handling the request" records whose cause is the client hanging up (the SDK logs
    them with a traceback) into one INFO line: nothing failed on the server's side."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and isinstance(exc, ClientDisconnect) and record.levelno > logging.INFO:
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg, record.args = "the client disconnected before its request was read", None
            record.exc_info, record.exc_text = None, None
        return True


SDK_LOGGERS = ("mcp", "sse_starlette")
"""The logger trees of the MCP SDK (`mcp.server.sse`, `mcp.server.streamable_http`, ...) and of the SSE library
its transports write with, which log whole messages below INFO."""


class SdkDebugFilter(logging.Filter):
    """Drop the MCP SDK's records below INFO (and those of its SSE library). They log whole JSON-RPC
    messages at DEBUG (`Received JSON: ...`, `Sending message via SSE: ...`, `chunk: b'...'`): tool
    arguments and results, which no redactor can tell from ordinary text. The server's own DEBUG
    lines stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.INFO:
            return True
        return not any(record.name == name or record.name.startswith(name + ".") for name in SDK_LOGGERS)


_EXHAUSTION_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


def _exhaustion(record: logging.LogRecord) -> OSError | None:
    """The out-of-resources error a record is about (in its exception or the exception's causes), if any."""
    exc = record.exc_info[1] if record.exc_info else None
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, OSError) and exc.errno in _EXHAUSTION_ERRNOS:
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


class ResourceExhaustionFilter(logging.Filter):
    """Let one record about running out of file descriptors, socket buffers or memory through per
    `interval` seconds, as one line without a traceback and with the number of repeats held back.

    At the file-descriptor limit every refused connection (and every request that cannot open a
    database connection) logs the same error; written each time, they fill the disk faster than
    anyone can read them, and the writes themselves slow the server down further.
    """

    def __init__(self, interval: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._last: float | None = None
        self._held = 0

    def filter(self, record: logging.LogRecord) -> bool:
        exc = _exhaustion(record)
        if exc is None:
            return True
        with self._lock:
            now = self._clock()
            if self._last is not None and now - self._last < self.interval:
                self._held += 1
                return False
            held, self._held, self._last = self._held, 0, now
        text = f"{record.getMessage()}: {exc.strerror or exc} (errno {exc.errno})"
        if held:
            text += f"; {held} more like it in the last {self.interval:g} s were not logged"
        text += (
            "; the process is out of file descriptors or memory: raise its limit (ulimit -n) or lower "
            "SAGEMCP_HTTP_MAX_CONNECTIONS"
        )
        record.msg, record.args = text, None
        record.exc_info, record.exc_text = None, None
        return True


NOISY_LOGGERS = (
    "httpx",
    "httpx2",
    "httpcore",
    "httpcore2",
    "aiosqlite",
    "asyncio",
    "sqlalchemy.engine",
    "alembic.runtime.plugins",
)


def quiet_noisy_loggers() -> None:
    """Keep third-party loggers that print URLs, SQL parameters or request lines at WARNING.

    httpx logs full URLs at INFO (an upstream API may take a key in its query string,
    and an OAuth callback URL carries the code); aiosqlite logs statements with their
    parameters at DEBUG (encrypted secrets, key hashes); the MCP SDK logs whole messages
    at DEBUG, so it is kept at INFO.
    """
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # Below INFO the SDK logs whole messages (see `SdkDebugFilter`, which also drops them at the handler).
    for name in SDK_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
