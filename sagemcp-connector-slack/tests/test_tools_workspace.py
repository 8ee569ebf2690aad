"""Group `workspace`: auth.test (identity and granted scopes) and team.info."""

from __future__ import annotations

import httpx
from slack_support import FakeSlack, fixture, run


async def test_auth_test_reports_identity_and_scopes(slack: FakeSlack) -> None:
    slack.on(
        "auth.test",
        httpx.Response(
            200,
            json={**fixture("auth.test"), "bot_id": "B0123ABCD"},
            headers={"X-OAuth-Scopes": "chat:write,channels:read, users:read"},
        ),
    )
    call = await run(slack, "slack_get_auth_info")
    assert call.request.method == "GET"
    assert call.request.headers["authorization"] == "Bearer test-token"
    assert call.structured == {
        "ok": True,
        "team": "Subarachnoid Workspace",
        "team_id": "T12345678",
        "url": "https://subarachnoid.slack.com/",
        "user": "grace",
        "user_id": "W12345678",
        "bot_id": "B0123ABCD",
        "token_type": "bot",
        "scopes": ["chat:write", "channels:read", "users:read"],
    }
    assert call.text == (
        "**grace** `W12345678` `B0123ABCD` (bot token) in **Subarachnoid Workspace** `T12345678`\n"
        "URL: https://subarachnoid.slack.com/\n"
        "Scopes: chat:write, channels:read, users:read"
    )


async def test_auth_test_user_token(slack: FakeSlack) -> None:
    call = await run(slack, "slack_get_auth_info")
    assert call.structured["token_type"] == "user"


async def test_team_info(slack: FakeSlack) -> None:
    call = await run(slack, "slack_get_workspace")
    assert call.structured == {
        "id": "T12345",
        "name": "My Team",
        "domain": "example",
        "email_domain": "example.com",
        "url": "https://example.slack.com",
    }
    assert call.text == "**My Team** `T12345`\nURL: https://example.slack.com\nEmail domain: example.com"
