"""Output budgets: realistic pages stay under a quarter of the raw API bytes, and nothing is unbounded.

The raw bytes are what Google sends: pretty-printed JSON (Google's default), with the fields the
connector asks for. A 200-message Gmail search and a 1,000-row sheet read are the sizes named as
done criteria.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from google_support import FakeGoogle, body, json_response

from sagemcp.testing import call_tool
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


async def test_a_1000_row_sheet_read_stays_within_budget() -> None:
    header = ["Region", "Owner", "Q1", "Q2", "Q3", "Q4"]
    rows = [header] + [
        [f"Region {n}", f"owner{n}@example.com", str(100 + n), str(110 + n), str(120 + n), str(130 + n)]
        for n in range(999)
    ]
    fake = FakeGoogle(
        {
            "sheets.spreadsheets.values.get": lambda r: json_response(
                {"range": "Data!A1:F1000", "majorDimension": "ROWS", "values": rows}
            )
        }
    )
    raw = Raw(fake)
    for fmt in ("csv", "markdown"):
        result = await call_tool(
            GoogleConnector,
            "google_read_range",
            {"spreadsheet_id": "s1", "range": "Data!A1:F1000", "format": fmt, "max_rows": 1000},
            handler=raw,
        )
        assert not result.is_error, result.text[:300]
        assert len(result.text) <= MAX_CHARS, (fmt, len(result.text))
        structured = result.structured
        assert structured is not None
        assert structured["total_rows"] == 1000
        if structured["truncated"]:
            assert f"row_offset={structured['rows']}" in result.text  # the cut says how to read on
    csv_result = await call_tool(
        GoogleConnector,
        "google_read_range",
        {"spreadsheet_id": "s1", "range": "Data!A1:F1000", "format": "csv", "max_rows": 1000},
        handler=Raw(fake),
    )
    raw_once = len(json.dumps({"range": "Data!A1:F1000", "majorDimension": "ROWS", "values": rows}, indent=2))
    # Cell values are the data itself, so a sheet cannot shrink like a listing; CSV drops Google's quoting and indentation.
    assert len(csv_result.text) < raw_once / 2, (len(csv_result.text), raw_once)


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
