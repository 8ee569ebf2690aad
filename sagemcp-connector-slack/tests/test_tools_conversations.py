"""Groups `conversations` (channels, DMs, members) and `messages` (history windows, threads, permalinks, reactions)."""

from __future__ import annotations

import time

from slack_support import FakeSlack, fixture, run

GENERAL = "C012AB3CD"


def user(uid: str, handle: str, display: str) -> dict[str, object]:
    return {
        "ok": True,
        "user": {"id": uid, "name": handle, "real_name": display.title(), "profile": {"display_name": display}},
    }


def users_info(table: dict[str, str]) -> object:
    """A users.info answer for each id in `table` (id -> display name), user_not_found otherwise."""

    def answer(request: object) -> dict[str, object]:
        uid = request.url.params["user"]  # type: ignore[attr-defined]
        if uid in table:
            return user(uid, table[uid].lower(), table[uid])
        return {"ok": False, "error": "user_not_found"}

    return answer


def last_page(name: str) -> dict[str, object]:
    data = fixture(name)
    data["response_metadata"] = {"next_cursor": ""}
    return data


async def test_list_channels_defaults_and_types(slack: FakeSlack) -> None:
    call = await run(slack, "slack_list_conversations")
    assert not call.is_error, call.text
    assert slack.args("conversations.list") == {
        "types": "public_channel,private_channel",
        "exclude_archived": "true",
        "limit": "20",
    }
    names = [c["name"] for c in call.structured["items"]]
    assert names == ["general", "random"]
    assert call.structured["items"][0]["topic"] == "Company-wide announcements and work-based matters"
    assert call.structured["next_cursor"]
    assert "#general" in call.text


async def test_list_dms_shows_the_other_person(slack: FakeSlack) -> None:
    slack.on(
        "conversations.list",
        {"ok": True, "channels": [{"id": "D0123ABC", "is_im": True, "user": "U0AAAAAAA", "created": 1500000000}]},
    )
    slack.on("users.info", users_info({"U0AAAAAAA": "alice"}))
    call = await run(slack, "slack_list_conversations", {"types": ["im"], "exclude_archived": False})
    assert slack.args("conversations.list")["types"] == "im"
    assert slack.args("conversations.list")["exclude_archived"] == "false"
    item = call.structured["items"][0]
    assert item == {
        "id": "D0123ABC",
        "name": "alice",
        "type": "im",
        "is_archived": False,
        "created": "2017-07-14T02:40:00Z",
        "user": "U0AAAAAAA",
    }


async def test_info_by_name_resolves_through_the_list(slack: FakeSlack) -> None:
    slack.on("conversations.list", last_page("conversations.list"))
    call = await run(slack, "slack_get_conversation", {"channel": "#random"})
    assert not call.is_error, call.text
    assert slack.methods() == ["conversations.list", "conversations.info"]
    assert slack.args("conversations.info") == {"channel": "C061EG9T2", "include_num_members": "true"}


async def test_info_for_unknown_name_is_a_clear_error(slack: FakeSlack) -> None:
    slack.on("conversations.list", last_page("conversations.list"))
    call = await run(slack, "slack_get_conversation", {"channel": "#nope"})
    assert call.is_error
    assert "no channel named #nope" in call.text
    assert slack.methods() == ["conversations.list"]


async def test_find_ranks_exact_then_prefix_then_substring(slack: FakeSlack) -> None:
    channels = [
        {"id": "C0000001", "name": "eng-backend"},
        {"id": "C0000002", "name": "team-eng"},
        {"id": "C0000003", "name": "eng"},
        {"id": "C0000004", "name": "old-eng", "is_archived": True},
        {"id": "C0000005", "name": "random"},
    ]
    slack.on(
        "conversations.list",
        {"ok": True, "channels": channels[:3], "response_metadata": {"next_cursor": "page2"}},
        {"ok": True, "channels": channels[3:], "response_metadata": {"next_cursor": ""}},
    )
    call = await run(slack, "slack_find_channels", {"query": "#ENG"})
    assert [c["name"] for c in call.structured["items"]] == ["eng", "eng-backend", "team-eng"]
    assert call.structured["complete"] is True
    assert [slack.args("conversations.list", i).get("cursor") for i in range(2)] == [None, "page2"]
    assert slack.args("conversations.list", 0)["limit"] == "1000"


