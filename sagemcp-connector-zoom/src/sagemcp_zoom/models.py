"""What the Zoom tools return: small models converted from the API's JSON by `from_api`.

A model keeps what a model needs to answer and to make the next call (ids, UUIDs, topics,
times with their zone, states, join links), not the raw API JSON: no dial-in tables, no host
`start_url` (it starts the meeting as the host), no registrants' personal join links. Results
render as compact Markdown (`to_markdown`), the tool result's text; `structuredContent` keeps
the data. Zoom sends numbers as strings in places (`"page_count": "1"`); the helpers accept both.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from sagemcp import Page, clip
from sagemcp.markdown import bullets, cell, page_footer, table

from ._text import plain_to_markdown
from ._time import local_time

__all__ = [
    "Invitation",
    "Meeting",
    "MeetingDeleted",
    "MeetingDetail",
    "MeetingList",
    "MeetingRecordings",
    "MeetingSummary",
    "Occurrence",
    "Participant",
    "ParticipantList",
    "PastInstance",
    "PastInstanceList",
    "PastMeeting",
    "Poll",
    "PollList",
    "PollQuestion",
    "PollResults",
    "Recording",
    "RecordingFile",
    "RecordingList",
    "RecordingsDeleted",
    "Registrant",
    "RegistrantList",
    "RegistrantsUpdated",
    "SummarySection",
    "Transcript",
    "User",
    "UserList",
    "Webinar",
    "WebinarDetail",
    "WebinarList",
]

AGENDA_LIMIT = 2_000
INVITATION_LIMIT = 8_000

MEETING_TYPES = {
    1: "instant",
    2: "scheduled",
    3: "recurring, no fixed time",
    4: "personal meeting room",
    8: "recurring",
    10: "screen share only",
}
WEBINAR_TYPES = {5: "webinar", 6: "recurring webinar, no fixed time", 9: "recurring webinar"}
USER_TYPES = {1: "basic", 2: "licensed", 3: "on-prem", 4: "unassigned", 99: "none"}
RECURRENCE_UNITS = {1: "day", 2: "week", 3: "month"}
WEEKDAYS = {"1": "Sun", "2": "Mon", "3": "Tue", "4": "Wed", "5": "Thu", "6": "Fri", "7": "Sat"}
APPROVAL = {0: "automatic", 1: "manual", 2: "none"}


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _id(value: Any) -> str | None:
    """An id as text, whether Zoom sent a number or a string."""
    number = _int(value)
    return str(number) if number is not None else _text(value)


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _when(start: str | None, timezone: str | None) -> str:
    return local_time(start, timezone) or ""


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else "yes" if value else "no"


def _type(mapping: dict[int, str], value: Any) -> str | None:
    number = _int(value)
    return mapping.get(number, str(number)) if number is not None else None


# -- meetings ----------------------------------------------------------------------------------


class Meeting(BaseModel):
    """A meeting as Zoom lists it."""

    id: str = Field(description="The meeting id (use it with the other meeting tools).")
    uuid: str | None = Field(default=None, description="This instance's UUID (past-meeting, recording tools).")
    topic: str
    type: str | None = None
    start_time: str | None = Field(default=None, description="Start, UTC (ISO 8601).")
    timezone: str | None = None
    duration: int | None = Field(default=None, description="Scheduled length in minutes.")
    join_url: str | None = None
    agenda: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Meeting:
        agenda = _text(data.get("agenda"))
        return cls(
            id=_id(data.get("id")) or "",
            uuid=_text(data.get("uuid")),
            topic=_text(data.get("topic")) or "(no topic)",
            type=_type(MEETING_TYPES, data.get("type")),
            start_time=_text(data.get("start_time")),
            timezone=_text(data.get("timezone")),
            duration=_int(data.get("duration")),
            join_url=_text(data.get("join_url")),
            agenda=clip(agenda, 300)[0] if agenda else None,
        )


class MeetingList(Page[Meeting]):
    """A page of meetings; pass `next_cursor` back as `cursor` for the next page."""

    kind: str = Field(description="Which meetings: upcoming, live, previous or scheduled.")
    total_records: int | None = None

    def to_markdown(self) -> str:
        rows = table(
            self.items,
            [
                "id",
                "topic",
                ("when", lambda m: _when(m.start_time, m.timezone) or m.type),
                ("min", "duration"),
                ("join", "join_url"),
            ],
            empty=f"No {self.kind} meetings.",
        )
        total = f" of {self.total_records}" if self.total_records is not None else ""
        return f"**Meetings ({self.kind})** ({len(self.items)}{total})\n\n{rows}" + page_footer(
            self.next_cursor, self.truncated
        )


class Occurrence(BaseModel):
    """One occurrence of a recurring meeting."""

    occurrence_id: str
    start_time: str | None = None
    duration: int | None = None
    status: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Occurrence:
        return cls(
            occurrence_id=_id(data.get("occurrence_id")) or "",
            start_time=_text(data.get("start_time")),
            duration=_int(data.get("duration")),
            status=_text(data.get("status")),
        )


class MeetingDetail(Meeting):
    """A meeting with its schedule, recurrence and the settings people ask about."""

    status: str | None = Field(default=None, description="waiting, started or finished.")
    host_id: str | None = None
    host_email: str | None = None
    created_at: str | None = None
    password: str | None = Field(default=None, description="The passcode participants need to join.")
    recurrence: str | None = Field(default=None, description="The recurrence, in words.")
    occurrences: list[Occurrence] = Field(default_factory=list, description="Upcoming occurrences (at most 10).")
    registration: str | None = Field(default=None, description="Registration approval: automatic, manual or none.")
    registration_url: str | None = None
    settings: dict[str, bool | str] = Field(
        default_factory=dict, description="Host/participant video, waiting room, join before host, recording..."
    )

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> MeetingDetail:
        base = Meeting.from_api(data)
        agenda = _text(data.get("agenda"))
        settings = data.get("settings") if isinstance(data.get("settings"), dict) else {}
        assert isinstance(settings, dict)
        chosen: dict[str, bool | str] = {}
        for key in (
            "host_video",
            "participant_video",
            "join_before_host",
            "mute_upon_entry",
            "waiting_room",
            "meeting_authentication",
            "auto_recording",
            "audio",
            "alternative_hosts",
        ):
            value = settings.get(key)
            if isinstance(value, bool) or (isinstance(value, str) and value):
                chosen[key] = value
        return cls(
            **base.model_dump(exclude={"agenda"}),
            agenda=clip(agenda, AGENDA_LIMIT)[0] if agenda else None,
            status=_text(data.get("status")),
            host_id=_text(data.get("host_id")),
            host_email=_text(data.get("host_email")),
            created_at=_text(data.get("created_at")),
            password=_text(data.get("password")),
            recurrence=_recurrence(data.get("recurrence")),
            occurrences=[Occurrence.from_api(o) for o in _dicts(data.get("occurrences"))[:10]],
            registration=APPROVAL.get(_int(settings.get("approval_type")) or -1),
            registration_url=_text(data.get("registration_url")),
            settings=chosen,
        )

    def to_markdown(self) -> str:
        lines = [f"**{self.topic}** (meeting `{self.id}`{', ' + self.type if self.type else ''})"]
        if self.start_time:
            length = f", {self.duration} min" if self.duration else ""
            lines.append(f"When: {_when(self.start_time, self.timezone)}{length}")
        if self.recurrence:
            lines.append(f"Repeats: {self.recurrence}")
        for label, value in (
            ("Status", self.status),
            ("Join", self.join_url),
            ("Passcode", self.password),
            ("Host", self.host_email or self.host_id),
            ("Registration", self.registration if self.registration != "none" else None),
            ("Registration link", self.registration_url),
            ("UUID", self.uuid),
        ):
            if value:
                lines.append(f"{label}: {value}")
        if self.settings:
            lines.append("Settings: " + ", ".join(f"{k}={v}" for k, v in self.settings.items()))
        if self.occurrences:
            lines.append(
                "Occurrences: "
                + ", ".join(f"`{o.occurrence_id}` {o.start_time or ''}".strip() for o in self.occurrences)
            )
        if self.agenda:
            lines.append(f"\nAgenda:\n\n{plain_to_markdown(self.agenda)}")
        return "\n".join(lines)


def _recurrence(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    unit = RECURRENCE_UNITS.get(_int(value.get("type")) or 0)
    if unit is None:
        return None
    every = _int(value.get("repeat_interval")) or 1
    words = [f"every {unit}" if every == 1 else f"every {every} {unit}s"]
    days = value.get("weekly_days")
    if unit == "week" and isinstance(days, str) and days:
        words.append("on " + ", ".join(WEEKDAYS.get(d.strip(), d.strip()) for d in days.split(",")))
    if unit == "month" and _int(value.get("monthly_day")):
        words.append(f"on day {_int(value.get('monthly_day'))}")
    if unit == "month" and _int(value.get("monthly_week")) is not None and value.get("monthly_week_day"):
        week = {-1: "last", 1: "first", 2: "second", 3: "third", 4: "fourth"}.get(_int(value.get("monthly_week")) or 0)
        day = WEEKDAYS.get(str(value.get("monthly_week_day")), str(value.get("monthly_week_day")))
        words.append(f"on the {week} {day}")
    if _int(value.get("end_times")):
        words.append(f"{_int(value.get('end_times'))} times")
    elif _text(value.get("end_date_time")):
        words.append(f"until {_text(value.get('end_date_time'))}")
    return " ".join(words)


class Invitation(BaseModel):
    """The invitation text Zoom writes for a meeting (join link, passcode, dial-in numbers)."""

    meeting_id: str
    invitation: str
    truncated: bool = False

    def to_markdown(self) -> str:
        fence = "````" if "```" in self.invitation else "```"
        return f"**Invitation for meeting `{self.meeting_id}`**\n\n{fence}text\n{self.invitation}\n{fence}"


class PastMeeting(BaseModel):
    """A held meeting instance: when it ran and how many took part."""

    uuid: str | None = None
    id: str | None = None
    topic: str | None = None
    host: str | None = Field(default=None, description="The host's name and email.")
    start_time: str | None = None
    end_time: str | None = None
    duration: int | None = Field(default=None, description="Minutes it ran.")
    total_minutes: int | None = Field(default=None, description="Participant-minutes, summed over everyone.")
    participants_count: int | None = None
    has_meeting_summary: bool | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> PastMeeting:
        name, email = _text(data.get("user_name")), _text(data.get("user_email"))
        return cls(
            uuid=_text(data.get("uuid")),
            id=_id(data.get("id")),
            topic=_text(data.get("topic")),
            host=" ".join(part for part in (name, f"<{email}>" if email else None) if part) or None,
            start_time=_text(data.get("start_time")),
            end_time=_text(data.get("end_time")),
            duration=_int(data.get("duration")),
            total_minutes=_int(data.get("total_minutes")),
            participants_count=_int(data.get("participants_count")),
            has_meeting_summary=_bool(data.get("has_meeting_summary")),
        )

    def to_markdown(self) -> str:
        lines = [f"**{self.topic or '(no topic)'}** (meeting `{self.id}`, instance `{self.uuid}`)"]
        for label, value in (
            ("Ran", f"{self.start_time} to {self.end_time}" if self.start_time else None),
            ("Duration", f"{self.duration} min" if self.duration is not None else None),
            ("Participants", self.participants_count),
            ("Participant-minutes", self.total_minutes),
            ("Host", self.host),
            ("AI Companion summary", _yes_no(self.has_meeting_summary)),
        ):
            if value is not None and value != "":
                lines.append(f"{label}: {value}")
        return "\n".join(lines)


class PastInstance(BaseModel):
    """One held instance of a meeting."""

    uuid: str
    start_time: str | None = None


class PastInstanceList(Page[PastInstance]):
    """Held instances of a meeting, newest first."""

    meeting_id: str

    def to_markdown(self) -> str:
        head = f"**Held instances of meeting `{self.meeting_id}`** ({len(self.items)})\n\n"
        rows = table(self.items, ["uuid", ("started", "start_time")], empty="Zoom lists no held instance.")
        return head + rows + page_footer(self.next_cursor, self.truncated)


class Participant(BaseModel):
    """Someone who joined a held meeting or webinar (one row per join)."""

    name: str | None = None
    email: str | None = None
    user_id: str | None = Field(default=None, description="Their id within the meeting.")
    join_time: str | None = None
    leave_time: str | None = None
    duration: int | None = Field(default=None, description="Seconds in the meeting.")

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Participant:
        return cls(
            name=_text(data.get("name")),
            email=_text(data.get("user_email")),
            user_id=_text(data.get("id")) or _id(data.get("user_id")),
            join_time=_text(data.get("join_time")),
            leave_time=_text(data.get("leave_time")),
            duration=_int(data.get("duration")),
        )


class ParticipantList(Page[Participant]):
    """A page of participants of a held meeting or webinar."""

    of: str = Field(description="The meeting or webinar instance.")
    total_records: int | None = None

    def to_markdown(self) -> str:
        total = f" of {self.total_records}" if self.total_records is not None else ""
        days = {t[:10] for p in self.items for t in (p.join_time, p.leave_time) if t}
        # One day (the usual case): times of day only, the date once in the heading.
        day = f", {days.pop()} UTC" if len(days) == 1 else ""

        def clock(value: str | None) -> str | None:
            return value[11:19] if day and value else value

        head = f"**Participants of {self.of}** ({len(self.items)}{total}{day})\n\n"
        rows = table(
            self.items,
            [
                "name",
                "email",
                ("joined", lambda p: clock(p.join_time)),
                ("left", lambda p: clock(p.leave_time)),
                ("seconds", "duration"),
            ],
            empty="No participants.",
        )
        return head + rows + page_footer(self.next_cursor, self.truncated)


class Registrant(BaseModel):
    """A person registered for a meeting or webinar."""

    id: str
    email: str | None = None
    name: str | None = None
    status: str | None = Field(default=None, description="approved, pending or denied.")
    create_time: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Registrant:
        names = [_text(data.get("first_name")), _text(data.get("last_name"))]
        return cls(
            id=_id(data.get("id")) or "",
            email=_text(data.get("email")),
            name=" ".join(n for n in names if n) or None,
            status=_text(data.get("status")),
            create_time=_text(data.get("create_time")),
        )


class RegistrantList(Page[Registrant]):
    """A page of registrants."""

    of: str
    status: str
    total_records: int | None = None

    def to_markdown(self) -> str:
        total = f" of {self.total_records}" if self.total_records is not None else ""
        head = f"**{self.status.capitalize()} registrants of {self.of}** ({len(self.items)}{total})\n\n"
        rows = table(self.items, ["id", "name", "email", "status", ("registered", "create_time")], empty="None.")
        return head + rows + page_footer(self.next_cursor, self.truncated)


class RegistrantsUpdated(BaseModel):
    """The outcome of approving, denying or cancelling registrations."""

    meeting_id: str
    action: Literal["approve", "deny", "cancel"]
    registrant_ids: list[str]
    occurrence_id: str | None = None

    def to_markdown(self) -> str:
        done = {"approve": "Approved", "deny": "Denied", "cancel": "Cancelled"}[self.action]
        ids = ", ".join(f"`{i}`" for i in self.registrant_ids)
        return f"{done} {len(self.registrant_ids)} registration(s) for meeting `{self.meeting_id}`: {ids}."


class PollQuestion(BaseModel):
    """A poll question and its answer choices."""

    name: str
    type: str | None = Field(default=None, description="single or multiple choice, or another Zoom question type.")
    answers: list[str] = Field(default_factory=list)


class Poll(BaseModel):
    """A poll set up for a meeting."""

    id: str
    title: str | None = None
    status: str | None = Field(default=None, description="notstart, started, ended or sharing.")
    questions: list[PollQuestion] = Field(default_factory=list)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Poll:
        questions = [
            PollQuestion(
                name=_text(q.get("name")) or "",
                type=_text(q.get("type")),
                answers=[a for a in q.get("answers", []) if isinstance(a, str)][:20]
                if isinstance(q.get("answers"), list)
                else [],
            )
            for q in _dicts(data.get("questions"))[:50]
        ]
        return cls(
            id=_id(data.get("id")) or "",
            title=_text(data.get("title")),
            status=_text(data.get("status")),
            questions=questions,
        )


class PollList(Page[Poll]):
    """The polls of a meeting."""

    meeting_id: str

    def to_markdown(self) -> str:
        if not self.items:
            return f"Meeting `{self.meeting_id}` has no polls."
        parts = [f"**Polls of meeting `{self.meeting_id}`** ({len(self.items)})"]
        for poll in self.items:
            questions = [f"{q.name} ({q.type or 'choice'}): {' / '.join(q.answers)}" for q in poll.questions]
            parts.append(
                f"\n**{poll.title or poll.id}** (`{poll.id}`, {poll.status or 'unknown'})\n" + bullets(questions)
            )
        return "\n".join(parts) + page_footer(self.next_cursor, self.truncated)


class PollAnswerCount(BaseModel):
    answer: str
    count: int


class PollQuestionResult(BaseModel):
    question: str
    answers: list[PollAnswerCount]


class PollResults(BaseModel):
    """The answers given to a held meeting's polls, counted per question."""

    meeting: str
    start_time: str | None = None
    respondents: int = Field(description="People who answered at least one question.")
    questions: list[PollQuestionResult]

    @classmethod
    def from_api(cls, data: dict[str, Any], meeting: str) -> PollResults:
        tallies: dict[str, dict[str, int]] = {}
        respondents = 0
        for person in _dicts(data.get("questions")):
            details = _dicts(person.get("question_details"))
            if details:
                respondents += 1
            for detail in details:
                question = _text(detail.get("question")) or "(question)"
                answers = _text(detail.get("answer")) or "(no answer)"
                counts = tallies.setdefault(question, {})
                # Zoom joins a multiple-choice answer's choices with ";".
                for answer in (a.strip() for a in answers.split(";")):
                    if answer:
                        counts[answer] = counts.get(answer, 0) + 1
        questions = [
            PollQuestionResult(
                question=question,
                answers=[
                    PollAnswerCount(answer=a, count=c) for a, c in sorted(counts.items(), key=lambda i: -i[1])[:20]
                ],
            )
            for question, counts in list(tallies.items())[:50]
        ]
        return cls(
            meeting=meeting, start_time=_text(data.get("start_time")), respondents=respondents, questions=questions
        )

    def to_markdown(self) -> str:
        if not self.questions:
            return f"No poll answers were recorded for meeting {self.meeting}."
        parts = [f"**Poll results of meeting {self.meeting}** ({self.respondents} respondents)"]
        for result in self.questions:
            answers = [f"{a.answer}: {a.count}" for a in result.answers]
            parts.append(f"\n{cell(result.question, 300)}\n" + bullets(answers))
        return "\n".join(parts)


