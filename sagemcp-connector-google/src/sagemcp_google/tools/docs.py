"""`docs` tools: Google Docs read as Markdown and written from Markdown.

Reading converts the document structure (`documents.get`, with tabs) to Markdown
(`sagemcp_google._docs_markdown`); writing turns Markdown into `batchUpdate` requests
(`sagemcp_google._markdown_docs`). Documents are listed through Drive, which the Docs API cannot do.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from sagemcp import Cursor, Limit, ToolContext, clip, decode_cursor, encode_cursor, tool
from sagemcp.errors import InvalidArguments

from .._docs_markdown import DocumentView, document_markdown, paragraph_text, view
from .._drive_query import MIME_TYPES, DriveQuery
from .._markdown_docs import requests_for, u16
from .._scopes import DOCS_READ, DOCS_WRITE, DRIVE_METADATA_READ, DRIVE_READ, scope
from .._services import segment
from ..models import (
    DocumentContent,
    DocumentEdit,
    DocumentElement,
    DocumentStructure,
    DriveFileList,
    FileContent,
    NamedRange,
    obj,
)
from ._common import MaxChars, Offset, url
from .drive import list_page

if TYPE_CHECKING:
    from ..connector import GoogleConfig

__all__ = ["DocsTools"]

DocumentId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The document id (from its URL docs.google.com/document/d/ID/edit, or google_list_documents).",
    ),
]
TabId = Annotated[
    str | None,
    Field(max_length=100, pattern=r"^[A-Za-z0-9_.-]+$", description="A tab of the document (default: the first)."),
]
Markdown = Annotated[str, Field(min_length=1, max_length=200_000, description="The content, in Markdown.")]
DOCS_CREATE = (*DOCS_WRITE, scope("drive.file"))
"""Creating a document in a chosen folder goes through Drive; `drive.file` covers files the app creates."""
_HEADING_TYPES = {f"HEADING_{n}": f"heading{n}" for n in range(1, 7)} | {"TITLE": "title", "SUBTITLE": "subtitle"}


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


def _edit(document_id: str, done: str, requests: list[dict[str, Any]], answer: dict[str, Any]) -> DocumentEdit:
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


def _element(element: dict[str, Any]) -> DocumentElement:
    start, end = int(element.get("startIndex") or 0), int(element.get("endIndex") or 0)
    if "paragraph" in element:
        paragraph = element["paragraph"] or {}
        named = str((paragraph.get("paragraphStyle") or {}).get("namedStyleType") or "")
        kind = "list_item" if paragraph.get("bullet") else _HEADING_TYPES.get(named, "paragraph")
        return DocumentElement(start=start, end=end, type=kind, text=paragraph_text(paragraph)[:100])
    if "table" in element:
        table = element["table"] or {}
        return DocumentElement(
            start=start, end=end, type="table", text=f"{table.get('rows', 0)} rows x {table.get('columns', 0)} columns"
        )
    if "tableOfContents" in element:
        return DocumentElement(start=start, end=end, type="table_of_contents")
    return DocumentElement(start=start, end=end, type="section_break")


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
        """List or search Google Docs (newest first, or by relevance with `text`): id, title, modified, owner.

        Read one with google_get_document.
        """
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
        """Read a Google Doc as Markdown: headings, lists, tables, links, bold/italic/code, images, footnotes.

        A document with several tabs shows the first unless tab_id names another (the tabs are listed).
        Long documents are cut at max_chars; the cut names the offset for the rest.
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

    @tool(read_only=True, group="docs", scopes=DOCS_READ)
    async def get_document_structure(
        self,
        ctx: ToolContext[GoogleConfig],
        document_id: DocumentId,
        tab_id: TabId = None,
        limit: Annotated[int, Limit(maximum=500, what="Elements")] = 100,
        cursor: Cursor = None,
    ) -> DocumentStructure:
        """List a document's body elements with their indexes, and its named ranges, header and footer.

        Elements are headings, paragraphs, list items and tables. Use the indexes with google_insert_markdown,
        google_create_named_range or google_batch_update_document.
        """
        bind = {"document": document_id, "tab": tab_id}
        skip = int(decode_cursor(cursor, bind=bind).get("skip", 0)) if cursor else 0
        document = await fetch(ctx, document_id)
        doc = tab_view(document, tab_id)
        elements = [_element(e) for e in doc.content if isinstance(e, dict)]
        page = elements[skip : skip + limit]
        more = skip + limit < len(elements)
        source = _tab_document(document, doc.tab_id)
        ranges = []
        for name, group in (source.get("namedRanges") or {}).items():
            for named in group.get("namedRanges") or ():
                spans = [
                    (int(r.get("startIndex") or 0), int(r.get("endIndex") or 0)) for r in named.get("ranges") or ()
                ]
                ranges.append(NamedRange(id=str(named.get("namedRangeId") or ""), name=name, ranges=spans))
        style = source.get("documentStyle") or {}
        return DocumentStructure(
            id=document_id,
            title=doc.title,
            tab_id=doc.tab_id,
            items=page,
            next_cursor=encode_cursor({"skip": skip + limit}, bind=bind) if more else None,
            end_index=elements[-1].end if elements else 1,
            named_ranges=ranges,
            header_id=style.get("defaultHeaderId"),
            footer_id=style.get("defaultFooterId"),
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
        """Create a Google Doc, written from Markdown (headings, lists, tables, links, emphasis, code, quotes).

        Returns the new document's id and URL.
        """
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
        return _edit(document_id, f"Created {title!r}.", requests, answer)

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
        return _edit(document_id, "Appended the Markdown.", requests, answer)

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
        """Insert Markdown after a heading (by its text) or before a paragraph (by its start index).

        Start indexes come from google_get_document_structure; index 1 is the top of the document.
        """
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
                    in _HEADING_TYPES
                    and " ".join(paragraph_text(e["paragraph"]).split()).casefold() == wanted
                ),
                None,
            )
            if position is None:
                raise InvalidArguments(
                    f"no heading {after_heading!r} in the document: google_get_document_structure lists the headings",
                    [("after_heading", "no such heading")],
                )
            at, room = _after(doc.content, position, doc.tab_id)
        else:
            starts = {int(e.get("startIndex") or 0) for e in doc.content if "paragraph" in e}
            if index not in starts:
                raise InvalidArguments(
                    f"index {index} is not where a paragraph of the body starts: take a start index from "
                    "google_get_document_structure (1 is the top)",
                    [("index", "not the start of a paragraph")],
                )
            at = int(index)  # type: ignore[arg-type]
        requests = room + requests_for(markdown, at, doc.tab_id)
        answer = await apply(ctx, document_id, requests)
        return _edit(document_id, f"Inserted the Markdown at index {at}.", requests, answer)

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
        edit = _edit(document_id, f"Replaced {changed} occurrence(s).", requests, answer)
        return edit.model_copy(update={"changed": changed, "replies": []})

    @tool(read_only=False, group="docs", destructive=True, idempotent=False, scopes=DOCS_WRITE)
    async def batch_update_document(
        self,
        ctx: ToolContext[GoogleConfig],
        document_id: DocumentId,
        requests: Annotated[
            list[dict[str, Any]],
            Field(
                min_length=1,
                max_length=500,
                description="Docs API requests, each an object with one key such as insertText, deleteContentRange, "
                "updateTextStyle, updateParagraphStyle, insertTable, insertPageBreak, createFootnote (see the Docs API "
                "reference for documents.batchUpdate).",
            ),
        ],
        required_revision_id: Annotated[
            str | None, Field(max_length=200, description="Fail unless the document is still at this revision.")
        ] = None,
    ) -> DocumentEdit:
        """Apply raw Docs API requests in one atomic batch, for what the simpler tools cannot do.

        Deleting ranges, page breaks, footnotes, table rows, styles. Indexes come from
        google_get_document_structure.
        """
        for position, request in enumerate(requests):
            if len(request) != 1:
                raise InvalidArguments(
                    f"requests[{position}] must have exactly one key (the request type), not {len(request)}",
                    [(f"requests.{position}", "one request type per item")],
                )
        answer = await apply(ctx, document_id, requests, required_revision_id)
        return _edit(document_id, "Applied the requests.", requests, answer)

    @tool(read_only=True, group="docs", scopes=DRIVE_READ)
    async def export_document(
        self,
        ctx: ToolContext[GoogleConfig],
        document_id: DocumentId,
        format: Annotated[Literal["markdown", "text", "html"], Field(description="What to export to.")] = "text",
        offset: Offset = 0,
        max_chars: MaxChars = 30_000,
    ) -> FileContent:
        """Export a Google Doc through Drive as Markdown, plain text or HTML (Google's own conversion).

        google_get_document gives richer Markdown with tabs; this is Google's rendering of the whole document.
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

    @tool(read_only=False, group="docs", destructive=True, idempotent=True, scopes=DOCS_WRITE)
    async def set_document_header(
        self,
        ctx: ToolContext[GoogleConfig],
        document_id: DocumentId,
        text: Annotated[str, Field(min_length=1, max_length=5000, description="The header's (or footer's) text.")],
        part: Annotated[Literal["header", "footer"], Field(description="The header or the footer.")] = "header",
    ) -> DocumentEdit:
        """Set the text of a document's default header or footer, creating it when there is none."""
        document = await fetch(ctx, document_id)
        source = _tab_document(document, None)
        style = source.get("documentStyle") or {}
        key = "defaultHeaderId" if part == "header" else "defaultFooterId"
        segment_id = style.get(key)
        requests: list[dict[str, Any]] = []
        if not segment_id:
            create = "createHeader" if part == "header" else "createFooter"
            made = await apply(ctx, document_id, [{create: {"type": "DEFAULT"}}])
            reply = ((made.get("replies") or [{}])[0] or {}).get(create) or {}
            segment_id = reply.get("headerId" if part == "header" else "footerId")
            end = 1
        else:
            segments = source.get("headers" if part == "header" else "footers") or {}
            content = (segments.get(segment_id) or {}).get("content") or []
            end = int(content[-1].get("endIndex") or 1) if content else 1
        if not isinstance(segment_id, str) or not segment_id:
            raise InvalidArguments(f"Google did not create the {part}: try again", [("part", f"no {part} id")])
        if end > 1:
            requests.append(
                {"deleteContentRange": {"range": {"segmentId": segment_id, "startIndex": 0, "endIndex": end - 1}}}
            )
        requests.append({"insertText": {"location": {"segmentId": segment_id, "index": 0}, "text": text}})
        answer = await apply(ctx, document_id, requests)
        return _edit(document_id, f"Set the {part} (`{segment_id}`).", requests, answer)

    @tool(read_only=False, group="docs", destructive=False, idempotent=False, scopes=DOCS_WRITE)
    async def create_named_range(
        self,
        ctx: ToolContext[GoogleConfig],
        document_id: DocumentId,
        name: Annotated[str, Field(min_length=1, max_length=256, description="The range's name.")],
        text: Annotated[
            str | None, Field(max_length=5000, description="Name the first occurrence of this text.")
        ] = None,
        start_index: Annotated[int | None, Field(ge=1, description="Start of the range (inclusive).")] = None,
        end_index: Annotated[int | None, Field(ge=2, description="End of the range (exclusive).")] = None,
        tab_id: TabId = None,
    ) -> DocumentEdit:
        """Name a range of a document: the first occurrence of `text`, or start_index to end_index.

        Scripts and later edits find it again by name; google_get_document_structure lists named ranges.
        """
        doc = tab_view(await fetch(ctx, document_id), tab_id)
        if text is not None:
            found = _find(doc, text)
            if found is None:
                raise InvalidArguments(f"{text!r} does not occur in the document body", [("text", "not found")])
            start_index, end_index = found
        elif start_index is None or end_index is None or end_index <= start_index:
            raise InvalidArguments(
                "give text, or start_index and a larger end_index", [("text", "text or start_index/end_index")]
            )
        rng: dict[str, Any] = {"startIndex": start_index, "endIndex": end_index}
        if doc.tab_id:
            rng["tabId"] = doc.tab_id
        requests = [{"createNamedRange": {"name": name, "range": rng}}]
        answer = await apply(ctx, document_id, requests)
        return _edit(document_id, f"Named {start_index}-{end_index} {name!r}.", requests, answer)


