"""Per-user connections: a `per_user` connector calls upstream with the calling member's own credential.

Over real HTTP (the MCP app and a fake upstream, each served by uvicorn on 127.0.0.1) with the
official MCP client: two members of one tenant send their own tokens and never each other's;
each member's token is refreshed on its own (once however many calls need it); a member
without a connection gets an error result naming the provider with the connect link, or, when
the client declared URL-mode elicitation, the -32042 error (2025-11-25, Streamable HTTP, legacy
SSE and WebSocket) or an `InputRequiredResult` (2026-07-28) whose retry succeeds once the
account is connected; a tenant API key is refused on a `per_user` connector; `shared`
connectors behave as before; audit events carry the member.

Members are principals with a `user_id`, made by a test authenticator from bearer tokens.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx
import mcp_types as types
import pytest
import websockets
from mcp import Client, MCPError
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from pydantic import BaseModel, SecretStr
from starlette.requests import HTTPConnection

from sagemcp import ConnectionRequired, Connector, ConnectorInfo, Credential, OAuth2, ToolContext, tool
from sagemcp.errors import NotConnected, ReconnectRequired
from sagemcp.mcp import ApiKeyAuthenticator, ChainAuthenticator, McpApp, McpSettings, bearer_token, create_mcp_app
from sagemcp.platform import (
    AuditEvent,
    ConnectorConfig,
    ConnectorRegistry,
    CredentialManager,
    MemoryStore,
    OAuthApp,
    OAuthFlows,
    Principal,
    Tenant,
    UpstreamClient,
)

from ._support import http2_client, serve

CLIENT_SECRET = "files-client-secret"


@dataclass
class FakeFiles:
    """The upstream: `/whoami` echoes the Authorization header; `/token` refreshes `r-<member>` into
    `a-<member>-<n>`, slowly enough that concurrent refreshes would overlap."""

    seen: list[str] = field(default_factory=list)
    refreshes: list[str] = field(default_factory=list)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        if scope["path"] == "/token":
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            refresh = form.get("refresh_token", "")
            self.refreshes.append(refresh)
            await asyncio.sleep(0.2)
            member = refresh.removeprefix("r-")
            answer: dict[str, Any] = {
                "access_token": f"a-{member}-{len(self.refreshes)}",
                "refresh_token": f"r-{member}",
                "expires_in": 3600,
            }
        else:
            auth = headers.get("authorization", "")
            self.seen.append(auth)
            answer = {"auth": auth}
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": json.dumps(answer).encode()})


class FilesConfig(BaseModel):
    model_config = {"extra": "forbid"}
    api_url: str = ""


def files_connector(upstream_base: str) -> type[Connector]:
    """A connector whose upstream and token endpoint are the fake's (known only once it listens)."""

    class Files(Connector):
        info = ConnectorInfo(id="files", title="Files", description="A file service with personal accounts.")
        auth = (OAuth2(authorize_url=f"{upstream_base}/authorize", token_url=f"{upstream_base}/token", pkce=False),)
        Config = FilesConfig

        @classmethod
        def api_base_url(cls, config: BaseModel, credential: Credential | None) -> str:
            return str(getattr(config, "api_url", "")) or upstream_base

        @tool(read_only=True, group="read")
        async def whoami(self, ctx: ToolContext) -> dict[str, str]:
            """Which credential the call went out with."""
            response = await ctx.http.get("/whoami")
            return {"sent": response.json()["auth"], "user": (ctx.credential.user_id or "") if ctx.credential else ""}

    return Files


MEMBERS = {"token-alice": "alice", "token-bob": "bob", "token-carol": "carol"}


