"""Notion blocks to Markdown and Markdown to Notion blocks.

The Markdown is CommonMark with GitHub's tables, strikethrough and task lists, `$…$` and
`$$…$$` equations, and a few HTML elements for what Markdown lacks:

| Notion block | Markdown |
|---|---|
| paragraph, heading_1/2/3 | text, `#`, `##`, `###` (`####` and deeper become heading_3) |
| bulleted / numbered list item, to_do | `- `, `1. `, `- [ ] ` / `- [x] ` (children indented) |
| toggle | `<details>` + `<summary>text</summary>`, children inside |
| toggleable heading | `<details>` + `<summary>## text</summary>` |
| quote | `> ` (children inside the quote) |
| callout | `<aside icon="💡">text</aside>`, children inside when there are any |
| code | fenced code with Notion's language name |
| equation | `$$` block |
| divider | `---` |
| table | a GFM table (the first row is the header) |
| image | `![caption](url)` |
| bookmark, embed, link preview, file, pdf, video, audio | a link |
| child page / database, link to page | `📄 [Title](url)`, `🗃️ [Title](url)`, `↗ [page](url)` |
| column list, synced block | their content, one column after the other |
| anything else | `<unsupported block="type" id="…"/>`: named, never dropped silently |

Reading loses colours, code captions and column layout; empty paragraphs are left out.
Writing skips `<unsupported …/>` markers (they name what cannot be recreated) and reports them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from markdown_it.token import Token

from ._ids import url_of
from ._richtext import (
    escape,
    inline_markdown,
    inline_to_rich_text,
    markdown_parser,
    plain_text,
    rich_text_from_markdown,
)

__all__ = [
    "MAX_INLINE_DEPTH",
    "BlockNode",
    "NewBlock",
    "ParsedMarkdown",
    "notion_language",
    "parse_markdown",
    "render_blocks",
]

MARKER = "…[truncated: "
"""How every cut starts, the same marker as `sagemcp.clip` writes."""

MAX_INLINE_DEPTH = 2
"""Levels of children Notion accepts nested inside one request's blocks."""

_TEXT_BLOCKS = (
    "paragraph",
    "heading_1",
    "heading_2",
    "heading_3",
    "heading_4",
    "bulleted_list_item",
    "numbered_list_item",
    "to_do",
    "toggle",
    "quote",
    "callout",
)
_LIST_ITEMS = ("bulleted_list_item", "numbered_list_item", "to_do")
_MEDIA_LABELS = {"file": "📎", "pdf": "📄 PDF", "video": "🎬", "audio": "🔊", "embed": "🔗", "bookmark": "🔖"}
_PASS_THROUGH = ("column_list", "column", "synced_block", "tab", "template")

# Notion's code-block language names; Markdown info strings are mapped onto them.
_LANGUAGES = frozenset(
    {
        "abap",
        "abc",
        "agda",
        "arduino",
        "ascii art",
        "assembly",
        "bash",
        "basic",
        "bnf",
        "c",
        "c#",
        "c++",
        "clojure",
        "coffeescript",
        "coq",
        "css",
        "dart",
        "dhall",
        "diff",
        "docker",
        "ebnf",
        "elixir",
        "elm",
        "erlang",
        "f#",
        "flow",
        "fortran",
        "gherkin",
        "glsl",
        "go",
        "graphql",
        "groovy",
        "haskell",
        "hcl",
        "html",
        "idris",
        "java",
        "javascript",
        "json",
        "julia",
        "kotlin",
        "latex",
        "less",
        "lisp",
        "livescript",
        "llvm ir",
        "lua",
        "makefile",
        "markdown",
        "markup",
        "matlab",
        "mathematica",
        "mermaid",
        "nix",
        "notion formula",
        "objective-c",
        "ocaml",
        "pascal",
        "perl",
        "php",
        "plain text",
        "powershell",
        "prolog",
        "protobuf",
        "purescript",
        "python",
        "r",
        "racket",
        "reason",
        "ruby",
        "rust",
        "sass",
        "scala",
        "scheme",
        "scss",
        "shell",
        "smalltalk",
        "solidity",
        "sql",
        "swift",
        "toml",
        "typescript",
        "vb.net",
        "verilog",
        "vhdl",
        "visual basic",
        "webassembly",
        "xml",
        "yaml",
        "java/c/c++/c#",
    }
)
_LANGUAGE_ALIASES = {
    "": "plain text",
    "text": "plain text",
    "txt": "plain text",
    "plaintext": "plain text",
    "js": "javascript",
    "jsx": "javascript",
    "mjs": "javascript",
    "ts": "typescript",
    "tsx": "typescript",
    "py": "python",
    "python3": "python",
    "sh": "shell",
    "zsh": "shell",
    "console": "shell",
    "shell-session": "shell",
    "yml": "yaml",
    "rb": "ruby",
    "rs": "rust",
    "kt": "kotlin",
    "cs": "c#",
    "csharp": "c#",
    "cpp": "c++",
    "fsharp": "f#",
    "dockerfile": "docker",
    "md": "markdown",
    "tex": "latex",
    "ps1": "powershell",
    "proto": "protobuf",
    "golang": "go",
    "objc": "objective-c",
    "make": "makefile",
    "gql": "graphql",
    "tf": "hcl",
    "htm": "html",
    "svg": "xml",
    "vb": "visual basic",
    "asm": "assembly",
}


