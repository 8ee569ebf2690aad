"""`sheets` tools: spreadsheets listed, described, read (bounded, as Markdown tables or CSV), written and formatted."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from sagemcp import Cursor, Limit, ToolContext, tool
from sagemcp.errors import InvalidArguments
from sagemcp.markdown import cell

from .._a1 import A1Range, parse_a1
from .._drive_query import MIME_TYPES, DriveQuery
from .._scopes import DRIVE_METADATA_READ, SHEETS_READ, SHEETS_WRITE
from .._services import segment
from .._sheet_window import Window, whole_range_window
from ..models import CellUpdate, DriveFileList, RangesValues, RangeValues, Spreadsheet, SpreadsheetUpdate
from ._common import url
from ._sheet_read import read_window
from .drive import list_page

if TYPE_CHECKING:
    from ..connector import GoogleConfig

__all__ = ["RangeArg", "SheetsTools", "SpreadsheetId", "batch", "grid", "sheet_ids"]

SpreadsheetId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="From its URL (/spreadsheets/d/ID) or google_list_spreadsheets.",
    ),
]
RangeArg = Annotated[
    str,
    Field(
        min_length=1,
        max_length=500,
        description="A1 notation (`Sheet1!A1:D20`, `'Q1 Sales'!B:B`), a sheet name or a named range.",
    ),
]
Cell = str | int | float | bool | None
Rows = Annotated[
    list[list[Cell]],
    Field(min_length=1, max_length=10_000, description="Rows of cell values; strings starting with = are formulas."),
]
Render = Literal["FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"]
InputOption = Annotated[
    Literal["USER_ENTERED", "RAW"],
    Field(description="USER_ENTERED parses values as if typed (numbers, dates, formulas); RAW stores them as given."),
]
MAX_OUTPUT_CHARS = 60_000
"""A range read is cut to about 15,000 tokens, whatever `max_rows` allows."""
_SHEETS_FIELDS = "spreadsheetId,spreadsheetUrl,properties(title,locale,timeZone),sheets(properties),namedRanges"


def sheet_url(spreadsheet_id: str) -> str:
    return f"https://docs.google.com/spreadsheets/d/{spreadsheet_id}/edit"


def _value(value: Any) -> str:
    """A cell as text: booleans as Sheets shows them, empty cells empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


def _trimmed(row: list[Any]) -> list[str]:
    """A row's cells as text, without the empty cells at its end (the column count is said once, above)."""
    cells = [_value(v) for v in row]
    while cells and not cells[-1]:
        cells.pop()
    return cells


def render_rows(rows: list[list[Any]], fmt: str, header: bool) -> str:
    """Rows as CSV (quoted only where a cell needs it) or a compact Markdown table (the first row as header
    when `header`, else the column letters)."""
    lines = [_trimmed(row) for row in rows]
    if fmt == "csv":
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(lines)
        return out.getvalue()
    if not lines:
        return "No values."
    width = max((len(r) for r in lines), default=0) or 1
    cells = [[cell(v, 200) for v in row] for row in lines]
    if header:
        head, body = cells[0] + [""] * (width - len(cells[0])), cells[1:]
    else:
        head, body = [column_name(i) for i in range(width)], cells
    out_lines = ["|" + "|".join(head) + "|", "|" + "|".join("---" for _ in head) + "|"]
    out_lines += ["|" + "|".join(row) + "|" for row in body]
    return "\n".join(out_lines)


