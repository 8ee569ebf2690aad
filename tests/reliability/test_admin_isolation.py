"""Tenant isolation on the admin API, property-based, against the reference server over real HTTP.

Each example creates 2-3 tenants through the admin API (`_admin.seed`): connectors, an OAuth app, credentials
and keys of every kind, a tool call in the audit trail, and a distinctive tag in every value. Then random
requests over every route of the admin API (the server's own operation list, checked against its OpenAPI
document) with a random method, tenant path, path parameters (this tenant's, another tenant's, unknown or
invalid), query and body, and a random key: the platform admin key, tenant keys with and without the `admin`
and `mcp` scopes, limited to a connector or revoked, of the tenant on the path or of another, no key or a
garbage one. For every request:

- the status is the one `_admin.expect` derives from the documented access rules, one the OpenAPI document
  lists for the route (405 for a method the path does not have), never 5xx, with the standard error body;
- the answer carries no value of a tenant the key may not see (ids, slugs, names, connector ids, names,
  descriptions and configuration, providers, OAuth client ids, credential accounts, key ids, prefixes and
  names, audit event ids), beyond what the request itself named;
- no tenant's stored state (read from the store, secrets included) changes, unless the request succeeded on
  that tenant's path with a key allowed to manage it: a refused request changes nothing at all;
- a tenant key cannot tell another tenant from a slug that does not exist: the same request on a fresh
  slug gets the same status and error code.

Runs on SQLite, and on PostgreSQL when SAGEMCP_TEST_POSTGRES_URL is set (a schema of its own, dropped after).
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from sagemcp.platform import ConnectorRegistry, SecretBox

from . import _admin as a
from . import _clients as c
from ._support import LEDGER, ScanningApp, make_probe_connector, new_secret, serve

server_app = pytest.importorskip("sagemcp_server.app", reason="the admin API is the reference server's")
server_db = pytest.importorskip("sagemcp_server.db")
server_settings = pytest.importorskip("sagemcp_server.settings")
server_demo = pytest.importorskip("sagemcp_server.connectors.demo")
server_store = pytest.importorskip("sagemcp_server.db.store")

pytestmark = pytest.mark.asyncio(loop_scope="module")

POSTGRES_ENV = "SAGEMCP_TEST_POSTGRES_URL"
PUBLIC = {(op.full_path, op.method) for op in server_app.OPERATIONS if op.access == "public"}
"""Routes for anyone (`GET /api/v1/me` answers a signed-in browser's session, never a key)."""
ROUTES = sorted(
    (op for op in server_app.OPERATIONS if op.access != "public"),
    key=lambda op: ("slug" not in op.params, op.method != "GET"),
)
"""Tenant routes first, reads first: hypothesis starts from (and shrinks towards) the first of a list."""
TENANT_ROUTES = sorted((op for op in ROUTES if "slug" in op.params), key=lambda op: op.method == "GET")
"""Writes first: a key's requests on its own tenant should change something."""
INTENTS = ("own", "cross", "refused", "any", "any")
"""Every example mixes a key's requests on its own tenant, on another tenant's, with a key that must be
refused, and (from the fourth request on) anything at all."""
METHODS: dict[str, set[str]] = {}
for _op in ROUTES:
    METHODS.setdefault(_op.full_path, set()).add(_op.method)
EXAMPLES = max(10, settings.default.max_examples * 3 // 8)
"""Per database: 15 worlds in the `ci` profile, 150 in `thorough`."""
TALLY: dict[str, Counter[str]] = {}
"""Outcomes the property reached, per database, for `test_the_property_reached_every_kind_of_outcome`."""


@dataclass
class Rig:
    backend: str
    base: str
    http: httpx.AsyncClient
    store: Any
    admin: a.Admin
    documented: dict[tuple[str, str], set[int]]
    """(path template, method) -> the statuses the OpenAPI document lists."""
    tally: Counter[str] = field(default_factory=Counter)

    async def slugs(self) -> set[str]:
        slugs: set[str] = set()
        after = None
        while True:
            page = await self.store.list_tenants(limit=500, after=after)
            slugs.update(r.item.slug for r in page.items)
            if page.next_cursor is None:
                return slugs
            after = page.next_cursor


async def _schema(url: str, statement: str) -> None:
    from sqlalchemy import text

    engine = server_db.create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


@pytest_asyncio.fixture(
    scope="module", loop_scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def rig(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rig]:
    schema = None
    common: dict[str, Any] = {
        "host": "127.0.0.1",
        "secret_keys": SecretBox.generate_key(),
        "admin_key": a.ADMIN_KEY,
        "audit_flush_interval": 0.05,
        # argon2id at its cheapest: created users with a password are hashed on every such request
        "password_memory_kib": 8192,
        "password_time_cost": 1,
    }
    if request.param == "postgres":
        url = os.environ.get(POSTGRES_ENV)
        if not url:
            pytest.skip(f"needs PostgreSQL: set {POSTGRES_ENV}=postgresql+asyncpg://user@127.0.0.1:5432/db to run it")
        schema = f"adm_{secrets.token_hex(6)}"
        await _schema(url, f"CREATE SCHEMA {schema}")
        config = server_settings.Settings(database_url=url, database_schema=schema, **common)
    else:
        path = Path(tmp_path_factory.mktemp("admin-isolation")) / "sagemcp.db"
        config = server_settings.Settings(database_url=f"sqlite+aiosqlite:///{path}", **common)
    registry = ConnectorRegistry([server_demo.DemoConnector, make_probe_connector()])
    app = server_app.create_app(config, registry=registry)
    try:
        async with (
            serve(ScanningApp(app, f"admin-isolation-{request.param}")) as base,
            httpx.AsyncClient(base_url=base, timeout=30) as http,
        ):
            doc = (await http.get("/api/v1/openapi.json")).json()
            documented = {
                (path, method.upper()): {int(code) for code in item["responses"]}
                for path, methods in doc["paths"].items()
                for method, item in methods.items()
            }
            tally = TALLY.setdefault(request.param, Counter())
            yield Rig(request.param, base, http, app.state.services.store, a.Admin(http), documented, tally)
    finally:
        if schema is not None:
            await _schema(os.environ[POSTGRES_ENV], f"DROP SCHEMA IF EXISTS {schema} CASCADE")


async def seed(rig: Rig, n: int) -> a.World:
    """A world of `n` tenants, each with one tool call in its audit trail (written by the audit buffer) and a
    key with the `admin` scope limited to a connector, put in the store as such keys were made before the
    admin API refused to create them."""
    world = await a.seed(rig.admin, n)
    for t in world.tenants:
        connector = await rig.store.get_connector(t.id, f"pr-{t.slug.split('-', 1)[1]}")
        raw, record = await rig.store.create_api_key(
            t.id, name=f"limited-admin-{t.slug}", scopes={"admin", "mcp"}, connector_id=connector.id
        )
        t.keys[a.LIMITED_ADMIN] = a.Key(
            a.LEDGER.secret(raw), a.LIMITED_ADMIN, t.index, record.id, frozenset({"admin", "mcp"})
        )
        reply = await c.call_modern(
            rig.http,
            f"/api/v1/{t.slug}/connectors/dm-{t.slug.split('-', 1)[1]}/mcp",
            t.keys["mcp"].raw,
            "tools/call",
            {"name": "demo_echo", "arguments": {"text": "hello"}},
        )
        assert reply.status == 200 and reply.result["content"][0]["text"] == "hello", reply.text
    for _ in range(200):
        pages = [await rig.store.list_audit(t.id, limit=5) for t in world.tenants]
        if all(p.items for p in pages):
            return world
        await asyncio.sleep(0.02)
    raise AssertionError("the audit events of the seeding calls were never written")


# -- drawing requests -----------------------------------------------------------------------------------


def chance(draw: st.DrawFn, percent: int) -> bool:
    """True about `percent` % of the time; False in the minimal example, which shrinking moves towards."""
    return bool(draw(st.integers(1, 100)) > 100 - percent)


GARBAGE_KEYS = st.sampled_from(["issued-never", "too-long", "altered", "wrong-scheme", "empty"])


def garbage_key(kind: str, world: a.World) -> a.Key:
    real = world.tenants[0].keys["admin+mcp"].raw or ""
    if kind == "wrong-scheme":
        return a.Key(a.ADMIN_KEY, "garbage", scheme="Basic")  # the platform key, under another scheme
    raw = {
        "issued-never": LEDGER.secret("smcp_" + secrets.token_urlsafe(32)),
        "too-long": "smcp_" + "x" * 600,
        "altered": real[:-1] + ("A" if real[-1] != "A" else "B"),
        "empty": "",
    }[kind]
    return a.Key(raw, "garbage")


@st.composite
def keys(draw: st.DrawFn, world: a.World, intent: str = "any") -> a.Key:
    if intent == "own":  # a key that may manage its tenant
        t = draw(st.sampled_from(world.tenants))
        return t.keys[draw(st.sampled_from(["admin+mcp", "admin"]))]
    if intent == "refused":  # no key, a garbage one, a revoked one, one without the admin scope or a limited one
        choice = draw(st.sampled_from(["revoked", "mcp", a.LIMITED_ADMIN, "none", "garbage"]))
        if choice in ("revoked", "mcp", a.LIMITED_ADMIN):
            return draw(st.sampled_from(world.tenants)).keys[choice]
        return a.Key(None, "none") if choice == "none" else garbage_key(draw(GARBAGE_KEYS), world)
    choice = (
        "tenant"
        if intent == "cross"
        else draw(st.sampled_from(["tenant"] * 11 + ["platform"] * 4 + ["none", "garbage", "garbage"]))
    )
    if choice == "platform":
        return world.platform
    if choice == "none":
        return a.Key(None, "none")
    if choice == "garbage":
        return garbage_key(draw(GARBAGE_KEYS), world)
    t = draw(st.sampled_from(world.tenants))
    kind = draw(st.sampled_from(["admin+mcp"] * 3 + ["admin"] * 2 + ["limited", a.LIMITED_ADMIN, "mcp", "revoked"]))
    return t.keys[kind]


def _others(world: a.World, t: a.TenantW) -> list[a.TenantW]:
    return [o for o in world.tenants if o is not t] or world.tenants


@st.composite
def slugs(draw: st.DrawFn, world: a.World, home: a.TenantW, intent: str = "any") -> str:
    """The tenant on the path: mostly the key's own (`home`) or another world tenant's."""
    if intent == "own":
        return home.slug
    if intent == "cross":
        return draw(st.sampled_from(_others(world, home))).slug
    choice = draw(st.sampled_from(["own"] * 9 + ["other"] * 7 + ["unknown", "unknown", "other-id", "reserved", "bad"]))
    if choice == "own":
        return home.slug
    if choice == "other":
        return draw(st.sampled_from(_others(world, home))).slug
    if choice == "other-id":
        return draw(st.sampled_from(_others(world, home))).id  # ids are valid slugs too
    if choice == "reserved":
        return "admin"
    if choice == "bad":
        return draw(st.sampled_from(["UPPER", "-lead", "a" * 64, "under_score", "x y"]))
    return f"u-{a.tag()}"


@dataclass
class Refs:
    """Values of the world's tenants that path parameters and bodies can name, read from their stored state."""

    connectors: dict[str, list[tuple[str, str]]]
    """slug -> (id, name) of its connectors."""
    keys: dict[str, list[str]]
    audit: dict[str, list[tuple[str, str]]]
    """slug -> (time, id) of its audit events."""
    members: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    """slug -> (user id, e-mail) of its members."""
    invitations: dict[str, list[str]] = field(default_factory=dict)
    oidc: dict[str, list[str]] = field(default_factory=dict)
    """slug -> names of its sign-in providers."""
    platform_oidc: list[str] = field(default_factory=list)


def refs_of(states: dict[str, dict[str, Any] | None], platform_oidc: list[str] | None = None) -> Refs:
    live = {slug: s for slug, s in states.items() if s is not None}
    return Refs(
        {slug: [(r["item"]["id"], r["item"]["name"]) for r in s["connectors"]] for slug, s in live.items()},
        {slug: [k["id"] for k in s["api_keys"]] for slug, s in live.items()},
        {slug: [(e["at"], e["id"]) for e in s["audit"]] for slug, s in live.items()},
        {slug: [(m["user"]["id"], m["user"]["email"]) for m in s["members"]] for slug, s in live.items()},
        {slug: [i["id"] for i in s["invitations"]] for slug, s in live.items()},
        {slug: [o["name"] for o in s["oidc"]] for slug, s in live.items()},
        list(platform_oidc or []),
    )


def _pick(draw: st.DrawFn, own: list[str], foreign: list[str], unknown: str, bad: str) -> str:
    """One of the tenant's own values, another tenant's, an unknown or an invalid one."""
    choice = draw(st.sampled_from(["own"] * 4 + ["foreign"] * 3 + ["unknown", "bad"]))
    if choice == "own" and own:
        return draw(st.sampled_from(own))
    if choice in ("own", "foreign") and foreign:
        return draw(st.sampled_from(foreign))
    return bad if choice == "bad" else unknown


def user_refs(draw: st.DrawFn, refs: Refs, here: str) -> str:
    own = [u for u, _ in refs.members.get(here, [])]
    foreign = [u for slug, ms in refs.members.items() if slug != here for u, _ in ms]
    return _pick(draw, own, foreign, secrets.token_hex(16), "not-a-user")


def email_refs(draw: st.DrawFn, refs: Refs, here: str) -> str:
    own = [e for _, e in refs.members.get(here, [])]
    foreign = [e for slug, ms in refs.members.items() if slug != here for _, e in ms]
    value = _pick(draw, own, foreign, f"new-{a.tag()}@n.example", "not an e-mail")
    return value.upper() if chance(draw, 10) else value


def oidc_refs(draw: st.DrawFn, refs: Refs, here: str | None) -> str:
    own = refs.oidc.get(here, []) if here is not None else refs.platform_oidc
    foreign = [n for slug, ns in refs.oidc.items() if slug != here for n in ns]
    if here is not None:
        foreign += refs.platform_oidc
    return _pick(draw, own, foreign, f"nx-{a.tag()}", "Bad_Name")


@st.composite
def connector_refs(draw: st.DrawFn, refs: Refs, here: str) -> str:
    """A connector of the tenant on the path, of another tenant (by id or by name), unknown or invalid."""
    own = refs.connectors.get(here, [])
    foreign = [c for slug, cs in refs.connectors.items() if slug != here for c in cs]
    choice = draw(st.sampled_from(["own"] * 5 + ["foreign"] * 4 + ["unknown", "bad"]))
    if choice == "own" and own:
        return draw(st.sampled_from(own))[draw(st.integers(0, 1))]
    if choice in ("own", "foreign") and foreign:
        return draw(st.sampled_from(foreign))[draw(st.integers(0, 1))]
    if choice == "bad":
        return draw(st.sampled_from(["Bad_Name", "-x", "a" * 64]))
    return secrets.token_hex(16) if draw(st.booleans()) else f"nc-{a.tag()}"


@st.composite
def providers(draw: st.DrawFn, world: a.World, home: a.TenantW, *, linked: bool) -> str:
    others = [o.provider for o in _others(world, home)]
    options = ["probe"] * 3 + [home.provider] * 3 + others * 2 + ["demo", "nope"]
    if linked:
        options += ["probe:user", f"{home.provider}:user"]
    if chance(draw, 8):
        return draw(st.sampled_from(["BAD", "9lives", "a" * 65]))
    return draw(st.sampled_from(options))


@st.composite
def key_ids(draw: st.DrawFn, refs: Refs, here: str) -> str:
    own = refs.keys.get(here, [])
    foreign = [k for slug, ks in refs.keys.items() if slug != here for k in ks]
    choice = draw(st.sampled_from(["own"] * 4 + ["foreign"] * 4 + ["unknown", "bad"]))
    if choice == "own" and own:
        return draw(st.sampled_from(own))
    if choice in ("own", "foreign") and foreign:
        return draw(st.sampled_from(foreign))
    return "not-a-key-id" if choice == "bad" else secrets.token_hex(16)


def _names(draw: st.DrawFn, refs: Refs, here: str, prefix: str) -> str:
    """A new name, a name the tenant already has, another tenant's, or an invalid one."""
    own = [n for _, n in refs.connectors.get(here, [])]
    foreign = [n for slug, cs in refs.connectors.items() if slug != here for _, n in cs]
    choice = draw(st.sampled_from(["new"] * 5 + ["own", "foreign", "foreign", "bad"]))
    if choice == "own" and own:
        return draw(st.sampled_from(own))
    if choice == "foreign" and foreign:
        return draw(st.sampled_from(foreign))
    if choice == "bad":
        return "Bad_Name"
    return f"{prefix}-{a.tag()}"


CONFIGURATIONS = st.sampled_from([{}, {}, {"upstream": "UPSTREAM"}, {"bogus": 1}])
POLICIES = st.sampled_from(
    [{}, {"groups": ["read"]}, {"groups": ["basics"]}, {"groups": ["nope"]}, {"exclude_tools": ["probe_crash"]}]
)


def _configuration(draw: st.DrawFn) -> dict[str, Any]:
    cfg = dict(draw(CONFIGURATIONS))
    if "upstream" in cfg:
        cfg["upstream"] = f"http://127.0.0.1:9/{a.tag()}"
    return cfg


@st.composite
def bodies(draw: st.DrawFn, op_id: str, world: a.World, refs: Refs, here: str, home: a.TenantW) -> Any:
    """A body for the route: mostly valid, with references to this and other tenants; sometimes broken."""
    if chance(draw, 10):
        return draw(
            st.sampled_from(
                [b"", b"{not json", b"[]", b'{"unexpected": 1}', b"null", b'{"name": "\\u0000"}', b"\xff\xfe"]
            )
        )
    optional = st.booleans()
    if op_id == "createTenant":
        slug = draw(st.sampled_from(["new"] * 4 + ["world", "reserved", "bad"]))
        value = {
            "new": f"n-{a.tag()}",
            "world": draw(st.sampled_from(world.tenants)).slug,
            "reserved": "oauth",
            "bad": "Bad Slug",
        }[slug]
        body: dict[str, Any] = {"slug": value, "name": f"made-{a.tag()}"}
        if draw(optional):
            body["active"] = draw(st.booleans())
        return body
    if op_id == "updateTenant":
        body = {}
        if draw(optional):
            body["name"] = f"renamed-{a.tag()}"
        if draw(optional):
            body["active"] = draw(st.booleans())
        return body
    if op_id == "createConnector":
        body = {
            "connector_type": draw(st.sampled_from(["probe", "probe", "demo", "nope"])),
            "name": _names(draw, refs, here, "new"),
        }
        if draw(optional):
            body["description"] = f"desc-{a.tag()}"
        if draw(optional):
            body["configuration"] = _configuration(draw)
        if draw(optional):
            body["tool_policy"] = draw(POLICIES)
        if draw(optional):
            body["provider"] = draw(st.sampled_from([home.provider, *(o.provider for o in world.tenants), "pn"]))
        return body
    if op_id == "updateConnector":
        body = {}
        for name, value in [
            ("name", lambda: _names(draw, refs, here, "ren")),
            ("description", lambda: f"desc-{a.tag()}"),
            ("enabled", lambda: draw(st.booleans())),
            ("configuration", lambda: _configuration(draw)),
            ("tool_policy", lambda: draw(POLICIES)),
        ]:
            if chance(draw, 33):
                body[name] = value()
        return body
    if op_id == "putOAuthApp":
        body = {"client_id": f"cid-{a.tag()}"}
        if draw(optional):
            body["client_secret"] = draw(st.sampled_from([new_secret("cs"), None]))
        if draw(optional):
            body["extra"] = {"team": f"team-{a.tag()}"}
        return body
    if op_id == "putCredential":
        body = {"token": new_secret("at")}
        if draw(optional):
            body["account"] = f"acct-{a.tag()}"
        if draw(optional):
            body["kind"] = draw(st.sampled_from(["bearer", "api_key", "oauth2", "basic"]))
        if chance(draw, 25):
            days = draw(st.sampled_from([-30, 30]))
            body["expires_at"] = (datetime.now(UTC) + timedelta(days=days)).isoformat()
        return body
    if op_id == "createApiKey":
        body = {"scopes": draw(st.sampled_from([["mcp"], ["admin"], ["admin", "mcp"], ["root"], []]))}
        if draw(optional):
            body["name"] = f"key-{a.tag()}"
        if draw(optional):
            body["connector_id"] = draw(connector_refs(refs, here))
        return body
    if op_id == "authorizeOAuth":
        body = {}
        if draw(optional):
            body["connector_id"] = draw(connector_refs(refs, here))
        return body if body or draw(optional) else None
    roles = st.sampled_from(["owner", "admin", "member", "member", "god"])
    if op_id == "createUser":
        body = {"email": email_refs(draw, refs, here)}
        if draw(optional):
            body["name"] = f"made-{a.tag()}"
        if chance(draw, 25):
            body["password"] = draw(st.sampled_from(["a long enough password", "short", " " * 12]))
        if chance(draw, 20):
            body["platform_admin"] = draw(st.booleans())
        return body
    if op_id == "updateUser":
        body = {}
        for name, value in [
            ("name", lambda: f"renamed-{a.tag()}"),
            ("email", lambda: email_refs(draw, refs, here)),
            ("active", lambda: draw(st.booleans())),
            ("unlock", lambda: True),
            ("password", lambda: draw(st.sampled_from(["another long password", " " * 12]))),
        ]:
            if chance(draw, 25):
                body[name] = value()
        return body
    if op_id == "addMember":
        return {"email": email_refs(draw, refs, here), "role": draw(roles)}
    if op_id == "updateMember":
        return {"role": draw(roles)}
    if op_id == "createInvitation":
        body = {"role": draw(roles)}
        if draw(optional):
            body["email"] = draw(st.sampled_from([f"inv-{a.tag()}@n.example", "not an e-mail"]))
        if chance(draw, 25):
            body["expires_in"] = draw(st.sampled_from([60, 3600, 10, 10**9]))
        return body
    if op_id in ("createPlatformOidcProvider", "createTenantOidcProvider"):
        name = draw(st.sampled_from(["new"] * 4 + ["taken", "bad"]))
        body = {
            "name": {"new": f"o-{a.tag()}", "taken": oidc_refs(draw, refs, here), "bad": "Bad Name"}[name],
            "issuer": draw(st.sampled_from([f"https://idp-{a.tag()}.example"] * 3 + ["http://10.0.0.7", "nope"])),
            "client_id": f"cid-{a.tag()}",
        }
        if draw(optional):
            body["client_secret"] = new_secret("ocs")
        if chance(draw, 25):
            body["match_by"] = draw(st.sampled_from(["email", "subject"]))
        return body
    if op_id in ("updatePlatformOidcProvider", "updateTenantOidcProvider"):
        body = {}
        for name, value in [
            ("display_name", lambda: f"label-{a.tag()}"),
            ("issuer", lambda: draw(st.sampled_from([f"https://idp-{a.tag()}.example", "http://10.0.0.7"]))),
            ("client_secret", lambda: draw(st.sampled_from([new_secret("ocs"), None]))),
            ("match_by", lambda: draw(st.sampled_from(["email", "subject"]))),
        ]:
            if chance(draw, 33):
                body[name] = value()
        return body
    raise AssertionError(f"no body strategy for {op_id}")


@st.composite
def queries(draw: st.DrawFn, op_id: str, refs: Refs, here: str) -> dict[str, str]:
    query: dict[str, str] = {}
    if op_id == "listTenants":
        if draw(st.booleans()):
            query["limit"] = draw(st.sampled_from(["1", "2", "500", "0", "501", "x"]))
        if chance(draw, 33):
            slug = draw(st.sampled_from(sorted(refs.connectors) or ["a"]))
            query["cursor"] = draw(st.sampled_from([_b64(slug), _b64("Not A Slug"), "!!!", "%%"]))
    if op_id == "listUsers" and draw(st.booleans()):
        query["limit"] = draw(st.sampled_from(["1", "2", "500", "0", "x"]))
    if op_id == "listAuditEvents":
        if draw(st.booleans()):
            query["connector_id"] = draw(connector_refs(refs, here))
        if chance(draw, 25):
            query["outcome"] = draw(st.sampled_from(["ok", "error", "bogus"]))
        if chance(draw, 25):
            query["limit"] = draw(st.sampled_from(["1", "500", "0"]))
        if chance(draw, 33):
            query["cursor"] = draw(audit_cursors(refs))
    return query


def _b64(text: str) -> str:
    import base64

    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


@st.composite
def audit_cursors(draw: st.DrawFn, refs: Refs) -> str:
    """Cursors as the API makes them (of any tenant's events), and cursors a client crafted."""
    events = [e for es in refs.audit.values() for e in es]
    choice = draw(st.sampled_from(["event", "event", "crafted", "garbage"]))
    if choice == "event" and events:
        at, event_id = draw(st.sampled_from(events))
        return server_store.encode_cursor([at, event_id])
    if choice == "garbage":
        return draw(st.sampled_from(["!!!", _b64("[1, 2]"), _b64("{}")]))
    when = draw(
        st.datetimes(timezones=st.sampled_from([UTC, None]) | st.timezones()).map(lambda d: d.isoformat())
        | st.text(max_size=40)
    )
    event_id = draw(st.sampled_from([secrets.token_hex(16)]) | st.text(max_size=40))
    return server_store.encode_cursor([when, event_id])[:512]


@st.composite
def requests(draw: st.DrawFn, world: a.World, refs: Refs, intent: str = "any") -> a.Request:
    """A request. `intent`: "own" (a key allowed on its tenant, on its tenant's path), "cross" (a tenant key on
    another tenant's path), "refused" (a key the admin API must refuse) or "any" (every route, method, key
    and path)."""
    op = draw(st.sampled_from(ROUTES if intent == "any" else TENANT_ROUTES))
    method = op.method
    missing = sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - METHODS[op.full_path])
    if intent == "any" and missing and chance(draw, 10):
        method = draw(st.sampled_from(missing))  # a method the path does not have: 405 whatever else is wrong
    key = draw(keys(world, intent))
    home = world.tenants[key.tenant] if key.tenant is not None else draw(st.sampled_from(world.tenants))
    params: dict[str, str] = {}
    if "slug" in op.params:
        params["slug"] = draw(slugs(world, home, intent))
    here = params.get("slug", home.slug)
    if "connector_id" in op.params:
        params["connector_id"] = draw(connector_refs(refs, here))
    if "provider" in op.params:
        params["provider"] = draw(providers(world, home, linked=op.operation_id.endswith("Credential")))
    if "key_id" in op.params:
        params["key_id"] = draw(key_ids(refs, here))
    if "user_id" in op.params:
        params["user_id"] = user_refs(draw, refs, here)
    if "invitation_id" in op.params:
        own = refs.invitations.get(here, [])
        foreign = [i for slug, ids in refs.invitations.items() if slug != here for i in ids]
        params["invitation_id"] = _pick(draw, own, foreign, secrets.token_hex(16), "not-an-id")
    if "name" in op.params:
        params["name"] = oidc_refs(draw, refs, here if "slug" in op.params else None)
    body = draw(bodies(op.operation_id, world, refs, here, home)) if op.body is not None else None
    if op.body is None and method in ("POST", "PUT", "PATCH") and draw(st.booleans()):
        body = {"unexpected": True}
    return a.Request(op, method, key, params, draw(queries(op.operation_id, refs, here)), body)


# -- one exchange and its checks --------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    text: str
    json: Any


async def send(rig: Rig, req: a.Request) -> Answer:
    headers = dict(req.key.header)
    content = req.content
    if content is not None:
        headers["Content-Type"] = "application/json"
    r = await rig.http.request(req.method, req.path, params=req.query or None, content=content, headers=headers)
    try:
        data = r.json() if r.content else None
    except ValueError:
        data = None
    return Answer(r.status_code, r.text, data)


def allowed_markers(
    world: a.World, states: list[dict[str, dict[str, Any] | None]], req: a.Request, expect: a.Expect
) -> tuple[set[str], set[str]]:
    """(foreign, allowed): the markers of tenants the key may not see in this answer, and of those it may."""
    every = {t.slug: set().union(*(a.markers(s[t.slug]) for s in states)) for t in world.tenants}
    allowed: set[str] = set()
    if req.key.tenant is not None:
        allowed |= every[world.tenants[req.key.tenant].slug]
    if expect.target is not None and req.key.kind == "platform":
        allowed |= every[expect.target.slug]
    if req.key.kind == "platform" and req.op.operation_id == "listTenants":
        allowed |= {m for s in states for t in world.tenants for m in a.markers(s[t.slug], tenant_only=True)}
    elif req.key.kind == "platform" and "slug" not in req.op.params:
        allowed |= {m for ms in every.values() for m in ms}  # users and providers of the whole platform
    echoed = req.echoed()
    foreign = {m for slug, ms in every.items() for m in ms if m not in allowed and m not in echoed}
    return foreign, allowed


def changed(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    return {slug for slug in before if before[slug] != after[slug]}


async def exchange(rig: Rig, world: a.World, req: a.Request) -> Answer:
    """Send `req` and check every property; returns the answer."""
    before = await a.snapshot(rig.store, world)
    existing = await rig.slugs()
    expect = a.expect(world, before, req, METHODS, existing)
    answer = await send(rig, req)
    after = await a.snapshot(rig.store, world)
    what = f"{req.method} {req.path} {req.query} key={req.key.kind} body={str(req.body)[:200]!r}"
    # the status: the oracle's, documented, never 5xx, with the standard error body
    assert answer.status < 500, f"{what}: {answer.status} {answer.text[:500]}"
    assert answer.status in expect.statuses, (
        f"{what}: {answer.status}, expected {set(expect.statuses)} ({expect.why}): {answer.text[:500]}"
    )
    if expect.stage == "method":
        assert answer.status == 405
    else:
        documented = rig.documented[(req.op.full_path, req.method)]
        assert answer.status in documented, f"{what}: {answer.status} is not in the OpenAPI document {documented}"
    if answer.status >= 400:
        assert isinstance(answer.json, dict) and set(answer.json) == {"error", "request_id"}, answer.text[:300]
        assert answer.json["error"]["code"] and answer.json["error"]["message"], answer.text[:300]
    # the answer: nothing of a tenant the key may not see
    foreign, _ = allowed_markers(world, [before, after], req, expect)
    leaked = sorted(m for m in foreign if m in answer.text)
    assert not leaked, f"{what}: the answer carries another tenant's {leaked[:5]}: {answer.text[:500]}"
    # the state: only the tenant on the path, only on success, only with a key allowed to manage it
    moved = changed(before, after)
    if answer.status >= 300 or req.method == "GET":
        assert not moved, f"{what}: answered {answer.status} but changed {moved}"
    elif expect.anywhere:
        assert req.key.kind == "platform", f"{what}: a tenant key on a platform user route changed {moved}"
    else:
        assert moved <= ({expect.target.slug} if expect.target else set()), f"{what}: changed {moved}"
    if req.key.tenant is not None:
        assert moved <= {world.tenants[req.key.tenant].slug}, f"{what}: a tenant key changed {moved}"
    await check_lists(rig, world, req, answer, after)
    slug = req.params.get("slug")
    if req.key.tenant is not None and slug in existing and slug != world.tenants[req.key.tenant].slug:
        await check_indistinguishable(rig, world, req, answer)
    tally(rig, req, expect, answer, moved)
    return answer


async def check_lists(
    rig: Rig, world: a.World, req: a.Request, answer: Answer, after: dict[str, dict[str, Any] | None]
) -> None:
    """Lists hold only the tenant on the path (a tenant key's tenant list: only its own tenant)."""
    if answer.status != 200 or not isinstance(answer.json, dict) or "items" not in answer.json:
        return
    op_id = req.op.operation_id
    if op_id == "listTenants" and req.key.tenant is not None:
        own = world.tenants[req.key.tenant].id
        assert {i["id"] for i in answer.json["items"]} <= {own}, answer.text[:300]
        return
    lists = ("listConnectors", "listApiKeys", "listCredentials", "listAuditEvents", "listMembers", "listInvitations")
    if op_id not in (*lists, "listTenantOidcProviders"):
        return  # the tenant list of the platform key, and connector types and tools: shared by every tenant
    s = after[req.params["slug"]]
    assert s is not None
    field_of, stored = {
        "listConnectors": ("id", {r["item"]["id"] for r in s["connectors"]}),
        "listApiKeys": ("id", {k["id"] for k in s["api_keys"]}),
        "listCredentials": ("provider", {r["item"]["provider"] for r in s["credentials"]}),
        "listAuditEvents": ("id", {e["id"] for e in s["audit"]}),
        "listMembers": ("user_id", {m["user"]["id"] for m in s["members"]}),
        "listInvitations": ("id", {i["id"] for i in s["invitations"]}),
        "listTenantOidcProviders": ("name", {o["name"] for o in s["oidc"]}),
    }[op_id]
    assert {i[field_of] for i in answer.json["items"]} <= stored, (
        f"{op_id}: items of another tenant: {answer.text[:300]}"
    )


async def check_indistinguishable(rig: Rig, world: a.World, req: a.Request, answer: Answer) -> None:
    """For a tenant key, another tenant's slug and a slug nobody has get the same answer (but for the slug
    itself), whatever else is wrong with the request."""
    twin_req = req.with_slug(f"u-{a.tag()}")
    twin = await send(rig, twin_req)
    assert twin.status == answer.status, f"{req.path}: {answer.status} for another tenant, {twin.status} for nobody"

    def error(reply: Answer, slug: str) -> tuple[str, str] | None:
        if not isinstance(reply.json, dict) or "error" not in reply.json:
            return None
        return reply.json["error"]["code"], reply.json["error"]["message"].replace(slug, "SLUG")

    mine, theirs = error(answer, req.params["slug"]), error(twin, twin_req.params["slug"])
    assert mine == theirs, f"{req.path}: {mine} for another tenant, {theirs} for nobody"


def tally(rig: Rig, req: a.Request, expect: a.Expect, answer: Answer, moved: set[str]) -> None:
    op_id = req.op.operation_id
    outcome = "2xx" if answer.status < 300 else str(answer.status)
    if currently_in_test_context():
        event(f"{expect.stage}: {outcome}")
    rig.tally[f"stage {expect.stage} {outcome}"] += 1
    rig.tally[f"route {op_id}"] += 1
    if answer.status < 300:
        rig.tally[f"ok {op_id}"] += 1
    if expect.stage == "tenant" and req.key.tenant is not None:
        rig.tally["another tenant refused"] += 1
    if moved:
        rig.tally["state changed"] += 1


# -- the properties -----------------------------------------------------------------------------------------


@settings(max_examples=EXAMPLES, deadline=None)
@given(data=st.data())
async def test_no_admin_request_crosses_tenants(rig: Rig, data: st.DataObject) -> None:
    world = await seed(rig, data.draw(st.integers(2, 3), label="tenants"))
    for i in range(data.draw(st.integers(len(INTENTS) - 2, 8), label="requests")):
        # only the world's own platform provider: those of earlier examples would make the draws differ on replay
        platform = [n for n in await a.platform_providers(rig.store) if n == world.platform_oidc]
        refs = refs_of(await a.snapshot(rig.store, world), platform)
        await exchange(rig, world, data.draw(requests(world, refs, INTENTS[i % len(INTENTS)])))


async def test_the_property_reached_every_kind_of_outcome(rig: Rig) -> None:
    """The random requests were not all refused at the door: they reached most routes, succeeded often, were
    refused for another tenant's path, and changed state (so the no-change checks had something to miss).
    `test_every_route_works_for_the_platform_key_and_a_tenant_admin_key` goes through every route."""
    t = rig.tally
    if not t:
        pytest.skip("the property did not run in this session")
    total = sum(v for k, v in t.items() if k.startswith("route "))
    reached = {k.removeprefix("route ") for k in t if k.startswith("route ")}
    assert len(reached) >= len(ROUTES) // 2, t
    assert sum(v for k, v in t.items() if k.startswith("ok ")) >= max(3, total // 20), t
    assert t["another tenant refused"] >= total // 20, t
    assert t["state changed"] >= 1 and t["stage auth 401"] >= 1 and t["stage scope 403"] >= 1, t


# -- fixed checks: every route works for the keys that may use it ------------------------------------------


def valid_request(op: Any, world: a.World, key: a.Key, slug: str) -> a.Request:
    """One request per route that succeeds for a key allowed on `slug`'s tenant."""
    t = world.by_slug(slug)
    assert t is not None
    tg = slug.split("-", 1)[1]
    other = next(o for o in world.tenants if o is not t)
    params = {
        "slug": slug,
        "connector_id": f"pr-{tg}",
        "provider": t.provider,
        "key_id": t.keys["mcp"].id,
        "user_id": t.users["member"],
        "invitation_id": t.invitation,
        "name": t.oidc if "slug" in op.params else world.platform_oidc,
    }
    oidc = {"name": f"o-{a.tag()}", "issuer": f"https://idp-{a.tag()}.example", "client_id": "cid"}
    bodies_ = {
        "createUser": {"email": f"new-{a.tag()}@n.example"},
        "updateUser": {"name": f"renamed-{a.tag()}"},
        "addMember": {"email": other.emails["member"], "role": "member"},
        "updateMember": {"role": "admin"},
        "createInvitation": {"role": "member"},
        "createPlatformOidcProvider": oidc,
        "createTenantOidcProvider": oidc,
        "updatePlatformOidcProvider": {"display_name": f"label-{a.tag()}"},
        "updateTenantOidcProvider": {"display_name": f"label-{a.tag()}"},
        "createTenant": {"slug": f"n-{a.tag()}"},
        "updateTenant": {"name": f"renamed-{a.tag()}"},
        "createConnector": {"connector_type": "demo", "name": f"new-{a.tag()}"},
        "updateConnector": {"description": f"desc-{a.tag()}"},
        "putOAuthApp": {"client_id": f"cid-{a.tag()}"},
        "putCredential": {"token": new_secret("at")},
        "createApiKey": {"scopes": ["admin"]},
        "authorizeOAuth": {},
    }
    return a.Request(
        op,
        op.method,
        key,
        {k: v for k, v in params.items() if k in op.params},
        {},
        bodies_.get(op.operation_id),
    )


ORDER = sorted(ROUTES, key=lambda op: (op.method == "DELETE", op.operation_id == "deleteTenant"))
"""Deletions last, the tenant last of all, so that each request finds what it needs."""


async def test_every_route_works_for_the_platform_key_and_a_tenant_admin_key(rig: Rig) -> None:
    world = await seed(rig, 2)
    acme, globex = world.tenants
    for op in ORDER:
        answer = await exchange(rig, world, valid_request(op, world, world.platform, globex.slug))
        assert answer.status < 300, (op.operation_id, answer.text[:300])
    for op in ORDER:
        key = acme.keys["admin"]
        answer = await exchange(rig, world, valid_request(op, world, key, acme.slug))
        if op.access == "platform":
            assert answer.status == 403 and answer.json["error"]["code"] == "platform_admin_required"
        else:
            assert answer.status < 300, (op.operation_id, answer.text[:300])


async def test_tenant_keys_never_create_delete_or_list_other_tenants(rig: Rig) -> None:
    world = await seed(rig, 2)
    acme, globex = world.tenants
    count = await rig.store.count_tenants()
    for kind, key in acme.keys.items():
        for op in ROUTES:
            if op.operation_id not in ("createTenant", "deleteTenant", "listTenants", "updateTenant"):
                continue
            for slug in (acme.slug, globex.slug):
                req = valid_request(op, world, key, slug if op.operation_id != "createTenant" else acme.slug)
                if op.operation_id == "updateTenant":
                    req.body = {"active": False}
                answer = await exchange(rig, world, req)
                if op.operation_id == "listTenants" and kind in ("admin+mcp", "admin"):
                    assert [i["slug"] for i in answer.json["items"]] == [acme.slug]
                else:
                    assert answer.status in (401, 403, 404), (kind, op.operation_id, answer.status)
    assert await rig.store.count_tenants() == count


async def test_the_openapi_document_lists_every_route_drawn(rig: Rig) -> None:
    secured = {k for k in rig.documented if k[0].startswith("/api/v1/")} - PUBLIC
    drawn = {(op.full_path, op.method) for op in ROUTES}
    assert drawn == secured, f"routes not drawn: {secured - drawn}; drawn but undocumented: {drawn - secured}"
    for (path, method), codes in rig.documented.items():
        if (path, method) in PUBLIC:
            continue
        assert {400, 401, 403, 404, 422} <= codes, (path, method, codes)


# -- the checks can fail ---------------------------------------------------------------------------------


async def test_the_checks_see_a_crossing_when_there_is_one(rig: Rig) -> None:
    """Meta-check: another tenant's real data, as the platform key reads it, counts as a leak in an answer to
    a tenant key; a change to another tenant counts as a change; an answer that tells an existing tenant
    from an unknown one counts as such."""
    world = await seed(rig, 2)
    acme, globex = world.tenants
    states = await a.snapshot(rig.store, world)
    base = f"/api/v1/admin/tenants/{globex.slug}"
    for suffix in ("", "/connectors", "/api-keys", "/credentials", "/audit", f"/oauth-apps/{globex.provider}"):
        r = await rig.http.get(base + suffix, headers=world.platform.header)
        assert r.status_code == 200, r.text
        req = a.Request(ROUTES[0], "GET", acme.keys["admin"], {"slug": acme.slug})
        foreign, allowed = allowed_markers(world, [states], req, a.Expect(frozenset({200}), "", None))
        assert allowed and not allowed & a.markers(states[globex.slug])
        assert any(m in r.text for m in foreign), f"GET {suffix or '/'} of globex would not count as a leak"
    own = await rig.http.get(f"/api/v1/admin/tenants/{acme.slug}/connectors", headers=acme.keys["admin"].header)
    assert own.status_code == 200 and not [m for m in a.markers(states[globex.slug]) if m in own.text]
    r = await rig.http.patch(
        f"{base}/connectors/pr-{globex.slug.split('-', 1)[1]}",
        json={"description": "changed"},
        headers=world.platform.header,
    )
    assert r.status_code == 200, r.text
    assert changed(states, await a.snapshot(rig.store, world)) == {globex.slug}
    r = await rig.http.delete(f"{base}/credentials/probe", headers=world.platform.header)
    assert r.status_code == 204
    assert changed(states, await a.snapshot(rig.store, world)) == {globex.slug}
    known = await rig.http.get(base, headers=world.platform.header)
    unknown = await rig.http.get(f"/api/v1/admin/tenants/u-{a.tag()}", headers=world.platform.header)
    assert (known.status_code, unknown.status_code) == (200, 404)
    get_tenant = next(op for op in ROUTES if op.operation_id == "getTenant")
    probe = valid_request(get_tenant, world, acme.keys["admin"], globex.slug)
    as_if_visible = Answer(known.status_code, known.text, known.json())
    with pytest.raises(AssertionError, match="for another tenant"):
        await check_indistinguishable(rig, world, probe, as_if_visible)


# -- regressions -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cursor",
    [
        ["2026-01-01T00:00:00+00:00", "\x00"],
        ["0001-01-01T00:00:00+14:00", "0" * 32],
        ["9999-12-31T23:59:59-14:00", "0" * 32],
    ],
    ids=["nul-in-id", "before-year-1-in-utc", "after-year-9999-in-utc"],
)
async def test_regression_a_crafted_audit_cursor_reads_as_a_database_outage(rig: Rig, cursor: list[str]) -> None:
    """Regression, fixed (sagemcp_server.api.audit._cursor): the audit cursor comes back from the client as
    base64 JSON, and its time and event id went to the database unchecked. PostgreSQL refuses a NUL character
    and a time outside its range, the store maps the driver's error to `DatabaseUnavailable`, and the API
    answered `503 database_unavailable` (with `Retry-After`, and a "database unavailable" warning in the
    log) to a request that was simply invalid. Found on PostgreSQL while building the crafted cursors of
    `audit_cursors` for the property above."""
    world = await seed(rig, 1)
    t = world.tenants[0]
    r = await rig.http.get(
        f"/api/v1/admin/tenants/{t.slug}/audit",
        params={"cursor": server_store.encode_cursor(cursor)},
        headers=t.keys["admin"].header,
    )
    assert r.status_code == 422, f"{r.status_code} {r.text[:300]}"
    assert r.json()["error"]["code"] == "invalid_cursor"
    page = (await rig.http.get(f"/api/v1/admin/tenants/{t.slug}/audit", headers=t.keys["admin"].header)).json()
    event_ = page["items"][0]
    resumed = await rig.http.get(
        f"/api/v1/admin/tenants/{t.slug}/audit",
        params={"cursor": server_store.encode_cursor([event_["at"], "f" * 32])},
        headers=t.keys["admin"].header,
    )
    assert resumed.status_code == 200 and [e["id"] for e in resumed.json()["items"]] == [event_["id"]]
