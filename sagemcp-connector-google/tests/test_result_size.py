"""Output budgets: realistic pages stay under a quarter of the raw API bytes, and nothing is unbounded.

The raw bytes are what Google sends: pretty-printed JSON (Google's default), with the fields the
connector asks for. A 200-message Gmail search and a 1,000-row sheet read are the sizes named as
done criteria. A sheet is the exception to the quarter: its cells are the data, and on a realistic sheet
the cell values alone are about 43 % of Google's bytes, so the tests hold the text to lossless CSV with
no overhead beyond one separator per cell and the quotes CSV needs (under half of Google's bytes).
"""

from __future__ import annotations

import csv
import json
from typing import Any

import httpx
from google_support import FakeGoogle, body, json_response
from sheets_simulator import SheetsSimulator, SimSheet

from sagemcp.testing import DiscoveryValidator, call_tool
from sagemcp_google import GoogleConnector

MAX_CHARS = 80_000
"""About 20,000 tokens: the most one result may hold."""


class Raw:
    """Counts the bytes of every answer the fake gives."""

    def __init__(self, fake: FakeGoogle) -> None:
        self.fake = fake
        self.bytes = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        response = self.fake(request)
        self.bytes += len(response.content)
        return response


def messages(count: int) -> dict[str, Any]:
    return {
        "messages": [{"id": f"18e1f0c2a9b3{n:04x}", "threadId": f"18e1f0c2a9b3{n:04x}"} for n in range(count)],
        "resultSizeEstimate": count,
    }


def metadata(request: httpx.Request) -> httpx.Response:
    full = body("gmail.users.messages.get")
    full["id"] = request.url.path.rsplit("/", 1)[-1]
    headers = [h for h in full["payload"]["headers"] if h["name"] in ("From", "To", "Subject", "Date")]
    # What format=metadata returns: the headers asked for, labels, snippet; no bodies.
    return json_response(
        {
            **{
                k: full[k]
                for k in ("id", "threadId", "labelIds", "snippet", "historyId", "internalDate", "sizeEstimate")
            },
            "payload": {"mimeType": "multipart/mixed", "headers": headers},
        }
    )


async def test_a_200_message_search_stays_within_budget() -> None:
    fake = FakeGoogle(
        {"gmail.users.messages.list": lambda r: json_response(messages(200)), "gmail.users.messages.get": metadata}
    )
    raw = Raw(fake)
    result = await call_tool(
        GoogleConnector, "google_search_messages", {"query": "newer_than:30d", "limit": 200}, handler=raw
    )
    assert not result.is_error, result.text[:300]
    assert len(result.structured["items"]) == 200  # type: ignore[index]
    assert len(result.requests) == 201
    assert len(result.text) <= MAX_CHARS
    assert len(result.text) < raw.bytes / 4, (len(result.text), raw.bytes)


CUSTOMERS = ["Acme Corp", "Globex", "Initech", "Umbrella Health", "Stark Industries", "Wayne Enterprises", "Hooli"]
REGIONS = ["EMEA", "NA", "APAC", "LATAM"]
REPS = ["Ana Lima", "Ben Okafor", "Chen Wei", "Dana Fox", "Eli Novak"]
PRODUCTS = [("Widget Pro", 1200), ("Widget Lite", 250), ("Gizmo 3000", 4800), ("Support plan", 99), ("Onboarding", 49)]
STAGES = ["Closed won", "Closed lost", "Negotiation", "Proposal", "Qualified"]


def pipeline(rows: int) -> list[list[str]]:
    """A sales pipeline as `values.get` returns it with FORMATTED_VALUE: every cell a string as shown
    (dates, `$1,250.00`), empty cells inside a row as "", empty cells at a row's end left out."""
    values = [["Date", "Order", "Customer", "Region", "Rep", "Product", "Qty", "Unit price", "Total", "Stage", "Notes"]]
    for n in range(rows - 1):
        product, price = PRODUCTS[n * 7 % 5]
        qty = 1 + n * 13 % 40
        row = [
            f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}",
            f"SO-{10400 + n}",
            CUSTOMERS[n * 3 % 7],
            REGIONS[n % 4],
            REPS[n * 2 % 5],
            product,
            str(qty),
            f"${price:,.2f}",
            f"${price * qty:,.2f}",
            STAGES[n * 3 % 5],
        ]
        if n % 9 == 0:
            row[4] = ""  # not assigned yet
        if n % 7 == 0:
            row.append("Renewal, check the discount")
        values.append(row)
    return values


def value_range(range_name: str, rows: list[list[str]]) -> dict[str, Any]:
    return {"range": range_name, "majorDimension": "ROWS", "values": rows}


def google_bytes(data: Any) -> int:
    """The size of an answer as Google sends it (pretty-printed, its default)."""
    return len(json.dumps(data, indent=2).encode())


def csv_lines(rows: list[list[str]]) -> list[list[str]]:
    trimmed = []
    for row in rows:
        cells = list(row)
        while cells and not cells[-1]:
            cells.pop()
        trimmed.append(cells)
    return trimmed


