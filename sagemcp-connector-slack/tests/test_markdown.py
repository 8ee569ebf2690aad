"""The text part of tool results: compact Markdown beside `structuredContent`, with the next page's cursor."""

from __future__ import annotations

import json

import pytest
from slack_cases import GENERAL, READ_CALLS, prepared
from slack_support import FakeSlack, run

from sagemcp.platform import to_json

# Read tools whose answer is a list (a Page, matches, reactions) or a body (thread, canvas).
LISTS = sorted(
    {
        "slack_list_conversations",
        "slack_find_channels",
        "slack_list_conversation_members",
        "slack_list_messages",
        "slack_get_thread",
        "slack_get_reactions",
        "slack_search_messages",
        "slack_list_users",
        "slack_list_user_groups",
        "slack_list_user_group_members",
        "slack_list_pins",
        "slack_list_bookmarks",
        "slack_list_scheduled_messages",
    }
)


def is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("tool", LISTS)
async def test_lists_are_markdown_with_the_cursor_of_the_next_page(slack: FakeSlack, tool: str) -> None:
    call = await run(slack, tool, prepared(slack, tool))
    assert not call.is_error, call.text
    assert call.structured is not None
    assert not is_json(call.text), f"{tool} answers its JSON twice"
    assert call.text.startswith("**"), call.text  # a bold title with the count
    cursor = call.structured.get("next_cursor")
    if cursor:
        assert f"call again with cursor=`{cursor}`" in call.text
    else:
        assert "call again" not in call.text


@pytest.mark.parametrize("tool", ["slack_list_conversations", "slack_list_users", "slack_list_messages"])
async def test_list_text_is_smaller_than_its_json(slack: FakeSlack, tool: str) -> None:
    call = await run(slack, tool, prepared(slack, tool))
    assert len(call.structured["items"]) >= 2
    assert len(call.text) < 0.8 * len(to_json(call.structured))


def test_every_list_tool_is_covered() -> None:
    listing = {t for t in READ_CALLS if t.startswith(("slack_list_", "slack_find_channels", "slack_search_"))}
    assert listing <= set(LISTS)


async def test_conversations_as_a_table(slack: FakeSlack) -> None:
    call = await run(slack, "slack_list_conversations")
    lines = call.text.splitlines()
    assert lines[0] == "**Conversations** (2)"
    assert lines[2] == "| Conversation | ID | Type | Members | About |"
    assert (
        lines[4] == "| #general | C012AB3CD | public channel | 4 | Company-wide announcements and work-based matters |"
    )


async def test_table_cells_cannot_break_the_table(slack: FakeSlack) -> None:
    slack.on(
        "conversations.list",
        {
            "ok": True,
            "channels": [{"id": "C0000001", "name": "ops", "topic": {"value": "pipes | and\nnew lines"}}],
            "response_metadata": {"next_cursor": ""},
        },
    )
    call = await run(slack, "slack_list_conversations")
    assert call.text.splitlines()[-1] == "| #ops | C0000001 | public channel |  | pipes \\| and new lines |"
    assert call.structured["items"][0]["topic"] == "pipes | and\nnew lines"


async def test_messages_as_bullets_with_their_text_indented(slack: FakeSlack) -> None:
    slack.on(
        "conversations.history",
        {
            "ok": True,
            "messages": [
                {"user": "U0AAAAAAA", "username": "ann", "text": "line one\nline two", "ts": "1714564800.000200"},
                {"bot_id": "B0", "bot_profile": {"name": "ci"}, "text": "", "ts": "1714564700.000100"},
            ],
            "response_metadata": {"next_cursor": ""},
        },
    )
    slack.on("users.info", {"ok": False, "error": "user_not_found"})
    slack.on("conversations.info", {"ok": True, "channel": {"id": GENERAL, "name": "general"}})
    call = await run(slack, "slack_list_messages", {"channel": GENERAL})
    assert call.text == (
        "**Messages in #general** (2)\n\n"
        "- **@ann** in #general · 2024-05-01T12:00:00Z · ts `1714564800.000200`\n"
        "  line one\n"
        "  line two\n"
        "- **@ci** in #general · 2024-05-01T11:58:20Z · ts `1714564700.000100`\n"
        "  (no text)"
    )


async def test_a_page_cut_to_fit_says_so_and_how_to_go_on(slack: FakeSlack) -> None:
    many = [{"user": "U0AAAAAAA", "text": "x" * 2900, "ts": f"{1714564800 - i}.000100"} for i in range(40)]
    slack.on("conversations.history", {"ok": True, "messages": many, "response_metadata": {"next_cursor": ""}})
    call = await run(slack, "slack_list_messages", {"channel": GENERAL, "limit": 40})
    assert call.structured["truncated"] is True
    footer = call.text.rsplit("\n\n", 1)[-1]
    assert footer == (
        "_This page was cut to fit the size limit. More results: call again with "
        f"cursor=`{call.structured['next_cursor']}`._"
    )


async def test_empty_lists_say_so(slack: FakeSlack) -> None:
    slack.on("pins.list", {"ok": True, "items": []})
    call = await run(slack, "slack_list_pins", {"channel": GENERAL})
    assert call.text == f"**Pins** in {GENERAL} (0)\n\nNothing is pinned."
    assert call.structured["items"] == []


async def test_single_items_without_a_body_stay_compact_json(slack: FakeSlack) -> None:
    call = await run(slack, "slack_get_permalink", {"channel": GENERAL, "ts": "1714564800.000100"})
    assert json.loads(call.text) == call.structured


@pytest.mark.parametrize(("count", "said"), [(1, "1 reply"), (2, "2 replies")])
def test_a_thread_parent_counts_its_replies_in_good_english(count: int, said: str) -> None:
    from sagemcp_slack.models import Message

    text = Message(ts="1700000000.000100", text="hi", reply_count=count).to_markdown()
    assert said in text
    assert "1 replies" not in text
