"""`google_read_range` fetches only the page it shows, whatever the range's form and the sheet's size.

The sheets are `SheetsSimulator` models, which answer each A1 range as the Sheets API does (clipped to
the grid, empty rows and cells at the end left out, 400 for a range outside the grid); the assertions
are on the A1 ranges the connector asked for, the bytes it received and what the model reads.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from google_support import FakeGoogle, json_response
from sheets_simulator import GeneratedRows, SheetsSimulator, SimSheet

from sagemcp.testing import DiscoveryValidator, call_tool
from sagemcp_google import GoogleConnector
from sagemcp_google._sheet_window import Requested, display_title, requested

ROWS = 100_000
HEADER = ["Date", "Order", "Customer", "Region", "Rep", "Product", "Qty", "Unit price", "Total", "Stage", "Notes"]
CORE_RESPONSE_CAP = 10 * 1024 * 1024
"""What core's upstream client receives at most in one answer (`UpstreamClient.max_response_bytes`)."""


def order(n: int) -> list[Any]:
    """Row `n` (0-based) of a 100,000-row order book; row 0 is the header."""
    if n == 0:
        return list(HEADER)
    return [
        f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}",
        f"SO-{100000 + n}",
        ["Acme Corp", "Globex", "Initech", "Hooli"][n % 4],
        ["EMEA", "NA", "APAC"][n % 3],
        ["Ana Lima", "Ben Okafor"][n % 2],
        "Widget Pro",
        str(1 + n % 40),
        "$1,200.00",
        f"${1200 * (1 + n % 40):,.2f}",
        "Closed won",
        "Renewal, check the discount" if n % 7 == 0 else None,
    ]


def orders(row_count: int = ROWS) -> SheetsSimulator:
    """The order book alone in a spreadsheet, in a grid of `row_count` rows."""
    return SheetsSimulator(
        [SimSheet("Orders", GeneratedRows(ROWS, order), row_count=row_count, column_count=11, sheet_id=31)]
    )


class Counted:
    """Counts the bytes of every answer the fake gives."""

    def __init__(self, fake: FakeGoogle) -> None:
        self.fake = fake
        self.bytes = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        response = self.fake(request)
        self.bytes += len(response.content)
        return response


def google_bytes(data: Any) -> int:
    return len(json.dumps(data, indent=2).encode())


async def read(sheets: SheetsSimulator, **arguments: Any) -> tuple[Any, FakeGoogle, Counted]:
    fake = FakeGoogle(sheets=sheets)
    counted = Counted(fake)
    result = await call_tool(
        GoogleConnector, "google_read_range", {"spreadsheet_id": "1sHeetOrders", **arguments}, handler=counted
    )
    return result, fake, counted


# -- a 100,000-row sheet -----------------------------------------------------------------------------


async def test_page_one_of_a_100000_row_sheet_asks_for_its_rows_only(google_description: DiscoveryValidator) -> None:
    sheets = orders()
    result, fake, counted = await read(sheets, range="Orders")
    assert not result.is_error, result.text[:300]
    assert fake.method_ids == ["sheets.spreadsheets.get", "sheets.spreadsheets.values.batchGet"]
    # The page's 200 rows and the one after them, and the sheet's last row: is the data that long?
    assert sheets.asked == ["'Orders'!A1:K201", "'Orders'!A100000:K100000"]
    lines = result.text.split("\n")
    assert lines[0] == "Orders!A1:K100000: rows 1-200 of 100000, 11 columns (CSV)"
    assert lines[1] == ",".join(HEADER) and lines[2].startswith("2026-02-02,SO-100001,Globex,NA,Ben Okafor,")
    assert len(lines) == 1 + 200 + 1
    assert lines[-1] == "…99800 more rows: call google_read_range with row_offset=200"
    assert result.structured["total_rows"] == 100_000 and result.structured["total_rows_bound"] == "exact"  # type: ignore[index]
    # Bytes: the layout (a few hundred) and the 202 rows, about 50 kB, where the whole sheet is over core's
    # 10 MiB cap (a whole read failed).
    layout = google_bytes({"sheets": [{"properties": sheets.sheets[0].properties(0)}], "namedRanges": []})
    rows = google_bytes(
        {"spreadsheetId": sheets.spreadsheet_id, "valueRanges": [sheets.read(a) for a in list(sheets.asked)]}
    )
    assert counted.bytes <= layout + rows and counted.bytes < 60_000, (counted.bytes, layout, rows)
    assert google_bytes(sheets.read("Orders")) > CORE_RESPONSE_CAP
    for request in fake.requests:
        google_description.validate_request(request)


