"""What the tools send and what a model sees, tool group by tool group."""

from __future__ import annotations

import base64
import email
import io
import json
import zipfile
from email.policy import default as default_policy

import httpx
from google_support import FakeGoogle, body, json_response
from sheets_simulator import SheetsSimulator, SimSheet

from sagemcp.testing import call_tool
from sagemcp_google import GoogleConnector
from sagemcp_google._drive_query import DriveQuery, literal

# -- drive --------------------------------------------------------------------------------------


def test_drive_query_values_are_quoted_and_escaped() -> None:
    assert literal("it's \\ fine") == "'it\\'s \\\\ fine'"
    query = DriveQuery().name_contains("x' or name contains '").in_folder("abc").trashed(False)
    assert str(query) == "name contains 'x\\' or name contains \\'' and 'abc' in parents and trashed = false"


async def test_search_files_builds_q_and_includes_shared_drives() -> None:
    fake = FakeGoogle()
    result = await call_tool(
        GoogleConnector, "google_search_files", {"name_contains": "Q1 'plan'", "kinds": ["spreadsheet"]}, handler=fake
    )
    params = result.request.url.params
    assert params["q"] == (
        "name contains 'Q1 \\'plan\\'' and mimeType = 'application/vnd.google-apps.spreadsheet' and trashed = false"
    )
    assert params["corpora"] == "allDrives" and params["includeItemsFromAllDrives"] == "true"
    assert params["orderBy"] == "modifiedTime desc"
    assert "| 1aBcDocRoadmap2026xYz | Roadmap 2026 | document |" in result.text
    cursor = result.structured["next_cursor"]  # type: ignore[index]
    second = await call_tool(
        GoogleConnector,
        "google_search_files",
        {"name_contains": "Q1 'plan'", "kinds": ["spreadsheet"], "cursor": cursor},
        handler=FakeGoogle(),
    )
    assert second.request.url.params["pageToken"] == "~!!~AI9FV7Tq"
    other = await call_tool(
        GoogleConnector, "google_search_files", {"name_contains": "else", "cursor": cursor}, handler=FakeGoogle()
    )
    assert other.is_error and other.requests == []  # a cursor is bound to its query


async def test_read_file_exports_docs_as_markdown_and_sheets_as_csv() -> None:
    doc = await call_tool(
        GoogleConnector, "google_read_file", {"file_id": "1aBcDocRoadmap2026xYz"}, handler=FakeGoogle()
    )
    export = doc.requests[-1]
    assert export.url.path.endswith("/export") and export.url.params["mimeType"] == "text/markdown"
    assert doc.structured["format"] == "markdown" and "Ship the **importer**" in doc.text  # type: ignore[index]

    def sheet_meta(request: httpx.Request) -> httpx.Response:
        return json_response({"id": "s1", "name": "Budget", "mimeType": "application/vnd.google-apps.spreadsheet"})

    sheet = await call_tool(
        GoogleConnector, "google_read_file", {"file_id": "s1"}, handler=FakeGoogle({"drive.files.get": sheet_meta})
    )
    assert sheet.requests[-1].url.params["mimeType"] == "text/csv"
    assert "```csv\nRegion,Q1,Q2" in sheet.text and "First sheet only" in sheet.text


