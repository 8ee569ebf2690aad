"""Slack pagination behind sagemcp's opaque `limit` / `cursor`.

Slack pages most lists with `cursor` + `limit` and answers `response_metadata.next_cursor`
(empty on the last page); `search.messages` pages with `page` + `count`; a few methods
(`pins.list`, `bookmarks.list`, `usergroups.list`) return everything at once and are
paged here by offset. Our cursor is a core cursor (bound to the tool that made it, so a
cursor handed to another tool is refused) holding a small dict: Slack's cursor, a page
number or an offset, and the fixed parameters such as the history window, so that page
two covers the same time range as page one. `read_cursor` checks each key's type.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sagemcp import decode_cursor, encode_cursor
from sagemcp.errors import InvalidCursor

__all__ = [
    "MAX_LIMIT",
    "PAGE_BUDGET",
    "fit_budget",
    "make_cursor",
    "read_cursor",
    "search_paging",
    "slack_next_cursor",
]

MAX_LIMIT = 100
PAGE_BUDGET = 60_000
"""Characters of rendered items in one page (about 15,000 tokens); the rest goes to the next page."""

_MAX_VALUE = 2048
_TS_RE = re.compile(r"^[0-9]{9,10}(\.[0-9]{1,6})?$")
_SIMPLE_KEYS = {"c", "q", "types", "sort"}
_INT_KEYS = {"p", "o", "n"}
_TS_KEYS = {"oldest", "latest", "after"}
_BOOL_KEYS = {"x", "inc"}

T = TypeVar("T")


def _bad(reason: str) -> InvalidCursor:
    return InvalidCursor(
        f"this cursor is not valid ({reason}): pass the next_cursor of the previous page of the same tool "
        "unchanged, or call the tool again without a cursor to start over",
        reason,
    )


def make_cursor(**state: Any) -> str:
    """A cursor for the running tool holding `state` (None values left out)."""
    return encode_cursor({key: value for key, value in state.items() if value is not None})


def read_cursor(cursor: str | None) -> dict[str, Any] | None:
    """The state inside a cursor the running tool made with `make_cursor`; None without a cursor."""
    if cursor is None:
        return None
    data = decode_cursor(cursor)
    for key, value in data.items():
        if key in _INT_KEYS:
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 1_000_000:
                raise _bad(f"{key} must be a small non-negative integer")
        elif key in _TS_KEYS:
            if not isinstance(value, str) or not _TS_RE.match(value):
                raise _bad(f"{key} must be a Slack timestamp")
        elif key in _BOOL_KEYS:
            if not isinstance(value, bool):
                raise _bad(f"{key} must be true or false")
        elif key in _SIMPLE_KEYS:
            if not isinstance(value, str) or len(value) > _MAX_VALUE:
                raise _bad(f"{key} must be a short string")
        else:
            raise _bad(f"unknown key {key!r}")
    return data


def slack_next_cursor(data: dict[str, Any]) -> str | None:
    """Slack's `response_metadata.next_cursor`, None on the last page."""
    meta = data.get("response_metadata")
    value = meta.get("next_cursor") if isinstance(meta, dict) else None
    return value if isinstance(value, str) and value else None


def search_paging(data: dict[str, Any]) -> tuple[list[dict[str, Any]], int | None, int | None]:
    """search.messages' matches, its number of pages and its total number of matches (None when not said)."""
    block = data.get("messages")
    block = block if isinstance(block, dict) else {}
    matches = [m for m in block.get("matches") or () if isinstance(m, dict)]
    paging = block.get("paging")
    paging = paging if isinstance(paging, dict) else {}
    pages, total = paging.get("pages"), paging.get("total")
    return matches, pages if isinstance(pages, int) else None, total if isinstance(total, int) else None


def fit_budget(items: Sequence[T], size: Callable[[T], int], budget: int = PAGE_BUDGET) -> tuple[list[T], bool]:
    """The leading items whose sizes fit in `budget` (at least one), and whether any were left out."""
    kept: list[T] = []
    used = 0
    for item in items:
        used += size(item)
        if kept and used > budget:
            return kept, True
        kept.append(item)
    return kept, False
