"""`drive_trash` tools: move files to the trash and back. Off by default.

Nothing here deletes permanently: Drive keeps trashed files for 30 days, and google_restore_file
brings one back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sagemcp import ToolContext, tool

from .._scopes import DRIVE_WRITE
from .._services import segment
from ..models import FILE_FIELDS, DriveFile
from ._common import FileId, url

if TYPE_CHECKING:
    from ..connector import GoogleConfig

__all__ = ["DriveTrashTools"]


class DriveTrashTools:
    """The `drive_trash` group."""

    @tool(read_only=False, group="drive_trash", destructive=True, idempotent=True, scopes=DRIVE_WRITE)
    async def trash_file(self, ctx: ToolContext[GoogleConfig], file_id: FileId) -> DriveFile:
        """Move a Drive file or folder to the trash (restorable for 30 days)."""
        response = await ctx.http.patch(
            url(ctx, "drive", f"files/{segment(file_id)}"),
            json={"trashed": True},
            params={"fields": FILE_FIELDS, "supportsAllDrives": "true"},
        )
        return DriveFile.from_api(response.json_object())

    @tool(read_only=False, group="drive_trash", destructive=False, idempotent=True, scopes=DRIVE_WRITE)
    async def restore_file(self, ctx: ToolContext[GoogleConfig], file_id: FileId) -> DriveFile:
        """Take a file or folder out of the trash, back where it was."""
        response = await ctx.http.patch(
            url(ctx, "drive", f"files/{segment(file_id)}"),
            json={"trashed": False},
            params={"fields": FILE_FIELDS, "supportsAllDrives": "true"},
        )
        return DriveFile.from_api(response.json_object())
