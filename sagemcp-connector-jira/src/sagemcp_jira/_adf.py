"""Atlassian Document Format (ADF) to Markdown and back, for descriptions, comments and worklog comments.

Jira Cloud's REST API v3 takes and returns rich text as ADF, a JSON tree
(`{"type": "doc", "version": 1, "content": [...]}`; see
https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/). A model reads and
writes Markdown, so:

- `adf_to_markdown(doc)` renders paragraphs, headings, bullet / ordered / task lists (nested),
  code blocks with their language, block quotes, panels, rules, tables, expands, text marks
  (strong, em, code, strike, links), hard breaks, mentions, emoji, dates, statuses, cards and media.
  A mention becomes `[@Display Name](mention:ACCOUNT_ID)`: it reads as `@Display Name` and keeps
  the account id, so the same text written back mentions the same person.
- `markdown_to_adf(text)` parses CommonMark plus GitHub tables and strikethrough (markdown-it-py)
  and builds the ADF nodes for the same constructs; a link to `mention:ACCOUNT_ID` becomes a mention,
  an image becomes external media.

Both directions are deterministic, so Markdown → ADF → Markdown returns the same Markdown for what
the two share, and ADF → Markdown → ADF returns the same document for the nodes above. What ADF
has and Markdown has not (colours, underline, panel types, media layout) is rendered as plain text
or a close equivalent; nothing is dropped silently without a trace in the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

__all__ = ["MENTION_SCHEME", "adf_to_markdown", "is_adf", "markdown_parser", "markdown_to_adf", "plain_text"]

MENTION_SCHEME = "mention:"
"""Link target prefix that marks a mention: `[@Ada Lovelace](mention:557058:0f8c...)`."""

_ESCAPE_RE = re.compile(r"([\\`*\[\]<])|(~~)|&(?=#?[A-Za-z0-9]+;)")
_LINE_START_RE = re.compile(r"^(\s*)([#>+-]|\d+[.)])(?=\s|$)")
_RULE_LINE_RE = re.compile(r"^\s*(?:[=]+|[-]+|(?:[-*_]\s*){3,})\s*$")
_UNDERSCORE_RE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_LIST_TYPES = frozenset({"bulletList", "orderedList", "taskList", "decisionList"})
_PANEL_LABELS = {"info": "Info", "note": "Note", "warning": "Warning", "success": "Success", "error": "Error"}


def markdown_parser() -> MarkdownIt:
    """CommonMark with GitHub's tables and strikethrough; raw HTML is kept as text, never interpreted."""
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


_PARSER = markdown_parser()


def is_adf(value: Any) -> bool:
    """Whether `value` is an ADF document (`{"type": "doc", ...}`)."""
    return isinstance(value, Mapping) and value.get("type") == "doc"


# -- ADF -> Markdown -------------------------------------------------------------------------------


def adf_to_markdown(doc: Any) -> str:
    """Markdown for an ADF document (or a plain string, returned as is; None becomes "")."""
    if doc is None:
        return ""
    if isinstance(doc, str):
        return doc
    if not isinstance(doc, Mapping):
        return ""
    return _blocks(_children(doc), "\n\n").strip("\n")


def plain_text(doc: Any) -> str:
    """The text of an ADF document without any markup (for table cells and one-line summaries)."""
    if isinstance(doc, str):
        return doc
    parts: list[str] = []

    def walk(node: Any) -> None:
        if not isinstance(node, Mapping):
            return
        kind = node.get("type")
        if kind == "text":
            parts.append(str(node.get("text") or ""))
        elif kind in ("mention", "emoji", "status", "placeholder"):
            parts.append(_inline_atom(node))
        elif kind == "hardBreak":
            parts.append(" ")
        for child in _children(node):
            walk(child)
        if kind in ("paragraph", "heading", "listItem", "tableCell", "tableHeader", "codeBlock"):
            parts.append(" ")

    walk(doc)
    return " ".join("".join(parts).split())


