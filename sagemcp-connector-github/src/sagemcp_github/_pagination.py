"""GitHub pagination behind sagemcp's opaque cursors.

GitHub pages with `per_page` and `page` (or, on a few endpoints such as Dependabot
alerts, `before`/`after` cursors) and announces the next page in the `Link` header.
A cursor here holds the pagination part of that next URL's query (`page`, `per_page`,
`after`, ...), in a core cursor bound to the tool that returned it; the page size is
fixed by the cursor, so a later `limit` cannot shift the pages. Lists that GitHub
returns whole (a Git tree, a directory) are paged here with an `offset` cursor.
"""

from __future__ import annotations

from typing import Any

import httpx

from sagemcp import UpstreamResponse, decode_cursor, encode_cursor
from sagemcp.errors import InvalidCursor

from ._params import MAX_PER_PAGE

__all__ = ["next_cursor", "offset_cursor", "page_params", "read_offset"]

_KEYS = frozenset({"page", "per_page", "after", "before"})
_INT_KEYS = frozenset({"page", "per_page"})


def _bad_cursor(reason: str) -> InvalidCursor:
    return InvalidCursor(
        f"this cursor holds {reason}: pass the next_cursor of the previous page unchanged, or call the tool again "
        "without a cursor to start over",
        reason,
    )


def page_params(limit: int, cursor: str | None, *, maximum: int = MAX_PER_PAGE) -> dict[str, Any]:
    """Query parameters for one page: `per_page` from `limit`, or everything the cursor holds."""
    if cursor is None:
        return {"per_page": min(limit, maximum)}
    params: dict[str, Any] = {}
    for key, value in decode_cursor(cursor).items():
        if key not in _KEYS:
            raise _bad_cursor(f"an unknown key {key!r}")
        if key in _INT_KEYS:
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100_000:
                raise _bad_cursor(f"a {key} that is not a positive integer")
        elif not isinstance(value, str) or len(value) > 1024:
            raise _bad_cursor(f"an {key} that is not a short string")
        params[key] = value
    per_page = params.get("per_page")
    params["per_page"] = min(per_page if isinstance(per_page, int) else limit, maximum)
    return params


def next_cursor(response: UpstreamResponse) -> str | None:
    """The cursor for the page after `response`, from its `Link: <...>; rel="next"` header; None on the last page."""
    url = response.links.get("next")
    if not url:
        return None
    try:
        query = httpx.URL(url).params
    except httpx.InvalidURL:
        return None
    data: dict[str, Any] = {}
    for key in sorted(_KEYS):
        if key not in query:
            continue
        value = query[key]
        if key in _INT_KEYS:
            if not value.isdigit():
                return None
            data[key] = int(value)
        else:
            data[key] = value
    return encode_cursor(data) if data else None


def offset_cursor(offset: int, total: int) -> str | None:
    """A cursor for a list paged here (not by GitHub); None when `offset` is past the end."""
    return encode_cursor({"offset": offset}) if offset < total else None


def read_offset(cursor: str | None) -> int:
    """The offset inside a cursor made by `offset_cursor` (0 without a cursor)."""
    if cursor is None:
        return 0
    data = decode_cursor(cursor)
    offset = data.get("offset")
    if set(data) != {"offset"} or not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise _bad_cursor("no offset")
    return offset