async def test_read_file_cuts_long_content_and_names_the_offset() -> None:
    long_text = "line of text\n" * 5000

    def meta(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("alt") == "media":
            return httpx.Response(200, content=long_text.encode())
        return json_response({"id": "t1", "name": "log.txt", "mimeType": "text/plain", "size": str(len(long_text))})

    result = await call_tool(
        GoogleConnector,
        "google_read_file",
        {"file_id": "t1", "max_chars": 1000},
        handler=FakeGoogle({"drive.files.get": meta}),
    )
    assert result.structured["truncated"] is True  # type: ignore[index]
    assert (
        "…[truncated: 988 of 65,000 characters shown; call google_read_file with file_id='t1' and offset=988 for more]"
        in result.text
    )


async def test_read_file_extracts_word_documents_and_refuses_big_or_binary_files() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "word/document.xml",
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
            "<w:p><w:r><w:t>Hello</w:t></w:r><w:r><w:t> Word</w:t></w:r></w:p><w:p><w:r><w:t>Second</w:t></w:r></w:p>"
            "</w:body></w:document>",
        )
    docx = buffer.getvalue()
    kinds = {
        "d1": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", docx, "10"),
        "big": ("application/pdf", b"", str(50 * 1024 * 1024)),
        "bin": ("application/octet-stream", b"\x00\x01\x02binary", "9"),
    }

    def answer(request: httpx.Request) -> httpx.Response:
        file_id = request.url.path.rsplit("/", 1)[-1]
        mime, data, size = kinds[file_id]
        if request.url.params.get("alt") == "media":
            return httpx.Response(200, content=data)
        return json_response({"id": file_id, "name": file_id, "mimeType": mime, "size": size})

    fake = {"drive.files.get": answer}
    word = await call_tool(GoogleConnector, "google_read_file", {"file_id": "d1"}, handler=FakeGoogle(fake))
    assert word.structured["content"] == "Hello Word\nSecond"  # type: ignore[index]
    big = await call_tool(GoogleConnector, "google_read_file", {"file_id": "big"}, handler=FakeGoogle(fake))
    assert big.is_error and "more than the 10,485,760 bytes" in big.text and len(big.requests) == 1
    binary = await call_tool(GoogleConnector, "google_read_file", {"file_id": "bin"}, handler=FakeGoogle(fake))
    assert binary.is_error and "binary file" in binary.text


async def test_create_file_uploads_multipart_with_metadata_and_content() -> None:
    fake = FakeGoogle()
    result = await call_tool(
        GoogleConnector,
        "google_create_file",
        {
            "name": "q1.csv",
            "content": "a,b\n1,2\n",
            "mime_type": "text/csv",
            "convert_to": "spreadsheet",
            "parent_id": "f1",
        },
        handler=fake,
    )
    request = result.request
    assert request.url.path == "/upload/drive/v3/files" and request.url.params["uploadType"] == "multipart"
    message = email.message_from_bytes(
        f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode() + request.content, policy=default_policy
    )
    metadata, media = list(message.iter_parts())
    assert json.loads(metadata.get_content()) == {
        "name": "q1.csv",
        "parents": ["f1"],
        "mimeType": "application/vnd.google-apps.spreadsheet",
    }
    assert media.get_content_type() == "text/csv" and media.get_content() == "a,b\n1,2\n"


async def test_update_file_moves_by_replacing_the_parents() -> None:
    fake = FakeGoogle()
    result = await call_tool(
        GoogleConnector, "google_update_file", {"file_id": "x1", "folder_id": "f2", "name": "Plan"}, handler=fake
    )
    get, patch = result.requests
    assert get.method == "GET" and get.url.params["fields"] == "id,parents"
    assert patch.method == "PATCH" and json.loads(patch.content) == {"name": "Plan"}
    assert patch.url.params["addParents"] == "f2" and patch.url.params["removeParents"] == "0AFolderRootExample"


async def test_update_file_renames_in_one_request_and_needs_something_to_change() -> None:
    renamed = await call_tool(
        GoogleConnector, "google_update_file", {"file_id": "x1", "description": "Signed off."}, handler=FakeGoogle()
    )
    (patch,) = renamed.requests
    assert json.loads(patch.content) == {"description": "Signed off."} and "addParents" not in patch.url.params
    empty = await call_tool(GoogleConnector, "google_update_file", {"file_id": "x1"}, handler=FakeGoogle())
    assert empty.is_error and "at least one of name, description or folder_id" in empty.text
    assert empty.requests == []


# -- docs ---------------------------------------------------------------------------------------


