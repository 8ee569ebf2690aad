"""Signing in through an OpenID Connect provider: a fake provider on a real port (discovery, JWKS, authorize,
token with an ID token signed by joserfc), reached by the server over the network, on SQLite and PostgreSQL.

The browser reaches the server at its public URL (in-process) and the provider over the network, and follows
redirects one by one, so each hop is checked.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from conftest import ADMIN_KEY, lifespan_in_task
from fake_oidc import CLIENT_ID, CLIENT_SECRET, FakeOidc, running_oidc
from joserfc.jwk import RSAKey
from signin_helpers import PASSWORD, csrf_of, fast, sign_in
from sqlalchemy import text

from sagemcp.platform import ConnectorRegistry
from sagemcp_server.app import create_app
from sagemcp_server.settings import Settings

PUBLIC = "https://sagemcp.test"


class Rig:
    def __init__(self, app: Any, oidc: FakeOidc) -> None:
        self.app = app
        self.oidc = oidc
        self.services = app.state.services
        self.admin = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=PUBLIC, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
        )

    def browser(self) -> httpx.AsyncClient:
        """Cookies kept; this server in-process at its public URL, the provider over the network."""
        return httpx.AsyncClient(mounts={PUBLIC: httpx.ASGITransport(app=self.app)}, base_url=PUBLIC)

    async def provider(self, name: str = "corp", tenant: str | None = None, **extra: Any) -> dict[str, Any]:
        body = {"name": name, "issuer": self.oidc.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
        path = f"/api/v1/admin/tenants/{tenant}/oidc-providers" if tenant else "/api/v1/admin/oidc-providers"
        r = await self.admin.post(path, json={**body, **extra})
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def user(self, email: str, **extra: Any) -> dict[str, Any]:
        r = await self.admin.post("/api/v1/admin/users", json={"email": email, **extra})
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def identities(self) -> list[tuple[Any, ...]]:
        async with self.services.engine.connect() as conn:
            rows = await conn.execute(text("SELECT user_id, issuer, subject FROM user_identities ORDER BY subject"))
            return [tuple(r) for r in rows.all()]


@pytest.fixture
async def rig(settings: Settings, registry: ConnectorRegistry) -> AsyncIterator[Rig]:
    async with running_oidc() as oidc:
        app = create_app(fast(settings), registry=registry)  # no transports: the network, to the provider
        async with lifespan_in_task(app):
            r = Rig(app, oidc)
            async with r.admin:
                await r.admin.post("/api/v1/admin/tenants", json={"slug": "acme", "name": "Acme"})
                yield r


async def start(browser: httpx.AsyncClient, name: str = "corp", next_path: str = "/account") -> str:
    """Start signing in; return the provider's authorization URL."""
    r = await browser.get(f"/signin/oidc/{name}", params={"next": next_path})
    assert r.status_code == 302, r.text
    return str(r.headers["location"])


async def at_provider(browser: httpx.AsyncClient, url: str) -> str:
    """Approve at the provider; return our callback URL (relative)."""
    r = await browser.get(url)
    assert r.status_code == 302, r.text
    location = str(r.headers["location"])
    assert location.startswith(f"{PUBLIC}/signin/oidc/")
    return location.removeprefix(PUBLIC)


async def oidc_signin(browser: httpx.AsyncClient, name: str = "corp", next_path: str = "/account") -> httpx.Response:
    return await browser.get(await at_provider(browser, await start(browser, name, next_path)))


async def me(browser: httpx.AsyncClient) -> dict[str, Any] | None:
    r = await browser.get("/api/v1/me")
    return dict(r.json()) if r.status_code == 200 else None


