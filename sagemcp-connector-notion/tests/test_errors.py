"""Notion's error envelope, rate limits, server failures and timeouts as the errors a model reads.

Reads (GETs, and the search and query POSTs) are retried on 429 / 502 / 503 / 504 as core
allows; writes are never repeated.
"""

from __future__ import annotations

import httpx
import pytest
from notion_support import DATA_SOURCE_ID, PAGE_ID, error, respond

from sagemcp.errors import (
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamConflict,
    UpstreamForbidden,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamServerError,
    UpstreamUnavailable,
)
from sagemcp.testing import call_tool
from sagemcp_notion import NotionConnector

GET_PAGE = ("notion_get_page", {"page_id": PAGE_ID})


async def call(response: httpx.Response, tool: tuple[str, dict[str, object]] = GET_PAGE) -> object:
    return await call_tool(NotionConnector, tool[0], tool[1], handler=lambda request: response)


async def test_401_says_to_reconnect() -> None:
    result = await call_tool(
        NotionConnector, *GET_PAGE, handler=lambda r: error(401, "unauthorized", "API token is invalid.")
    )
    assert result.is_error and isinstance(result.error, UpstreamAuthError)
    assert "API token is invalid" in result.text and "reconnect Notion" in result.text
    assert "test-token" not in result.text


@pytest.mark.parametrize(
    ("tool", "capability"),
    [
        (GET_PAGE, "Read content"),
        (("notion_list_comments", {"block_id": PAGE_ID}), "Read comments"),
        (("notion_create_comment", {"page_id": PAGE_ID, "text": "hi"}), "Insert comments"),
        (("notion_list_users", {}), "Read user information"),
        (("notion_append_page_content", {"page_id": PAGE_ID, "markdown": "x"}), "Insert content"),
        (("notion_archive_page", {"page_id": PAGE_ID}), "Update content"),
    ],
)
async def test_403_names_the_missing_capability(tool: tuple[str, dict[str, object]], capability: str) -> None:
    result = await call_tool(
        NotionConnector,
        *tool,
        handler=lambda r: error(403, "restricted_resource", "Insufficient permissions for this endpoint."),
    )
    assert result.is_error and isinstance(result.error, UpstreamForbidden)
    assert result.error.missing_scopes == [capability]
    assert f"`{capability}`" in result.text and "Capabilities" in result.text


async def test_404_says_to_share_the_page_with_the_integration() -> None:
    result = await call_tool(
        NotionConnector,
        *GET_PAGE,
        handler=lambda r: error(404, "object_not_found", f"Could not find page with ID: {PAGE_ID}."),
    )
    assert result.is_error and isinstance(result.error, UpstreamNotFound)
    assert "share it with the integration" in result.text and "Connections" in result.text
    assert result.error.upstream_code == "object_not_found"


async def test_409_conflict_and_400_validation_error_keep_notions_message() -> None:
    conflict = await call_tool(
        NotionConnector,
        "notion_archive_page",
        {"page_id": PAGE_ID},
        handler=lambda r: error(409, "conflict_error", "Conflict occurred while saving."),
    )
    assert isinstance(conflict.error, UpstreamConflict) and "read it again and retry" in conflict.text
    invalid = await call_tool(
        NotionConnector,
        "notion_archive_page",
        {"page_id": PAGE_ID},
        handler=lambda r: error(400, "validation_error", "body.in_trash should be a boolean, instead was `1`."),
    )
    assert isinstance(invalid.error, UpstreamBadRequest)
    assert "body.in_trash should be a boolean" in invalid.text and invalid.error.upstream_code == "validation_error"


async def test_429_with_retry_after_is_retried_for_a_read_then_reported() -> None:
    attempts: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        return error(429, "rate_limited", "You have been rate limited.", headers={"Retry-After": "7"})

    result = await call_tool(NotionConnector, "notion_search_pages", {"query": "x"}, handler=upstream)
    assert result.is_error and isinstance(result.error, UpstreamRateLimited)
    assert result.error.retry_after == 7
    assert len(attempts) == 3  # the search POST is a read: retried twice


async def test_429_without_retry_after_says_to_wait() -> None:
    result = await call(error(429, "rate_limited", "Slow down."))
    assert isinstance(result.error, UpstreamRateLimited)  # type: ignore[attr-defined]
    assert result.error.retry_after is None  # type: ignore[attr-defined]
    assert "wait a little, then retry" in result.text  # type: ignore[attr-defined]


async def test_a_rate_limit_then_success_returns_the_result() -> None:
    answers = [
        error(429, "rate_limited", "later", headers={"Retry-After": "1"}),
        respond("retrieve-a-data-source.tasks"),
    ]
    result = await call_tool(
        NotionConnector, "notion_get_data_source", {"data_source_id": DATA_SOURCE_ID}, handler=lambda r: answers.pop(0)
    )
    assert not result.is_error, result.text
    assert len(result.requests) == 2


async def test_5xx_is_retried_for_reads_and_never_for_writes() -> None:
    read = await call_tool(
        NotionConnector, *GET_PAGE, handler=lambda r: error(503, "service_unavailable", "Notion is unavailable.")
    )
    assert isinstance(read.error, UpstreamServerError) and len(read.requests) == 3
    assert "on Notion's side" in read.text
    write = await call_tool(
        NotionConnector,
        "notion_append_page_content",
        {"page_id": PAGE_ID, "markdown": "new"},
        handler=lambda r: error(502, "bad_gateway", "Bad gateway."),
    )
    assert isinstance(write.error, UpstreamServerError) and len(write.requests) == 1
    create = await call_tool(
        NotionConnector,
        "notion_create_comment",
        {"page_id": PAGE_ID, "text": "once"},
        handler=lambda r: error(500, "internal_server_error", "Unexpected error."),
    )
    assert len(create.requests) == 1


async def test_a_timeout_is_reported_and_a_write_is_not_repeated() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    read = await call_tool(NotionConnector, *GET_PAGE, handler=slow)
    assert isinstance(read.error, UpstreamUnavailable) and len(read.requests) == 3
    write = await call_tool(NotionConnector, "notion_archive_page", {"page_id": PAGE_ID}, handler=slow)
    assert isinstance(write.error, UpstreamUnavailable) and len(write.requests) == 1
    assert "test-token" not in write.text


async def test_529_service_overload_is_a_rate_limit() -> None:
    result = await call(error(529, "service_overload", "Overloaded.", headers={"Retry-After": "2"}))
    assert isinstance(result.error, UpstreamRateLimited)  # type: ignore[attr-defined]
