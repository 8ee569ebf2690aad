"""A model of one Google spreadsheet for `FakeGoogle`: sheets with a grid and cells, and named ranges.

It answers the reads the connector sends as the Sheets API does, for any range:

- `spreadsheets.get` returns the spreadsheet with its `fields` mask applied; a mask naming a field the
  `Spreadsheet` schema does not have fails the test (`ContractViolation`);
- `spreadsheets.values.get` and `values.batchGet` read A1 ranges: `Sheet!A1:D4`, `'Q1 Sales'!B:B`, `2:5`,
  `A5:D` (to the grid's last row), a sheet's title alone, a named range, or cells of the first visible
  sheet when no sheet is named. A range's end is clipped to the sheet's grid; one that starts outside the
  grid is refused with Google's 400 `exceeds grid limits`, and text that is none of these with
  `Unable to parse range` (one bad range fails the whole `batchGet`, as at Google);
- an answer's `range` is the whole requested range, clipped, with the title quoted only where needed
  (`Summary!A1:D4`, `'Q1 Sales'!A1:D4`); its `values` leave out the empty rows at the end and the empty
  cells at a row's end, and give an empty cell inside a row as "". In the model, None is an empty cell
  and "" a cell that shows empty text (as `=""` does), which Google returns.

Values are returned as stored, whatever the render option. Every A1 range read is appended to `asked`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import httpx

from sagemcp.testing import ContractViolation, DiscoveryMethod, DiscoveryValidator

_CELLS = re.compile(r"^(?P<c1>[A-Za-z]{1,3})?(?P<r1>[0-9]{1,7})?(?::(?P<c2>[A-Za-z]{1,3})?(?P<r2>[0-9]{1,7})?)?$")
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CELL_LIKE = re.compile(r"^(?:[A-Za-z]{1,3}[0-9]+|[Rr][0-9]*[Cc][0-9]*)$")
_MASK_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\*")


class GeneratedRows(Sequence[list[Any]]):
    """`count` rows made on demand by `make(index)`, for sheets too large to hold as lists."""

    def __init__(self, count: int, make: Callable[[int], list[Any]]) -> None:
        self.count = count
        self.make = make

    def __len__(self) -> int:
        return self.count

    @overload
    def __getitem__(self, index: int) -> list[Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[list[Any]]: ...
    def __getitem__(self, index: int | slice) -> list[Any] | list[list[Any]]:
        if isinstance(index, slice):
            return [self.make(i) for i in range(*index.indices(self.count))]
        if not -self.count <= index < self.count:
            raise IndexError(index)
        return self.make(index % self.count)

    def __iter__(self) -> Iterator[list[Any]]:
        return (self.make(i) for i in range(self.count))


@dataclass
class SimSheet:
    title: str
    rows: Sequence[Sequence[Any]] = ()
    """Cell values from A1, row by row."""
    row_count: int = 1000
    column_count: int = 26
    sheet_id: int = 0
    hidden: bool = False
    frozen_rows: int = 0

    def properties(self, index: int) -> dict[str, Any]:
        grid: dict[str, Any] = {"rowCount": self.row_count, "columnCount": self.column_count}
        if self.frozen_rows:
            grid["frozenRowCount"] = self.frozen_rows
        props: dict[str, Any] = {
            "sheetId": self.sheet_id,
            "title": self.title,
            "index": index,
            "sheetType": "GRID",
            "gridProperties": grid,
        }
        if self.hidden:
            props["hidden"] = True
        return props


def display_title(title: str) -> str:
    if _PLAIN.match(title) and not _CELL_LIKE.match(title):
        return title
    return "'" + title.replace("'", "''") + "'"


def _column(letters: str) -> int:
    number = 0
    for char in letters.upper():
        number = number * 26 + ord(char) - 64
    return number - 1


def _letters(index: int) -> str:
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(65 + rest) + out
    return out


class RangeRefused(Exception):
    """What Google answers 400 to; the message is Google's."""


