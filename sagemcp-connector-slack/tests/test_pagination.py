"""Slack's cursors (and page numbers, and whole lists) behind our `limit` / `cursor`; page size budgets."""

from __future__ import annotations

import time

import pytest
from slack_support import FakeSlack, fixture, run

from sagemcp import decode_cursor, encode_cursor
from sagemcp.errors import InvalidCursor

GENERAL = "C012AB3CD"


async def test_list_cursor_round_trip_keeps_the_query(slack: FakeSlack) -> None:
    first = await run(slack, "slack_list_conversations", {"types": ["im", "mpim"], "limit": 5})
    cursor = first.structured["next_cursor"]
    slack_cursor = fixture("conversations.list")["response_metadata"]["next_cursor"]
    assert decode_cursor(cursor, tool="slack_list_conversations")["c"] == slack_cursor
    await run(slack, "slack_list_conversations", {"types": ["public_channel"], "cursor": cursor, "limit": 5})
    args = slack.args("conversations.list")
    assert args == {"types": "im,mpim", "exclude_archived": "true", "limit": "5", "cursor": slack_cursor}


async def test_last_page_has_no_cursor(slack: FakeSlack) -> None:
    data = fixture("conversations.list")
    data["response_metadata"] = {"next_cursor": ""}
    slack.on("conversations.list", data)
    call = await run(slack, "slack_list_conversations")
    assert call.structured.get("next_cursor") is None


async def test_history_cursor_keeps_the_window(slack: FakeSlack) -> None:
    first = await run(slack, "slack_list_messages", {"channel": GENERAL, "window": "1d"})
    oldest = slack.args("conversations.history")["oldest"]
    cursor = first.structured["next_cursor"]
    assert cursor
    time.sleep(0.01)
    await run(slack, "slack_list_messages", {"channel": GENERAL, "cursor": cursor})
    args = slack.args("conversations.history")
    assert args["oldest"] == oldest
    assert args["cursor"] == "bmV4dF90czoxNTEyMDg1ODYxMDAwNTQz"


def long_messages(count: int, start: float = 1714564800.0) -> list[dict[str, object]]:
    return [
        {"type": "message", "user": "U0AAAAAAA", "text": "x" * 2900, "ts": f"{start - i:.6f}"} for i in range(count)
    ]


async def test_history_page_cut_to_budget_resumes_after_the_last_shown(slack: FakeSlack) -> None:
    slack.on(
        "conversations.history",
        {
            "ok": True,
            "messages": long_messages(40),
            "has_more": True,
            "response_metadata": {"next_cursor": "slack-next"},
        },
    )
    first = await run(slack, "slack_list_messages", {"channel": GENERAL, "limit": 40})
    items = first.structured["items"]
    assert first.structured["truncated"] is True
    assert 10 < len(items) < 40
    assert sum(len(m["text"]) for m in items) <= 60_000
    assert "cut to fit" in first.text
    state = decode_cursor(first.structured["next_cursor"], tool="slack_list_messages")
    assert state == {"latest": items[-1]["ts"]}
    await run(slack, "slack_list_messages", {"channel": GENERAL, "cursor": first.structured["next_cursor"]})
    args = slack.args("conversations.history")
    assert args["latest"] == items[-1]["ts"] and "cursor" not in args


async def test_thread_cut_to_budget_resumes_after_the_last_shown(slack: FakeSlack) -> None:
    replies = long_messages(30, start=1714564000.0)[::-1]
    slack.on("conversations.replies", {"ok": True, "messages": replies, "has_more": False})
    first = await run(slack, "slack_get_thread", {"channel": GENERAL, "ts": replies[0]["ts"], "limit": 30})
    shown = first.structured["items"]
    assert first.structured["truncated"] is True
    await run(
        slack,
        "slack_get_thread",
        {"channel": GENERAL, "ts": replies[0]["ts"], "cursor": first.structured["next_cursor"]},
    )
    assert slack.args("conversations.replies")["oldest"] == shown[-1]["ts"]


async def test_search_cut_resumes_inside_the_same_page(slack: FakeSlack) -> None:
    data = fixture("search.messages")
    match = data["messages"]["matches"][0]
    data["messages"]["matches"] = [{**match, "ts": f"{1508284197 + i}.000015", "text": "y" * 2900} for i in range(30)]
    data["messages"]["paging"] = {"count": 30, "page": 1, "pages": 2, "total": 60}
    slack.on("search.messages", data)
    first = await run(slack, "slack_search_messages", {"query": "y", "limit": 30})
    shown = len(first.structured["items"])
    assert first.structured["truncated"] and shown < 30
    second = await run(slack, "slack_search_messages", {"query": "y", "cursor": first.structured["next_cursor"]})
    assert slack.args("search.messages")["page"] == "1"
    assert second.structured["items"][0]["ts"] == f"{1508284197 + shown}.000015"


async def test_cursor_of_another_tool_is_refused(slack: FakeSlack) -> None:
    first = await run(slack, "slack_list_users")
    call = await run(slack, "slack_list_conversations", {"cursor": first.structured["next_cursor"]})
    assert call.is_error and isinstance(call.error, InvalidCursor)
    assert call.text.startswith(
        "this cursor is not valid for this tool (it came from slack_list_users); call slack_list_conversations "
        "again without a cursor"
    )
    assert slack.methods() == ["users.list"]


@pytest.mark.parametrize(
    "case",
    [
        ("slack_list_messages", "not a cursor"),
        ("slack_list_messages", encode_cursor({"latest": "yesterday"}, tool="slack_list_messages")),
        ("slack_list_messages", encode_cursor({"sneaky": "x"}, tool="slack_list_messages")),
        ("slack_list_users", encode_cursor({"c": ["list"]}, tool="slack_list_users")),
        ("slack_list_users", "x" * 9000),
    ],
)
async def test_bad_cursors_are_refused_before_any_request(slack: FakeSlack, case: tuple[str, str]) -> None:
    tool, cursor = case
    args = {"cursor": cursor} if tool == "slack_list_users" else {"channel": GENERAL, "cursor": cursor}
    call = await run(slack, tool, args)
    assert call.is_error and "cursor" in call.text
    assert slack.requests == []


@pytest.mark.parametrize("limit", [0, 101, -5])
async def test_limit_is_bounded(slack: FakeSlack, limit: int) -> None:
    call = await run(slack, "slack_list_users", {"limit": limit})
    assert call.is_error and "limit" in call.text
    assert slack.requests == []


async def test_default_limit_is_small(slack: FakeSlack) -> None:
    await run(slack, "slack_list_conversation_members", {"channel": GENERAL})
    assert slack.args("conversations.members")["limit"] == "20"


async def test_whole_lists_are_paged_here(slack: FakeSlack) -> None:
    first = await run(slack, "slack_list_user_groups", {"limit": 2, "include_disabled": True})
    assert [g["id"] for g in first.structured["items"]] == ["S0614TZR7", "S06158AV7"]
    second = await run(
        slack,
        "slack_list_user_groups",
        {"limit": 2, "include_disabled": True, "cursor": first.structured["next_cursor"]},
    )
    assert [g["id"] for g in second.structured["items"]] == ["S0615G0KT"]
    assert second.structured.get("next_cursor") is None
