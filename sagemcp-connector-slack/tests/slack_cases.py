"""One sample call for every tool, shared by the contract, policy and allow-list tests.

Each entry answers the fixtures in tests/fixtures (`FakeSlack`'s defaults), except where
`prepare` queues other answers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from slack_support import FIXTURES, FakeSlack, fixture

GENERAL = "C012AB3CD"
TS = "1714564800.000100"


def _last_page(name: str) -> dict[str, Any]:
    data = fixture(name)
    data["response_metadata"] = {"next_cursor": ""}
    return data


def _canvas(fake: FakeSlack) -> None:
    fake.on("files.info", fixture("files.info.canvas"))
    fake.on_file(
        "/files-pri/T012AB3C4-F1234ABCD/download/canvas",
        httpx.Response(200, text=(FIXTURES / "canvas.html").read_text(), headers={"content-type": "text/html"}),
    )


def _upload(fake: FakeSlack) -> None:
    fake.on_file("/upload/v1/CwABAAAAXAoAAAAAAAAA", httpx.Response(200, text="OK - 2"))


def _own_message(fake: FakeSlack) -> None:
    fake.on("auth.test", {**fixture("auth.test"), "user_id": "U0ME00001"})
    fake.on("conversations.history", {"ok": True, "messages": [{"ts": TS, "user": "U0ME00001"}]})


def _lists(fake: FakeSlack) -> None:
    fake.on("conversations.list", _last_page("conversations.list"))
    fake.on("users.list", _last_page("users.list"))


Prepare = Callable[[FakeSlack], None]

READ_CALLS: dict[str, tuple[dict[str, Any], Prepare | None]] = {
    "slack_list_conversations": ({"types": ["public_channel", "private_channel", "im", "mpim"]}, None),
    "slack_get_conversation": ({"channel": "#general"}, _lists),
    "slack_find_channels": ({"query": "gen"}, _lists),
    "slack_list_messages": ({"channel": GENERAL, "window": "30d", "latest": None}, None),
    "slack_get_thread": ({"channel": GENERAL, "ts": "1482960137.003543", "limit": 5}, None),
    "slack_list_conversation_members": ({"channel": GENERAL}, None),
    "slack_get_permalink": ({"channel": GENERAL, "ts": TS}, None),
    "slack_get_reactions": ({"channel": GENERAL, "ts": TS}, None),
    "slack_search_messages": ({"query": "meaning", "in_channel": GENERAL, "window": "1d"}, None),
    "slack_list_users": ({}, None),
    "slack_get_user": ({"user": "W012A3CDE"}, None),
    "slack_find_user_by_email": ({"email": "spengler@ghostbusters.example.com"}, None),
    "slack_find_user_by_handle": ({"handle": "@glinda"}, _lists),
    "slack_list_user_groups": ({"include_disabled": True}, None),
    "slack_list_user_group_members": ({"usergroup": "S0614TZR7"}, None),
    "slack_list_pins": ({"channel": GENERAL}, None),
    "slack_list_bookmarks": ({"channel": GENERAL}, None),
    "slack_get_canvas": ({"canvas_id": "F1234ABCD"}, _canvas),
    "slack_get_auth_info": ({}, None),
    "slack_get_workspace": ({}, None),
    "slack_list_scheduled_messages": ({"channel": GENERAL}, None),
}

WRITE_CALLS: dict[str, tuple[dict[str, Any], Prepare | None]] = {
    "slack_send_message": ({"channel": GENERAL, "text": "hello"}, None),
    "slack_reply_to_thread": ({"channel": GENERAL, "thread_ts": TS, "text": "hello"}, None),
    "slack_update_message": ({"channel": GENERAL, "ts": TS, "text": "hello"}, None),
    "slack_delete_message": ({"channel": GENERAL, "ts": TS, "confirm": True}, _own_message),
    "slack_schedule_message": (
        {"channel": GENERAL, "text": "later", "post_at": str(int(time.time()) + 86400)},
        None,
    ),
    "slack_cancel_scheduled_message": ({"channel": GENERAL, "scheduled_message_id": "Q1298393284"}, None),
    "slack_open_direct_message": ({"users": ["W012A3CDE"]}, None),
    "slack_send_direct_message": ({"user": "W012A3CDE", "text": "hello"}, None),
    "slack_add_reaction": ({"channel": GENERAL, "ts": TS, "emoji": "eyes"}, None),
    "slack_remove_reaction": ({"channel": GENERAL, "ts": TS, "emoji": "eyes"}, None),
    "slack_add_pin": ({"channel": GENERAL, "ts": TS}, None),
    "slack_remove_pin": ({"channel": GENERAL, "ts": TS}, None),
    "slack_add_bookmark": ({"channel": GENERAL, "title": "Doc", "link": "https://example.com/d"}, None),
    "slack_remove_bookmark": ({"channel": GENERAL, "bookmark_id": "Bk01ABCDEF"}, None),
    "slack_upload_file": ({"filename": "a.txt", "content": "hi", "channel": GENERAL}, _upload),
    "slack_create_canvas": ({"title": "Plan", "markdown": "# Plan", "channel": GENERAL}, None),
}

ALL_CALLS = {**READ_CALLS, **WRITE_CALLS}

WRITE_METHODS = frozenset(
    {
        "chat.postMessage",
        "chat.update",
        "chat.delete",
        "chat.scheduleMessage",
        "chat.deleteScheduledMessage",
        "conversations.open",
        "reactions.add",
        "reactions.remove",
        "pins.add",
        "pins.remove",
        "bookmarks.add",
        "bookmarks.remove",
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
        "canvases.create",
        "conversations.canvases.create",
    }
)
"""Methods that change something in Slack."""


def prepared(fake: FakeSlack, tool: str) -> dict[str, Any]:
    """The sample arguments of `tool`, after queueing any answers it needs on `fake`."""
    args, prepare = ALL_CALLS[tool]
    if prepare is not None:
        prepare(fake)
    return {key: value for key, value in args.items() if value is not None}
