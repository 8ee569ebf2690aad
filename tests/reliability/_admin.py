"""The admin API side of the isolation suite: seeded tenants full of markers, their stored state, the requests
the properties draw, and the oracle that says what each request must get.

Each tenant of a `World` is created through the admin API with a distinctive tag in everything that can
surface in an answer (slug, name, connector names, descriptions and configuration, a per-tenant credential
provider, the OAuth client id, credential accounts, key names) and owns keys of every kind. `state()` reads a
tenant back from the server's store (secrets included), `markers()` lists the strings that identify it.

Each tenant also has two members (an owner and a member, each a user of its own with a tagged e-mail and
name), a pending invitation and an OpenID Connect sign-in provider; the world has a platform-wide provider.
Users belong to the platform: the platform key's user routes may change every tenant whose member they touch.

The oracle (`expect`) follows docs/server/admin-api.md, docs/server/index.md ("Who may call what") and
docs/sign-in.md:
405 for a method the path does not have; 401 without a valid key; 403 for a tenant key without the `admin`
scope, or on a platform route; 422 for an invalid path parameter, query or body, 400 for a body that is not
JSON; 404 for another tenant's slug exactly as for an unknown one; then what the route does on the tenant.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, SecretStr, ValidationError

from ._support import LEDGER, new_secret

ADMIN_KEY = LEDGER.secret("smcp_" + secrets.token_urlsafe(32))
INSTALLED = ("probe", "demo")
"""The connector types the test server runs: the reliability probe (bearer, API key and OAuth) and the demo."""
TOKEN_KINDS = ("bearer", "api_key")
"""The token kinds the probe connector accepts through the credential routes."""
KEY_KINDS = {
    "admin+mcp": (["admin", "mcp"], False),
    "admin": (["admin"], False),
    "mcp": (["mcp"], False),
    "limited": (["mcp"], True),
    "revoked": (["admin", "mcp"], False),
}
"""Tenant key kinds the admin API creates: scopes, and whether the key is limited to the tenant's first connector.
A key limited to a connector cannot have the `admin` scope; `LIMITED_ADMIN` keys (as stored before that rule) are
put in the store directly, and the admin API refuses them."""
LIMITED_ADMIN = "limited-admin"
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
GENERIC = frozenset({"probe", "demo", "bearer", "api_key", "admin", "mcp"})
CONFIG_KEYS = {"probe": {"upstream"}, "demo": set()}
GROUPS = {"probe": {"read", "write"}, "demo": {"basics"}}
TOOLS = {
    "probe": {
        f"probe_{n}" for n in ("whoami", "fetch", "echo", "create", "update", "replace", "delete", "ask", "crash")
    },
    "demo": {"demo_echo", "demo_add", "demo_server_time"},
}
"""What each installed type's configuration and tool policy may name."""


def tag() -> str:
    return secrets.token_hex(5)


# -- the world ---------------------------------------------------------------------------------------


@dataclass
class Key:
    raw: str | None
    kind: str
    """platform, none, garbage, or a tenant key kind of `KEY_KINDS`."""
    tenant: int | None = None
    id: str = ""
    scopes: frozenset[str] = frozenset()
    scheme: str = "Bearer"

    @property
    def header(self) -> dict[str, str]:
        return {"Authorization": f"{self.scheme} {self.raw}".strip()} if self.raw is not None else {}


@dataclass
class TenantW:
    index: int
    slug: str
    id: str
    provider: str
    """The provider of the tenant's second probe connector: credentials and OAuth apps exist only for it."""
    keys: dict[str, Key] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    """role -> user id of the seeded members (`owner`, `member`)."""
    emails: dict[str, str] = field(default_factory=dict)
    """role -> e-mail of the seeded members."""
    invitation: str = ""
    """The id of the seeded pending invitation."""
    oidc: str = ""
    """The name of the tenant's seeded sign-in provider."""


@dataclass
class World:
    tenants: list[TenantW]
    platform: Key = field(default_factory=lambda: Key(ADMIN_KEY, "platform"))
    platform_oidc: str = ""
    """The name of the seeded platform-wide sign-in provider."""

    def by_slug(self, slug: str) -> TenantW | None:
        return next((t for t in self.tenants if t.slug == slug), None)

    def providers(self) -> list[str]:
        return [*INSTALLED, *(t.provider for t in self.tenants)]


