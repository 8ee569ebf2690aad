"""Group `pins_write`: pinning and unpinning messages.

Off unless a tenant enables the group: a pin changes the channel for everyone in it.
Both tools check the connector's `allowed_channels` before they write.
"""

from __future__ import annotations

from sagemcp import ToolContext, tool

from .. import _api
from .._config import SlackConfig
from .._guard import writable_channel
from .._params import ChannelArg, TsArg
from .._scopes import CONVERSATION_READ
from ..models import ActionResult

__all__ = ["PinWriteTools"]


class PinWriteTools:
    """Changing what is pinned."""

    @tool(read_only=False, group="pins_write", idempotent=True, scopes=("pins:write", *CONVERSATION_READ))
    async def add_pin(self, ctx: ToolContext[SlackConfig], channel: ChannelArg, ts: TsArg) -> ActionResult:
        """Pin a message in its channel."""
        _, channel_id = await writable_channel(ctx, channel)
        await _api.write(ctx, "pins.add", {"channel": channel_id, "timestamp": ts})
        return ActionResult(action="pinned message", channel=channel_id, ts=ts)

    @tool(
        read_only=False,
        group="pins_write",
        destructive=True,
        idempotent=True,
        scopes=("pins:write", *CONVERSATION_READ),
    )
    async def remove_pin(self, ctx: ToolContext[SlackConfig], channel: ChannelArg, ts: TsArg) -> ActionResult:
        """Unpin a message in its channel."""
        _, channel_id = await writable_channel(ctx, channel)
        await _api.write(ctx, "pins.remove", {"channel": channel_id, "timestamp": ts})
        return ActionResult(action="unpinned message", channel=channel_id, ts=ts)
