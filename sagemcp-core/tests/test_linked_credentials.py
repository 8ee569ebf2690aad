"""Linked credentials: a second token from one authorization (Slack's user token next to the bot token).

Covers the authorize URL, the code exchange producing both credentials, refresh and revocation of
a linked credential with the base provider's OAuth app, the bearer revocation style with `ok: false`
answers, `@tool(token=...)` validation, and, over real HTTP with the official MCP client, a tool
preferring the linked credential and falling back to the main one.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from pydantic import SecretStr

from sagemcp import BearerToken, Connector, ConnectorInfo, Credential, LinkedToken, OAuth2, ToolContext, tool
from sagemcp.errors import DefinitionError
from sagemcp.mcp import McpSettings, create_mcp_app
from sagemcp.platform import (
    ConnectorConfig,
    ConnectorRegistry,
    CredentialManager,
    MemoryStore,
    OAuthApp,
    OAuthFlows,
    Tenant,
    ToolPolicy,
    UpstreamClient,
    base_provider,
    linked_provider,
)
from sagemcp.testing import call_tool

from ._support import http2_client, serve

TOKEN_URL = "https://auth.example/token"
REVOKE_URL = "https://auth.example/revoke"
SECRET = "client-secret-linked"


def hook(raw: dict[str, Any]) -> dict[str, Any]:
    """Like Slack's: the main token at the top, the user token nested under `authed_user`."""
    user = raw.get("authed_user") or {}
    out: dict[str, Any] = {k: raw.get(k) for k in ("access_token", "refresh_token", "expires_in", "scope")}
    if user.get("access_token"):
        out["linked"] = {"user": {k: user.get(k) for k in ("access_token", "refresh_token", "expires_in", "scope")}}
    return out


SCHEME = OAuth2(
    authorize_url="https://auth.example/authorize",
    token_url=TOKEN_URL,
    revoke_url=REVOKE_URL,
    pkce=False,
    scope_separator=",",
    scopes=("chat:read",),
    token_response_hook=hook,
    linked_tokens=(LinkedToken(name="user", scope_param="user_scope"),),
)
APP = OAuthApp(tenant_id="t1", provider="chat", client_id="client-1", client_secret=SecretStr(SECRET))


class Chat(Connector):
    info = ConnectorInfo(id="chat", title="Chat", description="A chat service with bot and user tokens.")
    auth = (SCHEME, BearerToken())
    base_url = "https://chat.example"

    @tool(read_only=True, group="read")
    async def who(self, ctx: ToolContext) -> dict[str, str]:
        """Which credential the call used."""
        response = await ctx.http.get("/who")
        return {"provider": ctx.credential.provider if ctx.credential else "", "sent": response.json()["auth"]}

    @tool(read_only=True, group="search", token="user", scopes=("search:read",))
    async def search(self, ctx: ToolContext) -> dict[str, str]:
        """Which credential a user-token tool used."""
        response = await ctx.http.get("/who")
        return {"provider": ctx.credential.provider if ctx.credential else "", "sent": response.json()["auth"]}


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode(), keep_blank_values=True).items()}


def test_linked_provider_keys() -> None:
    assert linked_provider("slack", "user") == "slack:user"
    assert linked_provider("slack:user", "user") == "slack:user"
    assert base_provider("slack:user") == "slack"
    assert base_provider("slack") == "slack"
    with pytest.raises(ValueError, match="linked token name"):
        linked_provider("slack", "User Token")


def test_scheme_definitions_are_checked() -> None:
    with pytest.raises(ValueError, match="unique"):
        OAuth2(linked_tokens=(LinkedToken("user", "a"), LinkedToken("user", "b")))
    with pytest.raises(ValueError, match="scope parameter"):
        OAuth2(linked_tokens=(LinkedToken("user", "scope"),))
    with pytest.raises(ValueError, match="must match"):
        LinkedToken("User", "user_scope")
    with pytest.raises(DefinitionError, match="tool token"):
        tool(read_only=True, group="g", token="no spaces")


def test_authorize_url_asks_for_linked_scopes() -> None:
    flows = OAuthFlows()
    linked = Chat.linked_oauth_scopes(ToolPolicy(groups=["read", "search"]))
    assert linked == {"user": ["search:read"]}
    assert Chat.linked_oauth_scopes(ToolPolicy(groups=["read"])) == {}
    url, _ = flows.begin(
        SCHEME,
        APP,
        tenant_id="t1",
        provider="chat",
        redirect_uri="https://sagemcp.example/cb",
        scopes=Chat.oauth_scopes(ToolPolicy(groups=["read", "search"])),
        linked_scopes=linked,
    )
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["scope"] == "chat:read"
    assert query["user_scope"] == "search:read"
    with pytest.raises(ValueError, match="no linked token 'bot'"):
        flows.begin(
            SCHEME,
            APP,
            tenant_id="t1",
            provider="chat",
            redirect_uri="https://x/cb",
            scopes=[],
            linked_scopes={"bot": []},
        )