def _children(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    content = node.get("content")
    return [c for c in content if isinstance(c, Mapping)] if isinstance(content, list) else []


def _attrs(node: Mapping[str, Any]) -> Mapping[str, Any]:
    attrs = node.get("attrs")
    return attrs if isinstance(attrs, Mapping) else {}


def _blocks(nodes: Iterable[Mapping[str, Any]], separator: str) -> str:
    return separator.join(text for text in (_block(n) for n in nodes) if text != "")


def _block(node: Mapping[str, Any]) -> str:
    kind = node.get("type")
    attrs = _attrs(node)
    if kind == "paragraph":
        return _escape_line_starts(_inline(_children(node)))
    if kind == "heading":
        level = attrs.get("level")
        level = level if isinstance(level, int) and 1 <= level <= 6 else 1
        return "#" * level + " " + _inline(_children(node)).replace("\n", " ")
    if kind in ("bulletList", "orderedList", "taskList", "decisionList"):
        return _list(node)
    if kind == "codeBlock":
        language = attrs.get("language")
        code = "".join(str(c.get("text") or "") for c in _children(node) if c.get("type") == "text")
        fence = "````" if "```" in code else "```"
        return f"{fence}{language if isinstance(language, str) else ''}\n{code}\n{fence}"
    if kind == "blockquote":
        return _quote(_blocks(_children(node), "\n\n"))
    if kind == "panel":
        label = _PANEL_LABELS.get(str(attrs.get("panelType") or ""), "Note")
        return _quote(f"**{label}:** " + _blocks(_children(node), "\n\n"))
    if kind == "rule":
        return "---"
    if kind == "table":
        return _table(node)
    if kind in ("expand", "nestedExpand"):
        title = attrs.get("title")
        body = _blocks(_children(node), "\n\n")
        return f"**{_escape(str(title))}**\n\n{body}" if isinstance(title, str) and title else body
    if kind in ("mediaSingle", "mediaGroup"):
        return "\n".join(_media(c) for c in _children(node) if c.get("type") == "media")
    if kind == "media":
        return _media(node)
    if kind in ("blockCard", "embedCard"):
        url = attrs.get("url")
        return f"<{url}>" if isinstance(url, str) and url else ""
    if kind in ("text", "hardBreak", "mention", "emoji", "date", "status", "inlineCard", "placeholder"):
        return _inline([node])  # an inline node where a block was expected: keep its text
    # An unknown block (a newer node type, an extension): keep whatever text it holds.
    inner = _blocks(_children(node), "\n\n")
    return inner or _escape(plain_text(node))


def _list(node: Mapping[str, Any]) -> str:
    kind = node.get("type")
    start = _attrs(node).get("order")
    number = start if isinstance(start, int) and start >= 0 else 1
    lines: list[str] = []
    for item in _children(node):
        if kind == "orderedList":
            marker = f"{number}. "
            number += 1
        elif kind == "taskList" or item.get("type") == "taskItem":
            marker = "- [x] " if _attrs(item).get("state") == "DONE" else "- [ ] "
        else:
            marker = "- "
        if item.get("type") in ("taskItem", "decisionItem"):
            body = _escape_line_starts(_inline(_children(item)))
        else:
            body = _item_blocks(_children(item))
        indent = " " * len(marker)
        first, *rest = (body or "").split("\n")
        lines.append(marker + first)
        lines.extend((indent + line) if line else "" for line in rest)
    return "\n".join(lines)


def _item_blocks(nodes: list[Mapping[str, Any]]) -> str:
    """A list item's blocks: a nested list follows its paragraph on the next line (a tight list)."""
    out = ""
    for node in nodes:
        text = _block(node)
        if not text:
            continue
        if out:
            out += "\n" if node.get("type") in _LIST_TYPES else "\n\n"
        out += text
    return out


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))


def _table(node: Mapping[str, Any]) -> str:
    rows = [
        [_cell(cell) for cell in _children(row) if cell.get("type") in ("tableCell", "tableHeader")]
        for row in _children(node)
        if row.get("type") == "tableRow"
    ]
    rows = [row for row in rows if row]
    if not rows:
        return ""
    width = max(len(row) for row in rows)
    rows = [row + [""] * (width - len(row)) for row in rows]
    head, *body = rows
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in body)
    return "\n".join(lines)


