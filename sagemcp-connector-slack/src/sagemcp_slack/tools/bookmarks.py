"""Group `bookmarks`: the links bookmarked at the top of a channel (read-only)."""

from __future__ import annotations

from sagemcp.context import ToolContext
from sagemcp.tools import tool

from .. import _api
from .._pagination import make_cursor, page_size, read_cursor
from .._params import ChannelArg, CursorArg, LimitArg
from .._resolve import Names
from .._time import ts_to_iso
from ..models import Bookmark, BookmarkPage

__all__ = ["BookmarkTools", "bookmark_from"]


def bookmark_from(raw: dict[str, object]) -> Bookmark:
    def text(key: str) -> str | None:
        value = raw.get(key)
        return value if isinstance(value, str) and value else None

    created = raw.get("date_created")
    return Bookmark(
        id=str(raw.get("id")),
        title=text("title"),
        link=text("link"),
        emoji=text("emoji"),
        type=text("type"),
        created=ts_to_iso(created if isinstance(created, int | float | str) else None),
    )


class BookmarkTools:
    """Reading channel bookmarks."""

    @tool(read_only=True, group="bookmarks", scopes=("bookmarks:read",))
    async def bookmarks_list(
        self,
        ctx: ToolContext,
        channel: ChannelArg,
        limit: LimitArg = None,
        cursor: CursorArg = None,
    ) -> BookmarkPage:
        """List a channel's bookmarks (the links and docs pinned to its header): id, title, link, emoji."""
        state = read_cursor(cursor, "bookmarks")
        start = int(state.get("o", 0)) if state else 0
        size = page_size(limit)
        channel_id = await Names(ctx).channel_id(channel)
        data = await _api.read(ctx, "bookmarks.list", {"channel_id": channel_id})
        items = [bookmark_from(b) for b in data.get("bookmarks") or () if isinstance(b, dict)]
        more = start + size < len(items)
        return BookmarkPage(
            items=items[start : start + size],
            channel=channel_id,
            next_cursor=make_cursor("bookmarks", o=start + size) if more else None,
        )
