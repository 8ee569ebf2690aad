"""The channel allow-list that every write tool checks before it writes anything.

`SlackConfig.allowed_channels` lists channel ids, `#names`, and (for direct messages)
user ids or `@handles`. When it is empty every channel is allowed. When it is set, a
write tool resolves its target channel and refuses, before any write request, unless
the channel's id, its `#name`, or for a DM the other person, is on the list. Reads are
not restricted. A target that cannot be identified (conversations.info fails) is refused:
the check fails closed.
"""

from __future__ import annotations

from sagemcp import ToolContext
from sagemcp.errors import AccessDenied

from ._config import SlackConfig
from ._resolve import Names

__all__ = ["ChannelNotAllowed", "ensure_people_allowed", "ensure_writable", "writable_channel"]


class ChannelNotAllowed(AccessDenied):
    """A write tool was asked to change a channel outside the connector's `allowed_channels`."""

    code = "channel_not_allowed"


async def ensure_writable(ctx: ToolContext[SlackConfig], names: Names, channel_id: str) -> None:
    """Return when the configuration lets write tools change `channel_id`; raise `ChannelNotAllowed` otherwise."""
    allowed = ctx.config.allowed_channels
    if not allowed or channel_id in allowed:
        return
    channel = await names.channel(channel_id)
    name = channel.get("name")
    label = f"#{name}" if isinstance(name, str) and name else channel_id
    if isinstance(name, str) and f"#{name.lower()}" in allowed:
        return
    other = channel.get("user")
    if channel.get("is_im") and isinstance(other, str):
        if other in allowed:
            return
        handle = await names.handle_of(other)
        if handle and f"@{handle}" in allowed:
            return
        label = f"the direct message with @{handle or other}"
    shown = ", ".join(allowed[:10]) + (", ..." if len(allowed) > 10 else "")
    raise ChannelNotAllowed(
        f"{label} ({channel_id}) is not in the allowed_channels of Slack connector {ctx.connector.name!r} "
        f"(allowed: {shown}); nothing was changed. An administrator can add it to the connector's "
        "`allowed_channels` setting."
    )


async def ensure_people_allowed(ctx: ToolContext[SlackConfig], names: Names, user_ids: list[str]) -> None:
    """Return when write tools may open or write to a direct message with every one of `user_ids`."""
    allowed = ctx.config.allowed_channels
    if not allowed:
        return
    for user_id in user_ids:
        if user_id in allowed:
            continue
        handle = await names.handle_of(user_id)
        if handle and f"@{handle}" in allowed:
            continue
        raise ChannelNotAllowed(
            f"direct messages with @{handle or user_id} ({user_id}) are not in the allowed_channels of Slack "
            f"connector {ctx.connector.name!r}; nothing was sent. An administrator can add the person's user id or "
            "@handle to the connector's `allowed_channels` setting."
        )


async def writable_channel(ctx: ToolContext[SlackConfig], channel: str) -> tuple[Names, str]:
    """The call's `Names` and the id of `channel` (an id or `#name`), after the allow-list check."""
    names = Names(ctx)
    channel_id = await names.channel_id(channel)
    await ensure_writable(ctx, names, channel_id)
    return names, channel_id
