"""`meetings` tools: list, read, create and update meetings; held instances, participants, registrants, polls.

Reads need the `meeting:read:*` scopes; creating and updating (`meeting:write:meeting`,
`meeting:update:meeting`) and approving registrants (`meeting:update:registrant_status`) are
writes in the same group, which `read_only` or `exclude_tools` in a tenant's tool policy turn
off. Deleting is in `meetings_delete`, off by default. Zoom limits meeting creation and
updates to 100 requests a day per user; writes are never retried.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sagemcp import Cursor, ToolContext, clip, tool

from .._ids import MeetingId, MeetingRef, OccurrenceId, UserRef, ref_segment
from .._pages import DEFAULT_LIMIT, LimitArg, next_cursor, offset_page, page_params
from .._scopes import MEETING_READ, PAST_MEETING_READ
from .._text import markdown_to_plain
from .._time import TimezoneArg, end_of_day_utc, zoom_start_time
from ..models import (
    AGENDA_LIMIT,
    INVITATION_LIMIT,
    Invitation,
    Meeting,
    MeetingDetail,
    MeetingList,
    Participant,
    ParticipantList,
    PastInstance,
    PastInstanceList,
    PastMeeting,
    Poll,
    PollList,
    PollResults,
    Registrant,
    RegistrantList,
    RegistrantsUpdated,
)
from ._common import require, user_segment

if TYPE_CHECKING:
    from ..connector import ZoomConfig

__all__ = ["MeetingSettingsArg", "MeetingsTools", "RecurrenceArg"]

GROUP = "meetings"
LIST_TYPES = {"upcoming": "upcoming", "live": "live", "previous": "previous_meetings", "scheduled": "scheduled"}
"""The tool's `kind` -> Zoom's `type` of `GET /users/{userId}/meetings`."""
WEEKDAY_NUMBERS = {
    "sunday": 1,
    "monday": 2,
    "tuesday": 3,
    "wednesday": 4,
    "thursday": 5,
    "friday": 6,
    "saturday": 7,
}
WEEKS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
MAX_INTERVAL = {"day": 90, "week": 12, "month": 3}
APPROVAL_TYPES = {"automatic": 0, "manual": 1, "none": 2}

Weekday = Literal["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
Topic = Annotated[str, Field(min_length=1, max_length=200, description="The title.")]
Agenda = Annotated[
    str,
    Field(
        min_length=1,
        max_length=4_000,
        description="Markdown, sent as plain text (2,000 characters at most after conversion).",
    ),
]
Passcode = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9@_*-]{1,10}$",
        description="Up to 10 of a-z A-Z 0-9 @ - _ * (the account may require more).",
    ),
]
StartTime = Annotated[
    datetime,
    Field(
        description="Wall-clock time in `timezone` (2025-06-02T09:30:00) or with an offset (2025-06-02T07:30:00Z).",
    ),
]
Duration = Annotated[int, Field(ge=1, le=1440, description="Length in minutes.")]


class RecurrenceArg(BaseModel):
    """How a meeting repeats."""

    model_config = ConfigDict(extra="forbid")

    every: Literal["day", "week", "month"]
    interval: int = Field(default=1, ge=1, le=90, description="Every N days (90 max), weeks (12), months (3).")
    weekdays: list[Weekday] | None = Field(default=None, min_length=1, max_length=7, description="For `week`.")
    day_of_month: int | None = Field(default=None, ge=1, le=31, description="For `month`.")
    week_of_month: Literal["first", "second", "third", "fourth", "last"] | None = Field(
        default=None, description="For `month`, with `weekday`."
    )
    weekday: Weekday | None = Field(default=None, description="For `month`, with `week_of_month`.")
    count: int | None = Field(default=None, ge=1, le=60, description="End after this many occurrences.")
    until: date | None = Field(default=None, description="Or end on this date.")

    @model_validator(mode="after")
    def _consistent(self) -> RecurrenceArg:
        if self.interval > MAX_INTERVAL[self.every]:
            raise ValueError(f"interval may be at most {MAX_INTERVAL[self.every]} for every={self.every}")
        if self.every == "week" and not self.weekdays:
            raise ValueError("every=week needs weekdays")
        if self.every != "week" and self.weekdays:
            raise ValueError("weekdays is only for every=week")
        monthly = (self.day_of_month is not None, self.week_of_month is not None or self.weekday is not None)
        if self.every == "month":
            if monthly[0] == monthly[1] or (monthly[1] and not (self.week_of_month and self.weekday)):
                raise ValueError("every=month needs either day_of_month, or week_of_month with weekday")
        elif any(monthly):
            raise ValueError("day_of_month, week_of_month and weekday are only for every=month")
        if self.count is not None and self.until is not None:
            raise ValueError("give count or until, not both")
        return self

    def to_api(self, timezone: str) -> dict[str, Any]:
        body: dict[str, Any] = {"type": {"day": 1, "week": 2, "month": 3}[self.every], "repeat_interval": self.interval}
        if self.weekdays:
            body["weekly_days"] = ",".join(str(WEEKDAY_NUMBERS[d]) for d in dict.fromkeys(self.weekdays))
        if self.day_of_month is not None:
            body["monthly_day"] = self.day_of_month
        if self.week_of_month is not None and self.weekday is not None:
            body["monthly_week"] = WEEKS[self.week_of_month]
            body["monthly_week_day"] = WEEKDAY_NUMBERS[self.weekday]
        if self.count is not None:
            body["end_times"] = self.count
        if self.until is not None:
            body["end_date_time"] = end_of_day_utc(self.until, timezone)
        return body


class MeetingSettingsArg(BaseModel):
    """Settings left out keep their current value (or the account's default)."""

    model_config = ConfigDict(extra="forbid")

    host_video: bool | None = None
    participant_video: bool | None = None
    join_before_host: bool | None = None
    mute_upon_entry: bool | None = None
    waiting_room: bool | None = Field(default=None, description="A waiting room overrides join_before_host.")
    meeting_authentication: bool | None = Field(default=None, description="Only signed-in users may join.")
    auto_recording: Literal["none", "local", "cloud"] | None = None
    audio: Literal["both", "telephony", "voip"] | None = None
    alternative_hosts: list[Annotated[str, Field(pattern=r"^[^\s@,;]+@[^\s@,;]+$")]] | None = Field(
        default=None, max_length=50, description="Emails of account users who may host."
    )
    registration: Literal["none", "automatic", "manual"] | None = Field(
        default=None, description="How registrants are approved."
    )

    def to_api(self) -> dict[str, Any]:
        body: dict[str, Any] = self.model_dump(exclude_none=True, exclude={"alternative_hosts", "registration"})
        if self.alternative_hosts is not None:
            body["alternative_hosts"] = ",".join(self.alternative_hosts)
        if self.registration is not None:
            body["approval_type"] = APPROVAL_TYPES[self.registration]
        return body


def _agenda(markdown: str | None) -> str | None:
    if markdown is None:
        return None
    plain = markdown_to_plain(markdown)
    require(
        len(plain) <= AGENDA_LIMIT,
        "agenda",
        f"is {len(plain):,} characters as plain text; Zoom allows {AGENDA_LIMIT:,}",
    )
    return plain


def _schedule(
    body: dict[str, Any],
    start_time: datetime | None,
    timezone: str | None,
    recurrence: RecurrenceArg | None,
) -> None:
    """Put the start, time zone and recurrence in `body`; the zone is required with either."""
    if start_time is not None or (recurrence is not None and recurrence.until is not None):
        require(
            timezone is not None,
            "timezone",
            "is required with start_time and with a recurrence's until: an IANA name such as America/New_York",
        )
    if timezone is not None:
        body["timezone"] = timezone
    if start_time is not None:
        body["start_time"] = zoom_start_time(start_time)
    if recurrence is not None:
        body["recurrence"] = recurrence.to_api(timezone or "UTC")


class MeetingsTools:
    """The `meetings` group."""

    @tool(read_only=True, group=GROUP, scopes=("meeting:read:list_meetings",))
    async def list_meetings(
        self,
        ctx: ToolContext[ZoomConfig],
        kind: Annotated[
            Literal["upcoming", "live", "previous", "scheduled"],
            Field(description="upcoming (including live), live, previous (held), or scheduled (all unexpired)."),
        ] = "upcoming",
        user_id: UserRef = "me",
        from_date: Annotated[date | None, Field(description="With to_date: only meetings from this date.")] = None,
        to_date: Annotated[date | None, Field(description="With from_date: only meetings up to this date.")] = None,
        limit: LimitArg = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> MeetingList:
        """List a user's meetings (upcoming, live, previous or scheduled): id, topic, start, length, join link.

        Held instances of a recurring meeting: zoom_list_past_instances.
        """
        require((from_date is None) == (to_date is None), "from_date", "give from_date and to_date together")
        if from_date is not None and to_date is not None:
            require(from_date <= to_date, "from_date", "must not be after to_date")
        bind = {"user": user_id, "kind": kind, "from": str(from_date), "to": str(to_date)}
        params = {"type": LIST_TYPES[kind], **page_params(limit, cursor, bind)}
        if from_date is not None and to_date is not None:
            params.update({"from": from_date.isoformat(), "to": to_date.isoformat()})
        response = await ctx.http.get(f"/users/{user_segment(user_id)}/meetings", params=params)
        data = response.json_object()
        return MeetingList(
            items=[Meeting.from_api(m) for m in response.json_list("meetings", of=dict)],
            next_cursor=next_cursor(data, bind),
            kind=kind,
            total_records=data.get("total_records") if isinstance(data.get("total_records"), int) else None,
        )

    @tool(read_only=True, group=GROUP, scopes=(MEETING_READ,))
    async def get_meeting(
        self, ctx: ToolContext[ZoomConfig], meeting_id: MeetingId, occurrence_id: OccurrenceId = None
    ) -> MeetingDetail:
        """Get a meeting: schedule, recurrence and occurrences, join link, passcode, settings, registration, agenda."""
        response = await ctx.http.get(f"/meetings/{meeting_id}", params={"occurrence_id": occurrence_id})
        return MeetingDetail.from_api(response.json_object())

    @tool(read_only=True, group=GROUP, scopes=("meeting:read:invitation",))
    async def get_meeting_invitation(self, ctx: ToolContext[ZoomConfig], meeting_id: MeetingId) -> Invitation:
        """Get Zoom's invitation text for a meeting (time, join link, passcode, dial-in), ready to paste."""
        response = await ctx.http.get(f"/meetings/{meeting_id}/invitation")
        text = response.json_object().get("invitation")
        full = text.replace("\r\n", "\n") if isinstance(text, str) else ""
        shown, cut = clip(full, INVITATION_LIMIT, "the rest lists further dial-in numbers")
        return Invitation(meeting_id=str(meeting_id), invitation=shown, truncated=cut)

    @tool(read_only=True, group=GROUP, scopes=(PAST_MEETING_READ,))
    async def get_past_meeting(self, ctx: ToolContext[ZoomConfig], meeting: MeetingRef) -> PastMeeting:
        """Get a held meeting instance: when it ran, how long, how many took part, host, whether a summary exists."""
        response = await ctx.http.get(f"/past_meetings/{ref_segment(meeting)}")
        return PastMeeting.from_api(response.json_object())

    @tool(read_only=True, group=GROUP, scopes=("meeting:read:list_past_instances",))
    async def list_past_instances(
        self,
        ctx: ToolContext[ZoomConfig],
        meeting_id: MeetingId,
        limit: LimitArg = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> PastInstanceList:
        """List a meeting's held instances, newest first: UUID and start time.

        The UUIDs work with the past-meeting, participant, recording, transcript and summary tools.
        """
        response = await ctx.http.get(f"/past_meetings/{meeting_id}/instances")
        instances = [
            PastInstance(
                uuid=m["uuid"], start_time=m.get("start_time") if isinstance(m.get("start_time"), str) else None
            )
            for m in response.json_list("meetings", of=dict)
            if isinstance(m.get("uuid"), str) and m["uuid"]
        ]
        instances.sort(key=lambda i: i.start_time or "", reverse=True)
        page, more = offset_page(instances, limit, cursor, {"meeting": meeting_id})
        return PastInstanceList(items=page, next_cursor=more, meeting_id=str(meeting_id))

    @tool(read_only=True, group=GROUP, scopes=("meeting:read:list_past_participants",))
    async def list_meeting_participants(
        self,
        ctx: ToolContext[ZoomConfig],
        meeting: MeetingRef,
        limit: LimitArg = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> ParticipantList:
        """List who took part in a held meeting: name, email, join and leave times (one row per join)."""
        bind = {"meeting": meeting}
        response = await ctx.http.get(
            f"/past_meetings/{ref_segment(meeting)}/participants", params=page_params(limit, cursor, bind)
        )
        data = response.json_object()
        return ParticipantList(
            items=[Participant.from_api(p) for p in response.json_list("participants", of=dict)],
            next_cursor=next_cursor(data, bind),
            of=f"meeting {meeting}",
            total_records=data.get("total_records") if isinstance(data.get("total_records"), int) else None,
        )

    @tool(read_only=True, group=GROUP, scopes=("meeting:read:list_registrants",))
    async def list_meeting_registrants(
        self,
        ctx: ToolContext[ZoomConfig],
        meeting_id: MeetingId,
        status: Annotated[
            Literal["pending", "approved", "denied"], Field(description="Which registrations to list.")
        ] = "approved",
        occurrence_id: OccurrenceId = None,
        limit: LimitArg = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> RegistrantList:
        """List a meeting's registrants: id, name, email, status, registration time."""
        bind = {"meeting": meeting_id, "status": status, "occurrence": occurrence_id}
        params = {"status": status, "occurrence_id": occurrence_id, **page_params(limit, cursor, bind)}
        response = await ctx.http.get(f"/meetings/{meeting_id}/registrants", params=params)
        data = response.json_object()
        return RegistrantList(
            items=[Registrant.from_api(r) for r in response.json_list("registrants", of=dict)],
            next_cursor=next_cursor(data, bind),
            of=f"meeting {meeting_id}",
            status=status,
            total_records=data.get("total_records") if isinstance(data.get("total_records"), int) else None,
        )

    @tool(
        read_only=False, destructive=False, idempotent=True, group=GROUP, scopes=("meeting:update:registrant_status",)
    )
    async def update_meeting_registrants(
        self,
        ctx: ToolContext[ZoomConfig],
        meeting_id: MeetingId,
        action: Annotated[Literal["approve", "deny"], Field(description="Approve or deny the registrations.")],
        registrant_ids: Annotated[
            list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]],
            Field(min_length=1, max_length=30, description="Registrant ids from zoom_list_meeting_registrants."),
        ],
        occurrence_id: OccurrenceId = None,
    ) -> RegistrantsUpdated:
        """Approve or deny pending registrations for a meeting; Zoom emails each person."""
        ids = list(dict.fromkeys(registrant_ids))
        body = {"action": action, "registrants": [{"id": i} for i in ids]}
        await ctx.http.put(
            f"/meetings/{meeting_id}/registrants/status", params={"occurrence_id": occurrence_id}, json=body
        )
        return RegistrantsUpdated(
            meeting_id=str(meeting_id), action=action, registrant_ids=ids, occurrence_id=occurrence_id
        )

    @tool(read_only=True, group=GROUP, scopes=("meeting:read:list_polls",))
    async def list_meeting_polls(
        self,
        ctx: ToolContext[ZoomConfig],
        meeting_id: MeetingId,
        limit: LimitArg = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> PollList:
        """List a meeting's polls with their questions and choices (results: zoom_get_poll_results)."""
        response = await ctx.http.get(f"/meetings/{meeting_id}/polls")
        polls = [Poll.from_api(p) for p in response.json_list("polls", of=dict)]
        page, more = offset_page(polls, limit, cursor, {"meeting": meeting_id})
        return PollList(items=page, next_cursor=more, meeting_id=str(meeting_id))

    @tool(read_only=True, group=GROUP, scopes=("meeting:read:list_past_polls",))
    async def get_poll_results(self, ctx: ToolContext[ZoomConfig], meeting: MeetingRef) -> PollResults:
        """Get the answers to a held meeting's polls, counted per question and answer."""
        response = await ctx.http.get(f"/past_meetings/{ref_segment(meeting)}/polls")
        return PollResults.from_api(response.json_object(), meeting=meeting)

    @tool(read_only=False, destructive=False, idempotent=False, group=GROUP, scopes=("meeting:write:meeting",))
    async def create_meeting(
        self,
        ctx: ToolContext[ZoomConfig],
        topic: Topic,
        start_time: StartTime | None = None,
        timezone: Annotated[
            TimezoneArg | None,
            Field(description="IANA zone; required with start_time."),
        ] = None,
        duration: Duration = 60,
        agenda: Agenda | None = None,
        recurrence: RecurrenceArg | None = None,
        settings: MeetingSettingsArg | None = None,
        passcode: Passcode | None = None,
        instant: Annotated[bool, Field(description="Start now, without start_time (not listed later).")] = False,
        user_id: UserRef = "me",
    ) -> MeetingDetail:
        """Schedule a Zoom meeting (or an instant one); returns it with id, join link and passcode.

        Each call creates a new meeting. No start link: the host starts it from Zoom.
        """
        if instant:
            require(
                start_time is None and recurrence is None,
                "instant",
                "an instant meeting takes no start_time or recurrence",
            )
        else:
            require(
                start_time is not None,
                "start_time",
                "is required (with timezone) for a scheduled meeting; pass instant=true for one that starts now",
            )
        body: dict[str, Any] = {"topic": topic, "type": 1 if instant else 8 if recurrence else 2, "duration": duration}
        _schedule(body, start_time, timezone, recurrence)
        plain = _agenda(agenda)
        if plain is not None:
            body["agenda"] = plain
        if passcode is not None:
            body["password"] = passcode
        if settings is not None:
            body["settings"] = settings.to_api()
        response = await ctx.http.post(f"/users/{user_segment(user_id)}/meetings", json=body)
        return MeetingDetail.from_api(response.json_object())

    @tool(
        read_only=False,
        destructive=False,
        idempotent=True,
        group=GROUP,
        scopes=("meeting:update:meeting", MEETING_READ),
    )
    async def update_meeting(
        self,
        ctx: ToolContext[ZoomConfig],
        meeting_id: MeetingId,
        occurrence_id: OccurrenceId = None,
        topic: Topic | None = None,
        start_time: StartTime | None = None,
        timezone: Annotated[
            TimezoneArg | None, Field(description="IANA time zone; required with start_time and recurrence.until.")
        ] = None,
        duration: Duration | None = None,
        agenda: Agenda | None = None,
        recurrence: RecurrenceArg | None = None,
        settings: MeetingSettingsArg | None = None,
        passcode: Passcode | None = None,
    ) -> MeetingDetail:
        """Change a meeting or one occurrence; only the fields given change. Returns the meeting."""
        body: dict[str, Any] = {}
        if topic is not None:
            body["topic"] = topic
        if duration is not None:
            body["duration"] = duration
        _schedule(body, start_time, timezone, recurrence)
        if recurrence is not None:
            body["type"] = 8
        plain = _agenda(agenda)
        if plain is not None:
            body["agenda"] = plain
        if passcode is not None:
            body["password"] = passcode
        if settings is not None and settings.to_api():
            body["settings"] = settings.to_api()
        require(bool(body), "topic", "give at least one field to change")
        await ctx.http.patch(f"/meetings/{meeting_id}", params={"occurrence_id": occurrence_id}, json=body)
        response = await ctx.http.get(f"/meetings/{meeting_id}", params={"occurrence_id": occurrence_id})
        return MeetingDetail.from_api(response.json_object())
