"""Group `canvases_write`: creating canvases from Markdown."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from sagemcp.context import ToolContext
from sagemcp.errors import UpstreamBadResponse
from sagemcp.tools import tool

from .. import _api
from .._guard import ensure_writable
from .._params import ChannelArg
from .._resolve import Names
from .._scopes import CONVERSATION_READ
from ..models import CreatedCanvas

__all__ = ["CanvasWriteTools"]


class CanvasWriteTools:
    """Creating canvases."""

    @tool(read_only=False, group="canvases_write", scopes=("canvases:write", *CONVERSATION_READ))
    async def canvases_create(
        self,
        ctx: ToolContext,
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
            names = Names(ctx)
            channel_id = await names.channel_id(channel)
            await ensure_writable(ctx, names, channel_id)
            data = await _api.write(
                ctx,
                "conversations.canvases.create",
                {"channel_id": channel_id, "title": title, "document_content": content},
            )
        else:
            channel_id = None
            data = await _api.write(ctx, "canvases.create", {"title": title, "document_content": content})
        canvas_id = data.get("canvas_id")
        if not isinstance(canvas_id, str) or not canvas_id:
            raise UpstreamBadResponse("Slack created no canvas id; check the workspace's canvases.", provider="slack")
        return CreatedCanvas(id=canvas_id, channel=channel_id)
