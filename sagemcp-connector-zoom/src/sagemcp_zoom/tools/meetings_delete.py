"""`meetings_delete`: deleting a meeting or one occurrence. Off by default: a tenant enables the group.

A delete is never retried automatically: after a dropped connection it may have happened, and
a second attempt would only report that the meeting is gone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from sagemcp import ToolContext, tool

from .._ids import MeetingId, OccurrenceId
from ..models import MeetingDeleted

if TYPE_CHECKING:
    from ..connector import ZoomConfig

__all__ = ["MeetingsDeleteTools"]


class MeetingsDeleteTools:
    """The `meetings_delete` group."""

    @tool(
        read_only=False,
        destructive=True,
        idempotent=True,
        group="meetings_delete",
        scopes=("meeting:delete:meeting",),
    )
    async def delete_meeting(
        self,
        ctx: ToolContext[ZoomConfig],
        meeting_id: MeetingId,
        occurrence_id: OccurrenceId = None,
        notify_hosts: Annotated[
            bool, Field(description="Email the host and alternative hosts that the meeting was cancelled.")
        ] = False,
        notify_registrants: Annotated[
            bool, Field(description="Email the registrants that the meeting was cancelled.")
        ] = False,
    ) -> MeetingDeleted:
        """Delete a meeting, or one occurrence of a recurring one; the join link stops working."""
        params = {
            "occurrence_id": occurrence_id,
            "schedule_for_reminder": "true" if notify_hosts else "false",
            "cancel_meeting_reminder": "true" if notify_registrants else "false",
        }
        await ctx.http.delete(f"/meetings/{meeting_id}", params=params)
        return MeetingDeleted(meeting_id=str(meeting_id), occurrence_id=occurrence_id)