async def test_a_1000_row_sheet_reads_as_compact_lossless_csv(google_description: DiscoveryValidator) -> None:
    rows = pipeline(1000)
    sheet = SheetsSimulator([SimSheet("Pipeline", rows, row_count=1000, column_count=11)])
    answer = sheet.read("Pipeline")
    assert answer == value_range("Pipeline!A1:K1000", rows)
    assert not list(google_description.schema_validator("sheets", "ValueRange").iter_errors(answer))
    fake = FakeGoogle(sheets=sheet)
    result = await call_tool(
        GoogleConnector,
        "google_read_range",
        {"spreadsheet_id": "s1", "range": "Pipeline", "max_rows": 1000},
        handler=Raw(fake),
    )
    assert not result.is_error, result.text[:300]
    structured = result.structured
    assert structured is not None and structured["format"] == "csv" and structured["total_rows"] == 1000
    shown = structured["rows"]
    head, *lines, tail = result.text.split("\n")
    assert head == f"Pipeline!A1:K1000: rows 1-{shown} of 1000, 11 columns (CSV)"
    assert tail == f"…{1000 - shown} more rows: call google_read_range with row_offset={shown}"
    assert len(result.text) <= MAX_CHARS
    # Lossless: the CSV reads back as exactly the cells Google sent (empty cells at a row's end aside).
    assert list(csv.reader(lines)) == csv_lines(rows[:shown])
    # Compact: nothing but the cells, one separator each and the quotes CSV needs.
    cells = [value for row in csv_lines(rows[:shown]) for value in row]
    quoted = sum(1 for value in cells if "," in value)
    assert len("\n".join(lines)) == sum(map(len, cells)) + len(cells) - 1 + 2 * quoted
    # Against what Google sends for the same rows: the cell values alone are about 43 % of it (Google spends
    # 10 bytes of indentation, quotes, comma and newline on every cell); the text adds about 7 points.
    raw = google_bytes(value_range("Pipeline!A1:K1000", rows[:shown]))
    values_only = sum(map(len, cells))
    assert len(result.text) < raw / 2 and len(result.text) < values_only * 1.2, (len(result.text), values_only, raw)


async def test_the_top_of_every_sheet_reads_compactly_with_batch_get(google_description: DiscoveryValidator) -> None:
    answer = {
        "spreadsheetId": "s1",
        "valueRanges": [value_range(f"'{name}'!A1:K50", pipeline(50)) for name in ("Q1", "Q2", "Q3")],
    }
    assert not list(google_description.schema_validator("sheets", "BatchGetValuesResponse").iter_errors(answer))
    raw = Raw(FakeGoogle({"sheets.spreadsheets.values.batchGet": lambda r: json_response(answer)}))
    result = await call_tool(
        GoogleConnector,
        "google_read_ranges",
        {"spreadsheet_id": "s1", "ranges": ["Q1!A1:K50", "Q2!A1:K50", "Q3!A1:K50"], "max_rows": 50},
        handler=raw,
    )
    assert not result.is_error, result.text[:300]
    assert [line for line in result.text.splitlines() if "columns (CSV)" in line] == [
        f"'{name}'!A1:K50: rows 1-50 of 50, 11 columns (CSV)" for name in ("Q1", "Q2", "Q3")
    ]
    assert len(result.text) < raw.bytes / 2, (len(result.text), raw.bytes)


async def test_a_markdown_table_is_only_given_when_asked_and_stays_compact() -> None:
    rows = pipeline(300)
    fake = FakeGoogle(sheets=SheetsSimulator([SimSheet("P", rows, row_count=300, column_count=11)]))
    raw = Raw(fake)
    result = await call_tool(
        GoogleConnector,
        "google_read_range",
        {"spreadsheet_id": "s1", "range": "P", "format": "markdown", "max_rows": 300},
        handler=raw,
    )
    lines = result.text.splitlines()
    assert lines[0] == "P!A1:K300: rows 1-300 of 300, 11 columns (Markdown table)"
    assert lines[1] == "|Date|Order|Customer|Region|Rep|Product|Qty|Unit price|Total|Stage|Notes|"
    assert lines[3].startswith("|2026-01-01|SO-10400|Acme Corp|EMEA||Widget Pro|1|$1,200.00|")
    assert len(result.text) < raw.bytes / 2, (len(result.text), raw.bytes)


async def test_a_page_of_files_is_a_quarter_of_drives_bytes() -> None:
    files = body("drive.files.list")["files"]
    page = {"files": [dict(files[n % 4], id=f"1file{n:020d}") for n in range(100)], "nextPageToken": "tok"}
    raw = Raw(FakeGoogle({"drive.files.list": lambda r: json_response(page)}))
    result = await call_tool(GoogleConnector, "google_search_files", {"text": "plan", "limit": 100}, handler=raw)
    assert len(result.text) < raw.bytes / 4, (len(result.text), raw.bytes)


async def test_a_long_document_and_thread_are_cut_with_the_way_on() -> None:
    document = body("docs.documents.get")
    paragraph = document["tabs"][0]["documentTab"]["body"]["content"][3]
    document["tabs"][0]["documentTab"]["body"]["content"] += [paragraph] * 3000
    result = await call_tool(
        GoogleConnector,
        "google_get_document",
        {"document_id": "d1"},
        handler=FakeGoogle({"docs.documents.get": lambda r: json_response(document)}),
    )
    assert len(result.text) <= MAX_CHARS and "offset=" in result.text and result.structured["truncated"]  # type: ignore[index]
    thread = body("gmail.users.threads.get")
    thread["messages"] = thread["messages"] * 60
    long = await call_tool(
        GoogleConnector,
        "google_get_thread",
        {"thread_id": "t1"},
        handler=FakeGoogle({"gmail.users.threads.get": lambda r: json_response(thread)}),
    )
    assert len(long.text) <= MAX_CHARS and long.structured["omitted"] == 95  # type: ignore[index]
