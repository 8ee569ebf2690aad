"""The trimmed shapes the Slack tools return, and how Slack's JSON becomes them (`from_api`).

Ids stay (tools take them back), and next to each id is its name: users as their
display name, channels as `#name`. Message text is Markdown (converted from Slack's
mrkdwn), times are ISO 8601 UTC next to the Slack timestamp that identifies the message.

Each model's `from_api` classmethod is the one place a Slack object is read. Names are
looked up before (an async step, `_messages.render_messages` and `_resolve.Names`) and
handed in as `users` / `channels` maps, so the conversion itself is pure. Lists are
`Page`s with `next_cursor`; every list, thread and canvas renders itself as compact
Markdown (`sagemcp.markdown`) for the text part of the tool result, which ends with the
cursor of the next page.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, Field

from sagemcp import Page, clip
from sagemcp.errors import UpstreamBadResponse
from sagemcp.markdown import Column, bullets, page_footer, page_table, table

from ._mrkdwn import to_markdown
from ._time import ts_to_iso

__all__ = [
    "LIST_TEXT_LIMIT",
    "TEXT_LIMIT",
    "ActionResult",
    "AuthInfo",
    "Bookmark",
    "BookmarkPage",
    "Canvas",
    "Channel",
    "ChannelMatches",
    "ChannelPage",
    "CreatedCanvas",
    "DirectMessageChannel",
    "FileRef",
    "Member",
    "MemberPage",
    "Message",
    "MessagePage",
    "Permalink",
    "Pin",
    "PinPage",
    "PostedMessage",
    "Reaction",
    "Reactions",
    "ScheduledMessage",
    "ScheduledMessagePage",
    "SearchResult",
    "Team",
    "UploadedFile",
    "User",
    "UserGroup",
    "UserGroupPage",
    "UserPage",
    "channel_type",
    "message_text",
]

TEXT_LIMIT = 20_000
"""Characters of one message's text when a tool returns a thread (or one message)."""
LIST_TEXT_LIMIT = 3_000
"""Characters of each message's text in history, search and pin results."""

_NO_NAMES: Mapping[str, str] = MappingProxyType({})
"""The default `users` / `channels` map: no names known (read-only, so it cannot leak between calls)."""


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _value(holder: Any) -> str | None:
    """The `value` of Slack's `{value, creator, last_set}` holders (topic, purpose)."""
    return _str(holder.get("value")) if isinstance(holder, dict) else None


# -- messages -------------------------------------------------------------------------------------


class Reaction(BaseModel):
    name: str = Field(description="Emoji name without colons.")
    count: int
    users: list[str] = Field(default_factory=list, description="Who reacted (names where known, else ids).")

    @classmethod
    def from_api(cls, data: dict[str, Any], users: Mapping[str, str] | None = None) -> Reaction:
        """A reaction; with `users` (id -> name) the people who reacted are listed too."""
        who = [users.get(u, u) for u in data.get("users") or () if isinstance(u, str)] if users is not None else []
        count = _int(data.get("count"))
        return cls(name=str(data.get("name") or ""), count=count if count is not None else len(who), users=who)

    def to_markdown(self) -> str:
        who = f" ({', '.join(self.users)})" if self.users else ""
        return f":{self.name}: {self.count}{who}"


class FileRef(BaseModel):
    id: str
    name: str | None = None
    title: str | None = None
    mimetype: str | None = None
    permalink: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> FileRef:
        return cls(
            id=str(data.get("id") or ""),
            name=_str(data.get("name")),
            title=_str(data.get("title")),
            mimetype=_str(data.get("mimetype")),
            permalink=_str(data.get("permalink")),
        )

    @property
    def label(self) -> str:
        return self.title or self.name or self.id


def message_text(data: dict[str, Any]) -> str:
    """A message's mrkdwn: its `text`, or for attachment-only messages (bots, integrations) their words."""
    text = data.get("text")
    if isinstance(text, str) and text:
        return text
    parts = []
    for attachment in data.get("attachments") or ():
        if isinstance(attachment, dict):
            for key in ("pretext", "title", "text", "fallback"):
                if isinstance(attachment.get(key), str) and attachment[key]:
                    parts.append(attachment[key])
                    if key == "fallback":
                        break
    return "\n".join(parts)


