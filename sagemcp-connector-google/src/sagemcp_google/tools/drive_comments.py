"""`drive_comments` tools: the comment threads of a file (Docs, Sheets, Slides, any Drive file)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from sagemcp import Cursor, Limit, ToolContext, tool

from .._scopes import DRIVE_READ, DRIVE_WRITE
from .._services import segment
from ..models import Comment, CommentList, Reply
from ._common import FileId, next_page, page_token, url

if TYPE_CHECKING:
    from ..connector import GoogleConfig

__all__ = ["DriveCommentsTools"]

CommentId = Annotated[
    str,
    Field(
        min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$", description="A comment id from google_list_comments."
    ),
]
Text = Annotated[str, Field(min_length=1, max_length=30_000, description="The text (plain text).")]
_REPLY = "id,author(displayName,emailAddress),content,createdTime,action"
_COMMENT = (
    f"id,author(displayName,emailAddress),content,quotedFileContent(value),createdTime,resolved,replies({_REPLY})"
)


class DriveCommentsTools:
    """The `drive_comments` group."""

    @tool(read_only=True, group="drive_comments", scopes=DRIVE_READ)
    async def list_comments(
        self,
        ctx: ToolContext[GoogleConfig],
        file_id: FileId,
        include_resolved: Annotated[bool, Field(description="Also list resolved comments.")] = False,
        limit: Annotated[int, Limit(maximum=100, what="Comments")] = 20,
        cursor: Cursor = None,
    ) -> CommentList:
        """List a file's comments with their replies: author, text, the quoted passage, open or resolved."""
        bind = {"file": file_id}
        params = {
            "pageSize": limit,
            "pageToken": page_token(cursor, bind),
            # Drive v3 sends comment fields only when they are asked for.
            "fields": f"nextPageToken,comments({_COMMENT})",
        }
        response = await ctx.http.get(url(ctx, "drive", f"files/{segment(file_id)}/comments"), params=params)
        data = response.json_object()
        comments = [Comment.from_api(c) for c in response.json_list("comments", of=dict)]
        if not include_resolved:
            comments = [c for c in comments if not c.resolved]
        return CommentList(file_id=file_id, items=comments, next_cursor=next_page(data, bind))

    @tool(read_only=False, group="drive_comments", destructive=False, idempotent=False, scopes=DRIVE_WRITE)
    async def add_comment(self, ctx: ToolContext[GoogleConfig], file_id: FileId, content: Text) -> Comment:
        """Add a comment to a file (not anchored to a passage: Drive's API cannot anchor comments in Docs)."""
        response = await ctx.http.post(
            url(ctx, "drive", f"files/{segment(file_id)}/comments"),
            json={"content": content},
            params={"fields": _COMMENT},
        )
        return Comment.from_api(response.json_object())

    @tool(read_only=False, group="drive_comments", destructive=False, idempotent=False, scopes=DRIVE_WRITE)
    async def reply_to_comment(
        self, ctx: ToolContext[GoogleConfig], file_id: FileId, comment_id: CommentId, content: Text
    ) -> Reply:
        """Reply to a comment on a file."""
        response = await ctx.http.post(
            url(ctx, "drive", f"files/{segment(file_id)}/comments/{segment(comment_id)}/replies"),
            json={"content": content},
            params={"fields": _REPLY},
        )
        return Reply.from_api(response.json_object())

    @tool(read_only=False, group="drive_comments", destructive=False, idempotent=False, scopes=DRIVE_WRITE)
    async def resolve_comment(
        self,
        ctx: ToolContext[GoogleConfig],
        file_id: FileId,
        comment_id: CommentId,
        content: Annotated[str, Field(max_length=30_000, description="An optional closing remark.")] = "",
        reopen: Annotated[bool, Field(description="Reopen a resolved comment instead.")] = False,
    ) -> Reply:
        """Resolve (or reopen) a comment thread, with an optional closing reply."""
        body = {"action": "reopen" if reopen else "resolve", "content": content}
        response = await ctx.http.post(
            url(ctx, "drive", f"files/{segment(file_id)}/comments/{segment(comment_id)}/replies"),
            json=body,
            params={"fields": _REPLY},
        )
        return Reply.from_api(response.json_object())
