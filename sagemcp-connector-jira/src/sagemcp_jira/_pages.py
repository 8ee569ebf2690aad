"""Jira's two pagination styles behind opaque cursors.

Most list endpoints are offset-based (`startAt` + `maxResults`, answered with `startAt`,
`maxResults`, `total` and, on newer endpoints, `isLast`); the enhanced JQL search returns a
`nextPageToken` instead. Either way the tool's cursor holds what the next request needs, bound
to the tool and to the arguments that shape the listing, so a cursor from another query is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sagemcp import decode_cursor, encode_cursor

__all__ = ["local_page", "next_offset_cursor", "start_at"]


def start_at(cursor: str | None, bind: Mapping[str, Any] | None = None) -> int:
    """The `startAt` a cursor asks for (0 without one)."""
    if cursor is None:
        return 0
    value = decode_cursor(cursor, bind=bind).get("start")
    return value if isinstance(value, int) and value >= 0 else 0


def next_offset_cursor(
    data: Mapping[str, Any], start: int, shown: int, bind: Mapping[str, Any] | None = None
) -> str | None:
    """The cursor of the page after one that started at `start` and held `shown` items, or None at the end."""
    if shown == 0 or data.get("isLast") is True:
        return None
    total = data.get("total")
    following = start + shown
    if isinstance(total, int) and not isinstance(total, bool) and following >= total:
        return None
    if data.get("isLast") is None and not isinstance(total, int):
        # Neither a total nor isLast: a short page is the last one.
        limit = data.get("maxResults")
        if isinstance(limit, int) and shown < limit:
            return None
    return encode_cursor({"start": following}, bind=bind)


def local_page(items: list[Any], cursor: str | None, limit: int, bind: dict[str, Any]) -> tuple[list[Any], str | None]:
    """One page of a list Jira answered whole, and the cursor of the next."""
    start = start_at(cursor, bind)
    window = items[start : start + limit]
    following = start + len(window)
    return window, encode_cursor({"start": following}, bind=bind) if following < len(items) else None
