"""The console's member pages on SQLite and PostgreSQL: own connections, client configuration, the tool
playground and the audit log, over HTTP against the ASGI app with a signed-in browser.

What must hold: every page is for signed-in members of the tenant only (another tenant is "not found"),
a member sees and disconnects only their own connections, forms need the session's CSRF token, no token
or secret is ever rendered, playground calls run through the MCP pipeline (tool policy, confirmation for
write tools, audit with the member's user id), and the audit page filters, pages, charts and computes
latency percentiles from stored events, showing a member only their own calls.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import Server
from signin_helpers import add_member, create_user, csrf_of, people_server, sign_in

from sagemcp.platform import AuditEvent, ConnectorRegistry
from sagemcp_server.console._charts import buckets, latency_table, percentile, series_svg
from sagemcp_server.console._tool_form import arguments_from, tool_fields
from sagemcp_server.console.connections import client_snippets
from sagemcp_server.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "connecting-clients.md"


@pytest.fixture
async def srv(settings: Settings, registry: ConnectorRegistry, provider: Any) -> AsyncIterator[Server]:
    async with people_server(settings, registry, provider) as server:
        await server.tenant("acme")
        await server.tenant("other")
        await server.connector("acme", "demo", "demo")
        await server.connector("acme", "fake", "mine", connection_mode="per_user")
        await server.connector("other", "demo", "secretdemo")
        await server.oauth_app("acme")
        for email, role in (("ana@example.com", "member"), ("bo@example.com", "member"), ("al@example.com", "admin")):
            await create_user(server, email)
            await add_member(server, "acme", email, role)
        yield server


@asynccontextmanager
async def browser_for(server: Server, email: str) -> AsyncIterator[httpx.AsyncClient]:
    async with server.browser() as browser:
        r = await sign_in(browser, email, next_path="/console/")
        assert r.status_code == 303, r.text
        yield browser


async def user_id(server: Server, email: str) -> str:
    person = await server.services.people.get_user_by_email(email)
    assert person is not None
    return str(person.id)


async def connect(server: Server, browser: httpx.AsyncClient) -> None:
    """Connect the signed-in member's own Fake account through the connect page and the fake provider."""
    page = await browser.get("/connect/acme/mine")
    assert page.status_code == 200, page.text
    started = await browser.post("/connect/acme/mine", data={"csrf_token": csrf_of(page)})
    assert started.status_code == 303, started.text
    location = await server.approve(started.headers["location"], browser)
    done = await browser.get(location)
    assert done.status_code == 200 and "Connected" in done.text, done.text


# -- access ---------------------------------------------------------------------------------


async def test_pages_need_a_session_and_membership(srv: Server) -> None:
    async with srv.browser() as anonymous:
        for path in ("/console/connections", "/console/t/acme/connections", "/console/t/acme/playground",
                     "/console/t/acme/audit"):  # fmt: skip
            r = await anonymous.get(path)
            assert r.status_code == 303 and r.headers["location"].startswith("/signin?next="), path
    async with browser_for(srv, "ana@example.com") as ana:
        for path in ("/console/t/other/connections", "/console/t/other/playground", "/console/t/other/audit",
                     "/console/t/other/playground/secretdemo", "/console/t/nosuch/audit"):  # fmt: skip
            r = await ana.get(path)
            assert r.status_code == 404, path
            assert "secretdemo" not in r.text
        page = await ana.get("/console/t/acme/connections")
        assert page.status_code == 200
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"
        assert "<script>" not in page.text and " style=" not in page.text


# -- connections ----------------------------------------------------------------------------


