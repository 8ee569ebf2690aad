"""Linked credentials through the server: one OAuth authorization storing a main and a user token
(as Slack's does), tools preferring the user token, direct storage, listing, refresh and disconnect."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

from conftest import Server, mcp_call
from test_api_tenants import assert_error

CREDENTIALS = "/api/v1/admin/tenants/acme/credentials"


async def _ready(server: Server, groups: list[str]) -> None:
    await server.tenant("acme")
    await server.connector("acme", "fake", tool_policy={"groups": groups})
    await server.oauth_app("acme")


async def _connect(server: Server) -> dict[str, list[str]]:
    r = await server.admin.post("/api/v1/oauth/acme/fake/authorize", json={})
    assert r.status_code == 200, r.text
    async with server.browser() as browser:
        url = await server.open_link(r.json()["authorization_url"], browser)
        location = await server.approve(url, browser)
        done = await browser.get(location)
    assert done.status_code == 200, done.text
    return parse_qs(urlsplit(url).query)


async def _whoami(server: Server, key: str, tool: str) -> str:
    async with server.client(key) as client:
        r = await mcp_call(client, "/api/v1/acme/mcp", "tools/call", {"name": tool})
    result = r.json()["result"]
    assert not result.get("isError"), result
    return str(result["structuredContent"]["login"])


async def test_one_authorization_stores_both_tokens_and_tools_use_the_right_one(server: Server) -> None:
    await _ready(server, ["read", "search"])
    query = await _connect(server)
    assert query["user_scope"] == ["search"]
    assert set(query["scope"][0].split()) == {"read"}

    items = (await server.admin.get(CREDENTIALS)).json()["items"]
    assert [(c["provider"], c["kind"], c["account"]) for c in items] == [
        ("fake", "oauth2", "octocat"),
        ("fake:user", "oauth2", "octocat-user"),
    ]
    assert all("token" not in c and c["has_refresh_token"] for c in items)
    assert (await server.admin.get(f"{CREDENTIALS}/fake:user")).json()["scopes"] == ["search"]

    key = await server.key("acme", ["mcp"])
    assert await _whoami(server, key, "fake_whoami") == "octocat"
    assert await _whoami(server, key, "fake_whoami_user") == "octocat-user"


async def test_without_the_user_group_no_user_token_is_requested(server: Server) -> None:
    await _ready(server, ["read"])
    query = await _connect(server)
    assert "user_scope" not in query
    items = (await server.admin.get(CREDENTIALS)).json()["items"]
    assert [c["provider"] for c in items] == ["fake"]


async def test_user_token_tools_fall_back_to_the_main_credential(server: Server) -> None:
    await _ready(server, ["read", "search"])
    r = await server.admin.put(f"{CREDENTIALS}/fake", json={"token": "pat-main", "kind": "bearer"})
    assert r.status_code == 200, r.text
    key = await server.key("acme", ["mcp"])
    assert await _whoami(server, key, "fake_whoami_user") == "token-user"
    # A user token stored directly under the linked key takes over at once on this replica.
    r = await server.admin.put(f"{CREDENTIALS}/fake:user", json={"token": "pat-user", "kind": "bearer"})
    assert r.status_code == 200, r.text
    assert r.json()["provider"] == "fake:user"
    server.provider.access_tokens["pat-user"] = "direct-user"
    assert await _whoami(server, key, "fake_whoami_user") == "direct-user"
    assert await _whoami(server, key, "fake_whoami") == "token-user"


async def test_linked_keys_are_validated(server: Server) -> None:
    await _ready(server, ["read"])
    body = {"token": "pat-x", "kind": "bearer"}
    assert_error(await server.admin.put(f"{CREDENTIALS}/fake:nope", json=body), 422, "unknown_linked_credential")
    assert_error(
        await server.admin.put("/api/v1/admin/tenants/acme/credentials/tokenonly:user", json=body),
        422,
        "unknown_linked_credential",
    )
    for bad in ("fake:User", "fake:user:x", "fake:", ":user"):
        r = await server.admin.put(f"{CREDENTIALS}/{bad}", json=body)
        assert r.status_code == 422, (bad, r.text)
    # OAuth apps stay per provider: a linked key is not a provider.
    r = await server.admin.put(
        "/api/v1/admin/tenants/acme/oauth-apps/fake:user", json={"client_id": "x", "client_secret": "y"}
    )
    assert r.status_code == 422


async def test_an_expired_user_token_is_refreshed_with_the_providers_app(server: Server) -> None:
    await _ready(server, ["read", "search"])
    await _connect(server)
    store = server.services.store
    tenant = await store.get_tenant("acme")
    user = await store.get_credential(tenant.id, "fake:user")
    main_before = await store.get_credential(tenant.id, "fake")
    await store.put_credential(user.model_copy(update={"expires_at": time.time() - 10}))
    server.services.credential_changed("acme", tenant.id, "fake:user")
    key = await server.key("acme", ["mcp"])
    assert await _whoami(server, key, "fake_whoami_user") == "octocat-user"
    assert server.provider.refresh_count == 1
    refreshed = await store.get_credential(tenant.id, "fake:user")
    assert refreshed.expires_at > time.time() + 60
    assert refreshed.refresh_token.get_secret_value() != user.refresh_token.get_secret_value()
    main = await store.get_credential(tenant.id, "fake")
    assert main.access_token.get_secret_value() == main_before.access_token.get_secret_value()
    assert main.version == main_before.version


async def test_disconnecting_the_provider_revokes_and_deletes_its_linked_credentials(server: Server) -> None:
    await _ready(server, ["read", "search"])
    await _connect(server)
    store = server.services.store
    tenant = await store.get_tenant("acme")
    tokens = {
        p: (await store.get_credential(tenant.id, p)).refresh_token.get_secret_value() for p in ("fake", "fake:user")
    }
    assert (await server.admin.delete(f"{CREDENTIALS}/fake")).status_code == 204
    assert sorted(server.provider.revoked) == sorted(tokens.values())
    assert (await server.admin.get(CREDENTIALS)).json()["items"] == []


async def test_disconnecting_only_the_user_token_keeps_the_main_one(server: Server) -> None:
    await _ready(server, ["read", "search"])
    await _connect(server)
    key = await server.key("acme", ["mcp"])
    assert await _whoami(server, key, "fake_whoami_user") == "octocat-user"
    assert (await server.admin.delete(f"{CREDENTIALS}/fake:user")).status_code == 204
    assert len(server.provider.revoked) == 1
    assert [c["provider"] for c in (await server.admin.get(CREDENTIALS)).json()["items"]] == ["fake"]
    assert await _whoami(server, key, "fake_whoami_user") == "octocat"


async def test_deleting_the_tenant_revokes_linked_credentials_too(server: Server) -> None:
    await _ready(server, ["read", "search"])
    await _connect(server)
    assert (await server.admin.delete("/api/v1/admin/tenants/acme")).status_code == 204
    assert len(server.provider.revoked) == 2


async def test_a_tenant_key_cannot_list_another_tenants_credentials(server: Server) -> None:
    await _ready(server, ["read", "search"])
    await _connect(server)
    await server.tenant("globex")
    other = await server.key("globex", ["admin"])
    async with server.client(other) as client:
        r = await client.get(CREDENTIALS)
    assert r.status_code in (403, 404)
    assert "octocat" not in r.text
