"""Which cells one page of `google_read_range` needs, as A1 ranges, and what Google's answers tell of the rest.

A page is at most `max_rows` rows of a range from `row_offset`. Only these rows are fetched, with three
cheap additions in the same `values.batchGet`: the row after the page (does anything follow it?), the
range's last row (does the data reach the range's end? then the range's height is the total) and, on a
later page, the range's first row (the header, repeated). Where the range ends is read from the A1 text
when it is bounded, else from the sheet's grid (`rowCount`, `columnCount`); that grid, the sheets'
titles and the named ranges come from one `spreadsheets.get` with a field mask (`LAYOUT_FIELDS`).

Google leaves the empty rows at the end of an answer out, so a page that comes back short says where
the data stops within it. Whether a table follows further down, after empty rows, is asked once more,
for the rows between the page and the range's last row: that answer is empty unless there is one.
What could not be learnt is said as a bound (`at_least`, `at_most`), never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ._a1 import A1Range, column_letters, parse_a1

__all__ = [
    "LAYOUT_FIELDS",
    "Block",
    "Bound",
    "Layout",
    "Plan",
    "RangeError",
    "Requested",
    "Sheet",
    "Window",
    "count",
    "display_title",
    "plan",
    "remainder",
    "requested",
    "resolve",
    "whole_range_window",
]

LAYOUT_FIELDS = (
    "sheets(properties(sheetId,title,index,hidden,gridProperties(rowCount,columnCount))),namedRanges(name,range)"
)
"""The `fields` mask of the `spreadsheets.get` a windowed read starts with: a few hundred bytes a sheet."""

Bound = Literal["exact", "at_least", "at_most"]

_CELLS_LIKE = re.compile(r"[A-Za-z]+\d|:")
_NOT_A_NAME = re.compile(r"[:$!]")
_PLAIN_TITLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CELL_LIKE_TITLE = re.compile(r"^(?:[A-Za-z]{1,3}\d+|[Rr]\d*[Cc]\d*)$")


class RangeError(ValueError):
    """A range the spreadsheet does not have; the message says why, for the caller."""


@dataclass(frozen=True)
class Sheet:
    """One sheet (tab) of a spreadsheet, as its `SheetProperties` describe it."""

    sheet_id: int
    title: str
    index: int
    hidden: bool
    row_count: int | None
    """None for a sheet without a grid (a chart on a sheet of its own)."""
    column_count: int | None


@dataclass(frozen=True)
class Layout:
    """The sheets and named ranges of a spreadsheet (the answer to a `LAYOUT_FIELDS` request)."""

    sheets: tuple[Sheet, ...]
    named_ranges: tuple[tuple[str, dict[str, Any]], ...]
    """Name -> `GridRange`, in Google's order."""

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Layout:
        sheets = []
        # Google leaves out fields at their default (sheetId 0, index 0, hidden false, a 0 index of a GridRange).
        for entry in data.get("sheets") or []:
            props = entry.get("properties") if isinstance(entry, dict) else None
            if not isinstance(props, dict) or not isinstance(props.get("title"), str):
                continue
            size = props.get("gridProperties")
            sheets.append(
                Sheet(
                    sheet_id=int(props.get("sheetId") or 0),
                    title=props["title"],
                    index=int(props.get("index") or 0),
                    hidden=bool(props.get("hidden")),
                    row_count=int(size.get("rowCount") or 0) if isinstance(size, dict) else None,
                    column_count=int(size.get("columnCount") or 0) if isinstance(size, dict) else None,
                )
            )
        named: list[tuple[str, dict[str, Any]]] = []
        for entry in data.get("namedRanges") or []:
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                grid = entry.get("range")
                named.append((entry["name"], grid if isinstance(grid, dict) else {}))
        return cls(tuple(sorted(sheets, key=lambda s: s.index)), tuple(named))

    def sheet(self, title: str) -> Sheet | None:
        """The sheet of this title (Sheets matches titles regardless of case when one alone fits)."""
        for sheet in self.sheets:
            if sheet.title == title:
                return sheet
        folded = [s for s in self.sheets if s.title.casefold() == title.casefold()]
        return folded[0] if len(folded) == 1 else None

    def first_visible(self) -> Sheet | None:
        """The sheet a range without a sheet name refers to: the first one not hidden."""
        return next((s for s in self.sheets if not s.hidden), None)

    def named_range(self, name: str) -> dict[str, Any] | None:
        for candidate, grid in self.named_ranges:
            if candidate == name:
                return grid
        folded = [grid for candidate, grid in self.named_ranges if candidate.casefold() == name.casefold()]
        return folded[0] if len(folded) == 1 else None

    def describe(self) -> str:
        """The sheets and named ranges, for an error message (at most 20 of each)."""
        sheets = ", ".join(repr(s.title) for s in self.sheets[:20]) or "none"
        named = ", ".join(repr(name) for name, _ in self.named_ranges[:20])
        return f"its sheets: {sheets}" + (f"; its named ranges: {named}" if named else "")