class Message(BaseModel):
    """One Slack message; `ts` is its id within the channel."""

    ts: str
    time: str | None = Field(default=None, description="ISO 8601 UTC.")
    channel: str | None = Field(default=None, description="Channel id.")
    channel_name: str | None = None
    user: str | None = Field(default=None, description="Author's user id (or bot id).")
    author: str | None = Field(default=None, description="Author's display name.")
    text: str = Field(default="", description="Markdown (converted from Slack mrkdwn).")
    text_truncated: bool = False
    subtype: str | None = None
    thread_ts: str | None = Field(default=None, description="Timestamp of the thread's parent, for threads.")
    reply_count: int | None = None
    latest_reply: str | None = None
    edited: bool = False
    reactions: list[Reaction] = Field(default_factory=list)
    files: list[FileRef] = Field(default_factory=list)
    permalink: str | None = None

    @classmethod
    def from_api(
        cls,
        data: dict[str, Any],
        *,
        users: Mapping[str, str] = _NO_NAMES,
        channels: Mapping[str, str] = _NO_NAMES,
        channel: str | None = None,
        text_limit: int = LIST_TEXT_LIMIT,
        reaction_users: bool = False,
    ) -> Message:
        """A message (history, thread or search match) with names from `users` / `channels` (id -> name).

        `channel` is the conversation it was read from, when the message does not say;
        text over `text_limit` characters is cut with core's truncation marker.
        """
        where = data.get("channel")
        channel_id = _str(where.get("id")) if isinstance(where, dict) else _str(where) or channel
        hint = (
            "call slack_get_thread with this message's ts for the full text"
            if text_limit < TEXT_LIMIT
            else "open the message's permalink in Slack for the rest"
        )
        text, cut = clip(to_markdown(message_text(data), users, channels), text_limit, hint)
        author_id = _str(data.get("user")) or _str(data.get("bot_id"))
        author = users.get(author_id or "") or _str(data.get("username"))
        if author is None:
            author = _str(_obj(data.get("bot_profile")).get("name"))
        return cls(
            ts=str(data.get("ts") or ""),
            time=ts_to_iso(data.get("ts")),
            channel=channel_id,
            channel_name=channels.get(channel_id or ""),
            user=author_id,
            author=author,
            text=text,
            text_truncated=cut,
            subtype=_str(data.get("subtype")),
            thread_ts=_str(data.get("thread_ts")),
            reply_count=_int(data.get("reply_count")),
            latest_reply=_str(data.get("latest_reply")),
            edited=isinstance(data.get("edited"), dict),
            reactions=[
                Reaction.from_api(r, users if reaction_users else None)
                for r in data.get("reactions") or ()
                if isinstance(r, dict) and isinstance(r.get("name"), str)
            ],
            files=[FileRef.from_api(f) for f in data.get("files") or () if isinstance(f, dict) and _str(f.get("id"))],
            permalink=_str(data.get("permalink")),
        )

    def to_markdown(self) -> str:
        """One bullet's text: the heading line (author, place, time, ts and extras), then the text."""
        who = f"@{self.author}" if self.author else (self.user or "unknown")
        where = f" in #{self.channel_name}" if self.channel_name else ""
        head = f"**{who}**{where} · {self.time or self.ts} · ts `{self.ts}`"
        extras = []
        if self.reply_count:
            extras.append(f"{self.reply_count} {'reply' if self.reply_count == 1 else 'replies'}")
        if self.thread_ts and self.thread_ts != self.ts:
            extras.append(f"in thread `{self.thread_ts}`")
        if self.edited:
            extras.append("edited")
        if self.reactions:
            extras.append(" ".join(f":{r.name}: {r.count}" for r in self.reactions))
        if self.files:
            extras.append("files: " + ", ".join(f.label for f in self.files))
        if self.permalink:
            extras.append(self.permalink)
        tail = f" ({'; '.join(extras)})" if extras else ""
        return f"{head}{tail}\n{self.text or '(no text)'}"


