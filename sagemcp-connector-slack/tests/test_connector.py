"""The connector class: contract checks, entry point, tool groups, auth schemes, OAuth v2 and configuration."""

from __future__ import annotations

import base64
import json
import re
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import ValidationError

from sagemcp import BearerToken, Credential, OAuth2
from sagemcp.errors import TokenEndpointError
from sagemcp.platform import Authorization, ConnectorRegistry, OAuthApp, OAuthFlows, ToolPolicy
from sagemcp.testing import assert_connector_valid
from sagemcp_slack import SlackConfig, SlackConnector
from sagemcp_slack._scopes import CONVERSATION_READ
from sagemcp_slack.connector import ALWAYS_SCOPES, DEFAULT_GROUPS, WRITE_GROUPS

TOOL_NAME = re.compile(
    r"^slack_(list|get|search|find|create|update|delete|add|remove|send|reply|schedule|cancel|open|upload)_[a-z_]+$"
)

# CONNECTORS.md's Slack baseline and target capabilities, and the tool that covers each.
CAPABILITIES = {
    "conversations_history": "slack_list_messages",
    "conversations_replies": "slack_get_thread",
    "conversations_add_message": "slack_send_message",
    "conversations_search_messages": "slack_search_messages",
    "conversations_list": "slack_list_conversations",
    "conversations_info": "slack_get_conversation",
    "users_list": "slack_list_users",
    "users_info": "slack_get_user",
    "users_lookup_by_email": "slack_find_user_by_email",
    "reactions_add": "slack_add_reaction",
    "reactions_remove": "slack_remove_reaction",
    "auth_test": "slack_get_auth_info",
    "reply in thread": "slack_reply_to_thread",
    "update own message": "slack_update_message",
    "delete own message": "slack_delete_message",
    "schedule message": "slack_schedule_message",
    "permalink": "slack_get_permalink",
    "open a DM": "slack_open_direct_message",
    "send to a user": "slack_send_direct_message",
    "channel lookup by #name": "slack_find_channels",
    "user lookup by @handle": "slack_find_user_by_handle",
    "user groups": "slack_list_user_groups",
    "pins": "slack_list_pins",
    "bookmarks": "slack_list_bookmarks",
    "canvas create": "slack_create_canvas",
    "canvas read": "slack_get_canvas",
    "file upload": "slack_upload_file",
}


def oauth() -> OAuth2:
    scheme = SlackConnector.oauth2()
    assert scheme is not None
    return scheme


def test_contract_checks_pass() -> None:
    assert_connector_valid(SlackConnector)


def test_entry_point_loads_the_class() -> None:
    registry = ConnectorRegistry.from_entry_points(["slack"])
    assert registry.failures == []
    assert registry.get("slack") is SlackConnector


def test_tool_count_and_capabilities() -> None:
    assert len(SlackConnector.tools) >= 20
    for capability, name in CAPABILITIES.items():
        assert name in SlackConnector.tools, f"{capability} is not covered by {name}"


def test_tool_names_are_connector_verb_object() -> None:
    for name in SlackConnector.tools:
        assert TOOL_NAME.match(name), f"{name} is not slack_{{verb}}_{{object}} with a shared verb"


def test_groups_are_resources_and_writes_sit_in_resource_write_groups() -> None:
    assert set(WRITE_GROUPS) == {"messages_write", "pins_write", "bookmarks_write", "files_write", "canvases_write"}
    assert set(DEFAULT_GROUPS) == {
        "conversations",
        "messages",
        "users",
        "search",
        "pins",
        "bookmarks",
        "canvases",
        "workspace",
    }
    for spec in SlackConnector.tools.values():
        if not spec.read_only:
            assert spec.group in WRITE_GROUPS, f"{spec.name} writes but sits in {spec.group}"


def test_write_groups_are_off_by_default() -> None:
    assert set(DEFAULT_GROUPS) == set(SlackConnector.groups()) - set(WRITE_GROUPS)
    assert SlackConnector.info.default_groups == DEFAULT_GROUPS
    for spec in SlackConnector.tools.values():
        if spec.group not in WRITE_GROUPS:
            assert spec.read_only, f"{spec.name} changes Slack but sits in the default-on group {spec.group}"


