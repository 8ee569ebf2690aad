"""Markdown to Google Docs `batchUpdate` requests.

Markdown is parsed with markdown-it (CommonMark plus GFM tables and strikethrough) into paragraphs
and tables, then written with `insertText` / `insertTable` and style requests. The blocks are
inserted **in reverse order at one index**: each insertion pushes what was inserted before it
further down, so the ranges of every style request are exact when it is applied, whatever the
later blocks do (bullets remove the tabs that give their nesting level; tables add structure).

Docs indexes count UTF-16 code units; every offset here is counted that way (`u16`), and an inline image
takes one. Images are inserted with `insertInlineImage` from their URL (Docs fetches it once; the API has
no field for alt text, so Docs keeps none). A nested list of the other kind than its parent (bullets in a
numbered list, or numbers in a bulleted one) becomes a Docs list of its own, since a Docs list has one
kind of glyph per nesting level. Inserted text
takes the style of the text around it, so each inserted chunk first gets its styles reset (normal
paragraphs, no bold/italic/link/font, no bullets) before its own are applied. The Docs rules this
relies on (https://developers.google.com/workspace/docs/api/reference/rest/v1/documents/request):
`insertText` with a newline splits the paragraph it lands in; `createParagraphBullets` turns
leading tabs into nesting levels and removes them, and joins the list of the paragraph just before
when that list has the same preset; `insertTable` inserts a newline before the table, whose first
cell's paragraph then starts 4 indexes after the insertion point.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

__all__ = ["CODE_FONT", "MAX_IMAGE_URL", "Block", "Paragraph", "Run", "Table", "parse", "requests_for", "u16"]

CODE_FONT = "Courier New"
QUOTE_INDENT_PT = 36
_PARSER = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
_TEXT_RESET = "bold,italic,strikethrough,underline,link,weightedFontFamily"
MAX_IMAGE_URL = 2000
"""Docs fetches an inserted image from a public URL of at most 2 kB."""
_IMAGE_URL = re.compile(r"^https?://[^\s]+$", re.IGNORECASE)
_PARAGRAPH_RESET = "namedStyleType,indentStart,indentFirstLine,borderBottom"


def u16(text: str) -> int:
    """The length of `text` in UTF-16 code units, as Docs counts indexes."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Run:
    text: str
    bold: bool = False
    italic: bool = False
    strike: bool = False
    code: bool = False
    link: str | None = None
    image: str | None = None
    """The URL of an inline image; the run then has no text and takes one index."""

    @property
    def length(self) -> int:
        """The run's size in Docs indexes: UTF-16 code units, or 1 for an image."""
        return 1 if self.image is not None else u16(self.text)


@dataclass
class Paragraph:
    runs: list[Run] = field(default_factory=list)
    style: str = "NORMAL_TEXT"
    kind: str = "plain"
    """plain, code, quote or rule."""
    bullet: tuple[int, bool, int] | None = None
    """(list number, ordered, nesting level) for a list item."""
    lists: tuple[tuple[int, bool], ...] = ()
    """For a list item, (id, ordered) of each Markdown list it sits in, outermost first."""

    @property
    def text(self) -> str:
        """The paragraph's text (images, which are not text, left out)."""
        return "".join(run.text for run in self.runs)


@dataclass
class Table:
    rows: list[list[list[Run]]]


Block = Paragraph | Table


class _Inline:
    """Walks one inline token's children into runs."""

    def __init__(self) -> None:
        self.bold = 0
        self.italic = 0
        self.strike = 0
        self.links: list[str | None] = []
        self.runs: list[Run] = []

    def add(self, text: str, *, code: bool = False) -> None:
        if text:
            link = self.links[-1] if self.links else None
            self.runs.append(Run(text, self.bold > 0, self.italic > 0, self.strike > 0, code, link))

    def add_image(self, src: str | None, alt: str) -> None:
        """An image Docs can fetch becomes an inline image; any other stays its alt text, linked to it."""
        if src and _IMAGE_URL.match(src) and len(src) <= MAX_IMAGE_URL:
            self.runs.append(Run("", image=src))
            return
        self.links.append(src)
        self.add(alt or "image")
        self.links.pop()

    def walk(self, tokens: list[Token]) -> list[Run]:
        for token in tokens:
            kind = token.type
            if kind == "text":
                self.add(token.content)
            elif kind == "softbreak":
                self.add(" ")
            elif kind == "hardbreak":
                self.add("\u000b")  # a line break inside the paragraph
            elif kind == "code_inline":
                self.add(token.content, code=True)
            elif kind == "strong_open":
                self.bold += 1
            elif kind == "strong_close":
                self.bold -= 1
            elif kind == "em_open":
                self.italic += 1
            elif kind == "em_close":
                self.italic -= 1
            elif kind == "s_open":
                self.strike += 1
            elif kind == "s_close":
                self.strike -= 1
            elif kind == "link_open":
                href = token.attrGet("href")
                self.links.append(str(href) if href else None)
            elif kind == "link_close":
                if self.links:
                    self.links.pop()
            elif kind == "image":
                src = token.attrGet("src")
                self.add_image(str(src) if src else None, token.content)
            elif kind == "html_inline":
                self.add(token.content)
        return self.runs


