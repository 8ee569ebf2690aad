"""How Google's failures reach the model: 401, 403 (missing scope, rate limits), 404, 409, 400 validation,
429 with and without Retry-After, 5xx and timeouts; reads retried when safe, writes never blindly."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from google_support import FakeGoogle

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
from sagemcp_google import GoogleConnector

FILE = {"file_id": "1aBcDocRoadmap2026xYz"}
DRIVE_SCOPE = "https://www.googleapis.com/auth/drive"


def envelope(code: int, status: str, message: str, reason: str, domain: str = "global") -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "status": status,
            "message": message,
            "errors": [{"domain": domain, "reason": reason, "message": message}],
        }
    }


def answers(*responses: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    queue: Iterator[httpx.Response] = iter(responses)
    last = responses[-1]
    fake = FakeGoogle()

    def handler(request: httpx.Request) -> httpx.Response:
        fake.validator.validate_request(request)  # every request, failing or not, is a described one
        response = next(queue, None)
        return response if response is not None else (fake(request) if last is None else last)

    return handler


def then_fixture(*first: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    queue = list(first)
    fake = FakeGoogle()

    def handler(request: httpx.Request) -> httpx.Response:
        return queue.pop(0) if queue else fake(request)

    return handler


async def get_file(handler: Callable[[httpx.Request], httpx.Response]):  # type: ignore[no-untyped-def]
    return await call_tool(GoogleConnector, "google_get_file", FILE, handler=handler)


async def test_401_says_to_reconnect() -> None:
    body = envelope(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.", "authError")
    result = await get_file(answers(httpx.Response(401, json=body)))
    assert isinstance(result.error, UpstreamAuthError)
    assert "invalid authentication credentials" in result.text and "reconnect" in result.text
    assert "test-token" not in result.text


async def test_403_insufficient_permissions_names_the_missing_scope() -> None:
    body = envelope(
        403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.", "insufficientPermissions"
    )
    body["error"]["details"] = [
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT"}
    ]
    challenge = f'Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="{DRIVE_SCOPE}"'
    result = await call_tool(
        GoogleConnector,
        "google_update_file",
        {**FILE, "name": "x"},
        handler=answers(httpx.Response(403, json=body, headers={"WWW-Authenticate": challenge})),
    )
    assert isinstance(result.error, UpstreamForbidden)
    assert result.error.missing_scopes == [DRIVE_SCOPE]
    assert f"`{DRIVE_SCOPE}`" in result.text and "reconnect Google" in result.text
    assert len(result.requests) == 1


async def test_403_insufficient_scope_without_a_challenge_names_the_tools_scope() -> None:
    body = envelope(
        403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.", "insufficientPermissions"
    )
    result = await call_tool(
        GoogleConnector,
        "google_get_spreadsheet",
        {"spreadsheet_id": "abc"},
        handler=answers(httpx.Response(403, json=body)),
    )
    assert isinstance(result.error, UpstreamForbidden)
    assert result.error.missing_scopes == ["https://www.googleapis.com/auth/spreadsheets.readonly"]


async def test_403_without_a_scope_problem_is_a_permission_problem() -> None:
    body = envelope(
        403,
        "PERMISSION_DENIED",
        "The user does not have sufficient permissions for this file.",
        "insufficientFilePermissions",
    )
    result = await get_file(answers(httpx.Response(403, json=body)))
    assert isinstance(result.error, UpstreamForbidden)
    assert result.error.missing_scopes == []
    assert "does not have sufficient permissions for this file" in result.text


@pytest.mark.parametrize("reason", ["userRateLimitExceeded", "rateLimitExceeded"])
async def test_403_rate_limits_are_retried_for_reads(reason: str) -> None:
    limited = httpx.Response(
        403, json=envelope(403, "PERMISSION_DENIED", "User rate limit exceeded.", reason, "usageLimits")
    )
    result = await get_file(then_fixture(limited))
    assert not result.is_error, result.text
    assert len(result.requests) == 2


async def test_403_rate_limit_that_persists_is_reported_with_its_wait() -> None:
    limited = httpx.Response(
        403,
        json=envelope(403, "PERMISSION_DENIED", "Rate Limit Exceeded", "rateLimitExceeded", "usageLimits"),
        headers={"Retry-After": "120"},
    )
    result = await get_file(answers(limited))
    assert isinstance(result.error, UpstreamRateLimited)
    assert result.error.retry_after == 120
    assert "rate limit" in result.text and "120 seconds" in result.text
    assert len(result.requests) == 1  # 120 s is past the retry deadline


async def test_daily_quota_is_a_limit_that_says_when_it_resets() -> None:
    body = envelope(403, "PERMISSION_DENIED", "Daily Limit Exceeded", "dailyLimitExceeded", "usageLimits")
    result = await get_file(answers(httpx.Response(403, json=body)))
    assert isinstance(result.error, UpstreamRateLimited)
    assert "midnight Pacific time" in result.text


async def test_429_with_retry_after_is_retried_for_reads() -> None:
    limited = httpx.Response(
        429,
        json=envelope(429, "RESOURCE_EXHAUSTED", "Quota exceeded.", "rateLimitExceeded"),
        headers={"Retry-After": "1"},
    )
    result = await get_file(then_fixture(limited))
    assert not result.is_error and len(result.requests) == 2


async def test_429_without_retry_after_backs_off_then_reports() -> None:
    limited = httpx.Response(429, json=envelope(429, "RESOURCE_EXHAUSTED", "Quota exceeded.", "rateLimitExceeded"))
    result = await get_file(answers(limited))
    assert isinstance(result.error, UpstreamRateLimited)
    assert result.error.retry_after is None and "wait a while" in result.text
    assert len(result.requests) == 3  # the first try and core's two retries


@pytest.mark.parametrize(
    ("tool_name", "arguments"),
    [
        ("google_create_folder", {"name": "x"}),
        ("google_append_rows", {"spreadsheet_id": "abc", "range": "A1", "values": [[1]]}),
        ("google_create_event", {"summary": "x", "start": "2026-03-03", "end": "2026-03-04"}),
        ("google_send_message", {"to": ["ben@example.com"], "subject": "s", "body": "b"}),
    ],
)
async def test_writes_are_never_retried(tool_name: str, arguments: dict[str, Any]) -> None:
    for response in (
        httpx.Response(
            429,
            json=envelope(429, "RESOURCE_EXHAUSTED", "Quota exceeded.", "rateLimitExceeded"),
            headers={"Retry-After": "1"},
        ),
        httpx.Response(503, json=envelope(503, "UNAVAILABLE", "The service is currently unavailable.", "backendError")),
        httpx.Response(
            403, json=envelope(403, "PERMISSION_DENIED", "User rate limit exceeded.", "userRateLimitExceeded")
        ),
    ):
        result = await call_tool(GoogleConnector, tool_name, arguments, handler=then_fixture(response))
        assert result.is_error
        assert len(result.requests) == 1, (tool_name, response.status_code)


async def test_404_names_the_path() -> None:
    body = envelope(404, "NOT_FOUND", "File not found: 1aBcDocRoadmap2026xYz.", "notFound")
    result = await get_file(answers(httpx.Response(404, json=body)))
    assert isinstance(result.error, UpstreamNotFound)
    assert "File not found" in result.text and "/drive/v3/files/1aBcDocRoadmap2026xYz" in result.text


async def test_400_validation_shows_googles_message() -> None:
    body = envelope(
        400,
        "INVALID_ARGUMENT",
        "Invalid requests[0].insertText: Index 900 must be less than the end index of the referenced segment, 120.",
        "badRequest",
    )
    result = await call_tool(
        GoogleConnector,
        "google_batch_update_document",
        {"document_id": "abc", "requests": [{"insertText": {"location": {"index": 900}, "text": "x"}}]},
        handler=answers(httpx.Response(400, json=body)),
    )
    assert isinstance(result.error, UpstreamBadRequest)
    assert "Index 900 must be less than the end index" in result.text


async def test_409_and_412_conflicts() -> None:
    body = envelope(409, "ABORTED", "The document was modified: required revision ALm37 is not the latest.", "aborted")
    result = await call_tool(
        GoogleConnector,
        "google_batch_update_document",
        {
            "document_id": "abc",
            "requests": [{"insertText": {"location": {"index": 1}, "text": "x"}}],
            "required_revision_id": "ALm37",
        },
        handler=answers(httpx.Response(409, json=body)),
    )
    assert isinstance(result.error, UpstreamConflict)
    assert "not the latest" in result.text


async def test_5xx_is_retried_for_reads_and_then_reported() -> None:
    failing = httpx.Response(500, json=envelope(500, "INTERNAL", "Internal error encountered.", "backendError"))
    result = await get_file(answers(failing))
    assert isinstance(result.error, UpstreamServerError)
    assert "Internal error encountered" in result.text
    recovered = await get_file(then_fixture(httpx.Response(503)))
    assert not recovered.is_error and len(recovered.requests) == 2


async def test_a_timeout_is_reported_and_a_read_is_retried() -> None:
    def timing_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    result = await get_file(timing_out)
    assert isinstance(result.error, UpstreamUnavailable)
    assert "no answer" in result.text
    assert len(result.requests) == 3


async def test_a_timed_out_send_is_not_repeated() -> None:
    def timing_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    result = await call_tool(
        GoogleConnector,
        "google_send_message",
        {"to": ["b@example.com"], "subject": "s", "body": "b"},
        handler=timing_out,
    )
    assert result.is_error and len(result.requests) == 1


@pytest.mark.parametrize(
    ("tool_name", "arguments", "field"),
    [
        ("google_get_file", {"file_id": "../../etc"}, "file_id"),
        ("google_get_event", {"event_id": "a/b"}, "event_id"),
        ("google_read_range", {"spreadsheet_id": "x", "range": "A1", "max_rows": 5000}, "max_rows"),
        (
            "google_send_message",
            {"to": ["b@example.com"], "subject": "a\r\nBcc: evil@example.com", "body": "b"},
            "subject",
        ),
        ("google_list_files", {"limit": 1000}, "limit"),
    ],
)
async def test_bad_arguments_never_reach_google(tool_name: str, arguments: dict[str, Any], field: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    result = await call_tool(GoogleConnector, tool_name, arguments, handler=handler)
    assert result.is_error and field in result.text
    assert result.requests == []
