"""What the tools return: small models converted from the API's JSON by `from_api`.

A model keeps what a model needs to answer and to make the next call (ids, names, states, dates,
links), not the raw API JSON. Results render as compact Markdown (`to_markdown`), which is the
tool result's text; `structuredContent` keeps the data, so the same JSON is not sent twice.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from sagemcp import Page
from sagemcp.markdown import page_table

__all__ = ["Attachment", "Item", "ItemList"]


# --8<-- [start:item]
class Item(BaseModel):
    """One item of the account."""

    id: str
    name: str
    state: str | None = None
    updated_at: str | None = Field(default=None, description="When it last changed (ISO 8601, as the API sends it).")
    url: str | None = Field(default=None, description="The item's web page.")

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Item:
        """An item from the API's JSON (`GET /items/{item_id}`, or one entry of `GET /items`)."""
        return cls(
            id=str(data.get("id", "")),
            name=str(data.get("name") or ""),
            state=_text(data.get("state")),
            updated_at=_text(data.get("updated_at")),
            url=_text(data.get("html_url")),
        )

    def to_markdown(self) -> str:
        lines = [f"**{self.name}** (id `{self.id}`)"]
        if self.state:
            lines.append(f"State: {self.state}")
        if self.updated_at:
            lines.append(f"Updated: {self.updated_at}")
        if self.url:
            lines.append(f"URL: {self.url}")
        return "\n".join(lines)


class ItemList(Page[Item]):
    """A page of items; pass `next_cursor` back as `cursor` for the next page."""

    def to_markdown(self) -> str:
        return page_table(self, ["id", "name", "state", ("updated", "updated_at")], title="Items")


# --8<-- [end:item]


class Attachment(BaseModel):
    """An item's attachment: the start of its text, and the sizes of its thumbnail and download."""

    item_id: str
    name: str | None = Field(default=None, description="The file name; none when the item has no attachment.")
    text: str | None = Field(default=None, description="The start of the file's text, marked where it was cut.")
    thumbnail_bytes: int | None = None
    download_bytes: int | None = None

    @classmethod
    def from_api(
        cls, data: dict[str, Any], *, item_id: str, text: str, thumbnail_bytes: int, download_bytes: int
    ) -> Attachment:
        """An attachment from the item's `attachment` object and what its three links returned."""
        return cls(
            item_id=item_id,
            name=_text(data.get("name")) or "attachment",
            text=text,
            thumbnail_bytes=thumbnail_bytes,
            download_bytes=download_bytes,
        )

    def to_markdown(self) -> str:
        if self.name is None:
            return f"Item `{self.item_id}` has no attachment."
        sizes = f"Thumbnail: {self.thumbnail_bytes or 0:,} bytes; download: {self.download_bytes or 0:,} bytes"
        return f"**{self.name}** (attachment of item `{self.item_id}`)\n{sizes}\n\n{self.text or ''}"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