class Admin:
    """The admin API with the platform key, for seeding: any refusal is an error of the test."""

    def __init__(self, http: Any) -> None:
        self.http = http

    async def __call__(self, method: str, path: str, body: Any = None) -> Any:
        r = await self.http.request(
            method, "/api/v1" + path, json=body, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
        )
        assert r.status_code < 300, (method, path, r.status_code, r.text)
        return r.json() if r.content else None


async def seed(admin: Admin, n: int) -> World:
    """`n` tenants through the admin API, each with three connectors, an OAuth app, two credentials and one
    key of every kind (the `revoked` one revoked)."""
    world = World([])
    for i in range(n):
        t = tag()
        slug = f"t{i}-{t}"
        tenant = await admin("POST", "/admin/tenants", {"slug": slug, "name": f"Tenant {t}-name"})
        w = TenantW(i, slug, tenant["id"], f"px{t}")
        base = f"/admin/tenants/{slug}"
        first = await admin(
            "POST",
            base + "/connectors",
            {
                "connector_type": "probe",
                "name": f"pr-{t}",
                "description": f"probe of {t}-desc",
                "configuration": {"upstream": f"http://127.0.0.1:9/{t}-cfg"},
            },
        )
        await admin(
            "POST", base + "/connectors", {"connector_type": "probe", "name": f"px-{t}", "provider": w.provider}
        )
        await admin("POST", base + "/connectors", {"connector_type": "demo", "name": f"dm-{t}"})
        await admin(
            "PUT",
            f"{base}/oauth-apps/{w.provider}",
            {"client_id": f"client-{t}", "client_secret": new_secret("cs"), "extra": {"team": f"team-{t}"}},
        )
        for provider in ("probe", w.provider):
            body = {"token": new_secret("at"), "account": f"acct-{provider}-{t}", "extra": {"org": f"org-{t}"}}
            await admin("PUT", f"{base}/credentials/{provider}", body)
        for kind, (scopes, limited) in KEY_KINDS.items():
            body = {"scopes": scopes, "name": f"{kind}-{t}"}
            if limited:
                body["connector_id"] = first["id"]
            created = await admin("POST", base + "/api-keys", body)
            w.keys[kind] = Key(LEDGER.secret(created["key"]), kind, i, created["id"], frozenset(scopes))
        await admin("DELETE", f"{base}/api-keys/{w.keys['revoked'].id}")
        for role in ("owner", "member"):
            email = f"{role}-{t}@p{t}.example"
            user = await admin("POST", "/admin/users", {"email": email, "name": f"{role.title()} {t}-pname"})
            await admin("POST", base + "/members", {"email": email, "role": role})
            w.users[role], w.emails[role] = user["id"], email
        invitation = await admin("POST", base + "/invitations", {"role": "member", "email": f"inv-{t}@p{t}.example"})
        w.invitation = invitation["id"]
        w.oidc = f"sso-{t}"
        await admin("POST", base + "/oidc-providers", oidc_body(w.oidc, t))
        world.tenants.append(w)
    world.platform_oidc = f"plat-{tag()}"
    await admin("POST", "/admin/oidc-providers", oidc_body(world.platform_oidc, tag()))
    return world


def oidc_body(name: str, t: str) -> dict[str, Any]:
    return {
        "name": name,
        "issuer": f"https://idp-{t}.example/realms/r{t}",
        "client_id": f"oidc-client-{t}",
        "client_secret": new_secret("ocs"),
        "display_name": f"SSO {t}-label",
    }


