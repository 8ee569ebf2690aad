"""Password sign-in over HTTP, on SQLite and PostgreSQL: the session cookie, lockout, CSRF, safe redirects.

A browser here is an httpx client that keeps cookies and reaches the server at its public URL
(`https://sagemcp.test`), so `Secure` cookies are sent back as a real browser would.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from http.cookies import SimpleCookie
from typing import Any

import pytest
from conftest import Server
from signin_helpers import PASSWORD, add_member, create_user, csrf_of, people_server, sign_in, signed_in
from sqlalchemy import text

from sagemcp.platform import ConnectorRegistry
from sagemcp_server.settings import Settings
from sagemcp_server.web.signin import FAILED


@pytest.fixture
async def srv(settings: Settings, registry: ConnectorRegistry, provider: Any) -> Any:
    async with people_server(settings, registry, provider, signin_lockout_seconds=1.0, max_sessions_per_user=3) as s:
        await s.tenant("acme")
        await create_user(s, "ada@example.com", name="Ada")
        await add_member(s, "acme", "ada@example.com", "owner")
        yield s


async def _rows(server: Server, sql: str, **params: Any) -> list[Any]:
    async with server.services.engine.connect() as conn:
        return list((await conn.execute(text(sql), params)).all())


def _cookies(response: Any) -> dict[str, Any]:
    jar: dict[str, Any] = {}
    for header in response.headers.get_list("set-cookie"):
        for name, morsel in SimpleCookie(header).items():
            jar[name] = morsel
    return jar


async def test_password_sign_in_sets_a_secure_session_cookie_and_keeps_only_its_hash(srv: Server) -> None:
    async with srv.browser() as browser:
        r = await sign_in(browser, "ADA@example.com", next_path="/account?tab=tenants")
        assert r.status_code == 303 and r.headers["location"] == "/account?tab=tenants"
        cookie = _cookies(r)["sagemcp_session"]
        assert cookie["httponly"] and cookie["secure"] and cookie["path"] == "/"
        assert cookie["samesite"].lower() == "lax"
        assert len(cookie.value) >= 43  # 256 random bits, URL-safe base64
        stored = await _rows(srv, "SELECT token_hash FROM web_sessions")
        assert [row[0] for row in stored] == [hashlib.sha256(cookie.value.encode()).hexdigest()]
        page = await browser.get("/account")
        assert page.status_code == 200 and "ada@example.com" in page.text and "acme" in page.text
        assert "owner" in page.text
        assert (
            page.headers["cache-control"] == "no-store"
            and "frame-ancestors 'none'" in page.headers["content-security-policy"]
        )
        me = (await browser.get("/api/v1/me")).json()
        assert me["email"] == "ada@example.com" and me["memberships"] == [
            {"tenant": "acme", "tenant_name": "Acme", "role": "owner"}
        ]


async def test_http_public_url_cookies_are_not_secure(
    settings: Settings, registry: ConnectorRegistry, provider: Any
) -> None:
    async with people_server(settings, registry, provider, public_url="http://127.0.0.1:8000") as s:
        await create_user(s, "ada@example.com")
        async with s.client() as browser:
            r = await sign_in(browser, "ada@example.com")
        cookie = _cookies(r)["sagemcp_session"]
        assert r.status_code == 303 and not cookie["secure"] and cookie["httponly"]


async def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(srv: Server) -> None:
    async with srv.browser() as browser:
        wrong = await sign_in(browser, "ada@example.com", "not the password at all")
        unknown = await sign_in(browser, "nobody@example.com", "not the password at all")
        for r in (wrong, unknown):
            assert r.status_code == 401 and FAILED in r.text
            assert "sagemcp_session" not in _cookies(r)
        assert (await browser.get("/api/v1/me")).status_code == 401
    assert await _rows(srv, "SELECT token_hash FROM web_sessions") == []


async def test_lockout_after_five_failures_then_unlock_after_the_period(srv: Server) -> None:
    async with srv.browser() as browser:
        for _ in range(5):
            assert (await sign_in(browser, "ada@example.com", "wrong password here")).status_code == 401
        locked = await sign_in(browser, "ada@example.com")  # the right password, refused while locked
        assert locked.status_code == 401 and FAILED in locked.text
        (until,) = (await _rows(srv, "SELECT locked_until FROM users WHERE email = 'ada@example.com'"))[0]
        assert until is not None and until > time.time() - 1
        user = (await srv.admin.get("/api/v1/admin/users")).json()["items"][0]
        assert user["locked"] is True
        await asyncio.sleep(1.2)  # SAGEMCP_SIGNIN_LOCKOUT_SECONDS=1 here
        assert (await sign_in(browser, "ada@example.com")).status_code == 303
    row = (await _rows(srv, "SELECT failed_signins, locked_until FROM users WHERE email = 'ada@example.com'"))[0]
    assert tuple(row) == (0, None)


async def test_failures_that_are_not_consecutive_do_not_lock(srv: Server) -> None:
    async with srv.browser() as browser:
        for _ in range(4):
            assert (await sign_in(browser, "ada@example.com", "wrong password here")).status_code == 401
        assert (await sign_in(browser, "ada@example.com")).status_code == 303
        for _ in range(4):
            assert (await sign_in(browser, "ada@example.com", "wrong password here")).status_code == 401
        assert (await sign_in(browser, "ada@example.com")).status_code == 303


async def test_an_admin_unlocks_an_account(srv: Server) -> None:
    async with srv.browser() as browser:
        for _ in range(5):
            await sign_in(browser, "ada@example.com", "wrong password here")
        user_id = (await srv.admin.get("/api/v1/admin/users")).json()["items"][0]["id"]
        r = await srv.admin.patch(f"/api/v1/admin/users/{user_id}", json={"unlock": True})
        assert r.status_code == 200 and r.json()["locked"] is False
        assert (await sign_in(browser, "ada@example.com")).status_code == 303


async def test_the_sign_in_form_needs_its_csrf_token(srv: Server) -> None:
    async with srv.browser() as browser, srv.browser() as other:
        page = await browser.get("/signin")
        token = csrf_of(page)
        assert "sagemcp_csrf" in _cookies(page)
        form = {"email": "ada@example.com", "password": PASSWORD, "next": "/account"}
        missing = await browser.post("/signin", data=form)
        wrong = await browser.post("/signin", data={**form, "csrf_token": "0" * 64})
        assert missing.status_code == 403 and wrong.status_code == 403
        assert "not sent from this site" in missing.text
        # a token is worth nothing in another browser (the attacker's page cannot read the victim's cookie)
        stolen = await other.post("/signin", data={**form, "csrf_token": token})
        assert stolen.status_code == 403
        assert (await browser.post("/signin", data={**form, "csrf_token": token})).status_code == 303


async def test_cookie_requests_to_the_json_api_need_the_csrf_header(srv: Server) -> None:
    async with signed_in(srv, "ada@example.com") as (browser, csrf):
        assert (await browser.get("/api/v1/admin/tenants/acme/members")).status_code == 200
        body = {"role": "member"}
        missing = await browser.post("/api/v1/admin/tenants/acme/invitations", json=body)
        wrong = await browser.post(
            "/api/v1/admin/tenants/acme/invitations", json=body, headers={"X-CSRF-Token": "f" * 64}
        )
        assert missing.status_code == wrong.status_code == 403
        assert missing.json()["error"]["code"] == "csrf_failed"
        assert (await srv.admin.get("/api/v1/admin/tenants/acme/invitations")).json()["items"] == []
        ok = await browser.post("/api/v1/admin/tenants/acme/invitations", json=body, headers={"X-CSRF-Token": csrf})
        assert ok.status_code == 201, ok.text


async def test_sign_out_needs_csrf_deletes_the_session_and_the_cookie_is_then_worthless(srv: Server) -> None:
    async with signed_in(srv, "ada@example.com") as (browser, _):
        page = await browser.get("/account")
        raw = browser.cookies.get("sagemcp_session")
        assert (await browser.post("/signout", data={})).status_code == 403
        assert (await browser.get("/api/v1/me")).status_code == 200
        r = await browser.post("/signout", data={"csrf_token": csrf_of(page)})
        assert r.status_code == 303 and r.headers["location"].startswith("/signin")
        assert _cookies(r)["sagemcp_session"]["max-age"] == "0"
    assert await _rows(srv, "SELECT token_hash FROM web_sessions") == []
    async with srv.browser() as replay:
        replay.cookies.set("sagemcp_session", raw, domain="sagemcp.test")
        assert (await replay.get("/api/v1/me")).status_code == 401
        r = await replay.get("/account")
        assert r.status_code == 303 and r.headers["location"] == "/signin?next=/account"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/account",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/%0d%0aLocation: https://evil.example",
        "account",
        "/ok\t/x",
    ],
)
async def test_next_must_be_a_path_on_this_server(srv: Server, target: str) -> None:
    async with srv.browser() as browser:
        r = await sign_in(browser, "ada@example.com", next_path=target)
        assert r.status_code == 303 and r.headers["location"] == "/account"
        page = await browser.get("/signin", params={"next": target})  # signed in already: straight on
        assert page.status_code == 303 and page.headers["location"] == "/account"


async def test_signing_in_replaces_a_session_planted_before(srv: Server) -> None:
    await create_user(srv, "mallory@example.com")
    async with signed_in(srv, "mallory@example.com") as (mallory, _), srv.browser() as victim:
        planted = mallory.cookies.get("sagemcp_session")
        victim.cookies.set("sagemcp_session", planted, domain="sagemcp.test")
        r = await sign_in(victim, "ada@example.com")
        assert r.status_code == 303
        fresh = _cookies(r)["sagemcp_session"].value
        assert fresh != planted
        # the planted session is gone: whoever holds it is signed out, not signed in as the victim
        assert (await mallory.get("/api/v1/me")).status_code == 401
        assert (await victim.get("/api/v1/me")).json()["email"] == "ada@example.com"


async def test_sessions_per_user_are_bounded_the_oldest_is_signed_out(srv: Server) -> None:
    browsers = [srv.browser() for _ in range(4)]
    try:
        for browser in browsers:  # SAGEMCP_MAX_SESSIONS_PER_USER=3 here
            assert (await sign_in(browser, "ada@example.com")).status_code == 303
            await asyncio.sleep(0.01)
        assert len(await _rows(srv, "SELECT token_hash FROM web_sessions")) == 3
        statuses = [(await b.get("/api/v1/me")).status_code for b in browsers]
        assert statuses == [401, 200, 200, 200]
    finally:
        for browser in browsers:
            await browser.aclose()


async def test_idle_and_absolute_expiry(srv: Server) -> None:
    async with signed_in(srv, "ada@example.com") as (browser, _):
        digest = hashlib.sha256(browser.cookies.get("sagemcp_session").encode()).hexdigest()
        now = time.time()
        lifetime = srv.services.settings.session_lifetime
        # near its absolute end and idle for a while: a request may extend it up to the end, never past it
        await _exec(
            srv,
            "UPDATE web_sessions SET created_at = :c, last_seen_at = :s, expires_at = :e WHERE token_hash = :h",
            c=now - lifetime + 30,
            s=now - 120,
            e=now + 10,
            h=digest,
        )
        assert (await browser.get("/api/v1/me")).status_code == 200
        (expires,) = (await _rows(srv, "SELECT expires_at FROM web_sessions WHERE token_hash = :h", h=digest))[0]
        assert now + 10 < expires <= now + 31
        # idle past its expiry: signed out
        await _exec(srv, "UPDATE web_sessions SET expires_at = :e WHERE token_hash = :h", e=now - 1, h=digest)
        assert (await browser.get("/api/v1/me")).status_code == 401


async def _exec(server: Server, sql: str, **params: Any) -> None:
    async with server.services.engine.begin() as conn:
        await conn.execute(text(sql), params)


async def test_a_deactivated_user_is_signed_out_and_cannot_sign_in(srv: Server) -> None:
    async with signed_in(srv, "ada@example.com") as (browser, _):
        user_id = (await browser.get("/api/v1/me")).json()["id"]
        r = await srv.admin.patch(f"/api/v1/admin/users/{user_id}", json={"active": False})
        assert r.status_code == 200 and r.json()["active"] is False
        assert (await browser.get("/api/v1/me")).status_code == 401
        assert (await sign_in(browser, "ada@example.com")).status_code == 401


async def test_a_password_change_signs_the_user_out_everywhere(srv: Server) -> None:
    async with signed_in(srv, "ada@example.com") as (browser, _):
        user_id = (await browser.get("/api/v1/me")).json()["id"]
        new = "an entirely new passphrase"
        r = await srv.admin.patch(f"/api/v1/admin/users/{user_id}", json={"password": new})
        assert r.status_code == 200 and "passphrase" not in r.text
        assert (await browser.get("/api/v1/me")).status_code == 401
        assert (await sign_in(browser, "ada@example.com")).status_code == 401
        assert (await sign_in(browser, "ada@example.com", new)).status_code == 303


async def test_hashes_are_argon2id_and_upgraded_when_the_parameters_change(
    settings: Settings, registry: ConnectorRegistry, provider: Any
) -> None:
    async with people_server(settings, registry, provider) as s:
        await create_user(s, "ada@example.com")
        (before,) = (await _rows(s, "SELECT password_hash FROM users"))[0]
        assert before.startswith("$argon2id$") and ",t=1," in before and PASSWORD not in before
    async with people_server(settings, registry, provider, password_time_cost=2) as s:
        async with s.browser() as browser:
            assert (await sign_in(browser, "ada@example.com")).status_code == 303
        (after,) = (await _rows(s, "SELECT password_hash FROM users"))[0]
        assert after.startswith("$argon2id$") and ",t=2," in after
        async with s.browser() as browser:
            assert (await sign_in(browser, "ada@example.com")).status_code == 303


async def test_account_page_needs_a_session(srv: Server) -> None:
    async with srv.browser() as browser:
        r = await browser.get("/account", params={"x": "1"})
        assert r.status_code == 303 and r.headers["location"] == "/signin?next=/account%3Fx%3D1"
        page = await browser.get("/signin", params={"next": "/account?x=1"})
        assert 'value="/account?x=1"' in page.text


async def test_forms_are_bounded_and_must_be_url_encoded(srv: Server) -> None:
    async with srv.browser() as browser:
        page = await browser.get("/signin")
        token = csrf_of(page)
        big = await browser.post("/signin", data={"csrf_token": token, "email": "a" * 20_000, "password": "x"})
        assert big.status_code == 413
        as_json = await browser.post("/signin", json={"csrf_token": token})
        assert as_json.status_code == 415