def test_write_tools_declare_truthful_hints() -> None:
    tools = SlackConnector.tools
    assert not tools["slack_send_message"].read_only
    assert not tools["slack_send_message"].annotations.idempotent
    assert tools["slack_delete_message"].annotations.destructive
    assert tools["slack_update_message"].annotations.destructive
    assert not tools["slack_add_reaction"].annotations.destructive
    assert tools["slack_add_reaction"].annotations.idempotent
    assert not tools["slack_upload_file"].read_only
    assert not tools["slack_create_canvas"].read_only
    assert tools["slack_list_messages"].read_only


def test_write_groups_ask_for_the_channel_reads_of_the_allow_list_check() -> None:
    for group in WRITE_GROUPS:
        scopes = SlackConnector.oauth_scopes(ToolPolicy(groups=[group]))
        assert set(CONVERSATION_READ) <= set(scopes), group
        assert scopes[0] == ALWAYS_SCOPES[0]


def test_search_scopes_go_to_the_user_token_only() -> None:
    policy = ToolPolicy(groups=["search"])
    assert SlackConnector.oauth_scopes(policy) == list(ALWAYS_SCOPES)
    assert SlackConnector.linked_oauth_scopes(policy) == {"user": ["search:read"]}
    assert "search:read" not in SlackConnector.oauth_scopes(None)


def test_oauth_v2_endpoints_and_quirks() -> None:
    scheme = oauth()
    assert scheme.authorize_url == "https://slack.com/oauth/v2/authorize"
    assert scheme.token_url == "https://slack.com/api/oauth.v2.access"
    assert scheme.scope_separator == ","
    assert scheme.token_auth_method == "client_secret_basic"
    assert scheme.token_response_hook is not None
    assert any(isinstance(s, BearerToken) for s in SlackConnector.auth)


def test_scopes_follow_enabled_tools() -> None:
    defaults = SlackConnector.oauth_scopes(ToolPolicy())
    assert defaults == SlackConnector.oauth_scopes(ToolPolicy(groups=list(DEFAULT_GROUPS)))
    assert defaults == [
        "users:read",
        "bookmarks:read",
        "channels:history",
        "channels:read",
        "files:read",
        "groups:history",
        "groups:read",
        "im:history",
        "im:read",
        "mpim:history",
        "mpim:read",
        "pins:read",
        "reactions:read",
        "team:read",
        "usergroups:read",
        "users:read.email",
    ]
    assert "chat:write" in SlackConnector.oauth_scopes(ToolPolicy(groups=["messages_write"]))
    assert "canvases:write" in SlackConnector.oauth_scopes(ToolPolicy(groups=["canvases_write"]))
    read_only = SlackConnector.oauth_scopes(ToolPolicy(groups=["messages_write", "files_write"], read_only=True))
    assert "chat:write" in read_only  # slack_list_scheduled_messages reads with chat:write
    assert "files:write" not in read_only and "reactions:write" not in read_only


APP = OAuthApp(tenant_id="t1", provider="slack", client_id="123.456", client_secret="app-secret")  # type: ignore[arg-type]

V2_RESPONSE = {
    "ok": True,
    "access_token": "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
    "token_type": "bot",
    "scope": "users:read,channels:read,channels:history",
    "bot_user_id": "U0KRQLJ9H",
    "app_id": "A0KRD7HC3",
    "team": {"name": "Slack Softball Team", "id": "T9TK3CUKW"},
    "enterprise": None,
    "is_enterprise_install": False,
    "authed_user": {
        "id": "U1234",
        "scope": "search:read",
        "access_token": "xoxp-1234-secret-user",
        "token_type": "user",
    },
}


async def exchange(response: dict[str, object], status: int = 200) -> tuple[Authorization, list[httpx.Request]]:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(status, json=response)

    flows = OAuthFlows(transport=httpx.MockTransport(handler))
    _, pending = flows.begin(
        oauth(), APP, tenant_id="t1", provider="slack", redirect_uri="https://mcp.example/cb", scopes=["users:read"]
    )
    result = await flows.complete(
        oauth(), APP, pending, code="the-code", state=pending.state, tenant_id="t1", provider="slack"
    )
    return result, sent


def test_authorization_url_uses_v2_and_comma_scopes() -> None:
    flows = OAuthFlows()
    scopes = SlackConnector.oauth_scopes(ToolPolicy(groups=["conversations"]))
    url, pending = flows.begin(
        oauth(), APP, tenant_id="t1", provider="slack", redirect_uri="https://mcp.example/cb", scopes=scopes
    )
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://slack.com/oauth/v2/authorize"
    assert query["scope"] == [",".join(scopes)]
    assert "user_scope" not in query
    assert query["client_id"] == ["123.456"]
    assert "code_challenge" not in query
    assert pending.code_verifier is None


