"""Argument types and helpers shared by the tool groups."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from sagemcp import ToolContext, decode_cursor, encode_cursor

from .._services import Api, api_url

if TYPE_CHECKING:
    from ..connector import GoogleConfig

__all__ = [
    "FileId",
    "MaxChars",
    "Offset",
    "config_of",
    "next_page",
    "page_token",
    "url",
]

FileId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="From its URL or google_search_files.",
    ),
]
MaxChars = Annotated[int, Field(ge=500, le=100_000, description="Characters of content at most.")]
Offset = Annotated[int, Field(ge=0, le=50_000_000, description="Characters to skip: where the last result stopped.")]


def config_of(ctx: ToolContext[GoogleConfig]) -> GoogleConfig | None:
    """The tenant's configuration (None in the rare call made without one)."""
    from ..connector import GoogleConfig

    return ctx.config if isinstance(ctx.config, GoogleConfig) else None


def url(ctx: ToolContext[GoogleConfig], api: Api, path: str) -> str:
    """The absolute URL of a method of `api` for this tenant."""
    return api_url(config_of(ctx), api, path)


def page_token(cursor: str | None, bind: dict[str, Any] | None = None) -> str | None:
    """The upstream page token inside a cursor this tool made (None for the first page)."""
    if cursor is None:
        return None
    token = decode_cursor(cursor, bind=bind).get("page_token")
    return token if isinstance(token, str) and token else None


def next_page(data: dict[str, Any], bind: dict[str, Any] | None = None, key: str = "nextPageToken") -> str | None:
    """The cursor for the page after `data`, from Google's `nextPageToken`, or None."""
    token = data.get(key)
    return encode_cursor({"page_token": token}, bind=bind) if isinstance(token, str) and token else None