class MessagePage(Page[Message]):
    """Messages of a channel or thread; history is newest first, a thread oldest first."""

    channel: str | None = None
    channel_name: str | None = None
    thread_ts: str | None = None
    oldest: str | None = Field(default=None, description="ISO 8601 UTC start of the window, when one applies.")

    def to_markdown(self) -> str:
        where = f"#{self.channel_name}" if self.channel_name else (self.channel or "")
        what = f"Thread `{self.thread_ts}` in {where}" if self.thread_ts else f"Messages in {where}"
        since = f" since {self.oldest}" if self.oldest else ""
        body = bullets((m.to_markdown() for m in self.items), empty="No messages.")
        return f"**{what}**{since} ({len(self.items)})\n\n{body}" + page_footer(self.next_cursor, self.truncated)


class SearchResult(Page[Message]):
    query: str
    total: int | None = Field(default=None, description="Matches Slack reports in all.")

    def to_markdown(self) -> str:
        total = self.total if self.total is not None else "?"
        body = bullets((m.to_markdown() for m in self.items), empty="No messages match.")
        head = f"**Search** `{self.query}` ({len(self.items)} shown of {total})"
        return f"{head}\n\n{body}" + page_footer(self.next_cursor, self.truncated)


class Reactions(BaseModel):
    """The reactions on one message."""

    channel: str
    ts: str
    reactions: list[Reaction]

    def to_markdown(self) -> str:
        body = bullets((r.to_markdown() for r in self.reactions), empty="No reactions.")
        return f"**Reactions** on `{self.ts}` in {self.channel}\n\n{body}"


class Permalink(BaseModel):
    channel: str
    ts: str
    permalink: str

    @classmethod
    def from_api(cls, data: dict[str, Any], *, channel: str, ts: str) -> Permalink:
        """chat.getPermalink's answer for the message `ts` in `channel`."""
        return cls(channel=channel, ts=ts, permalink=str(data.get("permalink") or ""))


# -- conversations --------------------------------------------------------------------------------


def channel_type(data: dict[str, Any]) -> str:
    """public_channel, private_channel, im or mpim, from conversations.* flags."""
    if data.get("is_im"):
        return "im"
    if data.get("is_mpim"):
        return "mpim"
    if data.get("is_private") or data.get("is_group"):
        return "private_channel"
    return "public_channel"


class Channel(BaseModel):
    """A conversation: public or private channel, direct message (im) or group DM (mpim)."""

    id: str
    name: str | None = Field(default=None, description="Name without '#'; for a DM, the other person.")
    type: str = Field(description="public_channel, private_channel, im or mpim.")
    is_archived: bool = False
    is_member: bool | None = Field(default=None, description="Whether the token's user or bot is in it.")
    topic: str | None = None
    purpose: str | None = None
    num_members: int | None = None
    created: str | None = Field(default=None, description="ISO 8601 UTC.")
    user: str | None = Field(default=None, description="For a DM, the other person's user id.")

    @classmethod
    def from_api(cls, data: dict[str, Any], users: Mapping[str, str] = _NO_NAMES) -> Channel:
        """A conversations.list / conversations.info object; a DM is named after the other person (`users`)."""
        other = _str(data.get("user"))
        is_member = data.get("is_member")
        return cls(
            id=str(data.get("id")),
            name=_str(data.get("name")) or (users.get(other) if other else None),
            type=channel_type(data),
            is_archived=bool(data.get("is_archived")),
            is_member=is_member if isinstance(is_member, bool) else None,
            topic=_value(data.get("topic")),
            purpose=_value(data.get("purpose")),
            num_members=_int(data.get("num_members")),
            created=ts_to_iso(data.get("created")),
            user=other,
        )

    @property
    def label(self) -> str:
        """`#name` for channels; the other person (or the id) for DMs."""
        if self.type in ("public_channel", "private_channel") and self.name:
            return f"#{self.name}"
        return self.name or self.id

    @property
    def kind(self) -> str:
        """The type in words, with archived / not-a-member flags."""
        bits = [self.type.replace("_", " ")]
        if self.is_archived:
            bits.append("archived")
        if self.is_member is False:
            bits.append("not a member")
        return ", ".join(bits)

    def to_markdown(self) -> str:
        lines = [f"**{self.label}** `{self.id}` ({self.kind})"]
        if self.num_members is not None:
            lines.append(f"Members: {self.num_members}")
        if self.created:
            lines.append(f"Created: {self.created}")
        if self.topic:
            lines.append(f"Topic: {self.topic}")
        if self.purpose:
            lines.append(f"Purpose: {self.purpose}")
        return "\n".join(lines)


