"""The channel allow-list (`allowed_channels`): every write tool checks it before any write request."""

from __future__ import annotations

import pytest
from slack_cases import GENERAL, WRITE_CALLS, WRITE_METHODS, prepared
from slack_support import FakeSlack, run

from sagemcp.errors import AccessDenied
from sagemcp_slack import SlackConnector
from sagemcp_slack._guard import ChannelNotAllowed

ELSEWHERE = {"allowed_channels": ["#random", "C0OTHER01"]}


def test_every_write_tool_is_exercised() -> None:
    writes = {name for name, spec in SlackConnector.tools.items() if not spec.read_only}
    assert writes == set(WRITE_CALLS)


@pytest.mark.parametrize("tool", sorted(WRITE_CALLS))
async def test_write_outside_the_allow_list_is_refused(slack: FakeSlack, tool: str) -> None:
    call = await run(slack, tool, prepared(slack, tool), config=ELSEWHERE)
    assert call.is_error, call.text
    assert isinstance(call.error, ChannelNotAllowed) and isinstance(call.error, AccessDenied)
    assert "allowed_channels" in call.text and "slack" in call.text
    assert not WRITE_METHODS & set(slack.methods()), slack.methods()
    assert all(r.method == "GET" for r in slack.requests)


@pytest.mark.parametrize("tool", sorted(WRITE_CALLS))
async def test_write_inside_the_allow_list_goes_through(slack: FakeSlack, tool: str) -> None:
    config = {"allowed_channels": [GENERAL, "@spengler"]}
    call = await run(slack, tool, prepared(slack, tool), config=config)
    assert not call.is_error, call.text
    assert WRITE_METHODS & set(slack.methods())


async def test_allowed_by_id_needs_no_lookup(slack: FakeSlack) -> None:
    await run(slack, "slack_send_message", {"channel": GENERAL, "text": "x"}, config={"allowed_channels": [GENERAL]})
    assert slack.methods() == ["chat.postMessage", "chat.getPermalink"]


async def test_allowed_by_name(slack: FakeSlack) -> None:
    call = await run(
        slack, "slack_send_message", {"channel": GENERAL, "text": "x"}, config={"allowed_channels": ["#General"]}
    )
    assert not call.is_error, call.text
    assert slack.methods()[:2] == ["conversations.info", "chat.postMessage"]


async def test_refusal_names_the_channel(slack: FakeSlack) -> None:
    call = await run(slack, "slack_send_message", {"channel": GENERAL, "text": "x"}, config=ELSEWHERE)
    assert "#general (C012AB3CD) is not in the allowed_channels" in call.text
    assert "nothing was changed" in call.text


async def test_dm_channel_allowed_by_the_persons_handle(slack: FakeSlack) -> None:
    slack.on("conversations.info", {"ok": True, "channel": {"id": "D0123ABCD", "is_im": True, "user": "W012A3CDE"}})
    call = await run(
        slack,
        "slack_send_message",
        {"channel": "D0123ABCD", "text": "x"},
        config={"allowed_channels": ["@spengler"]},
    )
    assert not call.is_error, call.text
    refused = await run(
        slack,
        "slack_send_message",
        {"channel": "D0123ABCD", "text": "x"},
        config={"allowed_channels": ["@glinda"]},
    )
    assert refused.is_error and "direct message with @spengler" in refused.text


async def test_unverifiable_channel_is_refused(slack: FakeSlack) -> None:
    slack.on("conversations.info", {"ok": False, "error": "channel_not_found"})
    call = await run(slack, "slack_send_message", {"channel": "C0GONE001", "text": "x"}, config=ELSEWHERE)
    assert call.is_error
    assert "chat.postMessage" not in slack.methods()


async def test_private_uploads_and_canvases_touch_no_channel(slack: FakeSlack) -> None:
    prepared(slack, "slack_upload_file")
    upload = await run(slack, "slack_upload_file", {"filename": "a.txt", "content": "x"}, config=ELSEWHERE)
    assert not upload.is_error, upload.text
    canvas = await run(slack, "slack_create_canvas", {"title": "Plan"}, config=ELSEWHERE)
    assert not canvas.is_error, canvas.text


async def test_reads_are_not_restricted(slack: FakeSlack) -> None:
    call = await run(slack, "slack_list_messages", {"channel": GENERAL}, config=ELSEWHERE)
    assert not call.is_error
