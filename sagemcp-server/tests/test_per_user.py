"""Per-user connections in the server, on SQLite and PostgreSQL, over HTTP against the ASGI app.

Members connect their own account to a `per_user` connector through the connect page and the
fake OAuth provider (PKCE, state bound to the member and to their browser); their MCP calls
then go out with their own token, never another member's nor the tenant's shared one; they
disconnect themselves (revoked at the provider, then deleted); admins see who connected what,
never the tokens; deleting a user or a tenant removes their credentials; the store keeps
shared and members' credentials apart in every query, lock, compare-and-swap and secret.

MCP callers acting for a member come from a test authenticator put in front of the server's
(members' OAuth tokens are issued elsewhere): a bearer `member:<user id>` is that member.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from conftest import ADMIN_KEY, Server, mcp_call
from pydantic import SecretStr
from sqlalchemy import func, select, text
from starlette.requests import HTTPConnection
from test_cli import env, run, run_json  # noqa: F401  (env is a fixture)

from sagemcp import Credential
from sagemcp.errors import CryptoError
from sagemcp.mcp import ChainAuthenticator, bearer_token
from sagemcp.platform import Principal, SecretBox
from sagemcp_server.db.models import CredentialRow, OAuthStateRow
from sagemcp_server.db.store import MAX_PENDING_PER_USER, SqlStore

CONNECT = "/connect/acme/mine"
MINE = "/api/v1/acme/connectors/mine/mcp"
TEAM = "/api/v1/acme/connectors/team/mcp"


class MemberBearer:
    """`Authorization: Bearer member:<user id>` acts for that member of the tenant it names."""

    def __init__(self, tenants: dict[str, str]) -> None:
        self.tenants = tenants  # user id -> tenant id

    async def authenticate(self, conn: HTTPConnection) -> Principal | None:
        token = bearer_token(conn) or ""
        if not token.startswith("member:"):
            return None
        user_id = token.removeprefix("member:")
        tenant_id = self.tenants.get(user_id)
        if tenant_id is None:
            return None
        return Principal(
            id=f"token-{user_id}", kind="oauth", tenant_id=tenant_id, scopes=frozenset({"mcp"}), user_id=user_id
        )


class World:
    def __init__(self, server: Server, tenant: dict[str, Any]) -> None:
        self.server = server
        self.tenant = tenant
        self.members = MemberBearer({})
        mcp = server.services.mcp
        mcp.authenticator = ChainAuthenticator([self.members, mcp.authenticator])

    @property
    def services(self) -> Any:
        return self.server.services

    async def user(self, name: str, *, member: bool = True) -> str:
        people = self.services.people
        user = await people.create_user(f"{name}-{uuid.uuid4().hex[:8]}@example.com", name=name.title())
        if member:
            await people.add_member(self.tenant["id"], user.id, "member")
            self.members.tenants[user.id] = self.tenant["id"]
        return str(user.id)

    async def browser(self, user_id: str | None) -> httpx.AsyncClient:
        browser = self.server.browser()
        if user_id is not None:
            raw, _ = await self.services.people.create_session(user_id)
            browser.cookies.set("sagemcp_session", raw, domain="sagemcp.test", path="/")
        return browser

    async def start(self, browser: httpx.AsyncClient, path: str = CONNECT) -> str:
        """Open the connect page and press Connect; return the provider's authorization URL."""
        page = await browser.get(path)
        assert page.status_code == 200, page.text
        r = await browser.post(path, data={"csrf_token": csrf_of(page.text)})
        assert r.status_code == 303, r.text
        return str(r.headers["location"])

    async def connect(self, user_id: str, login: str) -> httpx.Response:
        """The whole connect flow in the member's browser, approved at the provider as `login`."""
        async with await self.browser(user_id) as browser:
            provider_url = await self.start(browser)
            callback = await self.server.approve(provider_url + f"&login={login}", browser)
            return await browser.get(callback)

    async def call(self, key: str, path: str = MINE, tool: str = "fake_whoami") -> dict[str, Any]:
        async with self.server.client(key) as client:
            r = await mcp_call(client, path, "tools/call", {"name": tool, "arguments": {}})
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()["result"]
        return result


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def result_text(result: dict[str, Any]) -> str:
    return "\n".join(part["text"] for part in result["content"] if part["type"] == "text")


