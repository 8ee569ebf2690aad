"""One JSON error body for every failure of the HTTP API, and the one place exceptions become responses.

```json
{"error": {"code": "invalid_configuration", "message": "...", "details": [{"field": "site", "message": "..."}]},
 "request_id": "4f1c..."}
```

`code` is stable and machine-readable; `message` tells a person what to do next;
`details` names the offending fields (never their values, which may be secrets).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sagemcp.errors import (
    AccessDenied,
    ConcurrentUpdate,
    ConnectorNotFound,
    CryptoError,
    LookupFailed,
    NotAuthenticated,
    SageMCPError,
    StoreError,
    TenantNotFound,
)

from ..db.people import PeopleError
from ..db.store import DatabaseUnavailable, Duplicate, InvalidValue
from ..logging import current_request_id

__all__ = ["ApiError", "error_response", "handle_exception", "refuse_duplicate_pins", "validation_details"]

logger = logging.getLogger("sagemcp_server.api")

_STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    500: "internal_error",
    503: "unavailable",
}


class ApiError(Exception):
    """An error the API answers with `status` and the standard body."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Sequence[tuple[str | None, str]] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = list(details)
        self.headers = headers or {}


def validation_details(exc: ValidationError, prefix: str = "") -> list[tuple[str | None, str]]:
    """`(field, message)` pairs from a pydantic error, without the input values."""
    pairs: list[tuple[str | None, str]] = []
    for err in exc.errors(include_url=False, include_input=False, include_context=False):
        path = ".".join(str(p) for p in err["loc"])
        field = f"{prefix}.{path}" if prefix and path else (prefix or path or None)
        pairs.append((field, err["msg"]))
    return pairs


def error_body(code: str, message: str, details: Iterable[tuple[str | None, str]] = ()) -> dict[str, Any]:
    return {
        "error": {"code": code, "message": message, "details": [{"field": f, "message": m} for f, m in details]},
        "request_id": current_request_id() or "-",
    }


def error_response(
    status: int,
    code: str,
    message: str,
    details: Iterable[tuple[str | None, str]] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


def from_exception(exc: BaseException) -> ApiError:
    """Map an exception to the API error it stands for; unknown exceptions become a logged 500."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, HTTPException):
        code = _STATUS_CODES.get(exc.status_code, "error")
        message = "No such endpoint." if exc.status_code == 404 else str(exc.detail)
        return ApiError(exc.status_code, code, message, headers=dict(exc.headers or {}))
    if isinstance(exc, DatabaseUnavailable):
        return ApiError(
            503, exc.code, "The database is unavailable right now; try again shortly.", headers={"Retry-After": "5"}
        )
    if isinstance(exc, Duplicate):
        return ApiError(409, "conflict", exc.message)
    if isinstance(exc, PeopleError):
        return ApiError(exc.status, exc.code, exc.message)
    if isinstance(exc, ConcurrentUpdate):
        return ApiError(409, exc.code, exc.message)
    if isinstance(exc, InvalidValue):
        return ApiError(422, exc.code, exc.message)
    if isinstance(exc, (TenantNotFound, ConnectorNotFound, LookupFailed)):
        return ApiError(404, exc.code, exc.message)
    if isinstance(exc, NotAuthenticated):
        return ApiError(401, exc.code, exc.message)
    if isinstance(exc, AccessDenied):
        return ApiError(403, exc.code, exc.message)
    if isinstance(exc, CryptoError):
        logger.error("a stored secret cannot be decrypted: %s", exc.message)
        return ApiError(
            500,
            exc.code,
            "A stored secret cannot be decrypted with the configured key ring; "
            "the operator must check SAGEMCP_SECRET_KEYS (or the key file).",
        )
    if isinstance(exc, StoreError):
        return ApiError(503, exc.code, "The store failed the request; try again shortly.")
    if isinstance(exc, SageMCPError):
        return ApiError(400, exc.code, exc.message)
    logger.error("unhandled error in the API", exc_info=exc)
    return ApiError(500, "internal_error", f"Internal error. Reference: {current_request_id() or '-'}.")


async def handle_exception(request: Request, exc: Exception) -> Response:
    error = from_exception(exc)
    headers = dict(error.headers)
    if error.status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="sagemcp"')
    return error_response(error.status, error.code, error.message, error.details, headers)


def refuse_duplicate_pins(pins: list[str]) -> None:
    """Refuse a list of pinned tools (a tenant's or a connector's) naming a tool twice."""
    if len(set(pins)) != len(pins):
        raise ApiError(
            422, "duplicate_pin", "A tool is pinned twice; list each tool once.", [("pinned_tools", "duplicate")]
        )
