"""Ids to names and names to ids, for one tool call.

`Names` is made at the start of a call and dropped at its end: what it learns
(users, channels) never outlives the call, so no tenant ever sees another tenant's
names, and names are never stale for longer than a call. Lookups it cannot make (a
missing scope, a rate limit) leave the id in place rather than failing the tool.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import anyio

from sagemcp import ToolContext
from sagemcp.errors import (
    InvalidArguments,
    LookupFailed,
    UpstreamAuthError,
    UpstreamError,
    UpstreamForbidden,
    UpstreamNotFound,
    UpstreamRateLimited,
)

from . import _api
from ._api import obj

__all__ = ["CHANNEL_ID_RE", "MAX_LOOKUPS", "USER_ID_RE", "Names", "user_label"]

CHANNEL_ID_RE = re.compile(r"^[CGD][A-Z0-9]{2,30}$")
USER_ID_RE = re.compile(r"^[UW][A-Z0-9]{2,30}$")
MAX_LOOKUPS = 60
"""Distinct ids looked up one by one in a call; beyond that the ids are shown as they are."""
SCAN_PAGES = 10
"""Pages of 1,000 read when finding a channel or user by name (10,000 channels or users)."""
_CONCURRENCY = 4
_SCAN_PAGE_SIZE = 1000
_CONVERSATION_TYPES = "public_channel,private_channel"


def user_label(user: dict[str, Any]) -> str | None:
    """How Slack shows a user: display name, else real name, else the handle."""
    profile = obj(user.get("profile"))
    for value in (profile.get("display_name"), profile.get("real_name"), user.get("real_name"), user.get("name")):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


class Names:
    """A per-call cache of users and channels, and the lookups that fill it."""

    def __init__(self, ctx: ToolContext) -> None:
        self._ctx = ctx
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self._missing: set[str] = set()
        self._lookups = 0
        self._stopped = False

    # -- what calls already returned ------------------------------------------------------

    def remember_user(self, user: Any) -> None:
        if isinstance(user, dict) and isinstance(user.get("id"), str):
            self.users[user["id"]] = user

    def remember_channel(self, channel: Any) -> None:
        if isinstance(channel, dict) and isinstance(channel.get("id"), str):
            self.channels[channel["id"]] = channel

    def user_names(self) -> dict[str, str]:
        """Every known user id -> display name."""
        return {uid: label for uid, user in self.users.items() if (label := user_label(user))}

    def channel_names(self) -> dict[str, str]:
        """Every known channel id -> name (without '#'); DMs as the other person's name."""
        names: dict[str, str] = {}
        for cid, channel in self.channels.items():
            name = channel.get("name")
            if not name and channel.get("is_im") and isinstance(channel.get("user"), str):
                other = self.users.get(channel["user"])
                name = user_label(other) if other else channel["user"]
            if isinstance(name, str) and name:
                names[cid] = name
        return names

    # -- lookups -----------------------------------------------------------------------------

    def _give_up(self, error: UpstreamError) -> bool:
        """Whether a failed lookup means the next ones will fail too (scope, auth, rate limit)."""
        return isinstance(error, UpstreamRateLimited | UpstreamAuthError | UpstreamForbidden)

    async def _lookup(self, method: str, param: str, key: str, value: str) -> dict[str, Any] | None:
        if self._stopped or value in self._missing or self._lookups >= MAX_LOOKUPS:
            return None
        self._lookups += 1
        try:
            data = await _api.read(self._ctx, method, {param: value})
        except UpstreamError as error:
            self._missing.add(value)
            if self._give_up(error):
                self._stopped = True
            self._ctx.logger.debug("could not resolve %s via %s: %s", value, method, error.code)
            return None
        found = data.get(key)
        return found if isinstance(found, dict) else None

    async def resolve_users(self, ids: Iterable[str | None]) -> None:
        """Look up users not yet known (users.info), a few at a time."""
        wanted = sorted({i for i in ids if i and USER_ID_RE.match(i) and i not in self.users})
        if not wanted:
            return

        async def one(user_id: str) -> None:
            async with limiter:
                self.remember_user(await self._lookup("users.info", "user", "user", user_id))

        limiter = anyio.Semaphore(_CONCURRENCY)
        async with anyio.create_task_group() as group:
            for user_id in wanted:
                group.start_soon(one, user_id)

    async def resolve_channels(self, ids: Iterable[str | None]) -> None:
        """Look up channels not yet known (conversations.info)."""
        wanted = sorted({i for i in ids if i and CHANNEL_ID_RE.match(i) and i not in self.channels})
        for channel_id in wanted:
            self.remember_channel(await self._lookup("conversations.info", "channel", "channel", channel_id))

    async def channel(self, channel_id: str) -> dict[str, Any]:
        """conversations.info for a channel (cached for the call); errors propagate."""
        found = self.channels.get(channel_id)
        if found is None:
            data = await _api.read(self._ctx, "conversations.info", {"channel": channel_id})
            found = obj(data.get("channel")) or {"id": channel_id}
            self.remember_channel(found)
        return found

    async def channel_id(self, value: str, field: str = "channel") -> str:
        """A channel id from an id or a `#name` (looked up in conversations.list)."""
        text = value.strip()
        if CHANNEL_ID_RE.match(text):
            return text
        if not text.startswith("#"):
            raise InvalidArguments(
                f"{field} {value!r} is neither a channel id (C0123ABCD) nor a #name",
                errors=[(field, "expected a channel id or #name")],
            )
        return str((await self.find_channel(text[1:]))["id"])

    async def find_channel(self, name: str) -> dict[str, Any]:
        """The channel called `name` (without '#'), or `LookupFailed`."""
        wanted = name.strip().lstrip("#").lower()
        for channel in self.channels.values():
            if str(channel.get("name", "")).lower() == wanted:
                return channel
        channels, complete = await self.scan_channels(lambda c: str(c.get("name", "")).lower() == wanted, stop=1)
        if channels:
            return channels[0]
        scanned = "" if complete else f" among the first {SCAN_PAGES * _SCAN_PAGE_SIZE:,} channels"
        raise LookupFailed(
            f"no channel named #{wanted} is visible to the Slack token{scanned}: check the name (without "
            "spaces), or, for a private channel, invite the app to it"
        )

    async def scan_channels(self, keep: Any, *, stop: int | None = None) -> tuple[list[dict[str, Any]], bool]:
        """Channels for which `keep(channel)` is true, reading up to `SCAN_PAGES` pages; and whether all were read."""
        found: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(SCAN_PAGES):
            data = await _api.read(
                self._ctx,
                "conversations.list",
                {
                    "types": _CONVERSATION_TYPES,
                    "exclude_archived": False,
                    "limit": _SCAN_PAGE_SIZE,
                    "cursor": cursor,
                },
            )
            for channel in data.get("channels") or ():
                if isinstance(channel, dict):
                    self.remember_channel(channel)
                    if keep(channel):
                        found.append(channel)
                        if stop is not None and len(found) >= stop:
                            return found, False
            meta = data.get("response_metadata")
            cursor = meta.get("next_cursor") if isinstance(meta, dict) else None
            if not cursor:
                return found, True
        return found, False

    async def user_id(self, value: str, field: str = "user") -> str:
        """A user id from an id, an `@handle` or an email address."""
        text = value.strip()
        if USER_ID_RE.match(text):
            return text
        if "@" in text[1:]:
            data = await _api.read(self._ctx, "users.lookupByEmail", {"email": text})
            self.remember_user(data.get("user"))
            user = data.get("user")
            if isinstance(user, dict) and isinstance(user.get("id"), str):
                return str(user["id"])
            raise LookupFailed(f"no user has the email address {text}")
        if text.startswith("@"):
            return str((await self.find_user(text[1:]))["id"])
        raise InvalidArguments(
            f"{field} {value!r} is not a user id (U0123ABCD), an @handle or an email address",
            errors=[(field, "expected a user id, @handle or email")],
        )

    async def find_user(self, handle: str) -> dict[str, Any]:
        """The user whose handle (or display name) is `handle`, or `LookupFailed`."""
        wanted = handle.strip().lstrip("@").lower()
        best: dict[str, Any] | None = None
        best_rank = 99
        cursor: str | None = None
        complete = False
        for _ in range(SCAN_PAGES):
            data = await _api.read(self._ctx, "users.list", {"limit": _SCAN_PAGE_SIZE, "cursor": cursor})
            for user in data.get("members") or ():
                if not isinstance(user, dict):
                    continue
                self.remember_user(user)
                rank = _handle_rank(user, wanted)
                if rank < best_rank:
                    best, best_rank = user, rank
            if best_rank == 0:
                return best  # type: ignore[return-value]
            meta = data.get("response_metadata")
            cursor = meta.get("next_cursor") if isinstance(meta, dict) else None
            if not cursor:
                complete = True
                break
        if best is not None:
            return best
        scanned = "" if complete else f" among the first {SCAN_PAGES * _SCAN_PAGE_SIZE:,} users"
        raise LookupFailed(
            f"no user with the handle or display name @{wanted}{scanned}: check the spelling, or look the user "
            "up by email with slack_find_user_by_email"
        )

    async def handle_of(self, user_id: str) -> str | None:
        """The @handle of a user (without '@'), looking the user up if needed."""
        if user_id not in self.users:
            try:
                data = await _api.read(self._ctx, "users.info", {"user": user_id})
            except UpstreamNotFound:
                return None
            self.remember_user(data.get("user"))
        user = self.users.get(user_id) or {}
        name = user.get("name")
        return name.lower() if isinstance(name, str) else None


def _handle_rank(user: dict[str, Any], wanted: str) -> int:
    """0: the handle; 1: the display name; 2: the real name; 99: no match."""
    profile = obj(user.get("profile"))
    if str(user.get("name", "")).lower() == wanted:
        return 0
    for value in (profile.get("display_name"), profile.get("display_name_normalized")):
        if isinstance(value, str) and value.lower() == wanted:
            return 1
    for value in (user.get("real_name"), profile.get("real_name")):
        if isinstance(value, str) and value.lower() == wanted:
            return 2
    return 99
