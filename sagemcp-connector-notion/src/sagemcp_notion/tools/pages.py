"""`pages` tools: read a page's properties and its content as Markdown; create, edit, move and duplicate pages.

Content is read block by block (`_content.read_tree`, bounded in depth and count) and
written from Markdown (`_blocks.parse_markdown`, then `_content.append_blocks`). Properties
are shown compactly and written from plain values through the data source's schema
(`_properties`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from sagemcp import Cursor, ToolContext, clip, decode_cursor, encode_cursor, tool
from sagemcp.errors import InvalidArguments

from .._blocks import MARKER, BlockNode, NewBlock, parse_markdown, render_blocks
from .._content import MAX_BATCH, Resume, append_blocks, list_children, read_tree
from .._ids import DataSourceId, NotionId, PageId, dashed
from .._properties import page_title, property_values, relation_ids, title_property
from .._richtext import inline_markdown, plain_text, rich_text_from_markdown
from ..models import ContentWritten, PageContent, PageDetails, PageMoved, PageWritten
from ._common import Markdown, data_source_of_page, get_data_source, get_page, related_titles

if TYPE_CHECKING:
    from ..connector import NotionConfig

__all__ = ["MAX_CONTENT_CHARS", "PageTools", "read_markdown", "write_page"]

MAX_CONTENT_CHARS = 60_000
"""Characters of Markdown one read returns: well under a model's result budget."""
_SECTION_SCAN = 1000
"""Top-level blocks a section replacement looks through for its heading."""

Properties = Annotated[
    dict[str, Any] | None,
    Field(
        description=(
            "Values by property name as plain JSON: text (inline Markdown) for text-like and select/status, a "
            'number, true/false, an ISO date or {"start", "end", "time_zone"}, lists of names (multi-select), '
            "user ids (people), page ids (relation) or URLs (files); null clears (see notion_get_data_source)."
        ),
        max_length=100,
    ),
]
Title = Annotated[str | None, Field(max_length=2000, description="The page title (inline Markdown).")]
Icon = Annotated[str | None, Field(max_length=40, description="An emoji for the page icon, such as 📝.")]
ParentPageId = Annotated[
    NotionId | None,
    Field(description="The page to create it under (id or Notion URL); or give data_source_id."),
]
ParentDataSourceId = Annotated[
    NotionId | None,
    Field(description="The data source to add it to as a row (id or URL); or give parent_page_id."),
]


async def read_markdown(
    ctx: ToolContext, block_id: str, *, max_blocks: int, max_depth: int, cursor: str | None, tool_name: str
) -> PageContent:
    """The content under `block_id` as Markdown, from where `cursor` says (see `_content.read_tree`)."""
    bind = {"page_id": block_id, "max_depth": max_depth}
    resume = None
    if cursor is not None:
        state = decode_cursor(cursor, bind=bind)
        start = state.get("c")
        resume = Resume(start if isinstance(start, str) else None, int(state.get("s") or 0))
    tree = await read_tree(ctx.http, block_id, max_blocks=max_blocks, max_depth=max_depth, resume=resume)
    markdown = render_blocks(tree.nodes, tool=tool_name)
    next_cursor = None
    if tree.resume is not None:
        next_cursor = encode_cursor({"c": tree.resume.start_cursor, "s": tree.resume.skip}, bind=bind)
        markdown += (
            f"\n\n{MARKER}{tree.count} blocks shown, the page goes on; call {tool_name} with the same page_id and "
            f"cursor=`{next_cursor}` for the rest]"
        )
    markdown, clipped = clip(markdown, MAX_CONTENT_CHARS, f"call {tool_name} with a smaller max_blocks")
    return PageContent(
        page_id=block_id,
        markdown=markdown,
        blocks=tree.count,
        truncated=clipped or tree.depth_cut or tree.resume is not None or MARKER in markdown,
        next_cursor=next_cursor,
    )


def _icon(icon: str | None) -> dict[str, Any] | None:
    return {"type": "emoji", "emoji": icon} if icon else None


async def _schema_for(ctx: ToolContext, data_source_id: str | None) -> dict[str, Any]:
    """The property schema of a data source, or the lone title property of a page outside one."""
    if data_source_id is None:
        return {"title": {"id": "title", "name": "title", "type": "title", "title": {}}}
    schema = (await get_data_source(ctx, data_source_id)).get("properties")
    return schema if isinstance(schema, dict) else {}


def _properties_body(
    schema: dict[str, Any], title: str | None, values: dict[str, Any] | None
) -> dict[str, dict[str, Any]]:
    body = property_values(schema, values or {})
    if title is not None:
        name = title_property(schema)
        body[name] = {"title": rich_text_from_markdown(title)}
    return body


