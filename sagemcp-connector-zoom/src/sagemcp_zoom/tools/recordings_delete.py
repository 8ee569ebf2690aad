"""`recordings_delete`: moving a meeting's cloud recording (or one file) to the trash, or deleting it.

Off by default. The trash (the default) keeps files for 30 days, recoverable in Zoom's web
portal; `delete` removes them for good. Never retried automatically.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal
from urllib.parse import quote

from pydantic import Field

from sagemcp import ToolContext, tool

from .._ids import MeetingRef, ref_segment
from ..models import RecordingsDeleted

if TYPE_CHECKING:
    from ..connector import ZoomConfig

__all__ = ["RecordingsDeleteTools"]


class RecordingsDeleteTools:
    """The `recordings_delete` group."""

    @tool(
        read_only=False,
        destructive=True,
        idempotent=True,
        group="recordings_delete",
        scopes=("cloud_recording:delete:meeting_recording", "cloud_recording:delete:recording_file"),
    )
    async def delete_recording(
        self,
        ctx: ToolContext[ZoomConfig],
        meeting: MeetingRef,
        recording_id: Annotated[
            str | None,
            Field(
                default=None,
                pattern=r"^[A-Za-z0-9=_+-]{1,100}$",
                description="One file's id (zoom_get_meeting_recordings); leave it out for every file.",
            ),
        ] = None,
        action: Annotated[
            Literal["trash", "delete"],
            Field(description="trash (recoverable for 30 days) or delete (permanent)."),
        ] = "trash",
    ) -> RecordingsDeleted:
        """Move a held meeting's cloud recording (or one file) to the trash, or delete it permanently."""
        path = f"/meetings/{ref_segment(meeting)}/recordings"
        if recording_id is not None:
            path += f"/{quote(recording_id, safe='')}"
        await ctx.http.delete(path, params={"action": action})
        return RecordingsDeleted(meeting=meeting, recording_id=recording_id, action=action)
