"""The web console in a real browser (Debian's Chromium through Playwright) against a real `sagemcp serve`.

One story per database, in order, as the people using it would go: the platform admin signs in, creates a
tenant, adds and configures connectors, disables a tool in the tool policy and sees the playground refuse
it, creates and revokes an API key, configures the OAuth app; a member connects her own account through
the local fake OAuth provider and calls a tool with it; the admin reads the audit log; another member sees
neither the other tenant nor her colleague's connection. On every console page the browser reports no
Content-Security-Policy violation and no script error, and the keyboard reaches the main form.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from ._fake_provider import CLIENT_ID, CLIENT_SECRET
from .conftest import PASSWORD, Console

pytestmark = pytest.mark.e2e


class Problems:
    """What a page's console reported: CSP violations, script errors, failed loads."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def watch(self, page: Any) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.messages.append(f"page error: {exc}"))

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.messages.append(f"{message.type}: {message.text}")

    def csp(self) -> list[str]:
        return [m for m in self.messages if "Content Security Policy" in m or "Content-Security-Policy" in m]


@pytest.fixture(scope="module")
def people(console: Console) -> Console:
    console.create_user("root@example.com", platform_admin=True)
    console.create_user("ana@example.com")
    console.create_user("bo@example.com")
    return console


@pytest.fixture
def problems() -> Problems:
    return Problems()


def open_as(chromium: Any, console: Console, email: str, problems: Problems, *, width: int = 1280) -> Any:
    context = chromium.new_context(viewport={"width": width, "height": 900}, base_url=console.base)
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems.watch(page)
    page.goto("/console/")
    assert page.url.startswith(console.url("/signin")), page.url
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/console/"))
    return page


@pytest.fixture
def root(chromium: Any, people: Console, problems: Problems) -> Iterator[Any]:
    page = open_as(chromium, people, "root@example.com", problems)
    yield page
    page.context.close()


def no_csp_problems(problems: Problems) -> None:
    assert problems.csp() == [], problems.csp()
    assert [m for m in problems.messages if m.startswith("page error")] == []


def test_1_admin_builds_a_tenant(root: Any, people: Console, problems: Problems) -> None:
    page = root
    people.screenshot(page, "dashboard")
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Tenants").click()
    page.get_by_label(re.compile("^Slug", re.I)).fill("acme")
    page.get_by_label("Display name").fill("Acme")
    page.get_by_role("button", name="Create tenant").click()
    page.wait_for_load_state()
    assert page.get_by_role("cell", name="acme").first.is_visible() or "acme" in page.content()
    people.screenshot(page, "tenants")

    # Two connectors: the demo tools (shared), and the fake Notes service with each member's own account.
    for connector_type, name, mode in (("demo", "demo", "shared"), ("notes", "notes", "per_user")):
        page.goto("/console/t/acme/new-connector")
        page.get_by_label("Connector type").select_option(connector_type)
        page.get_by_role("button", name="Continue").click()
        page.get_by_label(re.compile(r"^Name")).fill(name)
        page.get_by_label("Connection").select_option(mode)
        if connector_type == "notes":
            page.locator('[name="configuration.workspace"]').fill("team")
        page.get_by_role("button", name="Add connector").click()
        page.wait_for_load_state()
        assert "problem" not in (page.locator("#form-errors").all_inner_texts() or [""])[0], page.content()
    page.goto("/console/t/acme/connectors")
    assert page.get_by_role("link", name="notes", exact=True).is_visible()
    people.screenshot(page, "connectors")
    r = people.admin.get("/api/v1/admin/tenants/acme/connectors/notes")
    assert r.status_code == 200 and r.json()["configuration"] == {"workspace": "team"}
    assert r.json()["connection_mode"] == "per_user"

    # Tool policy: demo_echo always off; the playground then refuses it like an MCP client.
    page.goto("/console/t/acme/connectors/demo/policy")
    page.get_by_label("Tool demo_echo").select_option("off")
    page.get_by_role("button", name="Save policy").click()
    page.wait_for_load_state()
    people.screenshot(page, "tool-policy")
    r = people.admin.get("/api/v1/admin/tenants/acme/connectors/demo")
    assert "demo_echo" in r.json()["tool_policy"]["exclude_tools"]

    page.goto("/console/t/acme/playground/demo")
    row = page.get_by_role("row", name=re.compile("demo_echo"))
    assert "disabled by policy" in row.inner_text()
    page.goto("/console/t/acme/playground/demo/demo_echo")
    page.get_by_label(re.compile("^Text", re.I)).fill("hello")
    page.get_by_role("button", name="Run demo_echo").click()
    page.wait_for_load_state()
    result = page.get_by_role("heading", name=re.compile("^Result"))
    assert "denied" in result.inner_text()
    assert "disabled for connector 'demo'" in page.content()
    page.goto("/console/t/acme/playground/demo/demo_add")
    page.get_by_label(re.compile(r"^a\b", re.I)).fill("2")
    page.get_by_label(re.compile(r"^b\b", re.I)).fill("40")
    page.get_by_role("button", name="Run demo_add").click()
    page.wait_for_load_state()
    assert "ok" in page.get_by_role("heading", name=re.compile("^Result")).inner_text()
    assert '"sum": 42' in page.locator("#result-structured").inner_text()
    people.screenshot(page, "playground")

    # An API key: shown once, then revoked.
    page.goto("/console/t/acme/keys")
    page.get_by_label("Key name").fill("laptop")
    page.get_by_label(re.compile("^mcp", re.I)).check()
    page.get_by_role("button", name="Create key").click()
    page.wait_for_load_state()
    shown = re.search(r"smcp_[A-Za-z0-9_-]{20,}", page.content())
    assert shown is not None
    key = shown.group(0)
    assert people.admin.get("/api/v1/acme/mcp", headers={"Authorization": f"Bearer {key}"}).status_code != 401
    people.screenshot(page, "api-keys")
    page.goto("/console/t/acme/keys")
    assert key not in page.content()  # shown once only
    page.get_by_role("button", name="Revoke laptop").click()
    page.wait_for_load_state()
    listed = people.admin.get("/api/v1/admin/tenants/acme/api-keys").json()["items"]
    assert [k["revoked"] for k in listed if k["name"] == "laptop"] == [True]

    # The Notes OAuth app (its secret is write-only) and the members.
    page.goto("/console/t/acme/oauth-apps")
    page.get_by_label("Client id for notes").fill(CLIENT_ID)
    page.get_by_label("Client secret for notes").fill(CLIENT_SECRET)
    page.get_by_role("button", name="Save notes OAuth app").click()
    page.wait_for_load_state()
    assert CLIENT_SECRET not in page.content()
    for email in ("ana@example.com", "bo@example.com"):
        page.goto("/console/t/acme/members")
        page.get_by_label(re.compile("^Account e-mail")).fill(email)
        page.get_by_role("button", name="Add member").click()
        page.wait_for_load_state()
    assert "bo@example.com" in page.content()
    people.admin.post("/api/v1/admin/tenants", json={"slug": "hidden", "name": "Hidden"})
    no_csp_problems(problems)


