"""Representative arguments for every tool; `test_contract.py` checks each request they send against the
discovery documents (every tool at least once, enforced)."""

from __future__ import annotations

from typing import Any

DOC = "1aBcDocRoadmap2026xYz"
SHEET = "1sHeetBudgetQ1aaaaaaa"
FILE = "1aBcDocRoadmap2026xYz"
EVENT = "7kq3c1v0r9m2p4n6s8u0w2y4a6"
MESSAGE = "18e1f0c2a9b3d4e5"

CASES: list[tuple[str, dict[str, Any]]] = [
    # drive
    (
        "google_search_files",
        {
            "text": "roadmap 'draft'",
            "kinds": ["document", "pdf"],
            "owner": "ana@example.com",
            "modified_after": "2026-01-01T00:00:00Z",
            "modified_before": "2026-12-31T00:00:00+01:00",
            "shared_with_me": True,
            "starred": True,
            "limit": 10,
        },
    ),
    (
        "google_search_files",
        {
            "name_contains": "Budget",
            "folder_id": "1fOlderDesignAssets00",
            "drive_id": "0AShAredEngineering00",
            "order_by": "name",
        },
    ),
    ("google_list_files", {"folder_id": "1fOlderDesignAssets00", "kinds": ["folder", "spreadsheet"], "limit": 5}),
    ("google_get_file", {"file_id": FILE}),
    ("google_read_file", {"file_id": FILE, "offset": 2, "max_chars": 1000}),
    ("google_list_shared_drives", {"name_contains": "Eng", "limit": 10}),
    ("google_get_account", {}),
    ("google_create_folder", {"name": "Q2 planning", "parent_id": "0AShAredEngineering00"}),
    (
        "google_create_file",
        {
            "name": "notes.md",
            "content": "# Notes\n",
            "mime_type": "text/markdown",
            "convert_to": "document",
            "description": "Meeting notes",
        },
    ),
    ("google_create_file", {"name": "logo.png", "content_base64": "iVBORw0KGgo=", "mime_type": "image/png"}),
    # over 5 MiB: a resumable upload (opening, then the chunks)
    ("google_create_file", {"name": "export.csv", "content": "a,b\n" * (1_310_720 + 100), "mime_type": "text/csv"}),
    (
        "google_copy_file",
        {"file_id": FILE, "name": "Roadmap copy", "parent_id": "1fOlderDesignAssets00", "convert_to": "document"},
    ),
    ("google_update_file", {"file_id": FILE, "folder_id": "1fOlderDesignAssets00"}),
    ("google_update_file", {"file_id": FILE, "name": "Roadmap 2026 (final)", "description": "Signed off."}),
    ("google_update_file", {"file_id": FILE, "name": "Roadmap (moved)", "folder_id": "1fOlderDesignAssets00"}),
    # drive_sharing
    ("google_list_permissions", {"file_id": FILE, "limit": 10}),
    ("google_share_file", {"file_id": FILE, "role": "writer", "email": "ben@example.com", "message": "Please review"}),
    ("google_share_file", {"file_id": FILE, "role": "reader", "domain": "example.com"}),
    ("google_share_file", {"file_id": FILE, "role": "commenter", "anyone_with_link": True}),
    ("google_update_permission", {"file_id": FILE, "permission_id": "09876543210987654321", "role": "reader"}),
    ("google_unshare_file", {"file_id": FILE, "permission_id": "09876543210987654321"}),
    # drive_comments
    ("google_list_comments", {"file_id": FILE, "include_resolved": True, "limit": 5}),
    ("google_add_comment", {"file_id": FILE, "content": "Please review."}),
    ("google_reply_to_comment", {"file_id": FILE, "comment_id": "AAAAxyz1", "content": "Done."}),
    ("google_resolve_comment", {"file_id": FILE, "comment_id": "AAAAxyz1", "content": "Fixed."}),
    # drive_trash
    ("google_trash_file", {"file_id": FILE}),
    ("google_restore_file", {"file_id": FILE}),
    # docs
    (
        "google_list_documents",
        {
            "text": "roadmap",
            "shared_with_me": True,
            "owner": "ana@example.com",
            "modified_after": "2026-01-01T00:00:00",
            "limit": 5,
        },
    ),
    ("google_get_document", {"document_id": DOC, "tab_id": "t.notes", "max_chars": 5000}),
    (
        "google_create_document",
        {"title": "Meeting notes", "markdown": "# Notes\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"},
    ),
    (
        "google_create_document",
        {"title": "In a folder", "markdown": "Hello **world**", "folder_id": "1fOlderDesignAssets00"},
    ),
    ("google_append_markdown", {"document_id": DOC, "markdown": "## Next steps\n\n1. Hire\n2. Ship", "tab_id": "t.0"}),
    ("google_insert_markdown", {"document_id": DOC, "markdown": "> Decided on 2 March.", "after_heading": "Goals"}),
    ("google_insert_markdown", {"document_id": DOC, "markdown": "Intro *text*", "index": 1}),
    (
        "google_replace_document_text",
        {"document_id": DOC, "find": "March", "replace": "April", "match_case": False, "tab_id": "t.0"},
    ),
    ("google_export_document", {"document_id": DOC, "format": "markdown"}),
    ("google_export_document", {"document_id": DOC, "format": "html", "max_chars": 500}),
    # docs_structure
    ("google_get_document_structure", {"document_id": DOC, "limit": 5}),
    (
        "google_batch_update_document",
        {
            "document_id": DOC,
            "requests": [
                {"deleteContentRange": {"range": {"startIndex": 1, "endIndex": 5}}},
                {"insertPageBreak": {"location": {"index": 1}}},
            ],
            "required_revision_id": "ALm37BVx2e",
        },
    ),
    ("google_set_document_header", {"document_id": DOC, "text": "Confidential"}),
    ("google_set_document_header", {"document_id": DOC, "text": "Page footer", "part": "footer"}),
    ("google_create_named_range", {"document_id": DOC, "name": "importer", "text": "importer"}),
    (
        "google_create_named_range",
        {"document_id": DOC, "name": "span", "start_index": 2, "end_index": 8, "tab_id": "t.0"},
    ),
    # sheets
    ("google_list_spreadsheets", {"name_contains": "Budget", "shared_with_me": True, "limit": 5}),
    ("google_get_spreadsheet", {"spreadsheet_id": SHEET}),
    (
        "google_read_range",
        {
            "spreadsheet_id": SHEET,
            "range": "'Q1 Sales'!A1:D4",
            "format": "csv",
            "render": "UNFORMATTED_VALUE",
            "max_rows": 2,
            "row_offset": 1,
        },
    ),
    # a small range from its top: one values.get; any other: the layout, then only the page's rows
    ("google_read_range", {"spreadsheet_id": SHEET, "range": "Summary!A1:D4"}),
    ("google_read_range", {"spreadsheet_id": SHEET, "range": "Summary", "row_offset": 2, "max_rows": 1}),
    ("google_read_range", {"spreadsheet_id": SHEET, "range": "B:C", "max_rows": 2, "format": "markdown"}),
    ("google_read_range", {"spreadsheet_id": SHEET, "range": "'Q1 Sales'!2:400", "row_offset": 1, "render": "FORMULA"}),
    ("google_read_range", {"spreadsheet_id": SHEET, "range": "Totals"}),
    ("google_read_range", {"spreadsheet_id": SHEET, "range": "Summary", "row_offset": 5000}),
    ("google_read_ranges", {"spreadsheet_id": SHEET, "ranges": ["Summary!A1:D4", "'Q1 Sales'!A1:B2"], "max_rows": 3}),
    (
        "google_write_range",
        {
            "spreadsheet_id": SHEET,
            "range": "Summary!A1:B2",
            "values": [["Name", "Total"], ["North", "=SUM(C2:C9)"]],
            "input_option": "USER_ENTERED",
        },
    ),
    (
        "google_append_rows",
        {
            "spreadsheet_id": SHEET,
            "range": "Summary!A1",
            "values": [["East", 3, 4.5, True], ["West", None, 0, False]],
            "insert_rows": False,
        },
    ),
    (
        "google_create_spreadsheet",
        {
            "title": "Plan",
            "sheets": ["Summary", "Q1 Sales"],
            "rows": [["a", "b"], [1, 2]],
            "locale": "en_GB",
            "time_zone": "Europe/London",
        },
    ),
    # sheets_layout
    ("google_add_sheet", {"spreadsheet_id": SHEET, "title": "Q2", "rows": 200, "columns": 10, "index": 2}),
    ("google_rename_sheet", {"spreadsheet_id": SHEET, "sheet": "Q1 Sales", "title": "Q1 sales (final)"}),
    (
        "google_find_replace_in_spreadsheet",
        {"spreadsheet_id": SHEET, "find": "North", "replace": "Nord", "sheet": "Summary", "match_case": True},
    ),
    (
        "google_find_replace_in_spreadsheet",
        {"spreadsheet_id": SHEET, "find": "^N.*", "replace": "x", "regex": True, "entire_cell": True},
    ),
    (
        "google_format_range",
        {
            "spreadsheet_id": SHEET,
            "range": "'Q1 Sales'!A1:D1",
            "bold": True,
            "italic": False,
            "font_size": 12,
            "text_color": "#FFFFFF",
            "background_color": "#1a73e8",
            "horizontal_alignment": "CENTER",
            "wrap": True,
            "number_format": "CURRENCY",
            "number_pattern": "#,##0.00",
            "freeze_rows": 1,
        },
    ),
    # sheets_delete
    ("google_clear_range", {"spreadsheet_id": SHEET, "range": "Summary!A2:D100"}),
    ("google_delete_sheet", {"spreadsheet_id": SHEET, "sheet": "Q1 Sales"}),
    # calendar
    ("google_list_calendars", {"limit": 10}),
    (
        "google_list_events",
        {
            "calendar_id": "c_0a1b2c3d@group.calendar.google.com",
            "time_min": "2026-03-02T00:00:00",
            "time_max": "2026-03-09T00:00:00",
            "query": "review",
            "time_zone": "Europe/Paris",
            "limit": 10,
        },
    ),
    ("google_list_events", {}),
    ("google_get_event", {"event_id": EVENT, "time_zone": "Europe/Paris"}),
    (
        "google_create_event",
        {
            "summary": "Roadmap review",
            "start": "2026-03-03T10:00:00",
            "end": "2026-03-03T11:00:00",
            "time_zone": "Europe/Paris",
            "description": "Q2 roadmap.",
            "location": "Room 4",
            "attendees": ["ben@example.com", "chen@example.com"],
            "add_meet": True,
            "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=6"],
            "send_updates": "externalOnly",
        },
    ),
    ("google_create_event", {"summary": "Offsite", "start": "2026-04-01", "end": "2026-04-03"}),
    (
        "google_update_event",
        {
            "event_id": EVENT,
            "summary": "Roadmap review (moved)",
            "start": "2026-03-03T15:00:00+01:00",
            "end": "2026-03-03T16:00:00+01:00",
            "attendees": ["ben@example.com"],
            "send_updates": "none",
        },
    ),
    ("google_respond_to_event", {"event_id": EVENT, "response": "accepted", "comment": "See you there"}),
    ("google_quick_add_event", {"text": "Lunch with Ben tomorrow 12:30"}),
    (
        "google_query_free_busy",
        {
            "calendars": ["ana@example.com", "ben@example.com"],
            "time_min": "2026-03-03T09:00:00",
            "time_max": "2026-03-03T19:00:00",
            "time_zone": "Europe/Paris",
        },
    ),
    # calendar_delete
    ("google_delete_event", {"event_id": EVENT, "send_updates": "none"}),
    # gmail
    (
        "google_search_messages",
        {
            "query": "from:ben@example.com is:unread newer_than:7d",
            "labels": ["INBOX"],
            "include_spam_trash": True,
            "limit": 2,
        },
    ),
    ("google_search_threads", {"query": "subject:figures", "limit": 5}),
    ("google_get_message", {"message_id": MESSAGE, "max_chars": 2000}),
    ("google_get_message", {"message_id": MESSAGE, "include_quoted": True}),
    ("google_get_thread", {"thread_id": MESSAGE, "max_chars": 5000}),
    ("google_list_labels", {}),
    (
        "google_modify_message_labels",
        {"message_id": MESSAGE, "add": ["Work/Clients", "STARRED"], "remove": ["UNREAD", "INBOX"]},
    ),
    ("google_modify_thread_labels", {"thread_id": MESSAGE, "remove": ["INBOX"]}),
    ("google_get_attachment", {"message_id": MESSAGE, "attachment_id": "ANGjdJ8figures"}),
    ("google_list_drafts", {"query": "to:ben", "limit": 5}),
    (
        "google_create_draft",
        {
            "to": ["ben@example.com"],
            "subject": "Q2 plan",
            "body": "# Plan\n\n- hire",
            "cc": ["chen@example.com"],
            "markdown": True,
            "thread_id": MESSAGE,
        },
    ),
    (
        "google_update_draft",
        {
            "draft_id": "r-8349710215489",
            "to": ["ben@example.com"],
            "subject": "Q2 plan v2",
            "body": "Updated.",
            "bcc": ["audit@example.com"],
        },
    ),
    # gmail_send
    ("google_send_message", {"to": ["ben@example.com"], "subject": "Hello", "body": "Hi **Ben**", "markdown": True}),
    ("google_reply_to_message", {"message_id": MESSAGE, "body": "Thanks, got them.", "reply_all": True}),
    ("google_send_draft", {"draft_id": "r-8349710215489"}),
]