class MemberTokens:
    """Bearer tokens standing for members' OAuth tokens: each maps to a principal acting for that member."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id

    async def authenticate(self, conn: HTTPConnection) -> Principal | None:
        token = bearer_token(conn)
        user = MEMBERS.get(token or "")
        if user is None:
            return None
        return Principal(
            id=f"oauth-{user}", kind="oauth", tenant_id=self.tenant_id, scopes=frozenset({"mcp"}), user_id=user
        )


def connect_url(tenant: Tenant, config: ConnectorConfig, principal: Principal) -> str:
    return f"https://sagemcp.example/connect/{tenant.slug}/{config.name}"


@dataclass
class World:
    base: str
    upstream: FakeFiles
    store: MemoryStore
    tenant: Tenant
    app: McpApp
    api_key: str
    events: list[AuditEvent]

    def member_credential(self, user: str, token: str, **kwargs: Any) -> Credential:
        cred = Credential(tenant_id=self.tenant.id, provider="files", user_id=user, access_token=token, **kwargs)
        return self.store.put_credential(cred)

    def url(self, connector: str = "mine") -> str:
        return f"{self.base}/acme/connectors/{connector}/mcp"


async def call(
    url: str, token: str, tool_name: str = "files_whoami", *, mode: str = "legacy", **client: Any
) -> types.CallToolResult:
    transport = streamable_http_client(url, http_client=http2_client(token))
    async with Client(transport, mode=mode, **client) as c:  # type: ignore[arg-type]
        return await c.call_tool(tool_name, {})


async def refused(url: str, token: str, **client: Any) -> types.ErrorData:
    """The JSON-RPC error a `tools/call` is answered with (the call must fail)."""
    transport = streamable_http_client(url, http_client=http2_client(token))
    async with Client(transport, mode="legacy", **client) as c:  # type: ignore[arg-type]
        try:
            await c.call_tool("files_whoami", {})
        except MCPError as exc:
            return exc.error
    raise AssertionError("the call succeeded")


def text(result: types.CallToolResult) -> str:
    return "\n".join(part.text for part in result.content if isinstance(part, types.TextContent))


@pytest.fixture
async def world(request: pytest.FixtureRequest) -> AsyncIterator[World]:
    stateful = bool(getattr(request, "param", False))
    fake = FakeFiles()
    async with serve(fake) as upstream_base:
        files = files_connector(upstream_base)
        store = MemoryStore()
        tenant = store.add_tenant(Tenant(slug="acme"))
        store.add_connector(
            ConnectorConfig(tenant_id=tenant.id, connector_type="files", name="mine", connection_mode="per_user")
        )
        store.add_connector(ConnectorConfig(tenant_id=tenant.id, connector_type="files", name="team"))
        store.put_oauth_app(
            OAuthApp(tenant_id=tenant.id, provider="files", client_id="c1", client_secret=CLIENT_SECRET)
        )
        # The tenant's shared credential: what `shared` connectors use, and what `per_user` ones never do.
        store.put_credential(Credential(tenant_id=tenant.id, provider="files", access_token="a-shared"))
        api_key, _ = store.create_api_key(tenant.id, name="automation")
        events: list[AuditEvent] = []
        authenticator = ChainAuthenticator([MemberTokens(tenant.id), ApiKeyAuthenticator(store)])
        upstream = UpstreamClient()
        app = create_mcp_app(
            store,
            ConnectorRegistry([files]),
            authenticator=authenticator,
            credentials=CredentialManager(store, OAuthFlows()),
            upstream=upstream,
            settings=McpSettings(stateful=stateful, connect_url=connect_url),
            observer=events.append,
        )
        async with serve(app) as base:
            yield World(base, fake, store, tenant, app, api_key, events)
        await upstream.aclose()


async def test_each_member_calls_upstream_with_their_own_token(world: World) -> None:
    world.member_credential("alice", "a-alice")
    world.member_credential("bob", "a-bob")
    for token, sent in [("token-alice", "Bearer a-alice"), ("token-bob", "Bearer a-bob")] * 2:
        result = await call(world.url(), token)
        assert not result.is_error, text(result)
        assert result.structured_content == {"sent": sent, "user": MEMBERS[token]}
    # The tenant-wide endpoint prefixes the two connectors of one type; the per_user one is still the member's.
    result = await call(f"{world.base}/acme/mcp", "token-bob", "mine__files_whoami")
    assert result.structured_content == {"sent": "Bearer a-bob", "user": "bob"}
    assert world.upstream.seen == ["Bearer a-alice", "Bearer a-bob"] * 2 + ["Bearer a-bob"]
    assert "Bearer a-shared" not in world.upstream.seen


async def test_a_member_without_a_connection_gets_the_link_never_the_shared_or_another_token(world: World) -> None:
    world.member_credential("alice", "a-alice")
    result = await call(world.url(), "token-bob")
    assert result.is_error
    message = text(result)
    assert "Files" in message and "https://sagemcp.example/connect/acme/mine" in message
    assert "then call the tool again" in message
    assert "this tenant" not in message
    assert world.upstream.seen == []
    event = world.events[-1]
    assert (event.outcome, event.error_code, event.user_id) == ("error", "connection_required", "bob")
    # Once bob connects, the next call (same view, no restart) uses his token.
    world.member_credential("bob", "a-bob")
    world.app.resolver.invalidate_credential(world.tenant.id, "files", "bob")
    result = await call(world.url(), "token-bob")
    assert result.structured_content == {"sent": "Bearer a-bob", "user": "bob"}


async def test_an_api_key_is_refused_on_a_per_user_connector_with_a_clear_error(world: World) -> None:
    world.member_credential("alice", "a-alice")
    result = await call(world.url(), world.api_key)
    assert result.is_error
    assert "each member's own Files account" in text(result)
    assert "member's OAuth token, not a tenant API key" in text(result)
    assert world.upstream.seen == []
    event = world.events[-1]
    assert (event.outcome, event.error_code, event.user_id) == ("denied", "forbidden", None)


async def test_shared_connectors_are_unchanged(world: World) -> None:
    world.member_credential("alice", "a-alice")
    for token in ("token-alice", "token-carol", world.api_key):
        result = await call(world.url("team"), token)
        assert not result.is_error, text(result)
        assert result.structured_content == {"sent": "Bearer a-shared", "user": ""}
    assert world.upstream.seen == ["Bearer a-shared"] * 3


async def test_audit_events_carry_the_member(world: World) -> None:
    world.member_credential("alice", "a-alice")
    await call(world.url(), "token-alice")
    await call(world.url("team"), "token-alice")
    await call(world.url("team"), world.api_key)
    assert [(e.user_id, e.outcome) for e in world.events] == [("alice", "ok"), ("alice", "ok"), (None, "ok")]
    assert world.events[0].principal_id == "oauth-alice"


async def test_each_members_token_is_refreshed_once_and_alone(world: World) -> None:
    expired = time.time() - 10
    world.member_credential("alice", "a-alice-old", refresh_token="r-alice", expires_at=expired)
    world.member_credential("bob", "a-bob", refresh_token="r-bob", expires_at=time.time() + 3600)
    bob_before = await world.store.get_credential(world.tenant.id, "files", "bob")

    results = await asyncio.gather(*[call(world.url(), "token-alice") for _ in range(4)])
    sent = {r.structured_content["sent"] for r in results if r.structured_content}  # type: ignore[index]
    assert sent == {"Bearer a-alice-1"}
    assert world.upstream.refreshes == ["r-alice"]  # one refresh for four concurrent calls
    # Alice's refresh touched neither bob's stored credential nor the shared one.
    assert await world.store.get_credential(world.tenant.id, "files", "bob") == bob_before
    shared = await world.store.get_credential(world.tenant.id, "files")
    assert shared is not None and shared.access_token is not None
    assert shared.access_token.get_secret_value() == "a-shared"
    stored = await world.store.get_credential(world.tenant.id, "files", "alice")
    assert stored is not None and stored.user_id == "alice" and stored.version == 2
    result = await call(world.url(), "token-bob")
    assert result.structured_content == {"sent": "Bearer a-bob", "user": "bob"}
    assert world.upstream.refreshes == ["r-alice"]


async def test_refresh_single_flight_is_per_member() -> None:
    """Two members due at once refresh concurrently, each exactly once; neither waits for or reuses the other's."""
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme"))
    store.put_oauth_app(OAuthApp(tenant_id=tenant.id, provider="files", client_id="c1", client_secret=CLIENT_SECRET))
    for user in ("alice", "bob"):
        store.put_credential(
            Credential(
                tenant_id=tenant.id,
                provider="files",
                user_id=user,
                access_token=f"a-{user}-old",
                refresh_token=f"r-{user}",
                expires_at=time.time() - 1,
            )
        )
    seen: list[str] = []

    async def token_endpoint(request: httpx.Request) -> httpx.Response:
        refresh = parse_qs(request.content.decode())["refresh_token"][0]
        seen.append(refresh)
        await asyncio.sleep(0.1)
        user = refresh.removeprefix("r-")
        return httpx.Response(200, json={"access_token": f"a-{user}-new", "expires_in": 3600})

    files = files_connector("https://files.example")
    manager = CredentialManager(store, OAuthFlows(transport=httpx.MockTransport(token_endpoint)))
    got = await asyncio.gather(*[manager.get(tenant.id, "files", files, user) for user in ["alice", "bob"] * 3])
    assert sorted(seen) == ["r-alice", "r-bob"]
    for user, cred in zip(["alice", "bob"] * 3, got, strict=True):
        assert cred is not None and cred.user_id == user
        assert cred.access_token is not None and cred.access_token.get_secret_value() == f"a-{user}-new"
        assert cred.refresh_token is not None and cred.refresh_token.get_secret_value() == f"r-{user}"