def _inline(token: Token) -> list[Run]:
    return _Inline().walk(token.children or [])


def parse(markdown: str) -> list[Block]:
    """The paragraphs and tables of a Markdown text, in order."""
    tokens = _PARSER.parse(markdown)
    blocks: list[Block] = []
    lists: list[tuple[int, bool]] = []
    list_number = 0
    opened = 0
    quote = 0
    heading: str | None = None
    i = 0
    while i < len(tokens):
        token = tokens[i]
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            if not lists:
                list_number += 1
            opened += 1
            lists.append((opened, kind == "ordered_list_open"))
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "blockquote_open":
            quote += 1
        elif kind == "blockquote_close":
            quote -= 1
        elif kind == "heading_open":
            heading = f"HEADING_{token.tag[1:]}"
        elif kind == "heading_close":
            heading = None
        elif kind == "inline":
            paragraph = Paragraph(runs=_inline(token))
            if heading is not None:
                paragraph.style = heading
            elif lists:
                paragraph.bullet = (list_number, lists[-1][1], len(lists) - 1)
                paragraph.lists = tuple(lists)
            elif quote:
                paragraph.kind = "quote"
            blocks.append(paragraph)
        elif kind in ("fence", "code_block"):
            lines = token.content.rstrip("\n").split("\n")
            # An empty line of code keeps one space, or it would not read back as code.
            blocks.extend(Paragraph(runs=[Run(line or " ", code=True)], kind="code") for line in lines)
        elif kind == "hr":
            blocks.append(Paragraph(kind="rule"))
        elif kind == "html_block":
            blocks.extend(Paragraph(runs=[Run(line)]) for line in token.content.rstrip("\n").split("\n"))
        elif kind == "table_open":
            rows: list[list[list[Run]]] = []
            i += 1
            while tokens[i].type != "table_close":
                if tokens[i].type == "tr_open":
                    rows.append([])
                elif tokens[i].type == "inline":
                    rows[-1].append(_inline(tokens[i]))
                i += 1
            blocks.append(Table(rows=rows))
        i += 1
    return blocks


def _location(index: int, tab_id: str | None) -> dict[str, Any]:
    return {"index": index, "tabId": tab_id} if tab_id else {"index": index}


def _range(start: int, end: int, tab_id: str | None) -> dict[str, Any]:
    found: dict[str, Any] = {"startIndex": start, "endIndex": end}
    if tab_id:
        found["tabId"] = tab_id
    return found


def _run_styles(runs: list[Run], start: int, tab_id: str | None, *, bold_all: bool = False) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = []
    at = start
    for run in runs:
        length = run.length
        style: dict[str, Any] = {}
        if run.image is None:
            if run.bold or bold_all:
                style["bold"] = True
            if run.italic:
                style["italic"] = True
            if run.strike:
                style["strikethrough"] = True
            if run.code:
                style["weightedFontFamily"] = {"fontFamily": CODE_FONT}
            if run.link:
                style["link"] = {"url": run.link}
        if style and length:
            requests.append(
                {
                    "updateTextStyle": {
                        "range": _range(at, at + length, tab_id),
                        "textStyle": style,
                        "fields": ",".join(style),
                    }
                }
            )
        at += length
    return requests


def _images(runs: list[Run], start: int, tab_id: str | None) -> list[dict[str, Any]]:
    """`insertInlineImage` for each image of `runs` laid out from `start`, in increasing index order.

    The text was inserted without them; inserting the first image at its final index shifts the text after
    it by one, which puts every later image's final index where its text neighbour now is.
    """
    requests: list[dict[str, Any]] = []
    at = start
    for run in runs:
        if run.image is not None:
            requests.append({"insertInlineImage": {"uri": run.image, "location": _location(at, tab_id)}})
        at += run.length
    return requests


