"""Markdown text for tool results: the convention, and small renderers connectors share.

A tool result reaches the client twice: as `structuredContent` (the data, for
programs) and as a text block (for the model). When the result model defines

    def to_markdown(self) -> str: ...

(`SupportsMarkdown`), that Markdown is the text block and `structuredContent` keeps
the data, instead of the same JSON twice. Without it the text block is the compact
JSON of the structured content. The text is held to the server's result size cap
like any other (see `sagemcp._results`). Every list result should render this way:

    class IssueList(Page[Issue]):
        def to_markdown(self) -> str:
            return markdown.page_table(self, ["number", "title", "state", ("author", "user")], title="Issues")

Keep the Markdown compact and complete for the next call: the ids a follow-up tool
needs, and the cursor for the next page (`page_footer` writes it).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeAlias, TypeVar, runtime_checkable

from ._pagination import Page

__all__ = ["Column", "SupportsMarkdown", "bullets", "cell", "page_footer", "page_table", "table"]

T = TypeVar("T")

Column: TypeAlias = str | tuple[str, str | Callable[[Any], object]]
"""A table column: a field name (also the header), or `(header, field name)`, or `(header, getter)`."""

_ELLIPSIS = "…"


@runtime_checkable
class SupportsMarkdown(Protocol):
    """A result model that renders itself as the Markdown text block of a tool result."""

    def to_markdown(self) -> str: ...


def cell(value: object, max_chars: int | None = 120) -> str:
    """`value` as the text of one table cell.

    None is empty, enums show their value, lists are joined with commas; `|` is
    escaped and line breaks become spaces, so the cell cannot break the table.
    Text longer than `max_chars` is cut and ends with "…".
    """
    text = " ".join(_plain(value).splitlines()).strip()
    # Cut before escaping, so an escape is never split in two; `max_chars` counts visible characters.
    if max_chars is not None and len(text) > max_chars:
        text = text[: max(max_chars - 1, 0)].rstrip() + _ELLIPSIS
    return text.replace("|", "\\|")


def table(
    rows: Iterable[T],
    columns: Sequence[Column],
    *,
    empty: str = "No results.",
    max_cell: int | None = 120,
) -> str:
    """A GitHub-flavoured Markdown table of `rows` (models, objects or mappings) with the chosen columns.

    `empty` is returned instead of a table without rows. Cells go through `cell()`.
    """
    if not columns:
        raise ValueError("a table needs at least one column")
    headers: list[str] = []
    getters: list[Callable[[Any], object]] = []
    for column in columns:
        header, source = (column, column) if isinstance(column, str) else column
        headers.append(cell(header, None))
        getters.append(_getter(source) if isinstance(source, str) else source)
    lines = ["| " + " | ".join(cell(get(row), max_cell) for get in getters) + " |" for row in rows]
    if not lines:
        return empty
    head = "| " + " | ".join(headers) + " |"
    rule = "|" + "|".join(" --- " for _ in headers) + "|"
    return "\n".join([head, rule, *lines])


def bullets(items: Iterable[str], *, empty: str = "No results.") -> str:
    """A Markdown bullet list, one item per entry; an item's further lines are indented under it."""
    lines = ["- " + "\n  ".join(item.splitlines() or [""]) for item in items]
    return "\n".join(lines) if lines else empty


def page_footer(next_cursor: str | None, truncated: bool = False, *, argument: str = "cursor") -> str:
    """The closing line of a list result: how to get the next page, and whether this one was cut.

    Empty when there is nothing more. The cursor is written out, because a client may
    show the model only the text block.
    """
    parts: list[str] = []
    if truncated:
        parts.append("This page was cut to fit the size limit.")
    if next_cursor:
        parts.append(f"More results: call again with {argument}=`{next_cursor}`.")
    return f"\n\n_{' '.join(parts)}_" if parts else ""


def page_table(
    page: Page[Any],
    columns: Sequence[Column],
    *,
    title: str | None = None,
    empty: str = "No results.",
    max_cell: int | None = 120,
) -> str:
    """A `Page` as Markdown: `title` with the item count, the table, then `page_footer()`."""
    head = f"**{title}** ({len(page.items)})\n\n" if title else ""
    body = table(page.items, columns, empty=empty, max_cell=max_cell)
    return head + body + page_footer(page.next_cursor, page.truncated)


def _plain(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(_plain(v) for v in value)
    return str(value)


def _getter(name: str) -> Callable[[Any], object]:
    def get(row: Any) -> object:
        if isinstance(row, Mapping):
            return row.get(name)
        return getattr(row, name, None)

    return get
