"""Resolving a request path to a tenant and its connectors, cached so the steady state asks the store nothing."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import mcp_types as types
from pydantic import BaseModel, ValidationError

from .._cache import TTLCache
from .._connector import Connector
from .._credentials import CredentialManager
from .._execution import ResolvedConnector
from .._models import ConnectorConfig, Credential, Principal, Tenant, linked_provider
from .._registry import ConnectorRegistry
from .._store import ChangeTracking, TenantStore
from ..errors import (
    AccessDenied,
    ConnectionRequired,
    ConnectorDisabled,
    ConnectorNotFound,
    NotConnected,
    ReconnectRequired,
    TenantNotFound,
)
from ._convert import prompt_to_mcp, resource_to_mcp, template_to_mcp, tool_to_mcp

logger = logging.getLogger(__name__)

MEMBER_CREDENTIALS_PER_VIEW = 1_024
"""Members' own credentials a tenant view keeps for `per_user` connectors; the least recently used go first."""

ConnectUrl = Callable[[Tenant, ConnectorConfig, Principal], str]


@dataclass(eq=False)
class Target(ResolvedConnector):
    """One enabled connector of a tenant as served over MCP: served names and the SDK's shapes of its tools."""

    wide_prefix: str = ""
    """Prepended to tool and prompt names on the tenant-wide endpoint when a connector type appears twice."""
    _mcp_tools: dict[bool, list[types.Tool]] = field(default_factory=dict, repr=False)

    def prefix(self, wide: bool) -> str:
        return self.wide_prefix if wide else ""

    def served_name(self, name: str, wide: bool) -> str:
        return f"{self.prefix(wide)}{name}"

    def mcp_tools(self, wide: bool) -> list[types.Tool]:
        tools = self._mcp_tools.get(wide)
        if tools is None:
            tools = self._mcp_tools[wide] = [
                tool_to_mcp(s, self.served_name(s.name, wide)) for s in self.tools.values()
            ]
        return tools

    def mcp_resources(self) -> list[types.Resource]:
        return [resource_to_mcp(r) for r in self.cls.resources if not r.is_template]

    def mcp_templates(self) -> list[types.ResourceTemplate]:
        return [template_to_mcp(r) for r in self.cls.resources if r.is_template]

    def mcp_prompts(self, wide: bool) -> list[types.Prompt]:
        return [prompt_to_mcp(p, self.served_name(p.name, wide)) for p in self.cls.prompts.values()]


@dataclass
class TenantView:
    """A tenant and its servable connectors, as cached. Connector ids win over names.

    It is the `CredentialSource` of the tenant's calls: credentials come from its cache,
    loaded and refreshed through the resolver.
    """

    tenant: Tenant
    targets: list[Target]
    by_id: dict[str, Target]
    by_name: dict[str, Target]
    unavailable_ids: dict[str, str]
    """Connector id -> why it cannot be served (disabled, type not installed, bad configuration)."""
    unavailable_names: dict[str, str]
    resolver: Resolver = field(repr=False)
    """Loads and refreshes the credentials of the tenant's calls."""
    credentials: TTLCache[str, Credential] = field(default_factory=lambda: TTLCache(math.inf, 64), repr=False)
    """The tenant's shared credentials loaded for calls, by provider key: they live and go with the view."""
    member_credentials: TTLCache[tuple[str, str], Credential] = field(
        default_factory=lambda: TTLCache(math.inf, MEMBER_CREDENTIALS_PER_VIEW), repr=False
    )
    """Members' own credentials (`per_user` connectors) loaded for calls, by (provider key, user id)."""
    listings: dict[Hashable, Any] = field(default_factory=dict, repr=False)
    """The `tools/list` catalogues served from this view (`sagemcp.mcp._catalogue`), by the callers' kind:
    built once, gone with the view when the tenant's generation changes."""

    async def credential(self, target: ResolvedConnector, token: str | None, principal: Principal) -> Credential | None:
        """The credential of a call to `target` by `principal`; see `Resolver.credential`."""
        return await self.resolver.credential(self, target, token, principal)

    def rejected(self, target: ResolvedConnector, credential: Credential) -> None:
        """Forget a credential the upstream refused (a linked one, for tools that prefer it; a member's own)."""
        self.resolver.invalidate_credential(self.tenant.id, credential.provider, credential.user_id)

    def target(self, key: str) -> Target:
        found = self.by_id.get(key)
        if found is not None:
            return found
        reason = self.unavailable_ids.get(key)
        if reason is None:
            found = self.by_name.get(key)
            if found is not None:
                return found
            reason = self.unavailable_names.get(key)
        if reason == "disabled":
            raise ConnectorDisabled(f"connector {key!r} is disabled for tenant {self.tenant.slug!r}")
        if reason is not None:
            raise ConnectorNotFound(f"connector {key!r} of tenant {self.tenant.slug!r} cannot be served: {reason}")
        raise ConnectorNotFound(f"tenant {self.tenant.slug!r} has no connector {key!r}")