@pytest.fixture
async def world(server: Server) -> World:
    tenant = await server.tenant("acme")
    await server.oauth_app("acme")
    r = await server.admin.post(
        "/api/v1/admin/tenants/acme/connectors",
        json={"connector_type": "fake", "name": "mine", "connection_mode": "per_user"},
    )
    assert r.status_code == 201, r.text
    await server.connector("acme", "fake", "team")
    r = await server.admin.put("/api/v1/admin/tenants/acme/credentials/fake", json={"token": "pat-shared"})
    assert r.status_code == 200, r.text
    return World(server, tenant)


async def test_connection_mode_in_the_admin_api(server: Server) -> None:
    await server.tenant("acme")
    created = await server.connector("acme", "fake", "mine", connection_mode="per_user")
    assert created["connection_mode"] == "per_user"
    assert (await server.connector("acme", "fake", "team"))["connection_mode"] == "shared"
    r = await server.admin.get("/api/v1/admin/tenants/acme/connectors/mine")
    assert r.json()["connection_mode"] == "per_user"
    r = await server.admin.patch("/api/v1/admin/tenants/acme/connectors/mine", json={"connection_mode": "shared"})
    assert r.status_code == 200 and r.json()["connection_mode"] == "shared"
    r = await server.admin.patch("/api/v1/admin/tenants/acme/connectors/mine", json={"connection_mode": "personal"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_body"
    assert [d["field"] for d in r.json()["error"]["details"]] == ["connection_mode"]
    # Members connect with OAuth: a connector type without it cannot be per_user.
    r = await server.admin.post(
        "/api/v1/admin/tenants/acme/connectors",
        json={"connector_type": "tokenonly", "name": "tok", "connection_mode": "per_user"},
    )
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_connection_mode"
    doc = (await server.admin.get("/api/v1/openapi.json")).json()
    assert "/api/v1/admin/tenants/{slug}/connections" in doc["paths"]
    assert "connection_mode" in doc["components"]["schemas"]["ConnectorOut"]["properties"]


async def test_each_member_calls_with_their_own_account_never_anothers(world: World) -> None:
    alice, bob, carol = await world.user("alice"), await world.user("bob"), await world.user("carol")
    assert "Connected" in (await world.connect(alice, "alice-gh")).text
    assert "Connected" in (await world.connect(bob, "bob-gh")).text
    for _ in range(2):
        for user, login in ((alice, "alice-gh"), (bob, "bob-gh")):
            result = await world.call(f"member:{user}")
            assert result["isError"] is False, result
            assert result["structuredContent"] == {"login": login}
    # The shared connector keeps using the tenant's shared credential, for members and keys alike.
    key = await world.server.key("acme", ["mcp"])
    for caller in (f"member:{alice}", key):
        assert (await world.call(caller, TEAM))["structuredContent"] == {"login": "token-user"}
    # A member who has not connected gets the link, never someone else's account.
    result = await world.call(f"member:{carol}")
    assert result["isError"] is True
    assert "https://sagemcp.test/connect/acme/mine" in result_text(result)
    assert "Fake" in result_text(result)
    # A tenant API key acts for no member.
    result = await world.call(key)
    assert result["isError"] is True
    assert "member's OAuth token, not a tenant API key" in result_text(result)


async def test_the_connect_flow_binds_the_state_to_the_member_and_the_browser(world: World) -> None:
    alice, bob = await world.user("alice"), await world.user("bob")
    outsider = await world.user("outsider", member=False)
    async with await world.browser(None) as anonymous:
        r = await anonymous.get(CONNECT)
        assert r.status_code == 303 and r.headers["location"] == "/signin?next=/connect/acme/mine"
    async with await world.browser(outsider) as browser:
        assert (await browser.get(CONNECT)).status_code == 404
        assert (await browser.get("/connect/nope/mine")).status_code == 404
    async with await world.browser(alice) as browser:
        page = await browser.get(CONNECT)
        assert "Connect your Fake account" in page.text and "not connected" in page.text
        r = await browser.post(CONNECT, data={"csrf_token": "forged"})
        assert r.status_code == 403
        provider_url = await world.start(browser)
        query = parse_qs(urlsplit(provider_url).query)
        assert query["code_challenge_method"] == ["S256"]
        assert query["redirect_uri"] == ["https://sagemcp.test/api/v1/oauth/callback/fake"]
        async with world.services.engine.connect() as conn:
            rows = (await conn.execute(select(OAuthStateRow.user_id, OAuthStateRow.browser_hash))).all()
        assert [(r.user_id, r.browser_hash is not None) for r in rows] == [(alice, True)]
        callback = await world.server.approve(provider_url + "&login=alice-gh", browser)
    # The callback in another member's browser (without alice's cookie, with bob's session) is refused.
    async with await world.browser(bob) as other:
        r = await other.get(callback)
        assert r.status_code == 403
        assert await world.services.store.get_credential(world.tenant["id"], "fake", bob) is None
    # Alice's binding cookie in a browser signed in as bob is refused too: the callback must come from her session.
    async with await world.browser(alice) as browser:
        provider_url = await world.start(browser)
        callback = await world.server.approve(provider_url + "&login=alice-gh", browser)
        binding = [c for c in browser.cookies.jar if c.name.startswith("sagemcp_oauth_")]
    async with await world.browser(bob) as other:
        for cookie in binding:
            other.cookies.set(cookie.name, cookie.value or "", domain="sagemcp.test", path=cookie.path)
        r = await other.get(callback)
        assert r.status_code == 403 and "started by another signed-in person" in r.text
    assert await world.services.store.get_credential(world.tenant["id"], "fake", bob) is None
    assert await world.services.store.get_credential(world.tenant["id"], "fake", alice) is None
    # Alice's browser completes it, once.
    async with await world.browser(alice) as browser:
        provider_url = await world.start(browser)
        callback = await world.server.approve(provider_url + "&login=alice-gh", browser)
        done = await browser.get(callback)
        assert done.status_code == 200
        assert "Your Fake account is connected as alice-gh" in done.text and "call the tool again" in done.text
        assert (await browser.get(callback)).status_code == 400
        page = await browser.get(CONNECT)
        assert "Connected as" in page.text and "alice-gh" in page.text
    stored = await world.services.store.get_credential(world.tenant["id"], "fake", alice)
    assert stored is not None and stored.user_id == alice and stored.account == "alice-gh"
    assert stored.origins == ("https://fake.example",)
    assert await world.services.store.get_credential(world.tenant["id"], "fake") is not None  # shared kept
    shared = await world.services.store.get_credential(world.tenant["id"], "fake")
    assert shared is not None and shared.access_token is not None
    assert shared.access_token.get_secret_value() == "pat-shared"
    # Tokens are encrypted at rest under a context naming the member.
    async with world.services.engine.connect() as conn:
        row = (await conn.execute(select(CredentialRow).where(CredentialRow.user_id == alice))).one()
    assert stored.access_token is not None
    assert stored.access_token.get_secret_value() not in row.access_token_enc
    with pytest.raises(CryptoError):
        world.services.box.decrypt(row.access_token_enc, context=f"credential:{world.tenant['id']}:fake:access_token")


async def test_a_connector_that_is_shared_has_nothing_to_connect(world: World) -> None:
    alice = await world.user("alice")
    async with await world.browser(alice) as browser:
        r = await browser.get("/connect/acme/team")
    assert r.status_code == 409 and "shared Fake account" in r.text


async def test_members_disconnect_themselves(world: World) -> None:
    alice, bob = await world.user("alice"), await world.user("bob")
    await world.connect(alice, "alice-gh")
    await world.connect(bob, "bob-gh")
    alice_cred = await world.services.store.get_credential(world.tenant["id"], "fake", alice)
    assert alice_cred is not None and alice_cred.refresh_token is not None
    async with await world.browser(alice) as browser:
        listed = (await browser.get("/api/v1/me/connections")).json()
        assert [(i["tenant"], i["provider"], i["account"], i["connectors"]) for i in listed["items"]] == [
            ("acme", "fake", "alice-gh", ["mine"])
        ]
        assert listed["connectors"] == [
            {
                "tenant": "acme",
                "tenant_name": "Acme",
                "connector": "mine",
                "title": "Fake",
                "provider": "fake",
                "connected": True,
                "connect_url": "https://sagemcp.test/connect/acme/mine",
            }
        ]
        path = listed["items"][0]["disconnect_path"]
        assert path == "/api/v1/me/connections/acme/fake"
        r = await browser.delete(path)
        assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
        csrf = csrf_of((await browser.get(CONNECT)).text)
        r = await browser.delete(path, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 204, r.text
        r = await browser.delete(path, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 404
        listed = (await browser.get("/api/v1/me/connections")).json()
        assert listed["items"] == [] and listed["connectors"][0]["connected"] is False
    assert alice_cred.refresh_token.get_secret_value() in world.server.provider.revoked
    assert await world.services.store.get_credential(world.tenant["id"], "fake", alice) is None
    assert (await world.call(f"member:{bob}"))["structuredContent"] == {"login": "bob-gh"}
    assert (await world.call(f"member:{alice}"))["isError"] is True
    # The self-service API takes the session cookie only.
    async with world.server.client(ADMIN_KEY) as client:
        assert (await client.get("/api/v1/me/connections")).status_code == 401
    # The connect page's Disconnect button does the same for bob.
    async with await world.browser(bob) as browser:
        csrf = csrf_of((await browser.get(CONNECT)).text)
        r = await browser.post(CONNECT + "/disconnect", data={"csrf_token": csrf})
        assert r.status_code == 200 and "Disconnected" in r.text
    assert await world.services.store.get_credential(world.tenant["id"], "fake", bob) is None
    assert await world.services.store.get_credential(world.tenant["id"], "fake") is not None


async def test_admins_see_who_connected_never_the_tokens(world: World) -> None:
    alice, bob = await world.user("alice"), await world.user("bob")
    await world.connect(alice, "alice-gh")
    await world.connect(bob, "bob-gh")
    r = await world.server.admin.get("/api/v1/admin/tenants/acme/connections")
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert sorted((i["user_id"], i["account"], i["status"], i["provider"]) for i in items) == sorted(
        [(alice, "alice-gh", "active", "fake"), (bob, "bob-gh", "active", "fake")]
    )
    assert all(i["email"].endswith("@example.com") and i["expires_at"] for i in items)
    for secret in world.server.provider.issued:
        assert secret not in r.text
    first = await world.server.admin.get("/api/v1/admin/tenants/acme/connections", params={"limit": 1})
    second = await world.server.admin.get(
        "/api/v1/admin/tenants/acme/connections", params={"limit": 1, "cursor": first.json()["next_cursor"]}
    )
    assert [i["user_id"] for i in first.json()["items"] + second.json()["items"]] == [i["user_id"] for i in items]
    assert second.json()["next_cursor"] is None
    assert (
        await world.server.admin.get("/api/v1/admin/tenants/acme/connections", params={"cursor": "garbage"})
    ).status_code == 422
    # The tenant's own shared credentials are listed as before, without members' ones.
    shared = (await world.server.admin.get("/api/v1/admin/tenants/acme/credentials")).json()["items"]
    assert [(c["provider"], c["kind"]) for c in shared] == [("fake", "bearer")]
    # Another tenant's admin key sees nothing of it.
    await world.server.tenant("other")
    other = await world.server.key("other", ["admin"])
    async with world.server.client(other) as client:
        assert (await client.get("/api/v1/admin/tenants/acme/connections")).status_code == 404
    # A tenant admin key of acme sees its tenant's list.
    own = await world.server.key("acme", ["admin"])
    async with world.server.client(own) as client:
        assert len((await client.get("/api/v1/admin/tenants/acme/connections")).json()["items"]) == 2


async def test_deleting_a_user_or_a_tenant_removes_their_credentials(world: World) -> None:
    alice, bob = await world.user("alice"), await world.user("bob")
    await world.connect(alice, "alice-gh")
    await world.connect(bob, "bob-gh")

    async def rows(**where: Any) -> int:
        query = select(func.count()).select_from(CredentialRow)
        for column, value in where.items():
            query = query.where(getattr(CredentialRow, column) == value)
        async with world.services.engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    assert await rows(user_id=alice) == 1 and await rows(user_id=bob) == 1
    assert await world.services.people.delete_user(bob)
    assert await rows(user_id=bob) == 0 and await rows(user_id=alice) == 1
    alice_cred = await world.services.store.get_credential(world.tenant["id"], "fake", alice)
    assert alice_cred is not None and alice_cred.refresh_token is not None
    r = await world.server.admin.delete("/api/v1/admin/tenants/acme")
    assert r.status_code == 204, r.text
    assert await rows() == 0
    # Members' tokens were revoked at the provider before their rows went with the tenant.
    assert alice_cred.refresh_token.get_secret_value() in world.server.provider.revoked


async def test_removing_a_member_disconnects_their_accounts_in_that_tenant(world: World) -> None:
    alice, bob = await world.user("alice"), await world.user("bob")
    await world.connect(alice, "alice-gh")
    await world.connect(bob, "bob-gh")
    tenant_id = world.tenant["id"]
    bob_cred = await world.services.store.get_credential(tenant_id, "fake", bob)
    assert bob_cred is not None and bob_cred.refresh_token is not None
    r = await world.server.admin.delete(f"/api/v1/admin/tenants/acme/members/{bob}")
    assert r.status_code == 204, r.text
    assert await world.services.store.get_credential(tenant_id, "fake", bob) is None
    assert await world.services.store.get_credential(tenant_id, "fake", alice) is not None
    assert bob_cred.refresh_token.get_secret_value() in world.server.provider.revoked
    assert (await world.call(f"member:{alice}"))["structuredContent"] == {"login": "alice-gh"}


async def test_a_members_refresh_is_theirs_alone(world: World) -> None:
    alice, bob = await world.user("alice"), await world.user("bob")
    await world.connect(alice, "alice-gh")
    await world.connect(bob, "bob-gh")
    store: SqlStore = world.services.store
    tenant_id = world.tenant["id"]
    current = await store.get_credential(tenant_id, "fake", alice)
    assert current is not None
    await store.put_credential(current.model_copy(update={"expires_at": time.time() - 5}))
    world.services.credential_changed("acme", tenant_id, "fake", alice)
    bob_before = await store.get_credential(tenant_id, "fake", bob)
    world.server.provider.refresh_delay = 0.2
    results = await asyncio.gather(*[world.call(f"member:{alice}") for _ in range(3)])
    assert [r["structuredContent"] for r in results] == [{"login": "alice-gh"}] * 3
    assert world.server.provider.refresh_count == 1
    assert await store.get_credential(tenant_id, "fake", bob) == bob_before
    refreshed = await store.get_credential(tenant_id, "fake", alice)
    assert refreshed is not None and refreshed.user_id == alice and refreshed.version > current.version


async def test_the_store_keeps_shared_and_members_credentials_apart(world: World) -> None:
    alice, bob = await world.user("alice"), await world.user("bob")
    store: SqlStore = world.services.store
    tenant_id = world.tenant["id"]
    shared = await store.get_credential(tenant_id, "fake")
    assert shared is not None
    mine = await store.put_credential(
        Credential(tenant_id=tenant_id, provider="fake", user_id=alice, kind="bearer", access_token="a1")
    )
    await store.put_credential(
        Credential(tenant_id=tenant_id, provider="fake:user", user_id=alice, kind="bearer", access_token="a1u")
    )
    assert (await store.get_credential(tenant_id, "fake")) == shared
    assert await store.get_credential(tenant_id, "fake", bob) is None
    # Compare-and-swap by (tenant, provider, user): alice's swap touches only alice's row.
    swapped = mine.model_copy(update={"access_token": SecretStr("a2"), "version": mine.version + 1})
    assert await store.swap_credential(mine.version, swapped)
    assert not await store.swap_credential(mine.version, swapped)
    assert (await store.get_credential(tenant_id, "fake")) == shared
    assert [c.provider for c in await store.list_credentials(tenant_id)] == ["fake"]
    assert [
        (r.record.item.provider, r.record.item.user_id) for r in await store.list_member_credentials(tenant_id)
    ] == [
        ("fake", alice),
        ("fake:user", alice),
    ]
    assert len(await store.list_member_credentials(tenant_id, "fake")) == 2
    assert [r.item.provider for r in await store.list_user_credentials(None, alice)] == ["fake", "fake:user"]
    # A member's lock does not hold the shared credential's, nor another member's.
    async with store.lock_credential(tenant_id, "fake", alice) as locked:
        assert locked is not None and locked.access_token is not None
        assert locked.access_token.get_secret_value() == "a2"

        async def other(user_id: str | None) -> Credential | None:
            async with store.lock_credential(tenant_id, "fake", user_id) as found:
                return found

        assert await asyncio.wait_for(other(None), 5) == shared
        assert await asyncio.wait_for(other(bob), 5) is None
    # Deleting alice's credential keeps the shared one, and the reverse.
    assert await store.delete_credential(tenant_id, "fake", alice)
    assert await store.get_credential(tenant_id, "fake") == shared
    assert await store.delete_credential(tenant_id, "fake")
    assert (await store.get_credential(tenant_id, "fake:user", alice)) is not None
    assert await store.delete_user_credentials(tenant_id, alice) == 2  # the deleted row and fake:user
    assert await store.list_user_credentials(tenant_id, alice) == []


async def test_rotation_re_encrypts_members_credentials(world: World, secret_key: str) -> None:
    alice = await world.user("alice")
    store: SqlStore = world.services.store
    tenant_id = world.tenant["id"]
    await store.put_credential(
        Credential(tenant_id=tenant_id, provider="fake", user_id=alice, kind="bearer", access_token="a1")
    )
    new_key = SecretBox.generate_key()
    rotated = SqlStore(store.engine, SecretBox([new_key, secret_key]))
    assert await rotated.rotate_secrets() >= 2  # the shared and alice's access tokens at least
    only_new = SqlStore(store.engine, SecretBox([new_key]))
    found = await only_new.get_credential(tenant_id, "fake", alice)
    assert found is not None and found.access_token is not None and found.access_token.get_secret_value() == "a1"
    shared = await only_new.get_credential(tenant_id, "fake")
    assert shared is not None and shared.access_token is not None
    assert shared.access_token.get_secret_value() == "pat-shared"


async def test_pending_connections_per_member_are_bounded(world: World) -> None:
    alice = await world.user("alice")
    async with await world.browser(alice) as browser:
        for _ in range(MAX_PENDING_PER_USER + 3):
            await world.start(browser)
    async with world.services.engine.connect() as conn:
        count = (
            await conn.execute(text("SELECT count(*) FROM oauth_states WHERE user_id = :u"), {"u": alice})
        ).scalar_one()
    assert count == MAX_PENDING_PER_USER


@pytest.mark.usefixtures("env")
def test_the_cli_sets_the_connection_mode(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "tenant", "create", "acme")
    added = run_json(capsys, "connector", "add", "github", "--tenant", "acme", "--connection-mode", "per_user")
    assert added["connection_mode"] == "per_user"
    assert "connection mode: per_user" in run(capsys, "connector", "show", "github", "--tenant", "acme")
    updated = run_json(capsys, "connector", "update", "github", "--tenant", "acme", "--connection-mode", "shared")
    assert updated["connection_mode"] == "shared"
    body = run_json(
        capsys, "connector", "add", "tokenonly", "--tenant", "acme", "--connection-mode", "per_user", code=1
    )
    assert body["error"]["code"] in ("invalid_connection_mode", "unknown_connector_type")