_CHANNEL_COLUMNS: tuple[Column, ...] = (
    ("Conversation", lambda c: c.label),
    ("ID", "id"),
    ("Type", lambda c: c.kind),
    ("Members", "num_members"),
    ("About", lambda c: c.topic or c.purpose),
)


class ChannelPage(Page[Channel]):
    def to_markdown(self) -> str:
        return page_table(self, _CHANNEL_COLUMNS, title="Conversations", empty="No conversations.")


class ChannelMatches(BaseModel):
    """Channels whose name matches a search, best match first."""

    query: str
    items: list[Channel]
    complete: bool = Field(description="False when the workspace has more channels than were scanned.")

    def to_markdown(self) -> str:
        head = f"**Channels matching** `{self.query}` ({len(self.items)})"
        text = f"{head}\n\n{table(self.items, _CHANNEL_COLUMNS, empty='No channel matches.')}"
        if not self.complete:
            text += "\n\n_Not every channel was scanned: use a more specific name._"
        return text


class Member(BaseModel):
    id: str
    name: str | None = None


class MemberPage(Page[Member]):
    def to_markdown(self) -> str:
        body = bullets((f"{m.name} `{m.id}`" if m.name else f"`{m.id}`" for m in self.items), empty="No members.")
        return f"**Members** ({len(self.items)})\n\n{body}" + page_footer(self.next_cursor, self.truncated)


# -- people ---------------------------------------------------------------------------------------


class User(BaseModel):
    id: str
    handle: str | None = Field(default=None, description="The @handle (Slack's `name`).")
    display_name: str | None = None
    real_name: str | None = None
    title: str | None = None
    email: str | None = Field(default=None, description="Shown when the token has users:read.email.")
    is_bot: bool = False
    is_admin: bool = False
    deleted: bool = False
    timezone: str | None = None
    status: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> User:
        """A users.list / users.info / users.lookupByEmail object."""
        profile = _obj(data.get("profile"))
        status = " ".join(s for s in (_str(profile.get("status_emoji")), _str(profile.get("status_text"))) if s)
        return cls(
            id=str(data.get("id")),
            handle=_str(data.get("name")),
            display_name=_str(profile.get("display_name")),
            real_name=_str(data.get("real_name")) or _str(profile.get("real_name")),
            title=_str(profile.get("title")),
            email=_str(profile.get("email")),
            is_bot=bool(data.get("is_bot")),
            is_admin=bool(data.get("is_admin")),
            deleted=bool(data.get("deleted")),
            timezone=_str(data.get("tz")),
            status=status or None,
        )

    @property
    def label(self) -> str:
        return self.display_name or self.real_name or self.handle or self.id

    @property
    def flags(self) -> str | None:
        bits = ["bot" if self.is_bot else None, "admin" if self.is_admin else None]
        bits.append("deactivated" if self.deleted else None)
        return ", ".join(b for b in bits if b) or None

    def to_markdown(self) -> str:
        lines = [f"**{self.label}** `{self.id}`" + (f" (@{self.handle})" if self.handle else "")]
        for label, value in (
            ("Name", self.real_name if self.real_name != self.label else None),
            ("Title", self.title),
            ("Email", self.email),
            ("Time zone", self.timezone),
            ("Status", self.status),
            ("Account", self.flags),
        ):
            if value:
                lines.append(f"{label}: {value}")
        return "\n".join(lines)


