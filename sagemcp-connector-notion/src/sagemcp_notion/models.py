"""What the tools return: small models converted from Notion's JSON by `from_api`, rendered as Markdown.

A model keeps what a model needs to answer and to make the next call (ids, titles, URLs,
dates, property values as short text, content as Markdown), not the raw API JSON. The
Markdown (`to_markdown`) is the tool result's text; `structuredContent` keeps the data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from sagemcp import Page
from sagemcp.markdown import bullets, cell, page_footer, page_table, table

from ._ids import url_of
from ._properties import page_title, render_value, schema_details
from ._richtext import inline_markdown, plain_text

__all__ = [
    "Block",
    "BlockList",
    "BotUser",
    "Comment",
    "CommentList",
    "ContentWritten",
    "DataSource",
    "DataSourceRef",
    "Database",
    "PageContent",
    "PageDetails",
    "PageMoved",
    "PageRow",
    "PageWritten",
    "PropertyValue",
    "QueryResult",
    "SchemaProperty",
    "SearchHit",
    "SearchResults",
    "Template",
    "TemplateList",
    "User",
    "UserList",
]


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _parent(data: Mapping[str, Any]) -> str | None:
    """`page 1234…`, `data_source 1234…`, `workspace`: where an object lives."""
    parent = _obj(data.get("parent"))
    kind = parent.get("type")
    if kind == "workspace":
        return "workspace"
    if isinstance(kind, str) and isinstance(parent.get(kind), str):
        return f"{kind.removesuffix('_id')} {parent[kind]}"
    return None


def _icon(data: Mapping[str, Any]) -> str | None:
    icon = _obj(data.get("icon"))
    if icon.get("type") == "emoji":
        return _text(icon.get("emoji"))
    return None


class PropertyValue(BaseModel):
    """One property of a page: its name, type and value as short text."""

    name: str
    type: str
    value: str = ""


def properties_of(page: Mapping[str, Any], titles: Mapping[str, str] | None = None) -> list[PropertyValue]:
    """The properties of a page, the title first."""
    found = [
        PropertyValue(name=name, type=str(value.get("type") or ""), value=render_value(value, titles))
        for name, value in _obj(page.get("properties")).items()
        if isinstance(value, dict)
    ]
    return sorted(found, key=lambda prop: prop.type != "title")


class SearchHit(BaseModel):
    """A page or data source found by notion_search_pages."""

    id: str
    object: str = Field(description="page or data_source.")
    title: str
    url: str | None = None
    parent: str | None = Field(
        default=None, description="Where it lives: `page <id>`, `data_source <id>`, `workspace`."
    )
    last_edited_time: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> SearchHit:
        return cls(
            id=str(data.get("id") or ""),
            object=str(data.get("object") or "page"),
            title=page_title(data) or "Untitled",
            url=_text(data.get("url")),
            parent=_parent(data),
            last_edited_time=_text(data.get("last_edited_time")),
        )


class SearchResults(Page[SearchHit]):
    """A page of search results; pass `next_cursor` back as `cursor` for more."""

    def to_markdown(self) -> str:
        return page_table(
            self,
            ["title", ("kind", "object"), "id", ("edited", "last_edited_time")],
            title="Found",
            empty="Nothing found: the integration sees only the pages shared with it.",
        )


class PageDetails(BaseModel):
    """A page and its properties."""

    id: str
    title: str
    url: str | None = None
    icon: str | None = None
    parent: str | None = None
    data_source_id: str | None = Field(default=None, description="The data source the page is a row of, if any.")
    created_time: str | None = None
    last_edited_time: str | None = None
    in_trash: bool = False
    properties: list[PropertyValue] = Field(default_factory=list)

    @classmethod
    def from_api(cls, data: Mapping[str, Any], titles: Mapping[str, str] | None = None) -> PageDetails:
        parent = _obj(data.get("parent"))
        return cls(
            id=str(data.get("id") or ""),
            title=page_title(data) or "Untitled",
            url=_text(data.get("url")),
            icon=_icon(data),
            parent=_parent(data),
            data_source_id=_text(parent.get("data_source_id")),
            created_time=_text(data.get("created_time")),
            last_edited_time=_text(data.get("last_edited_time")),
            in_trash=data.get("in_trash") is True or data.get("archived") is True,
            properties=properties_of(data, titles),
        )

    def to_markdown(self) -> str:
        head = f"**{(self.icon + ' ') if self.icon else ''}{self.title}** (page `{self.id}`)"
        lines = [head]
        if self.url:
            lines.append(f"URL: {self.url}")
        if self.parent:
            lines.append(f"In: {self.parent}")
        if self.last_edited_time:
            lines.append(f"Edited: {self.last_edited_time}")
        if self.in_trash:
            lines.append("In the trash.")
        props = [p for p in self.properties if p.type != "title"]
        if props:
            lines.append("")
            lines.append(bullets(f"**{p.name}** ({p.type}): {cell(p.value, 300) or '—'}" for p in props))
        return "\n".join(lines)


class PageContent(BaseModel):
    """A page's (or block's) content as Markdown, possibly cut, with the cursor that reads on."""

    page_id: str
    markdown: str
    blocks: int = Field(description="Blocks rendered.")
    truncated: bool = Field(default=False, description="Some content was not read: see the markers in the text.")
    next_cursor: str | None = None

    def to_markdown(self) -> str:
        return (self.markdown or "_The page is empty._") + page_footer(self.next_cursor)


class Block(BaseModel):
    """One block: its type, its content as Markdown, and whether it has children."""

    id: str
    type: str
    markdown: str = ""
    has_children: bool = False
    parent: str | None = None
    last_edited_time: str | None = None
    in_trash: bool = False

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Block:
        from ._blocks import BlockNode, render_blocks

        node = BlockNode(dict(data))
        return cls(
            id=str(data.get("id") or ""),
            type=node.type,
            markdown=render_blocks([node]),
            has_children=data.get("has_children") is True,
            parent=_parent(data),
            last_edited_time=_text(data.get("last_edited_time")),
            in_trash=data.get("in_trash") is True or data.get("archived") is True,
        )

    def to_markdown(self) -> str:
        head = f"**{self.type}** block `{self.id}`" + (" (has children)" if self.has_children else "")
        if self.in_trash:
            head += " (in the trash)"
        return f"{head}\n\n{self.markdown}" if self.markdown else head


class BlockList(Page[Block]):
    """A page of a block's children; pass `next_cursor` back as `cursor` for more."""

    def to_markdown(self) -> str:
        return page_table(
            self,
            ["id", "type", ("children", lambda b: "yes" if b.has_children else ""), ("content", "markdown")],
            title="Blocks",
            empty="No child blocks.",
        )


