"""Group `messages_write`: send, reply, edit, delete and schedule messages, DMs and reactions.

Off unless a tenant enables the group: these tools speak in the workspace as the app,
to people who never asked an assistant anything, so an operator opts in. Every tool
here resolves its target channel (or the people of a DM) and checks the connector's
`allowed_channels` before it sends any write request; Markdown text is converted to
Slack mrkdwn. Nothing here is retried automatically.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from pydantic import Field

from sagemcp import Cursor, ToolContext, clip, tool
from sagemcp.errors import AccessDenied, InvalidArguments, LookupFailed, UpstreamError

from .. import _api
from .._config import SlackConfig
from .._guard import ensure_people_allowed, writable_channel
from .._mrkdwn import to_mrkdwn
from .._pagination import make_cursor, read_cursor, slack_next_cursor
from .._params import DEFAULT_LIMIT, ChannelArg, EmojiArg, LimitArg, MarkdownArg, TsArg, UserArg, emoji_name
from .._resolve import Names
from .._scopes import CONVERSATION_READ
from .._time import parse_time, ts_to_iso
from ..models import (
    ActionResult,
    AuthInfo,
    DirectMessageChannel,
    Permalink,
    PostedMessage,
    ScheduledMessage,
    ScheduledMessagePage,
)

__all__ = ["MessageWriteTools"]

_MAX_SCHEDULE_DAYS = 120
_CHAT = ("chat:write", *CONVERSATION_READ)


async def _permalink(ctx: ToolContext, channel_id: str, ts: str) -> str | None:
    """The message's permalink, or None when Slack will not say (the post itself succeeded)."""
    try:
        data = await _api.read(ctx, "chat.getPermalink", {"channel": channel_id, "message_ts": ts})
    except UpstreamError:
        return None
    return Permalink.from_api(data, channel=channel_id, ts=ts).permalink or None


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
    posted = PostedMessage.from_api(data, channel=channel_id, text=mrkdwn, thread_ts=thread_ts)
    if posted.ts:
        posted.permalink = await _permalink(ctx, posted.channel, posted.ts)
    return posted


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


