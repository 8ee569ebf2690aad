"""The trimmed shapes the Slack tools return: what a person or a model needs, not raw API JSON.

Ids stay (tools take them back), and next to each id is its name: users as their
display name, channels as `#name`. Message text is Markdown (converted from Slack's
mrkdwn), times are ISO 8601 UTC next to the Slack timestamp that identifies the message.
Lists are `Page`s with `next_cursor`; each model renders itself as compact Markdown
for the text part of the tool result.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from sagemcp.pagination import Page

__all__ = [
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
]


def _more(next_cursor: str | None, truncated: bool) -> str:
    if truncated and next_cursor:
        return "\n_Page cut to fit; pass `next_cursor` to continue._"
    if next_cursor:
        return "\n_More results: pass `next_cursor` to continue._"
    return ""


class Reaction(BaseModel):
    name: str = Field(description="Emoji name without colons.")
    count: int
    users: list[str] = Field(default_factory=list, description="Who reacted (names where known, else ids).")


class FileRef(BaseModel):
    id: str
    name: str | None = None
    title: str | None = None
    mimetype: str | None = None
    permalink: str | None = None


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

    def to_markdown(self) -> str:
        who = f"@{self.author}" if self.author else (self.user or "unknown")
        where = f" in #{self.channel_name}" if self.channel_name else ""
        head = f"**{who}**{where} · {self.time or self.ts} · ts `{self.ts}`"
        extras = []
        if self.reply_count:
            extras.append(f"{self.reply_count} replies")
        if self.thread_ts and self.thread_ts != self.ts:
            extras.append(f"in thread `{self.thread_ts}`")
        if self.edited:
            extras.append("edited")
        if self.reactions:
            extras.append(" ".join(f":{r.name}: {r.count}" for r in self.reactions))
        if self.files:
            extras.append("files: " + ", ".join(f.title or f.name or f.id for f in self.files))
        if self.permalink:
            extras.append(self.permalink)
        tail = f" ({'; '.join(extras)})" if extras else ""
        body = "\n".join(f"  {line}" for line in (self.text or "").splitlines()) or "  (no text)"
        return f"- {head}{tail}\n{body}"


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
        lines = [f"{what}{since}: {len(self.items)} shown"]
        lines += [m.to_markdown() for m in self.items]
        return "\n".join(lines) + _more(self.next_cursor, self.truncated)


class SearchResult(Page[Message]):
    query: str
    total: int | None = Field(default=None, description="Matches Slack reports in all.")

    def to_markdown(self) -> str:
        lines = [f"Search `{self.query}`: {len(self.items)} shown of {self.total if self.total is not None else '?'}"]
        lines += [m.to_markdown() for m in self.items]
        return "\n".join(lines) + _more(self.next_cursor, self.truncated)


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

    def to_markdown(self) -> str:
        label = f"#{self.name}" if self.type in ("public_channel", "private_channel") else (self.name or self.id)
        bits = [self.type.replace("_", " ")]
        if self.is_archived:
            bits.append("archived")
        if self.is_member is False:
            bits.append("not a member")
        if self.num_members is not None:
            bits.append(f"{self.num_members} members")
        text = f"- **{label}** `{self.id}` ({', '.join(bits)})"
        if self.topic:
            text += f" topic: {self.topic}"
        if self.purpose:
            text += f" purpose: {self.purpose}"
        return text


class ChannelPage(Page[Channel]):
    def to_markdown(self) -> str:
        lines = [f"{len(self.items)} conversations"] + [c.to_markdown() for c in self.items]
        return "\n".join(lines) + _more(self.next_cursor, self.truncated)


class ChannelMatches(BaseModel):
    """Channels whose name matches a search, best match first."""

    query: str
    items: list[Channel]
    complete: bool = Field(description="False when the workspace has more channels than were scanned.")

    def to_markdown(self) -> str:
        lines = [f"{len(self.items)} channels match `{self.query}`"] + [c.to_markdown() for c in self.items]
        if not self.complete:
            lines.append("_Not every channel was scanned: use a more specific name._")
        return "\n".join(lines)


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

    def to_markdown(self) -> str:
        name = self.display_name or self.real_name or self.handle or self.id
        bits = [f"@{self.handle}" if self.handle else None, self.real_name if self.real_name != name else None]
        bits += [self.title, self.email, "bot" if self.is_bot else None, "deactivated" if self.deleted else None]
        extra = ", ".join(b for b in bits if b)
        return f"- **{name}** `{self.id}`" + (f" ({extra})" if extra else "")


class UserPage(Page[User]):
    def to_markdown(self) -> str:
        lines = [f"{len(self.items)} users"] + [u.to_markdown() for u in self.items]
        return "\n".join(lines) + _more(self.next_cursor, self.truncated)


class Member(BaseModel):
    id: str
    name: str | None = None


class MemberPage(Page[Member]):
    def to_markdown(self) -> str:
        lines = [f"{len(self.items)} members"] + [f"- {m.name or m.id} `{m.id}`" for m in self.items]
        return "\n".join(lines) + _more(self.next_cursor, self.truncated)


class UserGroup(BaseModel):
    id: str
    handle: str | None = Field(default=None, description="Mention it as @handle.")
    name: str | None = None
    description: str | None = None
    user_count: int | None = None
    disabled: bool = False


class UserGroupPage(Page[UserGroup]):
    def to_markdown(self) -> str:
        lines = [f"{len(self.items)} user groups"]
        lines += [
            f"- **@{g.handle}** `{g.id}` {g.name or ''} ({g.user_count if g.user_count is not None else '?'} members)"
            + (" disabled" if g.disabled else "")
            for g in self.items
        ]
        return "\n".join(lines) + _more(self.next_cursor, self.truncated)


class Permalink(BaseModel):
    channel: str
    ts: str
    permalink: str


class Reactions(BaseModel):
    channel: str
    ts: str
    reactions: list[Reaction]


class Pin(BaseModel):
    type: str
    created: str | None = None
    created_by: str | None = None
    message: Message | None = None
    file: FileRef | None = None


class PinPage(Page[Pin]):
    channel: str

    def to_markdown(self) -> str:
        lines = [f"{len(self.items)} pins in {self.channel}"]
        for pin in self.items:
            if pin.message is not None:
                lines.append(pin.message.to_markdown())
            elif pin.file is not None:
                lines.append(f"- file {pin.file.title or pin.file.name or pin.file.id} `{pin.file.id}`")
            else:
                lines.append(f"- {pin.type}")
        return "\n".join(lines) + _more(self.next_cursor, self.truncated)


class Bookmark(BaseModel):
    id: str
    title: str | None = None
    link: str | None = None
    emoji: str | None = None
    type: str | None = None
    created: str | None = None


class BookmarkPage(Page[Bookmark]):
    channel: str


class Canvas(BaseModel):
    id: str
    title: str | None = None
    created: str | None = None
    updated: str | None = None
    owner: str | None = None
    permalink: str | None = None
    markdown: str | None = Field(default=None, description="The canvas content as Markdown, when readable.")
    truncated: bool = False

    def to_markdown(self) -> str:
        head = f"# {self.title or self.id}\n`{self.id}` · updated {self.updated or '?'} · {self.permalink or ''}"
        return f"{head}\n\n{self.markdown or '(content not available)'}"


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


class Team(BaseModel):
    id: str
    name: str | None = None
    domain: str | None = None
    email_domain: str | None = None
    url: str | None = None


class PostedMessage(BaseModel):
    channel: str
    ts: str
    thread_ts: str | None = None
    permalink: str | None = None
    text: str | None = Field(default=None, description="The text as sent (Slack mrkdwn).")


class ScheduledMessage(BaseModel):
    id: str = Field(description="scheduled_message_id; pass it to slack_chat_delete_scheduled_message.")
    channel: str
    post_at: str | None = Field(default=None, description="ISO 8601 UTC.")
    text: str | None = None


class ScheduledMessagePage(Page[ScheduledMessage]):
    pass


class DirectMessageChannel(BaseModel):
    channel: str
    user: str
    already_open: bool = False


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


class CreatedCanvas(BaseModel):
    id: str
    channel: str | None = None
