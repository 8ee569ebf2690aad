"""`trash` tools, off by default: move pages to the trash and back, delete blocks.

Notion keeps trashed pages for 30 days and restores them with their content; a deleted
block goes to the trash with its page. The group is off until an operator enables it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sagemcp import ToolContext, tool

from .._ids import BlockId, PageId
from ..models import Block, PageMoved

if TYPE_CHECKING:
    from ..connector import NotionConfig

__all__ = ["TrashTools"]


class TrashTools:
    """The `trash` group."""

    @tool(read_only=False, group="trash", destructive=True, idempotent=True)
    async def archive_page(self, ctx: ToolContext[NotionConfig], page_id: PageId) -> PageMoved:
        """Move a page to Notion's trash (with its sub-pages); notion_restore_page brings it back."""
        response = await ctx.http.patch(f"/v1/pages/{page_id}", json={"in_trash": True})
        return PageMoved.from_api(response.json_object())

    @tool(read_only=False, group="trash", destructive=False, idempotent=True)
    async def restore_page(self, ctx: ToolContext[NotionConfig], page_id: PageId) -> PageMoved:
        """Restore a page from Notion's trash to where it was."""
        response = await ctx.http.patch(f"/v1/pages/{page_id}", json={"in_trash": False})
        return PageMoved.from_api(response.json_object())

    @tool(read_only=False, group="trash", destructive=True, idempotent=False)
    async def delete_block(self, ctx: ToolContext[NotionConfig], block_id: BlockId) -> Block:
        """Delete a block (and its children): it goes to the trash with the page's history."""
        response = await ctx.http.delete(f"/v1/blocks/{block_id}")
        return Block.from_api(response.json_object())