def test_2_member_connects_her_account_and_calls_a_tool(chromium: Any, people: Console, problems: Problems) -> None:
    page = open_as(chromium, people, "ana@example.com", problems)
    page.goto("/console/t/acme/connections")
    row = page.get_by_role("row", name=re.compile("notes"))
    assert "not connected" in row.inner_text()
    row.get_by_role("link", name=re.compile("^Connect")).click()
    page.get_by_role("button", name="Connect Notes").click()  # the connect page; the provider approves at once
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Connected").is_visible(), (problems.messages, page.url)
    assert "ana-notes" in page.content()

    page.goto("/console/t/acme/connections")
    row = page.get_by_role("row", name=re.compile("notes"))
    assert "ana-notes" in row.inner_text() and "active" in row.inner_text()
    for token in people.provider.tokens:
        assert token not in page.content()
    people.screenshot(page, "connections")
    snippet = page.locator("pre", has_text="claude mcp add --transport http acme ")
    assert people.url("/api/v1/acme/mcp") in snippet.first.inner_text()
    copy = page.get_by_role("button", name="Copy").first
    assert copy.is_visible()  # copy.js ran under the CSP
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    copy.click()
    page.wait_for_timeout(100)

    # A call with her own account, the form generated from the tool's schema.
    page.goto("/console/t/acme/playground/notes/notes_search")
    page.get_by_label(re.compile("^Query", re.I)).fill("roadmap")
    page.get_by_label(re.compile("^Limit", re.I)).fill("3")
    page.get_by_label(re.compile("^Archived", re.I)).check()
    page.get_by_label(re.compile("^Kind", re.I)).select_option("task")
    page.get_by_label(re.compile("^Tags", re.I)).fill("q3\nplanning")
    page.get_by_role("button", name="Run notes_search").click()
    page.wait_for_load_state()
    out = page.locator("#result-structured").inner_text()
    assert '"account": "ana-notes"' in out and '"tags": [' in out and '"kind": "task"' in out and '"limit": 3' in out

    # A destructive tool asks first.
    page.goto("/console/t/acme/playground/notes/notes_delete")
    page.get_by_label(re.compile(r"^note.id", re.I)).fill("9")
    page.get_by_role("button", name="Review and run notes_delete").click()
    assert page.get_by_role("heading", name="Run notes_delete?").is_visible()
    page.get_by_role("button", name="Yes, run notes_delete").click()
    page.wait_for_load_state()
    assert "denied" in page.get_by_role("heading", name=re.compile("^Result")).inner_text()  # group write is off
    no_csp_problems(problems)
    page.context.close()


