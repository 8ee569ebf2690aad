"""Slack's failures as tool errors: every `ok:false` code mapped, missing scopes named, 429 and Retry-After."""

from __future__ import annotations

import httpx
import pytest
from slack_support import FakeSlack, run

from sagemcp import UpstreamResponse
from sagemcp.errors import (
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamForbidden,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamServerError,
)
from sagemcp.platform import UpstreamClient
from sagemcp_slack import SlackConnector
from sagemcp_slack._errors import ERRORS, slack_error

HISTORY = {"channel": "C012AB3CD"}


@pytest.mark.parametrize(("code", "expected"), sorted((code, cls) for code, (cls, _) in ERRORS.items()))
async def test_every_mapped_code(slack: FakeSlack, code: str, expected: type[UpstreamError]) -> None:
    slack.on("conversations.history", {"ok": False, "error": code})
    call = await run(slack, "slack_list_messages", HISTORY)
    assert call.is_error
    assert type(call.error) is expected
    assert call.error.upstream_code in (code, "ratelimited")
    assert "conversations.history" in call.text
    assert "test-token" not in call.text


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("not_in_channel", "/invite"),
        ("channel_not_found", "slack_find_channels"),
        ("invalid_auth", "reconnect Slack"),
        ("token_revoked", "reconnect Slack"),
        ("is_archived", "archived"),
        ("msg_too_long", "too long"),
    ],
)
async def test_messages_say_what_to_do(slack: FakeSlack, code: str, words: str) -> None:
    slack.on("conversations.history", {"ok": False, "error": code})
    call = await run(slack, "slack_list_messages", HISTORY)
    assert code in call.text and words in call.text


async def test_missing_scope_names_the_scope(slack: FakeSlack) -> None:
    slack.on(
        "conversations.history",
        {"ok": False, "error": "missing_scope", "needed": "channels:history", "provided": "users:read,chat:write"},
    )
    call = await run(slack, "slack_list_messages", HISTORY)
    assert isinstance(call.error, UpstreamForbidden)
    assert call.error.missing_scopes == ["channels:history"]
    assert "`channels:history`" in call.text
    assert "it has users:read, chat:write" in call.text
    assert "Missing scope(s): channels:history" in call.text


async def test_unknown_code_is_a_bad_request_naming_it(slack: FakeSlack) -> None:
    slack.on("conversations.history", {"ok": False, "error": "brand_new_error"})
    call = await run(slack, "slack_list_messages", HISTORY)
    assert isinstance(call.error, UpstreamBadRequest)
    assert "brand_new_error" in call.text


async def test_read_retried_after_429(slack: FakeSlack) -> None:
    slack.on(
        "conversations.history",
        httpx.Response(429, headers={"Retry-After": "3"}, json={"ok": False, "error": "ratelimited"}),
        {"ok": True, "messages": []},
    )
    call = await run(slack, "slack_list_messages", HISTORY)
    assert not call.is_error, call.text
    assert slack.methods() == ["conversations.history", "conversations.history", "conversations.info"]


async def test_persistent_429_tells_when_to_retry(slack: FakeSlack) -> None:
    slack.on("conversations.history", httpx.Response(429, headers={"Retry-After": "30"}))
    call = await run(slack, "slack_list_messages", HISTORY)
    assert isinstance(call.error, UpstreamRateLimited)
    assert call.error.retry_after == 30
    assert "Retry after 30 s" in call.text
    # Waiting 30 s would pass core's retry deadline: the wait is reported instead of slept.
    assert len(slack.sent("conversations.history")) == 1


async def test_writes_are_not_retried_on_429(slack: FakeSlack) -> None:
    slack.on("chat.postMessage", httpx.Response(429, headers={"Retry-After": "1"}))
    call = await run(slack, "slack_send_message", {"channel": "C012AB3CD", "text": "once"})
    assert isinstance(call.error, UpstreamRateLimited)
    assert slack.methods() == ["chat.postMessage"]


async def test_ok_false_ratelimited_on_200_is_retried(slack: FakeSlack) -> None:
    slack.on(
        "users.list",
        httpx.Response(200, headers={"Retry-After": "2"}, json={"ok": False, "error": "ratelimited"}),
        {"ok": True, "members": []},
    )
    call = await run(slack, "slack_list_users")
    assert not call.is_error
    assert slack.methods() == ["users.list", "users.list"]


async def test_retry_after_is_honoured() -> None:
    """Core waits what Slack's Retry-After says before retrying a read (the hook supplies it)."""
    waits: list[float] = []
    answers = iter([httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json={"ok": True})])

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    upstream = UpstreamClient(transport=httpx.MockTransport(lambda request: next(answers)), sleep=sleep)
    async with upstream:
        client = upstream.bind(
            base_url="https://slack.com/api", provider="slack", error_hook=SlackConnector().check_response
        )
        response = await client.get("/auth.test")
    assert response.status == 200
    assert waits == [7.0]


async def test_server_error_page(slack: FakeSlack) -> None:
    slack.on("conversations.history", httpx.Response(502, text="<html>bad gateway</html>"))
    call = await run(slack, "slack_list_messages", HISTORY)
    assert isinstance(call.error, UpstreamServerError)


async def test_success_that_is_not_json(slack: FakeSlack) -> None:
    slack.on("auth.test", httpx.Response(200, text="<html>captive portal</html>"))
    call = await run(slack, "slack_get_auth_info")
    assert isinstance(call.error, UpstreamBadResponse)


def test_hook_leaves_successes_alone() -> None:
    assert slack_error(UpstreamResponse(200, content=b'{"ok": true}', url="https://slack.com/api/auth.test")) is None
    assert slack_error(UpstreamResponse(200, content=b"OK - 12", url="https://files.slack.com/upload/v1/x")) is None
    assert slack_error(UpstreamResponse(500, content=b"<html>", url="https://slack.com/api/auth.test")) is None


def test_hook_maps_auth_and_not_found() -> None:
    revoked = slack_error(
        UpstreamResponse(200, content=b'{"ok":false,"error":"token_revoked"}', url="https://slack.com/api/auth.test")
    )
    assert isinstance(revoked, UpstreamAuthError)
    missing = slack_error(
        UpstreamResponse(
            200, content=b'{"ok":false,"error":"channel_not_found"}', url="https://slack.com/api/conversations.info"
        )
    )
    assert isinstance(missing, UpstreamNotFound)
    assert missing.message.startswith("Slack refused conversations.info (channel_not_found)")