async def test_code_exchange_yields_main_and_linked_credentials() -> None:
    def endpoint(request: httpx.Request) -> httpx.Response:
        body = {
            "ok": True,
            "access_token": "xoxb-main",
            "scope": "chat:read",
            "authed_user": {
                "id": "U1",
                "access_token": "xoxp-user",
                "refresh_token": "xoxe-user-refresh",
                "expires_in": 43200,
                "scope": "search:read",
            },
        }
        return httpx.Response(200, json=body)

    flows = OAuthFlows(transport=httpx.MockTransport(endpoint))
    _, pending = flows.begin(SCHEME, APP, tenant_id="t1", provider="chat", redirect_uri="https://x/cb", scopes=[])
    result = await flows.complete(SCHEME, APP, pending, code="c", state=pending.state, tenant_id="t1", provider="chat")
    assert result.credential.provider == "chat"
    assert result.credential.access_token.get_secret_value() == "xoxb-main"
    user = result.linked["user"]
    assert user.provider == "chat:user"
    assert user.kind == "oauth2"
    assert user.access_token.get_secret_value() == "xoxp-user"
    assert user.refresh_token is not None and user.refresh_token.get_secret_value() == "xoxe-user-refresh"
    assert user.scopes == ["search:read"]
    assert user.expires_at is not None and 43000 < user.expires_at - time.time() <= 43200
    assert [c.provider for c in result.credentials] == ["chat", "chat:user"]


async def test_exchange_without_a_linked_token_yields_only_the_main_credential() -> None:
    flows = OAuthFlows(transport=httpx.MockTransport(lambda r: httpx.Response(200, json={"access_token": "m"})))
    _, pending = flows.begin(SCHEME, APP, tenant_id="t1", provider="chat", redirect_uri="https://x/cb", scopes=[])
    result = await flows.complete(SCHEME, APP, pending, code="c", state=pending.state, tenant_id="t1", provider="chat")
    assert result.linked == {}
    assert result.credentials == [result.credential]


async def test_a_linked_credential_is_refreshed_with_the_base_providers_app() -> None:
    sent: list[dict[str, str]] = []

    def endpoint(request: httpx.Request) -> httpx.Response:
        sent.append(form(request))
        return httpx.Response(200, json={"access_token": "xoxp-new", "refresh_token": "r2", "expires_in": 3600})

    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme"))
    store.put_oauth_app(APP.model_copy(update={"tenant_id": tenant.id}))
    store.put_credential(
        Credential(
            tenant_id=tenant.id,
            provider="chat:user",
            access_token=SecretStr("xoxp-old"),
            refresh_token=SecretStr("r1"),
            expires_at=time.time() - 1,
        )
    )
    manager = CredentialManager(store, OAuthFlows(transport=httpx.MockTransport(endpoint)))
    fresh = await manager.get(tenant.id, "chat:user", Chat)
    assert fresh is not None and fresh.access_token.get_secret_value() == "xoxp-new"
    assert sent == [
        {"grant_type": "refresh_token", "refresh_token": "r1", "client_id": "client-1", "client_secret": SECRET}
    ]
    stored = await store.get_credential(tenant.id, "chat:user")
    assert stored is not None and stored.refresh_token is not None
    assert stored.refresh_token.get_secret_value() == "r2"


async def test_bearer_revocation_sends_the_access_token_and_reads_ok_false() -> None:
    answers = [httpx.Response(200, json={"ok": True, "revoked": True}), httpx.Response(200, json={"ok": False})]
    seen: list[httpx.Request] = []

    def endpoint(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0)

    scheme = OAuth2(token_url=TOKEN_URL, revoke_url=REVOKE_URL, revocation="bearer")
    flows = OAuthFlows(transport=httpx.MockTransport(endpoint))
    cred = Credential(tenant_id="t1", provider="chat:user", access_token="xoxp-1", refresh_token="xoxe-1")
    assert await flows.revoke(scheme, APP, cred) is True
    assert seen[0].headers["authorization"] == "Bearer xoxp-1"
    assert seen[0].content == b""
    assert await flows.revoke(scheme, APP, cred) is False


async def test_rfc7009_revocation_with_an_error_body_is_a_failure() -> None:
    reply = httpx.Response(200, json={"ok": False, "error": "invalid_auth"})
    flows = OAuthFlows(transport=httpx.MockTransport(lambda r: reply))
    cred = Credential(tenant_id="t1", provider="chat", access_token="a")
    assert await flows.revoke(SCHEME, APP, cred) is False


