"""The text the model reads: compact Markdown beside `structuredContent`, never the same JSON twice."""

from __future__ import annotations

import base64
import json
import typing
from typing import Any

import httpx
import pytest
from github_cases import CASES
from github_support import FakeGitHub, fixture_body, fixture_response
from test_pagination import paged_issues

from sagemcp import Page
from sagemcp.markdown import SupportsMarkdown
from sagemcp.testing import OpenAPIValidator, call_tool
from sagemcp_github import GitHubConnector

REPO = {"owner": "octocat", "repo": "Hello-World"}
PR = {**REPO, "pull_number": 1347}


def _returns(name: str) -> Any:
    return typing.get_type_hints(GitHubConnector.tools[name].func)["return"]


def test_every_list_and_every_result_with_a_body_renders_markdown() -> None:
    with_body = {"Issue", "PullRequest", "Comment", "Review", "Release", "FileContent", "Diff", "JobLogs"}
    with_body |= {"CommitDetail", "Comparison", "CheckStatus", "CodeScanningAlert", "DependabotAlert", "RateLimits"}
    for name in GitHubConnector.tools:
        returned = _returns(name)
        if issubclass(returned, Page) or returned.__name__ in with_body:
            assert issubclass(returned, SupportsMarkdown) and "to_markdown" in vars(returned), name


MARKDOWN_CASES = [(name, args) for name, args in CASES if issubclass(_returns(name), SupportsMarkdown)]


@pytest.mark.parametrize(("tool_name", "arguments"), MARKDOWN_CASES, ids=[name for name, _ in MARKDOWN_CASES])
async def test_markdown_results_are_not_json(
    tool_name: str, arguments: dict[str, Any], github_description: OpenAPIValidator
) -> None:
    result = await call_tool(GitHubConnector, tool_name, arguments, handler=FakeGitHub(github_description))
    assert not result.is_error, result.text
    assert result.structured is not None
    with pytest.raises(ValueError):
        json.loads(result.text)
    assert result.text.startswith(("**", "```")), result.text[:80]


async def test_issue_list_is_a_table_with_the_next_cursor_in_the_footer() -> None:
    result = await call_tool(GitHubConnector, "github_list_issues", {**REPO, "limit": 20}, handler=paged_issues(45))
    lines = result.text.splitlines()
    assert lines[0] == "**Issues** (20)"
    assert lines[2].startswith("| # | title | state | author |")
    assert lines[4].startswith("| 45 | Issue 45 | open | octocat |")
    cursor = result.structured["next_cursor"]  # type: ignore[index]
    assert lines[-1] == f"_More results: call again with cursor=`{cursor}`._"


async def test_table_cells_cannot_break_the_table() -> None:
    issues = fixture_body("issues/list-for-repo.30")[:1]
    issues[0]["title"] = "a | b\nsecond line"
    result = await call_tool(
        GitHubConnector, "github_list_issues", REPO, handler=lambda r: httpx.Response(200, json=issues)
    )
    row = result.text.splitlines()[4]
    assert "a \\| b second line" in row and row.count(" | ") == 8 - 1
    assert result.structured["items"][0]["title"] == "a | b\nsecond line"  # type: ignore[index]


async def test_an_issue_shows_its_whole_body_under_one_line_of_facts() -> None:
    issue = fixture_body("issues/get")
    issue.pop("pull_request", None)
    issue["body"] = "## Steps\n\n1. Open the page\n2. See the error\n\n```\ntrace\n```"
    result = await call_tool(
        GitHubConnector,
        "github_get_issue",
        {**REPO, "issue_number": 1347},
        handler=lambda r: httpx.Response(200, json=issue),
    )
    head, facts, body = result.text.split("\n\n", 2)
    assert head == "**Issue #1347: Found a bug**"
    assert facts.startswith("open") and "author: @octocat" in facts and "labels: bug" in facts
    assert body == issue["body"]


async def test_comments_are_bullets_with_author_id_and_body() -> None:
    comments = [dict(fixture_body("issues/list-comments")[0], id=n, body=f"comment {n}") for n in (7, 8)]
    result = await call_tool(
        GitHubConnector,
        "github_list_issue_comments",
        {**REPO, "issue_number": 1347},
        handler=lambda r: httpx.Response(200, json=comments),
    )
    assert result.text.startswith("**Comments** (2)")
    for n in (7, 8):
        assert "- @octocat · " in result.text and f"id: {n}" in result.text and f"  comment {n}" in result.text


async def test_file_text_is_fenced_so_that_its_own_fences_cannot_close_it() -> None:
    content = fixture_body("repos/get-content")
    text = "# Doc\n\n```python\nprint(1)\n```\n"
    content.update(
        content=base64.b64encode(text.encode()).decode(), encoding="base64", path="docs/a.md", size=len(text)
    )
    result = await call_tool(
        GitHubConnector,
        "github_get_file_content",
        {**REPO, "path": "docs/a.md"},
        handler=lambda r: httpx.Response(200, json=content),
    )
    assert f"````markdown\n{text}````" in result.text
    assert f"sha: {content['sha']}" in result.text  # what github_update_file needs


async def test_a_directory_is_a_table_of_entries() -> None:
    result = await call_tool(
        GitHubConnector,
        "github_get_file_content",
        {**REPO, "path": "docs"},
        handler=lambda r: fixture_response("repos/get-content.directory"),
    )
    assert "(dir)" in result.text.splitlines()[0]
    assert "| name | type | size |" in result.text


async def test_a_diff_is_one_diff_block() -> None:
    result = await call_tool(
        GitHubConnector,
        "github_get_pull_request_diff",
        PR,
        handler=lambda r: httpx.Response(200, text="diff --git a/x b/x\n-old\n+new\n"),
    )
    assert result.text == "```diff\ndiff --git a/x b/x\n-old\n+new\n```"


async def test_ci_status_names_the_failing_checks_first(github_description: OpenAPIValidator) -> None:
    def failing(request: httpx.Request) -> httpx.Response:
        body = fixture_body("checks/list-for-ref")
        body["check_runs"][0].update(name="tests", status="completed", conclusion="failure")
        return httpx.Response(200, json=body)

    fake = FakeGitHub(github_description, {"checks/list-for-ref": failing})
    result = await call_tool(GitHubConnector, "github_get_pull_request_status", PR, handler=fake)
    lines = result.text.splitlines()
    assert lines[0].startswith("**CI status of pull request #1347: failure**")
    assert lines[2] == "Failing: tests"


async def test_search_results_say_how_many_matched_in_all(github_description: OpenAPIValidator) -> None:
    result = await call_tool(
        GitHubConnector, "github_search_issues", {"query": "is:open"}, handler=FakeGitHub(github_description)
    )
    total = result.structured["total_count"]  # type: ignore[index]
    assert result.text.startswith(f"**Issues and pull requests** ({len(result.structured['items'])} of {total:,})")  # type: ignore[index]