@dataclass
class SheetsSimulator:
    sheets: list[SimSheet]
    named_ranges: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Name -> GridRange (sheetId and indexes)."""
    spreadsheet_id: str = "1sHeetBudgetQ1aaaaaaa"
    properties: dict[str, Any] = field(
        default_factory=lambda: {"title": "Budget Q1", "locale": "en_GB", "timeZone": "Europe/London"}
    )
    asked: list[str] = field(default_factory=list)
    """Every A1 range read, in order."""

    # -- requests ---------------------------------------------------------------------------

    METHODS = ("sheets.spreadsheets.get", "sheets.spreadsheets.values.get", "sheets.spreadsheets.values.batchGet")

    def __call__(
        self, request: httpx.Request, method: DiscoveryMethod, validator: DiscoveryValidator
    ) -> httpx.Response:
        try:
            if method.id == "sheets.spreadsheets.get":
                return _json(self.spreadsheet(request.url.params.get("fields"), validator))
            if method.id == "sheets.spreadsheets.values.get":
                return _json(self.read(method.path_params["range"]))
            ranges = request.url.params.get_list("ranges")
            return _json({"spreadsheetId": self.spreadsheet_id, "valueRanges": [self.read(r) for r in ranges]})
        except RangeRefused as refused:
            return _json({"error": {"code": 400, "message": str(refused), "status": "INVALID_ARGUMENT"}}, 400)

    def spreadsheet(self, fields: str | None, validator: DiscoveryValidator) -> dict[str, Any]:
        body: dict[str, Any] = {
            "spreadsheetId": self.spreadsheet_id,
            "properties": self.properties,
            "sheets": [{"properties": sheet.properties(i)} for i, sheet in enumerate(self.sheets)],
            "namedRanges": [
                {"namedRangeId": f"nr{n + 1}", "name": name, "range": grid}
                for n, (name, grid) in enumerate(self.named_ranges.items())
            ],
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{self.spreadsheet_id}/edit",
        }
        if not fields:
            return body
        mask = parse_mask(fields)
        check_mask(mask, validator, "sheets", "Spreadsheet")
        return apply_mask(body, mask)

    # -- A1 ranges --------------------------------------------------------------------------

    def _sheet(self, title: str) -> SimSheet | None:
        return next((s for s in self.sheets if s.title.casefold() == title.casefold()), None)

    def locate(self, text: str) -> tuple[SimSheet, int, int, int, int]:
        """The sheet and clipped zero-based, end-exclusive rows and columns of an A1 range."""
        if "!" in text:
            name, cells = text.rsplit("!", 1)
            if len(name) >= 2 and name[0] == name[-1] == "'":
                name = name[1:-1].replace("''", "'")
            elif "'" in name:
                raise RangeRefused(f"Unable to parse range: {text}")
            sheet = self._sheet(name)
            if sheet is None:
                raise RangeRefused(f"Unable to parse range: {text}")
            return self._bounds(text, sheet, cells)
        bare = text[1:-1].replace("''", "'") if len(text) >= 2 and text[0] == text[-1] == "'" else text
        sheet = self._sheet(bare)
        if sheet is not None:
            return self._clip(text, sheet, 0, sheet.row_count, 0, sheet.column_count)
        for name, grid in self.named_ranges.items():
            if name.casefold() == text.casefold():
                named = next(s for s in self.sheets if s.sheet_id == int(grid.get("sheetId") or 0))
                return self._clip(
                    text,
                    named,
                    int(grid.get("startRowIndex") or 0),
                    int(grid.get("endRowIndex", named.row_count)),
                    int(grid.get("startColumnIndex") or 0),
                    int(grid.get("endColumnIndex", named.column_count)),
                )
        visible = next((s for s in self.sheets if not s.hidden), None)
        if visible is None:
            raise RangeRefused(f"Unable to parse range: {text}")
        return self._bounds(text, visible, text)

    def _bounds(self, text: str, sheet: SimSheet, cells: str) -> tuple[SimSheet, int, int, int, int]:
        match = _CELLS.match(cells)
        if match is None or not cells:
            raise RangeRefused(f"Unable to parse range: {text}")
        c1, r1, c2, r2 = match.group("c1", "r1", "c2", "r2")
        if ":" not in cells:
            if not (c1 and r1):
                raise RangeRefused(f"Unable to parse range: {text}")
            c2, r2 = c1, r1
        elif not (c1 or r1) or not (c2 or r2):
            raise RangeRefused(f"Unable to parse range: {text}")
        start_row = int(r1) - 1 if r1 else 0
        end_row = int(r2) if r2 else sheet.row_count
        start_column = _column(c1) if c1 else 0
        end_column = _column(c2) + 1 if c2 else sheet.column_count
        if r1 == "0" or r2 == "0" or end_row <= start_row or end_column <= start_column:
            raise RangeRefused(f"Unable to parse range: {text}")
        return self._clip(text, sheet, start_row, end_row, start_column, end_column)

    def _clip(
        self, text: str, sheet: SimSheet, start_row: int, end_row: int, start_column: int, end_column: int
    ) -> tuple[SimSheet, int, int, int, int]:
        if start_row >= sheet.row_count or start_column >= sheet.column_count:
            raise RangeRefused(
                f"Range ({display_title(sheet.title)}!{text.rsplit('!', 1)[-1]}) exceeds grid limits. "
                f"Max rows: {sheet.row_count}, max columns: {sheet.column_count}"
            )
        return sheet, start_row, min(end_row, sheet.row_count), start_column, min(end_column, sheet.column_count)

    def read(self, text: str) -> dict[str, Any]:
        """The `ValueRange` Google answers for `text`."""
        self.asked.append(text)
        sheet, start_row, end_row, start_column, end_column = self.locate(text)
        first = f"{_letters(start_column)}{start_row + 1}"
        last = f"{_letters(end_column - 1)}{end_row}"
        answer: dict[str, Any] = {
            "range": f"{display_title(sheet.title)}!{first if first == last else f'{first}:{last}'}",
            "majorDimension": "ROWS",
        }
        values: list[list[Any]] = []
        for index in range(start_row, min(end_row, len(sheet.rows))):
            row = list(sheet.rows[index][start_column:end_column])
            while row and row[-1] is None:
                row.pop()
            values.append(["" if cell is None else cell for cell in row])
        while values and not values[-1]:
            values.pop()
        if values:
            answer["values"] = values
        return answer


def _json(data: Any, status: int = 200) -> httpx.Response:
    # Google pretty-prints its JSON answers; so does the model.
    return httpx.Response(
        status, content=json.dumps(data, indent=2).encode(), headers={"Content-Type": "application/json; charset=UTF-8"}
    )


# -- field masks --------------------------------------------------------------------------------

Mask = dict[str, "Mask"]
"""Field name -> the mask of its sub-fields ({} for the whole field)."""


def parse_mask(text: str) -> Mask:
    """Google's partial-response syntax: `a,b(c,d(e)),f/g`."""
    position = 0

    def names() -> Mask:
        nonlocal position
        out: Mask = {}
        while True:
            path: list[str] = []
            while True:
                match = _MASK_NAME.match(text, position)
                if match is None:
                    raise ContractViolation(f"fields={text!r}: a field name is expected at {position}")
                path.append(match.group())
                position = match.end()
                if position < len(text) and text[position] == "/":
                    position += 1
                    continue
                break
            sub: Mask = {}
            if position < len(text) and text[position] == "(":
                position += 1
                sub = names()
                if position >= len(text) or text[position] != ")":
                    raise ContractViolation(f"fields={text!r}: an unclosed (")
                position += 1
            node = out
            for name in path[:-1]:
                node = node.setdefault(name, {})
            node[path[-1]] = _merge(node.get(path[-1]), sub)
            if position < len(text) and text[position] == ",":
                position += 1
                continue
            return out

    mask = names()
    if position != len(text):
        raise ContractViolation(f"fields={text!r}: unexpected {text[position:]!r}")
    return mask