async def test_revoking_a_linked_credential_uses_the_base_providers_app() -> None:
    seen: list[httpx.Request] = []

    def endpoint(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme"))
    store.put_oauth_app(APP.model_copy(update={"tenant_id": tenant.id}))
    store.put_credential(Credential(tenant_id=tenant.id, provider="chat:user", access_token="xoxp-1"))
    manager = CredentialManager(store, OAuthFlows(transport=httpx.MockTransport(endpoint)))
    assert await manager.revoke(tenant.id, "chat:user", Chat) is True
    assert form(seen[0])["token"] == "xoxp-1"


async def test_call_tool_uses_a_linked_credential_for_tools_that_prefer_it() -> None:
    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"auth": request.headers["authorization"]})

    user = Credential(tenant_id="t", provider="chat:user", kind="bearer", access_token="xoxp-9")
    result = await call_tool(Chat, "search", handler=upstream, linked={"user": user})
    assert result.structured == {"provider": "chat:user", "sent": "Bearer xoxp-9"}
    result = await call_tool(Chat, "who", handler=upstream, linked={"user": user})
    assert result.structured is not None and result.structured["sent"] != "Bearer xoxp-9"


async def test_tools_prefer_the_linked_credential_over_real_http() -> None:
    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"auth": request.headers["authorization"]})

    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme"))
    store.add_connector(ConnectorConfig(tenant_id=tenant.id, connector_type="chat", name="chat"))
    store.put_credential(Credential(tenant_id=tenant.id, provider="chat", kind="bearer", access_token="xoxb-1"))
    key, _ = store.create_api_key(tenant.id, name="mcp")
    client_upstream = UpstreamClient(transport=httpx.MockTransport(upstream))
    app = create_mcp_app(store, ConnectorRegistry([Chat]), upstream=client_upstream, settings=McpSettings())

    async def call(name: str) -> dict[str, Any]:
        transport = streamable_http_client(f"{base}/acme/connectors/chat/mcp", http_client=http2_client(key))
        async with Client(transport) as c:  # type: ignore[arg-type]
            result = await c.call_tool(name, {})
            assert not result.is_error, result.content
            assert result.structured_content is not None
            return dict(result.structured_content)

    async with serve(app) as base:
        # No user token yet: the search tool falls back to the main (bot) credential.
        assert await call("chat_search") == {"provider": "chat", "sent": "Bearer xoxb-1"}
        store.put_credential(
            Credential(tenant_id=tenant.id, provider="chat:user", kind="bearer", access_token="xoxp-2")
        )
        app.resolver.invalidate_credential(tenant.id, "chat:user")
        assert await call("chat_search") == {"provider": "chat:user", "sent": "Bearer xoxp-2"}
        assert await call("chat_who") == {"provider": "chat", "sent": "Bearer xoxb-1"}
        # Replacing the main credential also drops linked entries that may have fallen back to it.
        store.delete_credential(tenant.id, "chat:user")
        store.put_credential(Credential(tenant_id=tenant.id, provider="chat", kind="bearer", access_token="xoxb-3"))
        app.resolver.invalidate_credential(tenant.id, "chat")
        assert await call("chat_search") == {"provider": "chat", "sent": "Bearer xoxb-3"}
    await client_upstream.aclose()


def test_a_target_builds_one_upstream_client_per_credential_object() -> None:
    from sagemcp.platform import ResolvedConnector

    class CountingUpstream:
        def __init__(self) -> None:
            self.built: list[dict[str, Any]] = []

        def bind(self, **options: Any) -> object:
            self.built.append(options)
            return object()

    upstream = CountingUpstream()
    config = ConnectorConfig(tenant_id="t", connector_type="chat", name="chat")
    target = ResolvedConnector(config, Chat, Chat(), Chat.parse_config({}), {})
    bot = Credential(tenant_id="t", provider="chat", kind="bearer", access_token="a")
    user = Credential(tenant_id="t", provider="chat:user", kind="bearer", access_token="u")
    first = target.upstream_for(upstream, bot)  # type: ignore[arg-type]
    assert target.upstream_for(upstream, bot) is first  # type: ignore[arg-type]
    assert target.upstream_for(upstream, user) is not first  # type: ignore[arg-type]
    assert target.upstream_for(upstream, bot) is first  # type: ignore[arg-type]  # each credential key keeps its own
    renewed = bot.model_copy(update={"access_token": SecretStr("b"), "version": 2})
    assert target.upstream_for(upstream, renewed) is not first  # type: ignore[arg-type]
    assert len(upstream.built) == 3
    assert [b["headers"]["Authorization"] for b in upstream.built] == ["Bearer a", "Bearer u", "Bearer b"]
