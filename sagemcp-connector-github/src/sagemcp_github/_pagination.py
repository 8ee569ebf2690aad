"""GitHub pagination behind sagemcp's opaque cursors.

GitHub pages with `per_page` and `page` (or, on a few endpoints such as Dependabot
alerts, `before`/`after` cursors) and announces the next page in the `Link` header.
A cursor here is the pagination part of that next URL's query (`page`, `per_page`,
`after`, ...), encoded with `sagemcp.pagination.encode_cursor`; the page size is
fixed by the cursor, so a later `limit` cannot shift the pages. Lists that GitHub
returns whole (a Git tree, a directory) are paged here with an `offset` cursor.
"""

from __future__ import annotations

from typing import Any

import httpx

from sagemcp.errors import InvalidArguments
from sagemcp.pagination import clamp_limit, decode_cursor, encode_cursor
from sagemcp.upstream import UpstreamResponse

__all__ = ["DEFAULT_LIMIT", "MAX_PER_PAGE", "next_cursor", "offset_cursor", "page_params", "read_offset"]

DEFAULT_LIMIT = 20
MAX_PER_PAGE = 100
_KEYS = frozenset({"page", "per_page", "after", "before"})
_INT_KEYS = frozenset({"page", "per_page"})


def _bad_cursor(reason: str) -> InvalidArguments:
    return InvalidArguments(
        "cursor is not valid: pass the next_cursor of the previous page unchanged, or leave it out to start over",
        errors=[("cursor", reason)],
    )


def page_params(limit: int | None, cursor: str | None, *, maximum: int = MAX_PER_PAGE) -> dict[str, Any]:
    """Query parameters for one page: `per_page` from `limit`, or everything the cursor holds."""
    if cursor is None:
        return {"per_page": clamp_limit(limit, DEFAULT_LIMIT, maximum)}
    data = decode_cursor(cursor)
    params: dict[str, Any] = {}
    for key, value in data.items():
        if key not in _KEYS:
            raise _bad_cursor(f"unknown key {key!r}")
        if key in _INT_KEYS:
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100_000:
                raise _bad_cursor(f"{key} must be a positive integer")
        elif not isinstance(value, str) or len(value) > 1024:
            raise _bad_cursor(f"{key} must be a short string")
        params[key] = value
    per_page = params.get("per_page")
    params["per_page"] = (
        min(per_page, maximum) if isinstance(per_page, int) else clamp_limit(limit, DEFAULT_LIMIT, maximum)
    )
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
        raise _bad_cursor("not a cursor returned by this tool")
    return offset