class MeetingDeleted(BaseModel):
    """A deleted meeting (or occurrence)."""

    meeting_id: str
    occurrence_id: str | None = None

    def to_markdown(self) -> str:
        which = f"occurrence `{self.occurrence_id}` of meeting" if self.occurrence_id else "meeting"
        return f"Deleted {which} `{self.meeting_id}`."


# -- recordings --------------------------------------------------------------------------------


class RecordingFile(BaseModel):
    """One file of a cloud recording."""

    id: str | None = None
    file_type: str | None = Field(default=None, description="MP4, M4A, TRANSCRIPT, CHAT, CC, TIMELINE...")
    recording_type: str | None = None
    status: str | None = None
    file_size: int | None = Field(default=None, description="Bytes.")
    recording_start: str | None = None
    recording_end: str | None = None
    play_url: str | None = Field(default=None, description="Opens the recording in Zoom's web player (sign-in needed).")

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> RecordingFile:
        return cls(
            id=_text(data.get("id")),
            file_type=_text(data.get("file_type")),
            recording_type=_text(data.get("recording_type")),
            status=_text(data.get("status")),
            file_size=_int(data.get("file_size")),
            recording_start=_text(data.get("recording_start")),
            recording_end=_text(data.get("recording_end")),
            play_url=_text(data.get("play_url")),
        )