@dataclass
class CallScope:
    """What the HTTP layer resolved for one MCP request; handlers read it from the ASGI scope."""

    view: TenantView
    targets: list[Target]
    principal: Principal
    request_id: str
    tenant_wide: bool

    @property
    def tenant(self) -> Tenant:
        return self.view.tenant


class Resolver:
    """Tenant views (with the credentials their calls use) cached for `ttl` seconds, so replicas see
    changes within `ttl`.

    With a store that tracks changes (`ChangeTracking`), an expired view is revalidated
    with one generation lookup and kept, credentials included, when nothing changed.
    """

    def __init__(
        self,
        store: TenantStore,
        registry: ConnectorRegistry,
        credentials: CredentialManager,
        *,
        ttl: float = 5.0,
        max_tenants: int = 20_000,
        connect_url: ConnectUrl | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.credentials = credentials
        self.connect_url = connect_url
        """Builds the page where a member connects a `per_user` connector (`McpSettings.connect_url`)."""
        self._views: TTLCache[str, TenantView] = TTLCache(ttl, max_tenants)
        self._slugs: dict[str, str] = {}
        self._tracking = store if isinstance(store, ChangeTracking) else None
        self._listeners: list[Callable[[], None]] = []
        self._built: list[Callable[[TenantView], None]] = []

    def invalidate(self, slug: str | None = None) -> None:
        """Forget a tenant's view (all with None), so this process serves its new state at once."""
        self._views.invalidate(slug)
        for listener in self._listeners:
            listener()

    def on_view_built(self, listener: Callable[[TenantView], None]) -> None:
        """Call `listener` (which must not block or raise) with every tenant view built from the store."""
        self._built.append(listener)

    def on_invalidate(self, listener: Callable[[], None]) -> None:
        """Call `listener` (which must not block) after every `invalidate()`."""
        self._listeners.append(listener)

    def invalidate_credential(self, tenant_id: str, provider: str, user_id: str | None = None) -> None:
        """Forget the tenant's shared credential (`user_id` None) or that member's own; for a main credential
        also the linked keys that may have fallen back to it. Other members' credentials are kept."""
        slug = self._slugs.get(tenant_id)
        view = self._views.peek(slug) if slug is not None else None
        if view is None or view.tenant.id != tenant_id:
            return
        if user_id is not None:
            members = view.member_credentials
            for held, holder in members.held_keys():
                if holder == user_id and (
                    held == provider or (":" not in provider and held.startswith(f"{provider}:"))
                ):
                    members.invalidate((held, holder))
            return
        view.credentials.invalidate(provider)
        if ":" not in provider:
            for key in [k for k in view.credentials.held_keys() if k.startswith(f"{provider}:")]:
                view.credentials.invalidate(key)

    async def view(self, slug: str) -> TenantView:
        """The tenant's view, inactive or not: callers check access first, then `tenant.active`."""
        revalidate = self._unchanged if self._tracking is not None else None
        view = await self._views.get_or_load(slug, lambda: self._load(slug), revalidate)
        assert view is not None  # _load raises instead of returning None
        return view

    async def _unchanged(self, view: TenantView) -> bool:
        assert self._tracking is not None
        return await self._tracking.tenant_generation(view.tenant.id) == view.tenant.generation

    async def credential(
        self, view: TenantView, target: ResolvedConnector, token: str | None = None, principal: Principal | None = None
    ) -> Credential | None:
        """The credential a call uses: the linked one named `token` when the tenant has it, else the main one.

        A `per_user` connector uses the calling member's own (`principal.user_id`), never the
        shared one or another member's; a caller acting for no member is refused (`AccessDenied`),
        and a member without a usable connection gets `ConnectionRequired` with the link to connect.
        Every outcome is cached in the view under its key, so the steady state asks the store nothing.
        """
        cls = target.cls
        if not cls.needs_credential():
            return None
        if target.config.connection_mode == "per_user":
            return await self._member_credential(view, target, token, principal)
        tenant_id = view.tenant.id
        main = target.config.provider or cls.provider_id()
        if token is None:
            key = main
            cached = await view.credentials.get_or_load(key, lambda: self.credentials.get(tenant_id, main, cls))
        else:
            key = linked_provider(main, token)
            cached = await view.credentials.get_or_load(key, lambda: self._linked_or_main(tenant_id, key, main, cls))
        if cached is not None and cached.expires_within(self.credentials.refresh_margin):
            # Due for refresh: the manager refreshes once, whoever asks.
            cached = await self.credentials.get(tenant_id, cached.provider, cls)
            if cached is not None:
                view.credentials.set(key, cached)
        return cached

    async def _linked_or_main(
        self, tenant_id: str, linked: str, main: str, cls: type[Connector], user_id: str | None = None
    ) -> Credential | None:
        try:
            return await self.credentials.get(tenant_id, linked, cls, user_id)
        except NotConnected:
            return await self.credentials.get(tenant_id, main, cls, user_id)

    async def _member_credential(
        self, view: TenantView, target: ResolvedConnector, token: str | None, principal: Principal | None
    ) -> Credential | None:
        """The calling member's own credential for a `per_user` connector (see `credential`)."""
        cls = target.cls
        user_id = principal.user_id if principal is not None else None
        if principal is None or user_id is None:
            raise AccessDenied(
                f"connector {target.config.name!r} uses each member's own {cls.info.title} account, and this "
                "caller acts for no member: call it with a member's OAuth token, not a tenant API key"
            )
        tenant_id = view.tenant.id
        main = target.config.provider or cls.provider_id()
        key = main if token is None else linked_provider(main, token)
        cache = view.member_credentials
        try:
            if token is None:
                cached = await cache.get_or_load(
                    (key, user_id), lambda: self.credentials.get(tenant_id, main, cls, user_id)
                )
            else:
                cached = await cache.get_or_load(
                    (key, user_id), lambda: self._linked_or_main(tenant_id, key, main, cls, user_id)
                )
            if cached is not None and cached.expires_within(self.credentials.refresh_margin):
                cached = await self.credentials.get(tenant_id, cached.provider, cls, user_id)
                if cached is not None:
                    cache.set((key, user_id), cached)
        except (NotConnected, ReconnectRequired) as exc:
            raise self._connection_required(view.tenant, target, principal, exc) from exc
        return cached

    def _connection_required(
        self, tenant: Tenant, target: ResolvedConnector, principal: Principal, exc: NotConnected | ReconnectRequired
    ) -> ConnectionRequired:
        """What a member without a usable connection is told: connect (or reconnect) their own account, where."""
        title = target.cls.info.title
        provider = target.config.provider or target.cls.provider_id()
        url: str | None = None
        if self.connect_url is not None:
            try:
                url = self.connect_url(tenant, target.config, principal)
            except Exception:
                logger.exception("building the connect link of connector %s failed", target.config.id)
        if isinstance(exc, ReconnectRequired):
            message = exc.message[0].upper() + exc.message[1:]
            if url is not None:
                message += f". Reconnect it at {url}, then call the tool again."
            else:
                message += ", then call the tool again."
        elif url is not None:
            message = (
                f"You have not connected your {title} account for connector {target.config.name!r} yet. "
                f"Connect it at {url}, then call the tool again."
            )
        else:
            message = (
                f"You have not connected your {title} account for connector {target.config.name!r} yet. Ask "
                "an administrator how to connect it, then call the tool again."
            )
        return ConnectionRequired(message, url, provider=provider)

    async def _load(self, slug: str) -> TenantView:
        tenant = await self.store.get_tenant(slug)
        if tenant is None:
            raise TenantNotFound(f"tenant {slug!r} not found")
        if len(self._slugs) >= self._views.maxsize and tenant.id not in self._slugs:
            self._slugs.clear()  # ids of views long evicted; rebuilt as tenants are loaded again
        self._slugs[tenant.id] = slug
        # By name (then id), whatever order the store keeps: tools/list is the same on every replica and call.
        configs = sorted(await self.store.list_connectors(tenant.id), key=lambda c: (c.name, c.id))
        targets: list[Target] = []
        unavailable: dict[str, tuple[ConnectorConfig, str]] = {}
        for cfg in configs:
            settings, reason = self._settings(cfg)
            if settings is None:
                unavailable[cfg.id] = (cfg, reason)
                continue
            cls = self.registry.get(cfg.connector_type)
            tools = {s.name: s for s in cls.enabled_tools(cfg.tool_policy)}
            targets.append(Target(cfg, cls, self.registry.instance(cfg.connector_type), settings, tools))
        prefixes = tenant_wide_prefixes([(t.config, t.cls) for t in targets])
        for t in targets:
            t.wide_prefix = prefixes[t.config.id]
        view = TenantView(
            tenant=tenant,
            targets=targets,
            by_id={t.config.id: t for t in targets},
            by_name={t.config.name: t for t in targets},
            unavailable_ids={cid: reason for cid, (_, reason) in unavailable.items()},
            unavailable_names={cfg.name: reason for cfg, reason in unavailable.values()},
            resolver=self,
        )
        for listener in self._built:
            listener(view)
        return view

    def _settings(self, cfg: ConnectorConfig) -> tuple[BaseModel | None, str]:
        """The connector's parsed configuration, or None and why it cannot be served."""
        if not cfg.enabled:
            return None, "disabled"
        if cfg.connector_type not in self.registry:
            return None, f"connector type {cfg.connector_type!r} is not installed on this server"
        try:
            return self.registry.get(cfg.connector_type).parse_config(cfg.configuration), ""
        except ValidationError as exc:
            logger.warning("connector %s has an invalid configuration: %s", cfg.id, exc.error_count())
            return None, "its configuration is invalid; fix it in the admin API"


def tenant_wide_prefixes(served: list[tuple[ConnectorConfig, type[Connector]]]) -> dict[str, str]:
    """The prefix of each served connector's tool and prompt names on the tenant-wide endpoint, by connector id.

    Names are prefixed only where a connector type is served twice or more (two GitHub connectors: `work__`
    and `oss__` from their names); otherwise the prefix is empty and names are the connector's own.
    """
    counts: dict[str, int] = {}
    for _, cls in served:
        counts[cls.info.id] = counts.get(cls.info.id, 0) + 1
    return {cfg.id: f"{cfg.name.replace('-', '_')}__" if counts[cls.info.id] > 1 else "" for cfg, cls in served}


def scope_of(request: Any) -> CallScope | None:
    """The `CallScope` the HTTP layer attached to this request, if any."""
    scope = getattr(request, "scope", None)
    if not isinstance(scope, dict):
        return None
    found = scope.get("sagemcp.call")
    return found if isinstance(found, CallScope) else None
