"""Group `bookmarks_write`: adding and removing channel bookmarks.

Off unless a tenant enables the group: a bookmark changes the channel's header for
everyone in it. Both tools check the connector's `allowed_channels` before they write.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from sagemcp import ToolContext, tool

from .. import _api
from .._api import obj
from .._config import SlackConfig
from .._guard import writable_channel
from .._params import ChannelArg, EmojiArg, emoji_name
from .._scopes import CONVERSATION_READ
from ..models import ActionResult, Bookmark

__all__ = ["BookmarkWriteTools"]


class BookmarkWriteTools:
    """Changing channel bookmarks."""

    @tool(read_only=False, group="bookmarks_write", scopes=("bookmarks:write", *CONVERSATION_READ))
    async def add_bookmark(
        self,
        ctx: ToolContext[SlackConfig],
        channel: ChannelArg,
        title: Annotated[str, Field(min_length=1, max_length=200, description="Bookmark title.")],
        link: Annotated[
            str, Field(pattern=r"^https?://\S+$", max_length=2000, description="The URL the bookmark opens.")
        ],
        emoji: Annotated[EmojiArg | None, Field(description="Emoji shown next to the title.")] = None,
    ) -> Bookmark:
        """Add a link bookmark to a channel's header."""
        _, channel_id = await writable_channel(ctx, channel)
        data = await _api.write(
            ctx,
            "bookmarks.add",
            {
                "channel_id": channel_id,
                "title": title,
                "type": "link",
                "link": link,
                "emoji": f":{emoji_name(emoji)}:" if emoji else None,
            },
        )
        return Bookmark.from_api(obj(data.get("bookmark")) or {"title": title, "link": link})

    @tool(
        read_only=False,
        group="bookmarks_write",
        destructive=True,
        idempotent=True,
        scopes=("bookmarks:write", *CONVERSATION_READ),
    )
    async def remove_bookmark(
        self,
        ctx: ToolContext[SlackConfig],
        channel: ChannelArg,
        bookmark_id: Annotated[
            str, Field(pattern=r"^Bk[A-Z0-9]{2,40}$", description="Bookmark id, from slack_list_bookmarks.")
        ],
    ) -> ActionResult:
        """Remove a bookmark from a channel's header."""
        _, channel_id = await writable_channel(ctx, channel)
        await _api.write(ctx, "bookmarks.remove", {"channel_id": channel_id, "bookmark_id": bookmark_id})
        return ActionResult(action="removed bookmark", channel=channel_id)