async def test_a_member_whose_refresh_is_refused_is_told_to_reconnect_their_account() -> None:
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme"))
    store.put_oauth_app(OAuthApp(tenant_id=tenant.id, provider="files", client_id="c1"))
    store.put_credential(
        Credential(
            tenant_id=tenant.id,
            provider="files",
            user_id="alice",
            access_token="a",
            refresh_token="r",
            expires_at=time.time() - 1,
        )
    )
    store.put_credential(Credential(tenant_id=tenant.id, provider="files", access_token="shared"))
    refused = httpx.MockTransport(lambda r: httpx.Response(400, json={"error": "invalid_grant"}))
    manager = CredentialManager(store, OAuthFlows(transport=refused))
    files = files_connector("https://files.example")
    with pytest.raises(ReconnectRequired) as caught:
        await manager.get(tenant.id, "files", files, "alice")
    assert "reconnect your files account" in caught.value.message
    assert "tenant" not in caught.value.message
    with pytest.raises(ReconnectRequired, match="reconnect your files account"):
        await manager.get(tenant.id, "files", files, "alice")  # now marked reconnect_required
    shared = await manager.get(tenant.id, "files", files)
    assert shared is not None and shared.access_token is not None
    assert shared.access_token.get_secret_value() == "shared"


async def test_member_errors_speak_to_the_member() -> None:
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme"))
    store.put_credential(Credential(tenant_id=tenant.id, provider="files", access_token="shared"))
    manager = CredentialManager(store, OAuthFlows())
    files = files_connector("https://files.example")
    with pytest.raises(ConnectionRequired) as caught:
        await manager.get(tenant.id, "files", files, "alice")
    assert caught.value.message.startswith("you have not connected files")
    assert caught.value.connect_url is None and caught.value.provider == "files"
    assert isinstance(caught.value, NotConnected)
    store.delete_credential(tenant.id, "files")
    with pytest.raises(NotConnected) as shared:
        await manager.get(tenant.id, "files", files)
    assert not isinstance(shared.value, ConnectionRequired)
    assert "this tenant" in shared.value.message