async def test_history_window_renders_names_and_markdown(slack: FakeSlack) -> None:
    slack.on(
        "conversations.history",
        {
            "ok": True,
            "messages": [
                {
                    "type": "message",
                    "user": "U0BBBBBBB",
                    "text": "*Deploy* done <@U0AAAAAAA>, see <https://ci.example/run?a=1&amp;b=2|the run> in <#C0CCCCCCC>",
                    "ts": "1714564800.000200",
                    "reply_count": 2,
                    "thread_ts": "1714564800.000200",
                    "reactions": [{"name": "tada", "count": 2, "users": ["U0AAAAAAA", "U0BBBBBBB"]}],
                },
                {"type": "message", "user": "U0AAAAAAA", "text": "~old~ news", "ts": "1714564700.000100"},
            ],
            "has_more": False,
            "response_metadata": {"next_cursor": ""},
        },
    )
    slack.on("users.info", users_info({"U0AAAAAAA": "alice", "U0BBBBBBB": "bob"}))
    slack.on(
        "conversations.info",
        lambda r: {
            "ok": True,
            "channel": {
                "id": r.url.params["channel"],
                "name": {GENERAL: "general"}.get(r.url.params["channel"], "ops"),
            },
        },
    )
    before = time.time()
    call = await run(slack, "slack_list_messages", {"channel": GENERAL, "window": "7d", "limit": 10})
    assert not call.is_error, call.text
    args = slack.args("conversations.history")
    assert args["channel"] == GENERAL and args["limit"] == "10"
    assert abs(float(args["oldest"]) - (before - 7 * 86400)) < 5
    assert "latest" not in args
    first, second = call.structured["items"]
    assert first["author"] == "bob"
    assert first["text"] == "**Deploy** done @alice, see [the run](https://ci.example/run?a=1&b=2) in #ops"
    assert first["time"] == "2024-05-01T12:00:00Z"
    assert first["reply_count"] == 2
    assert first["reactions"] == [{"name": "tada", "count": 2, "users": []}]
    assert second["text"] == "~~old~~ news"
    assert call.structured["channel_name"] == "general"
    assert call.structured.get("next_cursor") is None
    # Each id was looked up once for the whole call.
    assert sorted(a["user"] for a in (slack.args("users.info", i) for i in range(len(slack.sent("users.info"))))) == [
        "U0AAAAAAA",
        "U0BBBBBBB",
    ]
    assert "@bob" in call.text and "2 replies" in call.text


async def test_history_explicit_bounds(slack: FakeSlack) -> None:
    await run(
        slack,
        "slack_list_messages",
        {"channel": GENERAL, "oldest": "2024-05-01", "latest": "2024-05-02T00:00:00+02:00"},
    )
    args = slack.args("conversations.history")
    assert args["oldest"] == "1714521600.000000"
    assert args["latest"] == "1714600800.000000"


async def test_history_refuses_window_and_oldest_together(slack: FakeSlack) -> None:
    call = await run(slack, "slack_list_messages", {"channel": GENERAL, "window": "1d", "oldest": "2024-05-01"})
    assert call.is_error and "either window or oldest" in call.text
    assert slack.requests == []


async def test_history_rejects_bad_window(slack: FakeSlack) -> None:
    call = await run(slack, "slack_list_messages", {"channel": GENERAL, "window": "7 days"})
    assert call.is_error and "window" in call.text
    assert slack.requests == []


async def test_replies_thread(slack: FakeSlack) -> None:
    call = await run(slack, "slack_get_thread", {"channel": GENERAL, "ts": "1482960137.003543"})
    assert not call.is_error, call.text
    assert slack.args("conversations.replies") == {"channel": GENERAL, "ts": "1482960137.003543", "limit": "20"}
    texts = [m["text"] for m in call.structured["items"]]
    assert texts == ["island", "one island", "two island", "three for the land"]
    assert call.structured["thread_ts"] == "1482960137.003543"
    assert call.structured["next_cursor"]


async def test_members_with_names(slack: FakeSlack) -> None:
    slack.on("users.info", users_info({"U023BECGF": "bobby"}))
    call = await run(slack, "slack_list_conversation_members", {"channel": GENERAL, "limit": 3})
    assert slack.args("conversations.members") == {"channel": GENERAL, "limit": "3"}
    items = call.structured["items"]
    assert items[0] == {"id": "U023BECGF", "name": "bobby"}
    assert items[1:] == [{"id": "U061F7AUR"}, {"id": "W012A3CDE"}]  # unknown users keep their ids
    assert call.structured["next_cursor"]


async def test_permalink(slack: FakeSlack) -> None:
    call = await run(slack, "slack_get_permalink", {"channel": "C1H9RESGA", "ts": "1234567890.123456"})
    assert slack.args("chat.getPermalink") == {"channel": "C1H9RESGA", "message_ts": "1234567890.123456"}
    assert call.structured["permalink"] == "https://ghostbusters.slack.com/archives/C1H9RESGA/p135854651500008"


async def test_reactions_with_who_reacted(slack: FakeSlack) -> None:
    # The description's example is about a file; a message answer has the same shape under "message".
    slack.on(
        "reactions.get",
        {
            "ok": True,
            "type": "message",
            "channel": "C1H9RESGA",
            "message": {
                "type": "message",
                "text": "Hi",
                "ts": "1234567890.123456",
                "reactions": [{"name": "astonished", "count": 3, "users": ["U0AAAAAAA", "U0BBBBBBB", "U0CCCCCCC"]}],
            },
        },
    )
    slack.on("users.info", users_info({"U0AAAAAAA": "one"}))
    call = await run(slack, "slack_get_reactions", {"channel": "C1H9RESGA", "ts": "1234567890.123456"})
    assert slack.args("reactions.get") == {"channel": "C1H9RESGA", "timestamp": "1234567890.123456", "full": "true"}
    reaction = call.structured["reactions"][0]
    assert reaction["name"] == "astonished"
    assert reaction["count"] == 3
    assert reaction["users"] == ["one", "U0BBBBBBB", "U0CCCCCCC"]
