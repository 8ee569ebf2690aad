"""Group `pins`: pinned messages and files, paged here (pins.list returns them all)."""

from __future__ import annotations

from slack_support import FakeSlack, run


async def test_pins_list(slack: FakeSlack) -> None:
    slack.on(
        "users.info", {"ok": True, "user": {"id": "U2U85N1RZ", "name": "zaphod", "profile": {"display_name": "Zaphod"}}}
    )
    call = await run(slack, "slack_list_pins", {"channel": "C2U86NC6H"})
    assert slack.args("pins.list") == {"channel": "C2U86NC6H"}
    first = call.structured["items"][0]
    assert first["type"] == "message"
    assert first["created_by"] == "Zaphod"
    assert first["created"] == "2017-10-24T21:37:58Z"
    assert first["message"]["text"] == "What is the meaning of life?"
    assert first["message"]["author"] == "Zaphod"
    assert len(slack.sent("users.info")) == 1  # one lookup for the whole call


async def test_pins_paged_by_offset(slack: FakeSlack) -> None:
    page = await run(slack, "slack_list_pins", {"channel": "C2U86NC6H", "limit": 1})
    assert len(page.structured["items"]) == 1
    rest = await run(slack, "slack_list_pins", {"channel": "C2U86NC6H", "cursor": page.structured["next_cursor"]})
    assert rest.structured["items"][0]["message"]["ts"] == "1503289197.000015"
    assert rest.structured.get("next_cursor") is None
