"""Group `canvases`: reading a canvas as Markdown (read-only)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from sagemcp import ToolContext, clip, tool
from sagemcp.errors import InvalidArguments

from .. import _api
from .._api import obj
from .._files import check_file_url
from .._html import html_to_markdown
from .._resolve import Names
from ..models import Canvas

__all__ = ["CANVAS_ID", "CanvasTools"]

CANVAS_ID = Annotated[
    str,
    Field(pattern=r"^F[A-Z0-9]{2,30}$", description="Canvas id (F0123ABCD), as in the canvas's link."),
]
CANVAS_TEXT_LIMIT = 40_000
_CANVAS_TYPES = frozenset({"quip", "canvas"})


def _is_canvas(file: dict[str, Any]) -> bool:
    return str(file.get("filetype") or "") in _CANVAS_TYPES or str(file.get("pretty_type") or "") == "Canvas"


class CanvasTools:
    """Reading canvases."""

    @tool(read_only=True, group="canvases", scopes=("files:read",))
    async def get_canvas(self, ctx: ToolContext, canvas_id: CANVAS_ID) -> Canvas:
        """Read a canvas (id starts with F): title, owner, dates, link and content as Markdown."""
        data = await _api.read(ctx, "files.info", {"file": canvas_id})
        file = obj(data.get("file"))
        if file and not _is_canvas(file):
            raise InvalidArguments(
                f"{canvas_id} is a file of type {file.get('pretty_type') or file.get('filetype')}, not a canvas",
                errors=[("canvas_id", "not a canvas")],
            )
        names = Names(ctx)
        owner = file.get("user")
        await names.resolve_users([owner] if isinstance(owner, str) else [])
        markdown: str | None = None
        cut = False
        url = file.get("url_private_download") or file.get("url_private")
        if isinstance(url, str) and url:
            response = await ctx.http.get(check_file_url(ctx, url))
            content_type = response.headers.get("content-type", "")
            text = response.text
            if "html" in content_type or text.lstrip().startswith("<"):
                text = html_to_markdown(text)
            markdown, cut = clip(text, CANVAS_TEXT_LIMIT, "open the canvas in Slack for the rest")
        return Canvas.from_api({**file, "id": canvas_id}, markdown=markdown, truncated=cut, users=names.user_names())
