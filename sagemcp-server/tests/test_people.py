"""Users, memberships, roles and invitations, through the admin API (keys and session cookies), the pages and
the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import Database, Server
from signin_helpers import PASSWORD, add_member, create_user, csrf_of, people_server, sign_in, signed_in
from sqlalchemy import text

from sagemcp.platform import ConnectorRegistry, SecretBox
from sagemcp_server.cli import main
from sagemcp_server.settings import Settings


@pytest.fixture
async def srv(settings: Settings, registry: ConnectorRegistry, provider: Any) -> Any:
    async with people_server(settings, registry, provider, max_pending_invitations=3, max_users=6) as s:
        for slug in ("acme", "globex"):
            await s.tenant(slug)
        await create_user(s, "olive@example.com", name="Olive")
        await create_user(s, "adam@example.com")
        await create_user(s, "mia@example.com")
        await create_user(s, "gus@example.com")
        await add_member(s, "acme", "olive@example.com", "owner")
        await add_member(s, "acme", "adam@example.com", "admin")
        await add_member(s, "acme", "mia@example.com", "member")
        await add_member(s, "globex", "gus@example.com", "owner")
        yield s


async def _dump(server: Server) -> str:
    """Every row of the people tables, as text (to look for secrets)."""
    parts = []
    async with server.services.engine.connect() as conn:
        for table in ("users", "invitations", "web_sessions", "memberships", "oidc_providers", "oidc_states"):
            parts.extend(str(tuple(row)) for row in (await conn.execute(text(f"SELECT * FROM {table}"))).all())
    return "\n".join(parts)


async def _user_id(server: Server, email: str) -> str:
    user = await server.services.people.get_user_by_email(email)
    assert user is not None
    return str(user.id)


# -- users -----------------------------------------------------------------------------------


async def test_users_admin_api(srv: Server) -> None:
    created = await create_user(srv, "  New.Person@Example.COM ", name="New")
    assert created["email"] == "new.person@example.com" and created["has_password"] is True
    assert (
        "password_hash" not in created and "argon2" not in json.dumps(created) and PASSWORD not in json.dumps(created)
    )
    dup = await srv.admin.post("/api/v1/admin/users", json={"email": "NEW.person@example.com"})
    assert dup.status_code == 409 and dup.json()["error"]["code"] == "conflict"
    for bad in ("no-at-sign", "a@b", "two@@example.com", "sp ace@example.com", "x@-bad.example"):
        r = await srv.admin.post("/api/v1/admin/users", json={"email": bad})
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_email", bad
    weak = await srv.admin.post("/api/v1/admin/users", json={"email": "w@example.com", "password": "short"})
    assert weak.status_code == 422
    weak = await srv.admin.post("/api/v1/admin/users", json={"email": "w@example.com", "password": " " * 12})
    assert weak.status_code == 422 and weak.json()["error"]["code"] == "weak_password"
    page = (await srv.admin.get("/api/v1/admin/users", params={"limit": 2})).json()
    assert [u["email"] for u in page["items"]] == ["adam@example.com", "gus@example.com"]
    rest = (await srv.admin.get("/api/v1/admin/users", params={"cursor": page["next_cursor"]})).json()
    assert [u["email"] for u in rest["items"]] == ["mia@example.com", "new.person@example.com", "olive@example.com"]
    bad_cursor = await srv.admin.get("/api/v1/admin/users", params={"cursor": "nonsense"})
    assert bad_cursor.status_code == 422
    olive = await _user_id(srv, "olive@example.com")
    detail = (await srv.admin.get(f"/api/v1/admin/users/{olive}")).json()
    assert detail["memberships"] == [{"tenant": "acme", "tenant_name": "Acme", "role": "owner"}]
    r = await srv.admin.patch(f"/api/v1/admin/users/{olive}", json={"name": "Olive O.", "platform_admin": True})
    assert r.status_code == 200 and r.json()["name"] == "Olive O." and r.json()["platform_admin"] is True
    assert (await srv.admin.get(f"/api/v1/admin/users/{'0' * 32}")).status_code == 404
    created_id = created["id"]
    assert (await srv.admin.delete(f"/api/v1/admin/users/{created_id}")).status_code == 204
    assert (await srv.admin.delete(f"/api/v1/admin/users/{created_id}")).status_code == 404


async def test_users_are_bounded(srv: Server) -> None:
    await create_user(srv, "five@example.com")
    await create_user(srv, "six@example.com")  # SAGEMCP_MAX_USERS=6 here
    r = await srv.admin.post("/api/v1/admin/users", json={"email": "seven@example.com"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "limit_reached"
    assert "SAGEMCP_MAX_USERS" in r.json()["error"]["message"]


async def test_users_are_managed_by_platform_admins_only(srv: Server) -> None:
    key = await srv.key("acme", ["admin", "mcp"])
    async with srv.client(key) as tenant_admin:
        r = await tenant_admin.get("/api/v1/admin/users")
        assert r.status_code == 403 and r.json()["error"]["code"] == "platform_admin_required"
    async with signed_in(srv, "olive@example.com") as (owner, csrf):
        assert (await owner.get("/api/v1/admin/users")).status_code == 403
        r = await owner.post("/api/v1/admin/users", json={"email": "x@example.com"}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 403


# -- roles -----------------------------------------------------------------------------------


async def test_the_last_owner_can_be_neither_demoted_nor_removed_nor_deleted(srv: Server) -> None:
    olive = await _user_id(srv, "olive@example.com")
    base = "/api/v1/admin/tenants/acme/members"
    demote = await srv.admin.patch(f"{base}/{olive}", json={"role": "admin"})
    assert demote.status_code == 409 and demote.json()["error"]["code"] == "last_owner"
    remove = await srv.admin.delete(f"{base}/{olive}")
    assert remove.status_code == 409 and remove.json()["error"]["code"] == "last_owner"
    delete = await srv.admin.delete(f"/api/v1/admin/users/{olive}")
    assert delete.status_code == 409 and "acme" in delete.json()["error"]["message"]
    assert await srv.services.people.role_of((await srv.services.store.get_tenant("acme")).id, olive) == "owner"
    adam = await _user_id(srv, "adam@example.com")
    assert (await srv.admin.patch(f"{base}/{adam}", json={"role": "owner"})).json()["role"] == "owner"
    assert (await srv.admin.patch(f"{base}/{olive}", json={"role": "member"})).json()["role"] == "member"
    assert (await srv.admin.delete(f"{base}/{olive}")).status_code == 204
    members = {m["email"]: m["role"] for m in (await srv.admin.get(base)).json()["items"]}
    assert members == {"adam@example.com": "owner", "mia@example.com": "member"}


async def test_concurrent_demotions_of_the_last_two_owners_leave_one(srv: Server) -> None:
    import asyncio

    tenant = await srv.services.store.get_tenant("acme")
    adam = await _user_id(srv, "adam@example.com")
    olive = await _user_id(srv, "olive@example.com")
    await srv.services.people.set_role(tenant.id, adam, "owner")
    base = "/api/v1/admin/tenants/acme/members"
    results = await asyncio.gather(
        srv.admin.patch(f"{base}/{adam}", json={"role": "member"}),
        srv.admin.patch(f"{base}/{olive}", json={"role": "member"}),
    )
    assert sorted(r.status_code for r in results) == [200, 409]
    owners = [m for m in (await srv.admin.get(base)).json()["items"] if m["role"] == "owner"]
    assert len(owners) == 1


async def test_members_api(srv: Server) -> None:
    base = "/api/v1/admin/tenants/globex/members"
    added = await srv.admin.post(base, json={"email": "Mia@Example.com", "role": "admin"})
    assert added.status_code == 201 and added.json()["role"] == "admin"
    again = await srv.admin.post(base, json={"email": "mia@example.com", "role": "member"})
    assert again.status_code == 409
    unknown = await srv.admin.post(base, json={"email": "stranger@example.com"})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_user"
    assert "invitations" in unknown.json()["error"]["message"]
    bad_role = await srv.admin.post(base, json={"email": "mia@example.com", "role": "god"})
    assert bad_role.status_code == 422
    missing = await srv.admin.patch(f"{base}/{'0' * 32}", json={"role": "member"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "member_not_found"


async def test_an_admin_cannot_touch_the_owner_role_an_owner_can(srv: Server) -> None:
    base = "/api/v1/admin/tenants/acme/members"
    mia = await _user_id(srv, "mia@example.com")
    olive = await _user_id(srv, "olive@example.com")
    async with signed_in(srv, "adam@example.com") as (admin, csrf):
        h = {"X-CSRF-Token": csrf}
        promote = await admin.patch(f"{base}/{mia}", json={"role": "owner"}, headers=h)
        assert promote.status_code == 403 and promote.json()["error"]["code"] == "owner_required"
        demote_owner = await admin.patch(f"{base}/{olive}", json={"role": "member"}, headers=h)
        assert demote_owner.status_code == 403
        assert (await admin.delete(f"{base}/{olive}", headers=h)).status_code == 403
        invite_owner = await admin.post("/api/v1/admin/tenants/acme/invitations", json={"role": "owner"}, headers=h)
        assert invite_owner.status_code == 403
        assert (await admin.patch(f"{base}/{mia}", json={"role": "admin"}, headers=h)).json()["role"] == "admin"
    async with signed_in(srv, "olive@example.com") as (owner, csrf):
        r = await owner.patch(f"{base}/{mia}", json={"role": "owner"}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 200 and r.json()["role"] == "owner"


async def test_a_member_has_no_part_in_the_admin_api(srv: Server) -> None:
    async with signed_in(srv, "mia@example.com") as (member, csrf):
        h = {"X-CSRF-Token": csrf}
        for method, path in [
            ("GET", "/api/v1/admin/tenants"),
            ("GET", "/api/v1/admin/tenants/acme"),
            ("GET", "/api/v1/admin/tenants/acme/members"),
            ("GET", "/api/v1/admin/tenants/acme/connectors"),
            ("POST", "/api/v1/admin/tenants/acme/api-keys"),
            ("GET", "/api/v1/admin/connector-types"),
        ]:
            r = await member.request(method, path, headers=h, json={"scopes": ["mcp"]} if method == "POST" else None)
            assert r.status_code == 403, (path, r.text)
            assert r.json()["error"]["code"] == "admin_role_required"
        me = (await member.get("/api/v1/me")).json()
        assert me["memberships"] == [{"tenant": "acme", "tenant_name": "Acme", "role": "member"}]


async def test_a_tenant_admin_by_cookie_manages_only_their_tenant(srv: Server) -> None:
    await srv.connector("globex", "demo", name="secret-tools")
    async with signed_in(srv, "adam@example.com") as (admin, csrf):
        h = {"X-CSRF-Token": csrf}
        listed = (await admin.get("/api/v1/admin/tenants")).json()["items"]
        assert [t["slug"] for t in listed] == ["acme"]
        made = await admin.post(
            "/api/v1/admin/tenants/acme/connectors", json={"connector_type": "demo", "name": "tools"}, headers=h
        )
        assert made.status_code == 201
        key = await admin.post("/api/v1/admin/tenants/acme/api-keys", json={"scopes": ["mcp"]}, headers=h)
        assert key.status_code == 201
        invited = await admin.post("/api/v1/admin/tenants/acme/invitations", json={"role": "member"}, headers=h)
        assert invited.status_code == 201
        for method, suffix, body in [
            ("GET", "", None),
            ("GET", "/members", None),
            ("GET", "/connectors", None),
            ("GET", "/connectors/secret-tools", None),
            ("POST", "/invitations", {"role": "member"}),
            ("POST", "/members", {"email": "mia@example.com"}),
            ("DELETE", "", None),
        ]:
            foreign = await admin.request(method, f"/api/v1/admin/tenants/globex{suffix}", json=body, headers=h)
            missing = await admin.request(method, f"/api/v1/admin/tenants/nosuch{suffix}", json=body, headers=h)
            assert foreign.status_code == missing.status_code, (method, suffix, foreign.text)
            assert foreign.status_code in (403, 404)
            assert foreign.json()["error"]["code"] == missing.json()["error"]["code"]
            assert "secret-tools" not in foreign.text and "gus@" not in foreign.text
        create = await admin.post("/api/v1/admin/tenants", json={"slug": "mine"}, headers=h)
        assert create.status_code == 403 and create.json()["error"]["code"] == "platform_admin_required"
    # losing the role takes effect at once
    adam = await _user_id(srv, "adam@example.com")
    await srv.admin.patch(f"/api/v1/admin/tenants/acme/members/{adam}", json={"role": "member"})
    async with signed_in(srv, "adam@example.com") as (former, _):
        assert (await former.get("/api/v1/admin/tenants/acme/members")).status_code == 403


async def test_a_platform_admin_user_is_the_platform_admin(srv: Server) -> None:
    olive = await _user_id(srv, "olive@example.com")
    await srv.admin.patch(f"/api/v1/admin/users/{olive}", json={"platform_admin": True})
    async with signed_in(srv, "olive@example.com") as (admin, csrf):
        made = await admin.post("/api/v1/admin/tenants", json={"slug": "initech"}, headers={"X-CSRF-Token": csrf})
        assert made.status_code == 201
        assert (await admin.get("/api/v1/admin/tenants/globex/members")).status_code == 200
        assert (await admin.get("/api/v1/admin/users")).status_code == 200


async def test_a_key_takes_precedence_over_the_cookie(srv: Server) -> None:
    async with signed_in(srv, "olive@example.com") as (browser, _):
        r = await browser.get("/api/v1/admin/tenants/acme", headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"


# -- invitations -----------------------------------------------------------------------------


async def _invite(server: Server, slug: str = "acme", **body: Any) -> dict[str, Any]:
    r = await server.admin.post(f"/api/v1/admin/tenants/{slug}/invitations", json={"role": "member", **body})
    assert r.status_code == 201, r.text
    return dict(r.json())


def _path(invitation: dict[str, Any]) -> str:
    url = invitation["url"]
    assert url.startswith("https://sagemcp.test/invitations/")
    return str(url.removeprefix("https://sagemcp.test"))


async def test_an_invitation_is_accepted_once_by_a_new_account(srv: Server) -> None:
    invitation = await _invite(srv, role="admin")
    token = _path(invitation).rsplit("/", 1)[1]
    dump = await _dump(srv)
    assert token not in dump and hashlib.sha256(token.encode()).hexdigest() in dump
    listed = (await srv.admin.get("/api/v1/admin/tenants/acme/invitations")).json()["items"]
    assert [i["status"] for i in listed] == ["pending"] and token not in json.dumps(listed)
    async with srv.browser() as browser:
        page = await browser.get(_path(invitation))
        assert page.status_code == 200 and "Acme" in page.text and "admin" in page.text
        form = {
            "action": "create",
            "email": "newbie@example.com",
            "name": "Newbie",
            "password": "a long enough password",
            "confirm": "a long enough password",
            "csrf_token": csrf_of(page),
        }
        mismatch = await browser.post(_path(invitation), data={**form, "confirm": "something else entirely"})
        assert mismatch.status_code == 422 and "differ" in mismatch.text
        done = await browser.post(_path(invitation), data=form)
        assert done.status_code == 303 and done.headers["location"] == "/account?joined=acme"
        me = (await browser.get("/api/v1/me")).json()
        assert me["email"] == "newbie@example.com" and me["memberships"][0]["role"] == "admin"
    async with srv.browser() as second:
        again = await second.get(_path(invitation))
        assert again.status_code == 400 and "accepted already" in again.text
        form["csrf_token"] = csrf_of(await second.get("/signin"))
        replay = await second.post(_path(invitation), data={**form, "email": "another@example.com"})
        assert replay.status_code == 400
    assert await srv.services.people.get_user_by_email("another@example.com") is None
    listed = (await srv.admin.get("/api/v1/admin/tenants/acme/invitations")).json()["items"]
    assert listed[0]["status"] == "accepted" and listed[0]["accepted_by"] == me["id"]


async def test_an_existing_user_signs_in_and_accepts(srv: Server) -> None:
    invitation = await _invite(srv, "globex", role="admin")
    async with srv.browser() as browser:
        page = await browser.get(_path(invitation))
        form = {"action": "signin", "email": "mia@example.com", "csrf_token": csrf_of(page)}
        wrong = await browser.post(_path(invitation), data={**form, "password": "not my password!!"})
        assert wrong.status_code == 401
        ok = await browser.post(_path(invitation), data={**form, "password": PASSWORD})
        assert ok.status_code == 303 and ok.headers["location"] == "/account?joined=globex"
        roles = {m["tenant"]: m["role"] for m in (await browser.get("/api/v1/me")).json()["memberships"]}
        assert roles == {"acme": "member", "globex": "admin"}


async def test_a_signed_in_user_accepts_and_an_invitation_never_demotes(srv: Server) -> None:
    invitation = await _invite(srv, "acme", role="member")
    async with signed_in(srv, "adam@example.com") as (browser, _):
        page = await browser.get(_path(invitation))
        assert "signed in as adam@example.com" in page.text
        r = await browser.post(_path(invitation), data={"action": "accept", "csrf_token": csrf_of(page)})
        assert r.status_code == 303
        assert (await browser.get("/api/v1/me")).json()["memberships"][0]["role"] == "admin"


async def test_an_invitation_for_an_email_is_only_for_that_person(srv: Server) -> None:
    invitation = await _invite(srv, "globex", email="Mia@Example.com")
    assert invitation["email"] == "mia@example.com"
    async with signed_in(srv, "adam@example.com") as (browser, _):
        page = await browser.get(_path(invitation))
        r = await browser.post(_path(invitation), data={"action": "accept", "csrf_token": csrf_of(page)})
        assert r.status_code == 400 and "another e-mail address" in r.text
    async with srv.browser() as anonymous:
        page = await anonymous.get(_path(invitation))
        form = {"action": "create", "email": "other@example.com", "password": "x" * 14, "confirm": "x" * 14}
        r = await anonymous.post(_path(invitation), data={**form, "csrf_token": csrf_of(page)})
        assert r.status_code == 422 and "mia@example.com" in r.text
    async with signed_in(srv, "mia@example.com") as (browser, _):
        page = await browser.get(_path(invitation))
        r = await browser.post(_path(invitation), data={"action": "accept", "csrf_token": csrf_of(page)})
        assert r.status_code == 303


async def test_expired_and_revoked_invitations_are_refused(srv: Server) -> None:
    expiring = await _invite(srv, expires_in=60)
    revoked = await _invite(srv)
    too_long = await srv.admin.post(
        "/api/v1/admin/tenants/acme/invitations", json={"role": "member", "expires_in": 90 * 86400}
    )
    assert too_long.status_code == 422 and too_long.json()["error"]["code"] == "invalid_expiry"
    async with srv.services.engine.begin() as conn:
        await conn.execute(
            text("UPDATE invitations SET expires_at = :t WHERE id = :i"), {"t": time.time() - 1, "i": expiring["id"]}
        )
    assert (await srv.admin.delete(f"/api/v1/admin/tenants/acme/invitations/{revoked['id']}")).status_code == 204
    assert (await srv.admin.delete(f"/api/v1/admin/tenants/acme/invitations/{revoked['id']}")).status_code == 404
    async with signed_in(srv, "gus@example.com") as (browser, _):
        for invitation, why in ((expiring, "expired"), (revoked, "revoked")):
            page = await browser.get(_path(invitation))
            assert page.status_code == 400 and why in page.text
            token = csrf_of(await browser.get("/account"))
            r = await browser.post(_path(invitation), data={"action": "accept", "csrf_token": token})
            assert r.status_code == 400
        assert [m["tenant"] for m in (await browser.get("/api/v1/me")).json()["memberships"]] == ["globex"]
    statuses = {
        i["id"]: i["status"] for i in (await srv.admin.get("/api/v1/admin/tenants/acme/invitations")).json()["items"]
    }
    assert statuses == {expiring["id"]: "expired", revoked["id"]: "revoked"}
    async with srv.browser() as browser:
        assert (await browser.get("/invitations/" + "x" * 43)).status_code == 400


async def test_pending_invitations_are_bounded_per_tenant(srv: Server) -> None:
    made = [await _invite(srv) for _ in range(3)]  # SAGEMCP_MAX_PENDING_INVITATIONS=3 here
    r = await srv.admin.post("/api/v1/admin/tenants/acme/invitations", json={"role": "member"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "limit_reached"
    await _invite(srv, "globex")  # another tenant's quota is its own
    await srv.admin.delete(f"/api/v1/admin/tenants/acme/invitations/{made[0]['id']}")
    await _invite(srv)


async def test_invitations_of_another_tenant_are_hidden(srv: Server) -> None:
    theirs = await _invite(srv, "globex")
    key = await srv.key("acme", ["admin"])
    async with srv.client(key) as acme:
        r = await acme.delete(f"/api/v1/admin/tenants/acme/invitations/{theirs['id']}")
        assert r.status_code == 404
        assert (await acme.get("/api/v1/admin/tenants/globex/invitations")).status_code == 404
    listed = (await srv.admin.get("/api/v1/admin/tenants/globex/invitations")).json()["items"]
    assert listed[0]["status"] == "pending"


# -- the CLI ---------------------------------------------------------------------------------


@pytest.fixture
def cli_env(database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, secret_key: str) -> Database:
    for name in list(os.environ):
        if name.startswith("SAGEMCP_") and name not in (
            "SAGEMCP_TEST_POSTGRES_URL",
            "SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS",
        ):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SAGEMCP_DATABASE_URL", database.url)
    if database.schema:
        monkeypatch.setenv("SAGEMCP_DATABASE_SCHEMA", database.schema)
    monkeypatch.setenv("SAGEMCP_SECRET_KEYS", secret_key)
    monkeypatch.setenv("SAGEMCP_PASSWORD_MEMORY_KIB", "8192")
    monkeypatch.setenv("SAGEMCP_PASSWORD_TIME_COST", "1")
    monkeypatch.setenv("SAGEMCP_PUBLIC_URL", "https://sagemcp.test")
    monkeypatch.chdir(tmp_path)
    return database


def _run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "", code: int = 0
) -> str:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    assert main(list(args)) == code, capsys.readouterr()
    return capsys.readouterr().out


def _json(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str, **kw: Any) -> Any:
    return json.loads(_run(capsys, monkeypatch, *args, "--json", **kw))


def test_cli_people_commands(
    cli_env: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, secret_key: str
) -> None:
    run = lambda *a, **kw: _run(capsys, monkeypatch, *a, **kw)  # noqa: E731
    as_json = lambda *a, **kw: _json(capsys, monkeypatch, *a, **kw)  # noqa: E731
    run("db", "upgrade")
    run("tenant", "create", "acme")
    first = as_json("user", "create", "Root@Example.com", "--platform-admin", "--password-stdin", stdin=PASSWORD + "\n")
    assert first["email"] == "root@example.com" and first["platform_admin"] and first["has_password"]
    assert "root@example.com" in run("user", "list")
    # without a terminal, a password must come from stdin (or be declined)
    run("user", "create", "nopw@example.com", code=2)
    as_json("user", "create", "sso@example.com", "--no-password")
    assert "short" not in run("user", "create", "weak@example.com", "--password-stdin", stdin="short\n", code=1)
    as_json("member", "add", "root@example.com", "--tenant", "acme", "--role", "owner")
    as_json("member", "add", "sso@example.com", "--tenant", "acme")
    members = as_json("member", "list", "--tenant", "acme")["items"]
    assert {m["email"]: m["role"] for m in members} == {"root@example.com": "owner", "sso@example.com": "member"}
    assert as_json("member", "role", "sso@example.com", "admin", "--tenant", "acme")["role"] == "admin"
    body = as_json("member", "role", "root@example.com", "member", "--tenant", "acme", code=1)
    assert body["error"]["code"] == "last_owner"
    run("member", "remove", "sso@example.com", "--tenant", "acme")
    invitation = as_json("invite", "create", "--tenant", "acme", "--role", "admin", "--email", "new@example.com")
    assert invitation["url"].startswith("https://sagemcp.test/invitations/")
    listed = as_json("invite", "list", "--tenant", "acme")["items"]
    assert [i["id"] for i in listed] == [invitation["id"]] and "url" not in listed[0]
    run("invite", "revoke", invitation["id"], "--tenant", "acme")
    assert as_json("invite", "list", "--tenant", "acme")["items"][0]["status"] == "revoked"
    new_password = "a different passphrase"
    out = run("user", "set-password", "root@example.com", "--password-stdin", stdin=new_password + "\n")
    assert "signed out" in out and new_password not in out
    provider = as_json(
        "oidc", "add", "corp", "--issuer", "https://login.corp.example", "--client-id", "sagemcp",
        "--client-secret-stdin", "--display-name", "Corp SSO", stdin="s3cret-client-value\n",
    )  # fmt: skip
    assert provider["redirect_uri"] == "https://sagemcp.test/signin/oidc/corp/callback"
    assert provider["has_client_secret"] and "s3cret" not in json.dumps(provider)
    tenant_provider = as_json(
        "oidc", "add", "acme-sso", "--tenant", "acme", "--issuer", "https://idp.acme.example", "--client-id", "x",
        "--match-by", "subject",
    )  # fmt: skip
    assert tenant_provider["tenant"] == "acme"
    assert [p["name"] for p in as_json("oidc", "list")["items"]] == ["corp"]
    assert [p["name"] for p in as_json("oidc", "list", "--tenant", "acme")["items"]] == ["acme-sso"]
    bad = as_json("oidc", "add", "internal", "--issuer", "https://10.0.0.7/", "--client-id", "x", code=1)
    assert bad["error"]["code"] == "invalid_issuer"
    # key rotation re-encrypts the provider's client secret too
    new_key = SecretBox.generate_key()
    monkeypatch.setenv("SAGEMCP_SECRET_KEYS", f"{new_key},{secret_key}")
    rotated = as_json("keys", "rotate")
    assert rotated["re_encrypted"] >= 1
    monkeypatch.setenv("SAGEMCP_SECRET_KEYS", new_key)  # the old key is gone: the secret still decrypts
    assert as_json("oidc", "list")["items"][0]["has_client_secret"] is True
    run("oidc", "remove", "corp")
    run("oidc", "remove", "acme-sso", "--tenant", "acme")
    assert as_json("oidc", "list")["items"] == []
    run("user", "delete", "root@example.com", "--yes", code=1)  # the last owner of acme
    run("user", "delete", "sso@example.com", code=2)  # needs --yes
    run("user", "delete", "sso@example.com", "--yes")
    assert [u["email"] for u in as_json("user", "list")["items"]] == ["root@example.com"]


async def test_cli_users_sign_in(
    cli_env: Database,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
    registry: ConnectorRegistry,
    provider: Any,
) -> None:
    """The first user, made with the CLI, signs in on the server."""
    import asyncio

    await asyncio.to_thread(
        _run, capsys, monkeypatch, "user", "create", "root@example.com", "--password-stdin", stdin=PASSWORD + "\n"
    )
    async with people_server(settings, registry, provider) as server, server.browser() as browser:
        assert (await sign_in(browser, "root@example.com")).status_code == 303
