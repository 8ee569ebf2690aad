"""Zoom's error answers as sagemcp upstream errors (the connector's `check_response`).

Zoom answers a failure with an HTTP status and `{"code": <Zoom code>, "message": "..."}`;
validation failures (code 300) add `"errors": [{"field": ..., "message": ...}]`. The status
alone misleads: Zoom says "the token lacks a scope" (code 4711, 4700) and "no permission"
(code 200) with HTTP 400, so the Zoom code decides first:

- 4711 / 4700: `UpstreamForbidden` naming the missing scopes Zoom lists in the message;
- 124 (invalid or expired token): `UpstreamAuthError`;
- 200 and other permission codes: `UpstreamForbidden`;
- 429, or HTTP 429: `UpstreamRateLimited`, with the wait from `Retry-After` (seconds, an HTTP
  date, or the ISO 8601 time Zoom sends for daily limits) or, for a daily limit without one,
  until midnight UTC, when Zoom resets it; the rate-limit category and type Zoom reports
  (`X-RateLimit-Category`, `X-RateLimit-Type`) are named;
- not-found codes (1001 user, 3001 meeting, 3301 recording, 3322 transcript...) and HTTP 404:
  `UpstreamNotFound`, with what to check;
- code 300 and HTTP 400 with field errors: `UpstreamBadRequest` listing each field;
- HTTP 409 / 422: `UpstreamConflict`.

Anything else (5xx, non-JSON bodies) is left to core's status mapping, which already reads
Zoom's `message` and `code`.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sagemcp import UpstreamResponse, parse_retry_after
from sagemcp.errors import (
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamConflict,
    UpstreamError,
    UpstreamForbidden,
    UpstreamNotFound,
    UpstreamRateLimited,
)

__all__ = ["NOT_FOUND_CODES", "SCOPE_CODES", "zoom_code", "zoom_error"]

PROVIDER = "zoom"
SCOPE_CODES = frozenset({4700, 4711})
"""Zoom's "Invalid access token, does not contain scopes" codes."""
AUTH_CODES = frozenset({124})
PERMISSION_CODES = frozenset({200, 1010, 3000, 3161})
"""No permission; user not in this account; cannot access the webinar; user may not host meetings."""
NOT_FOUND_CODES = {
    1001: "the user does not exist in this account: check the user id or email (zoom_list_users lists them)",
    3001: "the meeting does not exist or has expired: check the meeting id (zoom_list_meetings lists them)",
    3301: "the meeting has no cloud recording: check the meeting id or UUID (zoom_list_recordings lists them)",
    3322: "Zoom has no transcript for this meeting",
    3303: "the recording file does not exist",
}
_READ_AGAIN = "look it up again with the matching list tool"
_SCOPES_RE = re.compile(r"scopes?\s*:?\s*\[([^\]]*)\]", re.IGNORECASE)
_RECONNECT_SCOPES = (
    "add the scope to the Zoom app (Zoom App Marketplace > your app > Scopes), then reconnect Zoom for this "
    "tenant; a Server-to-Server OAuth app's next token carries it"
)


def _body(response: UpstreamResponse) -> dict[str, Any] | None:
    if not response.content.lstrip().startswith(b"{"):
        return None
    try:
        data = json.loads(response.content)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def zoom_code(response: UpstreamResponse) -> int | None:
    """The Zoom error code of an answer, if its body has one."""
    body = _body(response)
    code = body.get("code") if body is not None else None
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code
    if isinstance(code, str) and code.isdigit():
        return int(code)
    return None