# -- stored state and markers ---------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """A comparable, JSON-like copy of a stored value, secrets revealed."""
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(plain(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def stamped(record: Any) -> Any:
    if record is None:
        return None
    return {"item": plain(record.item), "created_at": plain(record.created_at), "updated_at": plain(record.updated_at)}


def people(store: Any) -> Any:
    """The server's people store on the same engine and key ring as `store`."""
    from sagemcp_server.db.people import PeopleStore

    return PeopleStore(store)


def _record(value: Any) -> Any:
    return plain(dataclasses.asdict(value)) if dataclasses.is_dataclass(value) else plain(value)


async def platform_providers(store: Any) -> list[str]:
    """The names of the platform-wide sign-in providers."""
    return [p.name for p in await people(store).list_oidc_providers(None)]


async def state(store: Any, t: TenantW, providers: list[str]) -> dict[str, Any] | None:
    """Everything the store holds for a tenant (None once it is deleted), read directly, not through the API."""
    page = await store.list_tenants(limit=1, only_id=t.id)
    if not page.items:
        return None
    who = people(store)
    return {
        "members": [_record(m) for m in await who.list_members(t.id)],
        "invitations": [_record(i) for i in await who.list_invitations(t.id)],
        "oidc": [_record(p) for p in await who.list_oidc_providers(t.id)],
        "tenant": stamped(page.items[0]),
        "connectors": [stamped(r) for r in await store.list_connector_records(t.id)],
        "oauth_apps": {p: stamped(await store.get_oauth_app_record(t.id, p)) for p in providers},
        "credentials": [stamped(r) for r in await store.list_credential_records(t.id)],
        "api_keys": [plain(r) for r in await store.list_api_keys(t.id)],
        "audit": [plain(e) for e in (await store.list_audit(t.id, limit=500)).items],
    }


async def snapshot(store: Any, world: World) -> dict[str, dict[str, Any] | None]:
    providers = world.providers()
    return {t.slug: await state(store, t, providers) for t in world.tenants}


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


_FIELDS = {
    "connectors": ("id", "tenant_id", "name", "description", "provider", "configuration"),
    "credentials": ("id", "tenant_id", "provider", "account", "access_token", "refresh_token", "extra"),
    "oauth_apps": ("tenant_id", "provider", "client_id", "client_secret", "extra"),
    "api_keys": ("id", "tenant_id", "name", "prefix", "connector_id"),
    "audit": ("id", "tenant_id", "request_id", "connector_id", "principal_id"),
    "members": ("id", "email", "name"),
    "invitations": ("id", "email"),
    "oidc": ("id", "name", "display_name", "issuer", "client_id", "client_secret"),
}
"""The fields that carry a tenant's own values (not shared vocabulary such as tool names or statuses)."""


def markers(s: dict[str, Any] | None, *, tenant_only: bool = False) -> set[str]:
    """The strings that identify a tenant's data: its stored values long enough to be distinctive.

    `tenant_only`: only the tenant record's (what `GET /admin/tenants` may show of every tenant)."""
    if s is None:
        return set()
    tenant = s["tenant"]["item"]
    found = [tenant["id"], tenant["slug"], tenant["name"]]
    if not tenant_only:
        rows = {
            "connectors": [r["item"] for r in s["connectors"]],
            "credentials": [r["item"] for r in s["credentials"]],
            "oauth_apps": [r["item"] for r in s["oauth_apps"].values() if r is not None],
            "api_keys": s["api_keys"],
            "audit": s["audit"],
            "members": [m["user"] for m in s["members"]],
            "invitations": s["invitations"],
            "oidc": s["oidc"],
        }
        for part, items in rows.items():
            found += [x for item in items for f in _FIELDS[part] for x in _strings(item.get(f))]
    return {m for m in found if len(m) >= 8 and m not in GENERIC}


# -- requests ------------------------------------------------------------------------------------------


@dataclass
class Request:
    op: Any
    """The server's `Operation`."""
    method: str
    key: Key
    params: dict[str, str]
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None
    """A JSON value, or `bytes` sent as they are."""
    states: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    """The world's stored state when the oracle judges the request (set by `expect`)."""

    @property
    def path(self) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: quote(self.params[m.group(1)], safe=""), self.op.full_path)

    @property
    def content(self) -> bytes | None:
        if self.body is None:
            return None
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode()

    def echoed(self) -> str:
        """Everything the request itself says: an answer may repeat it."""
        return " ".join([*self.params.values(), *self.query.values(), (self.content or b"").decode("utf-8", "replace")])

    def with_slug(self, slug: str) -> Request:
        return Request(
            self.op, self.method, self.key, {**self.params, "slug": slug}, self.query, self.body, self.states
        )


# -- the oracle ----------------------------------------------------------------------------------------


@dataclass
class Expect:
    statuses: frozenset[int]
    why: str
    target: TenantW | None = None
    """The world tenant on the path, when the key may manage it and the request reached its handler."""
    stage: str = "route"
    """Where the request is decided: method, auth, scope, validation, tenant, route."""
    anywhere: bool = False
    """A platform-key user route: users belong to the platform, so any tenant they are a member of may change."""


def _expect(
    statuses: set[int] | frozenset[int], why: str, stage: str, target: TenantW | None = None, anywhere: bool = False
) -> Expect:
    return Expect(frozenset(statuses), why, target, stage, anywhere)


def key_valid(world: World, states: dict[str, dict[str, Any] | None], key: Key) -> bool:
    if key.kind == "platform":
        return True
    if key.tenant is None:
        return False
    s = states[world.tenants[key.tenant].slug]
    return s is not None and any(r["id"] == key.id and not r["revoked"] for r in s["api_keys"])


def _valid_body(op: Any, body: Any) -> str | None:
    """None if the body passes the route's checks before its handler, else the status class ("400", "422")."""
    if op.body is None:
        return None
    if isinstance(body, bytes):
        if not body.strip():
            return "400" if op.body_required else None
        try:
            data = json.loads(body)
        except ValueError:
            return "400"
    elif body is None:
        return "400" if op.body_required else None
    else:
        data = body
    if _bad_text(data):
        return "422"
    try:
        op.body.model_validate(data)
    except ValidationError:
        return "422"
    return None


def _bad_text(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value or any(0xD800 <= ord(ch) <= 0xDFFF for ch in value)
    if isinstance(value, dict):
        return any(_bad_text(k) or _bad_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_bad_text(v) for v in value)
    return False


def _valid_query(op: Any, query: dict[str, str]) -> bool:
    if _bad_text(list(query.values())):
        return False
    if op.query is None:
        return True
    try:
        op.query.model_validate(query)
    except ValidationError:
        return False
    return True


def _connector(s: dict[str, Any], ref: str) -> dict[str, Any] | None:
    items = [r["item"] for r in s["connectors"]]
    return next((c for c in items if c["id"] == ref), None) or next((c for c in items if c["name"] == ref), None)


def _settings_ok(kind: str, configuration: Any, policy: Any) -> bool:
    if not isinstance(configuration, dict) or not set(configuration) <= CONFIG_KEYS[kind]:
        return False
    if not isinstance(policy, dict):
        return False
    groups = policy.get("groups") or []
    tools = [*(policy.get("include_tools") or []), *(policy.get("exclude_tools") or [])]
    return set(groups) <= GROUPS[kind] and set(tools) <= TOOLS[kind]


def _uses_provider(s: dict[str, Any], provider: str) -> bool:
    """Whether a probe connector takes credentials for `provider` on this tenant (the demo needs none)."""
    if provider == "probe":
        return True
    return any(r["item"]["connector_type"] == "probe" and r["item"]["provider"] == provider for r in s["connectors"])


def expect(
    world: World,
    states: dict[str, dict[str, Any] | None],
    req: Request,
    methods: dict[str, set[str]],
    existing_slugs: set[str],
) -> Expect:
    """What `req` must get. `methods`: the methods of each path template; `existing_slugs`: every tenant slug
    in the store (world tenants or not)."""
    op, key = req.op, req.key
    req.states = states
    if req.method not in methods[op.full_path]:
        return _expect({405}, "the path has no such method", "method")
    if not key_valid(world, states, key):
        return _expect({401}, "no valid key", "auth")
    platform = key.kind == "platform"
    if not platform and "admin" not in key.scopes:
        return _expect({403}, "a tenant key without the admin scope", "scope")
    if key.kind == LIMITED_ADMIN and op.access != "platform":
        return _expect({403}, "a key limited to a connector never manages its tenant", "scope")
    if not platform and op.access == "platform":
        return _expect({403}, "a platform route with a tenant key", "scope")
    for name, p in op.params.items():
        value = req.params[name]
        if len(value) > p.max_length or not re.match(p.pattern, value):
            return _expect({422}, f"invalid path parameter {name}", "validation")
    if not _valid_query(op, req.query):
        return _expect({422}, "invalid query", "validation")
    problem = _valid_body(op, req.body)
    if problem:
        return _expect({int(problem)}, "invalid body", "validation")
    body = req.body if isinstance(req.body, dict) else {}
    if isinstance(req.body, bytes) and req.body.strip():
        body = json.loads(req.body)
    if "slug" not in op.params:
        return _platform_route(op.operation_id, req, body, existing_slugs, states)
    slug = req.params["slug"]
    own = world.tenants[key.tenant].slug if key.tenant is not None else None
    if slug not in existing_slugs or (not platform and slug != own):
        return _expect({404}, "another tenant, or no tenant", "tenant")
    target = world.by_slug(slug)
    s = states.get(slug) if target is not None else None
    if target is None or s is None:  # a tenant of no world (re-created by the platform key): not predicted here
        return _expect({200, 201, 204, 404, 409, 422}, "a tenant outside the world", "route")
    return _route(op.operation_id, req, body, s, target, platform)


def _email_ok(value: Any) -> bool:
    from sagemcp_server.db.people import InvalidEmail, normalize_email

    try:
        normalize_email(value)
    except InvalidEmail:
        return False
    return True


def _norm(value: str) -> str:
    return value.strip().lower()


def _members(states: dict[str, dict[str, Any] | None]) -> dict[str, dict[str, Any]]:
    """user id -> user record, of every member of every live tenant."""
    return {m["user"]["id"]: m["user"] for s in states.values() if s is not None for m in s["members"]}


def _sole_owner(states: dict[str, dict[str, Any] | None], user_id: str) -> bool:
    for s in states.values():
        if s is None:
            continue
        owners = [m["user"]["id"] for m in s["members"] if m["role"] == "owner"]
        if owners == [user_id]:
            return True
    return False


def _password_ok(body: dict[str, Any]) -> bool:
    password = body.get("password")
    return password is None or bool(str(password).strip())


def _issuer_ok(value: Any) -> bool:
    from sagemcp import validate_api_url

    try:
        validate_api_url(str(value).strip(), example="https://x.example", field="issuer")
    except ValueError:
        return False
    return True


def _oidc_names(states: dict[str, dict[str, Any] | None]) -> set[str]:
    return {p["name"] for s in states.values() if s is not None for p in s["oidc"]}


def _platform_route(
    op_id: str,
    req: Request,
    body: dict[str, Any],
    existing: set[str],
    states: dict[str, dict[str, Any] | None] | None = None,
) -> Expect:
    states = states or {}
    users = _members(states)
    p = req.params
    if op_id == "listUsers":
        return _expect({200}, op_id, "route")
    if op_id == "createUser":
        if not _email_ok(body["email"]) or not _password_ok(body):
            return _expect({422}, "invalid e-mail or password", "route")
        taken = _norm(body["email"]) in {u["email"] for u in users.values()}
        return _expect({409} if taken else {201}, op_id, "route")
    if op_id in ("getUser", "updateUser", "deleteUser"):
        if p["user_id"] not in users:
            # a user of no live tenant (made by createUser, or of a deleted tenant): not predicted here
            return _expect({200, 204, 404, 409, 422}, "a user outside the world's tenants", "route", anywhere=True)
        if op_id == "getUser":
            return _expect({200}, op_id, "route")
        if op_id == "deleteUser":
            if _sole_owner(states, p["user_id"]):
                return _expect({409}, "the last owner of a tenant", "route")
            return _expect({204}, op_id, "route", anywhere=True)
        if body.get("email") is not None and not _email_ok(body["email"]):
            return _expect({422}, "invalid e-mail", "route")
        if not _password_ok(body):
            return _expect({422}, "blank password", "route")
        if body.get("email") is not None:
            others = {u["email"] for uid, u in users.items() if uid != p["user_id"]}
            if _norm(body["email"]) in others:
                return _expect({409}, "another user's e-mail", "route")
            # an e-mail of a user outside the world (made by createUser) would conflict too
            return _expect({200, 409}, op_id, "route", anywhere=True)
        return _expect({200}, op_id, "route", anywhere=True)
    if op_id == "createPlatformOidcProvider":
        if not _issuer_ok(body["issuer"]):
            return _expect({422}, "issuer refused", "route")
        taken = body["name"] in _oidc_names(states)
        return _expect({409} if taken else {201, 409}, op_id, "route")
    if op_id == "listPlatformOidcProviders":
        return _expect({200}, op_id, "route")
    if op_id in ("getPlatformOidcProvider", "updatePlatformOidcProvider", "deletePlatformOidcProvider"):
        if p["name"] in _oidc_names(states):
            return _expect({404}, "a tenant's provider is not the platform's", "route")
        if op_id == "updatePlatformOidcProvider" and body.get("issuer") is not None and not _issuer_ok(body["issuer"]):
            return _expect({404, 422}, "issuer refused (if the provider exists)", "route")
        ok = {"getPlatformOidcProvider": 200, "updatePlatformOidcProvider": 200, "deletePlatformOidcProvider": 204}
        return _expect({ok[op_id], 404}, op_id, "route")
    if op_id == "listTenants":
        cursor = req.query.get("cursor")
        return _expect({200} if cursor is None or _tenant_cursor_ok(cursor) else {422}, op_id, "route")
    if op_id == "createTenant":
        slug = body["slug"]
        if slug in ("admin", "oauth", "api", "healthz", "readyz", "metrics", "static", "openapi"):
            return _expect({422}, "reserved slug", "route")
        return _expect({409} if slug in existing else {201}, op_id, "route")
    if op_id == "listConnectorTypes":
        return _expect({200}, op_id, "route")
    raise AssertionError(f"no oracle for {op_id}")


def _tenant_cursor_ok(cursor: str) -> bool:
    """Whether a tenant list cursor decodes to a slug (the API's cursors are base64url slugs)."""
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        return bool(SLUG_RE.match(raw.decode("utf-8")))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False


def _route(op_id: str, req: Request, body: dict[str, Any], s: dict[str, Any], t: TenantW, platform: bool) -> Expect:
    p = req.params

    def ok(*statuses: int, why: str = op_id) -> Expect:
        return _expect(set(statuses), why, "route", t)

    if op_id in ("getTenant", "listConnectors", "listCredentials", "listApiKeys"):
        return ok(200)
    if op_id == "updateTenant":
        changes_state = body.get("active") is not None and body["active"] != s["tenant"]["item"]["active"]
        return ok(403, why="only the platform key (de)activates") if changes_state and not platform else ok(200)
    if op_id == "deleteTenant":
        return ok(204)
    if op_id == "createConnector":
        kind = body["connector_type"]
        if kind not in INSTALLED:
            return ok(422, why="not installed")
        if not _settings_ok(kind, body.get("configuration", {}), body.get("tool_policy", {})):
            return ok(422, why="configuration or tool policy")
        if any(r["item"]["name"] == body["name"] for r in s["connectors"]):
            return ok(409, why="duplicate name")
        return ok(201)
    if op_id in ("getConnector", "listConnectorTools", "updateConnector", "deleteConnector"):
        current = _connector(s, p["connector_id"])
        if current is None:
            return ok(404, why="no such connector on this tenant")
        if op_id == "updateConnector":
            kind = current["connector_type"]
            if not _settings_ok(kind, body.get("configuration") or {}, body.get("tool_policy") or {}):
                return ok(422, why="configuration or tool policy")
            name = body.get("name")
            clash = name is not None and any(
                r["item"]["name"] == name and r["item"]["id"] != current["id"] for r in s["connectors"]
            )
            return ok(409, why="duplicate name") if clash else ok(200)
        return ok({"getConnector": 200, "listConnectorTools": 200, "deleteConnector": 204}[op_id])
    if op_id == "putOAuthApp":
        return ok(200) if _uses_provider(s, p["provider"]) else ok(422, why="no OAuth connector for the provider")
    if op_id in ("getOAuthApp", "deleteOAuthApp"):
        found = s["oauth_apps"].get(p["provider"]) is not None
        return ok({"getOAuthApp": 200, "deleteOAuthApp": 204}[op_id]) if found else ok(404, why="no such app")
    if op_id == "putCredential":
        provider = p["provider"]
        if ":" in provider or not _uses_provider(s, provider):
            return ok(422, why="no connector takes that credential")
        if body.get("kind") not in (None, *TOKEN_KINDS):
            return ok(422, why="kind not accepted")
        expires = body.get("expires_at")
        if expires is not None and datetime.fromisoformat(expires).timestamp() <= datetime.now().timestamp():
            return ok(422, why="expired")
        return ok(200)
    if op_id in ("getCredential", "deleteCredential", "rebindCredential"):
        found = any(r["item"]["provider"] == p["provider"] for r in s["credentials"])
        statuses = {"getCredential": 200, "deleteCredential": 204, "rebindCredential": 200}
        return ok(statuses[op_id]) if found else ok(404, why="no credential")
    if op_id == "createApiKey":
        ref = body.get("connector_id")
        scopes = set(body.get("scopes", ["mcp"]))
        if ref is not None and "admin" in scopes:
            return ok(422, why="the admin scope on a key limited to a connector")
        if not platform and not scopes <= req.key.scopes:
            return ok(403, why="a scope the creating key lacks")
        if ref is not None and _connector(s, ref) is None:
            return ok(422, why="no such connector on this tenant")
        return ok(201)
    if op_id == "revokeApiKey":
        found = any(r["id"] == p["key_id"] for r in s["api_keys"])
        return ok(204) if found else ok(404, why="no such key on this tenant")
    if op_id in ("listAuditEvents", "listMemberConnections"):
        cursor = req.query.get("cursor")
        return ok(200, 422) if cursor is not None else ok(200)
    members = {m["user"]["id"]: m for m in s["members"]}
    owners = [uid for uid, m in members.items() if m["role"] == "owner"]
    if op_id in ("listMembers", "listInvitations", "listTenantOidcProviders"):
        return ok(200)
    if op_id == "addMember":
        if not _email_ok(body["email"]):
            return ok(422, why="invalid e-mail")
        email = _norm(body["email"])
        if email in {m["user"]["email"] for m in members.values()}:
            return ok(409, why="a member already")
        known = email in {u["email"] for u in _members(req.states).values()} if req.states else False
        return ok(201) if known else ok(422, why="no user has this e-mail")
    if op_id in ("updateMember", "removeMember"):
        current = members.get(p["user_id"])
        if current is None:
            return ok(404, why="not a member of this tenant")
        demotes = op_id == "removeMember" or body.get("role") != "owner"
        if current["role"] == "owner" and demotes and owners == [p["user_id"]]:
            return ok(409, why="the last owner")
        return ok(200 if op_id == "updateMember" else 204)
    if op_id == "createInvitation":
        if body.get("email") is not None and not _email_ok(body["email"]):
            return ok(422, why="invalid e-mail")
        if body.get("expires_in") is not None and body["expires_in"] > 7 * 86400:
            return ok(422, why="longer than SAGEMCP_INVITATION_TTL")
        return ok(201)
    if op_id == "revokeInvitation":
        pending = {i["id"] for i in s["invitations"] if i["accepted_at"] is None and not i["revoked"]}
        return ok(204) if p["invitation_id"] in pending else ok(404, why="no pending invitation of this tenant")
    if op_id == "createTenantOidcProvider":
        if not _issuer_ok(body["issuer"]):
            return ok(422, why="issuer refused")
        names = _oidc_names(req.states or {})
        return ok(409, why="names are unique on the platform") if body["name"] in names else ok(201, 409)
    if op_id in ("getTenantOidcProvider", "updateTenantOidcProvider", "deleteTenantOidcProvider"):
        if p["name"] not in {o["name"] for o in s["oidc"]}:
            return ok(404, why="not this tenant's provider")
        if op_id == "updateTenantOidcProvider" and body.get("issuer") is not None and not _issuer_ok(body["issuer"]):
            return ok(422, why="issuer refused")
        return ok(
            {"getTenantOidcProvider": 200, "updateTenantOidcProvider": 200, "deleteTenantOidcProvider": 204}[op_id]
        )
    if op_id == "authorizeOAuth":
        provider = p["provider"]
        if not _uses_provider(s, provider):
            return ok(422, why="no OAuth connector for the provider")
        configs = [
            r["item"] for r in s["connectors"] if (r["item"]["provider"] or r["item"]["connector_type"]) == provider
        ]
        ref = body.get("connector_id")
        if ref is not None:
            configs = [c for c in configs if ref in (c["id"], c["name"])][:1]
            if not configs:
                return ok(422, why="no such connector for the provider")
        kinds = {c["connector_type"] for c in configs} or {"probe"}
        if kinds == {"demo"}:
            return ok(422, why="the connector does not use OAuth")
        if "demo" in kinds:  # the server takes the first by name; name order depends on the database's collation
            return ok(200, 409, 422, why="probe and demo connectors share the provider")
        return ok(200) if s["oauth_apps"].get(provider) is not None else ok(409, why="no OAuth app")
    raise AssertionError(f"no oracle for {op_id}")