def _sublists(paragraphs: list[Paragraph]) -> list[tuple[int, int, bool]]:
    """(first, last paragraph position, ordered) of each nested Markdown list whose kind differs from the
    list holding its parent item, outermost first: Docs gives each level of a list one kind of glyph, so
    such a list becomes a Docs list of its own."""
    found: list[tuple[int, int, bool]] = []
    seen: dict[int, int] = {}
    for position, paragraph in enumerate(paragraphs):
        for depth in range(1, len(paragraph.lists)):
            list_id, ordered = paragraph.lists[depth]
            if ordered == paragraph.lists[depth - 1][1]:
                continue
            if list_id in seen:
                first, _, kind = found[seen[list_id]]
                found[seen[list_id]] = (first, position, kind)
            else:
                seen[list_id] = len(found)
                found.append((position, position, ordered))
    return found  # in order of their first item: an outer list before the lists inside it


def _bullets(paragraphs: list[Paragraph], starts: list[int], stop: int, tab_id: str | None) -> list[dict[str, Any]]:
    """Bullets for one run of list items (`starts`: where each paragraph starts, its leading tabs included).

    One `createParagraphBullets` over the whole run, in the kind of its outermost list, sets every
    paragraph's nesting level from its tabs and removes them. Each nested list of the other kind is then
    bulleted again as a list of its own: its tabs are inserted anew (the level is read from them) and
    removed by the request, so the indexes after each step are those after the first.
    """
    ordered = bool(paragraphs[0].bullet and paragraphs[0].bullet[1])
    requests: list[dict[str, Any]] = [
        {"createParagraphBullets": {"range": _range(starts[0], stop, tab_id), "bulletPreset": _preset(ordered)}}
    ]
    levels = [p.bullet[2] if p.bullet else 0 for p in paragraphs]
    removed = [sum(levels[:i]) for i in range(len(paragraphs))]
    after = [start - gone for start, gone in zip(starts, removed, strict=True)]
    ends = [*after[1:], stop - sum(levels)]
    for first, last, kind in _sublists(paragraphs):
        tabs = [(after[i], levels[i]) for i in range(first, last + 1) if levels[i]]
        requests.extend(
            {"insertText": {"location": _location(at, tab_id), "text": "\t" * count}} for at, count in reversed(tabs)
        )
        end = ends[last] + sum(count for _, count in tabs)
        requests.append(
            {"createParagraphBullets": {"range": _range(after[first], end, tab_id), "bulletPreset": _preset(kind)}}
        )
    return requests


def _preset(ordered: bool) -> str:
    return "NUMBERED_DECIMAL_ALPHA_ROMAN" if ordered else "BULLET_DISC_CIRCLE_SQUARE"