async def test_get_document_shows_markdown_and_tabs() -> None:
    result = await call_tool(
        GoogleConnector, "google_get_document", {"document_id": "1aBcDocRoadmap2026xYz"}, handler=FakeGoogle()
    )
    assert result.request.url.params["includeTabsContent"] == "true"
    assert result.structured["tabs"] == ["t.0: Plan", "t.notes: Notes"]  # type: ignore[index]
    assert "# Goals" in result.text and "| Team | Owner |" in result.text


async def test_insert_after_a_heading_starts_at_the_next_paragraph() -> None:
    fake = FakeGoogle()
    result = await call_tool(
        GoogleConnector,
        "google_insert_markdown",
        {"document_id": "1aBcDocRoadmap2026xYz", "markdown": "New **text**", "after_heading": "goals"},
        handler=fake,
    )
    assert not result.is_error, result.text
    sent = json.loads(result.requests[-1].content)["requests"]
    goals = body("docs.documents.get")["tabs"][0]["documentTab"]["body"]["content"][2]
    assert sent[0] == {"insertText": {"location": {"index": goals["endIndex"], "tabId": "t.0"}, "text": "New text\n"}}


async def test_append_to_a_document_makes_room_after_its_last_paragraph() -> None:
    result = await call_tool(
        GoogleConnector,
        "google_append_markdown",
        {"document_id": "1aBcDocRoadmap2026xYz", "markdown": "End."},
        handler=FakeGoogle(),
    )
    sent = json.loads(result.requests[-1].content)["requests"]
    last = body("docs.documents.get")["tabs"][0]["documentTab"]["body"]["content"][-1]["endIndex"]
    assert sent[0] == {"insertText": {"location": {"index": last - 1, "tabId": "t.0"}, "text": "\n"}}
    assert sent[1]["insertText"]["location"]["index"] == last


async def test_insert_at_an_index_that_is_not_a_paragraph_start_is_refused() -> None:
    result = await call_tool(
        GoogleConnector,
        "google_insert_markdown",
        {"document_id": "1aBcDocRoadmap2026xYz", "markdown": "x", "index": 3},
        handler=FakeGoogle(),
    )
    assert result.is_error and "not where a paragraph" in result.text and len(result.requests) == 1


# -- sheets -------------------------------------------------------------------------------------


async def test_read_range_encodes_the_range_and_pages_rows() -> None:
    result = await call_tool(
        GoogleConnector,
        "google_read_range",
        {"spreadsheet_id": "s1", "range": "'Q1 Sales'!A1:D4", "max_rows": 2},
        handler=FakeGoogle(),
    )
    # The page (two rows and the one after them) and the range's last row, no more; the title quoted and encoded.
    layout, values = result.requests
    assert (
        layout.url.path == "/v4/spreadsheets/s1"
        and "gridProperties(rowCount,columnCount)" in layout.url.params["fields"]
    )
    assert values.url.path == "/v4/spreadsheets/s1/values:batchGet"
    assert values.url.params.get_list("ranges") == ["'Q1 Sales'!A1:D3", "'Q1 Sales'!A4:D4"]
    assert b"ranges=%27Q1+Sales%27%21A1%3AD3&" in values.url.raw_path
    assert result.text.splitlines()[:3] == [
        "'Q1 Sales'!A1:D4: rows 1-2 of 4, 4 columns (CSV)",
        "Region,Owner,Q1,Q2",
        "South 1,owner1@example.com,101,121",
    ]
    assert result.structured["rows"] == 2 and result.text.endswith(
        "…2 more rows: call google_read_range with row_offset=2"
    )  # type: ignore[index]


async def test_a_later_page_repeats_the_header_row_and_says_so() -> None:
    result = await call_tool(
        GoogleConnector,
        "google_read_range",
        {"spreadsheet_id": "s1", "range": "'Q1 Sales'!A1:D4", "row_offset": 2, "max_rows": 5},
        handler=FakeGoogle(),
    )
    assert result.text.splitlines() == [
        "'Q1 Sales'!A1:D4: rows 3-4 of 4 (the header row first), 4 columns (CSV)",
        "Region,Owner,Q1,Q2",
        "East 2,owner2@example.com,102,122",
        "West 3,owner3@example.com,103,123",
    ]
    assert result.structured["header_repeated"] is True and not result.structured["truncated"]  # type: ignore[index]


