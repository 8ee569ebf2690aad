"""Notion rich text to inline Markdown and back.

Reading, each rich-text item becomes Markdown: bold `**`, italic `*`, strikethrough `~~`,
code `` ` ``, underline `<u>…</u>`, links `[text](url)`, inline equations `$…$`, and
mentions as tags in the style of Notion's own enhanced Markdown:

    <mention-page url="https://www.notion.so/…">Title</mention-page>
    <mention-database url="https://www.notion.so/…">Name</mention-database>
    <mention-user url="user://…">Name</mention-user>
    <mention-date start="2026-01-05" end="2026-01-09"/>

Text colours and background colours are not kept. Writing, the same Markdown becomes
rich-text request objects (a tag's inner text is ignored: Notion shows the current title
or name), cut into items of at most 2,000 characters as the API requires.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin

from ._ids import dashed, url_of

__all__ = [
    "MAX_TEXT_CHARS",
    "inline_markdown",
    "inline_to_rich_text",
    "markdown_parser",
    "plain_text",
    "rich_text_from_markdown",
    "text_items",
]

MAX_TEXT_CHARS = 2000
"""Notion's limit on one rich-text item's `text.content`."""

_MARKS = ("bold", "italic", "strikethrough", "underline")
_OPEN = {"bold": "**", "italic": "*", "strikethrough": "~~", "underline": "<u>"}
_CLOSE = {"bold": "**", "italic": "*", "strikethrough": "~~", "underline": "</u>"}
_ALWAYS_ESCAPED = re.compile(r"([\\`*\[\]<>$~])")
_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_LINE_START = re.compile(r"^([ \t]*)([#+=-]|\d+[.)])", re.MULTILINE)
_LINKABLE = ("http://", "https://", "mailto:", "tel:")
_TAG = re.compile(r"^<(/?)([a-z][a-z-]*)((?:\s+[a-z_-]+=\"[^\"]*\")*)\s*(/?)>$", re.IGNORECASE)
_ATTR = re.compile(r"([a-z_-]+)=\"([^\"]*)\"", re.IGNORECASE)


@functools.cache
def markdown_parser() -> MarkdownIt:
    """The Markdown dialect of the connector: CommonMark with tables, strikethrough and `$` math."""
    from mdit_py_plugins.tasklists import tasklists_plugin

    parser = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    # Pandoc's rules for `$`: no space inside the delimiters and no digit after the closing one,
    # so "costs $5 and $10" stays text.
    parser.use(dollarmath_plugin, allow_space=False, allow_digits=False, double_inline=False)
    parser.use(tasklists_plugin)
    return parser


# -- reading --------------------------------------------------------------------------------------


def plain_text(items: Iterable[Any]) -> str:
    """The text of rich-text items without any formatting (Notion's `plain_text`)."""
    parts = []
    for item in items:
        if isinstance(item, dict):
            text = item.get("plain_text")
            if not isinstance(text, str):
                text = _item_text(item)
            parts.append(text)
    return "".join(parts)


def _item_text(item: dict[str, Any]) -> str:
    kind = item.get("type")
    if kind == "text":
        content = _obj(item.get("text")).get("content")
        return content if isinstance(content, str) else ""
    if kind == "equation":
        expression = _obj(item.get("equation")).get("expression")
        return expression if isinstance(expression, str) else ""
    return ""


def escape(text: str, *, in_table: bool = False, line_start: bool = True) -> str:
    """`text` with every character that Markdown would read as syntax escaped.

    `line_start` False: `text` continues a line, so only the lines after its first newline
    can start with a block marker (`#`, `-`, `1.`) that needs escaping.
    """
    text = text.replace("\r\n", "\n")
    text = _ALWAYS_ESCAPED.sub(r"\\\1", text)
    text = _UNDERSCORE.sub(r"\\_", text)
    text = _ENTITY.sub("\\&", text)
    head, newline, rest = ("", "", text) if line_start else text.partition("\n")
    rest = _LINE_START.sub(lambda m: f"{m.group(1)}{_escape_marker(m.group(2))}", rest)
    text = head + newline + rest if not line_start else rest
    if in_table:
        text = text.replace("|", "\\|")
    return text


def _escape_marker(marker: str) -> str:
    """A block marker at a line start, escaped: `#` → `\\#`, `1.` → `1\\.`."""
    if marker[-1] in ".)" and marker[:-1].isdigit():
        return marker[:-1] + "\\" + marker[-1]
    return "\\" + marker


@dataclass
class _Writer:
    """Emits rich-text items as Markdown, opening and closing marks only where they change."""

    in_table: bool = False
    out: list[str] = field(default_factory=list)
    stack: list[str] = field(default_factory=list)
    link: str | None = None
    pending: str = ""

    def close_to(self, keep: Sequence[str], link: str | None) -> None:
        # Marks close in reverse order of opening; a link change closes everything inside it.
        if link != self.link:
            keep = ()
        while self.stack and (len(self.stack) > len(keep) or self.stack != list(keep[: len(self.stack)])):
            self.out.append(_CLOSE[self.stack.pop()])
        if link != self.link and self.link is not None:
            self.out.append(f"]({_link_target(self.link)})")
            self.link = None

    def emit(self, text: str, marks: Sequence[str], link: str | None, *, raw: bool = False) -> None:
        core = text if raw else text.strip(" \t")
        if not core:
            self.pending += text
            return
        lead = "" if raw else text[: len(text) - len(text.lstrip(" \t"))]
        trail = "" if raw else text[len(text.rstrip(" \t")) :]
        # Keep the marks open in the same order, so "**a *b***" closes *b* before **.
        common: list[str] = []
        for mark in self.stack:
            if mark in marks and link == self.link:
                common.append(mark)
            else:
                break
        self.close_to(common, link)
        self.out.append(self.pending + lead)
        self.pending = ""
        if link is not None and self.link is None:
            self.out.append("[")
            self.link = link
        for mark in marks:
            if mark not in self.stack:
                self.out.append(_OPEN[mark])
                self.stack.append(mark)
        at_start = not any(self.out) or "".join(self.out[-2:]).endswith("\n")
        self.out.append(core if raw else escape(core, in_table=self.in_table, line_start=at_start))
        self.pending = trail

    def finish(self) -> str:
        self.close_to((), None)
        self.out.append(self.pending)
        return "".join(self.out)


def _link_target(url: str) -> str:
    return "<" + url.replace(">", "%3E") + ">" if re.search(r"[\s()<>]", url) else url


def inline_markdown(items: Iterable[Any], *, in_table: bool = False) -> str:
    """Rich-text items as inline Markdown (see the module docstring for the notation)."""
    writer = _Writer(in_table=in_table)
    for item in items:
        if not isinstance(item, dict):
            continue
        annotations = _obj(item.get("annotations"))
        marks = [mark for mark in _MARKS if annotations.get(mark) is True]
        kind = item.get("type")
        if kind == "text":
            text = _obj(item.get("text"))
            content = text.get("content") if isinstance(text.get("content"), str) else item.get("plain_text")
            link = _obj(text.get("link")).get("url") or item.get("href")
            link = link if isinstance(link, str) and link else None
            if not isinstance(content, str):
                continue
            if annotations.get("code") is True and content.strip():
                writer.emit(_code_span(content), marks, link, raw=True)
            else:
                writer.emit(content, marks, link)
        elif kind == "equation":
            expression = _obj(item.get("equation")).get("expression")
            if isinstance(expression, str) and expression.strip():
                writer.emit(f"${expression.strip()}$", marks, None, raw=True)
        elif kind == "mention":
            writer.emit(_mention(item), marks, None, raw=True)
    return writer.finish()


def _code_span(content: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
    fence = "`" * (longest + 1)
    # Markdown drops one space on each side of a code span that has both, and needs one next to a backtick.
    edge = content.startswith("`") or content.endswith("`")
    spaced = content.startswith(" ") and content.endswith(" ") and bool(content.strip())
    pad = " " if edge or spaced else ""
    return f"{fence}{pad}{content}{pad}{fence}"


def _mention(item: dict[str, Any]) -> str:
    mention = _obj(item.get("mention"))
    kind = mention.get("type")
    label = html.escape(str(item.get("plain_text") or ""), quote=False)
    data = _obj(mention.get(kind)) if isinstance(kind, str) else {}
    if kind in ("page", "database") and isinstance(data.get("id"), str):
        return f'<mention-{kind} url="{url_of(data["id"])}">{label}</mention-{kind}>'
    if kind == "user" and isinstance(data.get("id"), str):
        return f'<mention-user url="user://{data["id"]}">{label.lstrip("@")}</mention-user>'
    if kind == "date" and isinstance(data.get("start"), str):
        attrs = f'start="{html.escape(data["start"])}"'
        for key in ("end", "time_zone"):
            if isinstance(data.get(key), str):
                attrs += f' {key}="{html.escape(data[key])}"'
        return f"<mention-date {attrs}/>"
    href = item.get("href")
    if isinstance(href, str) and href:
        return f"[{escape(str(item.get('plain_text') or href))}]({_link_target(href)})"
    return escape(str(item.get("plain_text") or ""))


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# -- writing --------------------------------------------------------------------------------------


def text_items(text: str, annotations: dict[str, Any] | None = None, link: str | None = None) -> list[dict[str, Any]]:
    """Plain `text` as rich-text request items of at most `MAX_TEXT_CHARS` characters each."""
    items: list[dict[str, Any]] = []
    for start in range(0, len(text), MAX_TEXT_CHARS):
        body: dict[str, Any] = {"content": text[start : start + MAX_TEXT_CHARS]}
        if link:
            body["link"] = {"url": link}
        item: dict[str, Any] = {"type": "text", "text": body}
        if annotations:
            item["annotations"] = dict(annotations)
        items.append(item)
    return items


def rich_text_from_markdown(text: str) -> list[dict[str, Any]]:
    """Inline Markdown (one paragraph's worth) as rich-text request items."""
    if not text:
        return []
    tokens = markdown_parser().parseInline(text)
    children = tokens[0].children if tokens and tokens[0].children else []
    return inline_to_rich_text(children)


@dataclass
class _Reader:
    items: list[dict[str, Any]] = field(default_factory=list)
    marks: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    mention: dict[str, Any] | None = None

    def annotations(self, *, code: bool = False) -> dict[str, Any]:
        found = {mark: True for mark in _MARKS if mark in self.marks}
        if code:
            found["code"] = True
        return found

    def text(self, content: str, *, code: bool = False) -> None:
        if self.mention is not None or not content:
            return  # a mention's inner text is Notion's to compute
        link = (self.links[-1] if self.links else None) or None
        annotations = self.annotations(code=code)
        last = self.items[-1] if self.items else None
        if (
            last is not None
            and last.get("type") == "text"
            and last.get("annotations", {}) == annotations
            and last["text"].get("link", {}).get("url") == link
            and len(last["text"]["content"]) + len(content) <= MAX_TEXT_CHARS
        ):
            last["text"]["content"] += content
            return
        self.items.extend(text_items(content, annotations or None, link))

    def toggle(self, mark: str, on: bool) -> None:
        if on:
            self.marks.append(mark)
        elif mark in self.marks:
            self.marks.remove(mark)

    def html(self, raw: str) -> None:
        match = _TAG.match(raw.strip())
        if match is None:
            if raw.strip().lower() in ("<br>", "<br/>", "<br />"):
                self.text("\n")
            else:
                self.text(raw)
            return
        closing, name, attr_text, self_closing = match.groups()
        name = name.lower()
        attrs = {key.lower(): html.unescape(value) for key, value in _ATTR.findall(attr_text or "")}
        if name == "u":
            self.toggle("underline", not closing)
        elif name == "br":
            self.text("\n")
        elif name.startswith("mention-"):
            if closing:
                if self.mention is not None:
                    self.items.append(self.mention)
                    self.mention = None
                return
            item = _mention_request(name[len("mention-") :], attrs)
            if item is None:
                self.text(raw)
            elif self_closing:
                self.items.append(item)
            else:
                self.mention = item
        else:
            self.text(raw)


def _mention_request(kind: str, attrs: dict[str, str]) -> dict[str, Any] | None:
    """The rich-text request item of a `<mention-…>` tag, or None when it is not one we can write."""
    if kind in ("page", "database", "user"):
        target = attrs.get("url") or attrs.get("id") or ""
        if kind == "user" and target.startswith("user://"):
            target = target[len("user://") :]
        try:
            object_id = dashed(target)
        except ValueError:
            return None
        return {"type": "mention", "mention": {"type": kind, kind: {"id": object_id}}}
    if kind == "date" and attrs.get("start"):
        date: dict[str, Any] = {"start": attrs["start"]}
        for key in ("end", "time_zone"):
            if attrs.get(key):
                date[key] = attrs[key]
        return {"type": "mention", "mention": {"type": "date", "date": date}}
    return None


def inline_to_rich_text(children: Sequence[Token]) -> list[dict[str, Any]]:
    """markdown-it inline tokens as rich-text request items."""
    reader = _Reader()
    for token in children:
        kind = token.type
        if kind == "text":
            reader.text(token.content)
        elif kind in ("softbreak", "hardbreak"):
            reader.text("\n")
        elif kind == "code_inline":
            reader.text(token.content, code=True)
        elif kind in ("strong_open", "strong_close"):
            reader.toggle("bold", kind.endswith("open"))
        elif kind in ("em_open", "em_close"):
            reader.toggle("italic", kind.endswith("open"))
        elif kind in ("s_open", "s_close"):
            reader.toggle("strikethrough", kind.endswith("open"))
        elif kind == "link_open":
            # Notion accepts absolute links only; a relative one ("#intro") stays plain text.
            href = str(token.attrs.get("href") or "")
            reader.links.append(href if href.startswith(_LINKABLE) else "")
        elif kind == "link_close":
            if reader.links:
                reader.links.pop()
        elif kind == "math_inline":
            if reader.mention is None:
                reader.items.append({"type": "equation", "equation": {"expression": token.content}})
        elif kind == "html_inline":
            reader.html(token.content)
        elif kind == "image":
            # An image inside text cannot be a block: keep it as a link to the image.
            alt = "".join(child.content for child in token.children or []) or "image"
            reader.links.append(str(token.attrs.get("src") or ""))
            reader.text(alt)
            reader.links.pop()
        else:
            reader.text(token.content)
    if reader.mention is not None:  # an unclosed mention tag: still a mention
        reader.items.append(reader.mention)
    for item in reader.items:
        link = item.get("text", {}).get("link")
        if link is not None and not link.get("url"):
            del item["text"]["link"]
    return reader.items
