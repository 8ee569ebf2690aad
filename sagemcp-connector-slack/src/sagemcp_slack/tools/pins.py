"""Group `pins`: what is pinned in a channel (read-only)."""

from __future__ import annotations

from sagemcp.context import ToolContext
from sagemcp.pagination import Cursor
from sagemcp.tools import tool

from .. import _api
from .._convert import LIST_TEXT_LIMIT, render_messages
from .._pagination import make_cursor, read_cursor
from .._params import DEFAULT_LIMIT, ChannelArg, LimitArg
from .._resolve import Names
from .._time import ts_to_iso
from ..models import FileRef, Pin, PinPage

__all__ = ["PinTools"]


class PinTools:
    """Reading pinned items."""

    @tool(read_only=True, group="pins", scopes=("pins:read",))
    async def pins_list(
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
        data = await _api.read(ctx, "pins.list", {"channel": channel_id})
        items = [i for i in data.get("items") or () if isinstance(i, dict)]
        page = items[start : start + limit]
        await names.resolve_users(i.get("created_by") for i in page)
        messages = [i["message"] for i in page if isinstance(i.get("message"), dict)]
        rendered = {
            m.ts: m for m in await render_messages(names, messages, channel=channel_id, text_limit=LIST_TEXT_LIMIT)
        }
        known = names.user_names()
        pins = []
        for item in page:
            message = item.get("message") if isinstance(item.get("message"), dict) else None
            file = item.get("file") if isinstance(item.get("file"), dict) else None
            creator = item.get("created_by")
            pins.append(
                Pin(
                    type=str(item.get("type") or ("message" if message else "file" if file else "item")),
                    created=ts_to_iso(item.get("created")),
                    created_by=known.get(creator, creator) if isinstance(creator, str) else None,
                    message=rendered.get(str(message.get("ts"))) if message else None,
                    file=FileRef(id=str(file.get("id")), name=file.get("name"), title=file.get("title"))
                    if file
                    else None,
                )
            )
        more = start + limit < len(items)
        return PinPage(items=pins, channel=channel_id, next_cursor=make_cursor(o=start + limit) if more else None)
