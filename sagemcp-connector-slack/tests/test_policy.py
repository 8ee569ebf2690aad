"""Tool policy at call time: read-only mode and default groups refuse write tools before any request."""

from __future__ import annotations

import pytest
from slack_cases import READ_CALLS, WRITE_CALLS, prepared
from slack_support import FakeSlack, run

from sagemcp.errors import ReadOnlyViolation, ToolDisabled
from sagemcp.platform import ToolPolicy
from sagemcp_slack import SlackConnector

READ_ONLY = ToolPolicy(groups=SlackConnector.groups(), read_only=True)


@pytest.mark.parametrize("tool", sorted(WRITE_CALLS))
async def test_read_only_mode_blocks_every_write_tool(slack: FakeSlack, tool: str) -> None:
    call = await run(slack, tool, prepared(slack, tool), policy=READ_ONLY)
    assert call.is_error
    assert isinstance(call.error, ReadOnlyViolation)
    assert "read-only" in call.text
    assert slack.requests == []


@pytest.mark.parametrize("tool", sorted(READ_CALLS))
async def test_read_only_mode_keeps_read_tools(slack: FakeSlack, tool: str) -> None:
    call = await run(slack, tool, prepared(slack, tool), policy=READ_ONLY)
    assert not call.is_error, call.text


async def test_new_tenants_get_no_write_tools(slack: FakeSlack) -> None:
    call = await run(slack, "slack_send_message", {"channel": "C012AB3CD", "text": "x"}, policy=ToolPolicy())
    assert call.is_error and isinstance(call.error, ToolDisabled)
    assert slack.requests == []
    enabled = {s.name for s in SlackConnector.enabled_tools(ToolPolicy())}
    assert enabled == set(READ_CALLS) - {"slack_list_scheduled_messages"}


async def test_enabling_the_write_group(slack: FakeSlack) -> None:
    policy = ToolPolicy(groups=["conversations", "messages_write"])
    call = await run(slack, "slack_send_message", {"channel": "C012AB3CD", "text": "x"}, policy=policy)
    assert not call.is_error, call.text
    upload = await run(slack, "slack_upload_file", {"filename": "a.txt", "content": "x"}, policy=policy)
    assert upload.is_error and isinstance(upload.error, ToolDisabled)
