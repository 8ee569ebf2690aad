"""Group `canvases_write`: creating canvases from Markdown.

Off unless a tenant enables the group: a canvas is a document in the workspace, and a
channel canvas sits in the channel's header for everyone. A channel canvas checks the
connector's `allowed_channels` first.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from sagemcp import ToolContext, tool

from .. import _api
from .._config import SlackConfig
from .._guard import writable_channel
from .._params import ChannelArg
from .._scopes import CONVERSATION_READ
from ..models import CreatedCanvas

__all__ = ["CanvasWriteTools"]


class CanvasWriteTools:
    """Creating canvases."""

    @tool(read_only=False, group="canvases_write", scopes=("canvases:write", *CONVERSATION_READ))
    async def create_canvas(
        self,
        ctx: ToolContext[SlackConfig],
        title: Annotated[str, Field(min_length=1, max_length=255, description="Canvas title.")],
        markdown: Annotated[
            str | None, Field(max_length=100_000, description="Content in Markdown (headings, lists, links...).")
        ] = None,
        channel: Annotated[
            ChannelArg | None,
            Field(description="Create it as this channel's canvas (one per channel); leave out for a standalone one."),
        ] = None,
    ) -> CreatedCanvas:
        """Create a canvas from Markdown: standalone, or as a channel's canvas. Returns its id."""
        content = {"type": "markdown", "markdown": markdown} if markdown else None
        if channel:
            _, channel_id = await writable_channel(ctx, channel)
            data = await _api.write(
                ctx,
                "conversations.canvases.create",
                {"channel_id": channel_id, "title": title, "document_content": content},
            )
        else:
            channel_id = None
            data = await _api.write(ctx, "canvases.create", {"title": title, "document_content": content})
        return CreatedCanvas.from_api(data, channel=channel_id)
