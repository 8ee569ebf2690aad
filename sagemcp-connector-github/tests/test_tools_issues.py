"""Issues, comments and labels: trimmed output, the requests sent, and the size of what the model gets."""

from __future__ import annotations

import json
from typing import Any

import httpx
from github_support import fixture_body, fixture_response, load_fixture

from sagemcp.testing import call_tool
from sagemcp_github import GitHubConnector
from sagemcp_github.models import BODY_LIMIT, LIST_BODY_LIMIT

REPO = {"owner": "octocat", "repo": "Hello-World"}


def compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


async def test_list_issues_returns_at_most_a_quarter_of_the_raw_bytes() -> None:
    fixture = load_fixture("issues/list-for-repo.30")
    assert fixture["source"] == "derived" and len(fixture["body"]) == 30
    raw = compact(fixture["body"])
    result = await call_tool(
        GitHubConnector,
        "github_list_issues",
        {**REPO, "limit": 30},
        handler=lambda request: fixture_response("issues/list-for-repo.30"),
    )
    assert not result.is_error, result.text
    assert result.structured is not None
    assert len(result.structured["items"]) == 30
    structured = compact(result.structured)
    assert len(structured) * 4 <= len(raw), (len(structured), len(raw))
    assert len(result.text.encode()) * 4 <= len(raw), (len(result.text), len(raw))


async def test_list_issues_keeps_what_a_model_needs() -> None:
    result = await call_tool(
        GitHubConnector,
        "github_list_issues",
        REPO,
        handler=lambda request: fixture_response("issues/list-for-repo.30"),
    )
    first = result.structured["items"][0]  # type: ignore[index]
    assert first["number"] == 1330
    assert first["title"] == "Login page blank on Safari (1330)"
    assert first["state"] == "open"
    assert first["author"] == "octocat"
    assert first["labels"] == ["enhancement", "help wanted"]
    assert first["assignees"] == ["octocat"]
    assert first["url"] == "https://github.com/octocat/Hello-World/issues/1330"
    assert first["created_at"] == "2024-03-01T10:00:00Z"
    assert first["body"].startswith("**Describe the bug**")
    for key in ("user", "node_id", "labels_url", "reactions", "events_url"):
        assert key not in first


async def test_list_issues_query_and_pull_requests_left_out() -> None:
    issues = fixture_body("issues/list-for-repo.30")[:3]
    issues[1]["pull_request"] = {"url": "https://api.github.com/repos/octocat/Hello-World/pulls/1329"}
    result = await call_tool(
        GitHubConnector,
        "github_list_issues",
        {**REPO, "state": "all", "labels": ["bug", "good first issue"], "assignee": "none", "limit": 3},
        handler=lambda request: httpx.Response(200, json=issues),
    )
    assert [i["number"] for i in result.structured["items"]] == [1330, 1328]  # type: ignore[index]
    params = result.request.url.params
    assert params["labels"] == "bug,good first issue"
    assert params["assignee"] == "none"
    assert params["state"] == "all"
    assert params["per_page"] == "3"
    assert "creator" not in params and "page" not in params


async def test_list_bodies_are_cut_with_a_marker() -> None:
    issue = fixture_body("issues/get")
    issue.pop("pull_request", None)
    issue["body"] = "word " * 1000
    result = await call_tool(
        GitHubConnector, "github_list_issues", REPO, handler=lambda request: httpx.Response(200, json=[issue])
    )
    item = result.structured["items"][0]  # type: ignore[index]
    assert item["body_truncated"] is True
    assert len(item["body"]) < LIST_BODY_LIMIT + 120
    assert "…[truncated: " in item["body"] and "github_get_issue" in item["body"]


async def test_empty_issue_list() -> None:
    result = await call_tool(
        GitHubConnector, "github_list_issues", REPO, handler=lambda request: httpx.Response(200, json=[])
    )
    assert not result.is_error
    assert result.structured == {"items": [], "truncated": False}


async def test_get_issue_has_the_full_markdown_body() -> None:
    issue = fixture_body("issues/get")
    issue["body"] = "## Steps\n\n- [ ] one\n- [x] two\n\n```py\nprint('hi')\n```\n"
    result = await call_tool(
        GitHubConnector,
        "github_get_issue",
        {**REPO, "issue_number": 1347},
        handler=lambda request: httpx.Response(200, json=issue),
    )
    assert result.structured["body"] == issue["body"]  # type: ignore[index]
    assert result.structured["number"] == 1347  # type: ignore[index]
    assert result.structured["milestone"] == "v1.0"  # type: ignore[index]
    assert result.request.url.path == "/repos/octocat/Hello-World/issues/1347"