async def test_the_memory_store_keeps_shared_and_members_credentials_apart() -> None:
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme"))
    shared = store.put_credential(Credential(tenant_id=tenant.id, provider="files", access_token="s"))
    alice = store.put_credential(Credential(tenant_id=tenant.id, provider="files", user_id="alice", access_token="a"))
    assert await store.get_credential(tenant.id, "files") == shared
    assert await store.get_credential(tenant.id, "files", "alice") == alice
    assert await store.get_credential(tenant.id, "files", "bob") is None
    # A compare-and-swap is keyed by the user too: alice's new version never lands on the shared credential.
    assert await store.swap_credential(
        alice.version, alice.model_copy(update={"access_token": SecretStr("a2"), "version": 2})
    )
    assert await store.get_credential(tenant.id, "files") == shared
    async with store.lock_credential(tenant.id, "files", "alice") as locked:
        assert locked is not None and locked.access_token is not None
        assert locked.access_token.get_secret_value() == "a2"
        # Another member's (and the shared) lock is not held by alice's.
        async with store.lock_credential(tenant.id, "files") as other:
            assert other == shared
    assert store._credential_locks == {}  # locks live while held: members do not add up
    assert [(c.provider, c.user_id) for c in store.list_credentials(tenant.id)] == [("files", None), ("files", "alice")]
    assert store.delete_credential(tenant.id, "files", "alice") is True
    assert await store.get_credential(tenant.id, "files", "alice") is None
    assert await store.get_credential(tenant.id, "files") == shared
    store.put_credential(Credential(tenant_id=tenant.id, provider="files", user_id="bob", access_token="b"))
    assert store.delete_user_credentials("bob") == 1
    assert store.list_credentials(tenant.id) == [shared]


async def test_invalidation_is_per_member_and_the_view_cache_is_bounded(world: World) -> None:
    world.member_credential("alice", "a-alice")
    world.member_credential("bob", "a-bob")
    await call(world.url(), "token-alice")
    await call(world.url(), "token-bob")
    view = await world.app.resolver.view("acme")
    assert sorted(view.member_credentials.held_keys()) == [("files", "alice"), ("files", "bob")]
    assert view.member_credentials.maxsize == 1_024
    world.app.resolver.invalidate_credential(world.tenant.id, "files", "alice")
    assert view.member_credentials.held_keys() == [("files", "bob")]
    assert view.credentials.held_keys() == []  # the shared cache is another one