class PageWritten(BaseModel):
    """A page created (or duplicated): its id and URL, and how much content was written."""

    id: str
    url: str | None = None
    title: str = ""
    blocks_written: int = 0
    skipped: list[str] = Field(default_factory=list, description="Markdown that could not become blocks.")

    def to_markdown(self) -> str:
        text = f"Created page **{self.title or 'Untitled'}** (`{self.id}`)"
        text += f" with {self.blocks_written} blocks." if self.blocks_written else "."
        if self.url:
            text += f"\nURL: {self.url}"
        if self.skipped:
            text += "\nNot written (cannot be recreated): " + ", ".join(f"`{s}`" for s in self.skipped)
        return text


class ContentWritten(BaseModel):
    """Blocks written into a page (appended, or replacing a section)."""

    page_id: str
    blocks_written: int
    blocks_removed: int = 0
    block_ids: list[str] = Field(default_factory=list, description="The ids of the new top-level blocks.")
    skipped: list[str] = Field(default_factory=list, description="Markdown that could not become blocks.")

    def to_markdown(self) -> str:
        text = f"Wrote {self.blocks_written} blocks to page `{self.page_id}`"
        if self.blocks_removed:
            text += f", replacing {self.blocks_removed}"
        text += "."
        if self.block_ids:
            text += f" New top-level blocks: {', '.join(f'`{i}`' for i in self.block_ids[:20])}"
            text += " …" if len(self.block_ids) > 20 else ""
        if self.skipped:
            text += "\nNot written (cannot be recreated): " + ", ".join(f"`{s}`" for s in self.skipped)
        return text