async def write_page(
    ctx: ToolContext,
    parent: dict[str, Any],
    properties: dict[str, Any],
    blocks: list[NewBlock],
    *,
    icon: dict[str, Any] | None = None,
    template_id: str | None = None,
) -> tuple[dict[str, Any], int]:
    """Create a page and write its content: the first blocks with the page, the rest appended in order."""
    body: dict[str, Any] = {"parent": parent, "properties": properties}
    if icon is not None:
        body["icon"] = icon
    if template_id is not None:
        body["template"] = {"type": "template_id", "template_id": template_id}
    first: list[NewBlock] = []
    for block in blocks:
        if len(first) >= MAX_BATCH or block.depth() > 2 or sum(b.count() for b in first) + block.count() > 900:
            break
        first.append(block)
    if first:
        body["children"] = [block.request() for block in first]
    page = (await ctx.http.post("/v1/pages", json=body)).json_object()
    written = sum(block.count() for block in first)
    rest = blocks[len(first) :]
    if rest:
        written += (await append_blocks(ctx.http, str(page.get("id")), rest)).count
    return page, written


def _heading_level(node: BlockNode) -> int | None:
    return int(node.type[-1]) if re.fullmatch(r"heading_[1-4]", node.type) else None


def _find_heading(nodes: list[BlockNode], heading: str) -> int | None:
    wanted = heading.strip().lstrip("#").strip().casefold()
    for index, node in enumerate(nodes):
        if (
            _heading_level(node) is not None
            and plain_text(node.data.get("rich_text") or []).strip().casefold() == wanted
        ):
            return index
    return None