def display_title(title: str) -> str:
    """A sheet title as Google writes it before `!`: quoted (quotes doubled) unless a plain name."""
    if _PLAIN_TITLE.match(title) and not _CELL_LIKE_TITLE.match(title):
        return title
    return "'" + title.replace("'", "''") + "'"


@dataclass(frozen=True)
class Block:
    """A rectangle of one sheet: zero-based, end-exclusive rows and columns, within the sheet's grid."""

    sheet: Sheet
    start_row: int
    end_row: int
    start_column: int
    end_column: int

    @property
    def rows(self) -> int:
        return self.end_row - self.start_row

    def part(self, first: int, end: int) -> Block:
        """Rows `first` to `end` (end-exclusive, counted from this block's first row) of this block."""
        return Block(self.sheet, self.start_row + first, self.start_row + end, self.start_column, self.end_column)

    def cells(self) -> str:
        """`A1:D4` (`B3` for a single cell)."""
        first = f"{column_letters(self.start_column)}{self.start_row + 1}"
        last = f"{column_letters(self.end_column - 1)}{self.end_row}"
        return first if first == last else f"{first}:{last}"

    def a1(self) -> str:
        """The range as sent to Google: the title always quoted, so that no title is read as cells."""
        return "'" + self.sheet.title.replace("'", "''") + "'!" + self.cells()


@dataclass(frozen=True)
class Requested:
    """A range as the caller wrote it: `sheet!cells`, bare cells (the first visible sheet), or a bare name
    (a sheet's title or a named range)."""

    text: str
    sheet: str | None = None
    cells: A1Range | None = None
    name: str | None = None

    def direct(self, row_offset: int, max_rows: int) -> bool:
        """Whether one `values.get` of the range as written is the page: bounded cells, read from their first
        row, no taller than a page (no grid is needed to know where they end)."""
        if self.cells is None or self.cells.end_row is None or row_offset:
            return False
        return self.cells.end_row - (self.cells.start_row or 0) <= max_rows


def requested(text: str) -> Requested | None:
    """`text` read as A1 notation; None for what this module does not read (R1C1, `$A$1`, malformed text),
    which is sent to Google as it is, as before."""
    stripped = text.strip()
    try:
        parsed = parse_a1(stripped)
    except ValueError:
        return None
    if "!" in stripped:
        return Requested(stripped, sheet=parsed.sheet, cells=parsed)
    bounded = any(v is not None for v in (parsed.start_row, parsed.end_row, parsed.start_column, parsed.end_column))
    if bounded and _CELLS_LIKE.search(stripped):
        return Requested(stripped, cells=parsed)
    if len(stripped) > 1 and stripped[0] == stripped[-1] == "'":
        return Requested(stripped, name=stripped[1:-1].replace("''", "'"))
    if _NOT_A_NAME.search(stripped):
        return None  # `$A$1:$B$2` and the like: no sheet title without quotes, and no named range
    return Requested(stripped, name=stripped)


def _grid_of(sheet: Sheet, text: str) -> tuple[int, int]:
    if sheet.row_count is None or sheet.column_count is None:
        raise RangeError(f"the sheet {sheet.title!r} has no cells to read (it holds a chart)")
    return sheet.row_count, sheet.column_count


Span = tuple[int | None, int | None]
"""Start and end-exclusive index of rows or columns; None for an open side."""


def _block(sheet: Sheet, text: str, rows: Span, columns: Span) -> Block:
    row_count, column_count = _grid_of(sheet, text)
    start_row, start_column = rows[0] or 0, columns[0] or 0
    end_row = min(row_count if rows[1] is None else rows[1], row_count)
    end_column = min(column_count if columns[1] is None else columns[1], column_count)
    if start_row >= row_count or start_column >= column_count:
        raise RangeError(
            f"it lies outside the sheet {sheet.title!r}, which has {row_count} rows "
            f"and {column_count} columns ({column_letters(max(column_count - 1, 0))} is its last column)"
        )
    return Block(sheet, start_row, end_row, start_column, end_column)


