"""Random multi-tenant worlds for the isolation properties, and the oracle that says what each request
must get. The oracle follows docs/architecture.md's failure table; `admit()` mirrors its order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from sagemcp import Credential
from sagemcp.platform import ConnectorConfig, MemoryStore, Tenant

from ._support import fingerprint, new_secret

PROBE_TOOLS = ("whoami", "fetch", "echo", "create", "update", "replace", "delete", "ask", "crash")
NAMES = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,12}[a-z0-9])?", fullmatch=True) | st.sampled_from(
    ["mcp", "connectors", "sse", "ws", "messages", "api", "a", "0"]
)


@dataclass
class ConnectorSpec:
    name: str
    enabled: bool
    valid: bool
    provider: str
    id: str = ""
    name_is_id_of: int | None = None
    """Index (in the world's connector list) of a connector whose id this connector takes as its name."""


@dataclass
class KeySpec:
    raw: str = ""
    record_id: str = ""
    tenant: int | None = None
    """Index of the tenant, None for the platform admin key."""
    connector: int | None = None
    """Index within the tenant's connectors for a key limited to one connector."""
    revoked: bool = False
    scopes: frozenset[str] = frozenset({"mcp"})
    stored: bool = True


@dataclass
class TenantSpec:
    slug: str
    active: bool
    connectors: list[ConnectorSpec]
    tokens: dict[str, str | None] = field(default_factory=dict)
    """provider -> access token (None: the provider is not connected)."""
    id: str = ""


@dataclass
class World:
    tenants: list[TenantSpec]
    keys: list[KeySpec]
    upstream: str = ""

    def tenant_by_slug(self, slug: str) -> TenantSpec | None:
        return next((t for t in self.tenants if t.slug == slug), None)

    def all_ids(self) -> set[str]:
        ids = {t.id for t in self.tenants}
        ids |= {c.id for t in self.tenants for c in t.connectors}
        return ids

    def all_fingerprints(self) -> set[str]:
        return {fingerprint(tok) for t in self.tenants for tok in t.tokens.values() if tok} - {None}  # type: ignore[operator]


@st.composite
def worlds(draw: st.DrawFn, shadow_ids: bool = False) -> World:
    """2-4 tenants with 1-3 connectors each, keys of every kind, most providers connected.

    `shadow_ids` lets a connector take another connector's id as its name; core resolves such a path to
    the wrong connector today (`test_regression_a_connector_name_shadows_another_connectors_id`)."""
    n = draw(st.integers(min_value=2, max_value=4))
    slugs = draw(st.lists(NAMES, min_size=n, max_size=n, unique=True))
    tenants: list[TenantSpec] = []
    for slug in slugs:
        names = draw(st.lists(NAMES, min_size=1, max_size=3, unique=True))
        connectors = []
        for i, name in enumerate(names):
            connectors.append(
                ConnectorSpec(
                    name=name,
                    enabled=draw(st.sampled_from([True, True, True, True, True, False])),
                    valid=draw(st.sampled_from([True, True, True, True, False])),
                    provider=draw(st.sampled_from(["probe", f"probe{i}"])),
                )
            )
        tenants.append(
            TenantSpec(
                slug=slug, active=draw(st.sampled_from([True, True, True, True, True, False])), connectors=connectors
            )
        )
    # Now and then a connector is named with another connector's id (ids are valid names): the id must win.
    for t in tenants:
        if shadow_ids and len(t.connectors) > 1 and draw(st.integers(0, 5)) == 0:
            a, b = draw(st.permutations(range(len(t.connectors))))[:2]
            t.connectors[a].name_is_id_of = b
    keys: list[KeySpec] = [KeySpec(tenant=None, scopes=frozenset({"mcp", "admin"}))]
    for i, t in enumerate(tenants):
        keys.append(KeySpec(tenant=i))
        if draw(st.booleans()):
            keys.append(KeySpec(tenant=i, connector=draw(st.integers(0, len(t.connectors) - 1))))
        if draw(st.integers(0, 3)) == 0:
            keys.append(KeySpec(tenant=i, revoked=True))
        if draw(st.integers(0, 3)) == 0:
            keys.append(KeySpec(tenant=i, scopes=frozenset({"admin"})))
    keys.append(KeySpec(tenant=0, stored=False))  # well-formed, never issued
    for t in tenants:
        for provider in sorted({c.provider for c in t.connectors}):
            t.tokens[provider] = None if draw(st.integers(0, 5)) == 0 else "pending"
    return World(tenants, keys)


def build(world: World, store: MemoryStore, upstream: str) -> None:
    """Create the world in `store` with fresh secrets and ids."""
    world.upstream = upstream
    for t in world.tenants:
        t.id = store.add_tenant(Tenant(slug=t.slug, active=t.active)).id
        for c in t.connectors:
            c.id = ConnectorConfig(tenant_id=t.id, connector_type="probe", name="x").id
        for c in t.connectors:
            if c.name_is_id_of is not None:
                c.name = t.connectors[c.name_is_id_of].id
        for c in t.connectors:
            configuration: dict[str, Any] = {"upstream": upstream} if c.valid else {"upstream": upstream, "bogus": 1}
            store.add_connector(
                ConnectorConfig(
                    id=c.id,
                    tenant_id=t.id,
                    connector_type="probe",
                    name=c.name,
                    enabled=c.enabled,
                    configuration=configuration,
                    provider=c.provider,
                )
            )
        for provider, token in list(t.tokens.items()):
            if token is None:
                continue
            token = new_secret("at")
            t.tokens[provider] = token
            store.put_credential(Credential(tenant_id=t.id, provider=provider, kind="bearer", access_token=token))
    for k in world.keys:
        if not k.stored:
            from sagemcp.platform import generate_api_key

            from ._support import LEDGER

            k.raw = LEDGER.secret(generate_api_key()[0])
            continue
        tenant = world.tenants[k.tenant] if k.tenant is not None else None
        connector_id = tenant.connectors[k.connector].id if tenant is not None and k.connector is not None else None
        raw, record = store.create_api_key(
            tenant.id if tenant else None,
            scopes=k.scopes,
            connector_id=connector_id,
            platform_admin=tenant is None,
        )
        from ._support import LEDGER

        k.raw, k.record_id = LEDGER.secret(raw), record.id
        if k.revoked:
            store.revoke_api_key(record.id)


# -- the oracle --------------------------------------------------------------------------------------


@dataclass
class Admitted:
    tenant: TenantSpec
    targets: list[ConnectorSpec]
    key: KeySpec
    binding: str
    prefixes: dict[str, str]
    """connector id -> tool-name prefix on this path."""


@dataclass
class Refused:
    status: int
    reason: str
    soft: bool = False
    """The documented answer is `status`, but core answers another refusal today (see `defect`)."""
    defect: str = ""


def servable(t: TenantSpec) -> list[ConnectorSpec]:
    return [c for c in t.connectors if c.enabled and c.valid]


def lookup(t: TenantSpec, key: str) -> ConnectorSpec | None:
    """A connector by id (wins) or by name, enabled or not."""
    by_id = next((c for c in t.connectors if c.id == key), None)
    return by_id or next((c for c in t.connectors if c.name == key), None)


def admit(world: World, slug: str, connector_key: str | None, key: KeySpec | None) -> Admitted | Refused:
    if key is None or not key.stored or key.revoked:
        return Refused(401, "no valid key")
    tenant = world.tenant_by_slug(slug)
    if tenant is None:
        return Refused(404, "unknown tenant")
    own = key.tenant is None or world.tenants[key.tenant] is tenant
    if key.tenant is not None and own and "mcp" not in key.scopes:
        return Refused(403, "key of the tenant without the mcp scope (insufficient_scope)")
    may = key.tenant is None or own
    if not tenant.active:
        if may:
            return Refused(403, "tenant inactive")
        return Refused(404, "inactive tenant of another tenant's key", soft=True, defect="inactive-tenant-probe")
    if not may:
        return Refused(404, "key of another tenant")
    limited = (
        world.tenants[key.tenant].connectors[key.connector].id
        if key.connector is not None and key.tenant is not None
        else None
    )
    all_servable = servable(tenant)
    counts = len(all_servable)
    prefixes = {c.id: (f"{c.name.replace('-', '_')}__" if counts > 1 else "") for c in all_servable}
    if connector_key is not None:
        target = lookup(tenant, connector_key)
        if target is None:
            return Refused(404, "unknown connector")
        if not target.enabled:
            return Refused(403, "connector disabled")
        if not target.valid:
            return Refused(404, "connector cannot be served")
        if limited is not None and target.id != limited:
            return Refused(403, "key limited to another connector")
        targets = [target]
        prefixes = {target.id: ""}
    else:
        targets = [c for c in all_servable if limited is None or c.id == limited]
    principal = key.record_id
    return Admitted(tenant, targets, key, f"{tenant.id}/{connector_key or '*'}/{principal}", prefixes)


def expected_tools(a: Admitted) -> set[str]:
    return {f"{a.prefixes[c.id]}probe_{name}" for c in a.targets for name in PROBE_TOOLS}


def identity_of(a: Admitted, c: ConnectorSpec) -> dict[str, Any]:
    return {
        "tenant_id": a.tenant.id,
        "tenant": a.tenant.slug,
        "connector_id": c.id,
        "connector": c.name,
        "principal": a.key.record_id,
        "credential_fp": fingerprint(a.tenant.tokens.get(c.provider)),
    }


def foreign_markers(world: World, a: Admitted | None) -> set[str]:
    """Ids and fingerprints that must not appear in an answer to a request admitted as `a` (or refused)."""
    markers = world.all_ids() | world.all_fingerprints()
    if a is None:
        return markers
    allowed = {a.tenant.id} | {c.id for c in a.targets} | {c.name for c in a.targets}
    allowed |= {fingerprint(a.tenant.tokens.get(c.provider)) for c in a.targets} - {None}  # type: ignore[operator]
    return markers - allowed