class PageTools:
    """The `pages` group."""

    @tool(read_only=True, group="pages")
    async def get_page(self, ctx: ToolContext[NotionConfig], page_id: PageId) -> PageDetails:
        """Get a page's title, URL, parent and properties (as short text); content: notion_get_page_content."""
        page = await get_page(ctx, page_id)
        titles = await related_titles(ctx, relation_ids(page))
        return PageDetails.from_api(page, titles)

    @tool(read_only=True, group="pages")
    async def get_page_content(
        self,
        ctx: ToolContext[NotionConfig],
        page_id: Annotated[
            NotionId,
            Field(description="The page (or any block with children) to read, as an id or Notion URL."),
        ],
        max_depth: Annotated[
            int, Field(ge=1, le=6, description="Levels of nested blocks to read, 1-6 (default 3).")
        ] = 3,
        max_blocks: Annotated[
            int, Field(ge=10, le=1000, description="Blocks to read in this call, 10-1000 (default 300).")
        ] = 300,
        cursor: Cursor = None,
    ) -> PageContent:
        """Read a page's content as Markdown (nested blocks down to max_depth).

        Where reading stops, a marker names the call that reads on.
        """
        return await read_markdown(
            ctx, page_id, max_blocks=max_blocks, max_depth=max_depth, cursor=cursor, tool_name="notion_get_page_content"
        )

    @tool(read_only=False, group="pages", destructive=False, idempotent=False)
    async def create_page(
        self,
        ctx: ToolContext[NotionConfig],
        title: Title = None,
        markdown: Markdown = "",
        parent_page_id: ParentPageId = None,
        data_source_id: ParentDataSourceId = None,
        properties: Properties = None,
        icon: Icon = None,
        template_id: Annotated[
            NotionId | None,
            Field(description="A template of the data source (notion_list_data_source_templates); no markdown then."),
        ] = None,
    ) -> PageWritten:
        """Create a page from Markdown under a page, or add a row to a database's data source.

        For a row, properties are set by name from plain values; title fills the title property.
        """
        if (parent_page_id is None) == (data_source_id is None):
            raise InvalidArguments(
                "give exactly one of parent_page_id and data_source_id", [("parent_page_id", "one parent needed")]
            )
        if template_id is not None and (markdown.strip() or data_source_id is None):
            raise InvalidArguments(
                "a template applies to a row of a data source and brings its own content: give data_source_id "
                "and no markdown",
                [("template_id", "needs data_source_id and no markdown")],
            )
        parsed = parse_markdown(markdown)
        schema = await _schema_for(ctx, data_source_id)
        body = _properties_body(schema, title, properties)
        parent = (
            {"type": "page_id", "page_id": parent_page_id}
            if parent_page_id is not None
            else {"type": "data_source_id", "data_source_id": data_source_id}
        )
        page, written = await write_page(ctx, parent, body, parsed.blocks, icon=_icon(icon), template_id=template_id)
        return PageWritten(
            id=str(page.get("id") or ""),
            url=page.get("url") if isinstance(page.get("url"), str) else None,
            title=page_title(page) or (title or ""),
            blocks_written=written,
            skipped=parsed.skipped,
        )

    @tool(read_only=False, group="pages", destructive=True, idempotent=True)
    async def update_page(
        self,
        ctx: ToolContext[NotionConfig],
        page_id: PageId,
        properties: Properties = None,
        title: Title = None,
        icon: Icon = None,
    ) -> PageDetails:
        """Update a page's properties, title or icon from plain values (others are kept).

        Wrong names or values are refused before sending.
        """
        if not properties and title is None and icon is None:
            raise InvalidArguments("nothing to update: give properties, title or icon", [("properties", "empty")])
        page = await get_page(ctx, page_id)
        schema = await _schema_for(ctx, data_source_of_page(page))
        body: dict[str, Any] = {}
        props = _properties_body(schema, title, properties)
        if props:
            body["properties"] = props
        if icon is not None:
            body["icon"] = _icon(icon)
        updated = (await ctx.http.patch(f"/v1/pages/{page_id}", json=body)).json_object()
        return PageDetails.from_api(updated)

    @tool(read_only=False, group="pages", destructive=False, idempotent=False)
    async def append_page_content(
        self,
        ctx: ToolContext[NotionConfig],
        page_id: Annotated[NotionId, Field(description="The page (or block with children) to add to.")],
        markdown: Markdown,
        after_block_id: Annotated[
            NotionId | None,
            Field(description="Insert after this top-level block instead of at the end (notion_list_block_children)."),
        ] = None,
    ) -> ContentWritten:
        """Append Markdown to a page (or inside a toggle, callout or other block), at the end or after a block."""
        parsed = parse_markdown(markdown)
        if not parsed.blocks:
            raise InvalidArguments("the markdown holds no content to append", [("markdown", "empty")])
        written = await append_blocks(ctx.http, page_id, parsed.blocks, after=after_block_id)
        return ContentWritten(
            page_id=page_id, blocks_written=written.count, block_ids=written.ids, skipped=parsed.skipped
        )

    @tool(read_only=False, group="pages", destructive=True, idempotent=False)
    async def replace_page_section(
        self,
        ctx: ToolContext[NotionConfig],
        page_id: PageId,
        heading: Annotated[
            str,
            Field(
                min_length=1, max_length=2000, description="The heading's text (without #), matched case-insensitively."
            ),
        ],
        markdown: Markdown,
    ) -> ContentWritten:
        """Replace the content under a heading, up to the next heading of the same or higher level.

        The heading stays; new content is written before the old is deleted.
        """
        nodes: list[BlockNode] = []
        cursor: str | None = None
        while len(nodes) < _SECTION_SCAN:
            results, cursor = await list_children(ctx.http, page_id, cursor)
            nodes.extend(BlockNode(block) for block in results)
            if cursor is None:
                break
        index = _find_heading(nodes, heading)
        if index is None:
            found = [plain_text(n.data.get("rich_text") or []) for n in nodes if _heading_level(n) is not None]
            raise InvalidArguments(
                f"no heading {heading!r} among the page's top-level blocks; its headings are: "
                + (", ".join(repr(h) for h in found[:50]) or "none"),
                [("heading", "not found")],
            )
        head = nodes[index]
        parsed = parse_markdown(markdown)
        if head.data.get("is_toggleable") is True:
            old, _ = await list_children(ctx.http, head.id, None)
            written = await append_blocks(ctx.http, head.id, parsed.blocks)
        else:
            level = _heading_level(head) or 1
            section: list[BlockNode] = []
            for node in nodes[index + 1 :]:
                other = _heading_level(node)
                if other is not None and other <= level:
                    break
                section.append(node)
            old = [node.block for node in section]
            after = section[-1].id if section else head.id
            written = await append_blocks(ctx.http, page_id, parsed.blocks, after=after)
        for block in old:
            await ctx.http.delete(f"/v1/blocks/{block['id']}")
        return ContentWritten(
            page_id=page_id,
            blocks_written=written.count,
            blocks_removed=len(old),
            block_ids=written.ids,
            skipped=parsed.skipped,
        )

    @tool(read_only=False, group="pages", destructive=False, idempotent=True)
    async def move_page(
        self,
        ctx: ToolContext[NotionConfig],
        page_id: PageId,
        parent_page_id: Annotated[NotionId | None, Field(description="The page to move it under.")] = None,
        data_source_id: Annotated[
            DataSourceId | None, Field(description="The data source to move it into, as a row.")
        ] = None,
    ) -> PageMoved:
        """Move a page under another page, or into a data source as a row."""
        if (parent_page_id is None) == (data_source_id is None):
            raise InvalidArguments(
                "give exactly one of parent_page_id and data_source_id", [("parent_page_id", "one parent needed")]
            )
        parent = (
            {"type": "page_id", "page_id": parent_page_id}
            if parent_page_id is not None
            else {"type": "data_source_id", "data_source_id": data_source_id}
        )
        response = await ctx.http.post(f"/v1/pages/{page_id}/move", json={"parent": parent})
        return PageMoved.from_api(response.json_object())

    @tool(read_only=False, group="pages", destructive=False, idempotent=False)
    async def duplicate_page(
        self,
        ctx: ToolContext[NotionConfig],
        page_id: PageId,
        title: Annotated[
            str | None, Field(max_length=2000, description='The copy\'s title (default: "Copy of <title>").')
        ] = None,
        parent_page_id: Annotated[
            NotionId | None, Field(description="Where to put the copy (default: beside the original).")
        ] = None,
        max_blocks: Annotated[
            int, Field(ge=10, le=1000, description="Blocks of content to copy at most, 10-1000 (default 500).")
        ] = 500,
    ) -> PageWritten:
        """Duplicate a page's properties and content (up to max_blocks), beside it or under parent_page_id.

        Colours, comments and sub-pages are not copied.
        """
        page = await get_page(ctx, page_id)
        source = data_source_of_page(page)
        content = await read_markdown(
            ctx, page_id, max_blocks=max_blocks, max_depth=6, cursor=None, tool_name="notion_get_page_content"
        )
        if content.next_cursor is not None:
            raise InvalidArguments(
                f"the page has more than {max_blocks} blocks; raise max_blocks (up to 1000) to copy all of it",
                [("max_blocks", "too small for this page")],
            )
        parsed = parse_markdown(content.markdown)
        original = page_title(page) or "Untitled"
        schema = await _schema_for(ctx, source if parent_page_id is None else None)
        values = _copyable(page, schema)
        properties = _properties_body(schema, title if title is not None else f"Copy of {original}", None)
        properties.update(values)
        if parent_page_id is not None:
            parent: dict[str, Any] = {"type": "page_id", "page_id": parent_page_id}
        elif source is not None:
            parent = {"type": "data_source_id", "data_source_id": source}
        else:
            found = page.get("parent")
            raw: dict[str, Any] = found if isinstance(found, dict) else {}
            if raw.get("type") != "page_id" or not isinstance(raw.get("page_id"), str):
                raise InvalidArguments(
                    "the page is not under a page or data source; give parent_page_id for the copy",
                    [("parent_page_id", "needed for this page")],
                )
            parent = {"type": "page_id", "page_id": dashed(raw["page_id"])}
        icon = page.get("icon") if isinstance(page.get("icon"), dict) and page["icon"].get("type") == "emoji" else None
        copy, written = await write_page(ctx, parent, properties, parsed.blocks, icon=icon)
        return PageWritten(
            id=str(copy.get("id") or ""),
            url=copy.get("url") if isinstance(copy.get("url"), str) else None,
            title=page_title(copy) or (title or f"Copy of {original}"),
            blocks_written=written,
            skipped=parsed.skipped,
        )


