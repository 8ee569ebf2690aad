"""`calendar_delete` tools: deleting events. Off by default."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sagemcp import ToolContext, tool

from .._scopes import CALENDAR_EVENTS
from .._services import segment
from ..models import ActionResult
from ._common import url
from .calendar import CalendarId, EventId, SendUpdates

if TYPE_CHECKING:
    from ..connector import GoogleConfig

__all__ = ["CalendarDeleteTools"]


class CalendarDeleteTools:
    """The `calendar_delete` group."""

    @tool(read_only=False, group="calendar_delete", destructive=True, idempotent=True, scopes=CALENDAR_EVENTS)
    async def delete_event(
        self,
        ctx: ToolContext[GoogleConfig],
        event_id: EventId,
        calendar_id: CalendarId = "primary",
        send_updates: SendUpdates = "all",
    ) -> ActionResult:
        """Delete an event (attendees are told according to send_updates); a recurring event's id deletes the series."""
        await ctx.http.delete(
            url(ctx, "calendar", f"calendars/{segment(calendar_id)}/events/{segment(event_id)}"),
            params={"sendUpdates": send_updates},
        )
        return ActionResult(done="Deleted the event.", id=event_id)
