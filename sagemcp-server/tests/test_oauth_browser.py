"""The OAuth callback is bound to the browser that opened the authorization link, and never echoes what a
provider writes into its error parameters.

Whoever gets hold of a provider authorization URL (a chat message, a proxy log, browser history) and opens
it connects nothing: the callback needs the cookie that the single-use link set in the browser that opened
it, and a callback without it leaves the authorization pending for that browser.
"""

from __future__ import annotations

import hashlib
import logging
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import Server, running
from sqlalchemy import text

from sagemcp_server.settings import Settings

CALLBACK_PATH = "/api/v1/oauth/callback/fake"


async def ready(server: Server) -> None:
    await server.tenant("acme")
    await server.connector("acme", "fake")
    await server.oauth_app("acme")


async def authorization_link(server: Server, public_url: str = "https://sagemcp.test") -> str:
    r = await server.admin.post("/api/v1/oauth/acme/fake/authorize", json={})
    assert r.status_code == 200, r.text
    link = str(r.json()["authorization_url"])
    assert link.startswith(f"{public_url}/api/v1/oauth/start?link=")
    return link


async def stored_credential(server: Server) -> object:
    tenant = await server.services.store.get_tenant("acme")
    return await server.services.store.get_credential(tenant.id, "fake")


async def test_the_link_sets_a_random_http_only_lax_cookie_limited_to_the_callback(server: Server) -> None:
    await ready(server)
    async with server.browser() as browser:
        r = await browser.get(await authorization_link(server))
    assert r.status_code == 302 and r.headers["location"].startswith("https://fake.example/authorize?")
    assert r.headers["cache-control"] == "no-store" and r.headers["referrer-policy"] == "no-referrer"
    header = r.headers["set-cookie"]
    cookie = next(iter(SimpleCookie(header).values()))
    assert cookie.key.startswith("sagemcp_oauth_")
    assert cookie["path"] == CALLBACK_PATH and cookie["httponly"] and cookie["secure"]
    assert cookie["samesite"].lower() == "lax" and 600 <= int(cookie["max-age"]) <= 661
    assert len(cookie.value) >= 43
    # only a hash of it is kept, with the state
    state = parse_qs(urlsplit(r.headers["location"]).query)["state"][0]
    async with server.services.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT state_hash, browser_hash, link_hash FROM oauth_states"))).all()
    assert len(rows) == 1
    state_hash, browser_hash, link_hash = rows[0]
    assert state_hash == hashlib.sha256(state.encode()).hexdigest() and cookie.key.endswith(state_hash[:16])
    assert browser_hash == hashlib.sha256(cookie.value.encode()).hexdigest() and link_hash is None
    async with server.browser() as other:
        r = await other.get(await authorization_link(server))
    assert next(iter(SimpleCookie(r.headers["set-cookie"]).values())).value != cookie.value


async def test_without_https_the_cookie_is_not_secure(settings: Settings, registry, provider) -> None:
    plain = settings.model_copy(update={"public_url": "http://sagemcp.test"})
    async with running(plain, registry, provider) as server:
        await ready(server)
        link = await authorization_link(server, "http://sagemcp.test")
        async with server.client() as browser:
            r = await browser.get(link.removeprefix("http://sagemcp.test"))
    cookie = next(iter(SimpleCookie(r.headers["set-cookie"]).values()))
    assert r.status_code == 302 and not cookie["secure"] and cookie["httponly"]


async def test_a_leaked_provider_url_connects_nothing_and_the_owner_still_can(server: Server) -> None:
    await ready(server)
    async with server.browser() as owner:
        at_provider = await server.open_link(await authorization_link(server), owner)
        # the attacker opens the leaked provider URL in their own browser and approves with their account
        async with server.browser() as attacker:
            callback = await server.approve(at_provider, attacker)
            refused = await attacker.get(callback)
            assert refused.status_code == 403 and "started in another browser" in refused.text
            attacker.cookies.set(next(iter(owner.cookies.keys())), "guessed-value", "sagemcp.test", CALLBACK_PATH)
            forged = await attacker.get(callback)
            assert forged.status_code == 403
        assert server.provider.token_requests == []  # the attacker's code was never exchanged
        assert await stored_credential(server) is None
        # the authorization is still pending for the browser that started it
        done = await owner.get(await server.approve(at_provider, owner))
    assert done.status_code == 200 and "Connected" in done.text
    assert next(iter(SimpleCookie(done.headers["set-cookie"]).values()))["max-age"] == "0"  # forgotten
    assert await stored_credential(server) is not None


async def test_a_link_opens_once_in_one_browser(server: Server) -> None:
    await ready(server)
    link = await authorization_link(server)
    async with server.browser() as first, server.browser() as second:
        at_provider = await server.open_link(link, first)
        again = await second.get(link)
        assert again.status_code == 400 and "works once, in one browser" in again.text
        assert "set-cookie" not in again.headers
        assert (await first.get(link)).status_code == 400
        for bad in ("/api/v1/oauth/start", "/api/v1/oauth/start?link=short", "/api/v1/oauth/start?link=" + "A" * 43):
            assert (await second.get(bad)).status_code == 400
        assert (await first.get(await server.approve(at_provider, first))).status_code == 200


@pytest.mark.parametrize(
    ("error", "shown"),
    [("access_denied", "access_denied: the request was declined"), ("weird_code<script>", "(error: ")],
)
async def test_provider_error_parameters_are_never_echoed(
    server: Server, caplog: pytest.LogCaptureFixture, error: str, shown: str
) -> None:
    await ready(server)
    secret = "sk-live-9f8e7d6c5b4a"
    async with server.browser() as browser:
        at_provider = await server.open_link(await authorization_link(server), browser)
        state = parse_qs(urlsplit(at_provider).query)["state"][0]
        with caplog.at_level(logging.DEBUG):
            r = await browser.get(
                CALLBACK_PATH,
                params={
                    "state": state,
                    "error": error,
                    "error_description": f"token {secret} was rejected",
                    "error_uri": f"https://provider.example/errors?key={secret}",
                },
            )
    assert r.status_code == 400 and shown in r.text
    assert secret not in r.text and "provider.example" not in r.text and "<script>" not in r.text
    assert secret not in caplog.text
    async with server.browser() as browser:
        replay = await browser.get(CALLBACK_PATH, params={"state": state, "code": "x"})
    assert replay.status_code == 400  # the provider's refusal ended the authorization


async def test_an_authorization_whose_link_was_never_opened_cannot_complete(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    await ready(server)
    flows = server.services.flows
    begun: list[str] = []
    original = flows.begin

    def begin(*args: object, **kwargs: object) -> object:
        url, pending = original(*args, **kwargs)  # type: ignore[arg-type]
        begun.append(url)
        return url, pending

    monkeypatch.setattr(flows, "begin", begin)
    await authorization_link(server)
    # someone who learnt the provider URL without opening the link (a leaked database, say) gets nowhere
    async with server.browser() as browser:
        callback = await server.approve(begun[0], browser)
        r = await browser.get(callback)
    assert r.status_code == 403 and "started in another browser" in r.text
    assert server.provider.token_requests == []
    async with server.browser() as browser:
        r = await browser.get(CALLBACK_PATH, params={"state": "x" * 48, "code": "c"})
    assert r.status_code == 400 and "unknown" in r.text