class Recording(BaseModel):
    """A recorded meeting instance as the recordings list shows it."""

    uuid: str
    id: str | None = None
    topic: str | None = None
    start_time: str | None = None
    timezone: str | None = None
    duration: int | None = None
    total_size: int | None = Field(default=None, description="Bytes, all files.")
    file_types: list[str] = Field(default_factory=list)
    share_url: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Recording:
        kinds = [_text(f.get("file_type")) for f in _dicts(data.get("recording_files"))]
        return cls(
            uuid=_text(data.get("uuid")) or "",
            id=_id(data.get("id")),
            topic=_text(data.get("topic")),
            start_time=_text(data.get("start_time")),
            timezone=_text(data.get("timezone")),
            duration=_int(data.get("duration")),
            total_size=_int(data.get("total_size")),
            file_types=sorted({k for k in kinds if k}),
            share_url=_text(data.get("share_url")),
        )


class RecordingList(Page[Recording]):
    """Recorded meetings in a date range, newest window first."""

    from_date: str
    to_date: str
    searched_to: str | None = Field(
        default=None, description="When more remains: the range is searched down to this date so far."
    )

    def to_markdown(self) -> str:
        head = f"**Cloud recordings {self.from_date} to {self.to_date}** ({len(self.items)})\n\n"
        rows = table(
            self.items,
            [
                "uuid",
                ("meeting", "id"),
                "topic",
                ("when", lambda r: _when(r.start_time, r.timezone)),
                ("files", "file_types"),
            ],
            empty="No cloud recordings in this range.",
        )
        note = f"\n\n_Searched back to {self.searched_to} so far._" if self.searched_to and self.next_cursor else ""
        return head + rows + note + page_footer(self.next_cursor, self.truncated)


