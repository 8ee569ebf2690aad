"""`comments` tools: list, add, edit and delete an issue's comments, bodies in Markdown."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from sagemcp import Cursor, Limit, ToolContext, tool

from .._api import JiraApi, segment
from .._pages import next_offset_cursor, start_at
from .._scopes import READ_WORK, WRITE_WORK
from ..models import Comment, CommentList, Done
from ._common import CommentId, IssueKey, Markdown

if TYPE_CHECKING:
    from ..connector import JiraConfig

__all__ = ["CommentsTools"]

VisibleTo = Annotated[
    str | None,
    Field(max_length=255, description="Restrict the comment to a project role (e.g. Developers); leave out for all."),
]


def _body(api: JiraApi, body: str, visible_to: str | None) -> dict[str, Any]:
    payload: dict[str, Any] = {"body": api.rich_text(body)}
    if visible_to:
        payload["visibility"] = {"type": "role", "value": visible_to}
    return payload


class CommentsTools:
    """The `comments` group."""

    @tool(read_only=True, group="comments", scopes=READ_WORK)
    async def list_comments(
        self,
        ctx: ToolContext[JiraConfig],
        issue: IssueKey,
        order: Annotated[Literal["newest", "oldest"], Field(description="Which comments come first.")] = "newest",
        limit: Annotated[int, Limit(maximum=50, what="Comments")] = 10,
        cursor: Cursor = None,
    ) -> CommentList:
        """List an issue's comments with their authors, dates and Markdown bodies (ids for editing or deleting)."""
        api = JiraApi(ctx)
        bind = {"issue": issue, "order": order}
        start = start_at(cursor, bind)
        params = {"startAt": start, "maxResults": limit, "orderBy": "-created" if order == "newest" else "created"}
        response = await api.get(api.api(f"/issue/{segment(issue)}/comment"), params=params)
        data = response.json_object()
        raw = response.json_list("comments", of=dict)
        total = data.get("total")
        return CommentList(
            key=issue,
            items=[Comment.from_api(c, api) for c in raw],
            total=total if isinstance(total, int) else None,
            next_cursor=next_offset_cursor(data, start, len(raw), bind),
        )

    @tool(read_only=False, group="comments", destructive=False, idempotent=False, scopes=WRITE_WORK)
    async def add_comment(
        self, ctx: ToolContext[JiraConfig], issue: IssueKey, body: Markdown, visible_to: VisibleTo = None
    ) -> Comment:
        """Comment on an issue. The body is Markdown; mention someone with `[@Name](mention:ACCOUNT_ID)`."""
        api = JiraApi(ctx)
        response = await api.post(api.api(f"/issue/{segment(issue)}/comment"), json=_body(api, body, visible_to))
        return Comment.from_api(response.json_object(), api)

    @tool(read_only=False, group="comments", destructive=False, idempotent=True, scopes=WRITE_WORK)
    async def update_comment(
        self,
        ctx: ToolContext[JiraConfig],
        issue: IssueKey,
        comment_id: CommentId,
        body: Markdown,
        visible_to: VisibleTo = None,
    ) -> Comment:
        """Replace the body of a comment (Markdown)."""
        api = JiraApi(ctx)
        path = api.api(f"/issue/{segment(issue)}/comment/{segment(comment_id)}")
        response = await api.put(path, json=_body(api, body, visible_to))
        return Comment.from_api(response.json_object(), api)

    @tool(read_only=False, group="comments", destructive=True, idempotent=False, scopes=WRITE_WORK)
    async def delete_comment(self, ctx: ToolContext[JiraConfig], issue: IssueKey, comment_id: CommentId) -> Done:
        """Delete a comment. This cannot be undone."""
        api = JiraApi(ctx)
        await api.delete(api.api(f"/issue/{segment(issue)}/comment/{segment(comment_id)}"))
        return Done(message=f"Deleted comment {comment_id} of {issue}.", key=issue, id=comment_id)