async def test_page_three_asks_for_its_rows_and_the_header_row() -> None:
    sheets = orders()
    result, _fake, counted = await read(sheets, range="Orders", row_offset=400, max_rows=200)
    assert not result.is_error, result.text[:300]
    assert sheets.asked == ["'Orders'!A1:K1", "'Orders'!A401:K601", "'Orders'!A100000:K100000"]
    lines = result.text.split("\n")
    assert lines[0] == "Orders!A1:K100000: rows 401-600 of 100000 (the header row first), 11 columns (CSV)"
    assert lines[1] == ",".join(HEADER)
    assert lines[2].startswith(f"{order(400)[0]},SO-100400,")
    assert lines[201].startswith(f"{order(599)[0]},SO-100599,")
    assert lines[-1] == "…99400 more rows: call google_read_range with row_offset=600"
    assert result.structured["header_repeated"] is True and result.structured["first_row"] == 400  # type: ignore[index]
    assert counted.bytes < 60_000, counted.bytes


async def test_the_last_page_of_a_100000_row_sheet() -> None:
    sheets = orders()
    result, _fake, _counted = await read(sheets, range="Orders!A:K", row_offset=99_900, max_rows=500, header=False)
    assert sheets.asked == ["'Orders'!A99901:K100000"]
    assert result.text.split("\n")[0] == "Orders!A1:K100000: rows 99901-100000 of 100000, 11 columns (CSV)"
    assert not result.structured["truncated"] and "hint" not in result.structured  # type: ignore[index]


async def test_a_sheet_with_empty_rows_below_the_data_gives_a_lower_bound_until_the_end_shows() -> None:
    # 100,000 rows of data in a grid of 120,000: the last row is empty, so the total is not known from it.
    sheets = orders(row_count=120_000)
    result, _fake, _counted = await read(sheets, range="Orders", max_rows=100)
    assert sheets.asked == ["'Orders'!A1:K101", "'Orders'!A120000:K120000"]
    lines = result.text.split("\n")
    assert lines[0] == "Orders!A1:K120000: rows 1-100 of at least 101, 11 columns (CSV)"
    assert lines[-1] == "…at least 1 more rows: call google_read_range with row_offset=100"
    assert result.structured["total_rows_bound"] == "at_least" and result.structured["truncated"]  # type: ignore[index]
    # The page where the data stops: the rows below it are asked about once (an empty answer), then the
    # total is exact.
    sheets.asked.clear()
    result, fake, counted = await read(sheets, range="Orders", row_offset=99_950, max_rows=100)
    assert sheets.asked == [
        "'Orders'!A1:K1",
        "'Orders'!A99951:K100051",
        "'Orders'!A120000:K120000",
        "'Orders'!A100052:K119999",
    ]
    assert fake.method_ids[1:] == ["sheets.spreadsheets.values.batchGet"] * 2
    assert result.text.split("\n")[0] == (
        "Orders!A1:K120000: rows 99951-100000 of 100000 (the header row first), 11 columns (CSV)"
    )
    assert not result.structured["truncated"] and counted.bytes < 30_000  # type: ignore[index]


# -- open ranges --------------------------------------------------------------------------------------


def people(count: int) -> list[list[Any]]:
    return [["Name", "Team", "Email"]] + [[f"Person {n}", f"T{n % 3}", f"p{n}@example.com"] for n in range(1, count)]


def two_sheets(rows: list[list[Any]], **grid: Any) -> SheetsSimulator:
    """A hidden first sheet, then `People` with `rows`: a range without a sheet name reads `People`."""
    return SheetsSimulator(
        [
            SimSheet("Archive", [["old"]] * 50, row_count=50, column_count=3, sheet_id=4, hidden=True),
            SimSheet("People", rows, sheet_id=9, **grid),
        ]
    )