def test_authorization_url_asks_for_user_scopes_when_search_is_enabled() -> None:
    flows = OAuthFlows()
    scheme = oauth()
    assert SlackConnector.linked_oauth_scopes(ToolPolicy(groups=["conversations"])) == {}
    url, _ = flows.begin(
        scheme,
        APP,
        tenant_id="t1",
        provider="slack",
        redirect_uri="https://mcp.example/cb",
        scopes=SlackConnector.oauth_scopes(ToolPolicy()),
        linked_scopes=SlackConnector.linked_oauth_scopes(ToolPolicy()),
    )
    query = parse_qs(urlsplit(url).query)
    assert query["user_scope"] == ["search:read"]
    assert "search:read" not in query["scope"][0].split(",")


async def test_code_exchange_keeps_the_bot_token_and_the_user_token_as_linked() -> None:
    result, sent = await exchange(V2_RESPONSE)
    credential = result.credential
    assert credential.access_token.get_secret_value() == V2_RESPONSE["access_token"]
    assert credential.scopes == ["users:read", "channels:read", "channels:history"]
    assert credential.extra["team_id"] == "T9TK3CUKW"
    assert credential.extra["bot_user_id"] == "U0KRQLJ9H"
    assert credential.extra["authed_user_id"] == "U1234"
    assert credential.extra["token_type"] == "bot"
    assert credential.account == "Slack Softball Team (bot)"
    dumped = json.dumps(credential.model_dump(mode="json")) + str(credential.refresh_token)
    assert "xoxp-1234-secret-user" not in dumped
    user = result.linked["user"]
    assert user.provider == "slack:user"
    assert user.access_token.get_secret_value() == "xoxp-1234-secret-user"
    assert user.scopes == ["search:read"]
    assert user.extra["token_type"] == "user"
    assert user.extra["authed_user_id"] == "U1234"
    assert user.account == "Slack Softball Team (user)"
    # Slack asks for the client credentials with HTTP Basic on oauth.v2.access.
    (request,) = sent
    assert str(request.url) == "https://slack.com/api/oauth.v2.access"
    expected = "Basic " + base64.b64encode(b"123.456:app-secret").decode()
    assert request.headers["authorization"] == expected
    assert parse_qs(request.content.decode())["code"] == ["the-code"]


async def test_user_only_installation_keeps_the_nested_user_token() -> None:
    response = {
        "ok": True,
        "app_id": "A0KRD7HC3",
        "team": {"id": "T9TK3CUKW", "name": "Softball"},
        "authed_user": {
            "id": "U1234",
            "scope": "search:read,channels:history",
            "access_token": "xoxp-1234-user",
            "token_type": "user",
        },
    }
    result, _ = await exchange(response)
    credential = result.credential
    assert result.linked == {}
    assert credential.access_token.get_secret_value() == "xoxp-1234-user"
    assert credential.scopes == ["search:read", "channels:history"]
    assert credential.extra["token_type"] == "user"


async def test_token_rotation_refresh_tokens_and_expiry() -> None:
    rotating = {**V2_RESPONSE, "refresh_token": "xoxe-1-first-refresh", "expires_in": 43200}
    rotating["access_token"] = "xoxe.xoxb-1-first-access"
    rotating["authed_user"] = {
        **V2_RESPONSE["authed_user"],  # type: ignore[dict-item]
        "access_token": "xoxe.xoxp-1-user-access",
        "refresh_token": "xoxe-1-user-refresh",
        "expires_in": 43200,
    }
    result, _ = await exchange(rotating)
    credential = result.credential
    user = result.linked["user"]
    assert user.refresh_token is not None
    assert user.refresh_token.get_secret_value() == "xoxe-1-user-refresh"
    assert user.expires_at is not None and abs(user.expires_at - (time.time() + 43200)) < 60
    assert credential.refresh_token is not None
    assert credential.refresh_token.get_secret_value() == "xoxe-1-first-refresh"
    assert credential.expires_at is not None and abs(credential.expires_at - (time.time() + 43200)) < 60

    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(
            200,
            json={
                "ok": True,
                "access_token": "xoxe.xoxb-1-second-access",
                "refresh_token": "xoxe-1-second-refresh",
                "expires_in": 43200,
                "token_type": "bot",
                "scope": "users:read,channels:read",
                "team": {"id": "T9TK3CUKW", "name": "Slack Softball Team"},
            },
        )

    renewed = await OAuthFlows(transport=httpx.MockTransport(handler)).refresh(oauth(), APP, credential)
    body = parse_qs(sent[0].content.decode())
    assert body["grant_type"] == ["refresh_token"]
    assert body["refresh_token"] == ["xoxe-1-first-refresh"]
    assert renewed.access_token.get_secret_value() == "xoxe.xoxb-1-second-access"
    assert renewed.refresh_token is not None
    assert renewed.refresh_token.get_secret_value() == "xoxe-1-second-refresh"
    assert renewed.version == credential.version + 1
    assert renewed.extra["bot_user_id"] == "U0KRQLJ9H"  # kept from the first exchange


