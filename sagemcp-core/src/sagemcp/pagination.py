"""Helpers for list tools: opaque cursors, `Link` headers, page-size limits and `Page`.

A cursor is whatever a tool needs to fetch the next page (an upstream page token,
a next URL, an offset), encoded as URL-safe base64 of compact JSON so that MCP
clients treat it as opaque and pass it back unchanged.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from .errors import InvalidArguments
from .upstream import UpstreamResponse

__all__ = ["MAX_CURSOR_LENGTH", "Page", "clamp_limit", "decode_cursor", "encode_cursor", "next_link"]

MAX_CURSOR_LENGTH = 8192

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list tool's result; pass `next_cursor` back to get the next page.

    `truncated` says the page holds fewer items than the upstream returned (a size cap applied).
    """

    items: list[T]
    next_cursor: str | None = None
    truncated: bool = False


def encode_cursor(data: dict[str, Any]) -> str:
    """An opaque cursor for `data` (a JSON-serialisable dict)."""
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=False, allow_nan=False)
    return base64.urlsafe_b64encode(raw.encode("utf-8")).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> dict[str, Any]:
    """The dict inside a cursor made by `encode_cursor`; `InvalidArguments` for anything else."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.b64decode(padded, altchars=b"-_", validate=True).decode("utf-8"))
    except (ValueError, TypeError, binascii.Error):
        data = None
    if not isinstance(data, dict):
        raise InvalidArguments(
            "cursor is not valid: pass the next_cursor of the previous page unchanged, or leave it out to start over",
            errors=[("cursor", "not a cursor returned by this tool")],
        )
    return data


def next_link(response: UpstreamResponse) -> str | None:
    """The absolute URL of the `Link: <...>; rel="next"` page, if the response has one."""
    return response.links.get("next")


def clamp_limit(limit: int | None, default: int, maximum: int) -> int:
    """The page size to ask for: `default` when not given, at most `maximum`."""
    if limit is None:
        return min(default, maximum)
    if limit < 1:
        raise InvalidArguments(f"limit must be at least 1, got {limit}", errors=[("limit", "must be at least 1")])
    return min(limit, maximum)
