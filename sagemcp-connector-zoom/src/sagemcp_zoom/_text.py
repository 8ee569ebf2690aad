"""Meeting agendas between Markdown (what a model writes and reads) and Zoom's plain text.

Zoom shows an agenda as plain text: `**Goals**` would appear with its asterisks. The write
tools take Markdown and send `markdown_to_plain` of it (markdown-it-py parses it: emphasis
is dropped, links become `text (url)`, list items keep their `- ` / `1. ` markers, line
breaks and paragraphs are kept). The read tools show an agenda with `plain_to_markdown`,
which escapes only what Markdown would otherwise interpret, so the text a person typed in
Zoom reads the same once rendered, and a URL with an underscore stays copyable.

Round trip: for plain text `p`, `markdown_to_plain(plain_to_markdown(p)) == normalise(p)`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.tree import SyntaxTreeNode

__all__ = ["markdown_to_plain", "normalise", "plain_to_markdown"]

_MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])
_ALWAYS = set("`*[]<|\\")
_LINE_START = set("#>-+=~")
_ORDERED_RE = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")
_ENTITY_RE = re.compile(r"&(#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_PUNCTUATION = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def normalise(text: str) -> str:
    """`text` as it survives Markdown: `\\n` line ends, no trailing spaces, at most one blank line in a row."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    joined = "\n".join(lines).strip("\n")
    return re.sub(r"\n{3,}", "\n\n", joined)


def _escape_line(line: str) -> str:
    indent = len(line) - len(line.lstrip())
    # Leading blanks would be dropped, or make an indented code block: keep them as character references.
    head = "".join(f"&#{ord(c)};" for c in line[:indent])
    rest = line[indent:]
    out: list[str] = []
    for i, char in enumerate(rest):
        before = rest[i - 1] if i else ""
        after = rest[i + 1] if i + 1 < len(rest) else ""
        if char == "\\" and after and after not in _PUNCTUATION:
            out.append(char)  # a backslash before a letter is literal in Markdown
        elif char in _ALWAYS or (i == 0 and char in _LINE_START):
            out.append("\\" + char)
        elif char == "_" and not (before.isalnum() and after.isalnum()):
            out.append("\\_")  # only an underscore at a word edge can open or close emphasis
        elif char == "&" and _ENTITY_RE.match(rest, i):
            out.append("\\&")
        else:
            out.append(char)
    escaped = "".join(out)
    if not head:
        escaped = _ORDERED_RE.sub(lambda m: f"{m.group(1)}\\{m.group(2)}", escaped, count=1)
    return head + escaped


def plain_to_markdown(text: str) -> str:
    """Zoom plain text as Markdown that renders to the same text, line breaks included."""
    paragraphs = normalise(text).split("\n\n")
    rendered = []
    for paragraph in paragraphs:
        lines = [_escape_line(line) for line in paragraph.split("\n")]
        rendered.append("\\\n".join(lines))  # a backslash at the end of a line is a hard line break
    return "\n\n".join(rendered)


def _inline(tokens: Sequence[Token]) -> str:
    """The text of an inline run: marks dropped, `[text](url)` as `text (url)`, breaks as newlines."""
    out: list[str] = []
    opened: list[tuple[int, str | None]] = []
    for token in tokens:
        kind = token.type
        if kind in ("text", "code_inline", "html_inline"):
            out.append(token.content)
        elif kind in ("softbreak", "hardbreak"):
            out.append("\n")
        elif kind == "image":
            out.append(token.content)
        elif kind == "link_open":
            href = token.attrGet("href")
            opened.append((len(out), str(href) if href else None))
        elif kind == "link_close" and opened:
            start, href = opened.pop()
            label = "".join(out[start:])
            if href and href not in (label, f"mailto:{label}"):
                out[start:] = [f"{label} ({href})"]
    return "".join(out)


def _block(node: SyntaxTreeNode) -> str:
    kind = node.type
    if kind in ("paragraph", "heading"):
        return "".join(_block(child) for child in node.children)
    if kind == "inline":
        return _inline(node.token.children or []) if node.token is not None else ""
    if kind in ("fence", "code_block", "html_block"):
        return node.content.rstrip("\n")
    if kind == "hr":
        return "---"
    if kind in ("bullet_list", "ordered_list"):
        first = int(str(node.attrs.get("start", 1)))
        items = []
        for number, item in enumerate(node.children, start=first):
            marker = f"{number}. " if kind == "ordered_list" else "- "
            body = "\n".join(_block(child) for child in item.children)
            items.append(marker + body.replace("\n", "\n" + " " * len(marker)))
        return "\n".join(items)
    if kind == "blockquote":
        body = "\n\n".join(_block(child) for child in node.children)
        return "\n".join(f"> {line}" if line else ">" for line in body.split("\n"))
    if kind == "table":
        rows = [row for section in node.children for row in section.children]
        return "\n".join(" | ".join(_block(cell) for cell in row.children) for row in rows)
    return "\n\n".join(_block(child) for child in node.children)


def markdown_to_plain(markdown: str) -> str:
    """Markdown as the plain text Zoom displays: marks dropped, lists, quotes and paragraphs kept."""
    root = SyntaxTreeNode(_MD.parse(markdown))
    return normalise("\n\n".join(_block(child) for child in root.children))