def _cell(cell: Mapping[str, Any]) -> str:
    """A table cell's content on one line: paragraphs joined with `<br>`, pipes escaped."""
    parts = []
    for child in _children(cell):
        if child.get("type") == "paragraph":
            parts.append(_inline(_children(child)).replace("\n", "<br>"))
        else:
            parts.append(_escape(plain_text(child)))
    return "<br>".join(p for p in parts if p).replace("|", "\\|")


def _media(node: Mapping[str, Any]) -> str:
    attrs = _attrs(node)
    alt = attrs.get("alt")
    label = alt if isinstance(alt, str) and alt else "attachment"
    if attrs.get("type") == "external" and isinstance(attrs.get("url"), str):
        return f"![{_escape(label)}]({attrs['url']})"
    return f"[{_escape(label)}: media {attrs.get('id', '')}]".replace(": media ]", "]")


def _inline(nodes: Sequence[Mapping[str, Any]]) -> str:
    out: list[str] = []
    for node in nodes:
        kind = node.get("type")
        if kind == "text":
            out.append(_marked(str(node.get("text") or ""), node.get("marks")))
        elif kind == "hardBreak":
            out.append("\n")
        elif kind == "mention":
            attrs = _attrs(node)
            name = _mention_name(attrs)
            account = attrs.get("id")
            out.append(f"[{_escape(name)}]({MENTION_SCHEME}{account})" if account else _escape(name))
        elif kind == "inlineCard":
            url = _attrs(node).get("url")
            out.append(f"<{url}>" if isinstance(url, str) and url else "")
        elif kind in ("emoji", "status", "placeholder", "date"):
            out.append(_escape(_inline_atom(node)))
        elif kind == "media" or kind == "mediaInline":
            out.append(_media(node))
        else:
            out.append(_inline(_children(node)) or _escape(plain_text(node)))
    return "".join(out)


def _mention_name(attrs: Mapping[str, Any]) -> str:
    text = attrs.get("text")
    name = text if isinstance(text, str) and text else "someone"
    return name if name.startswith("@") else "@" + name


def _inline_atom(node: Mapping[str, Any]) -> str:
    attrs = _attrs(node)
    kind = node.get("type")
    if kind == "mention":
        return _mention_name(attrs)
    if kind == "emoji":
        text = attrs.get("text") or attrs.get("shortName")
        return str(text) if text else ""
    if kind == "status":
        return f"[{attrs.get('text', '')}]"
    if kind == "date":
        try:
            moment = datetime.fromtimestamp(int(str(attrs.get("timestamp"))) / 1000, tz=UTC)
        except (TypeError, ValueError, OverflowError, OSError):
            return ""
        return moment.date().isoformat()
    text = attrs.get("text")
    return str(text) if isinstance(text, str) else ""


def _marked(text: str, marks: Any) -> str:
    """`text` with its marks as Markdown; code spans are not escaped inside."""
    kinds: dict[str, Mapping[str, Any]] = {}
    if isinstance(marks, list):
        for mark in marks:
            if isinstance(mark, Mapping) and isinstance(mark.get("type"), str):
                kinds[mark["type"]] = _attrs(mark)
    if "code" in kinds:
        ticks = "``" if "`" in text else "`"
        pad = " " if text.startswith("`") or text.endswith("`") else ""
        result = f"{ticks}{pad}{text}{pad}{ticks}"
    else:
        result = _escape(text)
        if not text.strip():
            return result  # emphasis around blanks is not emphasis in Markdown
        lead = result[: len(result) - len(result.lstrip())]
        trail = result[len(result.rstrip()) :]
        core = result.strip()
        if "strike" in kinds:
            core = f"~~{core}~~"
        if "em" in kinds:
            core = f"*{core}*"
        if "strong" in kinds:
            core = f"**{core}**"
        result = lead + core + trail
    link = kinds.get("link")
    if link is not None and isinstance(link.get("href"), str):
        result = f"[{result}]({_link_target(link['href'])})"
    return result