def column_name(index: int) -> str:
    """The A1 letters of a 0-based column index: 0 -> A, 25 -> Z, 26 -> AA."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def page(window: Window, fmt: str, header: bool, row_offset: int, tool_name: str) -> RangeValues:
    """`window` cut to `MAX_OUTPUT_CHARS`, with the call that shows more."""
    head_row, rows = window.head_row, window.rows
    shown = len(rows)
    content = render_rows(head_row + rows, fmt, header)
    while len(content) > MAX_OUTPUT_CHARS and shown > 1:
        shown = max(1, shown * MAX_OUTPUT_CHARS // len(content) - 1)
        content = render_rows(head_row + rows[:shown], fmt, header)
    left = window.total - row_offset - shown
    more = left > 0 and window.bound != "at_most"
    hint = (
        f"{'at least ' if window.bound == 'at_least' else ''}{left} more rows: "
        f"call {tool_name} with row_offset={row_offset + shown}"
        if more
        else None
    )
    return RangeValues(
        range=window.range,
        format=fmt,
        content=content,
        rows=shown,
        total_rows=window.total,
        total_rows_bound=window.bound,
        first_row=row_offset,
        columns=window.columns,
        header_repeated=bool(head_row),
        truncated=more,
        hint=hint,
    )


def bounded(
    range_name: str, rows: list[list[Any]], fmt: str, header: bool, row_offset: int, max_rows: int, tool_name: str
) -> RangeValues:
    """`rows[row_offset:]` cut to `max_rows` rows and `MAX_OUTPUT_CHARS`, with the call that shows more."""
    return page(whole_range_window(range_name, rows, header, row_offset, max_rows), fmt, header, row_offset, tool_name)


async def sheet_ids(ctx: ToolContext[GoogleConfig], spreadsheet_id: str) -> dict[str, int]:
    """Sheet title -> sheet id; the first sheet is also under the key ""."""
    response = await ctx.http.get(
        url(ctx, "sheets", f"spreadsheets/{segment(spreadsheet_id)}"),
        params={"fields": "sheets(properties(sheetId,title,index))"},
    )
    found: dict[str, int] = {}
    for sheet in response.json_list("sheets", of=dict):
        props = sheet.get("properties") or {}
        if isinstance(props.get("title"), str):
            found[props["title"]] = int(props.get("sheetId") or 0)
            if int(props.get("index") or 0) == 0:
                found[""] = int(props.get("sheetId") or 0)
    return found


async def grid(ctx: ToolContext[GoogleConfig], spreadsheet_id: str, range_text: str) -> dict[str, Any]:
    """The `GridRange` of an A1 range (the sheet's id looked up by title)."""
    try:
        parsed: A1Range = parse_a1(range_text)
    except ValueError as exc:
        raise InvalidArguments(f"range {range_text!r}: {exc}", [("range", str(exc))]) from None
    ids = await sheet_ids(ctx, spreadsheet_id)
    sheet_id = ids.get(parsed.sheet or "")
    if sheet_id is None:
        names = ", ".join(repr(t) for t in ids if t) or "none"
        raise InvalidArguments(
            f"the spreadsheet has no sheet {parsed.sheet!r}; its sheets: {names}", [("range", "unknown sheet")]
        )
    return parsed.grid_range(sheet_id)


async def batch(ctx: ToolContext[GoogleConfig], spreadsheet_id: str, requests: list[dict[str, Any]]) -> dict[str, Any]:
    response = await ctx.http.post(
        url(ctx, "sheets", f"spreadsheets/{segment(spreadsheet_id)}:batchUpdate"), json={"requests": requests}
    )
    return response.json_object()


class SheetsTools:
    """The `sheets` group."""

    @tool(read_only=True, group="sheets", scopes=DRIVE_METADATA_READ)
    async def list_spreadsheets(
        self,
        ctx: ToolContext[GoogleConfig],
        text: Annotated[str | None, Field(max_length=500, description="Words in the title or content.")] = None,
        name_contains: Annotated[str | None, Field(max_length=500, description="Part of the title.")] = None,
        shared_with_me: Annotated[bool, Field(description="Only spreadsheets others shared with the user.")] = False,
        limit: Annotated[int, Limit(maximum=100, what="Spreadsheets")] = 20,
        cursor: Cursor = None,
    ) -> DriveFileList:
        """List or search Google Sheets spreadsheets: id, title, modified, owner (newest first)."""
        query = (
            DriveQuery()
            .mime_types([MIME_TYPES["spreadsheet"]])
            .full_text(text)
            .name_contains(name_contains)
            .shared_with_me(shared_with_me)
            .trashed(False)
        )
        order = None if text else "modifiedTime desc"
        return await list_page(
            ctx, query, limit=limit, cursor=cursor, order_by=order, drive_id=None, bind={"q": str(query)}
        )

    @tool(read_only=True, group="sheets", scopes=SHEETS_READ)
    async def get_spreadsheet(self, ctx: ToolContext[GoogleConfig], spreadsheet_id: SpreadsheetId) -> Spreadsheet:
        """Get a spreadsheet's title, locale, time zone, sheets with sizes, named ranges (cells: google_read_range)."""
        response = await ctx.http.get(
            url(ctx, "sheets", f"spreadsheets/{segment(spreadsheet_id)}"), params={"fields": _SHEETS_FIELDS}
        )
        return Spreadsheet.from_api(response.json_object())

    @tool(read_only=True, group="sheets", scopes=SHEETS_READ)
    async def read_range(
        self,
        ctx: ToolContext[GoogleConfig],
        spreadsheet_id: SpreadsheetId,
        range: RangeArg,
        format: Annotated[
            Literal["csv", "markdown"], Field(description="CSV (compact, the default) or a Markdown table.")
        ] = "csv",
        header: Annotated[bool, Field(description="The first row is a header (repeated on later pages).")] = True,
        render: Annotated[Render, Field(description="Values as shown, raw numbers, or formulas.")] = "FORMATTED_VALUE",
        row_offset: Annotated[int, Field(ge=0, le=10_000_000, description="Rows of the range to skip.")] = 0,
        max_rows: Annotated[int, Field(ge=1, le=1000, description="At most this many rows (1-1000).")] = 200,
    ) -> RangeValues:
        """Read a range of cells as CSV (or a Markdown table), max_rows rows from row_offset.

        The first line names the range, rows shown and columns; the last gives the next row_offset if rows are
        left.
        """
        window = await read_window(
            ctx, spreadsheet_id, range, render=render, row_offset=row_offset, max_rows=max_rows, header=header
        )
        return page(window, format, header, row_offset, "google_read_range")

    @tool(read_only=True, group="sheets", scopes=SHEETS_READ)
    async def read_ranges(
        self,
        ctx: ToolContext[GoogleConfig],
        spreadsheet_id: SpreadsheetId,
        ranges: Annotated[list[str], Field(min_length=1, max_length=20, description="A1 ranges to read together.")],
        format: Annotated[
            Literal["csv", "markdown"], Field(description="CSV (compact, the default) or Markdown tables.")
        ] = "csv",
        header: Annotated[bool, Field(description="The first row of each range is a header.")] = True,
        max_rows: Annotated[int, Field(ge=1, le=500, description="At most this many rows per range.")] = 50,
    ) -> RangesValues:
        """Read several ranges in one call (each cut to max_rows rows), such as the top of every sheet."""
        response = await ctx.http.get(
            url(ctx, "sheets", f"spreadsheets/{segment(spreadsheet_id)}/values:batchGet"),
            params={"ranges": ranges, "majorDimension": "ROWS", "valueRenderOption": "FORMATTED_VALUE"},
        )
        found = []
        for value_range in response.json_list("valueRanges", of=dict):
            rows = [r for r in value_range.get("values") or [] if isinstance(r, list)]
            found.append(
                bounded(str(value_range.get("range") or ""), rows, format, header, 0, max_rows, "google_read_range")
            )
        return RangesValues(spreadsheet_id=spreadsheet_id, ranges=found)

    @tool(read_only=False, group="sheets", destructive=True, idempotent=True, scopes=SHEETS_WRITE)
    async def write_range(
        self,
        ctx: ToolContext[GoogleConfig],
        spreadsheet_id: SpreadsheetId,
        range: RangeArg,
        values: Rows,
        input_option: InputOption = "USER_ENTERED",
    ) -> CellUpdate:
        """Write rows of values into a range, starting at its top-left cell (overwrites what is there)."""
        response = await ctx.http.put(
            url(ctx, "sheets", f"spreadsheets/{segment(spreadsheet_id)}/values/{segment(range)}"),
            json={"range": range, "majorDimension": "ROWS", "values": values},
            params={"valueInputOption": input_option},
        )
        return CellUpdate.from_api(spreadsheet_id, response.json_object())

    @tool(read_only=False, group="sheets", destructive=False, idempotent=False, scopes=SHEETS_WRITE)
    async def append_rows(
        self,
        ctx: ToolContext[GoogleConfig],
        spreadsheet_id: SpreadsheetId,
        range: Annotated[
            str, Field(min_length=1, max_length=500, description="The table to append to: `Sheet1!A1` or `Sheet1`.")
        ],
        values: Rows,
        input_option: InputOption = "USER_ENTERED",
        insert_rows: Annotated[
            bool, Field(description="Insert new rows instead of writing into empty rows below the table.")
        ] = True,
    ) -> CellUpdate:
        """Append rows after the last row of a table (the block of data at `range`)."""
        response = await ctx.http.post(
            url(ctx, "sheets", f"spreadsheets/{segment(spreadsheet_id)}/values/{segment(range)}:append"),
            json={"range": range, "majorDimension": "ROWS", "values": values},
            params={
                "valueInputOption": input_option,
                "insertDataOption": "INSERT_ROWS" if insert_rows else "OVERWRITE",
            },
        )
        return CellUpdate.from_api(spreadsheet_id, response.json_object().get("updates") or {})

    @tool(read_only=False, group="sheets", destructive=False, idempotent=False, scopes=SHEETS_WRITE)
    async def create_spreadsheet(
        self,
        ctx: ToolContext[GoogleConfig],
        title: Annotated[str, Field(min_length=1, max_length=1000, description="The spreadsheet's title.")],
        sheets: Annotated[
            list[Annotated[str, Field(min_length=1, max_length=100)]] | None,
            Field(max_length=50, description="Sheet titles (default: one sheet, Sheet1)."),
        ] = None,
        rows: Annotated[
            list[list[Cell]] | None, Field(max_length=10_000, description="Values for the first sheet, from A1.")
        ] = None,
        locale: Annotated[
            str | None, Field(max_length=20, pattern=r"^[A-Za-z_-]+$", description="Locale such as en_GB (formats).")
        ] = None,
        time_zone: Annotated[str | None, Field(max_length=64, description="IANA time zone for dates.")] = None,
    ) -> Spreadsheet:
        """Create a spreadsheet with the given sheets, optionally filling the first one from A1."""
        props: dict[str, Any] = {"title": title}
        if locale:
            props["locale"] = locale
        if time_zone:
            props["timeZone"] = time_zone
        body: dict[str, Any] = {"properties": props}
        if sheets:
            body["sheets"] = [{"properties": {"title": name}} for name in sheets]
        response = await ctx.http.post(url(ctx, "sheets", "spreadsheets"), json=body)
        created = Spreadsheet.from_api(response.json_object())
        if rows:
            first = created.sheets[0].title if created.sheets else "Sheet1"
            target = "'" + first.replace("'", "''") + "'!A1"
            await ctx.http.put(
                url(ctx, "sheets", f"spreadsheets/{segment(created.id)}/values/{segment(target)}"),
                json={"range": target, "majorDimension": "ROWS", "values": rows},
                params={"valueInputOption": "USER_ENTERED"},
            )
        return created

    @tool(read_only=False, group="sheets", destructive=True, idempotent=False, scopes=SHEETS_WRITE)
    async def find_replace_in_spreadsheet(
        self,
        ctx: ToolContext[GoogleConfig],
        spreadsheet_id: SpreadsheetId,
        find: Annotated[str, Field(min_length=1, max_length=5000, description="The text (or pattern) to find.")],
        replace: Annotated[str, Field(max_length=50_000, description="What to put instead.")],
        sheet: Annotated[str | None, Field(max_length=100, description="Only this sheet (default: all).")] = None,
        match_case: Annotated[bool, Field(description="Match upper and lower case exactly.")] = False,
        entire_cell: Annotated[bool, Field(description="Only cells whose whole value matches.")] = False,
        regex: Annotated[bool, Field(description="`find` is a regular expression (RE2).")] = False,
        include_formulas: Annotated[bool, Field(description="Also search inside formulas.")] = False,
    ) -> SpreadsheetUpdate:
        """Find and replace text in a spreadsheet's cells (all sheets, or one); returns how many cells changed."""
        request: dict[str, Any] = {
            "find": find,
            "replacement": replace,
            "matchCase": match_case,
            "matchEntireCell": entire_cell,
            "searchByRegex": regex,
            "includeFormulas": include_formulas,
        }
        if sheet is None:
            request["allSheets"] = True
        else:
            ids = await sheet_ids(ctx, spreadsheet_id)
            if sheet not in ids:
                raise InvalidArguments(f"no sheet {sheet!r} in the spreadsheet", [("sheet", "unknown sheet")])
            request["sheetId"] = ids[sheet]
        answer = await batch(ctx, spreadsheet_id, [{"findReplace": request}])
        reply = ((answer.get("replies") or [{}])[0] or {}).get("findReplace") or {}
        changed = int(reply.get("occurrencesChanged") or 0)
        return SpreadsheetUpdate(
            spreadsheet_id=spreadsheet_id, done=f"Replaced {changed} occurrence(s).", changed=changed
        )
