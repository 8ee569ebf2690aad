"""Groups `messages_write`, `pins_write` and `bookmarks_write`: post, reply, edit, delete own, schedule, DMs,
reactions, pins, bookmarks."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from slack_support import FakeSlack, fixture, run

from sagemcp import ElicitInput, ElicitResult
from sagemcp.testing import AnsweringClient

GENERAL = "C012AB3CD"


def body(request: httpx.Request) -> dict[str, object]:
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.headers["authorization"] == "Bearer test-token"
    return dict(json.loads(request.content))


async def test_post_message_converts_markdown(slack: FakeSlack) -> None:
    call = await run(
        slack,
        "slack_send_message",
        {"channel": GENERAL, "text": "**Release** is out: [notes](https://x.example/n) <@U0AAAAAAA> & co"},
    )
    assert not call.is_error, call.text
    assert slack.methods() == ["chat.postMessage", "chat.getPermalink"]
    assert body(slack.sent("chat.postMessage")[0]) == {
        "channel": GENERAL,
        "text": "*Release* is out: <https://x.example/n|notes> <@U0AAAAAAA> &amp; co",
        "unfurl_links": False,
        "unfurl_media": True,
    }
    assert call.structured == {
        "channel": "C1H9RESGL",
        "ts": "1503435956.000247",
        "permalink": "https://ghostbusters.slack.com/archives/C1H9RESGA/p135854651500008",
        "text": "*Release* is out: <https://x.example/n|notes> <@U0AAAAAAA> &amp; co",
    }


async def test_post_by_channel_name(slack: FakeSlack) -> None:
    data = fixture("conversations.list")
    data["response_metadata"] = {"next_cursor": ""}
    slack.on("conversations.list", data)
    await run(slack, "slack_send_message", {"channel": "#random", "text": "hi"})
    assert body(slack.sent("chat.postMessage")[0])["channel"] == "C061EG9T2"


async def test_post_is_not_retried(slack: FakeSlack) -> None:
    slack.on("chat.postMessage", httpx.Response(503, text="unavailable"))
    call = await run(slack, "slack_send_message", {"channel": GENERAL, "text": "once"})
    assert call.is_error
    assert slack.methods() == ["chat.postMessage"]


async def test_post_permalink_failure_does_not_fail_the_post(slack: FakeSlack) -> None:
    slack.on("chat.getPermalink", {"ok": False, "error": "message_not_found"})
    call = await run(slack, "slack_send_message", {"channel": GENERAL, "text": "hi"})
    assert not call.is_error
    assert "permalink" not in call.structured


async def test_reply_in_thread(slack: FakeSlack) -> None:
    await run(
        slack,
        "slack_reply_to_thread",
        {"channel": GENERAL, "thread_ts": "1482960137.003543", "text": "on it", "also_send_to_channel": True},
    )
    sent = body(slack.sent("chat.postMessage")[0])
    assert sent["thread_ts"] == "1482960137.003543"
    assert sent["reply_broadcast"] is True


async def test_update_message(slack: FakeSlack) -> None:
    call = await run(slack, "slack_update_message", {"channel": GENERAL, "ts": "1401383885.000061", "text": "*fixed*"})
    assert body(slack.sent("chat.update")[0]) == {"channel": GENERAL, "ts": "1401383885.000061", "text": "_fixed_"}
    assert call.structured["ts"] == "1401383885.000061"


async def test_update_someone_elses_message(slack: FakeSlack) -> None:
    slack.on("chat.update", {"ok": False, "error": "cant_update_message"})
    call = await run(slack, "slack_update_message", {"channel": GENERAL, "ts": "1401383885.000061", "text": "x"})
    assert call.is_error and "cant_update_message" in call.text and "can be edited" in call.text


def history_with(message: dict[str, object]) -> dict[str, object]:
    return {"ok": True, "messages": [message], "has_more": False}


async def test_delete_own_message(slack: FakeSlack) -> None:
    slack.on("auth.test", {**fixture("auth.test"), "user_id": "U0BOT0001", "bot_id": "B0BOT0001"})
    slack.on(
        "conversations.history", history_with({"ts": "1714564800.000100", "user": "U0BOT0001", "bot_id": "B0BOT0001"})
    )
    call = await run(slack, "slack_delete_message", {"channel": GENERAL, "ts": "1714564800.000100", "confirm": True})
    assert not call.is_error, call.text
    assert slack.methods() == ["auth.test", "conversations.history", "chat.delete"]
    assert slack.args("conversations.history") == {
        "channel": GENERAL,
        "oldest": "1714564800.000100",
        "latest": "1714564800.000100",
        "inclusive": "true",
        "limit": "1",
    }
    assert body(slack.sent("chat.delete")[0]) == {"channel": GENERAL, "ts": "1714564800.000100"}


async def test_delete_own_thread_reply(slack: FakeSlack) -> None:
    slack.on("auth.test", {**fixture("auth.test"), "user_id": "U0ME00001"})
    slack.on("conversations.history", {"ok": True, "messages": [], "has_more": False})
    slack.on(
        "conversations.replies",
        {
            "ok": True,
            "messages": [{"ts": "1714564700.000100", "user": "U0X"}, {"ts": "1714564800.000100", "user": "U0ME00001"}],
        },
    )
    call = await run(slack, "slack_delete_message", {"channel": GENERAL, "ts": "1714564800.000100", "confirm": True})
    assert not call.is_error, call.text
    assert slack.methods()[-1] == "chat.delete"


def own_message(slack: FakeSlack) -> None:
    slack.on("auth.test", {**fixture("auth.test"), "user_id": "U0BOT0001", "bot_id": "B0BOT0001"})
    slack.on(
        "conversations.history",
        history_with({"ts": "1714564800.000100", "user": "U0BOT0001", "text": "Lunch moved to 1pm"}),
    )


async def test_delete_asks_the_person_to_confirm_first(slack: FakeSlack) -> None:
    own_message(slack)
    client = AnsweringClient({"confirm": ElicitResult(action="accept", content={"confirm": True})})
    call = await run(slack, "slack_delete_message", {"channel": GENERAL, "ts": "1714564800.000100"}, client=client)
    assert not call.is_error, call.text
    question = client.asked["confirm"]
    assert isinstance(question, ElicitInput)
    assert "Lunch moved to 1pm" in question.message and GENERAL in question.message
    assert question.schema["required"] == ["confirm"]
    assert slack.methods() == ["auth.test", "conversations.history", "chat.delete"]


@pytest.mark.parametrize(
    "answer",
    [
        ElicitResult(action="decline"),
        ElicitResult(action="cancel"),
        ElicitResult(action="accept", content={"confirm": False}),
    ],
)
async def test_delete_keeps_the_message_unless_confirmed(slack: FakeSlack, answer: ElicitResult) -> None:
    own_message(slack)
    client = AnsweringClient({"confirm": answer})
    call = await run(slack, "slack_delete_message", {"channel": GENERAL, "ts": "1714564800.000100"}, client=client)
    assert not call.is_error, call.text
    assert call.structured["ok"] is False and "not confirmed" in call.structured["action"]
    assert "chat.delete" not in slack.methods()


async def test_delete_from_a_client_that_cannot_ask_needs_confirm_true(slack: FakeSlack) -> None:
    own_message(slack)
    call = await run(slack, "slack_delete_message", {"channel": GENERAL, "ts": "1714564800.000100"})
    assert call.is_error and "confirm=true" in call.text and "Nothing was deleted" in call.text
    assert "chat.delete" not in slack.methods()
    # A client without elicitation (it may sample, but not ask the person) is in the same case.
    client = AnsweringClient(capabilities=("sampling",))
    call = await run(slack, "slack_delete_message", {"channel": GENERAL, "ts": "1714564800.000100"}, client=client)
    assert call.is_error and "confirm=true" in call.text and client.asked == {}


async def test_delete_refuses_someone_elses_message(slack: FakeSlack) -> None:
    slack.on("auth.test", {**fixture("auth.test"), "user_id": "U0ME00001"})
    slack.on("conversations.history", history_with({"ts": "1714564800.000100", "user": "U0SOMEONE"}))
    call = await run(slack, "slack_delete_message", {"channel": GENERAL, "ts": "1714564800.000100"})
    assert call.is_error
    assert "only deletes its own messages" in call.text and "Nothing was deleted" in call.text
    assert "chat.delete" not in slack.methods()


async def test_delete_missing_message(slack: FakeSlack) -> None:
    slack.on("conversations.history", {"ok": True, "messages": []})
    slack.on("conversations.replies", {"ok": False, "error": "thread_not_found"})
    call = await run(slack, "slack_delete_message", {"channel": GENERAL, "ts": "1714564800.000100"})
    assert call.is_error and "already deleted" in call.text
    assert "chat.delete" not in slack.methods()


async def test_schedule_message(slack: FakeSlack) -> None:
    when = int(time.time()) + 3600
    call = await run(
        slack,
        "slack_schedule_message",
        {"channel": GENERAL, "text": "standup", "post_at": str(when), "thread_ts": "1482960137.003543"},
    )
    assert not call.is_error, call.text
    assert body(slack.sent("chat.scheduleMessage")[0]) == {
        "channel": GENERAL,
        "text": "standup",
        "post_at": when,
        "thread_ts": "1482960137.003543",
    }
    assert call.structured["id"] == "Q1298393284"


async def test_schedule_in_the_past_or_too_far(slack: FakeSlack) -> None:
    for post_at, text in [("2020-01-01T00:00:00Z", "in the past"), (str(int(time.time()) + 200 * 86400), "120 days")]:
        call = await run(slack, "slack_schedule_message", {"channel": GENERAL, "text": "x", "post_at": post_at})
        assert call.is_error and text in call.text
    assert slack.requests == []


async def test_scheduled_list_and_cancel(slack: FakeSlack) -> None:
    listed = await run(slack, "slack_list_scheduled_messages", {"channel": GENERAL})
    assert slack.args("chat.scheduledMessages.list") == {"channel": GENERAL, "limit": "20"}
    assert listed.structured["items"][0]["id"] == "1298393284"
    await run(slack, "slack_cancel_scheduled_message", {"channel": GENERAL, "scheduled_message_id": "Q1298393284"})
    assert body(slack.sent("chat.deleteScheduledMessage")[0]) == {
        "channel": GENERAL,
        "scheduled_message_id": "Q1298393284",
    }


async def test_open_dm_and_group_dm(slack: FakeSlack) -> None:
    call = await run(slack, "slack_open_direct_message", {"users": ["U0AAAAAAA", "U0BBBBBBB"]})
    assert body(slack.sent("conversations.open")[0]) == {"users": "U0AAAAAAA,U0BBBBBBB"}
    assert call.structured == {"channel": "D069C7QFK", "user": "U0AAAAAAA,U0BBBBBBB", "already_open": False}


async def test_send_dm_by_email(slack: FakeSlack) -> None:
    call = await run(slack, "slack_send_direct_message", {"user": "spengler@ghostbusters.example.com", "text": "hello"})
    assert not call.is_error, call.text
    assert slack.methods() == ["users.lookupByEmail", "conversations.open", "chat.postMessage", "chat.getPermalink"]
    assert body(slack.sent("conversations.open")[0]) == {"users": "W012A3CDE"}
    assert body(slack.sent("chat.postMessage")[0])["channel"] == "D069C7QFK"


async def test_reactions(slack: FakeSlack) -> None:
    await run(
        slack, "slack_add_reaction", {"channel": GENERAL, "ts": "1714564800.000100", "emoji": ":white_check_mark:"}
    )
    assert body(slack.sent("reactions.add")[0]) == {
        "channel": GENERAL,
        "timestamp": "1714564800.000100",
        "name": "white_check_mark",
    }
    await run(slack, "slack_remove_reaction", {"channel": GENERAL, "ts": "1714564800.000100", "emoji": "thumbsup"})
    assert body(slack.sent("reactions.remove")[0])["name"] == "thumbsup"


async def test_already_reacted_is_a_conflict(slack: FakeSlack) -> None:
    slack.on("reactions.add", {"ok": False, "error": "already_reacted"})
    call = await run(slack, "slack_add_reaction", {"channel": GENERAL, "ts": "1714564800.000100", "emoji": "eyes"})
    assert call.is_error and "already on the message" in call.text


async def test_pins(slack: FakeSlack) -> None:
    await run(slack, "slack_add_pin", {"channel": GENERAL, "ts": "1714564800.000100"})
    await run(slack, "slack_remove_pin", {"channel": GENERAL, "ts": "1714564800.000100"})
    assert body(slack.sent("pins.add")[0]) == {"channel": GENERAL, "timestamp": "1714564800.000100"}
    assert body(slack.sent("pins.remove")[0]) == {"channel": GENERAL, "timestamp": "1714564800.000100"}


async def test_bookmarks_add_and_remove(slack: FakeSlack) -> None:
    call = await run(
        slack,
        "slack_add_bookmark",
        {"channel": GENERAL, "title": "Design doc", "link": "https://example.com/design", "emoji": "memo"},
    )
    assert body(slack.sent("bookmarks.add")[0]) == {
        "channel_id": GENERAL,
        "title": "Design doc",
        "type": "link",
        "link": "https://example.com/design",
        "emoji": ":memo:",
    }
    assert call.structured["id"] == "Bk03ABCDEF"
    await run(slack, "slack_remove_bookmark", {"channel": GENERAL, "bookmark_id": "Bk03ABCDEF"})
    assert body(slack.sent("bookmarks.remove")[0]) == {"channel_id": GENERAL, "bookmark_id": "Bk03ABCDEF"}
    assert slack.contract.checked["bookmarks.add"] == slack.contract.checked["bookmarks.remove"] == "schema"
