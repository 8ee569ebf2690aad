"""OAuth scopes come from the tools: `@tool(scopes=...)` is the one place a connector declares them."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from pydantic import SecretStr

from sagemcp import BearerToken, Connector, ConnectorInfo, LinkedToken, OAuth2, ToolContext, tool
from sagemcp.catalog import render_tools_markdown
from sagemcp.platform import OAuthApp, OAuthFlows, ToolPolicy


class Chat(Connector):
    info = ConnectorInfo(
        id="chat", title="Chat", description="A chat service with bot and user tokens.", default_groups=("read",)
    )
    auth = (
        OAuth2(
            authorize_url="https://chat.example/authorize",
            token_url="https://chat.example/token",
            scopes=("identify",),
            linked_tokens=(LinkedToken("user", "user_scope"),),
        ),
        BearerToken(),
    )

    @tool(read_only=True, group="read", scopes=("history:read", "channels:read"))
    async def history(self, ctx: ToolContext) -> str:
        """Read a channel."""
        return ""

    @tool(read_only=True, group="read", scopes=("channels:read",))
    async def channels(self, ctx: ToolContext) -> str:
        """List channels."""
        return ""

    @tool(read_only=True, group="read")
    async def ping(self, ctx: ToolContext) -> str:
        """Needs no scope."""
        return ""

    @tool(read_only=False, group="write", scopes=("chat:write", "identify"))
    async def post(self, ctx: ToolContext) -> str:
        """Post a message."""
        return ""

    @tool(read_only=True, group="search", token="user", scopes=("search:read",))
    async def search(self, ctx: ToolContext) -> str:
        """Search, with the user token."""
        return ""

    @tool(read_only=True, group="search", token="admin", scopes=("admin:read",))
    async def audit(self, ctx: ToolContext) -> str:
        """Prefers a token OAuth never issues; its scopes go to the main token, which it falls back to."""
        return ""


def test_default_policy_asks_for_the_default_groups_tools() -> None:
    assert Chat.oauth_scopes(ToolPolicy()) == ["identify", "channels:read", "history:read"]
    assert Chat.linked_oauth_scopes(ToolPolicy()) == {}


def test_scopes_follow_groups_tools_and_read_only() -> None:
    assert Chat.oauth_scopes(ToolPolicy(groups=["write"])) == ["identify", "chat:write"]
    assert Chat.oauth_scopes(ToolPolicy(groups=["read", "write"], read_only=True)) == [
        "identify",
        "channels:read",
        "history:read",
    ]
    assert Chat.oauth_scopes(ToolPolicy(groups=["read"], exclude_tools=["chat_history"])) == [
        "identify",
        "channels:read",
    ]
    assert Chat.oauth_scopes(ToolPolicy(groups=[], include_tools=["chat_post"])) == ["identify", "chat:write"]


def test_linked_tokens_get_the_scopes_of_their_tools() -> None:
    policy = ToolPolicy(groups=["search"])
    assert Chat.oauth_scopes(policy) == ["identify", "admin:read"]
    assert Chat.linked_oauth_scopes(policy) == {"user": ["search:read"]}


def test_no_policy_means_every_tool() -> None:
    assert Chat.oauth_scopes(None) == ["identify", "admin:read", "channels:read", "chat:write", "history:read"]
    assert Chat.linked_oauth_scopes(None) == {"user": ["search:read"]}


def test_linked_token_scopes_of_its_own_are_always_requested() -> None:
    class Always(Chat):
        info = ConnectorInfo(id="always", title="A", description="d", default_groups=("read",))
        auth = (
            OAuth2(
                authorize_url="https://chat.example/authorize",
                token_url="https://chat.example/token",
                linked_tokens=(LinkedToken("user", "user_scope", scopes=("openid",)),),
            ),
        )

    assert Always.linked_oauth_scopes(ToolPolicy()) == {"user": ["openid"]}
    assert Always.linked_oauth_scopes(ToolPolicy(groups=["search"])) == {"user": ["openid", "search:read"]}


def test_a_connector_without_oauth_still_reports_its_tools_scopes() -> None:
    class Pat(Connector):
        info = ConnectorInfo(id="pat", title="P", description="d")
        auth = (BearerToken(),)

        @tool(read_only=True, group="g", scopes=("repo",))
        async def repos(self, ctx: ToolContext) -> str:
            """Repositories."""
            return ""

    assert Pat.oauth_scopes(None) == ["repo"]
    assert Pat.linked_oauth_scopes(None) == {}


def test_the_authorize_url_carries_the_tools_scopes() -> None:
    scheme = Chat.oauth2()
    assert scheme is not None
    app = OAuthApp(tenant_id="t1", provider="chat", client_id="c1", client_secret=SecretStr("s" * 16))
    policy = ToolPolicy(groups=["read", "search"])
    url, pending = OAuthFlows().begin(
        scheme,
        app,
        tenant_id="t1",
        provider="chat",
        redirect_uri="https://sagemcp.example/cb",
        scopes=Chat.oauth_scopes(policy),
        linked_scopes=Chat.linked_oauth_scopes(policy),
    )
    query = parse_qs(urlsplit(url).query)
    assert query["scope"] == ["identify admin:read channels:read history:read"]
    assert query["user_scope"] == ["search:read"]
    assert pending.scopes == ("identify", "admin:read", "channels:read", "history:read")


def test_the_catalog_lists_scopes_per_group_from_the_tools() -> None:
    text = render_tools_markdown(Chat)
    assert "| (always) | `identify` |" in text
    assert "| `read` | `channels:read`, `history:read` |" in text
    assert "| `search` | `admin:read`, `search:read` (user token) |" in text
    assert "| `write` | `chat:write` |" in text
