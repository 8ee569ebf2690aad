"""Group `files_write`: the two-step upload (files.getUploadURLExternal, upload, files.completeUploadExternal).

Neither method is in the 2020 description (which still has the retired files.upload):
their requests are checked against tests/schemas/, written from Slack's documentation.
"""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace
from urllib.parse import parse_qs

import httpx
import pytest
from slack_support import ALL_GROUPS, FILE_HOST, FakeSlack, fixture, run

from sagemcp import Credential
from sagemcp.errors import UpstreamBadResponse
from sagemcp.platform import UpstreamClient, bind_upstream
from sagemcp.testing import call_tool
from sagemcp_slack import SlackConfig, SlackConnector
from sagemcp_slack._files import FILES_ORIGIN, check_file_url

UPLOAD_PATH = "/upload/v1/CwABAAAAXAoAAAAAAAAA"
BOT_TOKEN = "xoxb-1234-5678-bot-token"
USER_TOKEN = "xoxp-1234-5678-user-token"


async def test_upload_text_file_and_share_it(slack: FakeSlack) -> None:
    slack.on_file(UPLOAD_PATH, httpx.Response(200, text="OK - 7"))
    slack.on(
        "files.completeUploadExternal",
        {
            "ok": True,
            "files": [
                {
                    "id": "F07ABCDEF12",
                    "title": "Q2",
                    "name": "report.csv",
                    "permalink": "https://example.slack.com/files/U1/F07ABCDEF12/report.csv",
                    "size": 7,
                }
            ],
        },
    )
    call = await run(
        slack,
        "slack_upload_file",
        {
            "filename": "report.csv",
            "content": "a,b\n1,2",
            "title": "Q2",
            "channel": "C012AB3CD",
            "thread_ts": "1714564800.000100",
            "initial_comment": "**Numbers** for Q2",
        },
    )
    assert not call.is_error, call.text
    ticket, upload, complete = slack.requests
    assert ticket.method == "POST" and ticket.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(ticket.content.decode()) == {"filename": ["report.csv"], "length": ["7"]}
    # The bytes go to the returned URL, with the token core adds for the declared file host.
    assert (upload.method, str(upload.url)) == ("POST", f"https://files.slack.com{UPLOAD_PATH}")
    assert upload.headers["authorization"] == "Bearer test-token"
    assert upload.content == b"a,b\n1,2"
    assert [r for r in slack.requests if r.url.host == FILE_HOST] == [upload]
    fields = parse_qs(complete.content.decode())
    assert json.loads(fields["files"][0]) == [{"id": "F07ABCDEF12", "title": "Q2"}]
    assert fields["channel_id"] == ["C012AB3CD"]
    assert fields["thread_ts"] == ["1714564800.000100"]
    assert fields["initial_comment"] == ["*Numbers* for Q2"]
    assert slack.contract.checked == {
        "files.getUploadURLExternal": "schema",
        "files.completeUploadExternal": "schema",
    }
    assert call.structured == {
        "id": "F07ABCDEF12",
        "title": "Q2",
        "name": "report.csv",
        "permalink": "https://example.slack.com/files/U1/F07ABCDEF12/report.csv",
        "channel": "C012AB3CD",
        "size": 7,
    }


async def test_upload_carries_the_bot_token_to_the_file_host_and_nothing_else_goes_there(slack: FakeSlack) -> None:
    slack.on_file(UPLOAD_PATH, httpx.Response(200, text="OK"))
    bot = Credential(tenant_id="test", provider="slack", kind="oauth2", access_token=BOT_TOKEN)
    user = Credential(tenant_id="test", provider="slack:user", kind="oauth2", access_token=USER_TOKEN)
    call = await call_tool(
        SlackConnector,
        "slack_upload_file",
        {"filename": "a.txt", "content": "hello"},
        handler=slack,
        credential=bot,
        linked={"user": user},
        policy=ALL_GROUPS,
    )
    assert not call.is_error, call.text
    on_file_host = [r for r in slack.requests if r.url.host == FILE_HOST]
    assert [(r.method, r.url.path, r.content) for r in on_file_host] == [("POST", UPLOAD_PATH, b"hello")]
    assert on_file_host[0].headers["authorization"] == f"Bearer {BOT_TOKEN}"
    api = [r for r in slack.requests if r.url.host != FILE_HOST]
    assert {r.url.host for r in api} == {"slack.com"}
    assert {r.headers["authorization"] for r in slack.requests} == {f"Bearer {BOT_TOKEN}"}


