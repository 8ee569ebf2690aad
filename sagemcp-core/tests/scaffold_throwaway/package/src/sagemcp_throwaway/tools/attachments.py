"""The `items` tool that reads an item's attachment, which is kept on the file and media hosts.

Those two hosts are declared on the connector (`extra_origins`), so `ctx.http` sends them the
tenant's credential; `ctx.http` refuses any other host. The signed download link may be on any
host, and must not see the credential: it is fetched with `ctx.http.for_origin(...)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from sagemcp import ToolContext, clip, tool, validate_api_url
from sagemcp.errors import UpstreamBadResponse

from ..models import Attachment
from .items import ItemId

if TYPE_CHECKING:
    from ..connector import ThrowawayConfig

__all__ = ["TEXT_LIMIT", "AttachmentsTools"]

TEXT_LIMIT = 2_000
"""Characters of the attachment's text a result shows."""


# --8<-- [start:tool]
class AttachmentsTools:
    """Attachments, in the `items` group: they are part of the item resource."""

    @tool(read_only=True, group="items")
    async def get_item_attachment(self, ctx: ToolContext[ThrowawayConfig], item_id: ItemId) -> Attachment:
        """Get an item's attachment: its name, the start of its text and the sizes of its thumbnail and download.

        Use throwaway_list_items to find item ids; an item without an attachment says so.
        """
        item = (await ctx.http.get(f"/items/{item_id}")).json_object()
        found = item.get("attachment")
        if not isinstance(found, dict):
            return Attachment(item_id=item_id)
        content = await ctx.http.get(str(found.get("content_url")))
        thumbnail = await ctx.http.get(str(found.get("thumbnail_url")))
        download = await self._signed_download(ctx, str(found.get("download_url")))
        text, _ = clip(content.text, TEXT_LIMIT, "the whole file is on the item's web page")
        return Attachment.from_api(
            found,
            item_id=item_id,
            text=text,
            thumbnail_bytes=len(thumbnail.content),
            download_bytes=len(download),
        )

    async def _signed_download(self, ctx: ToolContext[ThrowawayConfig], url: str) -> bytes:
        """The bytes behind a signed link: https on a public host, and sent no credential."""
        try:
            parsed = httpx.URL(url)
            origin = validate_api_url(
                f"{parsed.scheme}://{parsed.netloc.decode()}", example="https://storage.example.com"
            )
        except (ValueError, httpx.InvalidURL):
            raise UpstreamBadResponse(
                "Throwaway returned a download link that is not an https URL on a public host; not fetched.",
                provider="throwaway",
            ) from None
        return (await ctx.http.for_origin(origin).get(url)).content


# --8<-- [end:tool]