async def test_a_verified_email_signs_in_the_user_with_pkce_state_and_nonce(rig: Rig) -> None:
    await rig.provider(display_name="Corp SSO")
    ada = await rig.user("ada@example.com")
    async with rig.browser() as browser:
        page = await browser.get("/signin")
        assert "Corp SSO" in page.text and "/signin/oidc/corp?next=" in page.text
        url = await start(browser, next_path="/account?from=sso")
        query = parse_qs(urlsplit(url).query)
        assert url.startswith(f"{rig.oidc.issuer}/authorize?")
        assert query["client_id"] == [CLIENT_ID] and query["code_challenge_method"] == ["S256"]
        assert query["redirect_uri"] == [f"{PUBLIC}/signin/oidc/corp/callback"]
        assert set(query["scope"][0].split()) == {"openid", "email", "profile"}
        assert len(query["state"][0]) >= 43 and len(query["nonce"][0]) >= 43
        assert CLIENT_SECRET not in url
        callback = await at_provider(browser, url)
        done = await browser.get(callback)
        assert done.status_code == 303 and done.headers["location"] == "/account?from=sso"
        assert (await me(browser) or {})["email"] == "ada@example.com"
        # the code was exchanged with the verifier whose S256 is the challenge, the secret in Basic auth
        (sent,) = rig.oidc.token_requests
        assert sent["form"]["code_verifier"] and "client_secret" not in sent["form"]
        assert sent["authorization"].startswith("Basic ")
        # the state is single-use
        replay = await browser.get(callback)
        assert replay.status_code == 400 and "already" in replay.text
    assert await rig.identities() == [(ada["id"], rig.oidc.issuer, "user-1")]
    # next time the linked (issuer, sub) signs in, whatever e-mail the provider sends
    rig.oidc.account["email"] = "ada.renamed@example.com"
    async with rig.browser() as browser:
        assert (await oidc_signin(browser)).status_code == 303
        assert (await me(browser) or {})["id"] == ada["id"]


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"nonce": "not-the-nonce"}, "nonce"),
        ({"aud": "another-client"}, "aud"),
        ({"aud": [CLIENT_ID, "another-client"], "azp": "another-client"}, "azp"),
        ({"iss": "https://evil.example"}, "iss"),
        ({"exp": int(time.time()) - 3600}, "exp"),
        ({"nonce": None}, "missing nonce"),
    ],
)
async def test_an_id_token_with_bad_claims_is_refused(rig: Rig, claims: dict[str, Any], why: str) -> None:
    await rig.provider()
    await rig.user("ada@example.com")
    rig.oidc.claims = claims
    async with rig.browser() as browser:
        r = await oidc_signin(browser)
        assert r.status_code == 400, why
        assert "could not be verified" in r.text and "sagemcp_session" not in r.headers.get("set-cookie", "")
        assert await me(browser) is None
    assert await rig.identities() == []


async def test_a_token_signed_with_another_key_is_refused_and_keys_are_refetched_sparingly(rig: Rig) -> None:
    await rig.provider()
    await rig.user("ada@example.com")
    async with rig.browser() as browser:
        assert (await oidc_signin(browser)).status_code == 303
    assert rig.oidc.jwks_fetches == 1
    rig.oidc.sign_with = RSAKey.generate_key(2048, parameters={"kid": "k1"})  # same kid, wrong key
    async with rig.browser() as browser:
        assert (await oidc_signin(browser)).status_code == 400
    rig.oidc.sign_with = RSAKey.generate_key(2048, parameters={"kid": "rotated"})  # a kid the cached set lacks
    for _ in range(3):
        async with rig.browser() as browser:
            r = await oidc_signin(browser)
            assert r.status_code == 400 and await me(browser) is None
    assert rig.oidc.jwks_fetches == 1  # the set was fetched less than a minute ago: not again


async def test_a_rotated_key_is_picked_up(rig: Rig) -> None:
    await rig.provider()
    await rig.user("ada@example.com")
    async with rig.browser() as browser:
        assert (await oidc_signin(browser)).status_code == 303
    rig.oidc.signing_key = RSAKey.generate_key(2048, parameters={"kid": "k2"})
    client = rig.app.state.oidc_client
    for cached in client._keys.values():
        cached.fetched_at -= 120  # the refetch interval has passed
    async with rig.browser() as browser:
        assert (await oidc_signin(browser)).status_code == 303
    assert rig.oidc.jwks_fetches == 2


async def test_an_unverified_email_is_not_matched(rig: Rig) -> None:
    await rig.provider()
    await rig.user("ada@example.com")
    rig.oidc.account["email_verified"] = False
    async with rig.browser() as browser:
        r = await oidc_signin(browser)
        assert r.status_code == 403 and "did not confirm your e-mail" in r.text
        assert await me(browser) is None
    assert await rig.identities() == []


async def test_an_account_made_from_an_invitation_is_not_linked_by_email(rig: Rig) -> None:
    """Whoever created an account for someone else's address with a password must not share it with them."""
    await rig.provider()
    await rig.user("ada@example.com", password=PASSWORD, email_verified=False)
    async with rig.browser() as browser:
        r = await oidc_signin(browser)
        assert r.status_code == 403 and "never confirmed" in r.text
        # signed in with the password, the same browser links the provider's account explicitly
        assert (await sign_in(browser, "ada@example.com")).status_code == 303
        assert (await oidc_signin(browser)).status_code == 303
    assert len(await rig.identities()) == 1


