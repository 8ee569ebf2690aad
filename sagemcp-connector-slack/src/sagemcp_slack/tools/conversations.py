"""Group `conversations`: channels, history, threads, members, permalinks and reactions (read-only)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from sagemcp.context import ToolContext
from sagemcp.errors import InvalidArguments
from sagemcp.pagination import Cursor
from sagemcp.tools import tool

from .. import _api
from .._api import obj
from .._convert import TEXT_LIMIT, channel_from, render_messages
from .._pagination import fit_budget, make_cursor, read_cursor, slack_next_cursor
from .._params import DEFAULT_LIMIT, ChannelArg, LimitArg, TimeArg, TsArg, WindowArg
from .._resolve import Names
from .._scopes import CONVERSATION_READ, HISTORY_READ
from .._time import parse_time, parse_window, ts_to_iso
from ..models import (
    Channel,
    ChannelMatches,
    ChannelPage,
    Member,
    MemberPage,
    Message,
    MessagePage,
    Permalink,
    Reactions,
)

__all__ = ["ConversationTools"]

ConversationType = Literal["public_channel", "private_channel", "im", "mpim"]
_FIND_LIMIT = 25


def _message_size(message: Message) -> int:
    return len(message.text) + 300


class ConversationTools:
    """Reading channels and messages."""

    @tool(read_only=True, group="conversations", scopes=CONVERSATION_READ)
    async def conversations_list(
        self,
        ctx: ToolContext,
        types: Annotated[
            list[ConversationType] | None,
            Field(
                default=None,
                min_length=1,
                description="Kinds of conversation to list (default: public_channel and private_channel).",
            ),
        ] = None,
        exclude_archived: Annotated[bool, Field(description="Leave out archived channels.")] = True,
        limit: LimitArg = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> ChannelPage:
        """List the workspace's channels (and, if asked, DMs and group DMs) the token can see.

        Use it to browse channels or get their ids; to find one channel by name use
        slack_conversations_find or pass `#name` to the other tools. Returns id, name, type,
        topic, purpose, member count and archived state, with next_cursor for more.
        """
        state = read_cursor(cursor)
        kinds = state["types"] if state else ",".join(dict.fromkeys(types or ["public_channel", "private_channel"]))
        exclude = state["x"] if state and "x" in state else exclude_archived
        names = Names(ctx)
        data = await _api.read(
            ctx,
            "conversations.list",
            {
                "types": kinds,
                "exclude_archived": exclude,
                "limit": limit,
                "cursor": state.get("c") if state else None,
            },
        )
        raw = [c for c in data.get("channels") or () if isinstance(c, dict)]
        await names.resolve_users(c.get("user") for c in raw if c.get("is_im"))
        following = slack_next_cursor(data)
        return ChannelPage(
            items=[channel_from(c, names) for c in raw],
            next_cursor=make_cursor(c=following, types=kinds, x=exclude) if following else None,
        )

    @tool(read_only=True, group="conversations", scopes=CONVERSATION_READ)
    async def conversations_info(self, ctx: ToolContext, channel: ChannelArg) -> Channel:
        """Get one channel (or DM) by id or #name: name, type, topic, purpose, member count, creation date.

        Use it to check a channel before reading or writing, or to turn a #name into an id.
        """
        names = Names(ctx)
        channel_id = await names.channel_id(channel)
        data = await _api.read(ctx, "conversations.info", {"channel": channel_id, "include_num_members": True})
        found = obj(data.get("channel")) or {"id": channel_id}
        if found.get("is_im"):
            await names.resolve_users([found.get("user")])
        return channel_from(found, names)

    @tool(read_only=True, group="conversations", scopes=CONVERSATION_READ)
    async def conversations_find(
        self,
        ctx: ToolContext,
        query: Annotated[
            str,
            Field(
                min_length=1,
                max_length=80,
                description="Channel name or part of it, with or without '#' (e.g. 'eng' finds #eng-backend).",
            ),
        ],
        include_archived: Annotated[bool, Field(description="Also match archived channels.")] = False,
    ) -> ChannelMatches:
        """Find channels by name: exact match first, then names starting with, then containing the query.

        Use it when you know roughly what a channel is called but not its id. Returns at most
        25 channels (public and private ones the token can see).
        """
        wanted = query.strip().lstrip("#").lower()
        if not wanted:
            raise InvalidArguments("query is empty", errors=[("query", "give part of a channel name")])
        names = Names(ctx)

        def keep(channel: dict[str, object]) -> bool:
            if channel.get("is_archived") and not include_archived:
                return False
            return wanted in str(channel.get("name", "")).lower()

        found, complete = await names.scan_channels(keep)

        def rank(channel: dict[str, object]) -> tuple[int, str]:
            name = str(channel.get("name", "")).lower()
            return (0 if name == wanted else 1 if name.startswith(wanted) else 2, name)

        found.sort(key=rank)
        return ChannelMatches(
            query=query,
            items=[channel_from(c, names) for c in found[:_FIND_LIMIT]],
            complete=complete,
        )

    @tool(read_only=True, group="conversations", scopes=HISTORY_READ)
    async def conversations_history(
        self,
        ctx: ToolContext,
        channel: ChannelArg,
        window: WindowArg = None,
        oldest: TimeArg = None,
        latest: TimeArg = None,
        limit: LimitArg = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> MessagePage:
        """Read a channel's or DM's messages, newest first, optionally within a window like 1d, 7d or 30d.

        Use it to see what was said recently in a channel. `window` counts back from now;
        `oldest`/`latest` give exact bounds instead. Thread replies are not included: a
        message with replies shows reply_count, read them with slack_conversations_replies.
        Returns author names, Markdown text, times, reactions and files, with next_cursor.
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
        data = await _api.read(
            ctx,
            "conversations.history",
            {
                "channel": channel_id,
                "limit": limit,
                "cursor": slack_cursor,
                "oldest": oldest_ts,
                "latest": latest_ts,
            },
        )
        await names.resolve_channels([channel_id])
        messages = await render_messages(names, data.get("messages") or (), channel=channel_id)
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

    @tool(read_only=True, group="conversations", scopes=HISTORY_READ)
    async def conversations_replies(
        self,
        ctx: ToolContext,
        channel: ChannelArg,
        ts: TsArg,
        limit: LimitArg = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> MessagePage:
        """Read a thread: the parent message and its replies, oldest first.

        Use it after slack_conversations_history or slack_search_messages shows a message
        with replies; `ts` is the parent's timestamp (or any reply's `thread_ts`).
        """
        state = read_cursor(cursor)
        after = state.get("after") if state else None
        names = Names(ctx)
        channel_id = await names.channel_id(channel)
        data = await _api.read(
            ctx,
            "conversations.replies",
            {
                "channel": channel_id,
                "ts": ts,
                "limit": limit,
                "cursor": state.get("c") if state else None,
                "oldest": after,
            },
        )
        raw = [m for m in data.get("messages") or () if isinstance(m, dict)]
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

    @tool(read_only=True, group="conversations", scopes=CONVERSATION_READ)
    async def conversations_members(
        self,
        ctx: ToolContext,
        channel: ChannelArg,
        limit: LimitArg = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> MemberPage:
        """List the members of a channel: user ids with display names, next_cursor for more."""
        state = read_cursor(cursor)
        names = Names(ctx)
        channel_id = await names.channel_id(channel)
        data = await _api.read(
            ctx,
            "conversations.members",
            {"channel": channel_id, "limit": limit, "cursor": state.get("c") if state else None},
        )
        ids = [m for m in data.get("members") or () if isinstance(m, str)]
        await names.resolve_users(ids)
        known = names.user_names()
        following = slack_next_cursor(data)
        return MemberPage(
            items=[Member(id=i, name=known.get(i)) for i in ids],
            next_cursor=make_cursor(c=following) if following else None,
        )

    @tool(read_only=True, group="conversations", scopes=())
    async def chat_get_permalink(self, ctx: ToolContext, channel: ChannelArg, ts: TsArg) -> Permalink:
        """Get a shareable link (permalink) to a message, given its channel and timestamp."""
        names = Names(ctx)
        channel_id = await names.channel_id(channel)
        data = await _api.read(ctx, "chat.getPermalink", {"channel": channel_id, "message_ts": ts})
        return Permalink(channel=channel_id, ts=ts, permalink=str(data.get("permalink") or ""))

    @tool(read_only=True, group="conversations", scopes=("reactions:read",))
    async def reactions_get(self, ctx: ToolContext, channel: ChannelArg, ts: TsArg) -> Reactions:
        """Get the emoji reactions on a message, with who reacted (names where known)."""
        names = Names(ctx)
        channel_id = await names.channel_id(channel)
        data = await _api.read(ctx, "reactions.get", {"channel": channel_id, "timestamp": ts, "full": True})
        message = obj(data.get("message"))
        message = {**message, "ts": message.get("ts") or ts}
        rendered = await render_messages(names, [message], channel=channel_id, reaction_users=True)
        return Reactions(channel=channel_id, ts=ts, reactions=rendered[0].reactions if rendered else [])