class UserPage(Page[User]):
    def to_markdown(self) -> str:
        columns: list[Column] = [
            ("Name", lambda u: u.label),
            ("ID", "id"),
            ("Handle", lambda u: f"@{u.handle}" if u.handle else None),
            ("Title", "title"),
            ("Email", "email"),
            ("Account", lambda u: u.flags),
        ]
        return page_table(self, columns, title="Users", empty="No users.")


class UserGroup(BaseModel):
    id: str
    handle: str | None = Field(default=None, description="Mention it as @handle.")
    name: str | None = None
    description: str | None = None
    user_count: int | None = None
    disabled: bool = False

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> UserGroup:
        """A usergroups.list object (its `user_count` may be a string)."""
        count = data.get("user_count")
        deleted = data.get("date_delete")
        return cls(
            id=str(data.get("id")),
            handle=_str(data.get("handle")),
            name=_str(data.get("name")),
            description=_str(data.get("description")),
            user_count=int(count) if isinstance(count, int | str) and str(count).isdigit() else None,
            disabled=isinstance(deleted, int) and deleted > 0,
        )


class UserGroupPage(Page[UserGroup]):
    def to_markdown(self) -> str:
        columns: list[Column] = [
            ("Handle", lambda g: f"@{g.handle}" if g.handle else None),
            ("ID", "id"),
            ("Name", lambda g: f"{g.name or ''}{' (disabled)' if g.disabled else ''}"),
            ("Members", "user_count"),
            ("Description", "description"),
        ]
        return page_table(self, columns, title="User groups", empty="No user groups.")


# -- pins, bookmarks, canvases --------------------------------------------------------------------


class Pin(BaseModel):
    type: str
    created: str | None = None
    created_by: str | None = None
    message: Message | None = None
    file: FileRef | None = None

    @classmethod
    def from_api(
        cls, data: dict[str, Any], *, message: Message | None = None, users: Mapping[str, str] = _NO_NAMES
    ) -> Pin:
        """A pins.list item; `message` is its message already converted (names resolved)."""
        raw_message = data.get("message") if isinstance(data.get("message"), dict) else None
        file = data.get("file") if isinstance(data.get("file"), dict) else None
        creator = _str(data.get("created_by"))
        return cls(
            type=str(data.get("type") or ("message" if raw_message else "file" if file else "item")),
            created=ts_to_iso(data.get("created")),
            created_by=users.get(creator, creator) if creator else None,
            message=message,
            file=FileRef.from_api(file) if file else None,
        )

    def to_markdown(self) -> str:
        by = f" (pinned by {self.created_by})" if self.created_by else ""
        if self.message is not None:
            head, _, text = self.message.to_markdown().partition("\n")
            return f"{head}{by}\n{text}"
        if self.file is not None:
            return f"file **{self.file.label}** `{self.file.id}`{by}"
        return f"{self.type}{by}"


class PinPage(Page[Pin]):
    channel: str

    def to_markdown(self) -> str:
        body = bullets((p.to_markdown() for p in self.items), empty="Nothing is pinned.")
        return f"**Pins** in {self.channel} ({len(self.items)})\n\n{body}" + page_footer(
            self.next_cursor, self.truncated
        )


class Bookmark(BaseModel):
    id: str
    title: str | None = None
    link: str | None = None
    emoji: str | None = None
    type: str | None = None
    created: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Bookmark:
        """A bookmarks.list / bookmarks.add object."""
        created = data.get("date_created")
        return cls(
            id=str(data.get("id") or ""),
            title=_str(data.get("title")),
            link=_str(data.get("link")),
            emoji=_str(data.get("emoji")),
            type=_str(data.get("type")),
            created=ts_to_iso(created if isinstance(created, int | float | str) else None),
        )


class BookmarkPage(Page[Bookmark]):
    channel: str

    def to_markdown(self) -> str:
        columns: list[Column] = [("Title", "title"), ("ID", "id"), ("Link", "link"), ("Emoji", "emoji")]
        return page_table(self, columns, title=f"Bookmarks in {self.channel}", empty="No bookmarks.", max_cell=300)


