"""Slack timestamps, history windows (`1d`, `7d`, `30d`, `12h`, `2w`) and times people write.

A Slack message timestamp (`ts`, e.g. `1714564800.000100`) is both the message's id in
its channel and its time (unix seconds with a per-second sequence). Tools show times as
ISO 8601 in UTC and accept windows, dates, date-times and raw timestamps.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta

from sagemcp.errors import InvalidArguments

__all__ = [
    "MAX_WINDOW_DAYS",
    "TS_PATTERN",
    "WINDOW_PATTERN",
    "format_ts",
    "parse_time",
    "parse_window",
    "search_date",
    "ts_to_iso",
    "unix_seconds",
]

WINDOW_PATTERN = r"^[1-9][0-9]{0,3}[mhdw]$"
"""A window like `30m`, `12h`, `1d`, `7d`, `30d` or `2w`: that much time back from now."""
TS_PATTERN = r"^[0-9]{9,10}(\.[0-9]{1,6})?$"
"""A Slack message timestamp (`1714564800.000100`)."""
MAX_WINDOW_DAYS = 3660

_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_WINDOW_RE = re.compile(WINDOW_PATTERN)
_TS_RE = re.compile(TS_PATTERN)
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def format_ts(seconds: float) -> str:
    """Unix seconds as a Slack timestamp string with microseconds (`1714564800.000000`)."""
    return f"{seconds:.6f}"


def ts_to_iso(ts: str | float | None) -> str | None:
    """A Slack timestamp as ISO 8601 UTC (`2024-05-01T12:00:00Z`); None when it is not one."""
    if ts is None or ts == "":
        return None
    try:
        seconds = float(ts)
    except (TypeError, ValueError):
        return None
    if not 0 <= seconds < 1e11:
        return None
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_window(window: str, *, now: float | None = None) -> str:
    """The Slack timestamp `window` ago (`7d` -> a week ago), for `oldest=`."""
    if not _WINDOW_RE.match(window):
        raise InvalidArguments(
            f"window {window!r} is not a window: use a number and a unit, like 30m, 12h, 1d, 7d, 30d or 2w",
            errors=[("window", "expected a number followed by m, h, d or w")],
        )
    seconds = int(window[:-1]) * _UNITS[window[-1]]
    if seconds > MAX_WINDOW_DAYS * 86400:
        raise InvalidArguments(
            f"window {window!r} is longer than {MAX_WINDOW_DAYS} days", errors=[("window", "too long")]
        )
    return format_ts((time.time() if now is None else now) - seconds)


def parse_time(value: str, field: str) -> str:
    """A Slack timestamp from a timestamp, unix seconds, a date (UTC midnight) or an ISO 8601 date-time.

    A date-time without a time zone is taken as UTC.
    """
    text = value.strip()
    if _TS_RE.match(text):
        return text if "." in text else format_ts(float(text))
    try:
        if _DATE_RE.match(text):
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except ValueError:
        raise InvalidArguments(
            f"{field} {value!r} is not a time: use a date (2024-05-01), an ISO 8601 date-time "
            "(2024-05-01T09:30:00+02:00) or a Slack timestamp (1714564800.000100)",
            errors=[(field, "not a date, date-time or Slack timestamp")],
        ) from None
    return format_ts(moment.timestamp())


def unix_seconds(value: str, field: str) -> int:
    """Whole unix seconds for a time accepted by `parse_time`."""
    return int(float(parse_time(value, field)))


def search_date(ts: str, *, days_before: int = 0) -> str:
    """The UTC date of a Slack timestamp as `YYYY-MM-DD`, for search's `after:`/`before:` modifiers."""
    moment = datetime.fromtimestamp(float(ts), UTC) - timedelta(days=days_before)
    return moment.strftime("%Y-%m-%d")
