"""Group `write`: post, reply, edit, delete and schedule messages, DMs, reactions, pins and bookmarks.

Off unless a tenant enables the group. Every tool here resolves its target channel and
checks the connector's `allowed_channels` before it sends any write request; Markdown
text is converted to Slack mrkdwn. Nothing here is retried automatically.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from pydantic import Field

from sagemcp.context import ToolContext
from sagemcp.errors import AccessDenied, InvalidArguments, LookupFailed, UpstreamError
from sagemcp.pagination import Cursor
from sagemcp.tools import tool

from .. import _api
from .._api import obj
from .._guard import ensure_people_allowed, ensure_writable
from .._mrkdwn import to_markdown, to_mrkdwn
from .._pagination import make_cursor, read_cursor, slack_next_cursor
from .._params import DEFAULT_LIMIT, ChannelArg, EmojiArg, LimitArg, MarkdownArg, TsArg, UserArg
from .._resolve import Names
from .._scopes import CONVERSATION_READ
from .._time import parse_time, ts_to_iso
from ..models import (
    ActionResult,
    Bookmark,
    DirectMessageChannel,
    PostedMessage,
    ScheduledMessage,
    ScheduledMessagePage,
)
from .bookmarks import bookmark_from

__all__ = ["WriteTools"]

_MAX_SCHEDULE_DAYS = 120


async def _target(ctx: ToolContext, channel: str) -> tuple[Names, str]:
    """The call's `Names` and the channel id, after the allow-list check."""
    names = Names(ctx)
    channel_id = await names.channel_id(channel)
    await ensure_writable(ctx, names, channel_id)
    return names, channel_id


async def _permalink(ctx: ToolContext, channel_id: str, ts: str) -> str | None:
    """The message's permalink, or None when Slack will not say (the post itself succeeded)."""
    try:
        data = await _api.read(ctx, "chat.getPermalink", {"channel": channel_id, "message_ts": ts})
    except UpstreamError:
        return None
    link = data.get("permalink")
    return link if isinstance(link, str) else None


def _emoji(name: str) -> str:
    """An emoji name without the surrounding colons (`:thumbsup::skin-tone-2:` -> `thumbsup::skin-tone-2`)."""
    return name.strip().strip(":")


async def _post(
    ctx: ToolContext, channel_id: str, text: str, *, thread_ts: str | None = None, broadcast: bool | None = None
) -> PostedMessage:
    mrkdwn = to_mrkdwn(text)
    data = await _api.write(
        ctx,
        "chat.postMessage",
        {
            "channel": channel_id,
            "text": mrkdwn,
            "thread_ts": thread_ts,
            "reply_broadcast": broadcast,
            "unfurl_links": False,
            "unfurl_media": True,
        },
    )
    channel = str(data.get("channel") or channel_id)
    ts = str(data.get("ts") or "")
    return PostedMessage(
        channel=channel,
        ts=ts,
        thread_ts=thread_ts,
        permalink=await _permalink(ctx, channel, ts) if ts else None,
        text=mrkdwn,
    )


