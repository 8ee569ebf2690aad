"""`sheets_layout` tools: a spreadsheet's tabs and how its cells look (sheets added and renamed, formatting).

Off by default: the `sheets` tools read and write values; these change the spreadsheet around them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from sagemcp import ToolContext, tool
from sagemcp.errors import InvalidArguments

from .._scopes import SHEETS_WRITE
from ..models import SpreadsheetUpdate
from .sheets import RangeArg, SpreadsheetId, batch, grid, sheet_ids

if TYPE_CHECKING:
    from ..connector import GoogleConfig

__all__ = ["SheetsLayoutTools"]

_HEX = re.compile(r"^#?([0-9A-Fa-f]{6})$")


def color(value: str, field: str) -> dict[str, float]:
    match = _HEX.match(value)
    if match is None:
        raise InvalidArguments(f"{field} must be a hex colour like #1A73E8", [(field, "not a hex colour")])
    raw = match.group(1)
    return {"red": int(raw[0:2], 16) / 255, "green": int(raw[2:4], 16) / 255, "blue": int(raw[4:6], 16) / 255}


class SheetsLayoutTools:
    """The `sheets_layout` group."""

    @tool(read_only=False, group="sheets_layout", destructive=False, idempotent=False, scopes=SHEETS_WRITE)
    async def add_sheet(
        self,
        ctx: ToolContext[GoogleConfig],
        spreadsheet_id: SpreadsheetId,
        title: Annotated[str, Field(min_length=1, max_length=100, description="The new sheet's title.")],
        rows: Annotated[int, Field(ge=1, le=100_000, description="Rows of the new sheet.")] = 1000,
        columns: Annotated[int, Field(ge=1, le=18_278, description="Columns of the new sheet.")] = 26,
        index: Annotated[
            int | None, Field(ge=0, le=500, description="Position among the sheets (default: last).")
        ] = None,
    ) -> SpreadsheetUpdate:
        """Add a sheet (tab) to a spreadsheet."""
        props: dict[str, Any] = {"title": title, "gridProperties": {"rowCount": rows, "columnCount": columns}}
        if index is not None:
            props["index"] = index
        answer = await batch(ctx, spreadsheet_id, [{"addSheet": {"properties": props}}])
        reply = ((answer.get("replies") or [{}])[0] or {}).get("addSheet") or {}
        sheet_id = (reply.get("properties") or {}).get("sheetId")
        return SpreadsheetUpdate(
            spreadsheet_id=spreadsheet_id, done=f"Added sheet {title!r}.", sheet_id=int(sheet_id or 0)
        )

    @tool(read_only=False, group="sheets_layout", destructive=False, idempotent=True, scopes=SHEETS_WRITE)
    async def rename_sheet(
        self,
        ctx: ToolContext[GoogleConfig],
        spreadsheet_id: SpreadsheetId,
        sheet: Annotated[str, Field(min_length=1, max_length=100, description="The sheet's current title.")],
        title: Annotated[str, Field(min_length=1, max_length=100, description="Its new title.")],
    ) -> SpreadsheetUpdate:
        """Rename a sheet (tab) of a spreadsheet."""
        ids = await sheet_ids(ctx, spreadsheet_id)
        if sheet not in ids:
            names = ", ".join(repr(t) for t in ids if t) or "none"
            raise InvalidArguments(f"no sheet {sheet!r}; the sheets: {names}", [("sheet", "unknown sheet")])
        request = {"updateSheetProperties": {"properties": {"sheetId": ids[sheet], "title": title}, "fields": "title"}}
        await batch(ctx, spreadsheet_id, [request])
        return SpreadsheetUpdate(
            spreadsheet_id=spreadsheet_id, done=f"Renamed {sheet!r} to {title!r}.", sheet_id=ids[sheet]
        )

    @tool(read_only=False, group="sheets_layout", destructive=False, idempotent=True, scopes=SHEETS_WRITE)
    async def format_range(
        self,
        ctx: ToolContext[GoogleConfig],
        spreadsheet_id: SpreadsheetId,
        range: RangeArg,
        bold: Annotated[bool | None, Field(description="Bold on or off.")] = None,
        italic: Annotated[bool | None, Field(description="Italic on or off.")] = None,
        font_size: Annotated[int | None, Field(ge=6, le=72, description="Font size in points.")] = None,
        text_color: Annotated[str | None, Field(max_length=7, description="Hex colour, #RRGGBB.")] = None,
        background_color: Annotated[str | None, Field(max_length=7, description="Hex colour, #RRGGBB.")] = None,
        horizontal_alignment: Annotated[
            Literal["LEFT", "CENTER", "RIGHT"] | None, Field(description="Horizontal alignment.")
        ] = None,
        wrap: Annotated[bool | None, Field(description="Wrap text in the cells.")] = None,
        number_format: Annotated[
            Literal["NUMBER", "PERCENT", "CURRENCY", "DATE", "TIME", "DATE_TIME", "SCIENTIFIC", "TEXT"] | None,
            Field(description="How numbers show."),
        ] = None,
        number_pattern: Annotated[
            str | None,
            Field(max_length=100, description="A number format pattern, such as `#,##0.00` or `yyyy-mm-dd`."),
        ] = None,
        freeze_rows: Annotated[
            int | None, Field(ge=0, le=100, description="Also freeze this many top rows of the sheet.")
        ] = None,
    ) -> SpreadsheetUpdate:
        """Format a range of cells: bold, italic, size, colours, alignment, wrapping, number format, frozen rows."""
        target = await grid(ctx, spreadsheet_id, range)
        text_format: dict[str, Any] = {}
        if bold is not None:
            text_format["bold"] = bold
        if italic is not None:
            text_format["italic"] = italic
        if font_size is not None:
            text_format["fontSize"] = font_size
        if text_color is not None:
            text_format["foregroundColor"] = color(text_color, "text_color")
        fmt: dict[str, Any] = {}
        fields: list[str] = [f"userEnteredFormat.textFormat.{key}" for key in text_format]
        if text_format:
            fmt["textFormat"] = text_format
        if background_color is not None:
            fmt["backgroundColor"] = color(background_color, "background_color")
            fields.append("userEnteredFormat.backgroundColor")
        if horizontal_alignment is not None:
            fmt["horizontalAlignment"] = horizontal_alignment
            fields.append("userEnteredFormat.horizontalAlignment")
        if wrap is not None:
            fmt["wrapStrategy"] = "WRAP" if wrap else "OVERFLOW_CELL"
            fields.append("userEnteredFormat.wrapStrategy")
        if number_format is not None or number_pattern is not None:
            number: dict[str, Any] = {"type": number_format or "NUMBER"}
            if number_pattern:
                number["pattern"] = number_pattern
            fmt["numberFormat"] = number
            fields.append("userEnteredFormat.numberFormat")
        requests: list[dict[str, Any]] = []
        if fmt:
            requests.append(
                {"repeatCell": {"range": target, "cell": {"userEnteredFormat": fmt}, "fields": ",".join(fields)}}
            )
        if freeze_rows is not None:
            requests.append(
                {
                    "updateSheetProperties": {
                        "properties": {"sheetId": target["sheetId"], "gridProperties": {"frozenRowCount": freeze_rows}},
                        "fields": "gridProperties.frozenRowCount",
                    }
                }
            )
        if not requests:
            raise InvalidArguments("give at least one formatting option", [("bold", "nothing to change")])
        await batch(ctx, spreadsheet_id, requests)
        return SpreadsheetUpdate(spreadsheet_id=spreadsheet_id, done=f"Formatted {range}.", sheet_id=target["sheetId"])
