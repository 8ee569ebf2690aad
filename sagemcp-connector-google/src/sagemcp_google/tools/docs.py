"""`docs` tools: Google Docs read as Markdown and written from Markdown.

Reading converts the document structure (`documents.get`, with tabs) to Markdown
(`sagemcp_google._docs_markdown`); writing turns Markdown into `batchUpdate` requests
(`sagemcp_google._markdown_docs`). Documents are listed through Drive, which the Docs API cannot do.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from sagemcp import Cursor, Limit, ToolContext, clip, tool
from sagemcp.errors import InvalidArguments

from .._docs_markdown import DocumentView, document_markdown, paragraph_text, view
from .._drive_query import MIME_TYPES, DriveQuery
from .._markdown_docs import requests_for
from .._scopes import DOCS_READ, DOCS_WRITE, DRIVE_METADATA_READ, DRIVE_READ, scope
from .._services import segment
from ..models import DocumentContent, DocumentEdit, DriveFileList, FileContent, obj
from ._common import MaxChars, Offset, url
from .drive import list_page

if TYPE_CHECKING:
    from ..connector import GoogleConfig

__all__ = ["HEADING_TYPES", "DocsTools", "DocumentId", "TabId", "apply", "edited", "fetch", "tab_view"]

DocumentId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="From its URL (/document/d/ID) or google_list_documents.",
    ),
]
TabId = Annotated[
    str | None,
    Field(max_length=100, pattern=r"^[A-Za-z0-9_.-]+$", description="Default: the first tab."),
]
Markdown = Annotated[str, Field(min_length=1, max_length=200_000, description="The content, in Markdown.")]
DOCS_CREATE = (*DOCS_WRITE, scope("drive.file"))
"""Creating a document in a chosen folder goes through Drive; `drive.file` covers files the app creates."""
HEADING_TYPES = {f"HEADING_{n}": f"heading{n}" for n in range(1, 7)} | {"TITLE": "title", "SUBTITLE": "subtitle"}


def doc_url(document_id: str) -> str:
    return f"https://docs.google.com/document/d/{document_id}/edit"


async def fetch(ctx: ToolContext[GoogleConfig], document_id: str) -> dict[str, Any]:
    """The document with all its tabs."""
    response = await ctx.http.get(
        url(ctx, "docs", f"documents/{segment(document_id)}"), params={"includeTabsContent": "true"}
    )
    return response.json_object()


def tab_view(document: dict[str, Any], tab_id: str | None) -> DocumentView:
    try:
        return view(document, tab_id)
    except KeyError:
        raise InvalidArguments(
            f"the document has no tab {tab_id!r}: google_get_document lists its tabs", [("tab_id", "unknown tab")]
        ) from None


async def apply(
    ctx: ToolContext[GoogleConfig],
    document_id: str,
    requests: list[dict[str, Any]],
    revision: str | None = None,
) -> dict[str, Any]:
    """Run `requests` in one `batchUpdate` (all or nothing, as Docs applies a batch)."""
    body: dict[str, Any] = {"requests": requests}
    if revision:
        body["writeControl"] = {"requiredRevisionId": revision}
    response = await ctx.http.post(url(ctx, "docs", f"documents/{segment(document_id)}:batchUpdate"), json=body)
    return response.json_object()


def _after(content: list[dict[str, Any]], position: int, tab_id: str | None) -> tuple[int, list[dict[str, Any]]]:
    """Where to insert after the element at `position` of the body, and any request that makes room.

    The next element's start when it is a paragraph; otherwise (the end of the body, or a table
    next) a newline is added at the end of that element first, making a paragraph to insert before.
    """
    element = content[position]
    end = int(element.get("endIndex") or 1)
    following = content[position + 1] if position + 1 < len(content) else None
    if following is not None and "paragraph" in following:
        return end, []
    location: dict[str, Any] = {"index": end - 1}
    if tab_id:
        location["tabId"] = tab_id
    return end, [{"insertText": {"location": location, "text": "\n"}}]


def _is_empty(content: list[dict[str, Any]]) -> bool:
    paragraphs = [e for e in content if "paragraph" in e]
    others = [e for e in content if "paragraph" not in e and "sectionBreak" not in e]
    return not others and all(not paragraph_text(p["paragraph"]).strip() for p in paragraphs)


def edited(document_id: str, done: str, requests: list[dict[str, Any]], answer: dict[str, Any]) -> DocumentEdit:
    replies = [r for r in answer.get("replies") or () if isinstance(r, dict) and r]
    control = obj(answer.get("writeControl"))
    return DocumentEdit(
        id=document_id,
        done=done,
        requests=len(requests),
        revision_id=control.get("requiredRevisionId"),
        replies=replies[:20],
        url=doc_url(document_id),
    )


class DocsTools:
    """The `docs` group."""

    @tool(read_only=True, group="docs", scopes=DRIVE_METADATA_READ)
    async def list_documents(
        self,
        ctx: ToolContext[GoogleConfig],
        text: Annotated[str | None, Field(max_length=500, description="Words in the title or content.")] = None,
        name_contains: Annotated[str | None, Field(max_length=500, description="Part of the title.")] = None,
        shared_with_me: Annotated[bool, Field(description="Only documents others shared with the user.")] = False,
        owner: Annotated[str | None, Field(max_length=320, description="Only documents owned by this email.")] = None,
        modified_after: Annotated[datetime | None, Field(description="Modified after (ISO 8601).")] = None,
        limit: Annotated[int, Limit(maximum=100, what="Documents")] = 20,
        cursor: Cursor = None,
    ) -> DriveFileList:
        """List or search Google Docs (newest first, or by relevance with `text`): id, title, modified, owner."""
        query = (
            DriveQuery()
            .mime_types([MIME_TYPES["document"]])
            .full_text(text)
            .name_contains(name_contains)
            .shared_with_me(shared_with_me)
            .owner(owner)
            .modified_after(modified_after)
            .trashed(False)
        )
        order = None if text else "modifiedTime desc"
        bind = {"q": str(query)}
        return await list_page(ctx, query, limit=limit, cursor=cursor, order_by=order, drive_id=None, bind=bind)

    @tool(read_only=True, group="docs", scopes=DOCS_READ)
    async def get_document(
        self,
        ctx: ToolContext[GoogleConfig],
        document_id: DocumentId,
        tab_id: TabId = None,
        offset: Offset = 0,
        max_chars: MaxChars = 30_000,
    ) -> DocumentContent:
        """Read a Google Doc as Markdown (headings, lists, tables, links, images, footnotes).

        Shows the first tab unless tab_id names another; long ones are cut at max_chars with the next offset.
        """
        document = await fetch(ctx, document_id)
        doc = tab_view(document, tab_id)
        markdown = document_markdown(doc)
        shown, cut = clip(
            markdown[offset:],
            max_chars,
            lambda n: f"call google_get_document with offset={offset + n} for more",
        )
        return DocumentContent(
            id=document_id,
            title=doc.title,
            markdown=shown,
            tab_id=doc.tab_id,
            tabs=[f"{tid}: {title}" for tid, title in doc.tabs],
            revision_id=document.get("revisionId"),
            offset=offset,
            total_chars=len(markdown),
            truncated=cut,
            url=doc_url(document_id),
        )

    @tool(read_only=False, group="docs", destructive=False, idempotent=False, scopes=DOCS_CREATE)
    async def create_document(
        self,
        ctx: ToolContext[GoogleConfig],
        title: Annotated[str, Field(min_length=1, max_length=1000, description="The document's title.")],
        markdown: Annotated[str, Field(max_length=200_000, description="The content, in Markdown.")] = "",
        folder_id: Annotated[
            str | None,
            Field(max_length=200, pattern=r"^[A-Za-z0-9_-]+$", description="The Drive folder (default: My Drive)."),
        ] = None,
    ) -> DocumentEdit:
        """Create a Google Doc from Markdown (headings, lists, tables, links, images); returns its id and URL."""
        if folder_id:
            body = {"name": title, "mimeType": MIME_TYPES["document"], "parents": [folder_id]}
            response = await ctx.http.post(
                url(ctx, "drive", "files"), json=body, params={"fields": "id", "supportsAllDrives": "true"}
            )
        else:
            response = await ctx.http.post(url(ctx, "docs", "documents"), json={"title": title})
        created = response.json_object()
        document_id = str(created.get("documentId") or created.get("id") or "")
        requests = requests_for(markdown, 1) if markdown.strip() else []
        answer = await apply(ctx, document_id, requests) if requests else {}
        return edited(document_id, f"Created {title!r}.", requests, answer)

    @tool(read_only=False, group="docs", destructive=False, idempotent=False, scopes=DOCS_WRITE)
    async def append_markdown(
        self, ctx: ToolContext[GoogleConfig], document_id: DocumentId, markdown: Markdown, tab_id: TabId = None
    ) -> DocumentEdit:
        """Append Markdown at the end of a document (or of one tab), formatted as Google Docs content."""
        doc = tab_view(await fetch(ctx, document_id), tab_id)
        if _is_empty(doc.content):
            requests = requests_for(markdown, 1, doc.tab_id)
        else:
            at, room = _after(doc.content, len(doc.content) - 1, doc.tab_id)
            requests = room + requests_for(markdown, at, doc.tab_id)
        answer = await apply(ctx, document_id, requests)
        return edited(document_id, "Appended the Markdown.", requests, answer)

    @tool(read_only=False, group="docs", destructive=False, idempotent=False, scopes=DOCS_WRITE)
    async def insert_markdown(
        self,
        ctx: ToolContext[GoogleConfig],
        document_id: DocumentId,
        markdown: Markdown,
        after_heading: Annotated[
            str | None, Field(max_length=500, description="Insert after the first heading with this text.")
        ] = None,
        index: Annotated[
            int | None, Field(ge=1, description="Insert before the paragraph starting at this index.")
        ] = None,
        tab_id: TabId = None,
    ) -> DocumentEdit:
        """Insert Markdown into a document after a heading (by text) or before a paragraph (by index; 1 is the top)."""
        if (after_heading is None) == (index is None):
            raise InvalidArguments(
                "give either after_heading or index", [("after_heading", "exactly one of after_heading, index")]
            )
        doc = tab_view(await fetch(ctx, document_id), tab_id)
        room: list[dict[str, Any]] = []
        if after_heading is not None:
            wanted = " ".join(after_heading.split()).casefold()
            position = next(
                (
                    i
                    for i, e in enumerate(doc.content)
                    if "paragraph" in e
                    and str(((e["paragraph"] or {}).get("paragraphStyle") or {}).get("namedStyleType", ""))
                    in HEADING_TYPES
                    and " ".join(paragraph_text(e["paragraph"]).split()).casefold() == wanted
                ),
                None,
            )
            if position is None:
                raise InvalidArguments(
                    f"no heading {after_heading!r} in the document: google_get_document shows its headings",
                    [("after_heading", "no such heading")],
                )
            at, room = _after(doc.content, position, doc.tab_id)
        else:
            starts = {int(e.get("startIndex") or 0) for e in doc.content if "paragraph" in e}
            if index not in starts:
                raise InvalidArguments(
                    f"index {index} is not where a paragraph of the body starts: take a start index from "
                    "google_get_document_structure (1 is the top of the document)",
                    [("index", "not the start of a paragraph")],
                )
            at = int(index)  # type: ignore[arg-type]
        requests = room + requests_for(markdown, at, doc.tab_id)
        answer = await apply(ctx, document_id, requests)
        return edited(document_id, f"Inserted the Markdown at index {at}.", requests, answer)

    @tool(read_only=False, group="docs", destructive=True, idempotent=False, scopes=DOCS_WRITE)
    async def replace_document_text(
        self,
        ctx: ToolContext[GoogleConfig],
        document_id: DocumentId,
        find: Annotated[str, Field(min_length=1, max_length=5000, description="The text to find.")],
        replace: Annotated[str, Field(max_length=50_000, description="What to put instead (plain text).")],
        match_case: Annotated[bool, Field(description="Match upper and lower case exactly.")] = True,
        tab_id: TabId = None,
    ) -> DocumentEdit:
        """Find and replace text everywhere in a document (or one tab); returns how many occurrences changed."""
        request: dict[str, Any] = {"containsText": {"text": find, "matchCase": match_case}, "replaceText": replace}
        if tab_id:
            request["tabsCriteria"] = {"tabIds": [tab_id]}
        requests = [{"replaceAllText": request}]
        answer = await apply(ctx, document_id, requests)
        replies = answer.get("replies") or [{}]
        changed = int(((replies[0] or {}).get("replaceAllText") or {}).get("occurrencesChanged") or 0)
        edit = edited(document_id, f"Replaced {changed} occurrence(s).", requests, answer)
        return edit.model_copy(update={"changed": changed, "replies": []})

    @tool(read_only=True, group="docs", scopes=DRIVE_READ)
    async def export_document(
        self,
        ctx: ToolContext[GoogleConfig],
        document_id: DocumentId,
        format: Annotated[Literal["markdown", "text", "html"], Field(description="What to export to.")] = "text",
        offset: Offset = 0,
        max_chars: MaxChars = 30_000,
    ) -> FileContent:
        """Export a Google Doc as Markdown, plain text or HTML with Google's own conversion.

        google_get_document gives richer Markdown.
        """
        mime = {"markdown": "text/markdown", "text": "text/plain", "html": "text/html"}[format]
        response = await ctx.http.get(
            url(ctx, "drive", f"files/{segment(document_id)}/export"), params={"mimeType": mime}
        )
        text = response.content.decode("utf-8", errors="replace")
        shown, cut = clip(
            text[offset:], max_chars, lambda n: f"call google_export_document with offset={offset + n} for more"
        )
        fmt = "markdown" if format == "markdown" else "text"
        return FileContent(
            id=document_id,
            name=document_id,
            mime_type=mime,
            format=fmt,
            content=shown,
            offset=offset,
            total_chars=len(text),
            truncated=cut,
        )
