"""Small pieces of the Markdown the result models render (`to_markdown()`), on top of `sagemcp.markdown`.

A rendering starts with a heading naming the thing and its id, then one line of
`key: value` facts (empty values left out), then the body. Bodies that are code, diffs
or logs go in a fence longer than any backtick run inside, so they cannot close it early.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sagemcp import Page
from sagemcp.markdown import Column, page_footer, table

__all__ = ["at", "facts", "fence", "join", "language", "result_page"]

_BACKTICKS = re.compile(r"`{3,}")


def facts(*pairs: tuple[str, object]) -> str:
    """`key: value · key: value` for the pairs whose value is not None, empty or False."""
    shown = []
    for key, value in pairs:
        if value is None or value == "" or value is False or value == [] or value == {}:
            continue
        if value is True:
            shown.append(key)
            continue
        text = ", ".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)
        shown.append(f"{key}: {text}" if key else text)
    return " · ".join(shown)


def fence(text: str, info: str = "") -> str:
    """`text` in a fenced code block that no backtick run inside it can close."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=2)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{text.rstrip(chr(10))}\n{ticks}"


_LANGUAGES = {
    "c": "c", "cc": "cpp", "cpp": "cpp", "cs": "csharp", "css": "css", "go": "go", "h": "c", "hpp": "cpp",
    "html": "html", "java": "java", "js": "javascript", "json": "json", "jsx": "jsx", "kt": "kotlin",
    "md": "markdown", "php": "php", "py": "python", "rb": "ruby", "rs": "rust", "scala": "scala", "sh": "sh",
    "sql": "sql", "swift": "swift", "toml": "toml", "ts": "typescript", "tsx": "tsx", "xml": "xml",
    "yaml": "yaml", "yml": "yaml",
}  # fmt: skip


def language(path: str) -> str:
    """The fence info string for a file's extension (`py` -> `python`), or empty."""
    name = path.rsplit("/", 1)[-1]
    return _LANGUAGES.get(name.rsplit(".", 1)[-1].lower(), "") if "." in name else ""


def join(*blocks: str | None) -> str:
    """Non-empty blocks separated by blank lines."""
    return "\n\n".join(b for b in blocks if b)


def at(login: str | None) -> str | None:
    """`@login`, or None."""
    return f"@{login}" if login else None


def result_page(
    page: Page[Any],
    columns: Sequence[Column],
    title: str,
    *,
    total: int | None = None,
    incomplete: bool = False,
    note: str | None = None,
    max_cell: int | None = 120,
) -> str:
    """A page as `**title** (shown[ of total])`, a table, an optional note, and the next-page footer."""
    count = f"{len(page.items)} of {total:,}" if total is not None and total != len(page.items) else len(page.items)
    head = f"**{title}** ({count})"
    if incomplete:
        head += " (GitHub timed out: the results may be incomplete)"
    body = table(page.items, columns, max_cell=max_cell)
    return join(head, body, note) + page_footer(page.next_cursor, page.truncated)
