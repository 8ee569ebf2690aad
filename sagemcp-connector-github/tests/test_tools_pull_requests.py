"""Pull requests: details, bounded diff, files, reviews with inline comments, CI status, merging."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from github_support import fixture_body, fixture_response

from sagemcp.testing import call_tool
from sagemcp_github import GitHubConnector
from sagemcp_github.tools.pull_requests import DIFF_CHAR_LIMIT

REPO = {"owner": "octocat", "repo": "Hello-World"}
PR = {**REPO, "pull_number": 1347}


async def test_get_pull_request_is_trimmed() -> None:
    result = await call_tool(
        GitHubConnector, "github_get_pull_request", PR, handler=lambda r: fixture_response("pulls/get")
    )
    data = result.structured
    assert data is not None
    assert data["number"] == 1347 and data["title"] == "Amazing new feature" and data["state"] == "open"
    assert data["head"] == "new-topic" and data["base"] == "master"
    assert data["head_sha"] == "6dcb09b5b57875f334f61aebed695e2e4193db5e"
    assert data["requested_reviewers"] == ["other_user"] and data["requested_teams"] == ["justice-league"]
    assert data["body"] == "Please pull these awesome changes in!"
    assert data["additions"] == 100 and data["changed_files"] == 5
    assert "_links" not in data and "user" not in data
    assert len(json.dumps(data)) * 5 < len(json.dumps(fixture_body("pulls/get")))


async def test_fork_heads_are_shown_with_their_owner() -> None:
    pull = fixture_body("pulls/get")
    pull["head"]["label"] = "someone:patch-1"
    pull["head"]["repo"] = dict(pull["head"]["repo"], full_name="someone/Hello-World")
    result = await call_tool(
        GitHubConnector, "github_get_pull_request", PR, handler=lambda r: httpx.Response(200, json=pull)
    )
    assert result.structured["head"] == "someone:patch-1"  # type: ignore[index]


async def test_diff_is_requested_as_a_diff() -> None:
    result = await call_tool(
        GitHubConnector, "github_get_pull_request_diff", PR, handler=lambda r: fixture_response("pulls/get.diff")
    )
    assert result.request.headers["accept"] == "application/vnd.github.diff"
    assert result.structured == {
        "text": "diff --git a/testfile b/testfile\nindex 9bdeaeb..912c7ef 100644\n--- a/testfile\n+++ b/testfile\n"
        "@@ -1 +1 @@\n-test\n+test change\n",
        "truncated": False,
        "total_chars": 124,
    }


async def test_big_diffs_are_cut_with_a_marker() -> None:
    hunk = "diff --git a/f b/f\n@@ -1 +1 @@\n-old line\n+new line\n"
    big = hunk * 5000
    result = await call_tool(
        GitHubConnector, "github_get_pull_request_diff", PR, handler=lambda r: httpx.Response(200, text=big)
    )
    data = result.structured
    assert data is not None and data["truncated"] is True and data["total_chars"] == len(big)
    assert len(data["text"]) < DIFF_CHAR_LIMIT + 200
    assert "…[truncated: " in data["text"] and "github_list_pull_request_files" in data["text"]


async def test_files_with_bounded_patches() -> None:
    result = await call_tool(
        GitHubConnector, "github_list_pull_request_files", PR, handler=lambda r: fixture_response("pulls/list-files")
    )
    (changed,) = result.structured["items"]  # type: ignore[index]
    assert changed["filename"] == "file1.txt" and changed["status"] == "added" and changed["additions"] == 103
    assert changed["patch"].startswith("@@ -132,7 +132,7 @@")


async def test_reviews_and_review_comments() -> None:
    reviews = await call_tool(
        GitHubConnector,
        "github_list_pull_request_reviews",
        PR,
        handler=lambda r: fixture_response("pulls/list-reviews"),
    )
    (review,) = reviews.structured["items"]  # type: ignore[index]
    assert review["author"] == "octocat" and review["state"] == "APPROVED"
    comments = await call_tool(
        GitHubConnector,
        "github_list_pull_request_review_comments",
        PR,
        handler=lambda r: fixture_response("pulls/list-review-comments"),
    )
    (comment,) = comments.structured["items"]  # type: ignore[index]
    assert comment["path"] == "file1.txt" and comment["line"] == 2 and comment["body"] == "Great stuff!"


async def test_review_with_inline_comments() -> None:
    args = {
        **PR,
        "event": "REQUEST_CHANGES",
        "body": "Almost there.",
        "comments": [
            {"path": "src/app.py", "line": 12, "body": "Handle None here."},
            {"path": "src/app.py", "line": 30, "start_line": 25, "side": "LEFT", "body": "Why was this removed?"},
        ],
    }
    result = await call_tool(
        GitHubConnector,
        "github_create_pull_request_review",
        args,
        handler=lambda r: fixture_response("pulls/create-review"),
    )
    assert json.loads(result.request.content) == {
        "event": "REQUEST_CHANGES",
        "body": "Almost there.",
        "comments": [
            {"path": "src/app.py", "body": "Handle None here.", "line": 12, "side": "RIGHT"},
            {"path": "src/app.py", "body": "Why was this removed?", "line": 30, "side": "LEFT", "start_line": 25},
        ],
    }
    assert result.structured["state"] == "CHANGES_REQUESTED"  # type: ignore[index]


async def test_request_changes_needs_words() -> None:
    result = await call_tool(
        GitHubConnector,
        "github_create_pull_request_review",
        {**PR, "event": "REQUEST_CHANGES"},
        handler=lambda r: httpx.Response(500),
    )
    assert result.is_error and result.requests == []


async def test_pending_review_sends_no_event() -> None:
    result = await call_tool(
        GitHubConnector,
        "github_create_pull_request_review",
        {**PR, "body": "draft"},
        handler=lambda r: fixture_response("pulls/create-review"),
    )
    assert json.loads(result.request.content) == {"body": "draft"}


def status_handler(check_runs: list[dict[str, Any]], statuses: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/check-runs"):
            return httpx.Response(200, json={"total_count": len(check_runs), "check_runs": check_runs})
        if request.url.path.endswith("/status"):
            return httpx.Response(200, json={"state": "pending", "statuses": statuses, "total_count": len(statuses)})
        return fixture_response("pulls/get")

    return handler


def run(name: str, status: str = "completed", conclusion: str | None = "success") -> dict[str, Any]:
    return {
        "name": name,
        "status": status,
        "conclusion": conclusion,
        "html_url": f"https://ci/{name}",
        "app": {"name": "GitHub Actions"},
    }


@pytest.mark.parametrize(
    ("check_runs", "statuses", "overall", "failing"),
    [
        ([run("test"), run("lint")], [], "success", []),
        ([run("test"), run("lint", conclusion="failure")], [], "failure", ["lint"]),
        ([run("test", status="in_progress", conclusion=None)], [], "pending", []),
        ([run("test")], [{"context": "ci/jenkins", "state": "error"}], "failure", ["ci/jenkins"]),
        ([], [{"context": "deploy", "state": "pending"}], "pending", []),
        ([], [], "none", []),
        ([run("test", conclusion="skipped"), run("e2e", conclusion="neutral")], [], "success", []),
    ],
)
async def test_pull_request_status(
    check_runs: list[dict[str, Any]], statuses: list[dict[str, Any]], overall: str, failing: list[str]
) -> None:
    result = await call_tool(
        GitHubConnector, "github_get_pull_request_status", PR, handler=status_handler(check_runs, statuses)
    )
    data = result.structured
    assert data is not None
    assert data["overall"] == overall and data["failing"] == failing
    assert data["sha"] == "6dcb09b5b57875f334f61aebed695e2e4193db5e"
    paths = [r.url.path for r in result.requests]
    assert paths[1] == "/repos/octocat/Hello-World/commits/6dcb09b5b57875f334f61aebed695e2e4193db5e/check-runs"


async def test_create_update_and_merge() -> None:
    created = await call_tool(
        GitHubConnector,
        "github_create_pull_request",
        {**REPO, "title": "Add feature", "head": "feature", "base": "main"},
        handler=lambda r: fixture_response("pulls/create"),
    )
    assert json.loads(created.request.content) == {
        "title": "Add feature",
        "head": "feature",
        "base": "main",
        "draft": False,
        "maintainer_can_modify": True,
    }
    updated = await call_tool(
        GitHubConnector,
        "github_update_pull_request",
        {**PR, "state": "closed"},
        handler=lambda r: fixture_response("pulls/update"),
    )
    assert json.loads(updated.request.content) == {"state": "closed"}
    merged = await call_tool(
        GitHubConnector,
        "github_merge_pull_request",
        {**PR, "merge_method": "squash"},
        handler=lambda r: fixture_response("pulls/merge"),
    )
    assert merged.request.method == "PUT"
    assert json.loads(merged.request.content) == {"merge_method": "squash"}
    assert merged.structured == {
        "merged": True,
        "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
        "message": "Pull Request successfully merged",
    }


async def test_add_pull_request_reviewers() -> None:
    result = await call_tool(
        GitHubConnector,
        "github_add_pull_request_reviewers",
        {**PR, "reviewers": ["octocat"]},
        handler=lambda r: fixture_response("pulls/request-reviewers"),
    )
    assert json.loads(result.request.content) == {"reviewers": ["octocat"]}
    assert result.structured["requested_reviewers"] == ["octocat", "hubot", "other_user"]  # type: ignore[index]
    none = await call_tool(
        GitHubConnector, "github_add_pull_request_reviewers", PR, handler=lambda r: httpx.Response(500)
    )
    assert none.is_error and none.requests == []
