"""Users and organizations: profiles, email lookup, memberships, activity and statistics."""

from __future__ import annotations

import httpx
import pytest
from github_support import fixture_response

from sagemcp.testing import call_tool
from sagemcp_github import GitHubConnector


async def test_get_user() -> None:
    user = await call_tool(
        GitHubConnector,
        "github_get_user",
        {"username": "octocat"},
        handler=lambda r: fixture_response("users/get-by-username"),
    )
    assert user.request.url.path == "/users/octocat"
    data = user.structured
    assert data is not None
    assert data["login"] == "octocat" and data["name"] == "monalisa octocat" and data["followers"] == 20


async def test_find_users_by_email_builds_the_query() -> None:
    result = await call_tool(
        GitHubConnector,
        "github_find_users_by_email",
        {"email": "octocat@github.com"},
        handler=lambda r: fixture_response("search/users"),
    )
    assert result.request.url.params["q"] == "octocat@github.com in:email"


@pytest.mark.parametrize("email", ["not-an-email", "a b@example.com", "x@y in:login"])
async def test_find_users_by_email_refuses_anything_else(email: str) -> None:
    result = await call_tool(
        GitHubConnector, "github_find_users_by_email", {"email": email}, handler=lambda r: httpx.Response(500)
    )
    assert result.is_error and result.requests == []


async def test_organizations() -> None:
    mine = await call_tool(
        GitHubConnector,
        "github_list_organizations",
        {},
        handler=lambda r: fixture_response("orgs/list-for-authenticated-user"),
    )
    assert mine.request.url.path == "/user/orgs"
    assert mine.structured["items"][0]["login"] == "github"  # type: ignore[index]
    org = await call_tool(
        GitHubConnector, "github_get_organization", {"org": "github"}, handler=lambda r: fixture_response("orgs/get")
    )
    data = org.structured
    assert data is not None and data["location"] == "San Francisco" and data["public_repos"] == 2


async def test_activity_of_the_authenticated_user() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/user":
            return fixture_response("users/get-authenticated")
        return fixture_response("activity/list-events-for-authenticated-user")

    result = await call_tool(GitHubConnector, "github_list_user_events", {}, handler=handler)
    assert [r.url.path for r in result.requests] == ["/user", "/users/octocat/events"]
    event = result.structured["items"][0]  # type: ignore[index]
    assert event["type"] == "WatchEvent" and event["repo"] == "octocat/Hello-World"


async def test_user_stats() -> None:
    repos = [
        {"full_name": "octocat/a", "stargazers_count": 10, "forks_count": 2, "language": "Python", "fork": False},
        {"full_name": "octocat/b", "stargazers_count": 30, "forks_count": 1, "language": "Python", "fork": False},
        {"full_name": "octocat/c", "stargazers_count": 5, "forks_count": 0, "language": "Go", "fork": False},
        {"full_name": "octocat/fork", "stargazers_count": 999, "forks_count": 9, "language": "C", "fork": True},
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/repos"):
            return httpx.Response(200, json=repos)
        return fixture_response("users/get-by-username")

    result = await call_tool(GitHubConnector, "github_get_user_stats", {"username": "octocat"}, handler=handler)
    assert result.requests[1].url.params["per_page"] == "100"
    data = result.structured
    assert data is not None
    assert data["total_stars"] == 45 and data["total_forks"] == 3 and data["repos_counted"] == 3
    assert data["top_languages"] == {"Python": 2, "Go": 1}
    assert data["most_starred"] == ["octocat/b", "octocat/a", "octocat/c"]
