"""The console's admin pages: layout and headers, roles, CSRF, forms and their field errors, secrets.

Every page is driven as a browser would (cookies, forms posted with their CSRF token) on SQLite
and PostgreSQL; results are checked through the admin API and the MCP endpoints, not only the HTML.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from conftest import Server, mcp_call
from signin_helpers import PASSWORD, add_member, create_user, people_server, sign_in

from sagemcp.platform import ConnectorRegistry
from sagemcp_server.console._headers import CONSOLE_CSP
from sagemcp_server.settings import Settings

_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Browser:
    """A signed-in browser and the CSRF token its console forms carry."""

    client: httpx.AsyncClient
    csrf: str

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, **kwargs)

    async def post(self, path: str, data: dict[str, str] | None = None, *, csrf: str | None = None) -> httpx.Response:
        body = {"csrf_token": self.csrf if csrf is None else csrf, **(data or {})}
        return await self.client.post(path, data=body)


@pytest.fixture
async def console(settings: Settings, registry: ConnectorRegistry, provider: Any) -> AsyncIterator[Server]:
    async with people_server(settings, registry, provider) as server:
        await create_user(server, "root@example.com", platform_admin=True)
        await create_user(server, "owner@example.com")
        await create_user(server, "member@example.com")
        await create_user(server, "other@example.com")
        await server.tenant("acme")
        await server.tenant("globex")
        await add_member(server, "acme", "owner@example.com", "owner")
        await add_member(server, "acme", "member@example.com", "member")
        await add_member(server, "globex", "other@example.com", "owner")
        yield server


async def _browser(server: Server, email: str) -> Browser:
    client = server.browser()
    r = await sign_in(client, email, PASSWORD, next_path="/console/")
    assert r.status_code == 303, r.text
    page = await client.get("/console/")
    assert page.status_code == 200, page.text
    found = _CSRF_RE.search(page.text)
    assert found
    return Browser(client, found.group(1))


@asynccontextmanager
async def _signed_in(server: Server, email: str) -> AsyncIterator[Browser]:
    """A browser signed in as `email`, closed afterwards."""
    browser = await _browser(server, email)
    try:
        yield browser
    finally:
        await browser.client.aclose()


@pytest.fixture
async def root(console: Server) -> AsyncIterator[Browser]:
    async with _signed_in(console, "root@example.com") as browser:
        yield browser


@pytest.fixture
async def owner(console: Server) -> AsyncIterator[Browser]:
    async with _signed_in(console, "owner@example.com") as browser:
        yield browser


@pytest.fixture
async def member(console: Server) -> AsyncIterator[Browser]:
    async with _signed_in(console, "member@example.com") as browser:
        yield browser


def _flash(r: httpx.Response) -> str:
    return r.text


# -- layout and headers --------------------------------------------------------------------------


async def test_signed_out_browser_is_sent_to_sign_in(console: Server) -> None:
    async with console.browser() as client:
        r = await client.get("/console/t/acme/connectors")
    assert r.status_code == 303
    assert r.headers["location"] == "/signin?next=/console/t/acme/connectors"


async def test_security_headers_on_pages_static_files_and_unknown_paths(root: Browser) -> None:
    for path in ("/console/", "/console/static/htmx.min.js", "/console/static/console.css", "/console/no-such"):
        r = await root.get(path)
        assert r.headers["content-security-policy"] == CONSOLE_CSP, path
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "same-origin"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in CONSOLE_CSP and "script-src 'self'" in CONSOLE_CSP
    unknown = await root.get("/console/no-such")
    assert unknown.status_code == 404 and "There is no such page." in unknown.text
    for path in ("/console/t/acme%00/keys", "/console/t/acme/connectors/" + "x" * 64, "/console/t/ACME/keys"):
        assert (await root.get(path)).status_code == 404, path
    assert (await root.post("/console/t/acme/keys/not-an-id/revoke")).status_code == 404


async def test_pages_have_no_inline_script_or_style(root: Browser, console: Server) -> None:
    await console.connector("acme")
    for path in (
        "/console/",
        "/console/tenants",
        "/console/t/acme/connectors",
        "/console/t/acme/connectors/demo/policy",
    ):
        html = (await root.get(path)).text
        assert "<style" not in html, path
        assert " style=" not in html, path
        assert re.findall(r"<script(?![^>]*\bsrc=)", html) == [], path
        assert re.search(r"\son[a-z]+=", html) is None, path
        assert 'href="#main"' in html and 'id="main"' in html


async def test_dashboard_shows_health(root: Browser) -> None:
    r = await root.get("/console/")
    assert r.status_code == 200
    assert "Ready" in r.text
    assert "sqlite" in r.text or "postgresql" in r.text


async def test_dashboard_lists_credentials_needing_reconnection(root: Browser, console: Server) -> None:
    await console.connector("acme", "tokenonly")
    stored = await console.admin.put(
        "/api/v1/admin/tenants/acme/credentials/tokenonly",
        json={"kind": "bearer", "fields": {"token": "tok-expiring-1", "expires_at": "2020-01-01T00:00:00Z"}},
    )
    assert stored.status_code == 422  # the API refuses a token that expired already
    services = console.services
    tenant = await services.store.get_tenant("acme")
    from sagemcp import Credential, CredentialStatus

    await services.store.put_credential(
        Credential(tenant_id=tenant.id, provider="tokenonly", kind="bearer", status=CredentialStatus.RECONNECT_REQUIRED)
    )
    r = await root.get("/console/")
    assert "1 need reconnecting" in r.text
    assert 'href="/console/t/acme/credentials">tokenonly</a>' in r.text


# -- roles ------------------------------------------------------------------------------------------

ADMIN_PAGES = ["connectors", "new-connector", "oauth-apps", "credentials", "members", "keys"]


async def test_member_sees_no_admin_page_and_nothing_of_other_tenants(member: Browser, console: Server) -> None:
    await console.connector("acme")
    await console.connector("globex")
    home = await member.get("/console/t/acme")
    assert home.status_code == 200
    for name in ADMIN_PAGES:
        assert f'href="/console/t/acme/{name}"' not in home.text
        r = await member.get(f"/console/t/acme/{name}")
        assert r.status_code == 403, name
        assert "owner or admin role" in r.text
    for path in ("/console/t/acme/connectors/demo", "/console/t/acme/connectors/demo/policy"):
        assert (await member.get(path)).status_code == 403
    for path in ("/console/t/globex", *[f"/console/t/globex/{n}" for n in ADMIN_PAGES], "/console/t/nosuch"):
        r = await member.get(path)
        assert r.status_code == 404, path
        assert "Globex" not in r.text and "/console/t/globex/" not in r.text
    for path in ("/console/tenants", "/console/connector-types"):
        assert (await member.get(path)).status_code == 403
    dash = await member.get("/console/")
    assert 'href="/console/tenants"' not in dash.text and "globex" not in dash.text
    r = await member.post("/console/t/acme/keys", {"name": "sneaky", "scope.mcp": "on"})
    assert r.status_code == 403
    assert (await console.admin.get("/api/v1/admin/tenants/acme/api-keys")).json()["items"] == []


async def test_tenant_owner_manages_own_tenant_only(owner: Browser) -> None:
    for name in ADMIN_PAGES:
        assert (await owner.get(f"/console/t/acme/{name}")).status_code == 200, name
        assert (await owner.get(f"/console/t/globex/{name}")).status_code == 404, name
    assert (await owner.get("/console/tenants")).status_code == 403
    assert (await owner.get("/console/connector-types")).status_code == 403
    r = await owner.post("/console/tenants", {"slug": "sneaky"})
    assert r.status_code == 403
    r = await owner.post("/console/tenants/globex/active", {"active": "false"})
    assert r.status_code == 404


async def test_platform_admin_sees_every_tenant(root: Browser) -> None:
    for slug in ("acme", "globex"):
        for name in ADMIN_PAGES:
            assert (await root.get(f"/console/t/{slug}/{name}")).status_code == 200
    r = await root.get("/console/connector-types")
    assert r.status_code == 200 and "tokenonly" in r.text and "Every installed connector package loaded" in r.text


# -- CSRF ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["", "forged-token"])
async def test_posts_without_the_csrf_token_are_refused(root: Browser, console: Server, token: str) -> None:
    posts = [
        ("/console/tenants", {"slug": "csrf-made"}),
        ("/console/tenants/acme/active", {"active": "false"}),
        ("/console/tenants/acme/delete", {"confirm": "acme"}),
        ("/console/t/acme/keys", {"name": "k", "scope.mcp": "on"}),
        ("/console/t/acme/invitations", {"role": "member"}),
        ("/console/t/acme/new-connector", {"connector_type": "demo", "name": "demo"}),
    ]
    for path, data in posts:
        r = await root.post(path, data, csrf=token)
        assert r.status_code == 403, path
        assert "out of date or was not sent from this site" in r.text
    tenant = (await console.admin.get("/api/v1/admin/tenants/acme")).json()
    assert tenant["active"] is True
    assert (await console.admin.get("/api/v1/admin/tenants/csrf-made")).status_code == 404
    assert (await console.admin.get("/api/v1/admin/tenants/acme/api-keys")).json()["items"] == []
    assert (await console.admin.get("/api/v1/admin/tenants/acme/connectors")).json()["items"] == []


# -- tenants --------------------------------------------------------------------------------------------


def _field_error(html: str, field_id: str) -> str:
    """The error message tied to the input `field-<id>` (checks aria-describedby and aria-invalid)."""
    found = re.search(rf'<(?:input|select|textarea) id="field-{field_id}"[^>]*>', html, re.S)
    assert found, f"no field {field_id}"
    tag = found.group(0)
    assert 'aria-invalid="true"' in tag, tag
    assert f"error-{field_id}" in tag, tag
    message = re.search(rf'<p class="field-error" id="error-{field_id}">([^<]+)</p>', html)
    assert message, html
    return message.group(1)


async def test_create_tenant_with_field_errors(root: Browser, console: Server) -> None:
    r = await root.post("/console/tenants", {"slug": "Not A Slug", "name": "x"})
    assert r.status_code == 422
    assert "pattern" in _field_error(r.text, "slug")
    r = await root.post("/console/tenants", {"slug": "admin"})
    assert r.status_code == 422 and "reserved" in _field_error(r.text, "slug")
    r = await root.post("/console/tenants", {"slug": "acme"})
    assert r.status_code == 409 and "already exists" in _field_error(r.text, "slug")
    r = await root.post("/console/tenants", {"slug": "initech", "name": "Initech"})
    assert r.status_code == 303 and r.headers["location"] == "/console/t/initech"
    assert (await console.admin.get("/api/v1/admin/tenants/initech")).json()["name"] == "Initech"
    assert "Tenant initech created." in (await root.get("/console/t/initech")).text


async def test_tenant_list_search_and_pages(root: Browser, console: Server) -> None:
    for i in range(30):
        await console.services.store.create_tenant(f"t{i:02d}", f"Team {i:02d}")
    first = await root.get("/console/tenants")
    assert first.text.count('href="/console/tenants/') == 25  # one delete link per listed tenant
    next_link = re.search(r'href="(/console/tenants\?cursor=[^"]+)">Next page', first.text)
    assert next_link
    second = await root.get(next_link.group(1).replace("&amp;", "&"))
    assert "t29" in second.text and "acme" not in second.text.split("All tenants")[1]
    found = await root.get("/console/tenants", params={"search": "TEAM 1"})
    listed = set(re.findall(r'href="/console/t/([a-z0-9-]+)">', found.text.split("All tenants")[1]))
    assert listed == {f"t{i}" for i in range(10, 20)}
    none = await root.get("/console/tenants", params={"search": "100%_"})
    assert "No tenant's slug or name contains" in none.text


async def test_deactivate_and_activate_tenant(root: Browser, console: Server) -> None:
    r = await root.post("/console/tenants/acme/active", {"active": "false"})
    assert r.status_code == 303
    assert (await console.admin.get("/api/v1/admin/tenants/acme")).json()["active"] is False
    assert "Tenant acme deactivated." in (await root.get("/console/tenants")).text
    await root.post("/console/tenants/acme/active", {"active": "true"})
    assert (await console.admin.get("/api/v1/admin/tenants/acme")).json()["active"] is True


async def test_delete_confirmation_counts_what_will_be_lost(root: Browser, console: Server) -> None:
    from sagemcp.platform import AuditEvent

    await console.connector("acme")
    await console.connector("acme", "tokenonly")
    await console.admin.put("/api/v1/admin/tenants/acme/credentials/tokenonly", json={"token": "tok-count-1"})
    await console.key("acme", ["mcp"])
    await console.key("acme", ["mcp", "admin"])
    await console.oauth_app("acme")
    tenant = await console.services.store.get_tenant("acme")
    demo = (await console.admin.get("/api/v1/admin/tenants/acme/connectors/demo")).json()
    await console.services.store.record_audits(
        [
            AuditEvent(
                tenant_id=tenant.id,
                connector_id=demo["id"],
                connector_type="demo",
                tool="demo_echo",
                principal_id="k",
                outcome="ok",
                duration_ms=1.0,
                request_id=f"r{i}",
            )
            for i in range(3)
        ]
    )
    r = await root.get("/console/tenants/acme/delete")
    assert r.status_code == 200
    lost = dict((what, int(n)) for n, what in re.findall(r"<li><strong>(\d+)</strong> ([^<]+)</li>", r.text))
    assert lost == {
        "connectors": 2,
        "credentials, shared and per member": 1,
        "API keys": 2,
        "OAuth apps": 1,
        "members": 2,
        "pending invitations": 0,
        "audit events": 3,
    }
    wrong = await root.post("/console/tenants/acme/delete", {"confirm": "acm"})
    assert wrong.status_code == 422 and "Type acme to confirm" in _field_error(wrong.text, "confirm")
    assert (await console.admin.get("/api/v1/admin/tenants/acme")).status_code == 200
    done = await root.post("/console/tenants/acme/delete", {"confirm": "acme"})
    assert done.status_code == 303
    assert (await console.admin.get("/api/v1/admin/tenants/acme")).status_code == 404


# -- connectors ------------------------------------------------------------------------------------------


async def test_add_connector_with_schema_form_and_field_errors(owner: Browser, console: Server) -> None:
    chooser = await owner.get("/console/t/acme/new-connector")
    assert '<option value="fake">' in chooser.text
    form = await owner.get("/console/t/acme/new-connector", params={"type": "fake"})
    assert 'name="configuration.site"' in form.text and '<label for="field-configuration-site">' in form.text
    bad = await owner.post(
        "/console/t/acme/new-connector",
        {"connector_type": "fake", "name": "fake", "configuration.site": "http://plain.example", "enabled": "on"},
    )
    assert bad.status_code == 422
    assert "site must be an https:// URL" in _field_error(bad.text, "configuration-site")
    assert 'value="http://plain.example"' in bad.text  # what was typed is kept
    bad_name = await owner.post("/console/t/acme/new-connector", {"connector_type": "fake", "name": "Bad Name"})
    assert bad_name.status_code == 422 and _field_error(bad_name.text, "name")
    ok = await owner.post(
        "/console/t/acme/new-connector",
        {"connector_type": "fake", "name": "fake", "configuration.site": "https://site.example", "enabled": "on"},
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/console/t/acme/connectors/fake"
    stored = (await console.admin.get("/api/v1/admin/tenants/acme/connectors/fake")).json()
    assert stored["configuration"] == {"site": "https://site.example"} and stored["enabled"] is True
    page = await owner.get("/console/t/acme/connectors/fake")
    assert 'value="https://site.example"' in page.text and "Connector fake added." in page.text
    again = await owner.post(
        "/console/t/acme/connectors/fake",
        {"name": "fake", "configuration.site": "ftp://x", "connection_mode": "shared", "enabled": "on"},
    )
    assert again.status_code == 422 and "https://" in _field_error(again.text, "configuration-site")
    saved = await owner.post(
        "/console/t/acme/connectors/fake",
        {"name": "fake", "description": "Our fake", "configuration.site": "", "connection_mode": "per_user"},
    )
    assert saved.status_code == 303
    stored = (await console.admin.get("/api/v1/admin/tenants/acme/connectors/fake")).json()
    assert stored["configuration"] == {} and stored["enabled"] is False
    assert stored["description"] == "Our fake" and stored["connection_mode"] == "per_user"


async def test_enable_and_disable_connector(owner: Browser, console: Server) -> None:
    await console.connector("acme")
    r = await owner.post("/console/t/acme/connectors/demo/enabled", {"enabled": "false"})
    assert r.status_code == 303
    assert (await console.admin.get("/api/v1/admin/tenants/acme/connectors/demo")).json()["enabled"] is False
    listing = await owner.get("/console/t/acme/connectors")
    assert "Connector demo disabled." in listing.text and 'aria-label="Enable demo"' in listing.text
    await owner.post("/console/t/acme/connectors/demo/enabled", {"enabled": "true"})
    assert (await console.admin.get("/api/v1/admin/tenants/acme/connectors/demo")).json()["enabled"] is True


def _previewed(html: str) -> set[str]:
    section = html[html.index('id="policy-preview"') :]
    return set(re.findall(r"<li><code>([a-z0-9_]+)</code></li>", section))


async def _served(console: Server, key: str) -> set[str]:
    async with console.client(key) as client:
        r = await mcp_call(client, "/api/v1/acme/connectors/fake/mcp", "tools/list")
    assert r.status_code == 200, r.text
    return {t["name"] for t in r.json()["result"]["tools"]}


async def test_policy_preview_matches_what_tools_list_serves(owner: Browser, console: Server) -> None:
    await console.connector("acme", "fake")
    key = await console.key("acme", ["mcp"])
    page = await owner.get("/console/t/acme/connectors/fake/policy")
    assert _previewed(page.text) == await _served(console, key) == {"fake_whoami"}
    policies: list[dict[str, str]] = [
        {"group.read": "on", "group.write": "on"},
        {"group.read": "on", "group.write": "on", "read_only": "on"},
        {"group.search": "on", "tool.fake_delete_thing": "on", "tool.fake_whoami_user": "off"},
        {"default_groups": "on", "tool.fake_whoami": "off"},
    ]
    for chosen in policies:
        preview = await owner.post("/console/t/acme/connectors/fake/policy", {**chosen, "action": "preview"})
        assert preview.status_code == 200 and "Preview (not saved)" in preview.text
        previewed = _previewed(preview.text)
        assert await _served(console, key) != previewed or previewed == {"fake_whoami"}  # not saved yet
        saved = await owner.post("/console/t/acme/connectors/fake/policy", {**chosen, "action": "save"})
        assert saved.status_code == 303
        assert await _served(console, key) == previewed, chosen
    stored = (await console.admin.get("/api/v1/admin/tenants/acme/connectors/fake")).json()["tool_policy"]
    assert stored == {"groups": None, "include_tools": [], "exclude_tools": ["fake_whoami"], "read_only": False}


async def test_discovery_mode_and_pins_on_the_connector_page(owner: Browser, console: Server) -> None:
    await console.connector("acme")
    key = await console.key("acme", ["mcp"])
    page = await owner.get("/console/t/acme/connectors/demo")
    assert 'name="discovery"' in page.text and 'name="pinned_tools"' in page.text
    settings = {"name": "demo", "connection_mode": "shared", "enabled": "on"}
    unknown = await owner.post(
        "/console/t/acme/connectors/demo", {**settings, "discovery": "on", "pinned_tools": "demo_echo, demo_nope"}
    )
    assert unknown.status_code == 422
    assert _field_error(unknown.text, "pinned_tools") == "unknown tool &#39;demo_nope&#39;"
    assert 'value="demo_echo, demo_nope"' in unknown.text  # what was typed is kept
    too_many = await owner.post("/console/t/acme/connectors/demo", {**settings, "pinned_tools": "demo_echo " * 21})
    assert too_many.status_code == 422 and _field_error(too_many.text, "pinned_tools")
    saved = await owner.post(
        "/console/t/acme/connectors/demo", {**settings, "discovery": "on", "pinned_tools": "demo_echo, demo_add"}
    )
    assert saved.status_code == 303
    stored = (await console.admin.get("/api/v1/admin/tenants/acme/connectors/demo")).json()
    assert (stored["discovery"], stored["pinned_tools"]) == (True, ["demo_echo", "demo_add"])
    async with console.client(key) as client:
        r = await mcp_call(client, "/api/v1/acme/connectors/demo/mcp", "tools/list")
    assert [t["name"] for t in r.json()["result"]["tools"]] == [
        "search_tools",
        "describe_tool",
        "call_tool",
        "demo_echo",
        "demo_add",
    ]
    page = await owner.get("/console/t/acme/connectors/demo")
    assert 'value="demo_echo, demo_add"' in page.text and re.search(r'name="discovery"[^>]*checked', page.text)

    # A policy that disables a pin does not block saving other settings; a new pin must be enabled.
    await console.admin.patch(
        "/api/v1/admin/tenants/acme/connectors/demo", json={"tool_policy": {"exclude_tools": ["demo_add"]}}
    )
    kept = {**settings, "discovery": "on", "pinned_tools": "demo_echo, demo_add", "description": "calc"}
    assert (await owner.post("/console/t/acme/connectors/demo", kept)).status_code == 303
    disabled = await owner.post(
        "/console/t/acme/connectors/demo", {**settings, "pinned_tools": "demo_add, demo_server_time"}
    )
    assert disabled.status_code == 422 and "not enabled" in _field_error(disabled.text, "pinned_tools")
    off = await owner.post("/console/t/acme/connectors/demo", {**settings, "pinned_tools": ""})
    assert off.status_code == 303
    stored = (await console.admin.get("/api/v1/admin/tenants/acme/connectors/demo")).json()
    assert (stored["discovery"], stored["pinned_tools"], stored["description"]) == (False, [], "")


async def test_policy_preview_fragment_for_htmx(owner: Browser, console: Server) -> None:
    await console.connector("acme", "fake")
    r = await owner.client.post(
        "/console/t/acme/connectors/fake/policy",
        data={"csrf_token": owner.csrf, "group.write": "on"},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200
    assert r.text.lstrip().startswith('<section id="policy-preview"')
    assert _previewed(r.text) == {"fake_delete_thing"}


async def test_delete_connector_after_confirmation(owner: Browser, console: Server) -> None:
    await console.connector("acme")
    confirm = await owner.get("/console/t/acme/connectors/demo/delete")
    assert "Delete connector demo?" in confirm.text
    r = await owner.post("/console/t/acme/connectors/demo/delete")
    assert r.status_code == 303
    assert (await console.admin.get("/api/v1/admin/tenants/acme/connectors/demo")).status_code == 404


# -- OAuth apps, credentials ---------------------------------------------------------------------------------


async def test_oauth_app_secret_is_write_only(owner: Browser, console: Server) -> None:
    secret = "oauth-secret-never-shown-5e1"
    r = await owner.post("/console/t/acme/oauth-apps/fake", {"client_id": "cid-1", "client_secret": secret})
    assert r.status_code == 303
    page = await owner.get("/console/t/acme/oauth-apps")
    assert secret not in page.text and "cid-1" in page.text and "stored" in page.text
    assert "https://sagemcp.test/api/v1/oauth/callback/fake" in page.text
    await owner.post("/console/t/acme/oauth-apps/fake", {"client_id": "cid-2", "client_secret": ""})
    app = await console.services.store.get_oauth_app((await console.services.store.get_tenant("acme")).id, "fake")
    assert app.client_id == "cid-2" and app.client_secret.get_secret_value() == secret  # blank kept it
    bad = await owner.post("/console/t/acme/oauth-apps/fake", {"client_id": "", "client_secret": "other-secret"})
    assert bad.status_code == 422 and "other-secret" not in bad.text
    assert "at least 1 character" in _field_error(bad.text.replace("fake-client_id", "client_id"), "client_id")
    await owner.post("/console/t/acme/oauth-apps/fake", {"client_id": "cid-2", "remove_secret": "on"})
    app = await console.services.store.get_oauth_app((await console.services.store.get_tenant("acme")).id, "fake")
    assert app.client_secret is None


async def test_paste_a_token_and_delete_it(owner: Browser, console: Server) -> None:
    await console.connector("acme", "tokenonly")
    token = "pasted-token-9f8e7d"
    missing = await owner.post("/console/t/acme/credentials/tokenonly", {"kind": "bearer", "fields.account": "bot"})
    assert missing.status_code == 422
    assert "Field required" in _field_error(missing.text, "tokenonly-bearer-token")
    assert 'value="bot"' in missing.text
    r = await owner.post(
        "/console/t/acme/credentials/tokenonly", {"kind": "bearer", "fields.token": token, "fields.account": "bot"}
    )
    assert r.status_code == 303
    page = await owner.get("/console/t/acme/credentials")
    assert token not in page.text and "bot" in page.text and "active" in page.text
    cred = (await console.admin.get("/api/v1/admin/tenants/acme/credentials/tokenonly")).json()
    assert cred["account"] == "bot" and cred["kind"] == "bearer"
    r = await owner.post("/console/t/acme/credentials/tokenonly/delete")
    assert r.status_code == 303
    assert (await console.admin.get("/api/v1/admin/tenants/acme/credentials/tokenonly")).status_code == 404


async def test_connect_with_oauth_through_the_existing_flow(owner: Browser, console: Server) -> None:
    await console.connector("acme", "fake")
    missing = await owner.post("/console/t/acme/credentials/fake/connect")
    assert missing.status_code == 409 and "OAuth app first" in missing.text
    await console.oauth_app("acme")
    r = await owner.post("/console/t/acme/credentials/fake/connect")
    # A page that goes on by itself (Refresh header): a redirect after the POST would be blocked by form-action.
    assert r.status_code == 200 and "Continue to fake" in r.text
    link = r.headers["refresh"].removeprefix("0; url=")
    assert link.startswith("https://sagemcp.test/api/v1/oauth/start?link=")
    assert f'href="{link.replace("&", "&amp;")}"' in r.text or f'href="{link}"' in r.text
    callback = await console.follow_authorize(link, owner.client)
    done = await owner.client.get(callback)
    assert done.status_code == 200, done.text
    cred = (await console.admin.get("/api/v1/admin/tenants/acme/credentials/fake")).json()
    assert cred["status"] == "active" and cred["kind"] == "oauth2"
    page = await owner.get("/console/t/acme/credentials")
    assert "Reconnect fake with OAuth" in page.text
    for issued in console.provider.issued:
        assert issued not in page.text


# -- members, keys --------------------------------------------------------------------------------------------


async def test_invitation_link_shown_once_and_accepted(owner: Browser, console: Server) -> None:
    r = await owner.post("/console/t/acme/invitations", {"email": "new@example.com", "role": "admin"})
    assert r.status_code == 200
    link = re.search(r"https://sagemcp\.test/invitations/[A-Za-z0-9_-]+", r.text)
    assert link and "shown only now" in r.text
    assert 'data-copy-target="invitation-link"' in r.text and "/console/static/copy.js" in r.text
    again = await owner.get("/console/t/acme/members")
    assert link.group(0) not in again.text and "new@example.com" in again.text and "pending" in again.text
    token = link.group(0).rsplit("/", 1)[1]
    invitation = await console.services.people.get_invitation(token)
    assert invitation is not None and invitation.role == "admin"
    bad = await owner.post("/console/t/acme/invitations", {"email": "not-an-email", "expires_days": "soon"})
    assert bad.status_code == 422 and _field_error(bad.text, "invite-expires_days")
    too_long = await owner.post("/console/t/acme/invitations", {"expires_days": "365"})
    assert too_long.status_code == 422 and "at most" in _field_error(too_long.text, "invite-expires_days")


async def test_change_role_and_remove_member(owner: Browser, console: Server) -> None:
    members = (await console.admin.get("/api/v1/admin/tenants/acme/members")).json()["items"]
    member_id = next(m["user_id"] for m in members if m["email"] == "member@example.com")
    r = await owner.post(f"/console/t/acme/members/{member_id}/role", {"role": "admin"})
    assert r.status_code == 303
    roles = {
        m["email"]: m["role"] for m in (await console.admin.get("/api/v1/admin/tenants/acme/members")).json()["items"]
    }
    assert roles["member@example.com"] == "admin"
    added = await owner.post("/console/t/acme/members", {"email": "nobody@example.com", "role": "member"})
    assert added.status_code == 422 and _field_error(added.text, "add-email") == "no such user"
    assert "send them an invitation instead" in added.text
    r = await owner.post(f"/console/t/acme/members/{member_id}/remove")
    assert r.status_code == 303
    emails = {m["email"] for m in (await console.admin.get("/api/v1/admin/tenants/acme/members")).json()["items"]}
    assert emails == {"owner@example.com"}


async def test_admin_cannot_hand_out_the_owner_role(console: Server) -> None:
    await add_member(console, "acme", "other@example.com", "admin")
    browser = await _browser(console, "other@example.com")
    try:
        members = (await console.admin.get("/api/v1/admin/tenants/acme/members")).json()["items"]
        member_id = next(m["user_id"] for m in members if m["email"] == "member@example.com")
        r = await browser.post(f"/console/t/acme/members/{member_id}/role", {"role": "owner"})
        assert r.status_code == 403 and "Only an owner" in r.text
    finally:
        await browser.client.aclose()


async def test_api_key_shown_once_works_and_is_revoked(owner: Browser, console: Server) -> None:
    await console.connector("acme")
    bad = await owner.post("/console/t/acme/keys", {"name": "none"})
    assert bad.status_code == 422 and "scopes" in bad.text and 'id="error-scopes"' in bad.text
    limited = await owner.post("/console/t/acme/keys", {"scope.admin": "on", "connector": "demo"})
    assert limited.status_code == 422 and "cannot have the `admin` scope" in limited.text
    r = await owner.post("/console/t/acme/keys", {"name": "laptop", "scope.mcp": "on"})
    assert r.status_code == 200
    found = re.search(r'<pre id="new-api-key"[^>]*><code>([^<]+)</code></pre>', r.text)
    assert found and "shown only once" in r.text and 'data-copy-target="new-api-key"' in r.text
    key = found.group(1)
    async with console.client(key) as client:
        assert (await mcp_call(client, "/api/v1/acme/mcp", "tools/list")).status_code == 200
    listing = await owner.get("/console/t/acme/keys")
    assert key not in listing.text and "laptop" in listing.text
    key_id = (await console.admin.get("/api/v1/admin/tenants/acme/api-keys")).json()["items"][0]["id"]
    r = await owner.post(f"/console/t/acme/keys/{key_id}/revoke")
    assert r.status_code == 303
    async with console.client(key) as client:
        assert (await mcp_call(client, "/api/v1/acme/mcp", "tools/list")).status_code == 401


async def test_no_secret_in_any_page(root: Browser, console: Server) -> None:
    secrets_ = ["tok-secret-shared-1", "oauth-secret-never-1", console.services.settings.admin_key.get_secret_value()]
    await console.connector("acme", "tokenonly")
    await console.connector("acme", "fake")
    await root.post("/console/t/acme/credentials/tokenonly", {"kind": "bearer", "fields.token": secrets_[0]})
    await root.post("/console/t/acme/oauth-apps/fake", {"client_id": "c", "client_secret": secrets_[1]})
    paths = [
        "/console/",
        "/console/t/acme",
        "/console/tenants",
        "/console/connector-types",
        *[f"/console/t/acme/{n}" for n in ADMIN_PAGES],
        "/console/t/acme/connectors/tokenonly",
        "/console/t/acme/connectors/fake/policy",
    ]
    for path in paths:
        r = await root.get(path)
        assert r.status_code == 200, path
        for secret in secrets_:
            assert secret not in r.text, (path, secret)
    failed = await root.post("/console/t/acme/credentials/tokenonly", {"kind": "bearer", "fields.token": "x" * 20000})
    assert failed.status_code == 422 and "x" * 100 not in failed.text


async def test_tenant_search_in_the_admin_api(console: Server) -> None:
    await console.services.store.create_tenant("big-co", "Wide_Open 100%")
    r = await console.admin.get("/api/v1/admin/tenants", params={"search": "OPEN 100%"})
    assert [t["slug"] for t in r.json()["items"]] == ["big-co"]
    r = await console.admin.get("/api/v1/admin/tenants", params={"search": "e_o"})
    assert [t["slug"] for t in r.json()["items"]] == ["big-co"]  # `_` matched literally, not as a wildcard
    r = await console.admin.get("/api/v1/admin/tenants", params={"search": "%"})
    assert [t["slug"] for t in r.json()["items"]] == ["big-co"]
    r = await console.admin.get("/api/v1/admin/tenants", params={"search": "x" * 101})
    assert r.status_code == 422


def test_vendored_htmx_matches_its_record() -> None:
    import hashlib
    from pathlib import Path

    import sagemcp_server.console as console_package

    static = Path(console_package.__file__).parent / "static"
    record = (static / "VENDORED.md").read_text()
    digest = hashlib.sha256((static / "htmx.min.js").read_bytes()).hexdigest()
    assert f"`{digest}`" in record
    assert (static / "htmx.LICENSE").exists()


async def test_credentials_under_a_connectors_own_provider_key(owner: Browser, console: Server) -> None:
    await console.connector("acme", "tokenonly", name="second", provider="tokenonly-second")
    page = await owner.get("/console/t/acme/credentials")
    assert 'id="cred-tokenonly-second"' in page.text
    r = await owner.post("/console/t/acme/credentials/tokenonly-second", {"kind": "bearer", "fields.token": "tok-2nd"})
    assert r.status_code == 303
    assert (await console.admin.get("/api/v1/admin/tenants/acme/credentials/tokenonly-second")).status_code == 200
    unknown = await owner.post("/console/t/acme/credentials/nosuch", {"kind": "bearer", "fields.token": "tok-x"})
    assert unknown.status_code == 422 and "No installed connector uses the provider &#39;nosuch&#39;" in unknown.text


async def test_last_owner_keeps_the_role(owner: Browser, console: Server) -> None:
    members = (await console.admin.get("/api/v1/admin/tenants/acme/members")).json()["items"]
    owner_id = next(m["user_id"] for m in members if m["email"] == "owner@example.com")
    r = await owner.post(f"/console/t/acme/members/{owner_id}/role", {"role": "member"})
    assert r.status_code == 409 and 'id="form-errors"' in r.text and "owner" in r.text
    roles = {
        m["email"]: m["role"] for m in (await console.admin.get("/api/v1/admin/tenants/acme/members")).json()["items"]
    }
    assert roles["owner@example.com"] == "owner"
