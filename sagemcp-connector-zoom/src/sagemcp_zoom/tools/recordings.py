"""`recordings`: cloud recordings in a date range, one meeting's recording files, and its transcript as text.

Zoom lists recordings for at most a month per request; `zoom_list_recordings` takes any range
up to two years and walks it in 30-day windows, newest first, with the window and Zoom's
page token in its cursor (and at most `MAX_REQUESTS` requests per call, so an empty year
costs a few calls, not one slow one).

The transcript is the cloud recording's audio transcript (a `TRANSCRIPT` file) or, when the
meeting has none, Zoom's meeting transcript (`GET /meetings/{id}/transcript`); either is a
WebVTT file on Zoom's download host, fetched with the tenant's token (see `_download`) and
turned into speaker-labelled text, cut at `max_chars` with an `offset` for the rest.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from sagemcp import Cursor, ToolContext, clip, decode_cursor, encode_cursor, tool
from sagemcp.errors import UpstreamBadResponse, UpstreamError, UpstreamForbidden, UpstreamNotFound

from .._download import download_text
from .._ids import MeetingRef, UserRef, ref_segment
from .._pages import DEFAULT_LIMIT, LimitArg
from .._scopes import RECORDING_FILES_READ, TRANSCRIPT_READ
from .._time import recording_windows
from .._vtt import TranscriptError, parse_vtt, render_turns, to_turns
from ..models import MeetingRecordings, Recording, RecordingList, Transcript
from ._common import require, user_segment

if TYPE_CHECKING:
    from ..connector import ZoomConfig

__all__ = ["MAX_RANGE_DAYS", "MAX_REQUESTS", "RecordingsTools"]

GROUP = "recordings"
MAX_RANGE_DAYS = 731
MAX_REQUESTS = 6
"""Zoom requests one zoom_list_recordings call may make (each covers at most 30 days)."""
TRANSCRIPT_CHARS = 60_000
TRANSCRIPT_MAX = 90_000
NOT_READY = "NOT_READY"


def _recording_file(data: dict[str, Any]) -> tuple[str | None, bool]:
    """The download URL of the completed TRANSCRIPT file, and whether one is still being processed."""
    processing = False
    for item in data.get("recording_files") or []:
        if not isinstance(item, dict) or item.get("file_type") != "TRANSCRIPT":
            continue
        url = item.get("download_url")
        status = item.get("status")
        if isinstance(url, str) and url and status in (None, "completed"):
            return url, False
        processing = True
    return None, processing


class RecordingsTools:
    """The `recordings` group."""

    @tool(read_only=True, group=GROUP, scopes=("cloud_recording:read:list_user_recordings",))
    async def list_recordings(
        self,
        ctx: ToolContext[ZoomConfig],
        user_id: UserRef = "me",
        from_date: Annotated[
            date | None, Field(description="First day (UTC) to search; default 29 days before to_date.")
        ] = None,
        to_date: Annotated[date | None, Field(description="Last day (UTC) to search; default today.")] = None,
        limit: LimitArg = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> RecordingList:
        """List a user's cloud recordings between two dates, newest first: instance UUID, topic, time, file types.

        One instance's files: zoom_get_meeting_recordings; its text: zoom_get_transcript.
        """
        last = to_date or datetime.now(UTC).date()
        first = from_date or last - timedelta(days=29)
        require(first <= last, "from_date", "must not be after to_date")
        require(
            (last - first).days < MAX_RANGE_DAYS,
            "from_date",
            f"the range may span at most {MAX_RANGE_DAYS - 1} days; search older recordings in another call",
        )
        windows = recording_windows(first, last)
        bind = {"user": user_id, "from": first.isoformat(), "to": last.isoformat()}
        window, token = 0, None
        if cursor is not None:
            state = decode_cursor(cursor, bind=bind)
            window = state["w"] if isinstance(state.get("w"), int) and 0 <= state["w"] < len(windows) else 0
            token = state.get("t") if isinstance(state.get("t"), str) and state.get("t") else None
        items: list[Recording] = []
        requests = 0
        while window < len(windows) and len(items) < limit and requests < MAX_REQUESTS:
            lower, upper = windows[window]
            params: dict[str, Any] = {
                "from": lower.isoformat(),
                "to": upper.isoformat(),
                "page_size": limit - len(items),
            }
            if token:
                params["next_page_token"] = token
            response = await ctx.http.get(f"/users/{user_segment(user_id)}/recordings", params=params)
            requests += 1
            items.extend(Recording.from_api(m) for m in response.json_list("meetings", of=dict))
            found = response.json_object().get("next_page_token")
            token = found if isinstance(found, str) and found else None
            if token is None:
                window += 1
        more = encode_cursor({"w": window, "t": token}, bind=bind) if window < len(windows) else None
        # Whole windows searched so far end at the lower bound of the last one finished.
        searched = windows[window - 1][0].isoformat() if more and token is None and window > 0 else None
        return RecordingList(
            items=items[:limit],
            next_cursor=more,
            from_date=first.isoformat(),
            to_date=last.isoformat(),
            searched_to=searched,
        )

    @tool(read_only=True, group=GROUP, scopes=(RECORDING_FILES_READ,))
    async def get_meeting_recordings(self, ctx: ToolContext[ZoomConfig], meeting: MeetingRef) -> MeetingRecordings:
        """Get a held meeting's cloud recording files (type, size, status), share link, transcript availability."""
        response = await ctx.http.get(f"/meetings/{ref_segment(meeting)}/recordings")
        return MeetingRecordings.from_api(response.json_object())

    @tool(read_only=True, group=GROUP, scopes=(RECORDING_FILES_READ, TRANSCRIPT_READ))
    async def get_transcript(
        self,
        ctx: ToolContext[ZoomConfig],
        meeting: MeetingRef,
        offset: Annotated[int, Field(ge=0, description="Characters of the text to skip (from next_offset).")] = 0,
        max_chars: Annotated[
            int, Field(ge=1_000, le=TRANSCRIPT_MAX, description="Characters of text to return at most.")
        ] = TRANSCRIPT_CHARS,
    ) -> Transcript:
        """Get a held meeting's transcript as plain text, one `[hh:mm:ss] Name: words` line per turn.

        Long ones are cut at `max_chars` and end with `next_offset`, to pass as `offset`.
        """
        url, source, topic = await self._transcript_url(ctx, meeting)
        content = await download_text(ctx, url, what="transcript")
        try:
            cues = parse_vtt(content)
        except TranscriptError as exc:
            raise UpstreamBadResponse(
                f"Zoom's transcript of meeting {meeting} could not be read: {exc}.", provider="zoom"
            ) from None
        turns = to_turns(cues)
        if not turns:
            raise UpstreamNotFound(
                f"Zoom's transcript of meeting {meeting} is empty: Zoom may still be writing it; try again in a few "
                "minutes.",
                status=404,
                provider="zoom",
            )
        full = render_turns(turns)
        speakers = list(dict.fromkeys(t.speaker for t in turns if t.speaker))
        rest = full[offset:]
        shown: list[int] = []

        def hint(count: int) -> str:
            shown.append(count)
            return f"call zoom_get_transcript with offset={offset + count} for more"

        text, cut = clip(rest, max_chars, hint)
        return Transcript(
            meeting=meeting,
            topic=topic,
            source=source,
            speakers=speakers[:100],
            turns=len(turns),
            text=text
            if rest or not offset
            else f"(offset {offset} is past the end: the text has {len(full)} characters)",
            offset=offset,
            total_chars=len(full),
            next_offset=offset + shown[0] if cut and shown else None,
        )

    async def _transcript_url(self, ctx: ToolContext[ZoomConfig], meeting: MeetingRef) -> tuple[str, Any, str | None]:
        """The transcript file's URL, its source, and the meeting topic; an upstream error saying why not."""
        segment = ref_segment(meeting)
        first_error: UpstreamError | None = None
        processing = False
        topic: str | None = None
        try:
            recordings = (await ctx.http.get(f"/meetings/{segment}/recordings")).json_object()
        except (UpstreamNotFound, UpstreamForbidden) as exc:
            first_error = exc
        else:
            topic = recordings.get("topic") if isinstance(recordings.get("topic"), str) else None
            url, processing = _recording_file(recordings)
            if url is not None:
                return url, "cloud_recording", topic
        try:
            transcript = (await ctx.http.get(f"/meetings/{segment}/transcript")).json_object()
        except UpstreamNotFound:
            if isinstance(first_error, UpstreamForbidden):
                raise first_error from None
            raise UpstreamNotFound(self._none_message(meeting, processing), status=404, provider="zoom") from None
        except UpstreamForbidden:
            if isinstance(first_error, UpstreamForbidden):
                raise first_error from None
            raise
        topic = topic or (transcript.get("meeting_topic") if isinstance(transcript.get("meeting_topic"), str) else None)
        url = transcript.get("download_url")
        if transcript.get("can_download") is not False and isinstance(url, str) and url:
            return url, "meeting_transcript", topic
        reason = transcript.get("download_restriction_reason")
        if processing or reason == NOT_READY:
            raise UpstreamNotFound(
                f"The transcript of meeting {meeting} is still being processed by Zoom; try again in a few minutes.",
                status=404,
                provider="zoom",
            )
        if isinstance(reason, str) and reason:
            raise UpstreamForbidden(
                f"Zoom does not allow downloading the transcript of meeting {meeting} ({reason}); the host or an "
                "account admin can change who may download transcripts in Zoom's settings.",
                status=403,
                provider="zoom",
            )
        raise UpstreamNotFound(self._none_message(meeting, processing), status=404, provider="zoom")

    @staticmethod
    def _none_message(meeting: str, processing: bool) -> str:
        if processing:
            return f"The transcript of meeting {meeting} is still being processed by Zoom; try again in a few minutes."
        return (
            f"Zoom has no transcript of meeting {meeting}: it was not recorded to the cloud with audio transcripts "
            "turned on, and Zoom kept no meeting transcript. Check the id or instance UUID (zoom_list_recordings), "
            "or turn on audio transcripts in Zoom's cloud recording settings for future meetings."
        )
