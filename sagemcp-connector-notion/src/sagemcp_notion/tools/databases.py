"""`databases` tools (Notion-Version 2025-09-03): databases, their data sources, queries, schemas, templates.

Since 2025-09-03 a database is a container of one or more data sources; a data source has
the property schema and the rows (pages). Tools that query or shape rows take a
`data_source_id`, or a `database_id` when that database has exactly one data source (with
several, the error lists them so the model can choose).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from sagemcp import Cursor, Limit, ToolContext, decode_cursor, encode_cursor, tool
from sagemcp.errors import InvalidArguments

from .._filters import check_filter, check_sorts
from .._ids import DatabaseId, DataSourceId, NotionId
from .._properties import find_property, property_config, relation_ids
from .._richtext import rich_text_from_markdown
from ..models import Database, DataSource, PageRow, QueryResult, SearchResults, Template, TemplateList
from ._common import get_data_source, related_titles, resolve_data_source
from .search import search

if TYPE_CHECKING:
    from ..connector import NotionConfig

__all__ = ["DatabaseTools"]

_DEFAULT_COLUMNS = 6

OptionalDataSource = Annotated[
    DataSourceId | None,
    Field(description="The data source (id or URL); or give database_id for a database with one data source."),
]
OptionalDatabase = Annotated[
    DatabaseId | None,
    Field(description="A database with a single data source, instead of data_source_id."),
]
SchemaSpec = Annotated[
    dict[str, Any],
    Field(
        max_length=100,
        description=(
            'Properties by name: {"type": "select", "options": ["A", "B"]}, {"type": "number", "format": '
            '"dollar"}, {"type": "date"}, {"type": "relation", "data_source_id": "…"}, {"type": '
            '"formula", "expression": "…"}, or Notion\'s own property configuration.'
        ),
    ),
]


def _hash_filter(filter_: Any, sorts: Any) -> str:
    import hashlib
    import json

    return hashlib.sha256(json.dumps([filter_, sorts], sort_keys=True, default=str).encode()).hexdigest()[:16]


class DatabaseTools:
    """The `databases` group."""

    @tool(read_only=True, group="databases")
    async def list_data_sources(
        self,
        ctx: ToolContext[NotionConfig],
        query: Annotated[str, Field(max_length=500, description="Words in the title; empty lists all.")] = "",
        limit: Annotated[int, Limit(maximum=100)] = 20,
        cursor: Cursor = None,
    ) -> SearchResults:
        """List the data sources (database tables) shared with the integration, by title.

        Query one with notion_query_data_source; its schema: notion_get_data_source.
        """
        return await search(ctx, query, "data_source", "descending", limit, cursor)

    @tool(read_only=True, group="databases")
    async def get_database(self, ctx: ToolContext[NotionConfig], database_id: DatabaseId) -> Database:
        """Get a database: its title, parent and data sources (a database may hold several)."""
        return Database.from_api((await ctx.http.get(f"/v1/databases/{database_id}")).json_object())

    @tool(read_only=True, group="databases")
    async def get_data_source(
        self,
        ctx: ToolContext[NotionConfig],
        data_source_id: OptionalDataSource = None,
        database_id: OptionalDatabase = None,
    ) -> DataSource:
        """Get a data source's schema: each property's name, type, options and relations.

        Use it before querying (filters name properties) or adding rows.
        """
        source = await resolve_data_source(ctx, data_source_id, database_id)
        return DataSource.from_api(await get_data_source(ctx, source))

    @tool(read_only=True, group="databases")
    async def query_data_source(
        self,
        ctx: ToolContext[NotionConfig],
        data_source_id: OptionalDataSource = None,
        database_id: OptionalDatabase = None,
        filter: Annotated[
            dict[str, Any] | None,
            Field(
                description=(
                    'Notion\'s filter object, e.g. {"property": "Status", "status": {"equals": "Done"}}, '
                    '{"and": [...]} / {"or": [...]}, or {"timestamp": "created_time", "created_time": '
                    '{"past_week": {}}}; checked against the schema before sending.'
                )
            ),
        ] = None,
        sorts: Annotated[
            list[dict[str, Any]] | None,
            Field(
                max_length=20,
                description='Notion\'s sorts: [{"property": "Due", "direction": "ascending"}] or '
                '[{"timestamp": "last_edited_time", "direction": "descending"}].',
            ),
        ] = None,
        properties: Annotated[
            list[str] | None,
            Field(max_length=25, description="Properties to show as columns (default: the first six)."),
        ] = None,
        limit: Annotated[int, Limit(maximum=100)] = 25,
        cursor: Cursor = None,
    ) -> QueryResult:
        """Query a data source's rows with Notion's filter and sort objects; properties as text.

        Filters the schema does not allow are refused before sending, saying what is valid.
        """
        source = await resolve_data_source(ctx, data_source_id, database_id)
        schema_obj = (await get_data_source(ctx, source)).get("properties")
        schema: dict[str, Any] = schema_obj if isinstance(schema_obj, dict) else {}
        body: dict[str, Any] = {"page_size": limit}
        if filter is not None:
            body["filter"] = check_filter(filter, schema)
        if sorts:
            body["sorts"] = check_sorts(sorts, schema)
        if properties:
            columns = [find_property(schema, name, f"properties[{i}]")[0] for i, name in enumerate(properties)]
        else:
            columns = [name for name, prop in schema.items() if isinstance(prop, dict) and prop.get("type") != "title"]
            columns = columns[:_DEFAULT_COLUMNS]
        bind = {"data_source_id": source, "query": _hash_filter(body.get("filter"), body.get("sorts"))}
        if cursor is not None:
            body["start_cursor"] = str(decode_cursor(cursor, bind=bind).get("start_cursor", ""))
        wanted = [str(schema[name].get("id")) for name in columns if schema[name].get("id")]
        wanted += [str(p.get("id")) for p in schema.values() if isinstance(p, dict) and p.get("type") == "title"]
        params = {"filter_properties": wanted} if properties else None
        response = await ctx.http.post(f"/v1/data_sources/{source}/query", json=body, params=params, idempotent=True)
        data = response.json_object()
        pages = [item for item in response.json_list("results", of=dict) if item.get("object") == "page"]
        titles = await related_titles(ctx, [i for page in pages for i in relation_ids(page)])
        rows = [PageRow.from_api(page, titles) for page in pages]
        for row in rows:
            row.values = {name: row.values.get(name, "") for name in columns}
        token = data.get("next_cursor") if data.get("has_more") is True else None
        next_cursor = encode_cursor({"start_cursor": token}, bind=bind) if isinstance(token, str) and token else None
        return QueryResult(items=rows, next_cursor=next_cursor, data_source_id=source, columns=columns)

    @tool(read_only=True, group="databases")
    async def list_data_source_templates(
        self,
        ctx: ToolContext[NotionConfig],
        data_source_id: OptionalDataSource = None,
        database_id: OptionalDatabase = None,
        limit: Annotated[int, Limit(maximum=100)] = 25,
        cursor: Cursor = None,
    ) -> TemplateList:
        """List a data source's page templates; pass a template's id to notion_create_page."""
        source = await resolve_data_source(ctx, data_source_id, database_id)
        params: dict[str, Any] = {"page_size": limit}
        if cursor is not None:
            params["start_cursor"] = str(decode_cursor(cursor, bind={"source": source}).get("start_cursor", ""))
        response = await ctx.http.get(f"/v1/data_sources/{source}/templates", params=params)
        data = response.json_object()
        templates = [Template.from_api(item) for item in response.json_list("templates", of=dict)]
        token = data.get("next_cursor") if data.get("has_more") is True else None
        next_cursor = (
            encode_cursor({"start_cursor": token}, bind={"source": source})
            if isinstance(token, str) and token
            else None
        )
        return TemplateList(items=templates, next_cursor=next_cursor)

    @tool(read_only=False, group="databases", destructive=False, idempotent=False)
    async def create_database(
        self,
        ctx: ToolContext[NotionConfig],
        parent_page_id: Annotated[NotionId, Field(description="The page to create the database in.")],
        title: Annotated[str, Field(min_length=1, max_length=2000, description="The database's title.")],
        properties: SchemaSpec,
        inline: Annotated[bool, Field(description="Show it inline in the page (default: as a full page).")] = False,
    ) -> Database:
        """Create a database in a page, with its first data source's schema.

        Add rows with notion_create_page(data_source_id=...) from the result.
        """
        configs = {name: property_config(name, spec, f"properties.{name}") for name, spec in properties.items()}
        if not any("title" in config for config in configs.values()):
            configs = {"Name": {"title": {}}, **configs}
        body = {
            "parent": {"type": "page_id", "page_id": parent_page_id},
            "title": rich_text_from_markdown(title),
            "is_inline": inline,
            "initial_data_source": {"properties": configs},
        }
        return Database.from_api((await ctx.http.post("/v1/databases", json=body)).json_object())

    @tool(read_only=False, group="databases", destructive=True, idempotent=True)
    async def update_data_source(
        self,
        ctx: ToolContext[NotionConfig],
        data_source_id: DataSourceId,
        properties: Annotated[
            dict[str, Any] | None,
            Field(
                max_length=100,
                description=(
                    'Schema changes by property name: a new name with a spec adds it ({"type": "select", '
                    '"options": [...]}), an existing one changes it ({"name": "New name"} renames), null '
                    "removes it."
                ),
            ),
        ] = None,
        title: Annotated[str | None, Field(max_length=2000, description="A new title for the data source.")] = None,
    ) -> DataSource:
        """Add, change, rename or remove a data source's properties, or change its title.

        Removing a property deletes its values in every row.
        """
        if not properties and title is None:
            raise InvalidArguments("nothing to change: give properties or title", [("properties", "empty")])
        body: dict[str, Any] = {}
        if title is not None:
            body["title"] = rich_text_from_markdown(title)
        if properties:
            schema_obj = (await get_data_source(ctx, data_source_id)).get("properties")
            schema: dict[str, Any] = schema_obj if isinstance(schema_obj, dict) else {}
            changes: dict[str, Any] = {}
            for name, spec in properties.items():
                where = f"properties.{name}"
                exists = name in schema or any(name.casefold() == k.casefold() for k in schema)
                if spec is None:
                    key, _ = find_property(schema, name, where)
                    changes[key] = None
                elif not isinstance(spec, dict):
                    raise InvalidArguments(f"{where}: give a spec object or null", [(where, "not an object")])
                elif exists:
                    key, _ = find_property(schema, name, where)
                    changes[key] = property_config(key, spec, where)
                else:
                    if "type" not in spec and not any(k in spec for k in ("title", "select", "rich_text", "number")):
                        raise InvalidArguments(
                            f"{where}: {name!r} is a new property; give its type",
                            [(where, "new property needs a type")],
                        )
                    changes[name] = property_config(name, spec, where)
            body["properties"] = changes
        updated = await ctx.http.patch(f"/v1/data_sources/{data_source_id}", json=body)
        return DataSource.from_api(updated.json_object())