def _link_target(href: str) -> str:
    return f"<{href}>" if any(c in href for c in " ()<>") else href


def _escape(text: str) -> str:
    """Text with the characters Markdown would read as markup backslash-escaped (but `_` inside words)."""
    return _UNDERSCORE_RE.sub(r"\\_", _ESCAPE_RE.sub(_escaped, text))


def _escaped(match: re.Match[str]) -> str:
    if match.group(1):
        return "\\" + match.group(1)
    return "\\~\\~" if match.group(2) else "\\&"


def _escape_line_starts(text: str) -> str:
    """A paragraph whose lines would start a heading, list or quote gets that marker escaped."""
    lines = []
    for line in text.split("\n"):
        if _RULE_LINE_RE.match(line):
            line = line.replace(line.strip()[0], "\\" + line.strip()[0], 1)  # not a rule or setext underline
        lines.append(_LINE_START_RE.sub(_escape_marker, line))
    return "\n".join(lines)


def _escape_marker(match: re.Match[str]) -> str:
    marker = match.group(2)
    if marker[-1] in ".)":
        return f"{match.group(1)}{marker[:-1]}\\{marker[-1]}"
    return f"{match.group(1)}\\{marker}"


# -- Markdown -> ADF -------------------------------------------------------------------------------


def markdown_to_adf(text: str) -> dict[str, Any]:
    """An ADF document (version 1) for Markdown `text`; an empty text is an empty document."""
    root = SyntaxTreeNode(_PARSER.parse(text or ""))
    return {"type": "doc", "version": 1, "content": _adf_blocks(root.children)}


