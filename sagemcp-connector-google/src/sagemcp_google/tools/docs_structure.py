"""`docs_structure` tools: a document's indexes, named ranges, header and footer, and raw batch updates.

Off by default: `google_get_document`, `google_insert_markdown` and the other `docs` tools cover
reading and writing a document as Markdown; these work on Docs' own structure (UTF-16 indexes,
segments, request objects) for what Markdown cannot say.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from sagemcp import Cursor, Limit, ToolContext, decode_cursor, encode_cursor, tool
from sagemcp.errors import InvalidArguments

from .._docs_markdown import DocumentView, paragraph_text
from .._markdown_docs import u16
from .._scopes import DOCS_READ, DOCS_WRITE
from ..models import DocumentEdit, DocumentElement, DocumentStructure, NamedRange
from .docs import HEADING_TYPES, DocumentId, TabId, apply, edited, fetch, tab_view

if TYPE_CHECKING:
    from ..connector import GoogleConfig

__all__ = ["DocsStructureTools"]


def _element(element: dict[str, Any]) -> DocumentElement:
    start, end = int(element.get("startIndex") or 0), int(element.get("endIndex") or 0)
    if "paragraph" in element:
        paragraph = element["paragraph"] or {}
        named = str((paragraph.get("paragraphStyle") or {}).get("namedStyleType") or "")
        kind = "list_item" if paragraph.get("bullet") else HEADING_TYPES.get(named, "paragraph")
        return DocumentElement(start=start, end=end, type=kind, text=paragraph_text(paragraph)[:100])
    if "table" in element:
        table = element["table"] or {}
        return DocumentElement(
            start=start, end=end, type="table", text=f"{table.get('rows', 0)} rows x {table.get('columns', 0)} columns"
        )
    if "tableOfContents" in element:
        return DocumentElement(start=start, end=end, type="table_of_contents")
    return DocumentElement(start=start, end=end, type="section_break")


class DocsStructureTools:
    """The `docs_structure` group."""

    @tool(read_only=True, group="docs_structure", scopes=DOCS_READ)
    async def get_document_structure(
        self,
        ctx: ToolContext[GoogleConfig],
        document_id: DocumentId,
        tab_id: TabId = None,
        limit: Annotated[int, Limit(maximum=500, what="Elements")] = 100,
        cursor: Cursor = None,
    ) -> DocumentStructure:
        """List a document's body elements with their indexes, and its named ranges, header and footer.

        The indexes serve google_insert_markdown and google_batch_update_document.
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

    @tool(read_only=False, group="docs_structure", destructive=True, idempotent=False, scopes=DOCS_WRITE)
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
        """Apply raw Docs API requests in one atomic batch, for what the simpler tools cannot do."""
        for position, request in enumerate(requests):
            if len(request) != 1:
                raise InvalidArguments(
                    f"requests[{position}] must have exactly one key (the request type), not {len(request)}",
                    [(f"requests.{position}", "one request type per item")],
                )
        answer = await apply(ctx, document_id, requests, required_revision_id)
        return edited(document_id, "Applied the requests.", requests, answer)

    @tool(read_only=False, group="docs_structure", destructive=True, idempotent=True, scopes=DOCS_WRITE)
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
        return edited(document_id, f"Set the {part} (`{segment_id}`).", requests, answer)

    @tool(read_only=False, group="docs_structure", destructive=False, idempotent=False, scopes=DOCS_WRITE)
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
        """Name a range of a document: the first occurrence of `text`, or start_index to end_index."""
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
        return edited(document_id, f"Named {start_index}-{end_index} {name!r}.", requests, answer)


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
