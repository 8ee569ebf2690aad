"""Group `conversations`: channels, DMs and their members (read-only)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from sagemcp import Cursor, ToolContext, tool
from sagemcp.errors import InvalidArguments

from .. import _api
from .._api import obj
from .._pagination import make_cursor, read_cursor, slack_next_cursor
from .._params import DEFAULT_LIMIT, ChannelArg, LimitArg
from .._resolve import Names
from .._scopes import CONVERSATION_READ
from ..models import Channel, ChannelMatches, ChannelPage, Member, MemberPage

__all__ = ["ConversationTools"]

ConversationType = Literal["public_channel", "private_channel", "im", "mpim"]
_FIND_LIMIT = 25


class ConversationTools:
    """Finding and describing conversations."""

    @tool(read_only=True, group="conversations", scopes=CONVERSATION_READ)
    async def list_conversations(
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
        """List the channels (and, if asked, DMs) the token can see: id, name, type, topic, member count.

        To find one by name: slack_find_channels, or pass `#name` to other tools.
        """
        state = read_cursor(cursor)
        kinds = state["types"] if state else ",".join(dict.fromkeys(types or ["public_channel", "private_channel"]))
        exclude = state["x"] if state and "x" in state else exclude_archived
        names = Names(ctx)
        data, raw = await _api.read_list(
            ctx,
            "conversations.list",
            "channels",
            dict,
            {
                "types": kinds,
                "exclude_archived": exclude,
                "limit": limit,
                "cursor": state.get("c") if state else None,
            },
        )
        await names.resolve_users(c.get("user") for c in raw if c.get("is_im"))
        users = names.user_names()
        following = slack_next_cursor(data)
        return ChannelPage(
            items=[Channel.from_api(c, users) for c in raw],
            next_cursor=make_cursor(c=following, types=kinds, x=exclude) if following else None,
        )

    @tool(read_only=True, group="conversations", scopes=CONVERSATION_READ)
    async def get_conversation(self, ctx: ToolContext, channel: ChannelArg) -> Channel:
        """Get one channel or DM by id or #name: name, type, topic, purpose, member count, creation date."""
        names = Names(ctx)
        channel_id = await names.channel_id(channel)
        data = await _api.read(ctx, "conversations.info", {"channel": channel_id, "include_num_members": True})
        found = obj(data.get("channel")) or {"id": channel_id}
        if found.get("is_im"):
            await names.resolve_users([found.get("user")])
        return Channel.from_api(found, names.user_names())

    @tool(read_only=True, group="conversations", scopes=CONVERSATION_READ)
    async def find_channels(
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
        """Find channels by name (exact, then prefix, then substring), at most 25."""
        wanted = query.strip().lstrip("#").lower()
        if not wanted:
            raise InvalidArguments("query is empty", errors=[("query", "give part of a channel name")])
        names = Names(ctx)

        def keep(channel: dict[str, Any]) -> bool:
            if channel.get("is_archived") and not include_archived:
                return False
            return wanted in str(channel.get("name", "")).lower()

        found, complete = await names.scan_channels(keep)

        def rank(channel: dict[str, Any]) -> tuple[int, str]:
            name = str(channel.get("name", "")).lower()
            return (0 if name == wanted else 1 if name.startswith(wanted) else 2, name)

        found.sort(key=rank)
        users = names.user_names()
        return ChannelMatches(
            query=query,
            items=[Channel.from_api(c, users) for c in found[:_FIND_LIMIT]],
            complete=complete,
        )

    @tool(read_only=True, group="conversations", scopes=CONVERSATION_READ)
    async def list_conversation_members(
        self,
        ctx: ToolContext,
        channel: ChannelArg,
        limit: LimitArg = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> MemberPage:
        """List who is in a channel or DM: the members' user ids and display names."""
        state = read_cursor(cursor)
        names = Names(ctx)
        channel_id = await names.channel_id(channel)
        data, ids = await _api.read_list(
            ctx,
            "conversations.members",
            "members",
            str,
            {"channel": channel_id, "limit": limit, "cursor": state.get("c") if state else None},
        )
        await names.resolve_users(ids)
        known = names.user_names()
        following = slack_next_cursor(data)
        return MemberPage(
            items=[Member(id=i, name=known.get(i)) for i in ids],
            next_cursor=make_cursor(c=following) if following else None,
        )
