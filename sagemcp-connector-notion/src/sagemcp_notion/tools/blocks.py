"""`blocks` tools: one block, a block's children a page at a time, and editing a block's text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from sagemcp import Cursor, Limit, ToolContext, decode_cursor, encode_cursor, tool
from sagemcp.errors import InvalidArguments

from .._blocks import notion_language
from .._content import list_children
from .._ids import BlockId
from .._richtext import rich_text_from_markdown, text_items
from ..models import Block, BlockList

if TYPE_CHECKING:
    from ..connector import NotionConfig

__all__ = ["BlockTools"]

_TEXT_TYPES = frozenset(
    {
        "paragraph",
        "heading_1",
        "heading_2",
        "heading_3",
        "heading_4",
        "bulleted_list_item",
        "numbered_list_item",
        "to_do",
        "toggle",
        "quote",
        "callout",
    }
)


class BlockTools:
    """The `blocks` group."""

    @tool(read_only=True, group="blocks")
    async def get_block(self, ctx: ToolContext[NotionConfig], block_id: BlockId) -> Block:
        """Get one block: its type, its content as Markdown, and whether it has children."""
        return Block.from_api((await ctx.http.get(f"/v1/blocks/{block_id}")).json_object())

    @tool(read_only=True, group="blocks")
    async def list_block_children(
        self,
        ctx: ToolContext[NotionConfig],
        block_id: BlockId,
        limit: Annotated[int, Limit(maximum=100)] = 50,
        cursor: Cursor = None,
    ) -> BlockList:
        """List a block's (or page's) direct children: ids, types, Markdown.

        The ids serve notion_update_block, notion_delete_block and after_block_id; whole pages read better with
        notion_get_page_content.
        """
        start = None
        if cursor is not None:
            start = str(decode_cursor(cursor, bind={"block_id": block_id}).get("start_cursor", "")) or None
        results, token = await list_children(ctx.http, block_id, start, page_size=limit)
        next_cursor = encode_cursor({"start_cursor": token}, bind={"block_id": block_id}) if token else None
        return BlockList(items=[Block.from_api(block) for block in results], next_cursor=next_cursor)

    @tool(read_only=False, group="blocks", destructive=True, idempotent=True)
    async def update_block(
        self,
        ctx: ToolContext[NotionConfig],
        block_id: BlockId,
        text: Annotated[
            str | None,
            Field(
                max_length=20_000,
                description="The block's new text: inline Markdown for text blocks, the code of a code block, "
                "the expression of an equation.",
            ),
        ] = None,
        checked: Annotated[bool | None, Field(description="Check or uncheck a to-do block.")] = None,
        language: Annotated[
            str | None, Field(max_length=40, description="A code block's language (python, typescript, ...).")
        ] = None,
    ) -> Block:
        """Replace a block's text (same type), check a to-do, or change a code block's language.

        Children are kept; to change a type, delete and append.
        """
        block = (await ctx.http.get(f"/v1/blocks/{block_id}")).json_object()
        kind = str(block.get("type") or "")
        payload: dict[str, Any] = {}
        if kind in _TEXT_TYPES:
            if text is not None:
                payload["rich_text"] = rich_text_from_markdown(text)
            if checked is not None:
                if kind != "to_do":
                    raise InvalidArguments(f"checked applies to to_do blocks; this is a {kind}", [("checked", kind)])
                payload["checked"] = checked
        elif kind == "code":
            if text is not None:
                payload["rich_text"] = text_items(text)
            if language is not None:
                payload["language"] = notion_language(language)
        elif kind == "equation" and text is not None:
            payload["expression"] = text
        else:
            raise InvalidArguments(
                f"a {kind or 'unknown'} block has no text this tool can change; text, paragraphs, headings, "
                "list items, to-dos, toggles, quotes, callouts, code and equations can be edited",
                [("block_id", f"{kind} blocks cannot be edited")],
            )
        if not payload:
            raise InvalidArguments("nothing to change: give text, checked or language", [("text", "missing")])
        updated = await ctx.http.patch(f"/v1/blocks/{block_id}", json={kind: payload})
        return Block.from_api(updated.json_object())