class PageMoved(BaseModel):
    """A page after a move, archive or restore."""

    id: str
    title: str
    parent: str | None = None
    in_trash: bool = False
    url: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> PageMoved:
        return cls(
            id=str(data.get("id") or ""),
            title=page_title(data) or "Untitled",
            parent=_parent(data),
            in_trash=data.get("in_trash") is True or data.get("archived") is True,
            url=_text(data.get("url")),
        )

    def to_markdown(self) -> str:
        where = f" in {self.parent}" if self.parent else ""
        state = " (in the trash)" if self.in_trash else ""
        return f"Page **{self.title}** (`{self.id}`) is now{where}{state}."


class DataSourceRef(BaseModel):
    id: str
    name: str = ""


class Database(BaseModel):
    """A database: its title, where it lives, and its data sources (query those)."""

    id: str
    title: str
    url: str | None = None
    parent: str | None = None
    is_inline: bool = False
    in_trash: bool = False
    data_sources: list[DataSourceRef] = Field(default_factory=list)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Database:
        sources = [
            DataSourceRef(id=str(item.get("id")), name=str(item.get("name") or ""))
            for item in data.get("data_sources") or []
            if isinstance(item, dict) and item.get("id")
        ]
        return cls(
            id=str(data.get("id") or ""),
            title=page_title(data) or "Untitled",
            url=_text(data.get("url")),
            parent=_parent(data),
            is_inline=data.get("is_inline") is True,
            in_trash=data.get("in_trash") is True or data.get("archived") is True,
            data_sources=sources,
        )

    def to_markdown(self) -> str:
        lines = [f"**{self.title}** (database `{self.id}`)"]
        if self.url:
            lines.append(f"URL: {self.url}")
        if self.parent:
            lines.append(f"In: {self.parent}")
        lines.append("")
        lines.append(f"Data sources ({len(self.data_sources)}):")
        lines.append(bullets((f"{s.name or 'Untitled'}: `{s.id}`" for s in self.data_sources), empty="none"))
        return "\n".join(lines)


class SchemaProperty(BaseModel):
    """A property of a data source's schema."""

    name: str
    type: str
    id: str | None = None
    details: str = Field(default="", description="Options, the relation's target, the formula.")


class DataSource(BaseModel):
    """A data source (a database's table): its schema, and the database it belongs to."""

    id: str
    name: str
    database_id: str | None = None
    url: str | None = None
    properties: list[SchemaProperty] = Field(default_factory=list)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> DataSource:
        parent = _obj(data.get("parent"))
        database = _text(parent.get("database_id")) or _text(_obj(data.get("database_parent")).get("database_id"))
        props = [
            SchemaProperty(
                name=str(prop.get("name") or name),
                type=str(prop.get("type") or ""),
                id=_text(prop.get("id")),
                details=schema_details(prop),
            )
            for name, prop in _obj(data.get("properties")).items()
            if isinstance(prop, dict)
        ]
        return cls(
            id=str(data.get("id") or ""),
            name=page_title(data) or "Untitled",
            database_id=database,
            url=_text(data.get("url")) or (url_of(database) if database else None),
            properties=sorted(props, key=lambda p: p.type != "title"),
        )

    def to_markdown(self) -> str:
        head = f"**{self.name}** (data source `{self.id}`"
        head += f", database `{self.database_id}`)" if self.database_id else ")"
        rows = table(self.properties, ["name", "type", "details"], empty="No properties.", max_cell=200)
        return f"{head}\n\n{rows}"


class PageRow(BaseModel):
    """A row of a data source: a page with its property values as short text."""

    id: str
    title: str
    url: str | None = None
    values: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def from_api(cls, data: Mapping[str, Any], titles: Mapping[str, str] | None = None) -> PageRow:
        values = {
            name: render_value(value, titles)
            for name, value in _obj(data.get("properties")).items()
            if isinstance(value, dict) and value.get("type") != "title"
        }
        return cls(
            id=str(data.get("id") or ""),
            title=page_title(data) or "Untitled",
            url=_text(data.get("url")),
            values=values,
        )