async def test_own_connections_only_and_disconnect(srv: Server) -> None:
    async with browser_for(srv, "ana@example.com") as ana, browser_for(srv, "bo@example.com") as bo:
        await connect(srv, ana)
        page = await ana.get("/console/t/acme/connections")
        assert page.status_code == 200
        assert "octocat" in page.text and "Reconnect" in page.text and "Disconnect" in page.text
        for secret in srv.provider.issued:
            assert secret not in page.text
        overview = await ana.get("/console/connections")
        assert "octocat" in overview.text and "/console/t/acme/connections" in overview.text

        theirs = await bo.get("/console/t/acme/connections")
        assert "octocat" not in theirs.text and "not connected" in theirs.text
        # Bo's disconnect of the same provider touches only Bo's (absent) connection, never Ana's.
        r = await bo.post(
            "/console/t/acme/connections/disconnect", data={"csrf_token": csrf_of(theirs), "provider": "fake"}
        )
        assert r.status_code == 303
        tenant = await srv.services.store.get_tenant("acme")
        assert await srv.services.store.list_user_credentials(tenant.id, await user_id(srv, "ana@example.com"))

        # Without the session's CSRF token nothing happens.
        r = await ana.post("/console/t/acme/connections/disconnect", data={"provider": "fake"})
        assert r.status_code == 403
        r = await ana.post("/console/t/acme/connections/disconnect", data={"csrf_token": "x" * 64, "provider": "fake"})
        assert r.status_code == 403
        assert await srv.services.store.list_user_credentials(tenant.id, await user_id(srv, "ana@example.com"))

        r = await ana.post(
            "/console/t/acme/connections/disconnect", data={"csrf_token": csrf_of(page), "provider": "fake"}
        )
        assert r.status_code == 303 and r.headers["location"] == "/console/t/acme/connections"
        assert not await srv.services.store.list_user_credentials(tenant.id, await user_id(srv, "ana@example.com"))
        after = await ana.get(r.headers["location"])
        assert "is disconnected" in after.text and "octocat" not in after.text
        assert any(t.startswith("fake-rt-") for t in srv.provider.revoked)  # revoked at the provider first


async def test_client_configuration_uses_the_public_url(srv: Server) -> None:
    async with browser_for(srv, "ana@example.com") as ana:
        page = await ana.get("/console/t/acme/connections")
    text = page.text.replace("&#34;", '"').replace("&quot;", '"')
    assert "claude mcp add --transport http acme https://sagemcp.test/api/v1/acme/mcp" in text
    assert "claude mcp add --transport http acme-demo https://sagemcp.test/api/v1/acme/connectors/demo/mcp" in text
    assert '"url": "https://sagemcp.test/api/v1/acme/connectors/mine/mcp"' in text
    for client in ("claude.ai", "Claude Desktop", "Claude Code", "Cursor", "VS Code"):
        assert f"<h3>{client}</h3>" in page.text
    assert 'data-copy-target="ep1-3"' in page.text and "/console/static/copy.js" in page.text
    async with srv.client() as client:
        served = await client.get("/console/static/copy.js")
    assert served.status_code == 200 and "clipboard" in served.text


def test_client_snippets_match_the_documentation() -> None:
    """The console pastes what docs/connecting-clients.md documents, for both kinds of endpoint."""
    docs = DOCS.read_text(encoding="utf-8")
    blocks = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", docs, re.S)]
    for name, url in (
        ("acme", "https://mcp.example.com/api/v1/acme/mcp"),
        ("acme-github", "https://mcp.example.com/api/v1/acme/connectors/github/mcp"),
    ):
        snippets = {s.client: s for s in client_snippets(name, url)}
        assert set(snippets) == {"claude.ai", "Claude Desktop", "Claude Code", "Cursor", "VS Code"}
        assert f"`{snippets['Claude Code'].text}`" in docs or snippets["Claude Code"].text in docs
        assert snippets["claude.ai"].text == url and url in docs
        for client, key in (("Cursor", "mcpServers"), ("VS Code", "servers")):
            entry = json.loads(snippets[client].text or "")[key][name]
            assert any(b.get(key, {}).get(name) == entry for b in blocks), (client, name, entry)


# -- playground -----------------------------------------------------------------------------


