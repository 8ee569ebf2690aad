"""Google's error envelope, read once for every API the connector calls.

Google answers failures with

    {"error": {"code": 403, "status": "PERMISSION_DENIED", "message": "...",
               "errors": [{"domain": "usageLimits", "reason": "userRateLimitExceeded", "message": "..."}],
               "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "..."}]}}

Core maps statuses (401, 404, 409, 429, 5xx) by itself and shows `error.message`; two Google habits
need more: rate and quota limits answered with **403** (`rateLimitExceeded`, `userRateLimitExceeded`,
`RESOURCE_EXHAUSTED`), which become `UpstreamRateLimited` (retried with backoff for reads), and a
token without the scope a method needs (`insufficientPermissions`, `ACCESS_TOKEN_SCOPE_INSUFFICIENT`),
which becomes `UpstreamForbidden` naming the scope to grant.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sagemcp import UpstreamResponse, parse_retry_after
from sagemcp.errors import UpstreamError, UpstreamForbidden, UpstreamRateLimited

__all__ = ["GoogleError", "map_google_error", "parse_error"]

RATE_REASONS = frozenset(
    {"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED", "RESOURCE_EXHAUSTED", "backendError429"}
)
"""Reasons (legacy `errors[].reason`, `details[].reason` or `status`) that mean "slow down"."""
DAILY_REASONS = frozenset({"dailyLimitExceeded", "quotaExceeded", "dailyLimitExceededUnreg"})
"""Reasons that mean a quota is used up for the day: a limit, but retrying soon does not help."""
SCOPE_REASONS = frozenset({"insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"})
_SCOPE_RE = re.compile(r'scope\s*=\s*"([^"]*)"', re.IGNORECASE)
_PROVIDER = "google"


@dataclass(frozen=True)
class GoogleError:
    """What Google's envelope says: message, status name and every reason given."""

    message: str = ""
    status: str = ""
    reasons: tuple[str, ...] = field(default=())


def parse_error(body: Any) -> GoogleError | None:
    """The envelope of a parsed error body, or None when the body is not one."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return None
    error = body["error"]
    reasons: list[str] = []
    for item in error.get("errors") or ():
        if isinstance(item, dict) and isinstance(item.get("reason"), str):
            reasons.append(item["reason"])
    for item in error.get("details") or ():
        if isinstance(item, dict) and isinstance(item.get("reason"), str):
            reasons.append(item["reason"])
    status = error.get("status") if isinstance(error.get("status"), str) else ""
    message = error.get("message") if isinstance(error.get("message"), str) else ""
    return GoogleError(message=" ".join(message.split()), status=status, reasons=tuple(reasons))


def map_google_error(response: UpstreamResponse, tool_scopes: Sequence[str] = ()) -> UpstreamError | None:
    """The error for a 403 that is really a rate limit or a missing scope; None lets core map the status.

    `tool_scopes` are the scopes the running tool declares: named when Google's answer does not
    say which scope it wanted.
    """
    if response.status != 403:
        return None
    try:
        envelope = parse_error(response.json())
    except UpstreamError:
        envelope = None
    if envelope is None:
        return None
    where = f"{response.method} {response.path}"
    said = f": {envelope.message}" if envelope.message else ""
    kinds = {*envelope.reasons, envelope.status}
    if kinds & RATE_REASONS:
        wait = parse_retry_after(response.headers.get("retry-after"))
        when = f"retry after {int(wait + 0.999)} seconds" if wait is not None else "wait a few seconds, then retry"
        return UpstreamRateLimited(
            f"Google rate limit reached (403) on {where}{said}; {when}.",
            retry_after=wait,
            status=403,
            provider=_PROVIDER,
            upstream_code=envelope.status or "rateLimitExceeded",
        )
    if kinds & DAILY_REASONS:
        return UpstreamRateLimited(
            f"Google quota used up (403) on {where}{said}; the project's daily quota resets at midnight "
            "Pacific time: try again later, or ask the project's administrator to raise it.",
            status=403,
            provider=_PROVIDER,
            upstream_code=envelope.status or "quotaExceeded",
        )
    if kinds & SCOPE_REASONS or (envelope.status == "PERMISSION_DENIED" and "scope" in envelope.message.lower()):
        missing = _challenge_scopes(response) or list(tool_scopes)
        named = ", ".join(f"`{s}`" for s in missing)
        advice = (
            f"the Google authorization lacks scope {named if len(missing) == 1 else 'one of ' + named}: "
            "enable the tool's group and reconnect Google for this tenant so that the consent screen asks for it"
            if missing
            else "the Google authorization lacks a scope this call needs: reconnect Google for this tenant"
        )
        return UpstreamForbidden(
            f"Google refused {where} (403){said}; {advice}.",
            missing_scopes=missing,
            status=403,
            provider=_PROVIDER,
            upstream_code="insufficientPermissions",
        )
    return None


def _challenge_scopes(response: UpstreamResponse) -> list[str]:
    """The scopes Google's `WWW-Authenticate: Bearer error="insufficient_scope", scope="..."` names."""
    challenge = response.headers.get("www-authenticate", "")
    if "insufficient_scope" not in challenge:
        return []
    match = _SCOPE_RE.search(challenge)
    return match.group(1).split() if match else []
