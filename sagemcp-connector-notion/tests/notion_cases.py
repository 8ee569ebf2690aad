"""Representative arguments for every tool; `test_contract.py` checks each request they make against the description."""

from __future__ import annotations

from notion_support import BLOCK_ID, DATA_SOURCE_ID, DATABASE_ID, PAGE_ID, ROW_ID, USER_ID

MARKDOWN = """# Plan

Some **bold** text with a [link](https://example.com) and $x^2$.

- [ ] a task
- an item
  - a nested item

<details>
<summary>More</summary>

Hidden text.

</details>

| a | b |
| --- | --- |
| 1 | 2 |
"""

CASES: list[tuple[str, dict[str, object]]] = [
    ("notion_search_pages", {"query": "plan"}),
    ("notion_search_pages", {"kind": "page", "sort": "ascending", "limit": 5}),
    ("notion_get_page", {"page_id": ROW_ID}),
    ("notion_get_page_content", {"page_id": PAGE_ID}),
    ("notion_get_page_content", {"page_id": f"https://www.notion.so/Plan-{PAGE_ID.replace('-', '')}", "max_depth": 1}),
    ("notion_create_page", {"parent_page_id": PAGE_ID, "title": "Plan", "markdown": MARKDOWN, "icon": "📝"}),
    (
        "notion_create_page",
        {
            "data_source_id": DATA_SOURCE_ID,
            "title": "Write the spec",
            "properties": {
                "Status": "Done",
                "Priority": "High",
                "Tags": ["api", "docs"],
                "Due": {"start": "2026-07-06T10:00:00+02:00", "time_zone": "Europe/Paris"},
                "Estimate": 3,
                "Done": True,
                "Owner": [USER_ID],
                "Notes": "Ask **first**",
                "Link": "https://example.com/spec",
                "Project": [PAGE_ID],
                "Files": ["https://example.com/spec.pdf"],
            },
            "markdown": "Some content.",
        },
    ),
    ("notion_create_page", {"data_source_id": DATA_SOURCE_ID, "title": "From a template", "template_id": PAGE_ID}),
    ("notion_update_page", {"page_id": ROW_ID, "properties": {"Status": "Backlog", "Due": None}, "icon": "✅"}),
    ("notion_update_page", {"page_id": ROW_ID, "title": "Renamed"}),
    ("notion_append_page_content", {"page_id": PAGE_ID, "markdown": MARKDOWN}),
    ("notion_append_page_content", {"page_id": PAGE_ID, "markdown": "After it.", "after_block_id": BLOCK_ID}),
    ("notion_replace_page_section", {"page_id": PAGE_ID, "heading": "Workstream 2", "markdown": "- new plan"}),
    ("notion_move_page", {"page_id": PAGE_ID, "parent_page_id": ROW_ID}),
    ("notion_move_page", {"page_id": PAGE_ID, "data_source_id": DATA_SOURCE_ID}),
    ("notion_duplicate_page", {"page_id": PAGE_ID, "parent_page_id": ROW_ID}),
    ("notion_get_block", {"block_id": BLOCK_ID}),
    ("notion_list_block_children", {"block_id": PAGE_ID, "limit": 10}),
    ("notion_update_block", {"block_id": BLOCK_ID, "text": "New *text*"}),
    ("notion_list_data_sources", {"query": "tasks"}),
    ("notion_get_database", {"database_id": DATABASE_ID}),
    ("notion_get_data_source", {"data_source_id": DATA_SOURCE_ID}),
    ("notion_get_data_source", {"database_id": DATABASE_ID}),
    (
        "notion_query_data_source",
        {
            "data_source_id": DATA_SOURCE_ID,
            "filter": {
                "and": [
                    {"property": "Status", "status": {"equals": "Done"}},
                    {
                        "or": [
                            {"property": "Estimate", "number": {"greater_than": 2}},
                            {"property": "Done", "checkbox": {"equals": True}},
                        ]
                    },
                    {"timestamp": "created_time", "created_time": {"past_week": {}}},
                ]
            },
            "sorts": [
                {"property": "Due", "direction": "ascending"},
                {"timestamp": "last_edited_time", "direction": "descending"},
            ],
            "properties": ["Status", "Due", "Project"],
        },
    ),
    ("notion_query_data_source", {"database_id": DATABASE_ID, "limit": 5}),
    ("notion_list_data_source_templates", {"data_source_id": DATA_SOURCE_ID}),
    (
        "notion_create_database",
        {
            "parent_page_id": PAGE_ID,
            "title": "Tasks",
            "properties": {
                "Task": {"type": "title"},
                "Status": {"type": "select", "options": ["Todo", "Done"]},
                "Estimate": {"type": "number", "format": "number"},
                "Project": {"type": "relation", "data_source_id": DATA_SOURCE_ID},
            },
            "inline": True,
        },
    ),
    (
        "notion_update_data_source",
        {
            "data_source_id": DATA_SOURCE_ID,
            "title": "Tasks 2026",
            "properties": {
                "Notes": {"name": "Comments"},
                "Files": None,
                "Risk": {"type": "select", "options": ["low", "high"]},
            },
        },
    ),
    ("notion_list_comments", {"block_id": PAGE_ID}),
    ("notion_create_comment", {"page_id": PAGE_ID, "text": "Looks **good**"}),
    ("notion_create_comment", {"discussion_id": "f1407351-36f5-4c49-a13c-49f8ba11776d", "text": "Agreed."}),
    ("notion_create_comment", {"block_id": BLOCK_ID, "text": "On this paragraph."}),
    ("notion_list_users", {"limit": 10}),
    ("notion_get_user", {"user_id": USER_ID}),
    ("notion_get_bot_user", {}),
    ("notion_archive_page", {"page_id": PAGE_ID}),
    ("notion_restore_page", {"page_id": PAGE_ID}),
    ("notion_delete_block", {"block_id": BLOCK_ID}),
]