class MeetingRecordings(BaseModel):
    """A meeting instance's cloud recording: its files, and whether a transcript is among them."""

    uuid: str | None = None
    id: str | None = None
    topic: str | None = None
    start_time: str | None = None
    timezone: str | None = None
    duration: int | None = None
    share_url: str | None = None
    has_transcript: bool = Field(description="Whether a TRANSCRIPT file exists (zoom_get_transcript reads it).")
    files: list[RecordingFile]

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> MeetingRecordings:
        files = [RecordingFile.from_api(f) for f in _dicts(data.get("recording_files"))[:50]]
        return cls(
            uuid=_text(data.get("uuid")),
            id=_id(data.get("id")),
            topic=_text(data.get("topic")),
            start_time=_text(data.get("start_time")),
            timezone=_text(data.get("timezone")),
            duration=_int(data.get("duration")),
            share_url=_text(data.get("share_url")),
            has_transcript=any(f.file_type == "TRANSCRIPT" for f in files),
            files=files,
        )

    def to_markdown(self) -> str:
        head = f"**Recording of {self.topic or 'meeting'}** (meeting `{self.id}`, instance `{self.uuid}`)"
        lines = [
            head,
            f"When: {_when(self.start_time, self.timezone)}" + (f", {self.duration} min" if self.duration else ""),
        ]
        if self.share_url:
            lines.append(f"Share link: {self.share_url}")
        lines.append(f"Transcript: {'yes (zoom_get_transcript)' if self.has_transcript else 'no'}")
        files = table(
            self.files,
            [("file id", "id"), ("type", "file_type"), ("view", "recording_type"), "status", ("bytes", "file_size")],
            empty="No files.",
        )
        return "\n".join(lines) + "\n\n" + files