async def audit_events(srv: Server, slug: str = "acme") -> list[AuditEvent]:
    await srv.services.audit.flush()
    tenant = await srv.services.store.get_tenant(slug)
    return list((await srv.services.store.list_audit(tenant.id, limit=100)).items)


async def test_playground_calls_through_the_pipeline_and_audits_the_member(srv: Server) -> None:
    async with browser_for(srv, "ana@example.com") as ana:
        listing = await ana.get("/console/t/acme/playground/demo")
        assert listing.status_code == 200
        assert "demo_echo" in listing.text and "Group basics" in listing.text
        form_page = await ana.get("/console/t/acme/playground/demo/demo_echo")
        assert form_page.status_code == 200 and 'name="text"' in form_page.text
        r = await ana.post(
            "/console/t/acme/playground/demo/demo_echo",
            data={"csrf_token": csrf_of(form_page), "text": "hello from the console"},
        )
        assert r.status_code == 200, r.text
        assert "Result: ok" in r.text and "hello from the console" in r.text and " ms" in r.text

        added = await ana.post(
            "/console/t/acme/playground/demo/demo_add", data={"csrf_token": csrf_of(form_page), "a": "2", "b": "3.5"}
        )
        assert "Structured content" in added.text and "5.5" in added.text

        bad = await ana.post(
            "/console/t/acme/playground/demo/demo_add", data={"csrf_token": csrf_of(form_page), "a": "two", "b": "1"}
        )
        assert bad.status_code == 422 and "Enter a number." in bad.text

        no_csrf = await ana.post("/console/t/acme/playground/demo/demo_echo", data={"text": "x"})
        assert no_csrf.status_code == 403
    events = await audit_events(srv)
    ana_id = await user_id(srv, "ana@example.com")
    assert [(e.tool, e.outcome, e.user_id) for e in events] == [
        ("demo_add", "ok", ana_id),
        ("demo_echo", "ok", ana_id),
    ]
    assert events[0].principal_id == f"user:{ana_id}"


async def test_a_tool_disabled_by_policy_is_refused(srv: Server) -> None:
    r = await srv.admin.patch(
        "/api/v1/admin/tenants/acme/connectors/demo", json={"tool_policy": {"exclude_tools": ["demo_echo"]}}
    )
    assert r.status_code == 200, r.text
    async with browser_for(srv, "ana@example.com") as ana:
        listing = await ana.get("/console/t/acme/playground/demo")
        assert "disabled by policy" in listing.text
        form_page = await ana.get("/console/t/acme/playground/demo/demo_echo")
        r = await ana.post(
            "/console/t/acme/playground/demo/demo_echo", data={"csrf_token": csrf_of(form_page), "text": "hi"}
        )
    assert "Result: denied" in r.text and "is disabled for connector" in r.text
    events = await audit_events(srv)
    assert [(e.tool, e.outcome, e.error_code) for e in events] == [("demo_echo", "denied", "tool_disabled")]


async def test_write_tools_ask_for_confirmation_first(srv: Server) -> None:
    await srv.admin.patch(
        "/api/v1/admin/tenants/acme/connectors/mine", json={"tool_policy": {"groups": ["read", "write"]}}
    )
    async with browser_for(srv, "ana@example.com") as ana:
        await connect(srv, ana)
        form_page = await ana.get("/console/t/acme/playground/mine/fake_delete_thing")
        assert "Review and run" in form_page.text
        review = await ana.post(
            "/console/t/acme/playground/mine/fake_delete_thing",
            data={"csrf_token": csrf_of(form_page), "thing_id": "7"},
        )
        assert review.status_code == 200 and "Yes, run fake_delete_thing" in review.text
        assert not await audit_events(srv)  # nothing ran yet
        arguments = re.search(r'name="arguments_json" value="([^"]+)"', review.text)
        assert arguments is not None
        done = await ana.post(
            "/console/t/acme/playground/mine/fake_delete_thing",
            data={
                "csrf_token": csrf_of(review),
                "confirmed": "yes",
                "arguments_json": arguments.group(1).replace("&#34;", '"'),
            },
        )
    assert "Result: ok" in done.text and "deleted 7" in done.text
    events = await audit_events(srv)
    assert [(e.tool, e.outcome) for e in events] == [("fake_delete_thing", "ok")]


