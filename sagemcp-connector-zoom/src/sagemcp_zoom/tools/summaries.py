"""`summaries`: AI Companion meeting summaries.

Zoom keeps a summary only when the host's plan includes AI Companion, meeting summaries were
turned on for the meeting, and it was not end-to-end encrypted. When Zoom has none, the tool
says so as a result (`available: false` and why), not as a failure; a missing scope or a
meeting that does not exist is still an error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sagemcp import ToolContext, tool
from sagemcp.errors import UpstreamBadRequest, UpstreamForbidden, UpstreamNotFound

from .._ids import MeetingRef, ref_segment
from ..models import MeetingSummary

if TYPE_CHECKING:
    from ..connector import ZoomConfig

__all__ = ["SummariesTools"]

MEETING_MISSING = "3001"
PREREQUISITES = (
    "Zoom keeps an AI Companion summary only when the host's plan includes AI Companion, meeting summary was "
    "turned on for the meeting, and the meeting was not end-to-end encrypted; a summary appears some minutes "
    "after the meeting ends"
)


class SummariesTools:
    """The `summaries` group."""

    @tool(read_only=True, group="summaries", scopes=("meeting:read:summary",))
    async def get_meeting_summary(self, ctx: ToolContext[ZoomConfig], meeting: MeetingRef) -> MeetingSummary:
        """Get the AI Companion summary of a held meeting: overview, sections, next steps.

        Shows the host's edits; says why when there is no summary.
        """
        try:
            response = await ctx.http.get(f"/meetings/{ref_segment(meeting)}/meeting_summary")
        except UpstreamForbidden as exc:
            if exc.missing_scopes:
                raise
            return MeetingSummary(meeting=meeting, available=False, reason=f"{PREREQUISITES}. Zoom said: {exc.message}")
        except (UpstreamNotFound, UpstreamBadRequest) as exc:
            if exc.upstream_code == MEETING_MISSING:
                raise
            return MeetingSummary(meeting=meeting, available=False, reason=f"{PREREQUISITES}. Zoom said: {exc.message}")
        return MeetingSummary.from_api(response.json_object(), meeting=meeting)
