"""Markdown to Google Docs `batchUpdate` requests.

Markdown is parsed with markdown-it (CommonMark plus GFM tables and strikethrough) into paragraphs
and tables, then written with `insertText` / `insertTable` and style requests. The blocks are
inserted **in reverse order at one index**: each insertion pushes what was inserted before it
further down, so the ranges of every style request are exact when it is applied, whatever the
later blocks do (bullets remove the tabs that give their nesting level; tables add structure).

Docs indexes count UTF-16 code units; every offset here is counted that way (`u16`). Inserted text
takes the style of the text around it, so each inserted chunk first gets its styles reset (normal
paragraphs, no bold/italic/link/font, no bullets) before its own are applied. The Docs rules this
relies on (https://developers.google.com/workspace/docs/api/reference/rest/v1/documents/request):
`insertText` with a newline splits the paragraph it lands in; `createParagraphBullets` turns
leading tabs into nesting levels and removes them; `insertTable` inserts a newline before the
table, whose first cell's paragraph then starts 4 indexes after the insertion point.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

__all__ = ["CODE_FONT", "Block", "Paragraph", "Run", "Table", "parse", "requests_for", "u16"]

CODE_FONT = "Courier New"
QUOTE_INDENT_PT = 36
_PARSER = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
_TEXT_RESET = "bold,italic,strikethrough,underline,link,weightedFontFamily"
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


@dataclass
class Paragraph:
    runs: list[Run] = field(default_factory=list)
    style: str = "NORMAL_TEXT"
    kind: str = "plain"
    """plain, code, quote or rule."""
    bullet: tuple[int, bool, int] | None = None
    """(list number, ordered, nesting level) for a list item."""

    @property
    def text(self) -> str:
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
                self.links.append(str(src) if src else None)
                self.add(token.content or "image")
                self.links.pop()
            elif kind == "html_inline":
                self.add(token.content)
        return self.runs


def _inline(token: Token) -> list[Run]:
    return _Inline().walk(token.children or [])


def parse(markdown: str) -> list[Block]:
    """The paragraphs and tables of a Markdown text, in order."""
    tokens = _PARSER.parse(markdown)
    blocks: list[Block] = []
    lists: list[bool] = []
    list_number = 0
    quote = 0
    heading: str | None = None
    i = 0
    while i < len(tokens):
        token = tokens[i]
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            if not lists:
                list_number += 1
            lists.append(kind == "ordered_list_open")
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
                paragraph.bullet = (list_number, lists[-1], len(lists) - 1)
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
        length = u16(run.text)
        style: dict[str, Any] = {}
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


def _chunk(paragraphs: list[Paragraph], at: int, tab_id: str | None) -> list[dict[str, Any]]:
    """Requests inserting consecutive paragraphs at `at`, styled."""
    texts = ["\t" * p.bullet[2] + p.text if p.bullet else p.text for p in paragraphs]
    whole = "".join(text + "\n" for text in texts)
    end = at + u16(whole)
    everything = _range(at, end, tab_id)
    requests: list[dict[str, Any]] = [
        {"insertText": {"location": _location(at, tab_id), "text": whole}},
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
    bullets: list[tuple[int, int, bool, int]] = []
    """(start, end, ordered, list number) of each run of list items that becomes one Docs list."""
    start = at
    for paragraph, text in zip(paragraphs, texts, strict=True):
        stop = start + u16(text) + 1
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
            number, ordered, _ = paragraph.bullet
            if bullets and bullets[-1][1] == start and bullets[-1][3] == number:
                bullets[-1] = (bullets[-1][0], stop, bullets[-1][2], number)
            else:
                bullets.append((start, stop, ordered, number))
        start = stop
    # Bullets last and from the end: each removes its tabs, which moves only what follows it.
    for first, last, ordered, _ in reversed(bullets):
        preset = "NUMBERED_DECIMAL_ALPHA_ROMAN" if ordered else "BULLET_DISC_CIRCLE_SQUARE"
        requests.append({"createParagraphBullets": {"range": _range(first, last, tab_id), "bulletPreset": preset}})
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
            text = "".join(run.text for run in runs)
            if not text:
                continue
            cell = table_start + 3 + r * (1 + 2 * columns) + 2 * c
            requests.append({"insertText": {"location": _location(cell, tab_id), "text": text}})
            requests.append(
                {
                    "updateTextStyle": {
                        "range": _range(cell, cell + u16(text), tab_id),
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