async def test_per_user_tool_without_a_connection_links_to_the_connect_page(srv: Server) -> None:
    async with browser_for(srv, "bo@example.com") as bo:
        form_page = await bo.get("/console/t/acme/playground/mine/fake_whoami")
        r = await bo.post("/console/t/acme/playground/mine/fake_whoami", data={"csrf_token": csrf_of(form_page)})
    assert "Connect your account" in r.text and "https://sagemcp.test/connect/acme/mine" in r.text


def test_tool_form_fields_and_arguments() -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 50},
            "body": {"type": "string"},
            "count": {"type": "integer", "default": 5},
            "ratio": {"anyOf": [{"type": "number"}, {"type": "null"}], "default": None},
            "draft": {"type": "boolean", "default": False},
            "state": {"enum": ["open", "closed"], "type": "string"},
            "labels": {"type": "array", "items": {"type": "string"}},
            "extra": {"$ref": "#/$defs/Extra"},
        },
        "required": ["name", "state"],
        "$defs": {"Extra": {"type": "object", "properties": {"a": {"type": "integer"}}}},
    }
    fields = tool_fields(schema)
    assert [(f.name, f.kind, f.required) for f in fields] == [
        ("name", "string", True),
        ("body", "text", False),
        ("count", "integer", False),
        ("ratio", "number", False),
        ("draft", "boolean", False),
        ("state", "enum", True),
        ("labels", "string_list", False),
        ("extra", "json", False),
    ]
    assert fields[2].default == "5" and fields[5].options == ("open", "closed")
    arguments, errors = arguments_from(
        fields,
        {"name": "x", "count": "3", "ratio": "0.5", "draft": "on", "state": "open", "labels": "a\n\n b \n",
         "extra": '{"a": 1}'},
    )  # fmt: skip
    assert errors == {}
    assert arguments == {
        "name": "x", "count": 3, "ratio": 0.5, "draft": True, "state": "open", "labels": ["a", "b"], "extra": {"a": 1}
    }  # fmt: skip
    _, errors = arguments_from(fields, {"name": "x", "count": "3.5", "state": "shut", "extra": "{nope"})
    assert set(errors) == {"count", "state", "extra"}


# -- audit log ------------------------------------------------------------------------------


async def seed_audit(srv: Server) -> dict[str, str]:
    tenant = await srv.services.store.get_tenant("acme")
    demo = await srv.services.store.get_connector(tenant.id, "demo")
    ids = {e: await user_id(srv, e) for e in ("ana@example.com", "bo@example.com")}
    now = datetime.now(UTC)
    events = []
    for i in range(100):  # Ana: 100 echo calls of 1..100 ms, every 10th failed
        events.append(
            AuditEvent(
                tenant_id=tenant.id, connector_id=demo.id, connector_type="demo", tool="demo_echo",
                principal_id=f"user:{ids['ana@example.com']}", user_id=ids["ana@example.com"],
                outcome="upstream_error" if i % 10 == 0 else "ok", error_code=None, duration_ms=float(i + 1),
                request_id=f"r{i}", at=now - timedelta(minutes=i),
            )
        )  # fmt: skip
    events.append(
        AuditEvent(
            tenant_id=tenant.id, connector_id=demo.id, connector_type="demo", tool="demo_add",
            principal_id=f"user:{ids['bo@example.com']}", user_id=ids["bo@example.com"], outcome="ok",
            error_code=None, duration_ms=42.0, request_id="bo-call", at=now - timedelta(minutes=5),
        )
    )  # fmt: skip
    events.append(
        AuditEvent(
            tenant_id=tenant.id, connector_id=demo.id, connector_type="demo", tool="demo_add",
            principal_id="key-1", user_id=None, outcome="ok", error_code=None, duration_ms=1.0,
            request_id="old-call", at=now - timedelta(days=3),
        )
    )  # fmt: skip
    await srv.services.store.record_audits(events)
    return ids


