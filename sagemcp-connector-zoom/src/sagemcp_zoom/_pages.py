"""Zoom's pages: `page_size` and `next_page_token`, behind the tools' `limit` and opaque `cursor`.

Zoom returns `next_page_token` (an empty string on the last page; valid for 15 minutes) and
takes it back with the same query. The cursor keeps it, bound to the tool and to the
arguments that shape the listing, so a cursor is never replayed against another meeting.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from sagemcp import Limit, decode_cursor, encode_cursor

__all__ = ["DEFAULT_LIMIT", "LimitArg", "next_cursor", "offset_page", "page_params"]

DEFAULT_LIMIT = 20
LimitArg = Annotated[int, Limit(maximum=100)]
"""A page size (Zoom allows up to 300; 100 keeps a page well inside a model's budget)."""


def page_params(limit: int, cursor: str | None, bind: Mapping[str, Any]) -> dict[str, Any]:
    """`page_size`, and the `next_page_token` a cursor holds."""
    params: dict[str, Any] = {"page_size": limit}
    if cursor is not None:
        token = decode_cursor(cursor, bind=bind).get("t")
        if isinstance(token, str) and token:
            params["next_page_token"] = token
    return params


def next_cursor(data: Mapping[str, Any], bind: Mapping[str, Any]) -> str | None:
    """The cursor of the next page, or None on the last one."""
    token = data.get("next_page_token")
    return encode_cursor({"t": token}, bind=bind) if isinstance(token, str) and token else None


def offset_page(
    items: list[Any], limit: int, cursor: str | None, bind: Mapping[str, Any]
) -> tuple[list[Any], str | None]:
    """A page of a list Zoom returns whole (past instances, polls): `limit` items from the cursor's offset."""
    start = 0
    if cursor is not None:
        offset = decode_cursor(cursor, bind=bind).get("o")
        start = offset if isinstance(offset, int) and offset >= 0 else 0
    end = start + limit
    more = encode_cursor({"o": end}, bind=bind) if end < len(items) else None
    return items[start:end], more