def _tab_document(document: dict[str, Any], tab_id: str | None) -> dict[str, Any]:
    """The part holding named ranges, styles, headers: the tab's `documentTab`, or the document itself."""
    for tab in document.get("tabs") or ():
        if isinstance(tab, dict) and (tab_id is None or (tab.get("tabProperties") or {}).get("tabId") == tab_id):
            found = tab.get("documentTab")
            return found if isinstance(found, dict) else {}
    return document


def _find(doc: DocumentView, text: str) -> tuple[int, int] | None:
    """The index range of the first occurrence of `text` within one paragraph of the body."""
    for element in doc.content:
        paragraph = element.get("paragraph") if isinstance(element, dict) else None
        if not isinstance(paragraph, dict):
            continue
        pieces: list[tuple[int, str]] = []
        for item in paragraph.get("elements") or ():
            run = item.get("textRun")
            if isinstance(run, dict):
                pieces.append((int(item.get("startIndex") or 0), str(run.get("content") or "")))
        joined = "".join(piece for _, piece in pieces)
        found = joined.find(text)
        if found < 0:
            continue
        return _index_of(pieces, found), _index_of(pieces, found + len(text))
    return None


def _index_of(pieces: list[tuple[int, str]], position: int) -> int:
    """The document index of character `position` of the joined runs (runs may not be contiguous)."""
    seen = 0
    for start, piece in pieces:
        if position <= seen + len(piece):
            return start + u16(piece[: position - seen])
        seen += len(piece)
    start, piece = pieces[-1]
    return start + u16(piece)