def resolve(wanted: Requested, layout: Layout) -> Block:
    """The cells `wanted` covers, clipped to the sheet's grid as Google clips them; `RangeError` if the
    spreadsheet has no such sheet or named range, or the range lies outside the grid."""
    if wanted.name is not None:
        sheet = layout.sheet(wanted.name)
        if sheet is not None:
            return _block(sheet, wanted.text, (None, None), (None, None))
        grid = layout.named_range(wanted.name)
        if grid is None:
            raise RangeError(f"the spreadsheet has no sheet or named range {wanted.name!r}; {layout.describe()}")
        sheet_id = int(grid.get("sheetId") or 0)
        named_sheet = next((s for s in layout.sheets if s.sheet_id == sheet_id), None)
        if named_sheet is None:
            raise RangeError(f"the named range {wanted.name!r} is on a sheet the spreadsheet no longer has")

        def index(key: str) -> int | None:
            value = grid.get(key)
            return None if value is None else int(value)

        return _block(
            named_sheet,
            wanted.text,
            (index("startRowIndex"), index("endRowIndex")),
            (index("startColumnIndex"), index("endColumnIndex")),
        )
    cells = wanted.cells
    assert cells is not None  # a Requested is a name or cells
    if wanted.sheet is None:
        # Bare text that is also a sheet's title (`Q1`, `Tab1`) means the sheet, not the cell.
        titled = layout.sheet(wanted.text)
        if titled is not None:
            return _block(titled, wanted.text, (None, None), (None, None))
        target = layout.first_visible()
        if target is None:
            raise RangeError("the spreadsheet has no visible sheet to read cells from; name the sheet (Sheet1!A1:D10)")
    else:
        target = layout.sheet(wanted.sheet)
        if target is None:
            raise RangeError(f"the spreadsheet has no sheet {wanted.sheet!r}; {layout.describe()}")
    return _block(target, wanted.text, (cells.start_row, cells.end_row), (cells.start_column, cells.end_column))


@dataclass(frozen=True)
class Plan:
    """The ranges the first request of a page asks for, all inside `block`."""

    block: Block
    row_offset: int
    max_rows: int
    header: Block | None
    """The range's first row, repeated on a page after the first."""
    window: Block | None
    """The page's rows and the one after it (within the range); None when row_offset is past its end."""
    last: Block | None
    """The range's last row, when the window does not reach it."""

    @property
    def fetch(self) -> list[Block]:
        return [b for b in (self.header, self.window, self.last) if b is not None]


def plan(block: Block, row_offset: int, max_rows: int, header: bool) -> Plan:
    total = block.rows
    head = block.part(0, 1) if header and row_offset > 0 else None
    if row_offset >= total:
        return Plan(block, row_offset, max_rows, head, None, None)
    end = min(row_offset + max_rows + 1, total)
    last = block.part(total - 1, total) if total - 1 >= end else None
    return Plan(block, row_offset, max_rows, head, block.part(row_offset, end), last)


def remainder(page: Plan, got: int, last_filled: bool) -> Block | None:
    """The rows to ask about after a short window: between the window and the range's last row, when the
    window came back short (the data stopped in it) and the last row is empty. None when nothing is unread."""
    if page.window is None or last_filled or got >= page.window.rows:
        return None
    end = page.row_offset + page.window.rows
    return page.block.part(end, page.block.rows - 1) if page.block.rows - 1 > end else None


def count(page: Plan, got: int, last_filled: bool, later: int | None) -> tuple[int, Bound]:
    """How many rows the range holds up to its last non-empty one, or the bound known of it.

    `got`: rows of the window's answer; `last_filled`: the range's last row has a value; `later`: rows of
    the answer for `remainder` (None when it was not asked, -1 when it was too large to receive, which says
    there are rows).
    """
    total, offset = page.block.rows, page.row_offset
    if page.window is None:
        return total, "at_most"
    if last_filled:
        return total, "exact"
    end = offset + page.window.rows
    if end < total and got == page.window.rows:
        return offset + got, "at_least"  # the row after the page has a value; the rest was not read
    if later is not None and later < 0:
        return end + 1, "at_least"
    if later:
        return end + later, "exact"
    if got:
        return offset + got, "exact"
    return (0, "exact") if offset == 0 else (offset, "at_most")


@dataclass(frozen=True)
class Window:
    """What one page of a range shows, and what is known of the rows around it."""

    range: str
    rows: list[list[Any]]
    """The rows from row_offset on (at most max_rows)."""
    head_row: list[list[Any]]
    """[the range's first row] when it is repeated before `rows`, else []."""
    total: int
    bound: Bound
    columns: int
    """The widest row read."""


def whole_range_window(
    range_name: str, rows: Sequence[list[Any]], header: bool, row_offset: int, max_rows: int
) -> Window:
    """The page of a range whose rows were all received."""
    return Window(
        range=range_name,
        rows=list(rows[row_offset : row_offset + max_rows]),
        head_row=list(rows[:1]) if header and row_offset > 0 and rows else [],
        total=len(rows),
        bound="exact",
        columns=max((len(r) for r in rows), default=0),
    )
