"""Group `search`: search.messages with modifiers built from arguments, page-based paging."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from slack_support import FakeSlack, fixture, run


def pages(total_pages: int) -> dict[str, object]:
    data = fixture("search.messages")
    data["messages"]["paging"] = {"count": 2, "page": 1, "pages": total_pages, "total": 2 * total_pages}
    return data


async def test_search_plain_query(slack: FakeSlack) -> None:
    call = await run(slack, "slack_search_messages", {"query": "meaning of life"})
    assert not call.is_error, call.text
    assert slack.args("search.messages") == {
        "query": "meaning of life",
        "count": "20",
        "page": "1",
        "sort": "score",
        "sort_dir": "desc",
        "highlight": "false",
    }
    first, second = call.structured["items"]
    assert first["channel"] == "C12345678" and first["channel_name"] == "general"
    assert first["permalink"] == "https://hitchhikers.slack.com/archives/C12345678/p1508284197000015"
    assert second["author"] == "robot overlord"
    assert call.structured["total"] == 2
    assert call.structured.get("next_cursor") is None


async def test_search_modifiers_from_arguments(slack: FakeSlack) -> None:
    slack.on("conversations.info", {"ok": True, "channel": {"id": "C0123ABCD", "name": "eng"}})
    before = time.time()
    await run(
        slack,
        "slack_search_messages",
        {"query": "deploy", "in_channel": "C0123ABCD", "from_user": "@alice", "window": "7d", "sort": "timestamp"},
    )
    args = slack.args("search.messages")
    day = datetime.fromtimestamp(before - 8 * 86400, UTC).strftime("%Y-%m-%d")
    assert args["query"] == f"deploy in:#eng from:@alice after:{day}"
    assert args["sort"] == "timestamp"


async def test_search_from_user_id(slack: FakeSlack) -> None:
    await run(slack, "slack_search_messages", {"query": "x", "from_user": "U0123ABCD"})
    assert slack.args("search.messages")["query"] == "x from:<@U0123ABCD>"


async def test_search_pages_with_cursor(slack: FakeSlack) -> None:
    slack.on("search.messages", pages(3))
    first = await run(slack, "slack_search_messages", {"query": "x", "limit": 2})
    cursor = first.structured["next_cursor"]
    assert cursor
    second = await run(slack, "slack_search_messages", {"query": "ignored once paging", "cursor": cursor})
    args = slack.args("search.messages")
    assert args["page"] == "2" and args["count"] == "2" and args["query"] == "x"
    assert second.structured["next_cursor"]


async def test_search_with_a_bot_token_explains_user_tokens(slack: FakeSlack) -> None:
    slack.on("search.messages", {"ok": False, "error": "not_allowed_token_type"})
    call = await run(slack, "slack_search_messages", {"query": "x"})
    assert call.is_error
    assert "user token (xoxp-)" in call.text and "search:read" in call.text
