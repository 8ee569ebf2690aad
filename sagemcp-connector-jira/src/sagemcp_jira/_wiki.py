"""Jira wiki markup (Data Center / Server, REST API v2) to Markdown and back.

Jira Data Center stores descriptions and comments as wiki markup
(https://jira.atlassian.com/secure/WikiRendererHelpAction.jspa?section=all). Reading uses
`jira2markdown` (a parsing-expression grammar for the markup); writing renders the Markdown parse
tree (markdown-it-py, as for ADF) as markup: headings `h1.`, `*strong*`, `_emphasis_`,
`-strike-`, `{{code}}`, `[text|url]`, `[~username]` for a mention written as
`[@Name](mention:username)`, `*` / `#` lists (nested by repetition), `{code:lang}`, `{quote}`,
`----`, `||header||` tables and `!image!`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from jira2markdown import convert
from markdown_it.tree import SyntaxTreeNode

from ._adf import MENTION_SCHEME, markdown_parser

__all__ = ["markdown_to_wiki", "wiki_to_markdown"]

_PARSER = markdown_parser()
_ALWAYS_RE = re.compile(r"([{}\[\]|\\])")
# Formatting characters open or close markup only next to a word boundary: `well-known` stays as is.
_BOUNDARY_RE = re.compile(r"(?:(?<=\s)|^)([*_+^~?-])|([*_+^~?-])(?=\s|$|[.,;:!?)])|(!)(?=\S)")


def wiki_to_markdown(text: str | None) -> str:
    """Markdown for wiki markup; None is ""."""
    if not text:
        return ""
    markdown: str = convert(text)
    return markdown.strip("\n")


def markdown_to_wiki(text: str) -> str:
    """Wiki markup for Markdown `text`."""
    root = SyntaxTreeNode(_PARSER.parse(text or ""))
    return "\n\n".join(b for b in (_block(node, 0) for node in root.children) if b)


def _block(node: SyntaxTreeNode, depth: int, marker: str = "") -> str:
    kind = node.type
    if kind == "paragraph":
        return _inline(node.children[0].children if node.children else [])
    if kind == "heading":
        return f"{node.tag}. " + _inline(node.children[0].children if node.children else [])
    if kind in ("bullet_list", "ordered_list"):
        bullet = marker + ("*" if kind == "bullet_list" else "#")
        lines = []
        for item in node.children:
            parts = []
            for child in item.children:
                if child.type in ("bullet_list", "ordered_list"):
                    parts.append(_block(child, depth + 1, bullet))
                else:
                    text = _block(child, depth + 1)
                    parts.append(f"{bullet} {text}" if not parts else text)
            if not parts or not parts[0].startswith(bullet + " "):
                parts.insert(0, f"{bullet} ")
            lines.append("\n".join(parts))
        return "\n".join(lines)
    if kind in ("fence", "code_block"):
        language = node.info.strip().split(" ")[0] if node.info else ""
        code = node.content[:-1] if node.content.endswith("\n") else node.content
        return f"{{code:{language}}}\n{code}\n{{code}}" if language else f"{{code}}\n{code}\n{{code}}"
    if kind == "blockquote":
        inner = "\n\n".join(b for b in (_block(child, depth) for child in node.children) if b)
        return f"{{quote}}\n{inner}\n{{quote}}"
    if kind == "hr":
        return "----"
    if kind == "table":
        rows = []
        for section in node.children:
            for row in section.children:
                cells = [_inline(cell.children[0].children if cell.children else []) for cell in row.children]
                if row.children and row.children[0].type == "th":
                    rows.append("||" + "||".join(cells) + "||")
                else:
                    rows.append("|" + "|".join(cells) + "|")
        return "\n".join(rows)
    if kind == "html_block":
        return _escape(node.content.rstrip("\n"))
    return ""


def _inline(nodes: Sequence[SyntaxTreeNode]) -> str:
    out: list[str] = []
    for node in nodes:
        kind = node.type
        if kind == "text":
            out.append(_escape(node.content))
        elif kind == "code_inline":
            out.append("{{" + node.content + "}}")
        elif kind == "softbreak":
            out.append("\n")
        elif kind == "hardbreak":
            out.append("\\\\\n")
        elif kind == "strong":
            out.append("*" + _inline(node.children) + "*")
        elif kind == "em":
            out.append("_" + _inline(node.children) + "_")
        elif kind == "s":
            out.append("-" + _inline(node.children) + "-")
        elif kind == "link":
            href = str(node.attrs.get("href") or "")
            if href.startswith(MENTION_SCHEME):
                out.append(f"[~{href[len(MENTION_SCHEME) :]}]")
            else:
                label = _inline(node.children)
                out.append(f"[{label}|{href}]" if label and label != href else f"[{href}]")
        elif kind == "image":
            out.append(f"!{node.attrs.get('src') or ''}!")
        else:
            out.append(_inline(node.children) if node.children else _escape(node.content))
    return "".join(out)


def _escape(text: str) -> str:
    """Text whose wiki-markup characters are backslash-escaped, so it stays text."""
    text = _ALWAYS_RE.sub(r"\\\1", text)
    return _BOUNDARY_RE.sub(lambda m: "\\" + (m.group(1) or m.group(2) or m.group(3)), text)
