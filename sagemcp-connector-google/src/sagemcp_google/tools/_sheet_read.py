"""The requests behind one page of `google_read_range`: only the rows it shows (see `_sheet_window`).

A small bounded range read from its top is one `values.get`, as it always was. Any other range starts
with the spreadsheet's layout (one `spreadsheets.get` with a field mask, once per call), then one
`values.batchGet` of the page, the row after it, the range's last row and, on later pages, the header
row; a page that comes back short is followed by one more `values.batchGet`, of the rows below it, whose
answer is empty unless a table follows further down (an answer too large to receive says that one does).
A range this module does not read (R1C1 notation) is fetched whole, as before, and cut to the page here.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from sagemcp import ToolContext, UpstreamResponse
from sagemcp.errors import InvalidArguments, UpstreamBadResponse

from .._services import segment
from .._sheet_window import (
    LAYOUT_FIELDS,
    Block,
    Layout,
    RangeError,
    Window,
    count,
    display_title,
    plan,
    remainder,
    requested,
    resolve,
    whole_range_window,
)
from ._common import url

if TYPE_CHECKING:
    from ..connector import GoogleConfig

__all__ = ["read_window"]


def _rows(value_range: dict[str, Any]) -> list[list[Any]]:
    return [r for r in value_range.get("values") or [] if isinstance(r, list)]


async def _values(ctx: ToolContext[GoogleConfig], spreadsheet_id: str, a1: str, render: str) -> dict[str, Any]:
    response = await ctx.http.get(
        url(ctx, "sheets", f"spreadsheets/{segment(spreadsheet_id)}/values/{segment(a1)}"),
        params={"valueRenderOption": render, "majorDimension": "ROWS"},
    )
    return response.json_object()


async def _layout(ctx: ToolContext[GoogleConfig], spreadsheet_id: str) -> Layout:
    response = await ctx.http.get(
        url(ctx, "sheets", f"spreadsheets/{segment(spreadsheet_id)}"), params={"fields": LAYOUT_FIELDS}
    )
    return Layout.from_api(response.json_object())


def _batch_get(
    ctx: ToolContext[GoogleConfig], spreadsheet_id: str, blocks: list[Block], render: str
) -> Awaitable[UpstreamResponse]:
    return ctx.http.get(
        url(ctx, "sheets", f"spreadsheets/{segment(spreadsheet_id)}/values:batchGet"),
        params={"ranges": [b.a1() for b in blocks], "majorDimension": "ROWS", "valueRenderOption": render},
    )


def _value_ranges(response: UpstreamResponse, asked: int) -> list[dict[str, Any]]:
    found = response.json_list("valueRanges", of=dict)
    if len(found) != asked:
        raise UpstreamBadResponse(
            f"Google answered {len(found)} ranges for the {asked} asked; read the range again.", provider="google"
        )
    return found


async def _rows_below(ctx: ToolContext[GoogleConfig], spreadsheet_id: str, block: Block, render: str) -> int:
    """How many rows of `block` Google returns (up to its last non-empty one); -1 when the answer is too
    large to receive, which says there are many."""
    try:
        response = await _batch_get(ctx, spreadsheet_id, [block], render)
    except UpstreamBadResponse:
        return -1
    return len(_rows(_value_ranges(response, 1)[0]))


async def read_window(
    ctx: ToolContext[GoogleConfig],
    spreadsheet_id: str,
    range_text: str,
    *,
    render: str,
    row_offset: int,
    max_rows: int,
    header: bool,
) -> Window:
    """The page of `range_text` from `row_offset`, fetching only its rows (plus the few the totals need)."""
    wanted = requested(range_text)
    if wanted is None or wanted.direct(row_offset, max_rows):
        data = await _values(ctx, spreadsheet_id, range_text, render)
        return whole_range_window(str(data.get("range") or range_text), _rows(data), header, row_offset, max_rows)
    layout = await _layout(ctx, spreadsheet_id)
    try:
        block = resolve(wanted, layout)
    except RangeError as exc:
        raise InvalidArguments(f"range {range_text!r}: {exc}", [("range", str(exc))]) from None
    page = plan(block, row_offset, max_rows, header)
    answers = (
        _value_ranges(await _batch_get(ctx, spreadsheet_id, page.fetch, render), len(page.fetch)) if page.fetch else []
    )
    by_part = iter(answers)
    head = _rows(next(by_part))[:1] if page.header is not None else []
    window = _rows(next(by_part)) if page.window is not None else []
    last = _rows(next(by_part)) if page.last is not None else []
    below = remainder(page, len(window), bool(last))
    later = await _rows_below(ctx, spreadsheet_id, below, render) if below is not None else None
    total, bound = count(page, len(window), bool(last), later)
    echoed = next((str(a.get("range") or "") for a in answers if "!" in str(a.get("range") or "")), "")
    prefix = echoed.rsplit("!", 1)[0] if echoed else display_title(block.sheet.title)
    data_seen = bool(head and head[0]) or (bound != "at_most" and total > 0)
    head_row = [head[0] if head else []] if page.header is not None and data_seen else []
    rows = window[:max_rows]
    if bound != "at_most":
        # Empty rows before data further down are rows of the range: shown empty, as a whole read shows them.
        rows += [[] for _ in range(min(max_rows, total - row_offset) - len(rows))]
    return Window(
        range=f"{prefix}!{block.cells()}",
        rows=rows,
        head_row=head_row,
        total=total,
        bound=bound,
        columns=max((len(r) for r in (*head, *window, *last)), default=0),
    )