class Transcript(BaseModel):
    """A meeting's transcript as speaker-labelled text, one turn a line (`[hh:mm:ss] Speaker: words`)."""

    meeting: str = Field(description="The meeting id or instance UUID asked for.")
    topic: str | None = None
    source: Literal["cloud_recording", "meeting_transcript"] = Field(
        description="Where it came from: the cloud recording's audio transcript, or Zoom's meeting transcript."
    )
    speakers: list[str] = Field(description="Everyone Zoom named, in order of first words.")
    turns: int
    text: str
    offset: int = Field(description="Characters of the full text skipped before this part.")
    total_chars: int
    next_offset: int | None = Field(default=None, description="Pass as `offset` for the rest; None when complete.")

    def to_markdown(self) -> str:
        head = f"**Transcript of {self.topic or 'meeting'}** ({self.meeting}; {self.turns} turns"
        head += f"; speakers: {', '.join(self.speakers)})" if self.speakers else ")"
        return f"{head}\n\n{self.text}"


class RecordingsDeleted(BaseModel):
    """A meeting's recording (or one file) moved to the trash or deleted."""

    meeting: str
    recording_id: str | None = None
    action: Literal["trash", "delete"]

    def to_markdown(self) -> str:
        what = f"recording file `{self.recording_id}`" if self.recording_id else "all recording files"
        done = "Moved to the trash (recoverable for 30 days)" if self.action == "trash" else "Deleted permanently"
        return f"{done}: {what} of {self.meeting}."