class WriteTools:
    """Changing things in Slack."""

    @tool(read_only=False, group="write", scopes=("chat:write", *CONVERSATION_READ))
    async def chat_post_message(self, ctx: ToolContext, channel: ChannelArg, text: MarkdownArg) -> PostedMessage:
        """Post a new message to a channel or DM (as the token's bot or user). Text is Markdown.

        To answer inside a thread use slack_chat_post_reply; to message a person use
        slack_chat_send_dm. The app must be a member of the channel. Returns the new
        message's channel, ts and permalink.
        """
        _, channel_id = await _target(ctx, channel)
        return await _post(ctx, channel_id, text)

    @tool(read_only=False, group="write", scopes=("chat:write", *CONVERSATION_READ))
    async def chat_post_reply(
        self,
        ctx: ToolContext,
        channel: ChannelArg,
        thread_ts: Annotated[TsArg, Field(description="Timestamp (ts) of the thread's parent message.")],
        text: MarkdownArg,
        also_send_to_channel: Annotated[
            bool, Field(description="Also show the reply in the channel, not only in the thread.")
        ] = False,
    ) -> PostedMessage:
        """Reply in a message's thread (starting the thread if it has none). Text is Markdown."""
        _, channel_id = await _target(ctx, channel)
        return await _post(ctx, channel_id, text, thread_ts=thread_ts, broadcast=also_send_to_channel or None)

    @tool(read_only=False, group="write", destructive=True, idempotent=True, scopes=("chat:write", *CONVERSATION_READ))
    async def chat_update(self, ctx: ToolContext, channel: ChannelArg, ts: TsArg, text: MarkdownArg) -> PostedMessage:
        """Replace the text of a message this connection posted earlier (the old text is lost).

        Slack only lets a token edit its own messages.
        """
        _, channel_id = await _target(ctx, channel)
        mrkdwn = to_mrkdwn(text)
        data = await _api.write(ctx, "chat.update", {"channel": channel_id, "ts": ts, "text": mrkdwn})
        return PostedMessage(channel=str(data.get("channel") or channel_id), ts=str(data.get("ts") or ts), text=mrkdwn)

    @tool(read_only=False, group="write", destructive=True, idempotent=True, scopes=("chat:write", *CONVERSATION_READ))
    async def chat_delete(self, ctx: ToolContext, channel: ChannelArg, ts: TsArg) -> ActionResult:
        """Delete a message this connection posted. Messages by anyone else are refused, even for admins.

        The message is read first and its author compared with the token's own user or bot.
        """
        _, channel_id = await _target(ctx, channel)
        me = await _api.read(ctx, "auth.test")
        message = await _find_message(ctx, channel_id, ts)
        mine = (message.get("user") and message.get("user") == me.get("user_id")) or (
            me.get("bot_id") and message.get("bot_id") == me.get("bot_id")
        )
        if not mine:
            author = message.get("user") or message.get("bot_id") or "someone else"
            raise AccessDenied(
                f"message {ts} in {channel_id} was posted by {author}, not by this connection "
                f"({me.get('user') or me.get('user_id')}); slack_chat_delete only deletes its own messages. "
                "Nothing was deleted."
            )
        await _api.write(ctx, "chat.delete", {"channel": channel_id, "ts": ts})
        return ActionResult(action="deleted message", channel=channel_id, ts=ts)

    @tool(read_only=False, group="write", scopes=("chat:write", *CONVERSATION_READ))
    async def chat_schedule_message(
        self,
        ctx: ToolContext,
        channel: ChannelArg,
        text: MarkdownArg,
        post_at: Annotated[
            str,
            Field(
                max_length=40,
                description="When to post: an ISO 8601 date-time with offset (2024-05-01T09:00:00+02:00) or a "
                "unix time. Up to 120 days ahead.",
            ),
        ],
        thread_ts: Annotated[TsArg | None, Field(description="Post as a reply in this thread.")] = None,
    ) -> ScheduledMessage:
        """Schedule a message to be posted later in a channel or thread. Text is Markdown.

        Returns the scheduled_message_id, which slack_chat_delete_scheduled_message takes to cancel it.
        """
        when = float(parse_time(post_at, "post_at"))
        now = time.time()
        if when <= now:
            raise InvalidArguments(
                f"post_at {post_at!r} ({ts_to_iso(when)}) is in the past", errors=[("post_at", "in the past")]
            )
        if when > now + _MAX_SCHEDULE_DAYS * 86400:
            raise InvalidArguments(
                f"post_at {post_at!r} is more than {_MAX_SCHEDULE_DAYS} days ahead", errors=[("post_at", "too far")]
            )
        _, channel_id = await _target(ctx, channel)
        mrkdwn = to_mrkdwn(text)
        data = await _api.write(
            ctx,
            "chat.scheduleMessage",
            {"channel": channel_id, "text": mrkdwn, "post_at": int(when), "thread_ts": thread_ts},
        )
        return ScheduledMessage(
            id=str(data.get("scheduled_message_id") or ""),
            channel=str(data.get("channel") or channel_id),
            post_at=ts_to_iso(data.get("post_at") or int(when)),
            text=mrkdwn,
        )

    @tool(read_only=True, group="write", scopes=("chat:write", *CONVERSATION_READ))
    async def chat_scheduled_messages_list(
        self,
        ctx: ToolContext,
        channel: Annotated[ChannelArg | None, Field(description="Only this channel.")] = None,
        limit: LimitArg = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> ScheduledMessagePage:
        """List messages this connection scheduled and that are not posted yet."""
        state = read_cursor(cursor)
        names = Names(ctx)
        channel_id = await names.channel_id(channel) if channel else None
        data = await _api.read(
            ctx,
            "chat.scheduledMessages.list",
            {"channel": channel_id, "limit": limit, "cursor": state.get("c") if state else None},
        )
        items = [
            ScheduledMessage(
                id=str(m.get("id")),
                channel=str(m.get("channel_id") or ""),
                post_at=ts_to_iso(m.get("post_at")),
                text=to_markdown(m.get("text") if isinstance(m.get("text"), str) else ""),
            )
            for m in data.get("scheduled_messages") or ()
            if isinstance(m, dict)
        ]
        following = slack_next_cursor(data)
        return ScheduledMessagePage(items=items, next_cursor=make_cursor(c=following) if following else None)

    @tool(read_only=False, group="write", destructive=True, idempotent=True, scopes=("chat:write", *CONVERSATION_READ))
    async def chat_delete_scheduled_message(
        self,
        ctx: ToolContext,
        channel: ChannelArg,
        scheduled_message_id: Annotated[
            str, Field(pattern=r"^Q[A-Z0-9]{2,40}$", description="The id slack_chat_schedule_message returned.")
        ],
    ) -> ActionResult:
        """Cancel a scheduled message before it is posted."""
        _, channel_id = await _target(ctx, channel)
        await _api.write(
            ctx, "chat.deleteScheduledMessage", {"channel": channel_id, "scheduled_message_id": scheduled_message_id}
        )
        return ActionResult(action="cancelled scheduled message", channel=channel_id)

    @tool(read_only=False, group="write", idempotent=True, scopes=("im:write", "mpim:write", *CONVERSATION_READ))
    async def conversations_open(
        self,
        ctx: ToolContext,
        users: Annotated[
            list[UserArg], Field(min_length=1, max_length=8, description="One person (a DM) or up to 8 (a group DM).")
        ],
    ) -> DirectMessageChannel:
        """Open (or find) a direct message with one person, or a group DM with several; returns its channel id.

        To open a DM and send a message in one step use slack_chat_send_dm.
        """
        names = Names(ctx)
        ids = [await names.user_id(u, "users") for u in users]
        await ensure_people_allowed(ctx, names, ids)
        data = await _api.write(ctx, "conversations.open", {"users": ",".join(ids)})
        channel = obj(data.get("channel"))
        return DirectMessageChannel(
            channel=str(channel.get("id") or ""),
            user=",".join(ids),
            already_open=bool(data.get("already_open")),
        )

    @tool(read_only=False, group="write", scopes=("im:write", "chat:write", *CONVERSATION_READ))
    async def chat_send_dm(self, ctx: ToolContext, user: UserArg, text: MarkdownArg) -> PostedMessage:
        """Send a direct message to one person (by user id, @handle or email). Text is Markdown."""
        names = Names(ctx)
        user_id = await names.user_id(user)
        await ensure_people_allowed(ctx, names, [user_id])
        data = await _api.write(ctx, "conversations.open", {"users": user_id})
        channel = obj(data.get("channel"))
        channel_id = channel.get("id")
        if not isinstance(channel_id, str) or not channel_id:
            raise LookupFailed(f"Slack opened no direct message with {user_id}")
        return await _post(ctx, channel_id, text)

    @tool(read_only=False, group="write", idempotent=True, scopes=("reactions:write", *CONVERSATION_READ))
    async def reactions_add(self, ctx: ToolContext, channel: ChannelArg, ts: TsArg, emoji: EmojiArg) -> ActionResult:
        """Add an emoji reaction to a message (as the token's bot or user)."""
        _, channel_id = await _target(ctx, channel)
        await _api.write(ctx, "reactions.add", {"channel": channel_id, "timestamp": ts, "name": _emoji(emoji)})
        return ActionResult(action=f"added :{_emoji(emoji)}:", channel=channel_id, ts=ts)

    @tool(
        read_only=False,
        group="write",
        destructive=True,
        idempotent=True,
        scopes=("reactions:write", *CONVERSATION_READ),
    )
    async def reactions_remove(self, ctx: ToolContext, channel: ChannelArg, ts: TsArg, emoji: EmojiArg) -> ActionResult:
        """Remove an emoji reaction this connection added to a message."""
        _, channel_id = await _target(ctx, channel)
        await _api.write(ctx, "reactions.remove", {"channel": channel_id, "timestamp": ts, "name": _emoji(emoji)})
        return ActionResult(action=f"removed :{_emoji(emoji)}:", channel=channel_id, ts=ts)

    @tool(read_only=False, group="write", idempotent=True, scopes=("pins:write", *CONVERSATION_READ))
    async def pins_add(self, ctx: ToolContext, channel: ChannelArg, ts: TsArg) -> ActionResult:
        """Pin a message in its channel."""
        _, channel_id = await _target(ctx, channel)
        await _api.write(ctx, "pins.add", {"channel": channel_id, "timestamp": ts})
        return ActionResult(action="pinned message", channel=channel_id, ts=ts)

    @tool(read_only=False, group="write", destructive=True, idempotent=True, scopes=("pins:write", *CONVERSATION_READ))
    async def pins_remove(self, ctx: ToolContext, channel: ChannelArg, ts: TsArg) -> ActionResult:
        """Unpin a message in its channel."""
        _, channel_id = await _target(ctx, channel)
        await _api.write(ctx, "pins.remove", {"channel": channel_id, "timestamp": ts})
        return ActionResult(action="unpinned message", channel=channel_id, ts=ts)

    @tool(read_only=False, group="write", scopes=("bookmarks:write", *CONVERSATION_READ))
    async def bookmarks_add(
        self,
        ctx: ToolContext,
        channel: ChannelArg,
        title: Annotated[str, Field(min_length=1, max_length=200, description="Bookmark title.")],
        link: Annotated[
            str, Field(pattern=r"^https?://\S+$", max_length=2000, description="The URL the bookmark opens.")
        ],
        emoji: Annotated[EmojiArg | None, Field(description="Emoji shown next to the title.")] = None,
    ) -> Bookmark:
        """Add a link bookmark to a channel's header."""
        _, channel_id = await _target(ctx, channel)
        data = await _api.write(
            ctx,
            "bookmarks.add",
            {
                "channel_id": channel_id,
                "title": title,
                "type": "link",
                "link": link,
                "emoji": f":{_emoji(emoji)}:" if emoji else None,
            },
        )
        raw: Any = data.get("bookmark")
        return bookmark_from(raw if isinstance(raw, dict) else {"id": "", "title": title, "link": link})

    @tool(
        read_only=False,
        group="write",
        destructive=True,
        idempotent=True,
        scopes=("bookmarks:write", *CONVERSATION_READ),
    )
    async def bookmarks_remove(
        self,
        ctx: ToolContext,
        channel: ChannelArg,
        bookmark_id: Annotated[
            str, Field(pattern=r"^Bk[A-Z0-9]{2,40}$", description="Bookmark id, from slack_bookmarks_list.")
        ],
    ) -> ActionResult:
        """Remove a bookmark from a channel's header."""
        _, channel_id = await _target(ctx, channel)
        await _api.write(ctx, "bookmarks.remove", {"channel_id": channel_id, "bookmark_id": bookmark_id})
        return ActionResult(action="removed bookmark", channel=channel_id)


async def _find_message(ctx: ToolContext, channel_id: str, ts: str) -> dict[str, Any]:
    """The message `ts` in `channel_id`, from the channel's history or, for a thread reply, its thread."""
    exact = {"oldest": ts, "latest": ts, "inclusive": True, "limit": 1}
    data = await _api.read(ctx, "conversations.history", {"channel": channel_id, **exact})
    for message in data.get("messages") or ():
        if isinstance(message, dict) and message.get("ts") == ts:
            return message
    try:
        data = await _api.read(ctx, "conversations.replies", {"channel": channel_id, "ts": ts, **exact})
    except UpstreamError as error:
        if error.upstream_code != "thread_not_found":
            raise
        data = {}
    for message in data.get("messages") or ():
        if isinstance(message, dict) and message.get("ts") == ts:
            return message
    raise LookupFailed(f"no message with ts {ts} in {channel_id} (already deleted?); nothing was deleted")