def notion_language(info: str) -> str:
    """The Notion code language for a Markdown fence's info string ("plain text" when unknown)."""
    word = info.strip().split(maxsplit=1)[0].lower() if info.strip() else ""
    if word in _LANGUAGES:
        return word
    return _LANGUAGE_ALIASES.get(word, "plain text")


def _fence_language(language: str) -> str:
    return "" if language == "plain text" else language.replace(" ", "-") if " " in language else language


# -- reading: blocks to Markdown ------------------------------------------------------------------


@dataclass
class BlockNode:
    """A block read from Notion, with the children read so far.

    `children_cut` says the block has children that were not read (too deep, or over the
    budget): the Markdown then says so and names the call that reads them.
    """

    block: dict[str, Any]
    children: list[BlockNode] = field(default_factory=list)
    children_cut: bool = False

    @property
    def type(self) -> str:
        kind = self.block.get("type")
        return kind if isinstance(kind, str) else "unsupported"

    @property
    def id(self) -> str:
        value = self.block.get("id")
        return value if isinstance(value, str) else ""

    @property
    def data(self) -> dict[str, Any]:
        value = self.block.get(self.type)
        return value if isinstance(value, dict) else {}


def render_blocks(nodes: Sequence[BlockNode], *, tool: str = "notion_get_page_content") -> str:
    """Blocks (with their children) as Markdown; see the module docstring for the notation."""
    return _join(_chunks(nodes, tool))


@dataclass
class _Chunk:
    text: str
    list_kind: str | None = None


def _join(chunks: Sequence[_Chunk]) -> str:
    out: list[str] = []
    previous: _Chunk | None = None
    for chunk in chunks:
        if previous is not None:
            tight = previous.list_kind is not None and previous.list_kind == chunk.list_kind
            out.append("\n" if tight else "\n\n")
        out.append(chunk.text)
        previous = chunk
    return "".join(out)


def _chunks(nodes: Sequence[BlockNode], tool: str) -> list[_Chunk]:
    chunks: list[_Chunk] = []
    number = 0
    for node in nodes:
        number = number + 1 if node.type == "numbered_list_item" else 0
        chunk = _chunk(node, number, tool)
        if chunk is None:
            continue
        if isinstance(chunk, list):
            chunks.extend(chunk)
        else:
            chunks.append(chunk)
    return chunks


def _children(node: BlockNode, tool: str) -> str:
    text = render_blocks(node.children, tool=tool)
    if node.children_cut:
        marker = f"{MARKER}nested blocks not shown; call {tool} with page_id={node.id} to read them]"
        text = f"{text}\n\n{marker}" if text else marker
    return text


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line else line for line in text.split("\n"))