async def test_csv_quotes_only_what_needs_it_and_drops_trailing_empty_cells() -> None:
    values = [
        ["Item", "Price", "Note", ""],
        ["Desk, oak", "$1,250.00", "", ""],
        ["Lamp", "$40.00", 'say "hi"'],
        [],
        [True, 3],
    ]
    fake = FakeGoogle(sheets=SheetsSimulator([SimSheet("S", values, row_count=5, column_count=4)]))
    result = await call_tool(GoogleConnector, "google_read_range", {"spreadsheet_id": "s1", "range": "S"}, handler=fake)
    assert result.text.splitlines() == [
        "S!A1:D5: rows 1-5 of 5, 4 columns (CSV)",
        "Item,Price,Note",
        '"Desk, oak","$1,250.00"',
        'Lamp,$40.00,"say ""hi"""',
        "",
        "TRUE,3",
    ]
    table = await call_tool(
        GoogleConnector, "google_read_range", {"spreadsheet_id": "s1", "range": "S", "format": "markdown"}, handler=fake
    )
    assert table.text.splitlines()[1:4] == ["|Item|Price|Note|", "|---|---|---|", "|Desk, oak|$1,250.00|"]


async def test_format_range_builds_a_grid_range_from_a1() -> None:
    result = await call_tool(
        GoogleConnector,
        "google_format_range",
        {"spreadsheet_id": "s1", "range": "'Q1 Sales'!B2:C10", "bold": True, "background_color": "#ff0000"},
        handler=FakeGoogle(),
    )
    request = json.loads(result.requests[-1].content)["requests"][0]["repeatCell"]
    assert request["range"] == {
        "sheetId": 1843299,
        "startRowIndex": 1,
        "endRowIndex": 10,
        "startColumnIndex": 1,
        "endColumnIndex": 3,
    }
    assert request["fields"] == "userEnteredFormat.textFormat.bold,userEnteredFormat.backgroundColor"
    assert request["cell"]["userEnteredFormat"]["backgroundColor"] == {"red": 1.0, "green": 0.0, "blue": 0.0}


# -- calendar -----------------------------------------------------------------------------------


async def test_event_times_without_offset_carry_their_time_zone() -> None:
    fake = FakeGoogle()
    result = await call_tool(
        GoogleConnector,
        "google_create_event",
        {
            "summary": "x",
            "start": "2026-03-29T09:00:00",
            "end": "2026-03-29T10:00:00",
            "time_zone": "Europe/Paris",
            "add_meet": True,
        },
        handler=fake,
    )
    sent = json.loads(result.request.content)
    assert sent["start"] == {"dateTime": "2026-03-29T09:00:00", "timeZone": "Europe/Paris"}
    assert sent["conferenceData"]["createRequest"]["conferenceSolutionKey"] == {"type": "hangoutsMeet"}
    assert result.request.url.params["conferenceDataVersion"] == "1"
    refused = await call_tool(
        GoogleConnector,
        "google_create_event",
        {"summary": "x", "start": "2026-03-29T09:00:00", "end": "2026-03-29T10:00:00"},
    )
    assert refused.is_error and "no UTC offset" in refused.text


async def test_list_events_reads_naive_times_in_the_given_zone() -> None:
    result = await call_tool(
        GoogleConnector,
        "google_list_events",
        {"time_min": "2026-07-01T00:00:00", "time_max": "2026-07-02T00:00:00", "time_zone": "America/New_York"},
        handler=FakeGoogle(),
    )
    params = result.request.url.params
    assert params["timeMin"] == "2026-07-01T00:00:00-04:00" and params["timeZone"] == "America/New_York"
    assert params["singleEvents"] == "true" and params["orderBy"] == "startTime"
    assert "(Europe/Paris)" in result.text and "Roadmap review" in result.text