async def test_audit_log_filters_pages_charts_and_percentiles(srv: Server) -> None:
    ids = await seed_audit(srv)
    async with browser_for(srv, "al@example.com") as admin:
        page = await admin.get("/console/t/acme/audit")
        assert page.status_code == 200, page.text
        assert "<svg" in page.text and 'role="img"' in page.text and "101 calls, 10 failed" in page.text
        # p50/p95/p99 of 1..100 ms (linear interpolation), and Bo's single call.
        assert re.search(
            r"<td>demo_echo</td><td>100</td><td>10</td><td>50\.5</td><td>95\.0</td><td>99\.0</td>", page.text
        )
        assert "<td>demo_add</td><td>1</td><td>0</td><td>42.0</td>" in page.text
        assert "old-call"[:12] not in page.text  # older than the default 24 hours
        assert 'rel="next"' in page.text  # 101 events, 50 a page
        older = await admin.get("/console/t/acme/audit" + re.search(r'href="(\?[^"]+)" rel="next"', page.text)
                                .group(1).replace("&amp;", "&"))  # fmt: skip
        assert older.status_code == 200 and "<code>r50" in older.text

        mine = await admin.get("/console/t/acme/audit", params={"member": ids["bo@example.com"]})
        assert "bo-call" in mine.text and "<code>r1</code>" not in mine.text
        failed = await admin.get("/console/t/acme/audit", params={"outcome": "upstream_error", "range": "all"})
        assert failed.text.count("upstream error</span>") == 10
        everything = await admin.get("/console/t/acme/audit", params={"range": "all", "tool": "demo_add"})
        assert "old-call" in everything.text and "bo-call" in everything.text
        bad = await admin.get("/console/t/acme/audit", params={"since": "yesterday"})
        assert bad.status_code == 422 and "Enter a date and time" in bad.text
        reversed_range = await admin.get(
            "/console/t/acme/audit", params={"since": "2026-01-02T00:00", "until": "2026-01-01T00:00"}
        )
        assert reversed_range.status_code == 422 and "before the end" in reversed_range.text


async def test_a_member_sees_only_their_own_calls(srv: Server) -> None:
    ids = await seed_audit(srv)
    async with browser_for(srv, "bo@example.com") as bo:
        page = await bo.get("/console/t/acme/audit", params={"member": ids["ana@example.com"], "range": "all"})
    assert page.status_code == 200
    assert "bo-call" in page.text and "<code>r1</code>" not in page.text and "old-call" not in page.text
    assert "ana@example.com" not in page.text and 'name="member"' not in page.text


def test_charts_and_percentiles() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([7.0], 99) == 7.0
    start = datetime(2026, 1, 1, tzinfo=UTC)
    samples = [(start + timedelta(minutes=m), "t", "ok" if m % 2 else "error", float(m)) for m in range(60)]
    series = buckets(samples, start, start + timedelta(hours=1), count=6)
    assert [(b.calls, b.errors) for b in series] == [(10, 5)] * 6
    svg = str(series_svg(series))
    assert svg.startswith("<svg") and svg.count('class="calls"') == 6 and svg.count('class="errors"') == 6
    assert "style=" not in svg and "<script" not in svg
    (row,) = latency_table(samples)
    assert (row.calls, row.errors, row.p50) == (60, 30, 29.5)


