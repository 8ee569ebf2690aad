"""Times for Calendar: every instant sent to Google carries its offset, so no time zone is guessed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sagemcp.errors import InvalidArguments

__all__ = ["event_time", "instant", "zone"]


def zone(name: str | None, field: str = "time_zone") -> ZoneInfo | None:
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidArguments(
            f"{name!r} is not an IANA time zone such as Europe/Paris or America/New_York",
            [(field, "unknown time zone")],
        ) from None


def instant(value: datetime, tz: ZoneInfo | None) -> str:
    """RFC 3339 with an offset: a naive `value` is read in `tz` (UTC when there is none)."""
    moment = value if value.tzinfo is not None else value.replace(tzinfo=tz or UTC)
    return moment.isoformat()


def event_time(value: str, tz_name: str | None, field: str) -> tuple[dict[str, str], bool]:
    """An event's `start`/`end` object from ISO text: a date makes an all-day event; a date-time without an
    offset needs `tz_name` (Google then applies that zone's rules, DST included)."""
    text = value.strip()
    try:
        if len(text) == 10:
            return {"date": date.fromisoformat(text).isoformat()}, True
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidArguments(
            f"{field} {value!r} is not ISO 8601: use 2026-03-02T09:30:00 (with time_zone), "
            "2026-03-02T09:30:00+01:00, or 2026-03-02 for an all-day event",
            [(field, "not an ISO 8601 date or date-time")],
        ) from None
    if moment.tzinfo is None:
        if tz_name is None:
            raise InvalidArguments(
                f"{field} {value!r} has no UTC offset: give time_zone (such as Europe/Paris) or an offset",
                [(field, "no offset and no time_zone")],
            )
        zone(tz_name)
        return {"dateTime": moment.isoformat(timespec="seconds"), "timeZone": tz_name}, False
    found: dict[str, str] = {"dateTime": moment.isoformat(timespec="seconds")}
    if tz_name:
        found["timeZone"] = tz_name
    return found, False


def default_window(tz: ZoneInfo | None, days: int = 7) -> tuple[datetime, datetime]:
    start = datetime.now(tz or UTC).replace(microsecond=0)
    return start, start + timedelta(days=days)
