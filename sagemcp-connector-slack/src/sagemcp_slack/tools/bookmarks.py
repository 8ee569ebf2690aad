"""Group `bookmarks`: the links bookmarked at the top of a channel (read-only)."""

from __future__ import annotations

from sagemcp import Cursor, ToolContext, tool

from .. import _api
from .._pagination import make_cursor, read_cursor
from .._params import DEFAULT_LIMIT, ChannelArg, LimitArg
from .._resolve import Names
from .._scopes import CONVERSATION_READ
from ..models import Bookmark, BookmarkPage

__all__ = ["BookmarkTools"]


class BookmarkTools:
    """Reading channel bookmarks."""

    @tool(read_only=True, group="bookmarks", scopes=("bookmarks:read", *CONVERSATION_READ))
    async def list_bookmarks(
        self,
        ctx: ToolContext,
        channel: ChannelArg,
        limit: LimitArg = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> BookmarkPage:
        """List a channel's bookmarks (the links and docs pinned to its header): id, title, link, emoji."""
        state = read_cursor(cursor)
        start = int(state.get("o", 0)) if state else 0
        channel_id = await Names(ctx).channel_id(channel)
        # bookmarks.list answers every bookmark at once: paged here by offset.
        _, raw = await _api.read_list(ctx, "bookmarks.list", "bookmarks", dict, {"channel_id": channel_id})
        items = [Bookmark.from_api(b) for b in raw]
        more = start + limit < len(items)
        return BookmarkPage(
            items=items[start : start + limit],
            channel=channel_id,
            next_cursor=make_cursor(o=start + limit) if more else None,
        )
