"""A1 notation (`'Q1 Sales'!B2:D10`) read into the sheet title and zero-based, end-exclusive grid bounds.

The values methods take A1 ranges as they are; the formatting requests of `batchUpdate` need a
`GridRange` (sheet id, row and column indexes), which `grid_range` builds from a parsed range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["A1Range", "column_letters", "parse_a1"]

_CELL = r"([A-Za-z]{1,3})?(\d{1,7})?"
_RANGE_RE = re.compile(rf"^{_CELL}(?::{_CELL})?$")


@dataclass(frozen=True)
class A1Range:
    sheet: str | None
    start_row: int | None = None
    end_row: int | None = None
    start_column: int | None = None
    end_column: int | None = None

    def grid_range(self, sheet_id: int) -> dict[str, Any]:
        """The `GridRange` of this range on sheet `sheet_id` (unbounded sides left out, as the API wants)."""
        grid: dict[str, Any] = {"sheetId": sheet_id}
        for key, value in (
            ("startRowIndex", self.start_row),
            ("endRowIndex", self.end_row),
            ("startColumnIndex", self.start_column),
            ("endColumnIndex", self.end_column),
        ):
            if value is not None:
                grid[key] = value
        return grid


def _column(letters: str) -> int:
    number = 0
    for char in letters.upper():
        number = number * 26 + ord(char) - 64
    return number - 1


def column_letters(index: int) -> str:
    """`0` -> `A`, `27` -> `AB`."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def parse_a1(text: str) -> A1Range:
    """`text` read as an A1 range; `ValueError` saying what is wrong."""
    sheet: str | None = None
    cells = text.strip()
    if "!" in cells:
        sheet, cells = cells.rsplit("!", 1)
        if sheet.startswith("'") and sheet.endswith("'") and len(sheet) >= 2:
            sheet = sheet[1:-1].replace("''", "'")
        if not sheet:
            raise ValueError("the sheet name before ! is empty")
    elif not _RANGE_RE.match(cells) or not cells:
        return A1Range(sheet=cells.strip("'") or None)  # a bare sheet name: the whole sheet
    match = _RANGE_RE.match(cells)
    if match is None or not cells:
        raise ValueError(f"{cells!r} is not an A1 range such as A1:C10, B:B or 2:5")
    c1, r1, c2, r2 = match.groups()
    if ":" not in cells:
        c2, r2 = c1, r1
    start_column = _column(c1) if c1 else None
    end_column = _column(c2) + 1 if c2 else None
    start_row = int(r1) - 1 if r1 else None
    end_row = int(r2) if r2 else None
    if (
        (start_row is not None and start_row < 0)
        or (start_row is not None and end_row is not None and end_row <= start_row)
        or (start_column is not None and end_column is not None and end_column <= start_column)
    ):
        raise ValueError(f"{cells!r} is not a valid range: its end must come after its start")
    return A1Range(sheet, start_row, end_row, start_column, end_column)