def _adf_blocks(nodes: Sequence[SyntaxTreeNode]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for node in nodes:
        block = _adf_block(node)
        if block is not None:
            out.append(block)
    return out


def _adf_block(node: SyntaxTreeNode) -> dict[str, Any] | None:
    kind = node.type
    if kind == "paragraph":
        inline = _adf_inline(node.children[0]) if node.children else []
        if len(inline) == 1 and inline[0].get("type") == "mediaSingle":
            return inline[0]
        return {"type": "paragraph", "content": inline}
    if kind == "heading":
        level = int(node.tag[1]) if node.tag[1:].isdigit() else 1
        return {"type": "heading", "attrs": {"level": level}, "content": _adf_inline(node.children[0])}
    if kind == "bullet_list":
        return {"type": "bulletList", "content": [_adf_item(item) for item in node.children]}
    if kind == "ordered_list":
        start = node.attrs.get("start")
        result: dict[str, Any] = {"type": "orderedList", "content": [_adf_item(item) for item in node.children]}
        result["attrs"] = {"order": int(start) if isinstance(start, int | str) and str(start).isdigit() else 1}
        return result
    if kind in ("fence", "code_block"):
        code = node.content[:-1] if node.content.endswith("\n") else node.content
        block: dict[str, Any] = {"type": "codeBlock"}
        language = node.info.strip().split(" ")[0] if node.info else ""
        if language:
            block["attrs"] = {"language": language}
        if code:
            block["content"] = [{"type": "text", "text": code}]
        return block
    if kind == "blockquote":
        return {"type": "blockquote", "content": _adf_blocks(node.children)}
    if kind == "hr":
        return {"type": "rule"}
    if kind == "table":
        return _adf_table(node)
    if kind == "html_block":
        return {"type": "paragraph", "content": _text_nodes(node.content.rstrip("\n"), [])}
    return None


def _adf_item(item: SyntaxTreeNode) -> dict[str, Any]:
    content = _adf_blocks(item.children)
    if not content or content[0].get("type") not in ("paragraph", "codeBlock", "mediaSingle"):
        content.insert(0, {"type": "paragraph", "content": []})  # ADF list items start with a paragraph
    return {"type": "listItem", "content": content}


def _adf_table(node: SyntaxTreeNode) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for section in node.children:
        for row in section.children:
            cells = []
            for cell in row.children:
                kind = "tableHeader" if cell.type == "th" else "tableCell"
                inline = _adf_inline(cell.children[0]) if cell.children else []
                cells.append({"type": kind, "attrs": {}, "content": _cell_paragraphs(inline)})
            rows.append({"type": "tableRow", "content": cells})
    return {"type": "table", "attrs": {"isNumberColumnEnabled": False, "layout": "default"}, "content": rows}


def _cell_paragraphs(inline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A cell's inline content split at `<br>` into paragraphs (Markdown table cells are one line)."""
    paragraphs: list[list[dict[str, Any]]] = [[]]
    for node in inline:
        if node.get("type") == "text" and "<br>" in node.get("text", "") and not node.get("marks"):
            pieces = node["text"].split("<br>")
            for index, piece in enumerate(pieces):
                if index:
                    paragraphs.append([])
                if piece:
                    paragraphs[-1].append({"type": "text", "text": piece})
        else:
            paragraphs[-1].append(node)
    return [{"type": "paragraph", "content": p} for p in paragraphs]


def _adf_inline(node: SyntaxTreeNode | None) -> list[dict[str, Any]]:
    if node is None:
        return []
    out: list[dict[str, Any]] = []
    _walk_inline(node.children, [], out)
    return _merge_text(out)


def _walk_inline(nodes: Sequence[SyntaxTreeNode], marks: list[dict[str, Any]], out: list[dict[str, Any]]) -> None:
    for node in nodes:
        kind = node.type
        if kind == "text":
            out.extend(_text_nodes(node.content, marks))
        elif kind == "code_inline":
            link = [m for m in marks if m["type"] == "link"]
            out.append({"type": "text", "text": node.content, "marks": [{"type": "code"}, *link]})
        elif kind in ("softbreak", "hardbreak"):
            out.append({"type": "hardBreak"})
        elif kind == "strong":
            _walk_inline(node.children, [*marks, {"type": "strong"}], out)
        elif kind == "em":
            _walk_inline(node.children, [*marks, {"type": "em"}], out)
        elif kind == "s":
            _walk_inline(node.children, [*marks, {"type": "strike"}], out)
        elif kind == "link":
            href = str(node.attrs.get("href") or "")
            if href.startswith(MENTION_SCHEME) and len(href) > len(MENTION_SCHEME):
                label = "".join(child.content for child in node.children if child.type == "text") or "@someone"
                name = label if label.startswith("@") else "@" + label
                out.append({"type": "mention", "attrs": {"id": href[len(MENTION_SCHEME) :], "text": name}})
            else:
                _walk_inline(node.children, [*marks, {"type": "link", "attrs": {"href": href}}], out)
        elif kind == "image":
            alt = "".join(child.content for child in node.children if child.type == "text")
            media: dict[str, Any] = {"type": "external", "url": str(node.attrs.get("src") or "")}
            if alt:
                media["alt"] = alt
            out.append({"type": "mediaSingle", "content": [{"type": "media", "attrs": media}]})
        elif kind == "html_inline":
            out.extend(_text_nodes(node.content, marks))
        else:
            _walk_inline(node.children, marks, out)


def _text_nodes(text: str, marks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not text:
        return []
    node: dict[str, Any] = {"type": "text", "text": text}
    if marks:
        node["marks"] = [dict(m) for m in _ordered_marks(marks)]
    return [node]


_MARK_ORDER = {"strong": 0, "em": 1, "strike": 2, "code": 3, "link": 4}


def _ordered_marks(marks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Marks in one canonical order, so that the same Markdown always gives the same ADF."""
    unique: dict[str, dict[str, Any]] = {}
    for mark in marks:
        unique[mark["type"]] = mark
    return sorted(unique.values(), key=lambda m: _MARK_ORDER.get(m["type"], 9))


def _merge_text(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Adjacent text nodes with the same marks joined (markdown-it splits text at escapes and brackets)."""
    merged: list[dict[str, Any]] = []
    for node in nodes:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and node.get("type") == "text"
            and previous.get("type") == "text"
            and previous.get("marks") == node.get("marks")
        ):
            previous["text"] += node["text"]
        else:
            merged.append(dict(node))
    return merged