async def test_the_callback_is_bound_to_the_browser_that_started(rig: Rig) -> None:
    await rig.provider()
    await rig.user("ada@example.com")
    async with rig.browser() as victim, rig.browser() as attacker:
        callback = await at_provider(victim, await start(victim))
        r = await attacker.get(callback)
        assert r.status_code == 403 and "another browser" in r.text
        assert await me(attacker) is None
        assert (await victim.get(callback)).status_code == 303  # still pending for the browser that started it


async def test_provider_errors_are_named_not_echoed(rig: Rig) -> None:
    await rig.provider()
    async with rig.browser() as browser:
        url = await start(browser)
        state = parse_qs(urlsplit(url).query)["state"][0]
        r = await browser.get(
            "/signin/oidc/corp/callback",
            params={"state": state, "error": "access_denied", "error_description": "<script>leak SECRET-123</script>"},
        )
        assert r.status_code == 400 and "access_denied" in r.text
        assert "SECRET-123" not in r.text and "<script>" not in r.text


async def test_no_account_without_an_invitation_then_one_with_it(rig: Rig) -> None:
    await rig.provider()
    rig.oidc.account.update(sub="new-1", email="newbie@example.com")
    async with rig.browser() as browser:
        r = await oidc_signin(browser)
        assert r.status_code == 403 and "invitation" in r.text
    assert await rig.services.people.get_user_by_email("newbie@example.com") is None
    invited = await rig.admin.post(
        "/api/v1/admin/tenants/acme/invitations", json={"role": "admin", "email": "newbie@example.com"}
    )
    path = invited.json()["url"].removeprefix(PUBLIC)
    async with rig.browser() as browser:
        page = await browser.get(path)
        assert f"/signin/oidc/corp?next={path}" in page.text
        r = await oidc_signin(browser, next_path=path)
        assert r.status_code == 303 and r.headers["location"] == path
        page = await browser.get(path)
        accepted = await browser.post(path, data={"action": "accept", "csrf_token": csrf_of(page)})
        assert accepted.status_code == 303
        who = await me(browser) or {}
        assert who["email"] == "newbie@example.com" and who["memberships"][0]["role"] == "admin"


async def test_an_invitation_for_someone_else_does_not_create_an_account(rig: Rig) -> None:
    await rig.provider()
    rig.oidc.account.update(sub="new-2", email="eve@example.com")
    invited = await rig.admin.post(
        "/api/v1/admin/tenants/acme/invitations", json={"role": "member", "email": "bob@example.com"}
    )
    path = invited.json()["url"].removeprefix(PUBLIC)
    async with rig.browser() as browser:
        r = await oidc_signin(browser, next_path=path)
        assert r.status_code == 403 and "bob@example.com" in r.text
    assert await rig.services.people.get_user_by_email("eve@example.com") is None


async def test_a_tenants_provider_creates_members_of_its_tenant_only(rig: Rig) -> None:
    await rig.provider("acme-sso", tenant="acme")
    rig.oidc.account.update(sub="a-1", email="worker@acme.example")
    async with rig.browser() as browser:
        assert (await oidc_signin(browser, "acme-sso")).status_code == 303
        who = await me(browser) or {}
        assert who["memberships"] == [{"tenant": "acme", "tenant_name": "Acme", "role": "member"}]
    # it cannot sign in a platform admin, nor someone who belongs to another tenant too
    await rig.user("root@example.com", platform_admin=True)
    await rig.admin.post("/api/v1/admin/tenants", json={"slug": "globex"})
    await rig.user("both@example.com")
    for slug in ("acme", "globex"):
        await rig.admin.post(f"/api/v1/admin/tenants/{slug}/members", json={"email": "both@example.com"})
    for email, why in (("root@example.com", "platform admin"), ("both@example.com", "its tenant alone")):
        rig.oidc.account.update(sub="forged-" + email, email=email)
        async with rig.browser() as browser:
            r = await oidc_signin(browser, "acme-sso")
            assert r.status_code == 403 and why in r.text
            assert await me(browser) is None


async def test_match_by_subject_signs_in_linked_accounts_only(rig: Rig) -> None:
    await rig.provider("subj", tenant="acme", match_by="subject")
    ada = await rig.user("ada@example.com", password=PASSWORD)
    await rig.admin.post("/api/v1/admin/tenants/acme/members", json={"email": "ada@example.com"})
    async with rig.browser() as browser:
        r = await oidc_signin(browser, "subj")
        assert r.status_code == 403 and await me(browser) is None  # same e-mail, but not linked
        assert (await sign_in(browser, "ada@example.com")).status_code == 303
        assert (await oidc_signin(browser, "subj")).status_code == 303  # links it
    async with rig.browser() as browser:
        assert (await oidc_signin(browser, "subj")).status_code == 303
        assert (await me(browser) or {})["id"] == ada["id"]


