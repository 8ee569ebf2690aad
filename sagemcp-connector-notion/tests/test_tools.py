"""What the tools send to Notion and what a model sees, beyond one request per tool."""

from __future__ import annotations

from typing import Any

import httpx
from notion_support import (
    BLOCK_ID,
    DATA_SOURCE_ID,
    DATABASE_ID,
    PAGE_ID,
    ROW_ID,
    FakeNotion,
    block_children,
    body,
    fixture_body,
    respond,
)

from sagemcp.platform import ToolPolicy
from sagemcp.testing import OpenAPIValidator, call_tool
from sagemcp_notion import NotionConnector

TOGGLE_ID = "393abc1e-edcd-8000-8000-00000000000b"


async def test_page_content_is_read_in_pieces_with_a_cursor(notion_description: OpenAPIValidator) -> None:
    fake = FakeNotion(notion_description)
    first = await call_tool(
        NotionConnector, "notion_get_page_content", {"page_id": PAGE_ID, "max_blocks": 10}, handler=fake
    )
    assert not first.is_error, first.text
    assert first.structured is not None and first.structured["blocks"] == 10 and first.structured["truncated"]
    cursor = first.structured["next_cursor"]
    assert f"cursor=`{cursor}`" in first.text and "…[truncated: 10 blocks shown, the page goes on" in first.text
    second = await call_tool(
        NotionConnector,
        "notion_get_page_content",
        {"page_id": PAGE_ID, "max_blocks": 1000, "cursor": cursor},
        handler=FakeNotion(notion_description),
    )
    assert second.structured is not None
    # The 11th top-level block, a toggle with one child, goes on where the first call stopped.
    assert second.structured["markdown"].startswith("<details>\n<summary>Details of workstream 1</summary>")
    assert second.structured["blocks"] == 90 and "next_cursor" not in second.structured
    other = await call_tool(
        NotionConnector, "notion_get_page_content", {"page_id": ROW_ID, "cursor": cursor}, handler=fake
    )
    assert other.is_error and "not valid" in other.text  # a cursor is bound to its page


async def test_nesting_below_max_depth_is_marked_with_the_call_that_reads_it(
    notion_description: OpenAPIValidator,
) -> None:
    fake = FakeNotion(notion_description)
    result = await call_tool(
        NotionConnector, "notion_get_page_content", {"page_id": PAGE_ID, "max_depth": 1}, handler=fake
    )
    assert f"call notion_get_page_content with page_id={TOGGLE_ID} to read them" in result.text
    assert "Hidden until opened." not in result.text
    assert fake.operation_ids == ["get-block-children", "get-block-children"]  # no nested listing


async def test_a_long_page_is_created_then_appended_in_order(notion_description: OpenAPIValidator) -> None:
    fake = FakeNotion(notion_description)
    markdown = "\n\n".join(f"Paragraph {i}" for i in range(150))
    result = await call_tool(
        NotionConnector,
        "notion_create_page",
        {"parent_page_id": PAGE_ID, "title": "Long", "markdown": markdown},
        handler=fake,
    )
    assert not result.is_error, result.text
    assert fake.operation_ids == ["post-page", "patch-block-children"]
    created, appended = body(fake.requests[0]), body(fake.requests[1])
    assert len(created["children"]) == 100 and len(appended["children"]) == 50
    assert created["properties"] == {"title": {"title": [{"type": "text", "text": {"content": "Long"}}]}}
    assert appended["children"][0]["paragraph"]["rich_text"][0]["text"]["content"] == "Paragraph 100"
    assert result.structured is not None and result.structured["blocks_written"] == 150


async def test_a_row_is_created_with_its_properties_through_the_schema(notion_description: OpenAPIValidator) -> None:
    fake = FakeNotion(notion_description)
    result = await call_tool(
        NotionConnector,
        "notion_create_page",
        {"data_source_id": DATA_SOURCE_ID, "title": "Spec", "properties": {"Status": "Done", "Estimate": 2}},
        handler=fake,
    )
    assert not result.is_error, result.text
    sent = body(fake.requests[1])
    assert sent["parent"] == {"type": "data_source_id", "data_source_id": DATA_SOURCE_ID}
    assert sent["properties"]["Name"] == {"title": [{"type": "text", "text": {"content": "Spec"}}]}
    assert sent["properties"]["Status"] == {"status": {"name": "Done"}}


async def test_an_unknown_property_is_refused_before_anything_is_written(notion_description: OpenAPIValidator) -> None:
    fake = FakeNotion(notion_description)
    result = await call_tool(
        NotionConnector, "notion_update_page", {"page_id": ROW_ID, "properties": {"Stage": "x"}}, handler=fake
    )
    assert result.is_error and result.outcome == "invalid"
    assert "'Stage' is not a property of this data source" in result.text and "'Status' (status)" in result.text
    assert fake.operation_ids == ["retrieve-a-page", "retrieve-a-data-source"]


