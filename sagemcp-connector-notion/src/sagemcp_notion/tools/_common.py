"""What several tool groups share: argument types, page and schema look-ups, data-source resolution."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import Field

from sagemcp import ToolContext
from sagemcp.errors import InvalidArguments, UpstreamError

from .._properties import page_title

__all__ = [
    "MAX_MARKDOWN",
    "Markdown",
    "data_source_of_page",
    "get_data_source",
    "get_page",
    "related_titles",
    "resolve_data_source",
]

MAX_MARKDOWN = 200_000
"""Characters of Markdown one write takes (Notion caps a request at 1,000 blocks and 500 KB)."""

Markdown = Annotated[
    str,
    Field(
        max_length=MAX_MARKDOWN,
        description=(
            "GitHub-flavoured Markdown (to-dos, tables, `$$` equations); toggles as <details><summary>…</summary>…"
            '</details>, callouts as <aside icon="💡">…</aside>, mentions as <mention-page url="…">…</mention-page>, '
            '<mention-user url="user://id">…</mention-user>, <mention-date start="2026-01-05"/>.'
        ),
    ),
]

_RELATION_LOOKUPS = 10
"""Related pages looked up by title per call: enough for a page's relations, bounded for a table of rows."""


async def get_page(ctx: ToolContext, page_id: str) -> dict[str, Any]:
    """The page object of `page_id`."""
    return (await ctx.http.get(f"/v1/pages/{page_id}")).json_object()


async def get_data_source(ctx: ToolContext, data_source_id: str) -> dict[str, Any]:
    """The data source object (with its `properties` schema) of `data_source_id`."""
    return (await ctx.http.get(f"/v1/data_sources/{data_source_id}")).json_object()


def data_source_of_page(page: dict[str, Any]) -> str | None:
    """The data source a page is a row of, or None for a page under a page or the workspace."""
    parent = page.get("parent")
    found = parent.get("data_source_id") if isinstance(parent, dict) else None
    return found if isinstance(found, str) and found else None


async def resolve_data_source(ctx: ToolContext, data_source_id: str | None, database_id: str | None) -> str:
    """The data source to use: the one given, or the only one of the database given.

    A database with several data sources is an `InvalidArguments` listing them, so the model
    can choose; neither id is one too.
    """
    if data_source_id is not None:
        return data_source_id
    if database_id is None:
        raise InvalidArguments(
            "give data_source_id (or database_id of a database with one data source); notion_list_data_sources "
            "finds them",
            [("data_source_id", "missing")],
        )
    database = (await ctx.http.get(f"/v1/databases/{database_id}")).json_object()
    sources = [s for s in database.get("data_sources") or [] if isinstance(s, dict) and isinstance(s.get("id"), str)]
    if len(sources) == 1:
        return str(sources[0]["id"])
    if not sources:
        raise InvalidArguments(
            f"database {database_id} has no data source the integration can see", [("database_id", "no data source")]
        )
    listing = "; ".join(f"{s.get('name') or 'Untitled'}: {s['id']}" for s in sources)
    raise InvalidArguments(
        f"database {database_id} has {len(sources)} data sources ({listing}); pass the one you mean as data_source_id",
        [("database_id", "several data sources")],
    )


async def related_titles(ctx: ToolContext, ids: Iterable[str], budget: int = _RELATION_LOOKUPS) -> dict[str, str]:
    """Titles of up to `budget` related pages by id; pages the integration cannot read keep their id."""
    wanted = list(dict.fromkeys(ids))[:budget]

    async def one(page_id: str) -> tuple[str, str | None]:
        try:
            return page_id, page_title(await get_page(ctx, page_id)) or None
        except UpstreamError:
            return page_id, None

    found = await asyncio.gather(*(one(page_id) for page_id in wanted))
    return {page_id: title for page_id, title in found if title}
