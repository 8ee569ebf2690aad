"""`webinars`: list and read webinars, their attendees and their registrants (reads only).

Webinars need a Zoom Webinars license on the host; without one Zoom answers that the user
has none, which reaches the model as such.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from sagemcp import Cursor, ToolContext, decode_cursor, encode_cursor, tool

from .._ids import OccurrenceId, UserRef, WebinarId, WebinarRef, ref_segment
from .._pages import DEFAULT_LIMIT, LimitArg, next_cursor, page_params
from ..models import (
    Participant,
    ParticipantList,
    Registrant,
    RegistrantList,
    Webinar,
    WebinarDetail,
    WebinarList,
)
from ._common import user_segment

if TYPE_CHECKING:
    from ..connector import ZoomConfig

__all__ = ["WebinarsTools"]

GROUP = "webinars"


def _count(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


class WebinarsTools:
    """The `webinars` group."""

    @tool(read_only=True, group=GROUP, scopes=("webinar:read:list_webinars",))
    async def list_webinars(
        self,
        ctx: ToolContext[ZoomConfig],
        user_id: UserRef = "me",
        limit: LimitArg = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> WebinarList:
        """List a user's webinars: id, topic, start time and zone, length, join link."""
        bind = {"user": user_id}
        page = 1
        if cursor is not None:
            number = decode_cursor(cursor, bind=bind).get("p")
            page = number if isinstance(number, int) and number > 1 else 1
        response = await ctx.http.get(
            f"/users/{user_segment(user_id)}/webinars", params={"page_size": limit, "page_number": page}
        )
        data = response.json_object()
        pages = _count(data.get("page_count"))
        more = encode_cursor({"p": page + 1}, bind=bind) if pages is not None and page < pages else None
        return WebinarList(
            items=[Webinar.from_api(w) for w in response.json_list("webinars", of=dict)],
            next_cursor=more,
            total_records=_count(data.get("total_records")),
        )

    @tool(read_only=True, group=GROUP, scopes=("webinar:read:webinar",))
    async def get_webinar(
        self, ctx: ToolContext[ZoomConfig], webinar_id: WebinarId, occurrence_id: OccurrenceId = None
    ) -> WebinarDetail:
        """Get a webinar: schedule, recurrence, join link, passcode, registration, agenda."""
        response = await ctx.http.get(f"/webinars/{webinar_id}", params={"occurrence_id": occurrence_id})
        return WebinarDetail.from_api(response.json_object())

    @tool(read_only=True, group=GROUP, scopes=("webinar:read:list_past_participants",))
    async def list_webinar_participants(
        self,
        ctx: ToolContext[ZoomConfig],
        webinar: WebinarRef,
        limit: LimitArg = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> ParticipantList:
        """List who attended a held webinar: name, email, join and leave times."""
        bind = {"webinar": webinar}
        response = await ctx.http.get(
            f"/past_webinars/{ref_segment(webinar)}/participants", params=page_params(limit, cursor, bind)
        )
        data = response.json_object()
        return ParticipantList(
            items=[Participant.from_api(p) for p in response.json_list("participants", of=dict)],
            next_cursor=next_cursor(data, bind),
            of=f"webinar {webinar}",
            total_records=_count(data.get("total_records")),
        )

    @tool(read_only=True, group=GROUP, scopes=("webinar:read:list_registrants",))
    async def list_webinar_registrants(
        self,
        ctx: ToolContext[ZoomConfig],
        webinar_id: WebinarId,
        status: Annotated[
            Literal["pending", "approved", "denied"], Field(description="Which registrations to list.")
        ] = "approved",
        occurrence_id: OccurrenceId = None,
        limit: LimitArg = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> RegistrantList:
        """List the people registered for a webinar: id, name, email, status and when they registered."""
        bind = {"webinar": webinar_id, "status": status, "occurrence": occurrence_id}
        params = {"status": status, "occurrence_id": occurrence_id, **page_params(limit, cursor, bind)}
        response = await ctx.http.get(f"/webinars/{webinar_id}/registrants", params=params)
        data = response.json_object()
        return RegistrantList(
            items=[Registrant.from_api(r) for r in response.json_list("registrants", of=dict)],
            next_cursor=next_cursor(data, bind),
            of=f"webinar {webinar_id}",
            status=status,
            total_records=_count(data.get("total_records")),
        )