def test_the_file_host_is_a_declared_credential_origin() -> None:
    assert SlackConnector.extra_origins == (FILES_ORIGIN,) == ("https://files.slack.com",)
    assert SlackConnector.credential_origins(SlackConfig(), None) == (FILES_ORIGIN,)


async def test_upload_binary_private_file(slack: FakeSlack) -> None:
    slack.on_file(UPLOAD_PATH, httpx.Response(200, text="OK"))
    data = bytes(range(256))
    call = await run(
        slack, "slack_upload_file", {"filename": "blob.bin", "content_base64": base64.b64encode(data).decode()}
    )
    assert not call.is_error, call.text
    assert slack.requests[1].content == data
    fields = parse_qs(slack.requests[2].content.decode())
    assert set(fields) == {"files"}


async def test_upload_argument_checks_send_nothing(slack: FakeSlack) -> None:
    for args, text in [
        ({"filename": "a.txt"}, "exactly one of content"),
        ({"filename": "a.txt", "content": "x", "content_base64": "eA=="}, "exactly one of content"),
        ({"filename": "a.txt", "content_base64": "not base64!"}, "not valid base64"),
        ({"filename": "a.txt", "content": "x", "thread_ts": "1714564800.000100"}, "thread_ts needs channel"),
        ({"filename": "../etc/passwd", "content": "x"}, "filename"),
    ]:
        call = await run(slack, "slack_upload_file", args)
        assert call.is_error and text in call.text, call.text
    assert slack.requests == []


async def test_upload_url_off_slack_is_refused(slack: FakeSlack) -> None:
    ticket = fixture("files.getUploadURLExternal")
    ticket["upload_url"] = "http://files.slack.com/upload/v1/x"  # plain http
    slack.on("files.getUploadURLExternal", ticket)
    call = await run(slack, "slack_upload_file", {"filename": "a.txt", "content": "x"})
    assert call.is_error and "not a Slack host" in call.text
    assert slack.methods() == ["files.getUploadURLExternal"]
    assert len(slack.requests) == 1


async def test_upload_url_on_another_host_is_refused_before_anything_is_sent(slack: FakeSlack) -> None:
    ticket = fixture("files.getUploadURLExternal")
    ticket["upload_url"] = "https://uploads.evil.example/upload/v1/x"
    slack.on("files.getUploadURLExternal", ticket)
    call = await run(slack, "slack_upload_file", {"filename": "a.txt", "content": "x"})
    assert call.is_error and "not a Slack host" in call.text
    assert [r.url.host for r in slack.requests] == ["slack.com"]


async def test_failed_upload_stops_before_completion(slack: FakeSlack) -> None:
    slack.on_file(UPLOAD_PATH, httpx.Response(500, text="boom"))
    call = await run(slack, "slack_upload_file", {"filename": "a.txt", "content": "x"})
    assert call.is_error
    assert slack.methods() == ["files.getUploadURLExternal"]
    assert len(slack.requests) == 2  # not retried: a POST


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://files.slack.com/upload/v1/abc", True),
        ("https://FILES.slack.com:443/upload", True),
        ("http://127.0.0.1:8080/upload/v1/abc", True),  # the configured api_url's origin (a dev fake)
        ("https://slack.com/upload", False),  # not the API origin here, nor the file host
        ("https://other.slack.com/upload", False),
        ("http://files.slack.com/upload", False),
        ("https://files.slack.com:8443/upload", False),
        ("https://slack.com.evil.example/upload", False),
        ("https://evilslack.com/upload", False),
        ("https://user:pw@files.slack.com/upload", False),
        ("http://127.0.0.1:9999/upload", False),
        ("https://169.254.169.254/latest/meta-data", False),
        ("/upload/v1/abc", False),
        ("not a url", False),
        (None, False),
    ],
)
async def test_file_hosts(url: str, allowed: bool) -> None:
    config = SlackConfig(api_url="http://127.0.0.1:8080/api")
    async with UpstreamClient() as upstream:
        http = bind_upstream(upstream, SlackConnector, SlackConnector(), config, None)
        ctx = SimpleNamespace(config=config, http=http)
        if allowed:
            assert check_file_url(ctx, url) == str(httpx.URL(url))  # type: ignore[arg-type]
        else:
            with pytest.raises(UpstreamBadResponse):
                check_file_url(ctx, url)  # type: ignore[arg-type]
