"""Times as Zoom takes and gives them, with the time zone always explicit.

Zoom accepts a meeting's `start_time` either in UTC (`2024-05-02T15:00:00Z`) or as a local
wall-clock time (`2024-05-02T09:00:00`) read in the meeting's `timezone` (an IANA name such as
`America/Chicago`). The tools ask for the time zone whenever a start time is given, so a
meeting never silently takes the account's default zone.

Cloud recordings are listed by date, at most a month per request (`recording_windows`
splits a longer range).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field

__all__ = [
    "RECORDING_WINDOW_DAYS",
    "TimezoneArg",
    "end_of_day_utc",
    "local_time",
    "parse_time",
    "recording_windows",
    "zoom_start_time",
]

RECORDING_WINDOW_DAYS = 30
"""Days one `GET /users/{userId}/recordings` request may span (Zoom: "the maximum range can be a month")."""


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone name; use one such as America/New_York or UTC") from None
    return name


TimezoneArg = Annotated[
    str,
    Field(min_length=1, max_length=64, examples=["America/New_York", "Europe/Berlin", "UTC"]),
    AfterValidator(_zone),
]


def zoom_start_time(value: datetime) -> str:
    """`value` as Zoom's `start_time`: UTC with `Z` when it has an offset, else the local time as written."""
    if value.tzinfo is not None:
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def end_of_day_utc(day: date, timezone: str) -> str:
    """The last second of `day` in `timezone`, in UTC (Zoom's recurrence `end_date_time`)."""
    moment = datetime.combine(day, time(23, 59, 59), tzinfo=ZoneInfo(timezone))
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: object) -> datetime | None:
    """A Zoom timestamp (`2019-08-16T02:00:00Z`, with or without fractions) as an aware datetime, or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def local_time(value: str | None, timezone: str | None) -> str | None:
    """`2019-08-15 19:00 America/Los_Angeles` for a Zoom UTC timestamp and zone; the input when unreadable."""
    moment = parse_time(value)
    if moment is None:
        return value
    zone = timezone or "UTC"
    try:
        moment = moment.astimezone(ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        zone = "UTC"
        moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%d %H:%M} {zone}"


def recording_windows(start: date, end: date) -> list[tuple[date, date]]:
    """`start`..`end` (inclusive) cut into windows of at most `RECORDING_WINDOW_DAYS` days, newest first."""
    windows: list[tuple[date, date]] = []
    upper = end
    while upper >= start:
        lower = max(start, upper - timedelta(days=RECORDING_WINDOW_DAYS - 1))
        windows.append((lower, upper))
        upper = lower - timedelta(days=1)
    return windows
