"""Notion object ids as tool arguments: a UUID with or without dashes, or a Notion URL that ends in one.

Every id a tool puts in a path is normalised here to the dashed lower-case UUID, so nothing
but hex digits and dashes ever reaches a URL path, whatever a model sends.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

__all__ = [
    "ID_INPUT_PATTERN",
    "BlockId",
    "DataSourceId",
    "DatabaseId",
    "NotionId",
    "PageId",
    "UserId",
    "dashed",
    "url_of",
]

_HEX32 = re.compile(r"(?<![0-9a-fA-F])([0-9a-fA-F]{32})(?![0-9a-fA-F])")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

ID_INPUT_PATTERN = r"^(?:[0-9a-fA-F-]{32,36}|https://[^\s]{1,2000})$"
"""What an id argument may look like before it is normalised: a UUID, or an https Notion link to the object."""


def dashed(value: str) -> str:
    """The canonical dashed lower-case form of a Notion id found in `value` (a UUID or a Notion URL).

    Raises `ValueError` (shown to the model as an argument error) when there is no id in it.
    """
    text = value.strip()
    if text.startswith("https://"):
        # A link such as https://www.notion.so/Title-0123...cdef?pvs=4 or .../0123...#block: the last id wins.
        path = text.split("?", 1)[0].split("#", 1)[0]
        found = _UUID.findall(path) or _HEX32.findall(path)
        if not found:
            raise ValueError("no Notion id in this link; pass the 32-character id or the page's full Notion URL")
        text = found[-1]
    if _UUID.fullmatch(text):
        return text.lower()
    compact = text.replace("-", "")
    if len(compact) == 32 and re.fullmatch(r"[0-9a-fA-F]{32}", compact):
        h = compact.lower()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    raise ValueError("not a Notion id: expected 32 hex digits (dashes allowed) or a Notion URL ending in one")


def url_of(object_id: str) -> str:
    """The notion.so URL of a page, database or block id (Notion redirects it to the object)."""
    return f"https://www.notion.so/{object_id.replace('-', '')}"


NotionId = Annotated[
    str,
    Field(min_length=32, max_length=2000, pattern=ID_INPUT_PATTERN),
    AfterValidator(dashed),
]
"""An id of any Notion object; give the parameter its own description."""

_ANY = "or Notion URL"
_MIN, _MAX = 32, 2000

PageId = Annotated[
    str,
    Field(
        min_length=_MIN,
        max_length=_MAX,
        pattern=ID_INPUT_PATTERN,
        description=f"Page id {_ANY} (notion_search_pages).",
    ),
    AfterValidator(dashed),
]
BlockId = Annotated[
    str,
    Field(
        min_length=_MIN,
        max_length=_MAX,
        pattern=ID_INPUT_PATTERN,
        description=f"Block id {_ANY}; a page's id is also its content's block id.",
    ),
    AfterValidator(dashed),
]
DatabaseId = Annotated[
    str,
    Field(
        min_length=_MIN,
        max_length=_MAX,
        pattern=ID_INPUT_PATTERN,
        description=f"Database id {_ANY}.",
    ),
    AfterValidator(dashed),
]
DataSourceId = Annotated[
    str,
    Field(
        min_length=_MIN,
        max_length=_MAX,
        pattern=ID_INPUT_PATTERN,
        description=f"Data source id {_ANY} (notion_get_database).",
    ),
    AfterValidator(dashed),
]
UserId = Annotated[
    str,
    Field(
        min_length=_MIN,
        max_length=_MAX,
        pattern=ID_INPUT_PATTERN,
        description=f"User id {_ANY} (notion_list_users).",
    ),
    AfterValidator(dashed),
]
