"""The inbox: listing notifications and marking them read."""

from __future__ import annotations

import json

import httpx
from github_support import fixture_response

from sagemcp.testing import call_tool
from sagemcp_github import GitHubConnector

REPO = {"owner": "octocat", "repo": "Hello-World"}


async def test_list_notifications() -> None:
    result = await call_tool(
        GitHubConnector,
        "github_list_notifications",
        {"limit": 50},
        handler=lambda r: fixture_response("activity/list-notifications-for-authenticated-user"),
    )
    assert dict(result.request.url.params) == {"per_page": "50"}
    item = result.structured["items"][0]  # type: ignore[index]
    assert item == {
        "id": "1",
        "reason": "subscribed",
        "unread": True,
        "title": "Greetings",
        "type": "Issue",
        "repository": "octocat/Hello-World",
        "updated_at": "2014-11-07T22:01:45Z",
        "url": "https://github.com/octocat/Hello-World/issues/123",
    }


async def test_notifications_page_size_is_at_most_50() -> None:
    result = await call_tool(
        GitHubConnector, "github_list_notifications", {"limit": 51}, handler=lambda r: httpx.Response(500)
    )
    assert result.is_error and result.requests == []


async def test_owner_and_repo_go_together() -> None:
    result = await call_tool(
        GitHubConnector, "github_list_notifications", {"owner": "octocat"}, handler=lambda r: httpx.Response(500)
    )
    assert result.is_error and "owner and repo" in result.text


async def test_mark_read() -> None:
    one = await call_tool(
        GitHubConnector, "github_mark_notification_read", {"thread_id": "42"}, handler=lambda r: httpx.Response(205)
    )
    assert one.request.method == "PATCH" and one.request.url.path == "/notifications/threads/42"
    everything = await call_tool(
        GitHubConnector,
        "github_mark_notifications_read",
        {"last_read_at": "2024-01-01T00:00:00Z"},
        handler=lambda r: fixture_response("activity/mark-notifications-as-read"),
    )
    assert json.loads(everything.request.content) == {"read": True, "last_read_at": "2024-01-01T00:00:00Z"}
    assert "background" in everything.structured["message"]  # type: ignore[index]
