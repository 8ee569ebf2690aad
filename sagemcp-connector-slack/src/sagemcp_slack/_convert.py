"""Slack's JSON objects as the trimmed models, with names resolved and mrkdwn rendered.

`render_messages` is the one path from raw messages to `Message`s: it collects every
user and channel id the messages mention, resolves them through the call's `Names`,
then converts each message. Long texts are cut with core's truncation marker.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sagemcp.text import clip

from ._api import obj
from ._mrkdwn import mentioned_ids, to_markdown
from ._resolve import Names, user_label
from ._time import ts_to_iso
from .models import Channel, FileRef, Message, Reaction, User, UserGroup

__all__ = [
    "LIST_TEXT_LIMIT",
    "TEXT_LIMIT",
    "channel_from",
    "render_messages",
    "user_from",
    "usergroup_from",
]

TEXT_LIMIT = 20_000
"""Characters of one message's text when a tool returns a single message or a thread."""
LIST_TEXT_LIMIT = 3_000
"""Characters of each message's text in history and search results."""


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _files(message: dict[str, Any]) -> list[FileRef]:
    out = []
    for f in message.get("files") or ():
        if isinstance(f, dict) and isinstance(f.get("id"), str):
            out.append(
                FileRef(
                    id=f["id"],
                    name=_str(f.get("name")),
                    title=_str(f.get("title")),
                    mimetype=_str(f.get("mimetype")),
                    permalink=_str(f.get("permalink")),
                )
            )
    return out


def _reactions(raw: Any, users: dict[str, str], with_users: bool) -> list[Reaction]:
    out = []
    for r in raw or ():
        if isinstance(r, dict) and isinstance(r.get("name"), str):
            who = [users.get(u, u) for u in r.get("users") or () if isinstance(u, str)] if with_users else []
            count = r.get("count")
            out.append(Reaction(name=r["name"], count=count if isinstance(count, int) else len(who), users=who))
    return out


def _text_of(message: dict[str, Any]) -> str:
    text = message.get("text")
    if isinstance(text, str) and text:
        return text
    # Messages made only of attachments (bots, integrations) keep their words there.
    parts = []
    for attachment in message.get("attachments") or ():
        if isinstance(attachment, dict):
            for key in ("pretext", "title", "text", "fallback"):
                if isinstance(attachment.get(key), str) and attachment[key]:
                    parts.append(attachment[key])
                    if key == "fallback":
                        break
    return "\n".join(parts)


def _mentions(messages: Iterable[dict[str, Any]]) -> tuple[set[str], set[str]]:
    users: set[str] = set()
    channels: set[str] = set()
    for m in messages:
        if isinstance(m.get("user"), str):
            users.add(m["user"])
        found_users, found_channels = mentioned_ids(_text_of(m))
        users |= found_users
        channels |= found_channels
        channel = m.get("channel")
        if isinstance(channel, str):
            channels.add(channel)
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
    users, channels = _mentions(raw)
    if reaction_users:
        for m in raw:
            for r in m.get("reactions") or ():
                if isinstance(r, dict):
                    users |= {u for u in r.get("users") or () if isinstance(u, str)}
    await names.resolve_users(users)
    await names.resolve_channels(channels)
    user_names = names.user_names()
    channel_names = names.channel_names()
    out = []
    for m in raw:
        where = m.get("channel")
        channel_id = where if isinstance(where, str) else channel
        if isinstance(where, dict):  # search results carry {id, name}
            channel_id = _str(where.get("id"))
            if channel_id and isinstance(where.get("name"), str):
                channel_names.setdefault(channel_id, where["name"])
        hint = (
            "call slack_conversations_replies with this message's ts for the full text"
            if text_limit < TEXT_LIMIT
            else "open the message's permalink in Slack for the rest"
        )
        text, cut = clip(to_markdown(_text_of(m), user_names, channel_names), text_limit, hint)
        author_id = _str(m.get("user")) or _str(m.get("bot_id"))
        author = user_names.get(author_id or "") or _str(m.get("username"))
        if author is None and isinstance(m.get("bot_profile"), dict):
            author = _str(m["bot_profile"].get("name"))
        reply_count = m.get("reply_count")
        out.append(
            Message(
                ts=m["ts"],
                time=ts_to_iso(m["ts"]),
                channel=channel_id,
                channel_name=channel_names.get(channel_id or ""),
                user=author_id,
                author=author,
                text=text,
                text_truncated=cut,
                subtype=_str(m.get("subtype")),
                thread_ts=_str(m.get("thread_ts")),
                reply_count=reply_count if isinstance(reply_count, int) else None,
                latest_reply=_str(m.get("latest_reply")),
                edited=isinstance(m.get("edited"), dict),
                reactions=_reactions(m.get("reactions"), user_names, reaction_users),
                files=_files(m),
                permalink=_str(m.get("permalink")),
            )
        )
    return out


def channel_type(channel: dict[str, Any]) -> str:
    if channel.get("is_im"):
        return "im"
    if channel.get("is_mpim"):
        return "mpim"
    if channel.get("is_private") or channel.get("is_group"):
        return "private_channel"
    return "public_channel"


def _value(holder: Any) -> str | None:
    return _str(holder.get("value")) if isinstance(holder, dict) else None


def channel_from(channel: dict[str, Any], names: Names | None = None) -> Channel:
    other = _str(channel.get("user"))
    name = _str(channel.get("name"))
    if name is None and other and names is not None:
        known = names.users.get(other)
        name = user_label(known) if known else None
    members = channel.get("num_members")
    return Channel(
        id=str(channel.get("id")),
        name=name,
        type=channel_type(channel),
        is_archived=bool(channel.get("is_archived")),
        is_member=channel.get("is_member") if isinstance(channel.get("is_member"), bool) else None,
        topic=_value(channel.get("topic")),
        purpose=_value(channel.get("purpose")),
        num_members=members if isinstance(members, int) else None,
        created=ts_to_iso(channel.get("created")),
        user=other,
    )


def user_from(user: dict[str, Any]) -> User:
    profile = obj(user.get("profile"))
    status = " ".join(s for s in (_str(profile.get("status_emoji")), _str(profile.get("status_text"))) if s)
    return User(
        id=str(user.get("id")),
        handle=_str(user.get("name")),
        display_name=_str(profile.get("display_name")),
        real_name=_str(user.get("real_name")) or _str(profile.get("real_name")),
        title=_str(profile.get("title")),
        email=_str(profile.get("email")),
        is_bot=bool(user.get("is_bot")),
        is_admin=bool(user.get("is_admin")),
        deleted=bool(user.get("deleted")),
        timezone=_str(user.get("tz")),
        status=status or None,
    )


def usergroup_from(group: dict[str, Any]) -> UserGroup:
    count = group.get("user_count")
    deleted = group.get("date_delete")
    return UserGroup(
        id=str(group.get("id")),
        handle=_str(group.get("handle")),
        name=_str(group.get("name")),
        description=_str(group.get("description")),
        user_count=int(count) if isinstance(count, int | str) and str(count).isdigit() else None,
        disabled=isinstance(deleted, int) and deleted > 0,
    )
