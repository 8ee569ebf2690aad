"""`sheets_delete` tools: clearing cells and deleting sheets. Off by default: neither can be undone by the API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from sagemcp import ToolContext, tool
from sagemcp.errors import InvalidArguments

from .._scopes import SHEETS_WRITE
from .._services import segment
from ..models import CellUpdate, SpreadsheetUpdate
from ._common import url
from .sheets import RangeArg, SpreadsheetId, batch, sheet_ids

if TYPE_CHECKING:
    from ..connector import GoogleConfig

__all__ = ["SheetsDeleteTools"]


class SheetsDeleteTools:
    """The `sheets_delete` group."""

    @tool(read_only=False, group="sheets_delete", destructive=True, idempotent=True, scopes=SHEETS_WRITE)
    async def clear_range(
        self, ctx: ToolContext[GoogleConfig], spreadsheet_id: SpreadsheetId, range: RangeArg
    ) -> CellUpdate:
        """Clear the values of a range (formatting stays)."""
        response = await ctx.http.post(
            url(ctx, "sheets", f"spreadsheets/{segment(spreadsheet_id)}/values/{segment(range)}:clear"),
            json={},
            idempotent=True,
        )
        return CellUpdate.from_api(spreadsheet_id, response.json_object())

    @tool(read_only=False, group="sheets_delete", destructive=True, idempotent=True, scopes=SHEETS_WRITE)
    async def delete_sheet(
        self,
        ctx: ToolContext[GoogleConfig],
        spreadsheet_id: SpreadsheetId,
        sheet: Annotated[str, Field(min_length=1, max_length=100, description="The title of the sheet to delete.")],
    ) -> SpreadsheetUpdate:
        """Delete a sheet (tab) and everything on it."""
        ids = await sheet_ids(ctx, spreadsheet_id)
        if sheet not in ids:
            names = ", ".join(repr(t) for t in ids if t) or "none"
            raise InvalidArguments(f"no sheet {sheet!r}; the sheets: {names}", [("sheet", "unknown sheet")])
        await batch(ctx, spreadsheet_id, [{"deleteSheet": {"sheetId": ids[sheet]}}])
        return SpreadsheetUpdate(spreadsheet_id=spreadsheet_id, done=f"Deleted sheet {sheet!r}.", sheet_id=ids[sheet])