def _merge(old: Mask | None, new: Mask) -> Mask:
    if old is None:
        return new
    if not old or not new:
        return {}
    merged = dict(old)
    for key, value in new.items():
        merged[key] = _merge(merged.get(key), value)
    return merged


def check_mask(mask: Mask, validator: DiscoveryValidator, api: str, schema: str) -> None:
    """Every field the mask names exists in the response schema."""
    schemas = validator.documents[api].get("schemas") or {}

    def walk(node: Mask, spec: dict[str, Any], where: str) -> None:
        while "$ref" in spec or spec.get("type") == "array":
            spec = schemas[spec["$ref"]] if "$ref" in spec else spec["items"]
        properties = spec.get("properties") or {}
        for name, sub in node.items():
            if name == "*":
                continue
            if name not in properties:
                raise ContractViolation(f"fields: {where}{name} is not a field of the {schema} schema")
            walk(sub, properties[name], f"{where}{name}.")

    walk(mask, {"$ref": schema}, "")


def apply_mask(value: Any, mask: Mask) -> Any:
    if not mask or "*" in mask:
        return value
    if isinstance(value, list):
        return [apply_mask(item, mask) for item in value]
    if not isinstance(value, dict):
        return value
    return {key: apply_mask(value[key], sub) for key, sub in mask.items() if key in value}


def from_fixtures(spreadsheet: dict[str, Any], value_ranges: list[dict[str, Any]]) -> SheetsSimulator:
    """The spreadsheet of the `spreadsheets.get` fixture, its cells written from the value fixtures."""
    sheets = []
    for entry in spreadsheet["sheets"]:
        props = entry["properties"]
        grid = props.get("gridProperties") or {}
        sheets.append(
            SimSheet(
                title=props["title"],
                rows=[],
                row_count=grid.get("rowCount", 1000),
                column_count=grid.get("columnCount", 26),
                sheet_id=props.get("sheetId", 0),
                hidden=props.get("hidden", False),
                frozen_rows=grid.get("frozenRowCount", 0),
            )
        )
    simulator = SheetsSimulator(
        sheets,
        named_ranges={n["name"]: n["range"] for n in spreadsheet.get("namedRanges") or []},
        spreadsheet_id=spreadsheet["spreadsheetId"],
        properties=spreadsheet["properties"],
    )
    for value_range in value_ranges:
        sheet, start_row, _end_row, start_column, _end_column = simulator.locate(value_range["range"])
        rows = [list(r) for r in sheet.rows]
        for n, row in enumerate(value_range.get("values") or []):
            while len(rows) <= start_row + n:
                rows.append([])
            target = rows[start_row + n]
            for m, value in enumerate(row):
                while len(target) <= start_column + m:
                    target.append(None)
                if target[start_column + m] not in (None, value):
                    raise AssertionError(f"the fixtures disagree on a cell of {value_range['range']}")
                target[start_column + m] = value
        sheet.rows = rows
    return simulator