def _chunk(node: BlockNode, number: int, tool: str) -> _Chunk | list[_Chunk] | None:
    kind, data = node.type, node.data
    found = data.get("rich_text")
    rich: list[Any] = found if isinstance(found, list) else []
    text = inline_markdown(rich)
    if kind == "paragraph":
        if not text.strip() and not node.children and not node.children_cut:
            return None
        body = text.replace("\n", "  \n") if "\n" in text else text
        children = _children(node, tool)
        # A paragraph's children lose their indentation: Markdown has no indented paragraphs.
        return _Chunk(f"{body}\n\n{children}".strip("\n") if children else body)
    if kind in ("heading_1", "heading_2", "heading_3", "heading_4"):
        level = int(kind[-1])
        heading = f"{'#' * level} {text.replace(chr(10), ' ')}"
        if data.get("is_toggleable") is True or node.children or node.children_cut:
            return _Chunk(_details(f"{'#' * level} {text.replace(chr(10), ' ')}", _children(node, tool)))
        return _Chunk(heading)
    if kind in _LIST_ITEMS:
        if kind == "to_do":
            marker = "- [x] " if data.get("checked") is True else "- [ ] "
            list_kind = "bullet"
        elif kind == "numbered_list_item":
            marker, list_kind = f"{number}. ", "number"
        else:
            marker, list_kind = "- ", "bullet"
        pad = " " * len(marker if kind != "to_do" else "- ")
        lines = text.split("\n")
        item = marker + ("  \n" + pad).join(lines)
        children = _children(node, tool)
        if children:
            first = node.children[0].type if node.children else None
            gap = "\n" if first in _LIST_ITEMS else "\n\n"
            item = f"{item}{gap}{_indent(children, pad)}"
        return _Chunk(item, list_kind)
    if kind == "toggle":
        return _Chunk(_details(text, _children(node, tool)))
    if kind == "quote":
        inner = text.replace("\n", "  \n")
        children = _children(node, tool)
        if children:
            inner = f"{inner}\n\n{children}" if inner else children
        return _Chunk(_indent(inner or " ", "> ").replace("\n\n", "\n>\n"))
    if kind == "callout":
        icon = _icon(data.get("icon"))
        attrs = f' icon="{html.escape(icon)}"' if icon else ""
        children = _children(node, tool)
        if not children and "\n" not in text:
            return _Chunk(f"<aside{attrs}>{text}</aside>")
        body = "\n\n".join(part for part in (text.replace("\n", "  \n"), children) if part)
        return _Chunk(f"<aside{attrs}>\n\n{body}\n\n</aside>")
    if kind == "code":
        code = plain_text(rich)
        fence = "```"
        while fence in code:
            fence += "`"
        named = data.get("language")
        language = named if isinstance(named, str) else "plain text"
        return _Chunk(f"{fence}{_fence_language(language)}\n{code}\n{fence}")
    if kind == "equation":
        expression = data.get("expression")
        return _Chunk(f"$$\n{expression.strip() if isinstance(expression, str) else ''}\n$$")
    if kind == "divider":
        return _Chunk("---")
    if kind == "table":
        return _Chunk(_table(node))
    if kind == "image":
        caption = plain_text(data.get("caption") or []) if isinstance(data.get("caption"), list) else ""
        url = _file_url(data)
        return _Chunk(f"![{escape(caption)}]({url})" if url else _unsupported(node))
    if kind in _MEDIA_LABELS:
        url = data.get("url") if isinstance(data.get("url"), str) else _file_url(data)
        caption = plain_text(data.get("caption") or []) if isinstance(data.get("caption"), list) else ""
        name = data.get("name") if isinstance(data.get("name"), str) else ""
        label = caption or name or (url or "")
        if not url:
            return _Chunk(_unsupported(node))
        if kind == "bookmark" and not caption:
            return _Chunk(f"<{url}>")
        return _Chunk(f"{_MEDIA_LABELS[kind]} [{escape(label)}]({url})")
    if kind == "link_preview":
        url = data.get("url")
        return _Chunk(f"<{url}>" if isinstance(url, str) else _unsupported(node))
    if kind == "child_page":
        return _Chunk(f"📄 [{escape(str(data.get('title') or 'Untitled'))}]({url_of(node.id)})")
    if kind == "child_database":
        return _Chunk(f"🗃️ [{escape(str(data.get('title') or 'Untitled'))}]({url_of(node.id)})")
    if kind == "link_to_page":
        target = data.get("page_id") or data.get("database_id")
        if isinstance(target, str):
            return _Chunk(f"↗ [{'database' if 'database_id' in data else 'page'}]({url_of(target)})")
        return _Chunk(_unsupported(node))
    if kind in _PASS_THROUGH:
        parts = _chunks(node.children, tool)
        if node.children_cut:
            parts.append(_Chunk(_children(BlockNode(node.block, [], True), tool)))
        return parts or None
    return _Chunk(_unsupported(node))