async def test_a_section_is_replaced_new_content_first(notion_description: OpenAPIValidator) -> None:
    fake = FakeNotion(notion_description)
    result = await call_tool(
        NotionConnector,
        "notion_replace_page_section",
        {"page_id": PAGE_ID, "heading": "workstream 1", "markdown": "- the new plan"},
        handler=fake,
    )
    assert not result.is_error, result.text
    ids = fake.operation_ids
    assert ids[:3] == ["get-block-children", "get-block-children", "patch-block-children"]
    assert set(ids[3:]) == {"delete-a-block"}
    top = fixture_body("get-block-children.page-1")["results"]
    section = top[3:11]  # from the paragraph after "Workstream 1" to the toggle before "Workstream 2"
    assert body(fake.requests[2])["after"] == section[-1]["id"]
    assert [r.url.path.rsplit("/", 1)[-1] for r in fake.requests[3:]] == [b["id"] for b in section]
    assert result.structured is not None and result.structured["blocks_removed"] == len(section)


async def test_a_missing_heading_lists_the_headings(notion_description: OpenAPIValidator) -> None:
    result = await call_tool(
        NotionConnector,
        "notion_replace_page_section",
        {"page_id": PAGE_ID, "heading": "Budget", "markdown": "x"},
        handler=FakeNotion(notion_description),
    )
    assert result.is_error and "no heading 'Budget'" in result.text and "'Workstream 3'" in result.text


async def test_deep_nesting_is_written_level_by_level(notion_description: OpenAPIValidator) -> None:
    fake = FakeNotion(notion_description)
    markdown = "- one\n  - two\n    - three\n      - four"
    result = await call_tool(
        NotionConnector, "notion_append_page_content", {"page_id": PAGE_ID, "markdown": markdown}, handler=fake
    )
    assert not result.is_error, result.text
    first = body(fake.requests[0])["children"][0]
    assert "children" not in first["bulleted_list_item"]  # too deep for one request: sent alone
    created = fixture_body("patch-block-children")["results"][0]["id"]
    assert fake.requests[1].url.path == f"/v1/blocks/{created}/children"
    nested = body(fake.requests[1])["children"][0]
    assert (
        nested["bulleted_list_item"]["children"][0]["bulleted_list_item"]["children"][0]["type"] == "bulleted_list_item"
    )
    assert result.structured is not None and result.structured["blocks_written"] == 4


async def test_a_database_with_several_data_sources_asks_which(notion_description: OpenAPIValidator) -> None:
    database = fixture_body("retrieve-a-database")
    database["data_sources"] = [{"id": DATA_SOURCE_ID, "name": "Tasks"}, {"id": ROW_ID, "name": "Archive"}]
    fake = FakeNotion(notion_description, {"retrieve-a-database": lambda r: httpx.Response(200, json=database)})
    result = await call_tool(NotionConnector, "notion_query_data_source", {"database_id": DATABASE_ID}, handler=fake)
    assert result.is_error and result.outcome == "invalid"
    assert f"Tasks: {DATA_SOURCE_ID}" in result.text and f"Archive: {ROW_ID}" in result.text
    assert fake.operation_ids == ["retrieve-a-database"]


async def test_a_bad_filter_is_refused_before_the_query(notion_description: OpenAPIValidator) -> None:
    fake = FakeNotion(notion_description)
    result = await call_tool(
        NotionConnector,
        "notion_query_data_source",
        {"data_source_id": DATA_SOURCE_ID, "filter": {"property": "Stage", "select": {"equals": "Done"}}},
        handler=fake,
    )
    assert result.is_error and "filter.property: 'Stage' is not a property" in result.text
    assert fake.operation_ids == ["retrieve-a-data-source"]


async def test_query_rows_show_relations_by_title(notion_description: OpenAPIValidator) -> None:
    fake = FakeNotion(notion_description)
    result = await call_tool(
        NotionConnector,
        "notion_query_data_source",
        {"data_source_id": DATA_SOURCE_ID, "properties": ["Project"]},
        handler=fake,
    )
    assert result.structured is not None
    assert result.structured["items"][0]["values"] == {"Project": "Write the spec"}
    query = fake.requests[1]
    assert query.url.params.get_list("filter_properties") == ["pj%3A", "title"]