async def test_a_discovery_document_for_another_issuer_is_refused(rig: Rig) -> None:
    await rig.provider(issuer=rig.oidc.issuer + "/")  # the provider says it is the issuer without the slash
    async with rig.browser() as browser:
        r = await browser.get("/signin/oidc/corp")
        assert r.status_code == 502 and "another issuer" in r.text
    async with rig.browser() as browser:
        assert (await browser.get("/signin/oidc/nosuch")).status_code == 404


async def test_provider_admin_api(rig: Rig) -> None:
    made = await rig.provider(display_name="Corp")
    assert made["has_client_secret"] and CLIENT_SECRET not in str(made) and made["tenant"] is None
    assert made["redirect_uri"] == f"{PUBLIC}/signin/oidc/corp/callback"
    assert made["scopes"] == ["openid", "email", "profile"]
    dup = await rig.admin.post(
        "/api/v1/admin/tenants/acme/oidc-providers",
        json={"name": "corp", "issuer": rig.oidc.issuer, "client_id": "x"},
    )
    assert dup.status_code == 409
    for issuer in ("http://10.0.0.7", "ftp://x.example", "https://user:pw@login.example", "https://169.254.169.254"):
        r = await rig.admin.post(
            "/api/v1/admin/oidc-providers", json={"name": "bad", "issuer": issuer, "client_id": "x"}
        )
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_issuer", issuer
    kept = await rig.admin.patch("/api/v1/admin/oidc-providers/corp", json={"display_name": "Corp SSO"})
    assert kept.json()["has_client_secret"] is True and kept.json()["display_name"] == "Corp SSO"
    cleared = await rig.admin.patch("/api/v1/admin/oidc-providers/corp", json={"client_secret": None})
    assert cleared.json()["has_client_secret"] is False
    async with rig.services.engine.connect() as conn:
        await rig.admin.patch("/api/v1/admin/oidc-providers/corp", json={"client_secret": "fresh-secret-value"})
        stored = (await conn.execute(text("SELECT client_secret_enc FROM oidc_providers"))).scalar_one()
    assert stored and "fresh-secret-value" not in stored
    # a tenant admin key sees and manages its tenant's providers only
    key = (await rig.admin.post("/api/v1/admin/tenants/acme/api-keys", json={"scopes": ["admin"]})).json()["key"]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=rig.app), base_url=PUBLIC, headers={"Authorization": f"Bearer {key}"}
    ) as tenant_admin:
        assert (await tenant_admin.get("/api/v1/admin/oidc-providers")).status_code == 403
        own = await tenant_admin.post(
            "/api/v1/admin/tenants/acme/oidc-providers",
            json={"name": "acme-sso", "issuer": rig.oidc.issuer, "client_id": "x"},
        )
        assert own.status_code == 201 and own.json()["tenant"] == "acme"
        assert (await tenant_admin.get("/api/v1/admin/tenants/acme/oidc-providers/corp")).status_code == 404
        listed = (await tenant_admin.get("/api/v1/admin/tenants/acme/oidc-providers")).json()["items"]
        assert [p["name"] for p in listed] == ["acme-sso"]
        assert (await tenant_admin.delete("/api/v1/admin/tenants/acme/oidc-providers/corp")).status_code == 404
    platform = (await rig.admin.get("/api/v1/admin/oidc-providers")).json()["items"]
    assert [p["name"] for p in platform] == ["corp"]
    assert (await rig.admin.delete("/api/v1/admin/oidc-providers/acme-sso")).status_code == 404
    assert (await rig.admin.delete("/api/v1/admin/tenants/acme/oidc-providers/acme-sso")).status_code == 204


async def test_pending_sign_ins_are_bounded(
    settings: Settings, registry: ConnectorRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_oidc() as oidc:
        app = create_app(fast(settings, max_pending_oidc_signins=2), registry=registry)
        async with lifespan_in_task(app):
            rig = Rig(app, oidc)
            async with rig.admin:
                await rig.provider()
                async with rig.browser() as browser:
                    for _ in range(2):
                        assert (await browser.get("/signin/oidc/corp")).status_code == 302
                    r = await browser.get("/signin/oidc/corp")
                    assert r.status_code == 503 and "try again" in r.text
                    assert re.search(r"<h1>Sign-in failed</h1>", r.text)
