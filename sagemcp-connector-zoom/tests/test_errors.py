"""How Zoom's failures reach the model: its error envelope, scope errors, 401, 403, 404, 409/422, 429, 5xx, timeouts.

Zoom answers `{"code": ..., "message": ...}` with an HTTP status; the code decides what kind of
error it is (a missing scope comes as HTTP 400, code 4711). Reads are retried on 429 / 5xx
when the wait is short; writes never are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from zoom_support import FakeZoom, fixture, zoom_error

from sagemcp import Credential
from sagemcp.errors import (
    InvalidArguments,
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamConflict,
    UpstreamForbidden,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamServerError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from sagemcp.testing import OpenAPIValidator, ToolCall, call_tool
from sagemcp_zoom import ZoomConnector

TOKEN = "zoom_secret_test_token_0123456789"
CREDENTIAL = Credential(tenant_id="test", provider="zoom", kind="oauth2", access_token=TOKEN)  # type: ignore[arg-type]
MEETING = {"meeting_id": 85746065432}
CREATE = {"topic": "Sync", "start_time": "2026-06-02T09:30:00", "timezone": "Europe/Paris"}


def answers(*responses: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    """A handler giving `responses` in order (the last one repeats)."""
    queue: Iterator[httpx.Response] = iter(responses)
    last = responses[-1]
    return lambda request: next(queue, last)


async def call(tool: str, arguments: dict[str, object], handler: Callable[[httpx.Request], httpx.Response]) -> ToolCall:
    result = await call_tool(ZoomConnector, tool, arguments, handler=handler, credential=CREDENTIAL)
    assert TOKEN not in result.text
    return result


async def get_meeting(*responses: httpx.Response) -> ToolCall:
    return await call("zoom_get_meeting", MEETING, answers(*responses))


async def test_401_invalid_token_says_to_reconnect() -> None:
    result = await get_meeting(zoom_error(401, 124, "Invalid access token."))
    assert isinstance(result.error, UpstreamAuthError)
    assert "code 124: Invalid access token." in result.text and "reconnect Zoom" in result.text


async def test_a_missing_scope_is_named_though_zoom_answers_400() -> None:
    message = "Invalid access token, does not contain scopes:[meeting:read:meeting, meeting:read:meeting:admin]."
    result = await get_meeting(zoom_error(400, 4711, message))
    assert isinstance(result.error, UpstreamForbidden)
    assert result.error.missing_scopes == ["meeting:read:meeting", "meeting:read:meeting:admin"]
    assert "`meeting:read:meeting` or `meeting:read:meeting:admin`" in result.text
    assert "reconnect Zoom" in result.text
    assert len(result.requests) == 1


async def test_403_no_permission() -> None:
    result = await get_meeting(zoom_error(400, 200, "No permission."))
    assert isinstance(result.error, UpstreamForbidden)
    assert result.error.missing_scopes == []
    assert "No permission." in result.text and "role and plan" in result.text
    result = await get_meeting(zoom_error(403, 0, "Forbidden"))
    assert isinstance(result.error, UpstreamForbidden)


async def test_404_meeting_not_found_says_what_to_check() -> None:
    result = await get_meeting(zoom_error(404, 3001, "Meeting does not exist: 85746065432."))
    assert isinstance(result.error, UpstreamNotFound)
    assert result.error.upstream_code == "3001"
    assert "Meeting does not exist" in result.text and "zoom_list_meetings" in result.text
    assert "GET /v2/meetings/85746065432" in result.text


async def test_404_user_not_found() -> None:
    result = await call(
        "zoom_get_user",
        {"user_id": "nobody@example.com"},
        answers(zoom_error(404, 1001, "User does not exist: nobody@example.com.")),
    )
    assert isinstance(result.error, UpstreamNotFound) and "zoom_list_users" in result.text


async def test_400_validation_lists_each_field() -> None:
    body = {
        "code": 300,
        "message": "Validation Failed.",
        "errors": [{"field": "start_time", "message": "Invalid field."}, {"field": "duration", "message": "Too long."}],
    }
    result = await call("zoom_create_meeting", CREATE, answers(httpx.Response(400, json=body)))
    assert isinstance(result.error, UpstreamBadRequest)
    assert "start_time: Invalid field.; duration: Too long." in result.text
    assert len(result.requests) == 1


@pytest.mark.parametrize("status", [409, 422])
async def test_409_and_422_are_conflicts(status: int) -> None:
    body = {"code": 3027, "message": "Registrant already exists.", "errors": [{"field": "email", "message": "taken"}]}
    arguments = {**MEETING, "action": "approve", "registrant_ids": ["abc"]}
    result = await call("zoom_update_meeting_registrants", arguments, answers(httpx.Response(status, json=body)))
    assert isinstance(result.error, UpstreamConflict)
    assert "Registrant already exists." in result.text and "email: taken" in result.text


async def test_429_with_retry_after_is_retried_for_reads() -> None:
    limited = zoom_error(429, 429, "You have exceeded the per-second rate limit.", **{"Retry-After": "1"})
    result = await get_meeting(limited, httpx.Response(200, json=fixture("meeting")))
    assert not result.is_error, result.text
    assert len(result.requests) == 2


async def test_429_names_the_category_and_the_wait() -> None:
    limited = zoom_error(
        429,
        429,
        "You have exceeded the per-second rate limit.",
        **{"Retry-After": "90", "X-RateLimit-Category": "Medium", "X-RateLimit-Type": "QPS"},
    )
    result = await get_meeting(limited)
    assert isinstance(result.error, UpstreamRateLimited)
    assert result.error.retry_after == 90
    assert "(Medium API, QPS)" in result.text
    assert len(result.requests) == 1  # 90 s is past the retry deadline


async def test_429_without_retry_after() -> None:
    result = await get_meeting(httpx.Response(429, text="Too Many Requests"))
    assert isinstance(result.error, UpstreamRateLimited)
    assert result.error.retry_after is None
    assert "wait a few seconds" in result.text


async def test_daily_limit_waits_until_zoom_says() -> None:
    reset = (datetime.now(UTC) + timedelta(hours=5)).replace(microsecond=0)
    limited = zoom_error(
        429,
        429,
        "User has reached the maximum daily rate limit for this API.",
        **{"Retry-After": reset.strftime("%Y-%m-%dT%H:%M:%SZ"), "X-RateLimit-Type": "Daily-limit"},
    )
    result = await call("zoom_create_meeting", CREATE, answers(limited))
    assert isinstance(result.error, UpstreamRateLimited)
    assert result.error.retry_after is not None and 5 * 3600 - 60 < result.error.retry_after <= 5 * 3600
    assert "daily limit resets at 00:00 UTC" in result.text


async def test_daily_limit_without_retry_after_waits_for_midnight_utc() -> None:
    limited = zoom_error(429, 429, "daily limit", **{"X-RateLimit-Type": "Daily-limit"})
    result = await get_meeting(limited)
    assert isinstance(result.error, UpstreamRateLimited)
    now = datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert result.error.retry_after is not None
    assert abs(result.error.retry_after - (midnight - now).total_seconds()) < 60


async def test_writes_are_never_retried() -> None:
    limited = zoom_error(429, 429, "slow down", **{"Retry-After": "1"})
    result = await call(
        "zoom_create_meeting", CREATE, answers(limited, httpx.Response(201, json=fixture("meetingCreate")))
    )
    assert isinstance(result.error, UpstreamRateLimited)
    assert len(result.requests) == 1
    result = await call(
        "zoom_create_meeting", CREATE, answers(httpx.Response(502), httpx.Response(201, json=fixture("meetingCreate")))
    )
    assert isinstance(result.error, UpstreamServerError)
    assert len(result.requests) == 1


async def test_a_delete_is_never_retried() -> None:
    result = await call("zoom_delete_meeting", MEETING, answers(httpx.Response(503), httpx.Response(204)))
    assert isinstance(result.error, UpstreamServerError)
    assert len(result.requests) == 1


async def test_5xx_reads_are_retried_then_reported() -> None:
    result = await get_meeting(httpx.Response(502), httpx.Response(200, json=fixture("meeting")))
    assert not result.is_error and len(result.requests) == 2
    result = await get_meeting(httpx.Response(500, json={"code": 500, "message": "Internal error"}))
    assert isinstance(result.error, UpstreamServerError)
    assert "Internal error" in result.text and "try again later" in result.text


async def test_a_timeout_is_reported() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    result = await call("zoom_get_meeting", MEETING, slow)
    # Core reports an answer that never came as a timeout or as an unavailable upstream, both retryable.
    assert isinstance(result.error, UpstreamTimeout | UpstreamUnavailable) and result.error.retryable
    assert "GET /v2/meetings/85746065432" in result.text
    assert len(result.requests) == 3  # a read: retried twice


async def test_invalid_json_is_a_clear_error() -> None:
    result = await get_meeting(httpx.Response(200, text="<html>maintenance</html>"))
    assert result.is_error and "invalid JSON" in result.text


@pytest.mark.parametrize(
    ("tool", "arguments", "field"),
    [
        ("zoom_get_meeting", {"meeting_id": 0}, "meeting_id"),
        ("zoom_get_past_meeting", {"meeting": "../users"}, "meeting"),
        ("zoom_get_user", {"user_id": "a/b"}, "user_id"),
        ("zoom_create_meeting", {"topic": "x", "start_time": "2026-06-02T09:30:00"}, "timezone"),
        (
            "zoom_create_meeting",
            {"topic": "x", "start_time": "2026-06-02T09:30:00", "timezone": "Mars/Olympus"},
            "timezone",
        ),
        ("zoom_create_meeting", {"topic": "x"}, "start_time"),
        ("zoom_create_meeting", {"topic": "x", "instant": True, "start_time": "2026-06-02T09:30:00Z"}, "instant"),
        ("zoom_create_meeting", {**CREATE, "recurrence": {"every": "week"}}, "weekdays"),
        (
            "zoom_create_meeting",
            {**CREATE, "recurrence": {"every": "month", "interval": 5, "day_of_month": 1}},
            "interval",
        ),
        ("zoom_create_meeting", {**CREATE, "passcode": "far too long passcode"}, "passcode"),
        ("zoom_create_meeting", {**CREATE, "agenda": "word " * 700}, "agenda"),
        ("zoom_update_meeting", {"meeting_id": 1}, "topic"),
        ("zoom_list_meetings", {"from_date": "2026-01-02"}, "from_date"),
        ("zoom_list_recordings", {"from_date": "2023-01-01", "to_date": "2026-01-01"}, "from_date"),
        ("zoom_list_meetings", {"limit": 101}, "limit"),
    ],
)
async def test_bad_arguments_never_reach_zoom(
    tool: str, arguments: dict[str, object], field: str, zoom_description: OpenAPIValidator
) -> None:
    zoom = FakeZoom(zoom_description)
    result = await call_tool(ZoomConnector, tool, arguments, handler=zoom)
    assert result.is_error and isinstance(result.error, InvalidArguments)
    assert field in result.text
    assert result.requests == []


async def test_the_token_never_appears_in_errors() -> None:
    echo = httpx.Response(400, json={"code": 300, "message": f"Bad token {TOKEN} in request"})
    result = await get_meeting(echo)  # `call` asserts that the token is absent from the text
    assert isinstance(result.error, UpstreamBadRequest)
    assert "[redacted]" in result.text