async def test_a_code_block_is_edited_and_a_child_page_cannot_be(notion_description: OpenAPIValidator) -> None:
    code = {**fixture_body("retrieve-a-block"), "type": "code", "code": {"rich_text": [], "language": "python"}}
    fake = FakeNotion(notion_description, {"retrieve-a-block": lambda r: httpx.Response(200, json=code)})
    result = await call_tool(
        NotionConnector, "notion_update_block", {"block_id": BLOCK_ID, "text": "x = 1", "language": "ts"}, handler=fake
    )
    assert not result.is_error, result.text
    assert body(fake.requests[1]) == {
        "code": {"rich_text": [{"type": "text", "text": {"content": "x = 1"}}], "language": "typescript"}
    }
    page = {**code, "type": "child_page", "child_page": {"title": "x"}}
    refused = await call_tool(
        NotionConnector,
        "notion_update_block",
        {"block_id": BLOCK_ID, "text": "y"},
        handler=FakeNotion(notion_description, {"retrieve-a-block": lambda r: httpx.Response(200, json=page)}),
    )
    assert refused.is_error and "a child_page block has no text this tool can change" in refused.text


async def test_duplicating_copies_properties_and_content(notion_description: OpenAPIValidator) -> None:
    row = fixture_body("retrieve-a-page.row")
    row["id"] = PAGE_ID
    fake = FakeNotion(notion_description, {"retrieve-a-page": lambda r: httpx.Response(200, json=row)})
    result = await call_tool(NotionConnector, "notion_duplicate_page", {"page_id": PAGE_ID}, handler=fake)
    assert not result.is_error, result.text
    created = body(next(r for r in fake.requests if r.url.path == "/v1/pages"))
    assert created["parent"] == {"type": "data_source_id", "data_source_id": DATA_SOURCE_ID}
    assert created["properties"]["Name"]["title"][0]["text"]["content"] == "Copy of Write the spec"
    assert created["properties"]["Status"] == {"status": {"name": "Done"}}
    assert "Score" not in created["properties"] and "Created" not in created["properties"]  # computed
    assert created["children"][0]["type"] == "heading_1"
    assert result.structured is not None and result.structured["blocks_written"] == 99  # the breadcrumb is skipped


async def test_comments_reply_in_a_discussion(notion_description: OpenAPIValidator) -> None:
    fake = FakeNotion(notion_description)
    discussion = "f1407351-36f5-4c49-a13c-49f8ba11776d"
    result = await call_tool(
        NotionConnector, "notion_create_comment", {"discussion_id": discussion, "text": "Yes *really*"}, handler=fake
    )
    assert not result.is_error, result.text
    assert body(fake.requests[0]) == {
        "rich_text": [
            {"type": "text", "text": {"content": "Yes "}},
            {"type": "text", "text": {"content": "really"}, "annotations": {"italic": True}},
        ],
        "discussion_id": discussion,
    }
    both = await call_tool(
        NotionConnector, "notion_create_comment", {"page_id": PAGE_ID, "discussion_id": discussion, "text": "x"}
    )
    assert both.is_error and both.requests == []


async def test_trash_tools_are_off_by_default_and_the_rest_fits_the_budget() -> None:
    enabled = {spec.name for spec in NotionConnector.enabled_tools(ToolPolicy())}
    assert {"notion_archive_page", "notion_restore_page", "notion_delete_block"}.isdisjoint(enabled)
    assert len(enabled) == 24 and len(NotionConnector.tools) == 27
    refused = await call_tool(NotionConnector, "notion_archive_page", {"page_id": PAGE_ID}, policy=ToolPolicy())
    assert refused.is_error and refused.requests == []


async def test_read_only_policy_keeps_every_write_from_running() -> None:
    policy = ToolPolicy(read_only=True, groups=NotionConnector.groups())
    writes = [spec.name for spec in NotionConnector.tools.values() if not spec.read_only]
    assert len(writes) == 13
    for name in writes:
        assert not NotionConnector.tool_enabled(NotionConnector.tools[name], policy)


async def test_ids_are_taken_from_notion_urls_and_nothing_else_reaches_a_path() -> None:
    seen: list[str] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return respond("retrieve-a-page")

    url = f"https://www.notion.so/acme/Plan-{PAGE_ID.replace('-', '')}?pvs=4"
    ok = await call_tool(NotionConnector, "notion_get_page", {"page_id": url}, handler=upstream)
    assert not ok.is_error and seen == [f"/v1/pages/{PAGE_ID}"]
    bad = await call_tool(NotionConnector, "notion_get_page", {"page_id": "../../v1/users/me-0123456789abcdef0123"})
    assert bad.is_error and bad.requests == []


async def test_the_notion_version_header_is_on_every_request() -> None:
    def upstream(request: httpx.Request) -> httpx.Response:
        assert request.headers["notion-version"] == "2025-09-03"
        assert request.headers["authorization"] == "Bearer test-token"
        return block_children(request, {"block_id": request.url.path.split("/")[3]})

    result = await call_tool(NotionConnector, "notion_get_page_content", {"page_id": PAGE_ID}, handler=upstream)
    assert not result.is_error and len(result.requests) == 6


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]