async def test_ok_false_token_answer_is_a_token_endpoint_error() -> None:
    with pytest.raises(TokenEndpointError) as caught:
        await exchange({"ok": False, "error": "invalid_code"})
    assert caught.value.error == "invalid_code"
    assert "invalid_code" in caught.value.message


def test_bearer_tokens_are_sent_as_authorization_headers() -> None:
    scheme = SlackConnector.scheme_for("bearer")
    assert scheme is not None
    credential = Credential(tenant_id="t", provider="slack", kind="bearer", access_token="xoxb-test-1")  # type: ignore[arg-type]
    assert scheme.headers(credential) == {"Authorization": "Bearer xoxb-test-1"}


@pytest.mark.parametrize(
    "url",
    ["https://slack.com/api", "https://slack.com/api/", "http://127.0.0.1:8080/api", "http://localhost:9000/api"],
)
def test_api_url_accepted(url: str) -> None:
    config = SlackConnector.parse_config({"api_url": url})
    assert SlackConnector.api_base_url(config, None) == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "http://slack.com/api",
        "ftp://slack.com/api",
        "https://10.0.0.5/api",
        "https://169.254.169.254/latest",
        "https://192.168.1.1/api",
        "https://user:pass@slack.com/api",
        "https://slack.com/api?x=1",
        "https://slack.com/api#frag",
        "https://slack.com/../api",
        "slack.com/api",
    ],
)
def test_api_url_refused(url: str) -> None:
    with pytest.raises(ValidationError):
        SlackConnector.parse_config({"api_url": url})


def test_default_config() -> None:
    config = SlackConnector.parse_config({})
    assert isinstance(config, SlackConfig)
    assert SlackConnector.api_base_url(config, None) == "https://slack.com/api"
    assert config.allowed_channels == []


def test_allowed_channels_are_normalised_and_checked() -> None:
    config = SlackConfig(allowed_channels=["#General", "C012AB3CD", "@Alice", "U0123ABCD", "#general"])
    assert config.allowed_channels == ["#general", "C012AB3CD", "@alice", "U0123ABCD"]
    for bad in ("general", "#with space", "c012ab3cd", "<#C1>", ""):
        with pytest.raises(ValidationError):
            SlackConfig(allowed_channels=[bad])


def test_unknown_configuration_keys_are_refused() -> None:
    with pytest.raises(ValidationError):
        SlackConnector.parse_config({"alowed_channels": ["#general"]})


async def test_revocation_calls_auth_revoke_with_the_access_token() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"ok": True, "revoked": True})

    # With token rotation the access token is what auth.revoke revokes, never the refresh token.
    credential = Credential(
        tenant_id="t1",
        provider="slack",
        access_token="xoxe.xoxb-to-revoke",  # type: ignore[arg-type]
        refresh_token="xoxe-1-refresh",  # type: ignore[arg-type]
    )
    revoked = await OAuthFlows(transport=httpx.MockTransport(handler)).revoke(oauth(), APP, credential)
    assert revoked is True
    (request,) = sent
    assert str(request.url) == "https://slack.com/api/auth.revoke"
    assert request.method == "POST"
    assert request.headers["authorization"] == "Bearer xoxe.xoxb-to-revoke"
    assert b"xoxe-1-refresh" not in request.content
    assert "app-secret" not in request.headers["authorization"]


@pytest.mark.parametrize("error", ["invalid_auth", "token_revoked", "not_authed"])
async def test_revocation_refused_with_ok_false_is_reported_as_not_revoked(error: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"ok": False, "error": error})

    credential = Credential(tenant_id="t1", provider="slack", access_token="xoxb-gone")  # type: ignore[arg-type]
    assert await OAuthFlows(transport=httpx.MockTransport(handler)).revoke(oauth(), APP, credential) is False