class Canvas(BaseModel):
    id: str
    title: str | None = None
    created: str | None = None
    updated: str | None = None
    owner: str | None = None
    permalink: str | None = None
    markdown: str | None = Field(default=None, description="The canvas content as Markdown, when readable.")
    truncated: bool = False

    @classmethod
    def from_api(
        cls,
        data: dict[str, Any],
        *,
        markdown: str | None = None,
        truncated: bool = False,
        users: Mapping[str, str] = _NO_NAMES,
    ) -> Canvas:
        """A files.info object of a canvas, with its downloaded content as Markdown."""
        owner = _str(data.get("user"))
        return cls(
            id=str(data.get("id") or ""),
            title=_str(data.get("title")),
            created=ts_to_iso(data.get("created")),
            updated=ts_to_iso(data.get("updated") or data.get("created")),
            owner=users.get(owner, owner) if owner else None,
            permalink=_str(data.get("permalink")),
            markdown=markdown,
            truncated=truncated,
        )

    def to_markdown(self) -> str:
        head = f"# {self.title or self.id}\n`{self.id}` · updated {self.updated or '?'} · {self.permalink or ''}"
        return f"{head}\n\n{self.markdown or '(content not available)'}"


# -- workspace ------------------------------------------------------------------------------------


class AuthInfo(BaseModel):
    """Who the token is and what it may do."""

    ok: bool = True
    team: str | None = None
    team_id: str | None = None
    url: str | None = None
    user: str | None = None
    user_id: str | None = None
    bot_id: str | None = None
    token_type: str = Field(description="bot or user.")
    enterprise_id: str | None = None
    scopes: list[str] = Field(default_factory=list, description="Scopes granted to the token (from X-OAuth-Scopes).")

    @classmethod
    def from_api(cls, data: dict[str, Any], scopes_header: str = "") -> AuthInfo:
        """auth.test's answer, with the scopes of its `X-OAuth-Scopes` header."""
        return cls(
            team=_str(data.get("team")),
            team_id=_str(data.get("team_id")),
            url=_str(data.get("url")),
            user=_str(data.get("user")),
            user_id=_str(data.get("user_id")),
            bot_id=_str(data.get("bot_id")),
            token_type="bot" if data.get("bot_id") else "user",
            enterprise_id=_str(data.get("enterprise_id")),
            scopes=[s.strip() for s in scopes_header.split(",") if s.strip()],
        )

    def to_markdown(self) -> str:
        who = f"**{self.user or self.user_id or self.bot_id or 'unknown'}**"
        ids = " ".join(f"`{i}`" for i in (self.user_id, self.bot_id) if i)
        lines = [f"{who} {ids} ({self.token_type} token) in **{self.team or self.team_id}** `{self.team_id}`"]
        if self.url:
            lines.append(f"URL: {self.url}")
        if self.enterprise_id:
            lines.append(f"Enterprise: `{self.enterprise_id}`")
        lines.append(f"Scopes: {', '.join(self.scopes) if self.scopes else '(not reported)'}")
        return "\n".join(lines)


class Team(BaseModel):
    id: str
    name: str | None = None
    domain: str | None = None
    email_domain: str | None = None
    url: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Team:
        """team.info's `team` object; `url` is built from the domain."""
        domain = _str(data.get("domain"))
        return cls(
            id=str(data.get("id") or ""),
            name=_str(data.get("name")),
            domain=domain,
            email_domain=_str(data.get("email_domain")),
            url=f"https://{domain}.slack.com" if domain else None,
        )

    def to_markdown(self) -> str:
        lines = [f"**{self.name or self.id}** `{self.id}`"]
        if self.url:
            lines.append(f"URL: {self.url}")
        if self.email_domain:
            lines.append(f"Email domain: {self.email_domain}")
        return "\n".join(lines)


# -- results of writes ----------------------------------------------------------------------------