class QueryResult(Page[PageRow]):
    """A page of rows of a data source query; pass `next_cursor` back as `cursor` for more."""

    data_source_id: str
    columns: list[str] = Field(default_factory=list, description="The properties shown, besides the title.")

    def to_markdown(self) -> str:
        columns: list[Any] = ["title", "id"]
        columns += [(name, lambda row, n=name: row.values.get(n, "")) for name in self.columns]
        return page_table(self, columns, title=f"Rows of `{self.data_source_id}`", empty="No rows match.", max_cell=80)


class Template(BaseModel):
    id: str
    name: str
    is_default: bool = False

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Template:
        return cls(
            id=str(data.get("id") or ""),
            name=str(data.get("name") or "Untitled"),
            is_default=data.get("is_default") is True,
        )


class TemplateList(Page[Template]):
    """A page of a data source's templates; pass a template id to notion_create_page."""

    def to_markdown(self) -> str:
        return page_table(
            self,
            ["name", "id", ("default", lambda t: "yes" if t.is_default else "")],
            title="Templates",
            empty="The data source has no templates.",
        )


class Comment(BaseModel):
    """A comment: its discussion, author, time and text as Markdown."""

    id: str
    discussion_id: str | None = None
    parent: str | None = None
    author: str | None = None
    created_time: str | None = None
    text: str = ""

    @classmethod
    def from_api(cls, data: Mapping[str, Any], names: Mapping[str, str] | None = None) -> Comment:
        author_id = _text(_obj(data.get("created_by")).get("id"))
        display = _text(_obj(data.get("display_name")).get("resolved_name"))
        found = data.get("rich_text")
        rich: list[Any] = found if isinstance(found, list) else []
        return cls(
            id=str(data.get("id") or ""),
            discussion_id=_text(data.get("discussion_id")),
            parent=_parent(data),
            author=display or (names or {}).get(author_id or "") or author_id,
            created_time=_text(data.get("created_time")),
            text=inline_markdown(rich),
        )

    def to_markdown(self) -> str:
        return f"Comment `{self.id}` in discussion `{self.discussion_id}` by {self.author or 'unknown'}:\n\n{self.text}"


class CommentList(Page[Comment]):
    """A page of open comments, oldest first; reply with notion_create_comment and a discussion_id."""

    def to_markdown(self) -> str:
        return page_table(
            self,
            [("discussion", "discussion_id"), "author", ("time", "created_time"), "text"],
            title="Comments",
            empty="No open comments.",
            max_cell=300,
        )


class User(BaseModel):
    """A person or bot of the workspace."""

    id: str
    type: str = Field(description="person or bot.")
    name: str | None = None
    email: str | None = Field(default=None, description="A person's email, when the integration may read emails.")

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> User:
        return cls(
            id=str(data.get("id") or ""),
            type=str(data.get("type") or "person"),
            name=_text(data.get("name")),
            email=_text(_obj(data.get("person")).get("email")),
        )

    def to_markdown(self) -> str:
        email = f" <{self.email}>" if self.email else ""
        return f"**{self.name or 'Unnamed'}**{email} ({self.type} `{self.id}`)"


class UserList(Page[User]):
    """A page of the workspace's users; pass `next_cursor` back as `cursor` for more."""

    def to_markdown(self) -> str:
        return page_table(self, ["name", "type", "email", "id"], title="Users")


class BotUser(BaseModel):
    """The integration's own bot user, and the workspace its token reaches."""

    id: str
    name: str | None = None
    workspace_name: str | None = None
    workspace_id: str | None = None
    owner: str | None = Field(default=None, description="workspace (internal integration) or user (public one).")

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> BotUser:
        bot = _obj(data.get("bot"))
        return cls(
            id=str(data.get("id") or ""),
            name=_text(data.get("name")),
            workspace_name=_text(bot.get("workspace_name")),
            workspace_id=_text(bot.get("workspace_id")),
            owner=_text(_obj(bot.get("owner")).get("type")),
        )

    def to_markdown(self) -> str:
        text = f"Bot **{self.name or 'Unnamed'}** (`{self.id}`)"
        if self.workspace_name or self.workspace_id:
            text += f" in workspace {self.workspace_name or ''} (`{self.workspace_id or '?'}`)"
        if self.owner:
            text += f", owned by a {self.owner}"
        return text + "."


def plain(items: Any) -> str:
    """Plain text of rich-text items (for titles in messages)."""
    return plain_text(items if isinstance(items, list) else [])
