"""`comments` tools: a page's or block's open comments, and new comments on pages, blocks and discussions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from sagemcp import Cursor, Limit, ToolContext, decode_cursor, encode_cursor, tool
from sagemcp.errors import InvalidArguments, UpstreamError

from .._ids import NotionId
from .._richtext import rich_text_from_markdown
from ..models import Comment, CommentList

if TYPE_CHECKING:
    from ..connector import NotionConfig

__all__ = ["CommentTools"]

_NAME_LOOKUPS = 10


async def _names(ctx: ToolContext, ids: list[str]) -> dict[str, str]:
    """Names of up to ten comment authors; the integration may lack the users capability, then ids stay."""
    names: dict[str, str] = {}
    for user_id in list(dict.fromkeys(ids))[:_NAME_LOOKUPS]:
        try:
            user = (await ctx.http.get(f"/v1/users/{user_id}")).json_object()
        except UpstreamError:
            break
        if isinstance(user.get("name"), str) and user["name"]:
            names[user_id] = user["name"]
    return names


class CommentTools:
    """The `comments` group."""

    @tool(read_only=True, group="comments")
    async def list_comments(
        self,
        ctx: ToolContext[NotionConfig],
        block_id: Annotated[NotionId, Field(description="The page or block whose comments to list (id or URL).")],
        limit: Annotated[int, Limit(maximum=100)] = 25,
        cursor: Cursor = None,
    ) -> CommentList:
        """List the open comments on a page or block, oldest first, with their discussion ids."""
        params: dict[str, Any] = {"block_id": block_id, "page_size": limit}
        if cursor is not None:
            params["start_cursor"] = str(decode_cursor(cursor, bind={"block_id": block_id}).get("start_cursor", ""))
        response = await ctx.http.get("/v1/comments", params=params)
        data = response.json_object()
        raw = response.json_list("results", of=dict)
        authors = [
            str(c["created_by"]["id"])
            for c in raw
            if isinstance(c.get("created_by"), dict) and c["created_by"].get("id")
        ]
        need = [a for a, c in zip(authors, raw, strict=False) if not (c.get("display_name") or {}).get("resolved_name")]
        names = await _names(ctx, need) if need else {}
        token = data.get("next_cursor") if data.get("has_more") is True else None
        next_cursor = (
            encode_cursor({"start_cursor": token}, bind={"block_id": block_id})
            if isinstance(token, str) and token
            else None
        )
        return CommentList(items=[Comment.from_api(c, names) for c in raw], next_cursor=next_cursor)

    @tool(read_only=False, group="comments", destructive=False, idempotent=False)
    async def create_comment(
        self,
        ctx: ToolContext[NotionConfig],
        text: Annotated[str, Field(min_length=1, max_length=20_000, description="The comment (inline Markdown).")],
        page_id: Annotated[NotionId | None, Field(description="Start a discussion on this page.")] = None,
        block_id: Annotated[NotionId | None, Field(description="Start a discussion on this block.")] = None,
        discussion_id: Annotated[
            str | None,
            Field(
                min_length=32,
                max_length=36,
                pattern=r"^[0-9a-fA-F-]{32,36}$",
                description="Reply in this discussion (notion_list_comments returns discussion ids).",
            ),
        ] = None,
    ) -> Comment:
        """Add a comment: a new discussion on a page or block, or a reply in an existing discussion."""
        targets = [value for value in (page_id, block_id, discussion_id) if value is not None]
        if len(targets) != 1:
            raise InvalidArguments(
                "give exactly one of page_id, block_id and discussion_id", [("page_id", "one target needed")]
            )
        body: dict[str, Any] = {"rich_text": rich_text_from_markdown(text)}
        if discussion_id is not None:
            body["discussion_id"] = discussion_id
        elif page_id is not None:
            body["parent"] = {"page_id": page_id}
        else:
            body["parent"] = {"block_id": block_id}
        return Comment.from_api((await ctx.http.post("/v1/comments", json=body)).json_object())