async def test_columns_without_rows_read_the_first_visible_sheet_to_its_grid_end() -> None:
    sheets = two_sheets(people(600), row_count=1000, column_count=8)
    result, _fake, _counted = await read(sheets, range="A:C", row_offset=250, max_rows=100)
    assert sheets.asked == ["'People'!A1:C1", "'People'!A251:C351", "'People'!A1000:C1000"]
    assert result.text.split("\n")[:3] == [
        "People!A1:C1000: rows 251-350 of at least 351 (the header row first), 3 columns (CSV)",
        "Name,Team,Email",
        "Person 250,T1,p250@example.com",
    ]
    sheets.asked.clear()
    last, _fake, _counted = await read(sheets, range="A:C", row_offset=500, max_rows=100)
    assert sheets.asked == ["'People'!A1:C1", "'People'!A501:C601", "'People'!A1000:C1000", "'People'!A602:C999"]
    assert last.text.split("\n")[0] == "People!A1:C1000: rows 501-600 of 600 (the header row first), 3 columns (CSV)"
    assert "hint" not in last.structured  # type: ignore[index]


@pytest.mark.parametrize(
    ("range_text", "asked", "head"),
    [
        ("People", ["'People'!A1:H51", "'People'!A1000:H1000", "'People'!A52:H999"], "People!A1:H1000"),
        ("'People'", ["'People'!A1:H51", "'People'!A1000:H1000", "'People'!A52:H999"], "People!A1:H1000"),
        ("People!2:500", ["'People'!A2:H52", "'People'!A500:H500", "'People'!A53:H499"], "People!A2:H500"),
        ("People!B3:C", ["'People'!B3:C53", "'People'!B1000:C1000", "'People'!B54:C999"], "People!B3:C1000"),
        ("A1:C5000", ["'People'!A1:C51", "'People'!A1000:C1000", "'People'!A52:C999"], "People!A1:C1000"),
    ],
)
async def test_open_and_oversized_ranges_become_the_rows_of_the_page(
    range_text: str, asked: list[str], head: str
) -> None:
    sheets = two_sheets(people(30), row_count=1000, column_count=8)
    result, _fake, _counted = await read(sheets, range=range_text, max_rows=50)
    assert not result.is_error, result.text
    assert sheets.asked == asked
    first = result.text.split("\n")[0]
    assert first.startswith(f"{head}: rows 1-") and " of at" not in first and "hint" not in result.structured  # type: ignore[index]


async def test_a_table_below_empty_rows_is_counted_and_the_gap_shown_as_empty_rows() -> None:
    rows: list[list[Any]] = [*people(10), *[[] for _ in range(290)], ["Totals", "", "=SUM(x)"], ["Signed", "Ana"]]
    sheets = two_sheets(rows, row_count=1000, column_count=3)
    result, _fake, _counted = await read(sheets, range="People", max_rows=50)
    assert sheets.asked == ["'People'!A1:C51", "'People'!A1000:C1000", "'People'!A52:C999"]
    lines = result.text.split("\n")
    # As a whole read shows it: 10 rows, then empty ones (left out at the end of the text) up to the page's
    # end, and the rows after it counted.
    assert lines[0] == "People!A1:C1000: rows 1-50 of 302, 3 columns (CSV)"
    assert lines[1:-1] == [",".join(row) for row in people(10)]
    assert lines[-1] == "…252 more rows: call google_read_range with row_offset=50"
    assert result.structured["rows"] == 50  # type: ignore[index]


async def test_rows_too_large_to_receive_below_a_short_page_say_at_least() -> None:
    sheets = two_sheets(people(10), row_count=1000, column_count=3)
    fake = FakeGoogle(sheets=sheets)
    huge = httpx.Response(200, content=b" " * (CORE_RESPONSE_CAP + 1), headers={"Content-Type": "application/json"})

    def answer(request: httpx.Request) -> httpx.Response:
        method = fake.validator.validate_request(request)
        if len(request.url.params.get_list("ranges")) == 1:
            return huge  # the rows below the page: a large table follows further down
        return sheets(request, method, fake.validator)

    fake.responses["sheets.spreadsheets.values.batchGet"] = answer
    result = await call_tool(
        GoogleConnector, "google_read_range", {"spreadsheet_id": "s", "range": "People", "max_rows": 50}, handler=fake
    )
    assert not result.is_error, result.text
    assert result.text.split("\n")[0] == "People!A1:C1000: rows 1-50 of at least 52, 3 columns (CSV)"
    assert result.text.split("\n")[-1] == "…at least 2 more rows: call google_read_range with row_offset=50"


# -- named ranges ------------------------------------------------------------------------------------