class PostedMessage(BaseModel):
    channel: str
    ts: str
    thread_ts: str | None = None
    permalink: str | None = None
    text: str | None = Field(default=None, description="The text as sent (Slack mrkdwn).")

    @classmethod
    def from_api(
        cls,
        data: dict[str, Any],
        *,
        channel: str,
        ts: str = "",
        text: str | None = None,
        thread_ts: str | None = None,
        permalink: str | None = None,
    ) -> PostedMessage:
        """chat.postMessage's or chat.update's answer; `channel` and `ts` are used when Slack leaves them out."""
        return cls(
            channel=_str(data.get("channel")) or channel,
            ts=_str(data.get("ts")) or ts,
            thread_ts=thread_ts,
            permalink=permalink,
            text=text,
        )


class ScheduledMessage(BaseModel):
    id: str = Field(description="scheduled_message_id; pass it to slack_cancel_scheduled_message.")
    channel: str
    post_at: str | None = Field(default=None, description="ISO 8601 UTC.")
    text: str | None = None

    @classmethod
    def from_api(
        cls, data: dict[str, Any], *, channel: str = "", post_at: int | None = None, text: str | None = None
    ) -> ScheduledMessage:
        """A chat.scheduledMessages.list item (its mrkdwn shown as Markdown), or chat.scheduleMessage's answer
        (`channel`, `post_at` and `text`, the text as sent, fill in what it leaves out)."""
        raw_text = data.get("text")
        return cls(
            id=str(data.get("id") or data.get("scheduled_message_id") or ""),
            channel=_str(data.get("channel_id")) or _str(data.get("channel")) or channel,
            post_at=ts_to_iso(data.get("post_at") or post_at),
            text=text if text is not None else to_markdown(raw_text if isinstance(raw_text, str) else ""),
        )


class ScheduledMessagePage(Page[ScheduledMessage]):
    def to_markdown(self) -> str:
        columns: list[Column] = [("ID", "id"), ("Channel", "channel"), ("Post at", "post_at"), ("Text", "text")]
        return page_table(self, columns, title="Scheduled messages", empty="No scheduled messages.")


class DirectMessageChannel(BaseModel):
    channel: str
    user: str
    already_open: bool = False

    @classmethod
    def from_api(cls, data: dict[str, Any], *, users: list[str]) -> DirectMessageChannel:
        """conversations.open's answer for the DM (or group DM) with `users`."""
        return cls(
            channel=str(_obj(data.get("channel")).get("id") or ""),
            user=",".join(users),
            already_open=bool(data.get("already_open")),
        )


class ActionResult(BaseModel):
    ok: bool = True
    action: str
    channel: str | None = None
    ts: str | None = None


class UploadedFile(BaseModel):
    id: str
    title: str | None = None
    name: str | None = None
    permalink: str | None = None
    channel: str | None = None
    size: int | None = None

    @classmethod
    def from_api(
        cls, data: dict[str, Any], *, file_id: str, filename: str, title: str | None, size: int, channel: str | None
    ) -> UploadedFile:
        """files.completeUploadExternal's answer for `file_id` (what was sent fills in what it leaves out)."""
        files = [f for f in data.get("files") or () if isinstance(f, dict)]
        info = next((f for f in files if f.get("id") == file_id), files[0] if files else {})
        return cls(
            id=_str(info.get("id")) or file_id,
            title=_str(info.get("title")) or title or filename,
            name=_str(info.get("name")) or filename,
            permalink=_str(info.get("permalink")),
            channel=channel,
            size=_int(info.get("size")) or size,
        )


class CreatedCanvas(BaseModel):
    id: str
    channel: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any], *, channel: str | None = None) -> CreatedCanvas:
        """canvases.create's or conversations.canvases.create's answer; `UpstreamBadResponse` without an id."""
        canvas_id = _str(data.get("canvas_id"))
        if canvas_id is None:
            raise UpstreamBadResponse(
                "Slack answered without a canvas id; look for the canvas in Slack before trying again.",
                provider="slack",
            )
        return cls(id=canvas_id, channel=channel)