_COPYABLE = frozenset(
    {
        "rich_text",
        "number",
        "select",
        "multi_select",
        "status",
        "date",
        "people",
        "files",
        "checkbox",
        "url",
        "email",
        "phone_number",
        "relation",
    }
)


def _copyable(page: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The page's writable property values (not the title), in request form, for a copy in the same schema."""
    found: dict[str, Any] = {}
    for name, value in (page.get("properties") or {}).items():
        kind = value.get("type") if isinstance(value, dict) else None
        if kind not in _COPYABLE or name not in schema:
            continue
        data = value.get(kind)
        if kind in ("select", "status"):
            data = {"name": data["name"]} if isinstance(data, dict) and data.get("name") else None
        elif kind == "multi_select":
            data = [{"name": o["name"]} for o in data or [] if isinstance(o, dict) and o.get("name")]
        elif kind == "people":
            data = [{"object": "user", "id": p["id"]} for p in data or [] if isinstance(p, dict) and p.get("id")]
        elif kind == "relation":
            data = [{"id": r["id"]} for r in data or [] if isinstance(r, dict) and r.get("id")]
        elif kind == "rich_text":
            data = rich_text_from_markdown(inline_markdown(data or [])) if data else []
        elif kind == "files":
            data = [
                {"name": f.get("name") or "file", "type": "external", "external": f["external"]}
                for f in data or []
                if isinstance(f, dict) and isinstance(f.get("external"), dict)
            ]
        elif kind == "date" and isinstance(data, dict):
            data = {k: data[k] for k in ("start", "end", "time_zone") if data.get(k) is not None}
        found[name] = {kind: data}
    return found
