"""Google Docs structure (`documents.get`) to Markdown.

What maps: headings (`HEADING_1`-`HEADING_6`, and `TITLE`/`SUBTITLE` as `#`/`##`), bulleted and
numbered lists with nesting, tables (the first row as the header), links (to URLs, and to headings
or bookmarks as `#` anchors), bold, italic, strikethrough, code (text in a monospace font; whole
paragraphs of it become fenced code blocks), indented paragraphs as block quotes, horizontal rules
(an empty paragraph with a bottom border, which is how `sagemcp_google._markdown_docs` writes one),
images (inline and positioned) as `![alt](uri)`, smart chips (people, rich links, dates) as their text,
and footnotes. A list may mix bulleted and numbered levels, either in one Docs list whose nesting levels
have different glyphs or as a nested list of its own (which is how `_markdown_docs` writes one).
`sagemcp_google._markdown_docs` writes the same constructs back, so Markdown that went through
both comes out unchanged (tests/test_docs_markdown.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MONOSPACE_FONTS",
    "DocumentView",
    "document_markdown",
    "embedded_markdown",
    "escape",
    "paragraph_text",
    "view",
]

MONOSPACE_FONTS = frozenset(
    {
        "courier new",
        "consolas",
        "roboto mono",
        "source code pro",
        "courier",
        "inconsolata",
        "fira code",
        "ubuntu mono",
        "jetbrains mono",
        "menlo",
        "monaco",
        "ibm plex mono",
        "space mono",
        "cousine",
    }
)
_HEADINGS = {f"HEADING_{n}": n for n in range(1, 7)} | {"TITLE": 1, "SUBTITLE": 2}
_ORDERED_GLYPHS = frozenset({"DECIMAL", "ZERO_DECIMAL", "UPPER_ALPHA", "ALPHA", "UPPER_ROMAN", "ROMAN"})
_ESCAPE_RE = re.compile(r"([\\`*_\[\]<>|~])")
_LINE_START_RE = re.compile(r"^(\s*)([#>+-]|\d+[.)])(?=\s|$)")


def escape(text: str) -> str:
    """`text` with the characters Markdown would read as syntax escaped."""
    escaped = _ESCAPE_RE.sub(r"\\\1", text)
    return _LINE_START_RE.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)


@dataclass
class DocumentView:
    """The parts of a document (or of one of its tabs) the conversion reads."""

    content: list[dict[str, Any]]
    lists: Mapping[str, Any] = field(default_factory=dict)
    inline_objects: Mapping[str, Any] = field(default_factory=dict)
    positioned_objects: Mapping[str, Any] = field(default_factory=dict)
    footnotes: Mapping[str, Any] = field(default_factory=dict)
    title: str = ""
    tab_id: str | None = None
    tab_title: str | None = None
    tabs: list[tuple[str, str]] = field(default_factory=list)
    """(tab id, title) of every tab, when the document was read with its tabs."""


def _tab_list(tabs: list[Any], depth: int = 0) -> Iterator[tuple[dict[str, Any], int]]:
    for tab in tabs:
        if isinstance(tab, dict):
            yield tab, depth
            yield from _tab_list(tab.get("childTabs") or [], depth + 1)


def view(document: Mapping[str, Any], tab_id: str | None = None) -> DocumentView:
    """The body to convert: the tab `tab_id` (or the first tab) of a document read with its tabs, else the body."""
    tabs = list(_tab_list(document.get("tabs") or []))
    title = str(document.get("title") or "")
    if tabs:
        names = [
            (
                str((t.get("tabProperties") or {}).get("tabId") or ""),
                str((t.get("tabProperties") or {}).get("title") or ""),
            )
            for t, _ in tabs
        ]
        chosen = next((t for t, _ in tabs if (t.get("tabProperties") or {}).get("tabId") == tab_id), None)
        if chosen is None:
            if tab_id is not None:
                raise KeyError(tab_id)
            chosen = tabs[0][0]
        body = chosen.get("documentTab") or {}
        props = chosen.get("tabProperties") or {}
        return DocumentView(
            content=list((body.get("body") or {}).get("content") or []),
            lists=body.get("lists") or {},
            inline_objects=body.get("inlineObjects") or {},
            positioned_objects=body.get("positionedObjects") or {},
            footnotes=body.get("footnotes") or {},
            title=title,
            tab_id=props.get("tabId"),
            tab_title=props.get("title"),
            tabs=names,
        )
    if tab_id is not None:
        raise KeyError(tab_id)
    return DocumentView(
        content=list((document.get("body") or {}).get("content") or []),
        lists=document.get("lists") or {},
        inline_objects=document.get("inlineObjects") or {},
        positioned_objects=document.get("positionedObjects") or {},
        footnotes=document.get("footnotes") or {},
        title=title,
    )


def paragraph_text(paragraph: Mapping[str, Any]) -> str:
    """The plain text of a paragraph, without its final newline."""
    parts = []
    for element in paragraph.get("elements") or ():
        run = element.get("textRun")
        if isinstance(run, dict):
            parts.append(str(run.get("content") or ""))
    return "".join(parts).rstrip("\n")


def _is_code_style(style: Mapping[str, Any]) -> bool:
    family = (style.get("weightedFontFamily") or {}).get("fontFamily")
    return isinstance(family, str) and family.lower() in MONOSPACE_FONTS


def embedded_markdown(embedded: Mapping[str, Any]) -> str:
    """An embedded object as Markdown: an image as `![alt](uri)`, a drawing as its title in brackets.

    The alt text is the object's title or description (Docs' "alt text"), else `image`. The URI is the one
    the image was inserted from (`sourceUri`) when Docs kept it, else `contentUri`, Docs' own copy, which
    works for about 30 minutes and for whoever holds the link.
    """
    alt = " ".join(str(embedded.get("title") or embedded.get("description") or "").split())
    props = embedded.get("imageProperties")
    if not isinstance(props, Mapping):
        return f"[{escape(alt or 'drawing')}]"
    uri = str(props.get("sourceUri") or props.get("contentUri") or "")
    return f"![{escape(alt or 'image')}]({uri.replace(' ', '%20').replace(')', '%29')})"


@dataclass
class _Run:
    text: str
    bold: bool = False
    italic: bool = False
    strike: bool = False
    code: bool = False
    link: str | None = None
    raw: bool = False
    """Already Markdown (an image, a footnote mark): not escaped, not styled."""

    def key(self) -> tuple[bool, bool, bool, bool, str | None, bool]:
        return (self.bold, self.italic, self.strike, self.code, self.link, self.raw)


class _Converter:
    def __init__(self, doc: DocumentView) -> None:
        self.doc = doc
        self.footnote_numbers: dict[str, int] = {}
        self.counters: dict[tuple[str, int], int] = {}
        self.open_items: list[tuple[str, str]] = []

    # -- inline ----------------------------------------------------------------------------

    def runs(self, paragraph: Mapping[str, Any]) -> list[_Run]:
        runs: list[_Run] = []
        for element in paragraph.get("elements") or ():
            if not isinstance(element, dict):
                continue
            if "textRun" in element:
                run = element["textRun"] or {}
                style = run.get("textStyle") or {}
                link = style.get("link") or {}
                target = link.get("url") or (f"#{link['headingId']}" if link.get("headingId") else None)
                target = target or (f"#{link['bookmarkId']}" if link.get("bookmarkId") else None)
                runs.append(
                    _Run(
                        text=str(run.get("content") or ""),
                        bold=style.get("bold") is True,
                        italic=style.get("italic") is True,
                        strike=style.get("strikethrough") is True,
                        code=_is_code_style(style),
                        link=target,
                    )
                )
            elif "inlineObjectElement" in element:
                runs.append(_Run(self.image(element["inlineObjectElement"].get("inlineObjectId")), raw=True))
            elif "person" in element:
                props = (element["person"] or {}).get("personProperties") or {}
                runs.append(_Run(str(props.get("name") or props.get("email") or "")))
            elif "richLink" in element:
                props = (element["richLink"] or {}).get("richLinkProperties") or {}
                runs.append(_Run(str(props.get("title") or props.get("uri") or ""), link=props.get("uri")))
            elif "dateElement" in element:
                props = (element["dateElement"] or {}).get("dateElementProperties") or {}
                runs.append(_Run(str(props.get("displayText") or "")))
            elif "footnoteReference" in element:
                ref = element["footnoteReference"] or {}
                number = self.footnote_numbers.setdefault(str(ref.get("footnoteId")), len(self.footnote_numbers) + 1)
                runs.append(_Run(f"[^{number}]", raw=True))
            elif "equation" in element:
                runs.append(_Run("[equation]"))
        return runs

    def image(self, object_id: Any) -> str:
        obj = self.doc.inline_objects.get(str(object_id)) or {}
        return embedded_markdown((obj.get("inlineObjectProperties") or {}).get("embeddedObject") or {})

    def positioned_images(self, paragraph: Mapping[str, Any]) -> list[str]:
        """The images anchored to a paragraph (not in its text), each as a block of its own."""
        out = []
        for object_id in paragraph.get("positionedObjectIds") or ():
            obj = self.doc.positioned_objects.get(str(object_id)) or {}
            embedded = (obj.get("positionedObjectProperties") or {}).get("embeddedObject") or {}
            out.append(embedded_markdown(embedded))
        return out

    def inline(self, runs: list[_Run]) -> str:
        merged: list[_Run] = []
        for run in runs:
            text = run.text.replace("\n", "").replace("\u000b", "\n")
            if not text:
                continue
            if merged and merged[-1].key() == run.key():
                merged[-1].text += text
            else:
                merged.append(_Run(text, run.bold, run.italic, run.strike, run.code, run.link, run.raw))
        return "".join(self.render(run) for run in merged)

    @staticmethod
    def render(run: _Run) -> str:
        if run.raw:
            return run.text
        # Markers hug the text: surrounding spaces stay outside them, or Markdown would not see them.
        stripped = run.text.strip()
        if not stripped:
            return run.text
        lead = run.text[: len(run.text) - len(run.text.lstrip())]
        trail = run.text[len(run.text.rstrip()) :]
        if run.code:
            ticks = "``" if "`" in stripped else "`"
            body = f"{ticks}{stripped}{ticks}" if ticks == "`" else f"`` {stripped} ``"
        else:
            body = escape(stripped).replace("\n", "\\\n")
        if run.strike:
            body = f"~~{body}~~"
        if run.italic:
            body = f"*{body}*"
        if run.bold:
            body = f"**{body}**"
        if run.link:
            body = f"[{body}]({run.link})"
        return lead + body + trail

    # -- blocks ----------------------------------------------------------------------------

    def ordered(self, list_id: str, level: int) -> bool:
        props = (self.doc.lists.get(list_id) or {}).get("listProperties") or {}
        levels = props.get("nestingLevels") or []
        spec = levels[level] if level < len(levels) and isinstance(levels[level], dict) else {}
        return spec.get("glyphType") in _ORDERED_GLYPHS

    def blocks(self, content: list[dict[str, Any]]) -> list[str]:
        out: list[str] = []
        code: list[str] = []
        list_lines: list[str] = []
        current_list: Any = None
        self.counters = {}
        self.open_items = []

        def flush_code() -> None:
            if code:
                out.append("```\n" + "\n".join(code) + "\n```")
                code.clear()

        def flush_list() -> None:
            if list_lines:
                out.append("\n".join(list_lines))
                list_lines.clear()
                self.counters = {}
                self.open_items = []

        for element in content:
            if "paragraph" in element:
                paragraph = element["paragraph"] or {}
                runs = self.runs(paragraph)
                style = paragraph.get("paragraphStyle") or {}
                bullet = paragraph.get("bullet")
                visible = [r for r in runs if r.text.strip("\n")]
                if not bullet and visible and all(r.code and not r.raw for r in visible):
                    flush_list()
                    line = "".join(r.text for r in runs).rstrip("\n").replace("\u000b", "\n")
                    code.append(line if line.strip() else "")  # a blank code line is written as one space
                    continue
                flush_code()
                text = self.inline(runs)
                if isinstance(bullet, dict):
                    nested = int(bullet.get("nestingLevel") or 0) > 0
                    if list_lines and not nested and bullet.get("listId") != current_list:
                        flush_list()  # another list: Markdown needs a blank line to keep them apart
                    if not list_lines or not nested:
                        current_list = bullet.get("listId")
                    list_lines.append(self.list_item(bullet, text))
                    list_lines.extend(self.item_indent() + image for image in self.positioned_images(paragraph))
                    continue
                flush_list()
                images = self.positioned_images(paragraph)
                level = _HEADINGS.get(str(style.get("namedStyleType")))
                if level is not None and text.strip():
                    out.append("#" * level + " " + text.strip())
                elif not text.strip():
                    if style.get("borderBottom") and (style["borderBottom"].get("width") or {}).get("magnitude"):
                        out.append("---")
                elif (style.get("indentStart") or {}).get("magnitude") and not style.get("indentFirstLine"):
                    out.append("\n".join("> " + line for line in text.split("\n")))
                else:
                    out.append(text)
                out.extend(images)
            else:
                flush_code()
                flush_list()
                if "table" in element:
                    out.append(self.table(element["table"] or {}))
                elif "tableOfContents" in element:
                    out.append("_[Table of contents]_")
        flush_code()
        flush_list()
        return [block for block in out if block]

    def list_item(self, bullet: Mapping[str, Any], text: str) -> str:
        """One list line: its marker from the glyph of its own list at its level, indented under its parent.

        `open_items` holds, per level, the indentation and marker of the last item written, so a nested
        item lines up under its parent's text whatever list (and kind of list) either belongs to; a level
        deeper than the one below it plus one is written one level deeper than that.
        """
        list_id = str(bullet.get("listId") or "")
        level = min(int(bullet.get("nestingLevel") or 0), len(self.open_items))
        for key in [k for k in self.counters if k[1] > level]:
            del self.counters[key]  # a deeper list restarts its numbering under each item
        del self.open_items[level:]
        indent = ""
        if level:
            parent_indent, parent_marker = self.open_items[level - 1]
            indent = " " * (len(parent_indent) + len(parent_marker) + 1)
        if self.ordered(list_id, int(bullet.get("nestingLevel") or 0)):
            key = (list_id, level)
            number = self.counters.get(key, 0) + 1
            self.counters = {k: v for k, v in self.counters.items() if k[1] != level or k == key}
            self.counters[key] = number
            marker = f"{number}."
        else:
            self.counters = {k: v for k, v in self.counters.items() if k[1] != level}
            marker = "-"
        self.open_items.append((indent, marker))
        return f"{indent}{marker} {text.strip()}"

    def item_indent(self) -> str:
        """The indentation of text that continues the last list item."""
        indent, marker = self.open_items[-1]
        return " " * (len(indent) + len(marker) + 1)

    def table(self, table: Mapping[str, Any]) -> str:
        rows: list[list[str]] = []
        for number, row in enumerate(table.get("tableRows") or ()):
            cells = []
            for cell in (row or {}).get("tableCells") or ():
                parts = []
                for element in (cell or {}).get("content") or ():
                    if "paragraph" in element:
                        runs = self.runs(element["paragraph"] or {})
                        if number == 0:
                            # A header row is bold in Docs; Markdown's header row is bold already.
                            for run in runs:
                                run.bold = False
                        parts.append(self.inline(runs).strip())
                cells.append("<br>".join(p for p in parts if p).replace("|", "\\|").replace("\n", " "))
            rows.append(cells)
        if not rows:
            return ""
        width = max(len(r) for r in rows)
        rows = [r + [""] * (width - len(r)) for r in rows]
        lines = ["| " + " | ".join(rows[0]) + " |", "|" + "|".join(" --- " for _ in range(width)) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
        return "\n".join(lines)

    def footnote_section(self) -> str:
        notes = []
        for footnote_id, number in self.footnote_numbers.items():
            footnote = self.doc.footnotes.get(footnote_id) or {}
            text = " ".join(self.blocks(list(footnote.get("content") or []))).strip()
            notes.append(f"[^{number}]: {text}")
        return "\n".join(notes)


def document_markdown(doc: DocumentView) -> str:
    """The body of `doc` as Markdown (blocks separated by blank lines, footnotes at the end)."""
    converter = _Converter(doc)
    blocks = converter.blocks(doc.content)
    notes = converter.footnote_section()
    if notes:
        blocks.append(notes)
    return "\n\n".join(blocks) + ("\n" if blocks else "")
