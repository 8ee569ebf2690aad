"""Argument types shared by the tools: each one validated, and described for the model.

Page sizes are core's `Limit` (Slack pages hold at most 100 items here) and cursors
core's `Cursor`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from sagemcp import Limit

from ._pagination import MAX_LIMIT
from ._time import TS_PATTERN, WINDOW_PATTERN

__all__ = [
    "DEFAULT_LIMIT",
    "ChannelArg",
    "EmojiArg",
    "LimitArg",
    "MarkdownArg",
    "TimeArg",
    "TsArg",
    "UserArg",
    "WindowArg",
    "emoji_name",
]

CHANNEL_PATTERN = r"^\s*([CGD][A-Z0-9]{2,30}|#[^\s#,<>|]{1,80})\s*$"
USER_PATTERN = r"^\s*([UW][A-Z0-9]{2,30}|@[^\s,<>|]{1,80}|[^\s@<>,]+@[^\s@<>,]+\.[^\s@<>,]+)\s*$"

ChannelArg = Annotated[
    str,
    Field(
        pattern=CHANNEL_PATTERN,
        description="Channel id (D... for a DM) or #name.",
        examples=["C0123ABCD", "#general"],
    ),
]
UserArg = Annotated[
    str,
    Field(
        pattern=USER_PATTERN,
        description="User id, @handle or email.",
        examples=["U0123ABCD", "@alice", "alice@example.com"],
    ),
]
TsArg = Annotated[
    str,
    Field(
        pattern=TS_PATTERN,
        description="A message's `ts` from the history, thread or search tools.",
        examples=["1714564800.000100"],
    ),
]
WindowArg = Annotated[
    str | None,
    Field(
        default=None,
        pattern=WINDOW_PATTERN,
        description="How far back from now: 30m, 12h, 7d, 2w...; omit for no lower bound.",
        examples=["1d", "7d", "30d"],
    ),
]
TimeArg = Annotated[
    str | None,
    Field(
        default=None,
        max_length=40,
        description="A date (2024-05-01), an ISO 8601 date-time, or a Slack timestamp.",
    ),
]
DEFAULT_LIMIT = 20
LimitArg = Annotated[int, Limit(maximum=MAX_LIMIT)]
"""A page size; give it the default `DEFAULT_LIMIT` (`limit: LimitArg = DEFAULT_LIMIT`)."""
MarkdownArg = Annotated[
    str,
    Field(
        min_length=1,
        max_length=40_000,
        description="Markdown (sent as Slack mrkdwn); mentions: <@U0123ABCD>, <#C0123ABCD>, <!here>.",
    ),
]
EmojiArg = Annotated[
    str,
    Field(
        pattern=r"^:?[a-z0-9_+'\-]{1,100}(::skin-tone-[2-6])?:?$",
        description="Emoji name, colons optional (thumbsup).",
    ),
]


def emoji_name(value: str) -> str:
    """An `EmojiArg` without the surrounding colons (`:thumbsup::skin-tone-2:` -> `thumbsup::skin-tone-2`)."""
    return value.strip().strip(":")
