"""`search` tools: find pages and data sources by title."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from sagemcp import Cursor, Limit, ToolContext, decode_cursor, encode_cursor, tool

from ..models import SearchHit, SearchResults

if TYPE_CHECKING:
    from ..connector import NotionConfig

__all__ = ["SearchTools", "search"]

Query = Annotated[
    str,
    Field(max_length=500, description="Words to find in titles; empty lists everything shared with the integration."),
]


async def search(
    ctx: ToolContext, query: str, kind: str | None, sort: str, limit: int, cursor: str | None
) -> SearchResults:
    """`POST /v1/search` for one page of results, with a cursor bound to the arguments that shape it."""
    bind = {"query": query, "kind": kind, "sort": sort}
    body: dict[str, Any] = {"page_size": limit, "sort": {"timestamp": "last_edited_time", "direction": sort}}
    if query:
        body["query"] = query
    if kind is not None:
        body["filter"] = {"property": "object", "value": kind}
    if cursor is not None:
        body["start_cursor"] = str(decode_cursor(cursor, bind=bind).get("start_cursor", ""))
    response = await ctx.http.post("/v1/search", json=body, idempotent=True)
    data = response.json_object()
    hits = [SearchHit.from_api(item) for item in response.json_list("results", of=dict)]
    token = data.get("next_cursor") if data.get("has_more") is True else None
    next_cursor = encode_cursor({"start_cursor": token}, bind=bind) if isinstance(token, str) and token else None
    return SearchResults(items=hits, next_cursor=next_cursor)


class SearchTools:
    """The `search` group."""

    @tool(read_only=True, group="search")
    async def search_pages(
        self,
        ctx: ToolContext[NotionConfig],
        query: Query = "",
        kind: Annotated[
            Literal["page", "data_source", "all"],
            Field(description="page, data_source (a database's table), or all (default)."),
        ] = "all",
        sort: Annotated[
            Literal["descending", "ascending"],
            Field(description="By last edit: descending (newest first, default) or ascending."),
        ] = "descending",
        limit: Annotated[int, Limit(maximum=100)] = 20,
        cursor: Cursor = None,
    ) -> SearchResults:
        """Search the pages and data sources shared with the integration by title (not content).

        Returns id, kind, title and last edit.
        """
        return await search(ctx, query, None if kind == "all" else kind, sort, limit, cursor)