class MessageWriteTools:
    """Speaking in Slack: messages, replies, DMs, scheduled messages and reactions."""

    @tool(read_only=False, group="messages_write", scopes=_CHAT)
    async def send_message(
        self, ctx: ToolContext[SlackConfig], channel: ChannelArg, text: MarkdownArg
    ) -> PostedMessage:
        """Post a new message to a channel or DM; returns its channel, ts and permalink.

        Replies: slack_reply_to_thread; to a person: slack_send_direct_message. The app must be in the channel.
        """
        _, channel_id = await writable_channel(ctx, channel)
        return await _post(ctx, channel_id, text)

    @tool(read_only=False, group="messages_write", scopes=_CHAT)
    async def reply_to_thread(
        self,
        ctx: ToolContext[SlackConfig],
        channel: ChannelArg,
        thread_ts: Annotated[TsArg, Field(description="Timestamp (ts) of the thread's parent message.")],
        text: MarkdownArg,
        also_send_to_channel: Annotated[
            bool, Field(description="Also show the reply in the channel, not only in the thread.")
        ] = False,
    ) -> PostedMessage:
        """Reply in a message's thread (starting the thread if it has none). Text is Markdown."""
        _, channel_id = await writable_channel(ctx, channel)
        return await _post(ctx, channel_id, text, thread_ts=thread_ts, broadcast=also_send_to_channel or None)

    @tool(read_only=False, group="messages_write", destructive=True, idempotent=True, scopes=_CHAT)
    async def update_message(
        self, ctx: ToolContext[SlackConfig], channel: ChannelArg, ts: TsArg, text: MarkdownArg
    ) -> PostedMessage:
        """Replace the text of a message this connection posted (Slack lets a token edit only its own)."""
        _, channel_id = await writable_channel(ctx, channel)
        mrkdwn = to_mrkdwn(text)
        data = await _api.write(ctx, "chat.update", {"channel": channel_id, "ts": ts, "text": mrkdwn})
        return PostedMessage.from_api(data, channel=channel_id, ts=ts, text=mrkdwn)

    @tool(read_only=False, group="messages_write", destructive=True, idempotent=True, scopes=_CHAT)
    async def delete_message(
        self,
        ctx: ToolContext[SlackConfig],
        channel: ChannelArg,
        ts: TsArg,
        confirm: Annotated[
            bool,
            Field(
                description="Only for clients that cannot ask the person: true once they agreed to the deletion. "
                "Clients that support elicitation are asked instead."
            ),
        ] = False,
    ) -> ActionResult:
        """Delete a message this connection posted (others' are refused), after the person confirms.

        Clients without elicitation must pass `confirm: true`.
        """
        _, channel_id = await writable_channel(ctx, channel)
        me = AuthInfo.from_api(await _api.read(ctx, "auth.test"))
        message = await _find_message(ctx, channel_id, ts)
        author, bot = message.get("user"), message.get("bot_id")
        if not ((author and author == me.user_id) or (me.bot_id and bot == me.bot_id)):
            raise AccessDenied(
                f"message {ts} in {channel_id} was posted by {author or bot or 'someone else'}, not by this "
                f"connection ({me.user or me.user_id}); slack_delete_message only deletes its own messages. "
                "Nothing was deleted."
            )
        if not confirm:
            if not ctx.client.supports("elicitation"):
                raise InvalidArguments(
                    "slack_delete_message needs the person's confirmation, and this client cannot ask for it: "
                    "call again with confirm=true once they agreed. Nothing was deleted."
                )
            preview, _ = clip(str(message.get("text") or ""), 200)
            if not await ctx.confirm(f"Delete this message in {channel_id}? It cannot be undone.\n\n{preview}"):
                return ActionResult(
                    ok=False, action="kept message: the deletion was not confirmed", channel=channel_id, ts=ts
                )
        await _api.write(ctx, "chat.delete", {"channel": channel_id, "ts": ts})
        return ActionResult(action="deleted message", channel=channel_id, ts=ts)

    @tool(read_only=False, group="messages_write", scopes=_CHAT)
    async def schedule_message(
        self,
        ctx: ToolContext[SlackConfig],
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
        """Schedule a message for later in a channel or thread.

        Returns the scheduled_message_id for slack_cancel_scheduled_message.
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
        _, channel_id = await writable_channel(ctx, channel)
        mrkdwn = to_mrkdwn(text)
        data = await _api.write(
            ctx,
            "chat.scheduleMessage",
            {"channel": channel_id, "text": mrkdwn, "post_at": int(when), "thread_ts": thread_ts},
        )
        return ScheduledMessage.from_api(data, channel=channel_id, post_at=int(when), text=mrkdwn)

    # Read-only, yet in this group: it lists what schedule_message made, with the chat:write scope.
    @tool(read_only=True, group="messages_write", scopes=_CHAT)
    async def list_scheduled_messages(
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
        data, raw = await _api.read_list(
            ctx,
            "chat.scheduledMessages.list",
            "scheduled_messages",
            dict,
            {"channel": channel_id, "limit": limit, "cursor": state.get("c") if state else None},
        )
        following = slack_next_cursor(data)
        return ScheduledMessagePage(
            items=[ScheduledMessage.from_api(m) for m in raw],
            next_cursor=make_cursor(c=following) if following else None,
        )

    @tool(read_only=False, group="messages_write", destructive=True, idempotent=True, scopes=_CHAT)
    async def cancel_scheduled_message(
        self,
        ctx: ToolContext[SlackConfig],
        channel: ChannelArg,
        scheduled_message_id: Annotated[
            str, Field(pattern=r"^Q[A-Z0-9]{2,40}$", description="The id slack_schedule_message returned.")
        ],
    ) -> ActionResult:
        """Cancel a scheduled message before it is posted."""
        _, channel_id = await writable_channel(ctx, channel)
        await _api.write(
            ctx, "chat.deleteScheduledMessage", {"channel": channel_id, "scheduled_message_id": scheduled_message_id}
        )
        return ActionResult(action="cancelled scheduled message", channel=channel_id)

    @tool(
        read_only=False,
        group="messages_write",
        idempotent=True,
        scopes=("im:write", "mpim:write", *CONVERSATION_READ),
    )
    async def open_direct_message(
        self,
        ctx: ToolContext[SlackConfig],
        users: Annotated[
            list[UserArg], Field(min_length=1, max_length=8, description="One person (a DM) or up to 8 (a group DM).")
        ],
    ) -> DirectMessageChannel:
        """Open (or find) a DM with one person or a group DM; returns its channel id.

        To open and send in one step: slack_send_direct_message.
        """
        names = Names(ctx)
        ids = [await names.user_id(u, "users") for u in users]
        await ensure_people_allowed(ctx, names, ids)
        data = await _api.write(ctx, "conversations.open", {"users": ",".join(ids)})
        return DirectMessageChannel.from_api(data, users=ids)

    @tool(read_only=False, group="messages_write", scopes=("im:write", "chat:write", *CONVERSATION_READ))
    async def send_direct_message(
        self, ctx: ToolContext[SlackConfig], user: UserArg, text: MarkdownArg
    ) -> PostedMessage:
        """Send a direct message to one person (by user id, @handle or email). Text is Markdown."""
        names = Names(ctx)
        user_id = await names.user_id(user)
        await ensure_people_allowed(ctx, names, [user_id])
        data = await _api.write(ctx, "conversations.open", {"users": user_id})
        dm = DirectMessageChannel.from_api(data, users=[user_id])
        if not dm.channel:
            raise LookupFailed(f"Slack opened no direct message with {user_id}; nothing was sent")
        return await _post(ctx, dm.channel, text)

    @tool(read_only=False, group="messages_write", idempotent=True, scopes=("reactions:write", *CONVERSATION_READ))
    async def add_reaction(
        self, ctx: ToolContext[SlackConfig], channel: ChannelArg, ts: TsArg, emoji: EmojiArg
    ) -> ActionResult:
        """Add an emoji reaction to a message (as the token's bot or user)."""
        _, channel_id = await writable_channel(ctx, channel)
        name = emoji_name(emoji)
        await _api.write(ctx, "reactions.add", {"channel": channel_id, "timestamp": ts, "name": name})
        return ActionResult(action=f"added :{name}:", channel=channel_id, ts=ts)

    @tool(
        read_only=False,
        group="messages_write",
        destructive=True,
        idempotent=True,
        scopes=("reactions:write", *CONVERSATION_READ),
    )
    async def remove_reaction(
        self, ctx: ToolContext[SlackConfig], channel: ChannelArg, ts: TsArg, emoji: EmojiArg
    ) -> ActionResult:
        """Remove an emoji reaction this connection added to a message."""
        _, channel_id = await writable_channel(ctx, channel)
        name = emoji_name(emoji)
        await _api.write(ctx, "reactions.remove", {"channel": channel_id, "timestamp": ts, "name": name})
        return ActionResult(action=f"removed :{name}:", channel=channel_id, ts=ts)
