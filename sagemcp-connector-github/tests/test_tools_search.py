"""Search: the query goes to GitHub unchanged as `q`; everything else is typed."""

from __future__ import annotations

import httpx
import pytest
from github_support import fixture_response

from sagemcp.testing import call_tool
from sagemcp_github import GitHubConnector


@pytest.mark.parametrize(
    "query",
    [
        'repo:octocat/Hello-World is:issue is:open label:"good first issue"',
        "review-requested:@me is:pr created:>=2024-01-01 -label:wip",
        "user:defunkt & stars:10..20 sort:updated",
    ],
)
async def test_query_is_passed_unchanged(query: str) -> None:
    result = await call_tool(
        GitHubConnector,
        "github_search_issues",
        {"query": query},
        handler=lambda r: fixture_response("search/issues-and-pull-requests"),
    )
    params = result.request.url.params
    assert params["q"] == query
    assert "sort" not in params and "order" not in params
    data = result.structured
    assert data is not None
    assert data["total_count"] == 280 and data["incomplete_results"] is False
    item = data["items"][0]
    assert item["repository"] == "batterseapower/pinyin-toolkit" and item["number"] == 132


async def test_sort_and_order_are_typed() -> None:
    result = await call_tool(
        GitHubConnector,
        "github_search_repositories",
        {"query": "tetris", "sort": "stars", "order": "asc", "limit": 3},
        handler=lambda r: fixture_response("search/repos"),
    )
    assert dict(result.request.url.params) == {"q": "tetris", "sort": "stars", "order": "asc", "per_page": "3"}
    assert result.structured["items"][0]["full_name"] == "dtrupenn/Tetris"  # type: ignore[index]
    bad = await call_tool(
        GitHubConnector,
        "github_search_repositories",
        {"query": "x", "sort": "evil"},
        handler=lambda r: httpx.Response(500),
    )
    assert bad.is_error and bad.requests == []


async def test_code_search_asks_for_text_matches() -> None:
    result = await call_tool(
        GitHubConnector,
        "github_search_code",
        {"query": "addClass repo:jquery/jquery"},
        handler=lambda r: fixture_response("search/code"),
    )
    assert result.request.headers["accept"] == "application/vnd.github.text-match+json"
    hit = result.structured["items"][0]  # type: ignore[index]
    assert hit["path"] == "src/attributes/classes.js" and hit["repository"] == "jquery/jquery"


async def test_commit_and_user_search() -> None:
    commits = await call_tool(
        GitHubConnector, "github_search_commits", {"query": "css"}, handler=lambda r: fixture_response("search/commits")
    )
    assert commits.structured["items"][0]["repository"] == "octocat/Spoon-Knife"  # type: ignore[index]
    users = await call_tool(
        GitHubConnector, "github_search_users", {"query": "mojombo"}, handler=lambda r: fixture_response("search/users")
    )
    assert users.structured["items"][0]["login"] == "mojombo"  # type: ignore[index]


async def test_empty_search() -> None:
    result = await call_tool(
        GitHubConnector,
        "github_search_code",
        {"query": "nothing-matches-this"},
        handler=lambda r: httpx.Response(200, json={"total_count": 0, "incomplete_results": False, "items": []}),
    )
    assert result.structured == {"items": [], "truncated": False, "total_count": 0, "incomplete_results": False}
