"""How GitHub's failures reach the model: 401, 403 (missing scope, rate limits), 404, 409/422, 429, 5xx.

Status mapping, `Retry-After` and scope detection are core's; these tests pin what a
GitHub user sees, including the connector's own explanation of GitHub's 404.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from github_support import fixture_response

from sagemcp import Credential
from sagemcp.errors import (
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamConflict,
    UpstreamForbidden,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamServerError,
)
from sagemcp.testing import call_tool
from sagemcp_github import GitHubConnector

REPO = {"owner": "octocat", "repo": "Hello-World"}
TOKEN = "ghp_secret_test_token_0123456789"
CREDENTIAL = Credential(tenant_id="test", provider="github", kind="bearer", access_token=TOKEN)
DOCS = "https://docs.github.com/rest"


def answers(*responses: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    """A handler giving `responses` in order (the last one repeats)."""
    queue: Iterator[httpx.Response] = iter(responses)
    last = responses[-1]

    def handler(request: httpx.Request) -> httpx.Response:
        return next(queue, last)

    return handler


async def get_issue(handler: Callable[[httpx.Request], httpx.Response]):  # type: ignore[no-untyped-def]
    return await call_tool(
        GitHubConnector, "github_get_issue", {**REPO, "issue_number": 1}, handler=handler, credential=CREDENTIAL
    )


async def test_401_says_to_reconnect() -> None:
    result = await get_issue(
        answers(httpx.Response(401, json={"message": "Bad credentials", "documentation_url": DOCS}))
    )
    assert result.is_error
    assert isinstance(result.error, UpstreamAuthError)
    assert "401" in result.text and "Bad credentials" in result.text and "reconnect" in result.text
    assert TOKEN not in result.text


async def test_403_names_the_missing_scope() -> None:
    response = httpx.Response(
        403,
        json={
            "message": "You need at least read:org scope or user scope to list your organizations.",
            "documentation_url": DOCS,
        },
        headers={"X-OAuth-Scopes": "repo", "X-Accepted-OAuth-Scopes": "read:org"},
    )
    result = await call_tool(
        GitHubConnector, "github_list_organizations", {}, handler=answers(response), credential=CREDENTIAL
    )
    assert result.is_error
    assert isinstance(result.error, UpstreamForbidden)
    assert result.error.missing_scopes == ["read:org"]
    assert "`read:org`" in result.text
    assert len(result.requests) == 1


async def test_403_without_scope_headers_is_a_permission_problem() -> None:
    response = httpx.Response(403, json={"message": "Resource not accessible by personal access token"})
    result = await get_issue(answers(response))
    assert isinstance(result.error, UpstreamForbidden)
    assert result.error.missing_scopes == []
    assert "Resource not accessible by personal access token" in result.text


async def test_403_secondary_rate_limit_reports_retry_after() -> None:
    response = httpx.Response(
        403,
        json={"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."},
        headers={"Retry-After": "120"},
    )
    result = await get_issue(answers(response))
    assert isinstance(result.error, UpstreamRateLimited)
    assert result.error.retry_after == 120
    assert "secondary rate limit" in result.text and "120 seconds" in result.text
    assert len(result.requests) == 1  # waiting 120 s is past the retry deadline: no retry


async def test_short_secondary_limit_is_retried_for_reads() -> None:
    limited = httpx.Response(403, json={"message": "secondary rate limit"}, headers={"Retry-After": "1"})
    result = await get_issue(answers(limited, fixture_response("issues/get")))
    assert not result.is_error, result.text
    assert len(result.requests) == 2


async def test_writes_are_not_retried_on_a_rate_limit() -> None:
    limited = httpx.Response(429, json={"message": "secondary rate limit"}, headers={"Retry-After": "1"})
    result = await call_tool(
        GitHubConnector,
        "github_create_issue",
        {**REPO, "title": "Found a bug"},
        handler=answers(limited, fixture_response("issues/create")),
        credential=CREDENTIAL,
    )
    assert isinstance(result.error, UpstreamRateLimited)
    assert len(result.requests) == 1


async def test_primary_rate_limit_exhausted() -> None:
    reset = int(time.time()) + 1800
    response = httpx.Response(
        403,
        json={"message": "API rate limit exceeded for user ID 1."},
        headers={"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
    )
    result = await get_issue(answers(response))
    assert isinstance(result.error, UpstreamRateLimited)
    assert result.error.retry_after is not None and 1700 < result.error.retry_after <= 1800
    assert "rate limit" in result.text


async def test_429_is_rate_limited() -> None:
    result = await get_issue(
        answers(httpx.Response(429, json={"message": "Too many requests"}, headers={"Retry-After": "90"}))
    )
    assert isinstance(result.error, UpstreamRateLimited)
    assert result.error.retry_after == 90


async def test_404_explains_private_resources() -> None:
    result = await get_issue(answers(httpx.Response(404, json={"message": "Not Found", "documentation_url": DOCS})))
    assert isinstance(result.error, UpstreamNotFound)
    assert "not found, or the token cannot see it" in result.text
    assert "/repos/octocat/Hello-World/issues/1" in result.text


async def test_404_names_a_missing_scope_when_github_says_which() -> None:
    response = httpx.Response(
        404, json={"message": "Not Found"}, headers={"X-OAuth-Scopes": "read:user", "X-Accepted-OAuth-Scopes": "repo"}
    )
    result = await get_issue(answers(response))
    assert isinstance(result.error, UpstreamNotFound)
    assert "not found, or the token cannot see it" in result.text
    assert "`repo`" in result.text


async def test_422_shows_githubs_validation_errors() -> None:
    response = httpx.Response(
        422,
        json={
            "message": "Validation Failed",
            "errors": [{"resource": "Issue", "field": "title", "code": "missing_field"}],
            "documentation_url": DOCS,
        },
    )
    result = await call_tool(
        GitHubConnector,
        "github_create_issue",
        {**REPO, "title": "x"},
        handler=answers(response),
        credential=CREDENTIAL,
    )
    assert isinstance(result.error, UpstreamConflict)
    assert "Validation Failed" in result.text and "Issue title missing_field" in result.text


async def test_405_not_mergeable_is_reported_and_the_merge_is_not_retried() -> None:
    response = httpx.Response(405, json={"message": "Pull Request is not mergeable"})
    result = await call_tool(
        GitHubConnector,
        "github_merge_pull_request",
        {**REPO, "pull_number": 1},
        handler=answers(response),
        credential=CREDENTIAL,
    )
    assert isinstance(result.error, UpstreamBadRequest)
    assert "Pull Request is not mergeable" in result.text


async def test_merge_is_never_retried_on_a_gateway_error() -> None:
    result = await call_tool(
        GitHubConnector,
        "github_merge_pull_request",
        {**REPO, "pull_number": 1},
        handler=answers(httpx.Response(502), fixture_response("pulls/merge")),
        credential=CREDENTIAL,
    )
    assert isinstance(result.error, UpstreamServerError)
    assert len(result.requests) == 1


async def test_reads_are_retried_on_a_gateway_error() -> None:
    result = await get_issue(answers(httpx.Response(502), fixture_response("issues/get")))
    assert not result.is_error, result.text
    assert len(result.requests) == 2


async def test_409_empty_repository() -> None:
    response = httpx.Response(409, json={"message": "Git Repository is empty.", "documentation_url": DOCS})
    result = await call_tool(
        GitHubConnector, "github_list_commits", REPO, handler=answers(response), credential=CREDENTIAL
    )
    assert isinstance(result.error, UpstreamConflict)
    assert "Git Repository is empty." in result.text


async def test_invalid_json_is_a_clear_error() -> None:
    result = await get_issue(answers(httpx.Response(200, text="<html>oops</html>")))
    assert result.is_error
    assert "invalid JSON" in result.text


async def test_wrong_shape_is_a_clear_error() -> None:
    result = await get_issue(answers(httpx.Response(200, json=[1, 2, 3])))
    assert result.is_error
    assert (
        "github returned an unexpected response to GET /repos/octocat/Hello-World/issues/1: expected a JSON "
        "object, got a JSON list" in result.text
    )


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({**REPO, "issue_number": 0}, "issue_number"),
        ({"owner": "octo/cat", "repo": "x", "issue_number": 1}, "owner"),
        ({"owner": "octocat", "repo": "..", "issue_number": 1}, "repo"),
        ({**REPO, "issue_number": 1, "extra": True}, "extra"),
    ],
)
async def test_bad_arguments_never_reach_github(arguments: dict[str, object], field: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    result = await call_tool(GitHubConnector, "github_get_issue", arguments, handler=handler, credential=CREDENTIAL)
    assert result.is_error and field in result.text
    assert result.requests == []


async def test_dot_segments_in_file_paths_are_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    result = await call_tool(
        GitHubConnector,
        "github_get_file_content",
        {**REPO, "path": "docs/../../secrets"},
        handler=handler,
        credential=CREDENTIAL,
    )
    assert result.is_error and "'..'" in result.text
    assert result.requests == []
