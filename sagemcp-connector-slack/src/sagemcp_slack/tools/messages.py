"""Group `messages`: a conversation's history, threads, permalinks and reactions (read-only).

Every tool here takes a channel id or `#name`; resolving a name (and showing channel
names) reads conversations, so the tools ask for `CONVERSATION_READ` next to their own scopes.
"""

from __future__ import annotations

from sagemcp import Cursor, ToolContext, tool
from sagemcp.errors import InvalidArguments

from .. import _api
from .._api import obj
from .._messages import render_messages
from .._pagination import fit_budget, make_cursor, read_cursor, slack_next_cursor
from .._params import DEFAULT_LIMIT, ChannelArg, LimitArg, TimeArg, TsArg, WindowArg
from .._resolve import Names
from .._scopes import CONVERSATION_READ, HISTORY_READ
from .._time import parse_time, parse_window, ts_to_iso
from ..models import TEXT_LIMIT, Message, MessagePage, Permalink, Reactions

__all__ = ["MessageTools"]


def _message_size(message: Message) -> int:
    return len(message.text) + 300


class MessageTools:
    """Reading messages."""

    @tool(read_only=True, group="messages", scopes=(*HISTORY_READ, *CONVERSATION_READ))
    async def list_messages(
        self,
        ctx: ToolContext,
        channel: ChannelArg,
        window: WindowArg = None,
        oldest: TimeArg = None,
        latest: TimeArg = None,
        limit: LimitArg = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> MessagePage:
        """Read a channel's or DM's recent messages, newest first (what was said or decided).

        Thread replies are left out: a message's reply_count shows them, slack_get_thread reads them.
        """
        state = read_cursor(cursor)
        if state is not None:
            oldest_ts, latest_ts, slack_cursor = state.get("oldest"), state.get("latest"), state.get("c")
        else:
            if window and oldest:
                raise InvalidArguments(
                    "give either window or oldest, not both", errors=[("window", "conflicts with oldest")]
                )
            oldest_ts = parse_window(window) if window else (parse_time(oldest, "oldest") if oldest else None)
            latest_ts = parse_time(latest, "latest") if latest else None
            slack_cursor = None
        names = Names(ctx)
        channel_id = await names.channel_id(channel)
        data, raw = await _api.read_list(
            ctx,
            "conversations.history",
            "messages",
            dict,
            {
                "channel": channel_id,
                "limit": limit,
                "cursor": slack_cursor,
                "oldest": oldest_ts,
                "latest": latest_ts,
            },
        )
        await names.resolve_channels([channel_id])
        messages = await render_messages(names, raw, channel=channel_id)
        kept, cut = fit_budget(messages, _message_size)
        following = slack_next_cursor(data)
        next_cursor = None
        if cut:
            # Older than the last message shown (Slack's `latest` is exclusive by default).
            next_cursor = make_cursor(latest=kept[-1].ts, oldest=oldest_ts)
        elif following:
            next_cursor = make_cursor(c=following, oldest=oldest_ts, latest=latest_ts)
        return MessagePage(
            items=kept,
            next_cursor=next_cursor,
            truncated=cut,
            channel=channel_id,
            channel_name=names.channel_names().get(channel_id),
            oldest=ts_to_iso(oldest_ts),
        )

    @tool(read_only=True, group="messages", scopes=(*HISTORY_READ, *CONVERSATION_READ))
    async def get_thread(
        self,
        ctx: ToolContext,
        channel: ChannelArg,
        ts: TsArg,
        limit: LimitArg = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> MessagePage:
        """Read a thread: the parent message and its replies, oldest first."""
        state = read_cursor(cursor)
        after = state.get("after") if state else None
        names = Names(ctx)
        channel_id = await names.channel_id(channel)
        data, raw = await _api.read_list(
            ctx,
            "conversations.replies",
            "messages",
            dict,
            {
                "channel": channel_id,
                "ts": ts,
                "limit": limit,
                "cursor": state.get("c") if state else None,
                "oldest": after,
            },
        )
        if after is not None:
            raw = [m for m in raw if float(m.get("ts") or 0) > float(after)]
        await names.resolve_channels([channel_id])
        messages = await render_messages(names, raw, channel=channel_id, text_limit=TEXT_LIMIT)
        kept, cut = fit_budget(messages, _message_size)
        following = slack_next_cursor(data)
        next_cursor = None
        if cut:
            next_cursor = make_cursor(after=kept[-1].ts)
        elif following:
            next_cursor = make_cursor(c=following, after=after)
        return MessagePage(
            items=kept,
            next_cursor=next_cursor,
            truncated=cut,
            channel=channel_id,
            channel_name=names.channel_names().get(channel_id),
            thread_ts=ts,
        )

    @tool(read_only=True, group="messages", scopes=CONVERSATION_READ)
    async def get_permalink(self, ctx: ToolContext, channel: ChannelArg, ts: TsArg) -> Permalink:
        """Get a shareable link (permalink) to a message, given its channel and timestamp."""
        channel_id = await Names(ctx).channel_id(channel)
        data = await _api.read(ctx, "chat.getPermalink", {"channel": channel_id, "message_ts": ts})
        return Permalink.from_api(data, channel=channel_id, ts=ts)

    @tool(read_only=True, group="messages", scopes=("reactions:read", *CONVERSATION_READ))
    async def get_reactions(self, ctx: ToolContext, channel: ChannelArg, ts: TsArg) -> Reactions:
        """Get the emoji reactions on a message, with who reacted (names where known)."""
        names = Names(ctx)
        channel_id = await names.channel_id(channel)
        data = await _api.read(ctx, "reactions.get", {"channel": channel_id, "timestamp": ts, "full": True})
        message = obj(data.get("message"))
        message = {**message, "ts": message.get("ts") or ts}
        rendered = await render_messages(names, [message], channel=channel_id, reaction_users=True)
        return Reactions(channel=channel_id, ts=ts, reactions=rendered[0].reactions if rendered else [])