async def test_a_named_range_is_resolved_through_the_layout_and_paged() -> None:
    rows = [["x"] * 6 for _ in range(3)] + [["", "Deal", "Owner", "Value", "Stage"]]
    rows += [["", f"Deal {n}", "Ana", str(n * 100), "Won"] for n in range(1, 700)]
    sheets = SheetsSimulator(
        [
            SimSheet("Notes", [["see Pipeline"]], row_count=100, column_count=5),
            SimSheet("Pipeline", rows, row_count=2000, column_count=10, sheet_id=77),
        ],
        named_ranges={
            "Deals": {"sheetId": 77, "startRowIndex": 3, "endRowIndex": 503, "startColumnIndex": 1, "endColumnIndex": 5}
        },
    )
    result, _fake, _counted = await read(sheets, range="deals", row_offset=100, max_rows=50)
    assert sheets.asked == ["'Pipeline'!B4:E4", "'Pipeline'!B104:E154", "'Pipeline'!B503:E503"]
    assert result.text.split("\n")[:3] == [
        "Pipeline!B4:E503: rows 101-150 of 500 (the header row first), 4 columns (CSV)",
        "Deal,Owner,Value,Stage",
        "Deal 100,Ana,10000,Won",
    ]


async def test_a_named_range_on_the_first_sheet_with_open_sides() -> None:
    # Google leaves out a GridRange's zero fields (sheetId 0, index 0) and the sides left open.
    sheets = SheetsSimulator(
        [SimSheet("Data", people(40), row_count=300, column_count=6)],
        named_ranges={"Team": {"startColumnIndex": 1, "endColumnIndex": 2}},
    )
    result, _fake, _counted = await read(sheets, range="Team", max_rows=10, header=False)
    assert sheets.asked == ["'Data'!B1:B11", "'Data'!B300"]
    assert result.text.split("\n")[:3] == ["Data!B1:B300: rows 1-10 of at least 11, 1 columns (CSV)", "Team", "T1"]


async def test_an_unknown_name_is_refused_with_the_names_there_are() -> None:
    sheets = SheetsSimulator([SimSheet("Data", people(4))], named_ranges={"Team": {"startColumnIndex": 1}})
    result, fake, _counted = await read(sheets, range="Teams")
    assert result.is_error and fake.method_ids == ["sheets.spreadsheets.get"]
    assert "no sheet or named range 'Teams'; its sheets: 'Data'; its named ranges: 'Team'" in result.text


# -- small sheets ------------------------------------------------------------------------------------


async def test_a_sheet_with_fewer_rows_than_the_page_is_one_range() -> None:
    sheets = SheetsSimulator([SimSheet("Tiny", people(12), row_count=12, column_count=4)])
    result, fake, _counted = await read(sheets, range="Tiny")
    assert fake.method_ids == ["sheets.spreadsheets.get", "sheets.spreadsheets.values.batchGet"]
    assert sheets.asked == ["'Tiny'!A1:D12"]
    lines = result.text.split("\n")
    assert lines[0] == "Tiny!A1:D12: rows 1-12 of 12, 3 columns (CSV)" and len(lines) == 13
    assert not result.structured["truncated"]  # type: ignore[index]
    # A bounded range taller than the sheet is clipped to it; from its top, a small one is one values.get.
    sheets.asked.clear()
    clipped, _fake, _counted = await read(sheets, range="Tiny!A1:C5000")
    assert sheets.asked == ["'Tiny'!A1:C12"] and clipped.text.startswith("Tiny!A1:C12: rows 1-12 of 12, 3 columns")
    sheets.asked.clear()
    small, fake, _counted = await read(sheets, range="Tiny!A1:C50")
    assert fake.method_ids == ["sheets.spreadsheets.values.get"] and sheets.asked == ["Tiny!A1:C50"]
    assert small.text.startswith("Tiny!A1:C12: rows 1-12 of 12, 3 columns")


async def test_an_offset_past_the_range_asks_for_the_header_only() -> None:
    sheets = SheetsSimulator([SimSheet("Tiny", people(12), row_count=12, column_count=4)])
    result, _fake, _counted = await read(sheets, range="Tiny", row_offset=40)
    assert sheets.asked == ["'Tiny'!A1:D1"]
    assert result.text == "Tiny!A1:D12: no rows of at most 12 (the header row first), 3 columns (CSV)\nName,Team,Email"