def _chunk(paragraphs: list[Paragraph], at: int, tab_id: str | None) -> list[dict[str, Any]]:
    """Requests inserting consecutive paragraphs at `at`, styled."""
    prefixes = ["\t" * p.bullet[2] if p.bullet else "" for p in paragraphs]
    whole = "".join(prefix + p.text + "\n" for prefix, p in zip(prefixes, paragraphs, strict=True))
    starts: list[int] = []
    position = at
    for prefix, paragraph in zip(prefixes, paragraphs, strict=True):
        starts.append(position)
        position += u16(prefix) + sum(run.length for run in paragraph.runs) + 1
    end = position
    everything = _range(at, end, tab_id)
    requests: list[dict[str, Any]] = [{"insertText": {"location": _location(at, tab_id), "text": whole}}]
    for prefix, paragraph, start in zip(prefixes, paragraphs, starts, strict=True):
        requests.extend(_images(paragraph.runs, start + u16(prefix), tab_id))
    requests += [
        {
            "updateParagraphStyle": {
                "range": everything,
                "paragraphStyle": {"namedStyleType": "NORMAL_TEXT"},
                "fields": _PARAGRAPH_RESET,
            }
        },
        {"updateTextStyle": {"range": everything, "textStyle": {}, "fields": _TEXT_RESET}},
        {"deleteParagraphBullets": {"range": everything}},
    ]
    runs_of_items: list[tuple[int, int]] = []
    """(first, last paragraph position) of each run of list items that becomes one Docs list."""
    for position, (paragraph, start) in enumerate(zip(paragraphs, starts, strict=True)):
        stop = starts[position + 1] if position + 1 < len(starts) else end
        whole_paragraph = _range(start, stop, tab_id)
        text_start = start + (paragraph.bullet[2] if paragraph.bullet else 0)
        if paragraph.style != "NORMAL_TEXT":
            requests.append(
                {
                    "updateParagraphStyle": {
                        "range": whole_paragraph,
                        "paragraphStyle": {"namedStyleType": paragraph.style},
                        "fields": "namedStyleType",
                    }
                }
            )
        if paragraph.kind == "quote":
            indent = {"indentStart": {"magnitude": QUOTE_INDENT_PT, "unit": "PT"}}
            requests.append(
                {"updateParagraphStyle": {"range": whole_paragraph, "paragraphStyle": indent, "fields": "indentStart"}}
            )
        elif paragraph.kind == "rule":
            border = {
                "color": {"color": {"rgbColor": {"red": 0.6, "green": 0.6, "blue": 0.6}}},
                "width": {"magnitude": 1, "unit": "PT"},
                "padding": {"magnitude": 1, "unit": "PT"},
                "dashStyle": "SOLID",
            }
            requests.append(
                {
                    "updateParagraphStyle": {
                        "range": whole_paragraph,
                        "paragraphStyle": {"borderBottom": border},
                        "fields": "borderBottom",
                    }
                }
            )
        requests.extend(_run_styles(paragraph.runs, text_start, tab_id))
        if paragraph.bullet:
            previous = paragraphs[runs_of_items[-1][1]] if runs_of_items else None
            if (
                previous is not None
                and runs_of_items[-1][1] == position - 1
                and previous.bullet is not None
                and previous.bullet[0] == paragraph.bullet[0]
            ):
                runs_of_items[-1] = (runs_of_items[-1][0], position)
            else:
                runs_of_items.append((position, position))
    # Bullets last and from the end: each run removes its tabs, which moves only what follows it.
    for first, last in reversed(runs_of_items):
        stop = starts[last + 1] if last + 1 < len(starts) else end
        requests.extend(_bullets(paragraphs[first : last + 1], starts[first : last + 1], stop, tab_id))
    return requests


def _table(table: Table, at: int, tab_id: str | None) -> list[dict[str, Any]]:
    """Requests inserting a table at `at`, its first row bold as a header, cells filled from the last one."""
    rows = len(table.rows)
    columns = max((len(r) for r in table.rows), default=1) or 1
    before = _range(at, at + 1, tab_id)
    requests: list[dict[str, Any]] = [
        {"insertTable": {"rows": rows, "columns": columns, "location": _location(at, tab_id)}},
        # The newline Docs adds before the table splits the paragraph there, bullet and style included.
        {"deleteParagraphBullets": {"range": before}},
        {
            "updateParagraphStyle": {
                "range": before,
                "paragraphStyle": {"namedStyleType": "NORMAL_TEXT"},
                "fields": _PARAGRAPH_RESET,
            }
        },
    ]
    table_start = at + 1  # Docs puts a newline before the table
    for r in range(rows - 1, -1, -1):
        for c in range(columns - 1, -1, -1):
            runs = table.rows[r][c] if c < len(table.rows[r]) else []
            length = sum(run.length for run in runs)
            if not length:
                continue
            cell = table_start + 3 + r * (1 + 2 * columns) + 2 * c
            text = "".join(run.text for run in runs)
            if text:
                requests.append({"insertText": {"location": _location(cell, tab_id), "text": text}})
            requests.extend(_images(runs, cell, tab_id))
            requests.append(
                {
                    "updateTextStyle": {
                        "range": _range(cell, cell + length, tab_id),
                        "textStyle": {},
                        "fields": _TEXT_RESET,
                    }
                }
            )
            requests.extend(_run_styles(runs, cell, tab_id, bold_all=r == 0))
    return requests


def requests_for(markdown: str, at: int, tab_id: str | None = None) -> list[dict[str, Any]]:
    """The requests that insert `markdown` at index `at`, which must be where a paragraph starts."""
    blocks = parse(markdown)
    groups: list[list[Paragraph] | Table] = []
    for block in blocks:
        if isinstance(block, Table):
            groups.append(block)
        elif groups and isinstance(groups[-1], list):
            groups[-1].append(block)
        else:
            groups.append([block])
    requests: list[dict[str, Any]] = []
    for group in reversed(groups):
        requests.extend(_table(group, at, tab_id) if isinstance(group, Table) else _chunk(group, at, tab_id))
    return requests
