"""Group `bookmarks`: channel bookmarks (bookmarks.* is not in the 2020 description: hand-written schemas)."""

from __future__ import annotations

from slack_support import FakeSlack, run


async def test_bookmarks_list(slack: FakeSlack) -> None:
    call = await run(slack, "slack_list_bookmarks", {"channel": "C012AB3CD"})
    assert slack.args("bookmarks.list") == {"channel_id": "C012AB3CD"}
    assert slack.contract.checked["bookmarks.list"] == "schema"
    assert call.structured["items"][0] == {
        "id": "Bk01ABCDEF",
        "title": "Roadmap",
        "link": "https://example.com/roadmap",
        "emoji": ":world_map:",
        "type": "link",
        "created": "2022-03-24T18:57:33Z",
    }
    assert call.structured["channel"] == "C012AB3CD"