async def test_get_issue_bounds_a_huge_body() -> None:
    issue = fixture_body("issues/get")
    issue["body"] = "x" * (BODY_LIMIT * 3)
    result = await call_tool(
        GitHubConnector,
        "github_get_issue",
        {**REPO, "issue_number": 1347},
        handler=lambda request: httpx.Response(200, json=issue),
    )
    body = result.structured["body"]  # type: ignore[index]
    assert result.structured["body_truncated"] is True  # type: ignore[index]
    assert len(body) < BODY_LIMIT + 200
    assert body.endswith(
        f"…[truncated: {BODY_LIMIT:,} of {BODY_LIMIT * 3:,} characters shown; use github_get_issue for the full text]"
    )


async def test_create_issue_sends_only_given_fields() -> None:
    result = await call_tool(
        GitHubConnector,
        "github_create_issue",
        {**REPO, "title": "Found a bug", "labels": ["bug"]},
        handler=lambda request: fixture_response("issues/create"),
    )
    assert result.request.method == "POST"
    assert json.loads(result.request.content) == {"title": "Found a bug", "labels": ["bug"]}
    assert result.structured["number"] == 1347  # type: ignore[index]


async def test_update_issue_patches_only_what_changes() -> None:
    result = await call_tool(
        GitHubConnector,
        "github_update_issue",
        {**REPO, "issue_number": 1347, "state": "closed", "state_reason": "not_planned", "milestone": 0},
        handler=lambda request: fixture_response("issues/update"),
    )
    assert result.request.method == "PATCH"
    assert json.loads(result.request.content) == {"state": "closed", "state_reason": "not_planned", "milestone": None}


async def test_update_issue_needs_a_change() -> None:
    result = await call_tool(
        GitHubConnector, "github_update_issue", {**REPO, "issue_number": 1}, handler=lambda request: httpx.Response(500)
    )
    assert result.is_error and "nothing to change" in result.text
    assert result.requests == []


async def test_comments() -> None:
    listed = await call_tool(
        GitHubConnector,
        "github_list_issue_comments",
        {**REPO, "issue_number": 1347},
        handler=lambda request: fixture_response("issues/list-comments"),
    )
    comment = listed.structured["items"][0]  # type: ignore[index]
    assert comment == {
        "id": 1,
        "author": "octocat",
        "body": "Me too",
        "body_truncated": False,
        "created_at": "2011-04-14T16:00:49Z",
        "updated_at": "2011-04-14T16:00:49Z",
        "url": "https://github.com/octocat/Hello-World/issues/1347#issuecomment-1",
    }
    added = await call_tool(
        GitHubConnector,
        "github_add_issue_comment",
        {**REPO, "issue_number": 1347, "body": "Me too"},
        handler=lambda request: fixture_response("issues/create-comment"),
    )
    assert json.loads(added.request.content) == {"body": "Me too"}
    assert added.structured["id"] == 1  # type: ignore[index]


async def test_labels() -> None:
    listed = await call_tool(
        GitHubConnector,
        "github_list_labels",
        REPO,
        handler=lambda request: fixture_response("issues/list-labels-for-repo"),
    )
    assert listed.structured["items"][0]["name"] == "bug"  # type: ignore[index]
    added = await call_tool(
        GitHubConnector,
        "github_add_issue_labels",
        {**REPO, "issue_number": 1347, "labels": ["bug", "enhancement"]},
        handler=lambda request: fixture_response("issues/add-labels"),
    )
    assert json.loads(added.request.content) == {"labels": ["bug", "enhancement"]}
    assert added.structured == {"number": 1347, "labels": ["bug", "enhancement"]}
    removed = await call_tool(
        GitHubConnector,
        "github_remove_issue_label",
        {**REPO, "issue_number": 1347, "label": "help wanted/urgent"},
        handler=lambda request: fixture_response("issues/remove-label"),
    )
    assert removed.request.url.raw_path == b"/repos/octocat/Hello-World/issues/1347/labels/help%20wanted%2Furgent"
    assert removed.structured == {"number": 1347, "labels": ["bug"]}
