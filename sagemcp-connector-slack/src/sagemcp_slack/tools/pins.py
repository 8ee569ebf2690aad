"""Group `pins`: what is pinned in a channel (read-only)."""

from __future__ import annotations

from sagemcp import Cursor, ToolContext, tool

from .. import _api
from .._messages import render_messages
from .._pagination import make_cursor, read_cursor
from .._params import DEFAULT_LIMIT, ChannelArg, LimitArg
from .._resolve import Names
from .._scopes import CONVERSATION_READ
from ..models import LIST_TEXT_LIMIT, Pin, PinPage

__all__ = ["PinTools"]


class PinTools:
    """Reading pinned items."""

    @tool(read_only=True, group="pins", scopes=("pins:read", *CONVERSATION_READ))
    async def list_pins(
        self,
        ctx: ToolContext,
        channel: ChannelArg,
        limit: LimitArg = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> PinPage:
        """List the messages and files pinned in a channel, newest pin first, with who pinned them."""
        state = read_cursor(cursor)
        start = int(state.get("o", 0)) if state else 0
        names = Names(ctx)
        channel_id = await names.channel_id(channel)
        # pins.list answers every pin at once: paged here by offset.
        _, items = await _api.read_list(ctx, "pins.list", "items", dict, {"channel": channel_id})
        page = items[start : start + limit]
        await names.resolve_users(i.get("created_by") for i in page)
        messages = [i["message"] for i in page if isinstance(i.get("message"), dict)]
        rendered = {
            m.ts: m for m in await render_messages(names, messages, channel=channel_id, text_limit=LIST_TEXT_LIMIT)
        }
        users = names.user_names()
        pins = [
            Pin.from_api(
                item,
                message=rendered.get(str(item["message"].get("ts"))) if isinstance(item.get("message"), dict) else None,
                users=users,
            )
            for item in page
        ]
        more = start + limit < len(items)
        return PinPage(items=pins, channel=channel_id, next_cursor=make_cursor(o=start + limit) if more else None)
