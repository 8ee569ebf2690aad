"""Messages with their names resolved: the async step before `Message.from_api`.

`render_messages` is the one path from raw messages to `Message`s: it collects every
user and channel id the messages mention, resolves them through the call's `Names`
(a few lookups at a time, never cached beyond the call), then converts each message.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._mrkdwn import mentioned_ids
from ._resolve import Names
from .models import LIST_TEXT_LIMIT, Message, message_text

__all__ = ["render_messages"]


def _mentions(messages: Iterable[dict[str, Any]], reaction_users: bool) -> tuple[set[str], set[str]]:
    users: set[str] = set()
    channels: set[str] = set()
    for m in messages:
        if isinstance(m.get("user"), str):
            users.add(m["user"])
        found_users, found_channels = mentioned_ids(message_text(m))
        users |= found_users
        channels |= found_channels
        if isinstance(m.get("channel"), str):
            channels.add(m["channel"])
        if reaction_users:
            for r in m.get("reactions") or ():
                if isinstance(r, dict):
                    users |= {u for u in r.get("users") or () if isinstance(u, str)}
    return users, channels


async def render_messages(
    names: Names,
    messages: Iterable[Any],
    *,
    channel: str | None = None,
    text_limit: int = LIST_TEXT_LIMIT,
    reaction_users: bool = False,
) -> list[Message]:
    """`messages` (Slack JSON) as `Message`s, authors and mentions resolved to names."""
    raw = [m for m in messages if isinstance(m, dict) and isinstance(m.get("ts"), str)]
    users, channels = _mentions(raw, reaction_users)
    await names.resolve_users(users)
    await names.resolve_channels(channels)
    user_names = names.user_names()
    channel_names = names.channel_names()
    for m in raw:
        where = m.get("channel")
        if isinstance(where, dict) and isinstance(where.get("id"), str) and isinstance(where.get("name"), str):
            # Search matches carry their channel as {id, name}: no lookup needed.
            channel_names.setdefault(where["id"], where["name"])
    return [
        Message.from_api(
            m,
            users=user_names,
            channels=channel_names,
            channel=channel,
            text_limit=text_limit,
            reaction_users=reaction_users,
        )
        for m in raw
    ]