async def test_a_range_outside_the_grid_is_refused_before_any_value_is_asked() -> None:
    sheets = SheetsSimulator([SimSheet("Tiny", people(12), row_count=12, column_count=4)])
    result, fake, _counted = await read(sheets, range="Tiny!A20:D900")
    assert result.is_error and fake.method_ids == ["sheets.spreadsheets.get"]
    assert "lies outside the sheet 'Tiny', which has 12 rows and 4 columns" in result.text


async def test_r1c1_notation_is_sent_as_written_and_cut_to_the_page() -> None:
    values = {"range": "Data!A1:C5", "majorDimension": "ROWS", "values": people(5)}
    fake = FakeGoogle({"sheets.spreadsheets.values.get": lambda r: json_response(values)})
    result = await call_tool(
        GoogleConnector,
        "google_read_range",
        {"spreadsheet_id": "s", "range": "Data!R1C1:R5C3", "row_offset": 2, "max_rows": 2},
        handler=fake,
    )
    assert result.request.url.raw_path.endswith(
        b"/values/Data%21R1C1%3AR5C3?valueRenderOption=FORMATTED_VALUE&majorDimension=ROWS"
    )
    assert result.text.split("\n")[0] == "Data!A1:C5: rows 3-4 of 5 (the header row first), 3 columns (CSV)"


# -- reading the A1 text -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sheet", "name", "rows"),
    [
        ("Sheet1!A1:K1000", "Sheet1", None, (0, 1000)),
        ("'Q1 Sales'!B:B", "Q1 Sales", None, (None, None)),
        ("'it''s'!2:500", "it's", None, (1, 500)),
        ("A5:D", None, None, (4, None)),
        ("B3", None, None, (2, 3)),
        ("Sheet1", None, "Sheet1", None),
        ("'Q1 Sales'", None, "Q1 Sales", None),
        ("Deals_2026", None, "Deals_2026", None),
        ("A", None, "A", None),
    ],
)
def test_a1_text_is_read_as_cells_or_a_name(
    text: str, sheet: str | None, name: str | None, rows: tuple[int | None, int | None] | None
) -> None:
    wanted = requested(text)
    assert isinstance(wanted, Requested) and wanted.sheet == sheet and wanted.name == name
    if rows is None:
        assert wanted.cells is None
    else:
        assert wanted.cells is not None and (wanted.cells.start_row, wanted.cells.end_row) == rows


@pytest.mark.parametrize("text", ["Sheet1!R1C1:R5C3", "$A$1:$B$2", "Sheet1!", "Sheet1!B2:A1"])
def test_what_is_not_a1_is_left_to_google(text: str) -> None:
    assert requested(text) is None


def test_titles_are_quoted_as_google_writes_them() -> None:
    assert [display_title(t) for t in ("Summary", "Sheet_2", "Q1 Sales", "Q1", "R1C1", "it's")] == [
        "Summary",
        "Sheet_2",
        "'Q1 Sales'",
        "'Q1'",
        "'R1C1'",
        "'it''s'",
    ]


# -- the model of the Sheets API used above ------------------------------------------------------------


def test_the_simulator_answers_as_the_schemas_say(google_description: DiscoveryValidator) -> None:
    sheets = two_sheets(people(5), row_count=100, column_count=4)
    value_range = google_description.schema_validator("sheets", "ValueRange")
    assert not list(value_range.iter_errors(sheets.read("People!A1:D200")))
    assert sheets.read("People!A1:D200") == {"range": "People!A1:D100", "majorDimension": "ROWS", "values": people(5)}
    assert sheets.read("A3:B3")["values"] == [["Person 2", "T2"]]
    assert "values" not in sheets.read("People!A50:D60")
    spreadsheet = sheets.spreadsheet(None, google_description)
    assert not list(google_description.schema_validator("sheets", "Spreadsheet").iter_errors(spreadsheet))
    masked = sheets.spreadsheet("sheets(properties(title,gridProperties/rowCount)),namedRanges", google_description)
    assert masked == {
        "sheets": [
            {"properties": {"title": "Archive", "gridProperties": {"rowCount": 50}}},
            {"properties": {"title": "People", "gridProperties": {"rowCount": 100}}},
        ],
        "namedRanges": [],
    }
    with pytest.raises(AssertionError, match="gridSize is not a field"):
        sheets.spreadsheet("sheets(properties(gridSize))", google_description)