# -- URL-mode elicitation -------------------------------------------------------------------------


async def accept(ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
    return types.ElicitResult(action="accept")


@pytest.mark.parametrize("world", [True], indirect=True)
async def test_a_2025_11_25_session_declaring_url_elicitation_gets_minus_32042(world: World) -> None:
    error = await refused(world.url(), "token-bob", elicitation_callback=accept)
    assert error.code == -32042
    assert "https://sagemcp.example/connect/acme/mine" in error.message
    (elicitation,) = error.data["elicitations"]
    assert elicitation["mode"] == "url"
    assert elicitation["url"] == "https://sagemcp.example/connect/acme/mine"
    assert len(elicitation["elicitationId"]) == 32
    assert "Files" in elicitation["message"]
    # A client without URL-mode elicitation gets the result with the link.
    result = await call(world.url(), "token-bob")
    assert result.is_error and "https://sagemcp.example/connect/acme/mine" in text(result)
    # Once connected, the same call succeeds.
    world.member_credential("bob", "a-bob")
    world.app.resolver.invalidate_credential(world.tenant.id, "files", "bob")
    result = await call(world.url(), "token-bob", elicitation_callback=accept)
    assert result.structured_content == {"sent": "Bearer a-bob", "user": "bob"}


@pytest.mark.parametrize("world", [True], indirect=True)
async def test_minus_32042_over_legacy_sse_and_websocket(world: World) -> None:
    sse = sse_client(f"{world.base}/acme/connectors/mine/sse", headers={"Authorization": "Bearer token-bob"})
    async with Client(sse, mode="legacy", elicitation_callback=accept) as c:  # type: ignore[arg-type]
        try:
            await c.call_tool("files_whoami", {})
        except MCPError as exc:
            code = exc.error.code
    assert code == -32042

    ws_url = world.base.replace("http://", "ws://") + "/acme/connectors/mine/ws"
    headers = {"Authorization": "Bearer token-bob"}
    async with websockets.connect(ws_url, subprotocols=["mcp"], additional_headers=headers) as ws:
        init = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {"elicitation": {"url": {}}},
                "clientInfo": {"name": "ws-test", "version": "1"},
            },
        }
        await ws.send(json.dumps(init))
        assert json.loads(await ws.recv())["id"] == 1
        await ws.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        await ws.send(
            json.dumps(
                {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "files_whoami", "arguments": {}}}
            )
        )
        reply = json.loads(await ws.recv())
    assert reply["id"] == 2
    assert reply["error"]["code"] == -32042
    assert reply["error"]["data"]["elicitations"][0]["url"] == "https://sagemcp.example/connect/acme/mine"


async def test_a_2026_07_28_client_is_asked_to_open_the_link_and_its_retry_succeeds(world: World) -> None:
    asked: list[types.ElicitRequestParams] = []

    async def connect_then_accept(ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params)
        # The member opens the link and connects: the platform stores their credential.
        world.member_credential("bob", "a-bob")
        world.app.resolver.invalidate_credential(world.tenant.id, "files", "bob")
        return types.ElicitResult(action="accept")

    result = await call(world.url(), "token-bob", mode="2026-07-28", elicitation_callback=connect_then_accept)
    assert not result.is_error, text(result)
    assert result.structured_content == {"sent": "Bearer a-bob", "user": "bob"}
    (params,) = asked
    assert isinstance(params, types.ElicitRequestURLParams)
    assert params.url == "https://sagemcp.example/connect/acme/mine"
    assert "Files" in params.message


async def test_a_2026_07_28_retry_still_without_a_connection_gets_the_link_once(world: World) -> None:
    asked: list[str] = []

    async def decline(ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(getattr(params, "url", ""))
        return types.ElicitResult(action="decline")

    result = await call(world.url(), "token-bob", mode="2026-07-28", elicitation_callback=decline)
    assert result.is_error
    assert "https://sagemcp.example/connect/acme/mine" in text(result)
    assert asked == ["https://sagemcp.example/connect/acme/mine"]
    # Without URL-mode elicitation a 2026-07-28 client gets the link at once.
    result = await call(world.url(), "token-bob", mode="2026-07-28")
    assert result.is_error and "https://sagemcp.example/connect/acme/mine" in text(result)
    assert len(asked) == 1
