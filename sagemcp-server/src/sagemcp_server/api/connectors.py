"""`/admin/tenants/{slug}/connectors`: a tenant's connector instances, their configuration and tool policy."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from sagemcp import Connector, ToolSpec
from sagemcp.mcp import tenant_wide_prefixes
from sagemcp.platform import ConnectorConfig, Tenant, ToolPolicy

from ..db.store import Stamped
from . import params
from .auth import tenant_for
from .errors import ApiError, refuse_duplicate_pins, validation_details
from .routing import Context, Operation
from .schemas import (
    ConnectorCreate,
    ConnectorList,
    ConnectorOut,
    ConnectorToolsOut,
    ConnectorUpdate,
    ToolAnnotationsOut,
    ToolOut,
)

__all__ = ["OPERATIONS", "connector_class", "tool_out"]

logger = logging.getLogger("sagemcp_server.api")


def connector_class(ctx: Context, connector_type: str) -> type[Connector]:
    if connector_type not in ctx.services.registry:
        installed = ", ".join(ctx.services.registry.ids()) or "none"
        raise ApiError(
            422,
            "unknown_connector_type",
            f"Connector type {connector_type!r} is not installed on this server (installed: {installed}).",
            [("connector_type", "not installed")],
        )
    return ctx.services.registry.get(connector_type)


def tool_out(
    cls: type[Connector], spec: ToolSpec, policy: ToolPolicy | None, wide_prefix: str | None = None
) -> ToolOut:
    a = spec.annotations
    return ToolOut(
        name=spec.name,
        tenant_wide_name=f"{wide_prefix}{spec.name}" if wide_prefix is not None else None,
        title=spec.title,
        description=spec.description,
        group=spec.group,
        enabled=cls.tool_enabled(spec, policy) if policy is not None else True,
        annotations=ToolAnnotationsOut(
            read_only=a.read_only, destructive=a.destructive, idempotent=a.idempotent, open_world=a.open_world
        ),
        input_schema=spec.input_schema,
        output_schema=spec.output_schema,
        token=spec.token,
    )


def _check_configuration(cls: type[Connector], configuration: dict[str, Any]) -> dict[str, Any]:
    try:
        cls.parse_config(configuration)
    except ValidationError as exc:
        raise ApiError(
            422,
            "invalid_configuration",
            f"The configuration is not valid for the {cls.info.id} connector.",
            validation_details(exc, "configuration"),
        ) from None
    return configuration


def _check_policy(cls: type[Connector], policy: ToolPolicy) -> ToolPolicy:
    problems: list[tuple[str | None, str]] = []
    groups = set(cls.groups())
    for group in policy.groups or []:
        if group not in groups:
            problems.append(("tool_policy.groups", f"{cls.info.id} has no tool group {group!r}"))
    for field in ("include_tools", "exclude_tools"):
        for name in getattr(policy, field):
            if name not in cls.tools:
                problems.append((f"tool_policy.{field}", f"{cls.info.id} has no tool {name!r}"))
    if problems:
        known = ", ".join(sorted(groups)) or "none"
        raise ApiError(
            422,
            "invalid_tool_policy",
            f"The tool policy names unknown groups or tools (groups: {known}).",
            problems[:20],
        )
    return policy


def _check_mode(cls: type[Connector], mode: str) -> str:
    """`per_user` needs accounts a member can connect: a connector type that authorizes with OAuth."""
    if mode == "per_user" and cls.needs_credential() and cls.oauth2() is None:
        accepted = ", ".join(scheme.kind for scheme in cls.auth)
        raise ApiError(
            422,
            "invalid_connection_mode",
            f"connection_mode per_user needs a connector type whose members connect their own accounts with "
            f"OAuth; the {cls.info.id} connector accepts {accepted}. Use connection_mode shared.",
            [("connection_mode", "per_user needs an OAuth connector type")],
        )
    return mode


def _check_pins(cls: type[Connector], policy: ToolPolicy, pins: list[str]) -> list[str]:
    """Refuse pins naming no tool of the connector type, or a tool `policy` does not enable (a pin must be
    something the connector's endpoint can list), and pins given twice."""
    unknown = [p for p in pins if p not in cls.tools]
    if unknown:
        raise ApiError(
            422,
            "unknown_tool",
            f"The {cls.info.id} connector has no tool {unknown[0]!r} to pin. Pin tools by the names the "
            "connector's endpoint serves (GET /api/v1/admin/tenants/{slug}/connectors/{connector}/tools lists them).",
            [("pinned_tools", f"unknown tool {name!r}") for name in unknown],
        )
    disabled = [p for p in pins if not cls.tool_enabled(cls.tools[p], policy)]
    if disabled:
        raise ApiError(
            422,
            "tool_not_enabled",
            f"The tool policy does not enable {disabled[0]!r}, so it cannot be pinned: enable it in the tool "
            "policy (its group, include_tools, or read_only off for a write tool) or pin another tool.",
            [("pinned_tools", f"tool {name!r} is not enabled") for name in disabled],
        )
    refuse_duplicate_pins(pins)
    return pins


def _servable(ctx: Context, configs: list[ConnectorConfig]) -> list[tuple[ConnectorConfig, type[Connector]]]:
    """The connectors the tenant-wide endpoint serves: enabled, installed, with a valid configuration."""
    registry = ctx.services.registry
    served = []
    for cfg in configs:
        if not cfg.enabled or cfg.connector_type not in registry:
            continue
        cls = registry.get(cfg.connector_type)
        try:
            cls.parse_config(cfg.configuration)
        except ValidationError:
            continue
        served.append((cfg, cls))
    return served


async def _wide_prefixes(ctx: Context, tenant: Tenant) -> dict[str, str]:
    """Each served connector's tool-name prefix on the tenant-wide endpoint (see `tenant_wide_prefixes`)."""
    return tenant_wide_prefixes(_servable(ctx, await ctx.services.store.list_connectors(tenant.id)))


def connector_out(
    ctx: Context, tenant: Tenant, record: Stamped[ConnectorConfig], prefixes: dict[str, str] | None = None
) -> ConnectorOut:
    cfg = record.item
    installed = cfg.connector_type in ctx.services.registry
    provider = cfg.provider or (
        ctx.services.registry.get(cfg.connector_type).provider_id() if installed else cfg.connector_type
    )
    return ConnectorOut(
        id=cfg.id,
        connector_type=cfg.connector_type,
        name=cfg.name,
        description=cfg.description,
        enabled=cfg.enabled,
        configuration=cfg.configuration,
        tool_policy=cfg.tool_policy,
        provider=provider,
        connection_mode=cfg.connection_mode,
        discovery=cfg.discovery,
        pinned_tools=list(cfg.pinned_tools),
        installed=installed,
        mcp_url=ctx.services.mcp_url(tenant.slug, cfg.id),
        tenant_wide_prefix=prefixes.get(cfg.id) if prefixes is not None else None,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


async def _connector(ctx: Context, tenant: Tenant) -> Stamped[ConnectorConfig]:
    key = ctx.path["connector_id"]
    record = await ctx.services.store.get_connector_record(tenant.id, key)
    if record is None:
        raise ApiError(404, "connector_not_found", f"Tenant {tenant.slug!r} has no connector {key!r}.")
    return record


async def _check_room(ctx: Context, tenant: Tenant) -> None:
    """Refuse one connector more than `max_connectors_per_tenant` (409 `connector_limit_reached`)."""
    limit = ctx.services.settings.max_connectors_per_tenant
    if limit is None:
        return
    held = len(await ctx.services.store.list_connector_records(tenant.id))
    if held >= limit:
        raise ApiError(
            409,
            "connector_limit_reached",
            f"Tenant {tenant.slug!r} has {held} connectors, the most this server allows per tenant "
            f"(SAGEMCP_MAX_CONNECTORS_PER_TENANT={limit}). Delete connectors it no longer uses, "
            "or ask the operator to raise the limit.",
        )


async def create_connector(ctx: Context, body: ConnectorCreate) -> ConnectorOut:
    tenant = (await tenant_for(ctx)).item
    cls = connector_class(ctx, body.connector_type)
    await _check_room(ctx, tenant)
    cfg = ConnectorConfig(
        tenant_id=tenant.id,
        connector_type=body.connector_type,
        name=body.name,
        description=body.description,
        enabled=body.enabled,
        configuration=_check_configuration(cls, body.configuration),
        tool_policy=_check_policy(cls, body.tool_policy),
        provider=body.provider,
        connection_mode=_check_mode(cls, body.connection_mode),
        discovery=body.discovery,
        pinned_tools=_check_pins(cls, body.tool_policy, body.pinned_tools),
    )
    record = await ctx.services.store.add_connector(cfg)
    ctx.services.tenant_changed(tenant.slug)
    logger.info("connector added", extra={"tenant": tenant.slug, "connector_type": cfg.connector_type})
    return connector_out(ctx, tenant, record)


async def list_connectors(ctx: Context) -> ConnectorList:
    tenant = (await tenant_for(ctx)).item
    records = await ctx.services.store.list_connector_records(tenant.id)
    prefixes = tenant_wide_prefixes(_servable(ctx, [r.item for r in records]))
    return ConnectorList(items=[connector_out(ctx, tenant, r, prefixes) for r in records])


async def get_connector(ctx: Context) -> ConnectorOut:
    tenant = (await tenant_for(ctx)).item
    return connector_out(ctx, tenant, await _connector(ctx, tenant))


async def update_connector(ctx: Context, body: ConnectorUpdate) -> ConnectorOut:
    tenant = (await tenant_for(ctx)).item
    current = (await _connector(ctx, tenant)).item
    cls = connector_class(ctx, current.connector_type)
    changes: dict[str, Any] = {}
    for field in body.model_fields_set:
        value = getattr(body, field)
        if value is None and field not in ("provider",):
            continue  # null means "leave as is" for fields that cannot be empty
        changes[field] = value
    if "configuration" in changes:
        _check_configuration(cls, changes["configuration"])
    if "tool_policy" in changes:
        _check_policy(cls, changes["tool_policy"])
    if "connection_mode" in changes:
        _check_mode(cls, changes["connection_mode"])
    if "pinned_tools" in changes:
        _check_pins(cls, changes.get("tool_policy", current.tool_policy), changes["pinned_tools"])
    updated = current.model_copy(update=changes)
    record = await ctx.services.store.replace_connector(updated)
    if record is None:
        raise ApiError(404, "connector_not_found", f"Connector {current.name!r} was deleted meanwhile.")
    ctx.services.tenant_changed(tenant.slug)
    return connector_out(ctx, tenant, record)


async def delete_connector(ctx: Context) -> None:
    tenant = (await tenant_for(ctx)).item
    current = (await _connector(ctx, tenant)).item
    await ctx.services.store.delete_connector(tenant.id, current.id)
    ctx.services.tenant_changed(tenant.slug)
    ctx.services.keys_changed()  # keys limited to this connector went with it


async def list_tools(ctx: Context) -> ConnectorToolsOut:
    tenant = (await tenant_for(ctx)).item
    cfg = (await _connector(ctx, tenant)).item
    if cfg.connector_type not in ctx.services.registry:
        raise ApiError(
            409,
            "connector_type_not_installed",
            f"Connector type {cfg.connector_type!r} is not installed on this server; install it to see its tools.",
        )
    cls = ctx.services.registry.get(cfg.connector_type)
    prefix = (await _wide_prefixes(ctx, tenant)).get(cfg.id)
    return ConnectorToolsOut(
        connector_id=cfg.id,
        connector_type=cfg.connector_type,
        tenant_wide_prefix=prefix,
        items=[tool_out(cls, spec, cfg.tool_policy, prefix) for spec in cls.tools.values()],
    )


_P = {"slug": params.SLUG}
_PC = {"slug": params.SLUG, "connector_id": params.CONNECTOR}
_BASE = "/admin/tenants/{slug}/connectors"

OPERATIONS = [
    Operation(
        "POST",
        _BASE,
        "createConnector",
        "Add a connector to a tenant",
        "connectors",
        create_connector,
        ConnectorOut,
        201,
        body=ConnectorCreate,
        params=_P,
    ),
    Operation(
        "GET",
        _BASE,
        "listConnectors",
        "List a tenant's connectors",
        "connectors",
        list_connectors,
        ConnectorList,
        params=_P,
    ),
    Operation(
        "GET",
        _BASE + "/{connector_id}",
        "getConnector",
        "Read a connector (by id or name)",
        "connectors",
        get_connector,
        ConnectorOut,
        params=_PC,
    ),
    Operation(
        "PATCH",
        _BASE + "/{connector_id}",
        "updateConnector",
        "Change a connector's name, description, configuration, tool policy, connection mode, discovery mode "
        "or enabled state",
        "connectors",
        update_connector,
        ConnectorOut,
        body=ConnectorUpdate,
        params=_PC,
    ),
    Operation(
        "DELETE",
        _BASE + "/{connector_id}",
        "deleteConnector",
        "Remove a connector",
        "connectors",
        delete_connector,
        None,
        204,
        params=_PC,
    ),
    Operation(
        "GET",
        _BASE + "/{connector_id}/tools",
        "listConnectorTools",
        "Every tool of the connector, with its enabled state and annotations",
        "connectors",
        list_tools,
        ConnectorToolsOut,
        params=_PC,
    ),
]
