"""Logs: one JSON object per line (or readable text on a terminal), each with the request id.

Every line goes through `redact()` before it is written, as a second line of defence:
the code never logs secrets on purpose, and anything shaped like an API key, a bearer
token, a `SecretBox` ciphertext, or a `code=`/`state=`/`token=` parameter is replaced
by `[redacted]` anyway. Uvicorn's access log (which prints query strings, and so OAuth
codes) is replaced by our own, which logs paths without query strings.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, Literal

from starlette.requests import ClientDisconnect

__all__ = [
    "JsonFormatter",
    "TextFormatter",
    "configure_logging",
    "current_request_id",
    "quiet_noisy_loggers",
    "redact",
    "request_id_var",
]

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("sagemcp_request_id", default=None)

_REDACTED = "[redacted]"
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # API keys made by sagemcp.keys: <prefix>_<43 URL-safe characters>
    (re.compile(r"\b[a-z][a-z0-9]{0,15}_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])"), _REDACTED),
    # SecretBox ciphertexts
    (re.compile(r"\bv1\.[0-9a-f]{8}\.[A-Za-z0-9_-]{20,}"), _REDACTED),
    # Authorization header values
    (re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + _REDACTED),
    # query-string and form parameters that carry secrets
    (
        re.compile(
            r"(?i)\b(code|state|access_token|refresh_token|id_token|client_secret|code_verifier|token|api_key|"
            r"password|secret)=([^&\s\"']+)"
        ),
        r"\1=" + _REDACTED,
    ),
    # JSON fields that carry secrets
    (
        re.compile(
            r"(?i)\"(access_token|refresh_token|id_token|client_secret|code_verifier|token|api_key|password|key)\""
            r"\s*:\s*\"[^\"]*\""
        ),
        r'"\1": "' + _REDACTED + '"',
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
                data[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
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
    handler.addFilter(ClientGoneFilter())
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
    parameters at DEBUG (encrypted secrets, key hashes).
    """
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
