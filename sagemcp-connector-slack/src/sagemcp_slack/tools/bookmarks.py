"""Group `bookmarks`: the links bookmarked at the top of a channel (read-only)."""

from __future__ import annotations

from sagemcp.context import ToolContext
from sagemcp.pagination import Cursor
from sagemcp.tools import tool

from .. import _api
from .._pagination import make_cursor, read_cursor
from .._params import DEFAULT_LIMIT, ChannelArg, LimitArg
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
        limit: LimitArg = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> BookmarkPage:
        """List a channel's bookmarks (the links and docs pinned to its header): id, title, link, emoji."""
        state = read_cursor(cursor)
        start = int(state.get("o", 0)) if state else 0
        channel_id = await Names(ctx).channel_id(channel)
        data = await _api.read(ctx, "bookmarks.list", {"channel_id": channel_id})
        items = [bookmark_from(b) for b in data.get("bookmarks") or () if isinstance(b, dict)]
        more = start + limit < len(items)
        return BookmarkPage(
            items=items[start : start + limit],
            channel=channel_id,
            next_cursor=make_cursor(o=start + limit) if more else None,
        )