# -- summaries ---------------------------------------------------------------------------------


class SummarySection(BaseModel):
    label: str | None = None
    summary: str


class MeetingSummary(BaseModel):
    """An AI Companion meeting summary, or why there is none."""

    meeting: str
    available: bool = Field(description="False when Zoom has no summary for the meeting (see `reason`).")
    reason: str | None = None
    meeting_uuid: str | None = None
    meeting_id: str | None = None
    topic: str | None = None
    meeting_start_time: str | None = None
    meeting_end_time: str | None = None
    title: str | None = None
    overview: str | None = None
    sections: list[SummarySection] = Field(default_factory=list)
    next_steps: list[str] = Field(default_factory=list)
    edited: bool = Field(default=False, description="Whether the host edited the summary (the edited text is shown).")

    @classmethod
    def from_api(cls, data: dict[str, Any], meeting: str) -> MeetingSummary:
        edited = data.get("edited_summary") if isinstance(data.get("edited_summary"), dict) else None
        sections = [
            SummarySection(label=_text(s.get("label")), summary=clip(_text(s.get("summary")) or "", 4_000)[0])
            for s in _dicts(data.get("summary_details"))[:30]
            if _text(s.get("summary"))
        ]
        steps = (
            [s for s in data.get("next_steps", []) if isinstance(s, str) and s.strip()]
            if isinstance(data.get("next_steps"), list)
            else []
        )
        if edited:
            edited_details = _text(edited.get("summary_details"))
            if edited_details:
                sections = [SummarySection(label=None, summary=clip(edited_details, 12_000)[0])]
            if isinstance(edited.get("next_steps"), list):
                steps = [s for s in edited["next_steps"] if isinstance(s, str) and s.strip()]
        overview = _text(data.get("summary_overview"))
        return cls(
            meeting=meeting,
            available=True,
            meeting_uuid=_text(data.get("meeting_uuid")),
            meeting_id=_id(data.get("meeting_id")),
            topic=_text(data.get("meeting_topic")),
            meeting_start_time=_text(data.get("meeting_start_time")),
            meeting_end_time=_text(data.get("meeting_end_time")),
            title=_text(data.get("summary_title")),
            overview=clip(overview, 4_000)[0] if overview else None,
            sections=sections,
            next_steps=steps[:50],
            edited=edited is not None,
        )

    def to_markdown(self) -> str:
        if not self.available:
            return f"No AI Companion summary for meeting {self.meeting}: {self.reason}"
        about = ", ".join(part for part in (self.topic or self.meeting, self.meeting_start_time) if part)
        parts = [f"**{self.title or 'Meeting summary'}** ({about})"]
        if self.edited:
            parts.append("_Edited by the host._")
        if self.overview:
            parts.append(f"\n{self.overview}")
        for section in self.sections:
            parts.append(f"\n**{section.label}**\n{section.summary}" if section.label else f"\n{section.summary}")
        if self.next_steps:
            parts.append("\n**Next steps**\n" + bullets(self.next_steps))
        return "\n".join(parts)


