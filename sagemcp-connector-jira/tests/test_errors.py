"""How Jira's failures reach the model: 401, 403 (and a missing OAuth scope, named), 404, 400/409/422 envelopes
naming the field, 429 with and without Retry-After (and Atlassian's X-RateLimit-Reset), 5xx and timeouts;
reads are retried when that is safe, writes never blindly."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest
from jira_support import CLOUD, OAUTH, TOKEN, Deployment, fixture_response, jira_error

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
from sagemcp.testing import ToolCall, call_tool
from sagemcp_jira import JiraConnector


def answers(*responses: httpx.Response | Exception) -> Callable[[httpx.Request], httpx.Response]:
    """A handler giving `responses` in order (the last one repeats); an exception is raised instead."""
    queue: Iterator[httpx.Response | Exception] = iter(responses)
    last = responses[-1]

    def handler(request: httpx.Request) -> httpx.Response:
        answer = next(queue, last)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler


async def run(
    tool: str,
    arguments: dict[str, object],
    handler: Callable[[httpx.Request], httpx.Response],
    deployment: Deployment = CLOUD,
) -> ToolCall:
    return await call_tool(
        JiraConnector, tool, arguments, handler=handler, config=deployment.config, credential=deployment.credential
    )


async def get_issue(handler: Callable[[httpx.Request], httpx.Response], deployment: Deployment = CLOUD) -> ToolCall:
    return await run("jira_get_issue", {"issue": "EX-1"}, handler, deployment)


async def test_401_says_to_reconnect_and_hides_the_token() -> None:
    result = await get_issue(answers(httpx.Response(401, json={"message": "Client must be authenticated"})))
    assert isinstance(result.error, UpstreamAuthError)
    assert "401" in result.text and "reconnect" in result.text
    assert TOKEN not in result.text
    assert len(result.requests) == 1


async def test_401_scope_mismatch_names_the_scope_the_tool_needs() -> None:
    response = httpx.Response(401, json={"code": 401, "message": "Unauthorized; scope does not match"})
    result = await run("jira_add_comment", {"issue": "EX-1", "body": "hi"}, answers(response), OAUTH)
    assert isinstance(result.error, UpstreamForbidden)
    assert result.error.missing_scopes == ["write:jira-work"]
    assert "`write:jira-work`" in result.text and "scope does not match" in result.text


async def test_403_missing_agile_scope_is_named() -> None:
    response = httpx.Response(403, json={"message": "OAuth 2.0 token is missing required scope"})
    result = await run("jira_list_sprints", {"board_id": 84}, answers(response), OAUTH)
    assert isinstance(result.error, UpstreamForbidden)
    assert result.error.missing_scopes == ["read:sprint:jira-software"]
    assert "`read:sprint:jira-software`" in result.text


async def test_403_without_a_scope_problem_is_a_permission_problem() -> None:
    response = jira_error(403, ["You do not have the permission to see the specified issue."])
    result = await get_issue(answers(response))
    assert isinstance(result.error, UpstreamForbidden)
    assert result.error.missing_scopes == []
    assert "You do not have the permission to see the specified issue." in result.text
    assert "permissions" in result.text


async def test_404_is_explained() -> None:
    response = jira_error(404, ["Issue does not exist or you do not have permission to see it."])
    result = await get_issue(answers(response))
    assert isinstance(result.error, UpstreamNotFound)
    assert "Issue does not exist or you do not have permission to see it." in result.text
    assert "check the identifiers" in result.text


async def test_400_field_errors_name_the_field_by_the_name_the_model_used() -> None:
    fields = [{"id": "customfield_10016", "name": "Story Points", "custom": True, "schema": {"type": "number"}}]

    def jira(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/field"):
            return httpx.Response(200, json=fields)
        return jira_error(
            400, [], {"customfield_10016": "Number value expected.", "summary": "You must specify a summary."}
        )

    result = await run(
        "jira_create_issue",
        {"project": "EX", "issue_type": "Story", "summary": "s", "fields": {"Story Points": "five"}},
        jira,
    )
    assert isinstance(result.error, UpstreamBadRequest)
    assert "customfield_10016 (Story Points): Number value expected." in result.text
    assert "summary: You must specify a summary." in result.text


@pytest.mark.parametrize("status", [409, 422])
async def test_409_and_422_envelopes_are_conflicts_naming_the_field(status: int) -> None:
    response = jira_error(status, ["The sprint cannot be started."], {"startDate": "A start date is required."})
    result = await run("jira_update_sprint", {"sprint_id": 37, "state": "active"}, answers(response))
    assert isinstance(result.error, UpstreamConflict)
    assert "startDate: A start date is required." in result.text
    assert "The sprint cannot be started." in result.text
    assert len(result.requests) == 1


async def test_429_with_retry_after_is_retried_for_reads() -> None:
    limited = httpx.Response(429, headers={"Retry-After": "1", "RateLimit-Reason": "jira-burst-based"})
    result = await get_issue(answers(limited, fixture_response("getIssue")))
    assert not result.is_error, result.text
    assert len(result.requests) == 2


async def test_a_long_retry_after_is_reported_not_waited_for() -> None:
    limited = httpx.Response(429, headers={"Retry-After": "120", "RateLimit-Reason": "jira-quota-based"})
    result = await get_issue(answers(limited))
    assert isinstance(result.error, UpstreamRateLimited)
    assert result.error.retry_after == 120
    assert "retry after 120 seconds" in result.text and "jira-quota-based" in result.text
    assert len(result.requests) == 1  # waiting 120 s is past the retry deadline


async def test_429_without_retry_after_uses_atlassians_reset_timestamp() -> None:
    reset = datetime.fromtimestamp(time.time() + 300, tz=UTC).isoformat().replace("+00:00", "Z")
    limited = httpx.Response(429, headers={"X-RateLimit-Reset": reset, "X-RateLimit-Remaining": "0"})
    result = await get_issue(answers(limited))
    assert isinstance(result.error, UpstreamRateLimited)
    assert result.error.retry_after is not None and 280 < result.error.retry_after <= 300
    assert "retry after" in result.text


async def test_429_without_any_hint_says_to_wait() -> None:
    result = await get_issue(answers(httpx.Response(429), fixture_response("getIssue")))
    assert not result.is_error  # a read is retried with backoff
    result = await get_issue(answers(httpx.Response(429)))
    assert isinstance(result.error, UpstreamRateLimited)
    assert "wait a minute" in result.text


async def test_searches_sent_as_post_are_retried_like_reads() -> None:
    limited = httpx.Response(429, headers={"Retry-After": "1"})
    result = await run(
        "jira_search_issues",
        {"jql": "project = EX"},
        answers(limited, fixture_response("searchAndReconsileIssuesUsingJqlPost")),
    )
    assert not result.is_error, result.text
    assert len(result.requests) == 2


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("jira_create_issue", {"project": "EX", "issue_type": "Bug", "summary": "once"}),
        ("jira_add_comment", {"issue": "EX-1", "body": "once"}),
        ("jira_add_worklog", {"issue": "EX-1", "time_spent": "1h"}),
        ("jira_create_sprint", {"board_id": 1, "name": "S"}),
    ],
)
async def test_writes_are_never_retried(tool: str, arguments: dict[str, object]) -> None:
    for failure in (httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(503), httpx.ReadTimeout("slow")):
        result = await run(tool, arguments, answers(failure, httpx.Response(201, json={"id": "1", "key": "EX-9"})))
        assert result.is_error, (tool, failure)
        assert len(result.requests) == 1, (tool, failure)


async def test_5xx_is_a_server_error_after_retries_for_reads() -> None:
    result = await get_issue(answers(httpx.Response(502, text="<html>Bad gateway</html>")))
    assert isinstance(result.error, UpstreamServerError)
    assert len(result.requests) == 3  # the first try and two retries
    assert "try again later" in result.text


async def test_500_is_not_retried() -> None:
    result = await get_issue(answers(jira_error(500, ["Internal server error"])))
    assert isinstance(result.error, UpstreamServerError)
    assert len(result.requests) == 1


async def test_timeouts_are_retried_for_reads_and_then_reported() -> None:
    result = await get_issue(answers(httpx.ReadTimeout("slow"), fixture_response("getIssue")))
    assert not result.is_error
    result = await get_issue(answers(httpx.ReadTimeout("slow")))
    assert isinstance(result.error, UpstreamUnavailable)
    assert "could not reach jira" in result.text
    assert TOKEN not in result.text