def _details(summary: str, children: str) -> str:
    if not children:
        return f"<details>\n<summary>{summary}</summary>\n</details>"
    return f"<details>\n<summary>{summary}</summary>\n\n{children}\n\n</details>"


def _unsupported(node: BlockNode) -> str:
    return f'<unsupported block="{html.escape(node.type)}" id="{node.id}"/>'


def _icon(icon: Any) -> str:
    if not isinstance(icon, dict):
        return ""
    kind = icon.get("type")
    if kind == "emoji" and isinstance(icon.get("emoji"), str):
        return str(icon["emoji"])
    if kind == "external":
        url = icon.get("external", {}).get("url") if isinstance(icon.get("external"), dict) else None
        return url if isinstance(url, str) else ""
    if kind == "custom_emoji" and isinstance(icon.get("custom_emoji"), dict):
        return str(icon["custom_emoji"].get("name") or "")
    return ""


def _file_url(data: dict[str, Any]) -> str | None:
    for key in ("external", "file"):
        inner = data.get(key)
        if isinstance(inner, dict) and isinstance(inner.get("url"), str):
            return str(inner["url"])
    return None


def _table(node: BlockNode) -> str:
    rows: list[list[str]] = []
    for child in node.children:
        cells = child.data.get("cells") if child.type == "table_row" else None
        if isinstance(cells, list):
            rows.append(
                [inline_markdown(cell, in_table=True).replace("\n", "<br>") for cell in cells if isinstance(cell, list)]
            )
    width = node.data.get("table_width")
    width = width if isinstance(width, int) and width > 0 else max((len(row) for row in rows), default=1)
    if not rows:
        rows = [[""] * width]
    rows = [row + [""] * (width - len(row)) for row in rows]
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "|".join(" --- " for _ in range(width)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    text = "\n".join(lines)
    if node.children_cut:
        text += "\n\n" + _children(BlockNode(node.block, [], True), "notion_get_page_content")
    return text


# -- writing: Markdown to blocks ------------------------------------------------------------------


@dataclass
class NewBlock:
    """A block to create: its type, the type's object (without children) and its children."""

    type: str
    payload: dict[str, Any]
    children: list[NewBlock] = field(default_factory=list)

    def depth(self) -> int:
        """Levels of children below this block (0 without children)."""
        return 1 + max(child.depth() for child in self.children) if self.children else 0

    def count(self) -> int:
        """This block and all its descendants."""
        return 1 + sum(child.count() for child in self.children)

    def request(self, levels: int = MAX_INLINE_DEPTH) -> dict[str, Any]:
        """The API's block object, with `levels` levels of children inlined (0: none)."""
        payload = dict(self.payload)
        if self.children and levels > 0:
            payload["children"] = [child.request(levels - 1) for child in self.children]
        return {"object": "block", "type": self.type, self.type: payload}


@dataclass
class ParsedMarkdown:
    """Blocks made from Markdown, and what could not become a block (named, for the result)."""

    blocks: list[NewBlock]
    skipped: list[str] = field(default_factory=list)


def parse_markdown(markdown: str) -> ParsedMarkdown:
    """Markdown (see the module docstring) as blocks to create."""
    builder = _Builder()
    builder.run(markdown_parser().parse(markdown))
    return ParsedMarkdown(builder.root.children, builder.skipped)


@dataclass
class _Frame:
    kind: str
    """root, item, quote, details, aside or list."""
    block: NewBlock
    wants_text: bool = False
    """The first paragraph becomes the block's own text (list items, quotes, callouts)."""


_HTML_EVENT = re.compile(
    r"<details\b[^>]*>|</details\s*>|<summary\b[^>]*>(?P<summary>.*?)</summary\s*>"
    r"|<aside(?P<attrs>(?:\s+[a-z_-]+=\"[^\"]*\")*)\s*>|</aside\s*>|<unsupported\b[^>]*?/?>",
    re.IGNORECASE | re.DOTALL,
)
_ICON_ATTR = re.compile(r"icon=\"([^\"]*)\"", re.IGNORECASE)
_HEADING_SUMMARY = re.compile(r"^(#{1,6})\s+(.*)$", re.DOTALL)


class _Builder:
    def __init__(self) -> None:
        self.root = NewBlock("root", {})
        self.stack: list[_Frame] = [_Frame("root", self.root)]
        self.skipped: list[str] = []

    @property
    def frame(self) -> _Frame:
        return self.stack[-1]

    def add(self, block: NewBlock) -> None:
        self.frame.wants_text = False
        self.frame.block.children.append(block)

    def push(self, kind: str, block: NewBlock, *, wants_text: bool) -> None:
        self.add(block)
        self.stack.append(_Frame(kind, block, wants_text))

    def pop(self, *kinds: str) -> None:
        """Close the innermost frame of one of `kinds`, and any HTML frame left open inside it."""
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].kind in kinds:
                del self.stack[index:]
                return

    def run(self, tokens: Sequence[Token]) -> None:
        index = 0
        while index < len(tokens):
            index = self.token(tokens, index)

    def token(self, tokens: Sequence[Token], index: int) -> int:
        token = tokens[index]
        kind = token.type
        if kind == "heading_open":
            level = min(int(token.tag[1:]), 3)
            self.add(NewBlock(f"heading_{level}", {"rich_text": _inline(tokens[index + 1])}))
            return index + 3
        if kind == "paragraph_open":
            self.paragraph(tokens[index + 1])
            return index + 3
        if kind in ("bullet_list_open", "ordered_list_open"):
            self.stack.append(_Frame("list" if kind == "bullet_list_open" else "olist", self.frame.block))
            return index + 1
        if kind in ("bullet_list_close", "ordered_list_close"):
            self.pop("list", "olist")
            return index + 1
        if kind == "list_item_open":
            ordered = self.frame.kind == "olist"
            task = "task-list-item" in str(token.attrs.get("class") or "")
            item_type = "to_do" if task else "numbered_list_item" if ordered else "bulleted_list_item"
            block = NewBlock(item_type, {"rich_text": []})
            if task:
                block.payload["checked"] = False
            self.frame.block.children.append(block)
            self.stack.append(_Frame("item", block, wants_text=True))
            return index + 1
        if kind == "list_item_close":
            self.pop("item")
            return index + 1
        if kind == "blockquote_open":
            self.push("quote", NewBlock("quote", {"rich_text": []}), wants_text=True)
            return index + 1
        if kind == "blockquote_close":
            self.pop("quote")
            return index + 1
        if kind in ("fence", "code_block"):
            code = token.content[:-1] if token.content.endswith("\n") else token.content
            language = notion_language(token.info if kind == "fence" else "")
            self.add(NewBlock("code", {"rich_text": _plain_items(code), "language": language}))
            return index + 1
        if kind == "math_block":
            self.add(NewBlock("equation", {"expression": token.content.strip()}))
            return index + 1
        if kind == "hr":
            self.add(NewBlock("divider", {}))
            return index + 1
        if kind == "table_open":
            return self.table(tokens, index)
        if kind == "html_block":
            self.html(token.content)
            return index + 1
        return index + 1

    def paragraph(self, inline: Token) -> None:
        children = inline.children or []
        if self.frame.kind == "item" and self.frame.block.type == "to_do" and self.frame.wants_text:
            children = self.checkbox(children)
        if len(children) == 1 and children[0].type == "image":
            image = children[0]
            alt = [c for c in image.children or []]
            payload: dict[str, Any] = {"type": "external", "external": {"url": str(image.attrs.get("src") or "")}}
            caption = inline_to_rich_text(alt)
            if caption:
                payload["caption"] = caption
            self.add(NewBlock("image", payload))
            return
        rich = inline_to_rich_text(children)
        if self.frame.wants_text:
            self.frame.block.payload["rich_text"] = rich
            self.frame.wants_text = False
            return
        self.add(NewBlock("paragraph", {"rich_text": rich}))

    def checkbox(self, children: list[Token]) -> list[Token]:
        """Drop the task list's checkbox token from the item's text, recording whether it is checked."""
        if children and children[0].type == "html_inline" and "task-list-item-checkbox" in children[0].content:
            self.frame.block.payload["checked"] = 'checked="checked"' in children[0].content
            rest = list(children[1:])
            if rest and rest[0].type == "text":
                rest[0] = _with_content(rest[0], rest[0].content.lstrip(" "))
            return rest
        return children

    def table(self, tokens: Sequence[Token], index: int) -> int:
        rows: list[list[list[dict[str, Any]]]] = []
        row: list[list[dict[str, Any]]] = []
        while index < len(tokens) and tokens[index].type != "table_close":
            token = tokens[index]
            if token.type == "tr_open":
                row = []
            elif token.type == "tr_close":
                rows.append(row)
            elif token.type == "inline":
                row.append(inline_to_rich_text(token.children or []))
            index += 1
        width = max((len(r) for r in rows), default=1)
        children = [NewBlock("table_row", {"cells": r + [[] for _ in range(width - len(r))]}) for r in rows]
        self.add(
            NewBlock("table", {"table_width": width, "has_column_header": True, "has_row_header": False}, children)
        )
        return index + 1

    def html(self, content: str) -> None:
        position = 0
        for match in _HTML_EVENT.finditer(content):
            self.literal(content[position : match.start()])
            position = match.end()
            tag = match.group(0).lower()
            if tag.startswith("<details"):
                self.push("details", NewBlock("toggle", {"rich_text": []}), wants_text=False)
            elif tag.startswith("</details"):
                self.pop("details")
            elif tag.startswith("<summary"):
                self.summary(match.group("summary") or "")
            elif tag.startswith("<aside"):
                payload: dict[str, Any] = {"rich_text": []}
                icon = _ICON_ATTR.search(match.group("attrs") or "")
                if icon and icon.group(1):
                    value = html.unescape(icon.group(1))
                    payload["icon"] = (
                        {"type": "external", "external": {"url": value}}
                        if value.startswith("https://")
                        else {"type": "emoji", "emoji": value}
                    )
                self.push("aside", NewBlock("callout", payload), wants_text=True)
            elif tag.startswith("</aside"):
                self.pop("aside")
            else:
                self.skipped.append(html.unescape(match.group(0)))
        self.literal(content[position:])

    def literal(self, text: str) -> None:
        """Text inside an HTML block: the callout's text when one was just opened, else a paragraph."""
        if not text.strip():
            return
        if self.frame.kind == "aside" and self.frame.wants_text:
            self.frame.block.payload["rich_text"] = rich_text_from_markdown(text.strip())
            self.frame.wants_text = False
            return
        # Inline tags (mentions, <u>) on a line of their own read as an HTML block: parse them as text.
        self.add(NewBlock("paragraph", {"rich_text": rich_text_from_markdown(text.strip())}))

    def summary(self, text: str) -> None:
        frame = self.frame
        if frame.kind != "details":
            self.literal(text)
            return
        heading = _HEADING_SUMMARY.match(text.strip())
        if heading:
            level = min(len(heading.group(1)), 3)
            frame.block.type = f"heading_{level}"
            frame.block.payload = {"rich_text": rich_text_from_markdown(heading.group(2)), "is_toggleable": True}
        else:
            frame.block.payload["rich_text"] = rich_text_from_markdown(text.strip())


def _inline(token: Token) -> list[dict[str, Any]]:
    return inline_to_rich_text(token.children or [])


def _plain_items(text: str) -> list[dict[str, Any]]:
    from ._richtext import text_items

    return text_items(text)


def _with_content(token: Token, content: str) -> Token:
    copy = token.copy()
    copy.content = content
    return copy


def count_blocks(blocks: Iterable[NewBlock]) -> int:
    """All the blocks of `blocks` and their descendants."""
    return sum(block.count() for block in blocks)