# -- webinars ----------------------------------------------------------------------------------


class Webinar(BaseModel):
    """A webinar as Zoom lists it."""

    id: str
    uuid: str | None = None
    topic: str
    type: str | None = None
    start_time: str | None = None
    timezone: str | None = None
    duration: int | None = None
    join_url: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Webinar:
        return cls(
            id=_id(data.get("id")) or "",
            uuid=_text(data.get("uuid")),
            topic=_text(data.get("topic")) or "(no topic)",
            type=_type(WEBINAR_TYPES, data.get("type")),
            start_time=_text(data.get("start_time")),
            timezone=_text(data.get("timezone")),
            duration=_int(data.get("duration")),
            join_url=_text(data.get("join_url")),
        )


class WebinarList(Page[Webinar]):
    """A page of webinars."""

    total_records: int | None = None

    def to_markdown(self) -> str:
        total = f" of {self.total_records}" if self.total_records is not None else ""
        rows = table(
            self.items,
            [
                "id",
                "topic",
                ("when", lambda w: _when(w.start_time, w.timezone) or w.type),
                ("min", "duration"),
                ("join", "join_url"),
            ],
            empty="No webinars.",
        )
        return f"**Webinars** ({len(self.items)}{total})\n\n{rows}" + page_footer(self.next_cursor, self.truncated)