def zoom_error(response: UpstreamResponse) -> UpstreamError | None:
    """The error a Zoom answer stands for, or None for a success or a failure core maps by status alone."""
    status = response.status
    if 200 <= status < 300:
        return None
    body = _body(response) or {}
    code = zoom_code(response)
    raw = body.get("message")
    message = raw if isinstance(raw, str) else ""
    where = f"{response.method} {response.path}"
    said = f" (code {code}: {message.strip()})" if code is not None and message else ""
    common: dict[str, Any] = {
        "status": status,
        "provider": PROVIDER,
        "upstream_code": None if code is None else str(code),
    }
    if status == 429 or code == 429:
        return _rate_limited(response, where, message)
    if code in SCOPE_CODES:
        scopes = _scopes_named(message)
        wanted = " or ".join(f"`{scope}`" for scope in scopes) or "a scope this call needs"
        return UpstreamForbidden(
            f"Zoom refused {where}{said}: the token lacks {wanted}; {_RECONNECT_SCOPES}.",
            missing_scopes=scopes,
            **common,
        )
    if code in AUTH_CODES or status == 401:
        return UpstreamAuthError(
            f"Zoom rejected the token for {where}{said}: it is invalid, expired or revoked; reconnect Zoom for "
            "this tenant (or store the Server-to-Server app's credential again).",
            **common,
        )
    if code in PERMISSION_CODES or status == 403:
        return UpstreamForbidden(
            f"Zoom refused {where}{said}: the connected Zoom user or app may not do this; check the user's role and "
            "plan in Zoom, or connect an account that owns the meeting, webinar or user.",
            **common,
        )
    if code in NOT_FOUND_CODES or status == 404:
        advice = NOT_FOUND_CODES.get(code or 0, f"check the id, or {_READ_AGAIN}")
        return UpstreamNotFound(f"Zoom found nothing at {where}{said}: {advice}.", **common)
    if status in (409, 422):
        return UpstreamConflict(
            f"Zoom rejected {where} ({status}){said}{_fields(body)}: it conflicts with the current state; read it "
            "again and retry with changed arguments.",
            **common,
        )
    if status == 400:
        return UpstreamBadRequest(
            f"Zoom rejected {where} (400){said}{_fields(body)}; fix the arguments named here and call again.",
            **common,
        )
    return None


def _scopes_named(message: str) -> list[str]:
    """The scopes in Zoom's "does not contain scopes:[a, b]" message, in its order."""
    match = _SCOPES_RE.search(message)
    if match is None:
        return []
    return list(dict.fromkeys(s.strip() for s in match.group(1).split(",") if s.strip()))


def _fields(body: dict[str, Any]) -> str:
    """Zoom's per-field validation messages, as `: field: message; field: message`."""
    errors = body.get("errors")
    if not isinstance(errors, list):
        return ""
    parts = []
    for item in errors[:20]:
        if isinstance(item, dict) and isinstance(item.get("message"), str):
            field = item.get("field")
            parts.append(f"{field}: {item['message']}" if isinstance(field, str) and field else item["message"])
    return ": " + "; ".join(parts) if parts else ""


def _retry_after(response: UpstreamResponse) -> float | None:
    value = response.headers.get("retry-after")
    seconds = parse_retry_after(value, now=response.received_at)
    if seconds is not None or not value:
        return seconds
    try:  # Zoom sends an ISO 8601 time for daily limits: 2024-05-02T00:00:00Z
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - response.received_at)


def _rate_limited(response: UpstreamResponse, where: str, message: str) -> UpstreamRateLimited:
    category = response.headers.get("x-ratelimit-category", "").strip()
    kind = response.headers.get("x-ratelimit-type", "").strip()
    daily = "daily" in kind.lower() or "daily" in message.lower()
    retry_after = _retry_after(response)
    if retry_after is None and daily:
        now = datetime.fromtimestamp(response.received_at, UTC)
        midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        retry_after = (midnight - now).total_seconds()
    limit = ", ".join(part for part in (f"{category} API" if category else "", kind) if part)
    detail = f" ({limit})" if limit else ""
    said = f": {message.strip()}" if message.strip() else ""
    if daily:
        when = "the daily limit resets at 00:00 UTC; try again then"
    elif retry_after is None:
        when = "wait a few seconds, then retry"
    else:
        when = "retry after the wait Zoom asked for"
    return UpstreamRateLimited(
        f"Zoom rate limit reached on {where}{detail}{said}; {when}.",
        retry_after=retry_after,
        status=response.status,
        provider=PROVIDER,
        upstream_code="429",
    )
