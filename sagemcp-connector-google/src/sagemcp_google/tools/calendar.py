"""`calendar` tools: calendars, events in a time window, event writes with attendees, Meet and recurrence,
RSVP, and free/busy for several people.

Time zones are explicit: times without an offset are read in the `time_zone` argument (or the
tenant's configured zone, else UTC for listings), results carry offsets, and listings name the zone
their times are shown in.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from sagemcp import Cursor, Limit, ToolContext, tool
from sagemcp.errors import InvalidArguments

from .._scopes import CALENDAR_EVENTS, CALENDAR_READ
from .._services import segment
from .._time import default_window, event_time, instant, zone
from ..models import Calendar, CalendarList, Event, EventList, FreeBusy
from ._common import config_of, next_page, page_token, url

if TYPE_CHECKING:
    from ..connector import GoogleConfig

__all__ = ["CalendarId", "CalendarTools", "EventId", "SendUpdates"]

CalendarId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=300,
        pattern=r"^[A-Za-z0-9@._#+-]+$",
        description="`primary` (the user's own) or an id from google_list_calendars.",
    ),
]
EventId = Annotated[
    str,
    Field(min_length=1, max_length=1024, pattern=r"^[A-Za-z0-9_-]+$", description="From google_list_events."),
]
TimeZone = Annotated[
    str | None, Field(max_length=64, description="IANA zone (Europe/Paris) for times without an offset.")
]
When = Annotated[
    str,
    Field(
        min_length=10,
        max_length=40,
        description="2026-03-02T09:30:00 (in time_zone), with an offset (+01:00), or 2026-03-02 (all day).",
    ),
]
Emails = Annotated[
    list[Annotated[str, Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]],
    Field(max_length=100, description="Attendees' email addresses."),
]
Recurrence = Annotated[
    list[Annotated[str, Field(max_length=500, pattern=r"^(RRULE|EXRULE|RDATE|EXDATE)[:;]")]],
    Field(max_length=10, description="RFC 5545 lines, such as `RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=10`."),
]
SendUpdates = Annotated[
    Literal["all", "externalOnly", "none"], Field(description="Whom Google emails about the change.")
]


def time_zone_of(ctx: ToolContext[GoogleConfig], given: str | None) -> str | None:
    config = config_of(ctx)
    return given or (config.time_zone if config is not None else None)


def conference(add_meet: bool) -> dict[str, Any]:
    # A fresh requestId per call: Google creates one Meet conference per id.
    return {"createRequest": {"requestId": secrets.token_hex(12), "conferenceSolutionKey": {"type": "hangoutsMeet"}}}


def event_body(
    *,
    summary: str | None,
    start: str | None,
    end: str | None,
    time_zone: str | None,
    description: str | None,
    location: str | None,
    attendees: list[str] | None,
    recurrence: list[str] | None,
    add_meet: bool,
    visibility: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if summary is not None:
        body["summary"] = summary
    kinds: set[bool] = set()
    if start is not None:
        body["start"], all_day = event_time(start, time_zone, "start")
        kinds.add(all_day)
    if end is not None:
        body["end"], all_day = event_time(end, time_zone, "end")
        kinds.add(all_day)
    if len(kinds) > 1:
        raise InvalidArguments(
            "start and end must both be dates (all-day) or both date-times", [("end", "mixes a date and a date-time")]
        )
    if description is not None:
        body["description"] = description
    if location is not None:
        body["location"] = location
    if attendees is not None:
        body["attendees"] = [{"email": email} for email in attendees]
    if recurrence is not None:
        body["recurrence"] = recurrence
    if add_meet:
        body["conferenceData"] = conference(add_meet)
    if visibility is not None:
        body["visibility"] = visibility
    return body


class CalendarTools:
    """The `calendar` group."""

    @tool(read_only=True, group="calendar", scopes=CALENDAR_READ)
    async def list_calendars(
        self,
        ctx: ToolContext[GoogleConfig],
        limit: Annotated[int, Limit(maximum=250, what="Calendars")] = 50,
        cursor: Cursor = None,
    ) -> CalendarList:
        """List the calendars on the user's calendar list: id, name, whether primary, access role, time zone."""
        params = {"maxResults": limit, "pageToken": page_token(cursor)}
        response = await ctx.http.get(url(ctx, "calendar", "users/me/calendarList"), params=params)
        data = response.json_object()
        items = [Calendar.from_api(c) for c in response.json_list("items", of=dict)]
        return CalendarList(items=items, next_cursor=next_page(data))

    @tool(read_only=True, group="calendar", scopes=CALENDAR_READ)
    async def list_events(
        self,
        ctx: ToolContext[GoogleConfig],
        calendar_id: CalendarId = "primary",
        time_min: Annotated[datetime | None, Field(description="Window start (default: now).")] = None,
        time_max: Annotated[datetime | None, Field(description="Window end (default: 7 days after the start).")] = None,
        query: Annotated[str | None, Field(max_length=500, description="Words to find in the events.")] = None,
        time_zone: TimeZone = None,
        limit: Annotated[int, Limit(maximum=250, what="Events")] = 25,
        cursor: Cursor = None,
    ) -> EventList:
        """List or search a calendar's events in a time window, in start order (recurrences expanded)."""
        tz_name = time_zone_of(ctx, time_zone)
        tz = zone(tz_name)
        window_start, window_end = default_window(tz)
        start = instant(time_min, tz) if time_min else window_start.isoformat()
        if time_max is not None:
            end = instant(time_max, tz)
        elif time_min is not None:
            end = (datetime.fromisoformat(start) + timedelta(days=7)).isoformat()
        else:
            end = window_end.isoformat()
        bind = {"calendar": calendar_id, "min": start, "max": end, "q": query}
        params: dict[str, Any] = {
            "timeMin": start,
            "timeMax": end,
            "singleEvents": "true",
            "orderBy": "startTime",
            "maxResults": limit,
            "q": query,
            "timeZone": tz_name,
            "pageToken": page_token(cursor, bind),
        }
        response = await ctx.http.get(url(ctx, "calendar", f"calendars/{segment(calendar_id)}/events"), params=params)
        data = response.json_object()
        events = [Event.from_api(e, description_limit=300) for e in response.json_list("items", of=dict)]
        return EventList(
            calendar_id=calendar_id,
            items=events,
            next_cursor=next_page(data, bind),
            time_zone=str(data.get("timeZone") or tz_name or "") or None,
            time_min=start,
            time_max=end,
        )

    @tool(read_only=True, group="calendar", scopes=CALENDAR_READ)
    async def get_event(
        self,
        ctx: ToolContext[GoogleConfig],
        event_id: EventId,
        calendar_id: CalendarId = "primary",
        time_zone: TimeZone = None,
    ) -> Event:
        """Get one event: times, attendees and their answers, Meet link, recurrence, description."""
        params = {"timeZone": time_zone_of(ctx, time_zone)}
        response = await ctx.http.get(
            url(ctx, "calendar", f"calendars/{segment(calendar_id)}/events/{segment(event_id)}"), params=params
        )
        return Event.from_api(response.json_object())

    @tool(read_only=False, group="calendar", destructive=False, idempotent=False, scopes=CALENDAR_EVENTS)
    async def create_event(
        self,
        ctx: ToolContext[GoogleConfig],
        summary: Annotated[str, Field(min_length=1, max_length=1024, description="The event's title.")],
        start: When,
        end: When,
        time_zone: TimeZone = None,
        calendar_id: CalendarId = "primary",
        description: Annotated[str | None, Field(max_length=8000, description="Details, plain text.")] = None,
        location: Annotated[str | None, Field(max_length=1024, description="Where it happens.")] = None,
        attendees: Emails | None = None,
        add_meet: Annotated[bool, Field(description="Add a Google Meet video conference.")] = False,
        recurrence: Recurrence | None = None,
        send_updates: SendUpdates = "all",
    ) -> Event:
        """Create a calendar event, with attendees invited by email, an optional Meet link and recurrence.

        Dates make an all-day event (end exclusive).
        """
        body = event_body(
            summary=summary,
            start=start,
            end=end,
            time_zone=time_zone_of(ctx, time_zone),
            description=description,
            location=location,
            attendees=attendees,
            recurrence=recurrence,
            add_meet=add_meet,
        )
        params = {"sendUpdates": send_updates, "conferenceDataVersion": 1 if add_meet else None}
        response = await ctx.http.post(
            url(ctx, "calendar", f"calendars/{segment(calendar_id)}/events"), json=body, params=params
        )
        return Event.from_api(response.json_object())

    @tool(read_only=False, group="calendar", destructive=True, idempotent=True, scopes=CALENDAR_EVENTS)
    async def update_event(
        self,
        ctx: ToolContext[GoogleConfig],
        event_id: EventId,
        calendar_id: CalendarId = "primary",
        summary: Annotated[str | None, Field(max_length=1024, description="The new title.")] = None,
        start: When | None = None,
        end: When | None = None,
        time_zone: TimeZone = None,
        description: Annotated[str | None, Field(max_length=8000, description="Details, plain text.")] = None,
        location: Annotated[str | None, Field(max_length=1024, description="Where it happens.")] = None,
        attendees: Annotated[Emails | None, Field(description="The full attendee list (replaces it).")] = None,
        add_meet: Annotated[bool, Field(description="Add a Google Meet conference.")] = False,
        recurrence: Recurrence | None = None,
        send_updates: SendUpdates = "all",
    ) -> Event:
        """Change an event: only the fields given change (attendees, when given, replace the list)."""
        body = event_body(
            summary=summary,
            start=start,
            end=end,
            time_zone=time_zone_of(ctx, time_zone),
            description=description,
            location=location,
            attendees=attendees,
            recurrence=recurrence,
            add_meet=add_meet,
        )
        if not body:
            raise InvalidArguments("give at least one field to change", [("summary", "nothing to change")])
        params = {"sendUpdates": send_updates, "conferenceDataVersion": 1 if add_meet else None}
        response = await ctx.http.patch(
            url(ctx, "calendar", f"calendars/{segment(calendar_id)}/events/{segment(event_id)}"),
            json=body,
            params=params,
        )
        return Event.from_api(response.json_object())

    @tool(read_only=False, group="calendar", destructive=False, idempotent=True, scopes=CALENDAR_EVENTS)
    async def respond_to_event(
        self,
        ctx: ToolContext[GoogleConfig],
        event_id: EventId,
        response: Annotated[Literal["accepted", "declined", "tentative"], Field(description="The answer.")],
        calendar_id: CalendarId = "primary",
        comment: Annotated[str | None, Field(max_length=1000, description="A note for the organizer.")] = None,
    ) -> Event:
        """Answer an invitation (RSVP): accept, decline or tentatively accept, with an optional note."""
        path = f"calendars/{segment(calendar_id)}/events/{segment(event_id)}"
        current = (await ctx.http.get(url(ctx, "calendar", path))).json_object()
        attendees = [a for a in current.get("attendees") or () if isinstance(a, dict)]
        mine = next((a for a in attendees if a.get("self") is True), None)
        if mine is None:
            raise InvalidArguments(
                "the user is not an attendee of this event, so there is nothing to answer",
                [("event_id", "not invited")],
            )
        mine["responseStatus"] = response
        if comment is not None:
            mine["comment"] = comment
        answer = await ctx.http.patch(
            url(ctx, "calendar", path), json={"attendees": attendees}, params={"sendUpdates": "all"}
        )
        return Event.from_api(answer.json_object())

    @tool(read_only=False, group="calendar", destructive=False, idempotent=False, scopes=CALENDAR_EVENTS)
    async def quick_add_event(
        self,
        ctx: ToolContext[GoogleConfig],
        text: Annotated[
            str, Field(min_length=3, max_length=1000, description="Like `Lunch with Ana tomorrow 12:30 at Cafe Luz`.")
        ],
        calendar_id: CalendarId = "primary",
    ) -> Event:
        """Create an event from a sentence, as Google Calendar's quick add understands it (in the calendar's zone)."""
        response = await ctx.http.post(
            url(ctx, "calendar", f"calendars/{segment(calendar_id)}/events/quickAdd"),
            params={"text": text, "sendUpdates": "none"},
        )
        return Event.from_api(response.json_object())

    @tool(read_only=True, group="calendar", scopes=CALENDAR_READ)
    async def query_free_busy(
        self,
        ctx: ToolContext[GoogleConfig],
        calendars: Annotated[
            list[Annotated[str, Field(min_length=1, max_length=300, pattern=r"^[A-Za-z0-9@._#+-]+$")]],
            Field(min_length=1, max_length=50, description="People's emails or calendar ids (`primary` for the user)."),
        ],
        time_min: Annotated[datetime, Field(description="Window start (ISO 8601).")],
        time_max: Annotated[datetime, Field(description="Window end (ISO 8601).")],
        time_zone: TimeZone = None,
    ) -> FreeBusy:
        """Find when several people (or calendars) are busy in a window, to pick a common free slot."""
        tz_name = time_zone_of(ctx, time_zone)
        tz = zone(tz_name)
        body: dict[str, Any] = {
            "timeMin": instant(time_min, tz),
            "timeMax": instant(time_max, tz),
            "items": [{"id": c} for c in calendars],
        }
        if tz_name:
            body["timeZone"] = tz_name
        response = await ctx.http.post(url(ctx, "calendar", "freeBusy"), json=body, idempotent=True)
        data = response.json_object()
        busy: dict[str, list[tuple[str, str]]] = {}
        errors: dict[str, str] = {}
        for name, info in (data.get("calendars") or {}).items():
            if not isinstance(info, dict):
                continue
            problems = [e.get("reason") for e in info.get("errors") or () if isinstance(e, dict)]
            if problems:
                errors[name] = ", ".join(str(p) for p in problems)
                continue
            busy[name] = [
                (str(b.get("start")), str(b.get("end"))) for b in info.get("busy") or () if isinstance(b, dict)
            ]
        return FreeBusy(time_min=body["timeMin"], time_max=body["timeMax"], busy=busy, errors=errors)
