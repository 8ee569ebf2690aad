"""Groups `canvases` (read as Markdown) and `canvases_write` (create).

canvases.create and conversations.canvases.create are not in the 2020 description:
their requests are checked against the hand-written schemas in tests/schemas/.
"""

from __future__ import annotations

import json

import httpx
from slack_support import FIXTURES, FakeSlack, fixture, run

DOWNLOAD = "/files-pri/T012AB3C4-F1234ABCD/download/canvas"


def canvas_html() -> httpx.Response:
    return httpx.Response(200, text=(FIXTURES / "canvas.html").read_text(), headers={"content-type": "text/html"})


async def test_read_canvas_as_markdown(slack: FakeSlack) -> None:
    slack.on("files.info", fixture("files.info.canvas")).on_file(DOWNLOAD, canvas_html())
    slack.on(
        "users.info", {"ok": True, "user": {"id": "U012AB3CDE", "name": "egon", "profile": {"display_name": "Egon"}}}
    )
    call = await run(slack, "slack_get_canvas", {"canvas_id": "F1234ABCD"})
    assert not call.is_error, call.text
    assert slack.args("files.info") == {"file": "F1234ABCD"}
    download = slack.requests[-1]
    assert str(download.url) == f"https://files.slack.com{DOWNLOAD}"
    assert download.headers["authorization"] == "Bearer test-token"
    assert call.structured["title"] == "Launch plan"
    assert call.structured["owner"] == "Egon"
    assert call.structured["markdown"] == (
        "# Launch plan\n\nOwner: **Egon**. See the [brief](https://example.com/brief).\n\n## Checklist\n\n"
        "- [x] Write the announcement\n- [ ] Record the demo\n\n1. Beta\n2. GA"
    )


async def test_read_refuses_a_file_that_is_not_a_canvas(slack: FakeSlack) -> None:
    call = await run(slack, "slack_get_canvas", {"canvas_id": "F0S43PZDF"})
    assert call.is_error and "not a canvas" in call.text
    assert slack.methods() == ["files.info"]


async def test_read_never_sends_the_token_off_slack(slack: FakeSlack) -> None:
    info = fixture("files.info.canvas")
    info["file"]["url_private_download"] = "https://evil.example/steal"
    slack.on("files.info", info)
    call = await run(slack, "slack_get_canvas", {"canvas_id": "F1234ABCD"})
    assert call.is_error and "not a Slack host" in call.text
    assert all(r.url.host == "slack.com" for r in slack.requests)


async def test_create_standalone_canvas(slack: FakeSlack) -> None:
    call = await run(slack, "slack_create_canvas", {"title": "Plan", "markdown": "# Goals\n- ship"})
    assert call.structured == {"id": "F1234ABCD"}
    request = slack.sent("canvases.create")[0]
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert json.loads(request.content) == {
        "title": "Plan",
        "document_content": {"type": "markdown", "markdown": "# Goals\n- ship"},
    }
    assert slack.contract.checked["canvases.create"] == "schema"


async def test_create_channel_canvas(slack: FakeSlack) -> None:
    call = await run(slack, "slack_create_canvas", {"title": "Plan", "channel": "C012AB3CD"})
    assert call.structured == {"id": "F5678EFGH", "channel": "C012AB3CD"}
    assert slack.args("conversations.canvases.create") == {"channel_id": "C012AB3CD", "title": "Plan"}


async def test_channel_canvas_already_exists(slack: FakeSlack) -> None:
    slack.on("conversations.canvases.create", {"ok": False, "error": "channel_canvas_already_exists"})
    call = await run(slack, "slack_create_canvas", {"title": "Plan", "channel": "C012AB3CD"})
    assert call.is_error and "already has a canvas" in call.text