class WebinarDetail(Webinar):
    """A webinar with its agenda and registration settings."""

    agenda: str | None = None
    host_id: str | None = None
    recurrence: str | None = None
    occurrences: list[Occurrence] = Field(default_factory=list)
    registration: str | None = None
    registration_url: str | None = None
    password: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> WebinarDetail:
        base = Webinar.from_api(data)
        settings = data.get("settings") if isinstance(data.get("settings"), dict) else {}
        assert isinstance(settings, dict)
        agenda = _text(data.get("agenda"))
        return cls(
            **base.model_dump(),
            agenda=clip(agenda, AGENDA_LIMIT)[0] if agenda else None,
            host_id=_text(data.get("host_id")),
            recurrence=_recurrence(data.get("recurrence")),
            occurrences=[Occurrence.from_api(o) for o in _dicts(data.get("occurrences"))[:10]],
            registration=APPROVAL.get(_int(settings.get("approval_type")) or -1),
            registration_url=_text(data.get("registration_url")),
            password=_text(data.get("password")),
        )

    def to_markdown(self) -> str:
        lines = [f"**{self.topic}** (webinar `{self.id}`{', ' + self.type if self.type else ''})"]
        if self.start_time:
            lines.append(
                f"When: {_when(self.start_time, self.timezone)}" + (f", {self.duration} min" if self.duration else "")
            )
        for label, value in (
            ("Repeats", self.recurrence),
            ("Join", self.join_url),
            ("Passcode", self.password),
            ("Registration", self.registration if self.registration != "none" else None),
            ("Registration link", self.registration_url),
            ("UUID", self.uuid),
        ):
            if value:
                lines.append(f"{label}: {value}")
        if self.occurrences:
            lines.append(
                "Occurrences: "
                + ", ".join(f"`{o.occurrence_id}` {o.start_time or ''}".strip() for o in self.occurrences)
            )
        if self.agenda:
            lines.append(f"\nAgenda:\n\n{plain_to_markdown(self.agenda)}")
        return "\n".join(lines)


# -- users -------------------------------------------------------------------------------------


class User(BaseModel):
    """A Zoom user."""

    id: str
    email: str | None = None
    name: str | None = None
    type: str | None = Field(default=None, description="basic, licensed, ...")
    role: str | None = None
    status: str | None = Field(default=None, description="active, inactive or pending.")
    timezone: str | None = None
    dept: str | None = None
    personal_meeting_url: str | None = None
    last_login_time: str | None = None
    created_at: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> User:
        names = [_text(data.get("first_name")), _text(data.get("last_name"))]
        return cls(
            id=_text(data.get("id")) or "",
            email=_text(data.get("email")),
            name=_text(data.get("display_name")) or " ".join(n for n in names if n) or None,
            type=_type(USER_TYPES, data.get("type")),
            role=_text(data.get("role_name")),
            status=_text(data.get("status")),
            timezone=_text(data.get("timezone")),
            dept=_text(data.get("dept")),
            personal_meeting_url=_text(data.get("personal_meeting_url")),
            last_login_time=_text(data.get("last_login_time")),
            created_at=_text(data.get("created_at")),
        )

    def to_markdown(self) -> str:
        lines = [f"**{self.name or self.email or self.id}** (user `{self.id}`)"]
        for label, value in (
            ("Email", self.email),
            ("Type", self.type),
            ("Role", self.role),
            ("Status", self.status),
            ("Time zone", self.timezone),
            ("Department", self.dept),
            ("Personal meeting link", self.personal_meeting_url),
            ("Last sign-in", self.last_login_time),
        ):
            if value:
                lines.append(f"{label}: {value}")
        return "\n".join(lines)


class UserList(Page[User]):
    """A page of the account's users."""

    status: str
    total_records: int | None = None

    def to_markdown(self) -> str:
        total = f" of {self.total_records}" if self.total_records is not None else ""
        rows = table(self.items, ["id", "name", "email", "type", ("zone", "timezone")], empty="No users.")
        return f"**{self.status.capitalize()} users** ({len(self.items)}{total})\n\n{rows}" + page_footer(
            self.next_cursor, self.truncated
        )