def test_3_admin_reads_the_audit_log(root: Any, people: Console, problems: Problems) -> None:
    page = root
    page.goto("/console/t/acme/audit")
    assert page.locator("svg.chart").is_visible()
    text = page.content()
    assert "demo_echo" in text and "notes_search" in text and "denied" in text
    events = page.get_by_role("table").last
    assert "ana@example.com" in events.inner_text() and "root@example.com" in events.inner_text()
    people.screenshot(page, "audit")
    page.get_by_label("Member").select_option(label="ana@example.com")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_load_state()
    assert "root@example.com" not in page.get_by_role("table").last.inner_text()
    page.get_by_label("Outcome").select_option("denied")
    page.get_by_label("Member").select_option("")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_load_state()
    assert "demo_add" not in page.get_by_role("table").last.inner_text()
    no_csp_problems(problems)


def test_4_a_member_sees_neither_another_tenant_nor_another_members_connection(
    chromium: Any, people: Console, problems: Problems
) -> None:
    page = open_as(chromium, people, "bo@example.com", problems, width=390)  # a phone's width
    nav = page.get_by_role("navigation", name="Console")
    assert nav.get_by_role("link", name="Tenants").count() == 0
    page.goto("/console/t/acme/connections")
    row = page.get_by_role("row", name=re.compile("notes"))
    assert "not connected" in row.inner_text() and "ana-notes" not in page.content()
    people.screenshot(page, "connections-phone")
    for path in ("/console/t/hidden", "/console/t/hidden/connections", "/console/t/hidden/audit",
                 "/console/t/acme/keys", "/console/tenants"):  # fmt: skip
        response = page.goto(path)
        assert response is not None and response.status in (403, 404), path
        assert "Hidden" not in page.content() or response.status == 403
    page.goto("/console/t/acme/audit")
    assert "ana@example.com" not in page.content() and "root@example.com" not in page.content()
    no_csp_problems(problems)
    page.context.close()


def test_5_the_keyboard_reaches_the_main_form(root: Any, people: Console) -> None:
    page = root
    page.goto("/console/t/acme/playground/demo/demo_add")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to content"
    page.keyboard.press("Enter")
    reached = None
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "arg-a":
            reached = True
            break
    assert reached, "Tab from the skip link never reached the tool form's first field"
    page.keyboard.type("1")
    page.keyboard.press("Tab")
    page.keyboard.type("2")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert '"sum": 3' in page.locator("#result-structured").inner_text()
    outline = page.evaluate(
        "(() => { const b = document.querySelector('.tool-form button'); b.focus();"
        " const s = getComputedStyle(b); return s.outlineStyle + ' ' + s.outlineWidth; })()"
    )
    assert not outline.startswith("none"), outline  # a visible focus state


def test_6_admin_connects_the_tenants_shared_account(root: Any, people: Console, problems: Problems) -> None:
    page = root
    page.goto("/console/t/acme/new-connector")
    page.get_by_label("Connector type").select_option("notes")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label(re.compile(r"^Name")).fill("team-notes")
    page.get_by_label("Connection").select_option("shared")
    page.get_by_role("button", name="Add connector").click()
    page.wait_for_load_state()
    page.goto("/console/t/acme/credentials")
    page.get_by_role("button", name="Connect notes with OAuth").click()
    # The console's continuation page, the provider (which approves at once), then the server's callback.
    page.wait_for_url(re.compile(r"/api/v1/oauth/callback/notes"))
    page.wait_for_load_state()
    assert "notes-at-" not in page.content()
    page.goto("/console/t/acme/credentials")
    assert "ana-notes" in page.content(), (problems.messages, page.url)
    no_csp_problems(problems)


def test_7_an_mcp_client_is_allowed_on_the_consent_page(chromium: Any, people: Console, problems: Problems) -> None:
    """A client's OAuth flow as a person meets it: sign in, Allow, and the browser reaches the client's loopback
    redirect URI with a code (the consent page's form may lead there: form-action covers the redirect)."""
    redirect = "http://127.0.0.1:33418/callback"
    r = people.admin.post("/register", json={"redirect_uris": [redirect], "client_name": "Browser Test Client"})
    assert r.status_code == 201, r.text
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {
        "response_type": "code",
        "client_id": r.json()["client_id"],
        "redirect_uri": redirect,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "browser-state",
        "resource": people.url("/api/v1/acme/mcp"),
        "scope": "mcp",
    }
    page = open_as(chromium, people, "ana@example.com", problems)
    arrived: list[str] = []

    def client_callback(route: Any) -> None:
        arrived.append(route.request.url)
        route.fulfill(status=200, content_type="text/plain", body="the client got its code")

    page.route(redirect + "*", client_callback)
    page.goto("/authorize?" + urlencode(query))
    page.get_by_role("button", name=re.compile("^Allow")).click()
    page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:33418/callback"))
    assert arrived and "code=" in arrived[0] and "state=browser-state" in arrived[0], (arrived, problems.messages)
    assert problems.csp() == [], problems.csp()
    page.context.close()
