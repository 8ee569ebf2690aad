"""GitHub's Link-header pagination behind opaque cursors: limits, round trips, cursors of every kind."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from github_support import fixture_body
from hypothesis import given
from hypothesis import strategies as st

from sagemcp import UpstreamResponse, cursor_scope, decode_cursor, encode_cursor
from sagemcp.errors import InvalidCursor
from sagemcp.testing import call_tool
from sagemcp_github import GitHubConnector
from sagemcp_github._pagination import next_cursor, offset_cursor, page_params, read_offset

REPO = {"owner": "octocat", "repo": "Hello-World"}
ISSUES = "https://api.github.com/repositories/1300192/issues"


def paged_issues(total: int) -> Any:
    """A fake `GET .../issues` with `total` issues, answering `page`/`per_page` and a `Link` header like GitHub."""
    template = fixture_body("issues/list-for-repo.30")[0]

    def handler(request: httpx.Request) -> httpx.Response:
        per_page = int(request.url.params.get("per_page", "30"))
        page = int(request.url.params.get("page", "1"))
        numbers = range(total - (page - 1) * per_page, max(total - page * per_page, 0), -1)
        body = [dict(template, number=n, title=f"Issue {n}") for n in numbers]
        last = -(-total // per_page)
        links = [f'<{ISSUES}?per_page={per_page}&page={last}>; rel="last"']
        if page < last:
            links.insert(0, f'<{ISSUES}?per_page={per_page}&page={page + 1}>; rel="next"')
        return httpx.Response(200, json=body, headers={"Link": ", ".join(links)})

    return handler


async def test_cursor_walks_every_page_once() -> None:
    handler = paged_issues(45)
    seen: list[int] = []
    cursor = None
    calls = 0
    while True:
        args: dict[str, Any] = {**REPO, "limit": 20}
        if cursor:
            args["cursor"] = cursor
        result = await call_tool(GitHubConnector, "github_list_issues", args, handler=handler)
        calls += 1
        data = result.structured
        assert data is not None
        seen += [item["number"] for item in data["items"]]
        cursor = data.get("next_cursor")
        if not cursor:
            break
    assert calls == 3
    assert seen == list(range(45, 0, -1))


async def test_next_page_request_carries_page_and_page_size() -> None:
    first = await call_tool(GitHubConnector, "github_list_issues", {**REPO, "limit": 10}, handler=paged_issues(25))
    cursor = first.structured["next_cursor"]  # type: ignore[index]
    assert decode_cursor(cursor, tool="github_list_issues") == {"page": 2, "per_page": 10}
    second = await call_tool(
        GitHubConnector, "github_list_issues", {**REPO, "limit": 50, "cursor": cursor}, handler=paged_issues(25)
    )
    params = second.request.url.params
    assert params["page"] == "2" and params["per_page"] == "10"  # the cursor fixes the page size
    assert second.request.url.path == "/repos/octocat/Hello-World/issues"  # never GitHub's absolute next URL


async def test_default_and_maximum_page_size() -> None:
    default = await call_tool(GitHubConnector, "github_list_issues", REPO, handler=paged_issues(5))
    assert default.request.url.params["per_page"] == "20"
    assert "next_cursor" not in default.structured  # type: ignore[operator]
    too_many = await call_tool(GitHubConnector, "github_list_issues", {**REPO, "limit": 51}, handler=paged_issues(5))
    assert too_many.is_error and "limit" in too_many.text and too_many.requests == []
    zero = await call_tool(GitHubConnector, "github_list_issues", {**REPO, "limit": 0}, handler=paged_issues(5))
    assert zero.is_error and zero.requests == []


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        encode_cursor({"page": "2; DROP"}, tool="github_list_issues"),
        encode_cursor({"page": 2, "url": "https://evil.example/"}, tool="github_list_issues"),
        encode_cursor({"page": -1}, tool="github_list_issues"),
        encode_cursor({"after": 5}, tool="github_list_issues"),
        encode_cursor({"page": 2}, tool="github_list_pull_requests"),
        "x" * 9000,
    ],
)
async def test_foreign_cursors_are_refused_before_any_request(cursor: str) -> None:
    result = await call_tool(GitHubConnector, "github_list_issues", {**REPO, "cursor": cursor}, handler=paged_issues(5))
    assert result.is_error and "cursor" in result.text
    assert isinstance(result.error, InvalidCursor) or "at most 8192" in result.text
    assert result.requests == []


async def test_a_cursor_from_another_list_tool_says_to_start_over() -> None:
    first = await call_tool(GitHubConnector, "github_list_issues", {**REPO, "limit": 10}, handler=paged_issues(25))
    cursor = first.structured["next_cursor"]  # type: ignore[index]
    other = await call_tool(
        GitHubConnector, "github_list_pull_requests", {**REPO, "cursor": cursor}, handler=paged_issues(25)
    )
    assert other.is_error and other.requests == []
    assert other.text.startswith(
        "this cursor is not valid for this tool (it came from github_list_issues); call github_list_pull_requests "
        "again without a cursor"
    )


async def test_cursor_based_pages_dependabot() -> None:
    alerts = fixture_body("dependabot/list-alerts-for-repo")
    api = "https://api.github.com/repositories/1/dependabot/alerts"

    def handler(request: httpx.Request) -> httpx.Response:
        if "after" in request.url.params:
            return httpx.Response(200, json=alerts[1:])
        return httpx.Response(
            200, json=alerts[:1], headers={"Link": f'<{api}?per_page=1&after=Y3Vyc29yOnYy>; rel="next"'}
        )

    first = await call_tool(GitHubConnector, "github_list_dependabot_alerts", {**REPO, "limit": 1}, handler=handler)
    cursor = first.structured["next_cursor"]  # type: ignore[index]
    assert decode_cursor(cursor, tool="github_list_dependabot_alerts") == {"after": "Y3Vyc29yOnYy", "per_page": 1}
    second = await call_tool(
        GitHubConnector, "github_list_dependabot_alerts", {**REPO, "cursor": cursor}, handler=handler
    )
    assert second.request.url.params["after"] == "Y3Vyc29yOnYy"
    assert "next_cursor" not in second.structured  # type: ignore[operator]


async def test_search_pages_with_the_same_query() -> None:
    result = await call_tool(
        GitHubConnector,
        "github_search_issues",
        {"query": "is:open", "cursor": encode_cursor({"page": 3, "per_page": 50}, tool="github_search_issues")},
        handler=lambda r: httpx.Response(200, json={"total_count": 0, "incomplete_results": False, "items": []}),
    )
    assert dict(result.request.url.params) == {"q": "is:open", "page": "3", "per_page": "50"}


def response_with_link(link: str | None) -> UpstreamResponse:
    headers = {"link": link} if link else {}
    return UpstreamResponse(200, headers=headers, url="https://api.github.com/repos/o/r/issues?per_page=5")


@given(page=st.integers(min_value=2, max_value=100_000), per_page=st.integers(min_value=1, max_value=100))
def test_cursor_round_trip(page: int, per_page: int) -> None:
    link = f'<https://api.github.com/repositories/1/issues?state=open&per_page={per_page}&page={page}>; rel="next"'
    with cursor_scope("github_list_issues"):
        cursor = next_cursor(response_with_link(link))
        assert cursor is not None
        assert page_params(7, cursor) == {"page": page, "per_page": per_page}


@given(limit=st.integers(min_value=1, max_value=1000))
def test_page_size_never_exceeds_the_maximum(limit: int) -> None:
    assert page_params(limit, None) == {"per_page": min(limit, 100)}
    assert page_params(limit, None, maximum=50)["per_page"] <= 50


@cursor_scope("github_list_issues")
def test_no_next_link_no_cursor() -> None:
    assert next_cursor(response_with_link(None)) is None
    assert next_cursor(response_with_link('<https://api.github.com/x?page=1>; rel="prev"')) is None
    assert next_cursor(response_with_link('<https://api.github.com/x?page=abc>; rel="next"')) is None


@cursor_scope("github_get_repository_tree")
def test_offset_cursors() -> None:
    assert read_offset(None) == 0
    assert offset_cursor(100, 100) is None
    cursor = offset_cursor(100, 250)
    assert cursor is not None and read_offset(cursor) == 100
    with pytest.raises(InvalidCursor):
        read_offset(encode_cursor({"page": 2}))