async def test_rsvp_changes_only_the_users_answer() -> None:
    fake = FakeGoogle()
    result = await call_tool(
        GoogleConnector, "google_respond_to_event", {"event_id": "e1", "response": "declined"}, handler=fake
    )
    attendees = json.loads(result.requests[-1].content)["attendees"]
    assert [a["responseStatus"] for a in attendees] == ["accepted", "declined"]


async def test_free_busy_reports_busy_free_and_unknown_people() -> None:
    result = await call_tool(
        GoogleConnector,
        "google_query_free_busy",
        {
            "calendars": ["ana@example.com", "ben@example.com", "nobody@example.org"],
            "time_min": "2026-03-03T09:00:00Z",
            "time_max": "2026-03-03T19:00:00Z",
        },
        handler=FakeGoogle(),
    )
    assert "ana@example.com: 2026-03-03T09:00:00Z - 2026-03-03T10:00:00Z" in result.text
    assert (
        "ben@example.com: free the whole window" in result.text
        and "nobody@example.org: unknown (notFound)" in result.text
    )


# -- gmail --------------------------------------------------------------------------------------


async def test_a_message_reads_as_text_with_history_folded_and_attachments_listed() -> None:
    result = await call_tool(
        GoogleConnector, "google_get_message", {"message_id": "18e1f0c2a9b3d4e5"}, handler=FakeGoogle()
    )
    structured = result.structured
    assert structured is not None
    assert structured["body"].startswith("Hi Ana,") and "Could you send" not in structured["body"]
    assert structured["folded_lines"] == 3
    assert structured["attachments"] == [
        {"filename": "figures.csv", "mime_type": "text/csv", "size": 42, "attachment_id": "ANGjdJ8figures"}
    ]
    assert "quoted lines folded" in result.text


async def test_send_builds_an_rfc5322_message_with_the_email_package() -> None:
    fake = FakeGoogle()
    result = await call_tool(
        GoogleConnector,
        "google_send_message",
        {
            "to": ["Ben <ben@example.com>"],
            "cc": ["chen@example.com"],
            "subject": "Café ☕ plan",
            "body": "Hi **Ben**",
            "markdown": True,
        },
        handler=fake,
    )
    raw = json.loads(result.request.content)["raw"]
    message = email.message_from_bytes(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)), policy=default_policy)
    assert message["To"] == "Ben <ben@example.com>" and message["Cc"] == "chen@example.com"
    assert message["Subject"] == "Café ☕ plan"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert "<strong>Ben</strong>" in message.get_body(("html",)).get_content()  # type: ignore[union-attr]


async def test_a_reply_is_threaded_and_goes_to_everyone_but_the_user() -> None:
    fake = FakeGoogle()
    result = await call_tool(
        GoogleConnector,
        "google_reply_to_message",
        {"message_id": "18e1f0c2a9b3d4e5", "body": "Thanks", "reply_all": True},
        handler=fake,
    )
    sent = json.loads(result.requests[-1].content)
    assert sent["threadId"] == "18e1f0c2a9b3d4e5"
    raw = sent["raw"]
    message = email.message_from_bytes(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)), policy=default_policy)
    assert message["In-Reply-To"] == "<18e1f0c2a9b3d4e5@mail.example.com>"
    assert message["Subject"] == "Re: Q1 figures"
    assert message["To"] == "ben@example.com" and message["Cc"] is None  # ana@example.com is the user


async def test_labels_are_resolved_by_name() -> None:
    fake = FakeGoogle()
    result = await call_tool(
        GoogleConnector,
        "google_modify_message_labels",
        {"message_id": "m1", "add": ["work/clients"], "remove": ["UNREAD"]},
        handler=fake,
    )
    assert json.loads(result.requests[-1].content) == {"addLabelIds": ["Label_12"], "removeLabelIds": ["UNREAD"]}
    unknown = await call_tool(
        GoogleConnector, "google_modify_message_labels", {"message_id": "m1", "add": ["Nope"]}, handler=FakeGoogle()
    )
    assert unknown.is_error and "no label 'Nope'" in unknown.text