async def test_the_audit_api_takes_the_same_filters(srv: Server) -> None:
    ids = await seed_audit(srv)
    r = await srv.admin.get("/api/v1/admin/tenants/acme/audit", params={"user_id": ids["bo@example.com"]})
    assert r.status_code == 200 and [e["request_id"] for e in r.json()["items"]] == ["bo-call"]
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    r = await srv.admin.get("/api/v1/admin/tenants/acme/audit", params={"since": since, "tool": "demo_add"})
    assert [e["request_id"] for e in r.json()["items"]] == ["bo-call"]
    until = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    r = await srv.admin.get("/api/v1/admin/tenants/acme/audit", params={"until": until})
    assert [e["request_id"] for e in r.json()["items"]] == ["old-call"]
    earlier = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    r = await srv.admin.get("/api/v1/admin/tenants/acme/audit", params={"since": since, "until": earlier})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_time_range"
    r = await srv.admin.get("/api/v1/admin/tenants/acme/audit", params={"user_id": "not-an-id"})
    assert r.status_code == 422


async def test_direct_calls_meet_the_checks_of_an_mcp_request(srv: Server) -> None:
    """`McpApp.call_tool`, behind the playground: a principal of another tenant, an inactive tenant, a key
    limited to another connector and an unknown tool are refused before anything runs."""
    from sagemcp.errors import AccessDenied, TenantInactive, TenantNotFound, ToolNotFound
    from sagemcp.platform import Principal

    acme = await srv.services.store.get_tenant("acme")
    other = await srv.services.store.get_tenant("other")
    mcp = srv.services.mcp
    member = Principal(id="user:x", kind="user", tenant_id=acme.id, scopes=frozenset({"mcp"}), user_id="x" * 32)
    outcome = await mcp.call_tool("acme", "demo", "demo_echo", {"text": "hi"}, member)
    assert (outcome.outcome, outcome.text) == ("ok", "hi")
    with pytest.raises(TenantNotFound):
        await mcp.call_tool("other", "secretdemo", "demo_echo", {"text": "hi"}, member)
    with pytest.raises(TenantNotFound):
        await mcp.call_tool(
            "acme", "demo", "demo_echo", {"text": "hi"}, member.model_copy(update={"scopes": frozenset()})
        )
    with pytest.raises(ToolNotFound):
        await mcp.call_tool("acme", "demo", "nope", {}, member)
    with pytest.raises(AccessDenied):
        await mcp.call_tool(
            "acme", "demo", "demo_echo", {"text": "hi"}, member.model_copy(update={"connector_id": "z"})
        )
    r = await srv.admin.patch("/api/v1/admin/tenants/other", json={"active": False})
    assert r.status_code == 200, r.text
    outsider = member.model_copy(update={"tenant_id": other.id})
    with pytest.raises(TenantInactive):
        await mcp.call_tool("other", "secretdemo", "demo_echo", {"text": "hi"}, outsider)


async def test_the_connect_page_lets_its_form_lead_to_the_provider(srv: Server) -> None:
    async with browser_for(srv, "ana@example.com") as ana:
        page = await ana.get("/connect/acme/mine")
    policy = page.headers["content-security-policy"]
    assert "form-action 'self' https://fake.example;" in policy and "frame-ancestors 'none'" in policy


def test_a_form_may_lead_only_to_the_named_target() -> None:
    """`allow_form_redirect` adds one source to `form-action`: the target's origin (a custom scheme for apps),
    never user information or anything that would end the directive."""
    from starlette.responses import HTMLResponse

    from sagemcp_server.web.render import PAGE_HEADERS, allow_form_redirect

    def policy(url: str) -> str:
        response = allow_form_redirect(HTMLResponse("", headers=dict(PAGE_HEADERS)), url)
        return str(response.headers["content-security-policy"])

    assert "form-action 'self' https://github.com;" in policy("https://me:pw@github.com/login/oauth/authorize?a=1")
    assert "form-action 'self' http://127.0.0.1:33418;" in policy("http://127.0.0.1:33418/callback")
    assert "form-action 'self' cursor:;" in policy("cursor://anysphere.cursor-retrieval/oauth/callback")
    for hostile in ("https://evil.example;script-src *", "no scheme", "java script:x", "https:///path"):
        assert "form-action 'self';" in policy(hostile), hostile
