"""A tenant's connectors: add one of an installed type, configure it, enable or disable it, its tool policy.

The configuration form is generated from the connector type's JSON Schema (`_schema_form`);
saving goes through the admin API's own `create_connector` / `update_connector`, so the
field-level errors are the API's (`configuration.<field>`). The tool policy page previews
the tools the policy leaves enabled, computed with the connector's own `tool_enabled`, the
check `tools/list` and `tools/call` apply, before anything is saved.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from sagemcp import Connector
from sagemcp.platform import ConnectorConfig, Tenant, ToolPolicy

from ..api import connectors as api
from ..api.errors import ApiError, validation_details
from ..api.schemas import ConnectorCreate, ConnectorUpdate
from ._schema_form import FormField, fields_of, values_from
from ._shell import (
    ConsoleUser,
    FieldErrors,
    api_context,
    details_to_errors,
    form,
    go,
    nav,
    page,
    route,
    services_of,
    tenant_page,
)

__all__ = ["policy_from_form", "preview", "routes"]

_MODES = (("shared", "Shared: the tenant's one credential"), ("per_user", "Per member: each member's own account"))
_TOOL_CHOICES = (("", "follow its group"), ("on", "always on"), ("off", "always off"))


def _base(tenant: Tenant) -> str:
    return f"/console/t/{tenant.slug}/connectors"


async def _connector(request: Request, user: ConsoleUser, tenant: Tenant) -> tuple[ConnectorConfig, type[Connector]]:
    """The connector of `{name}` in the path and its installed class (404 for neither)."""
    ctx = api_context(request, user, slug=tenant.slug, connector_id=str(request.path_params["name"])[:63])
    out = await api.get_connector(ctx)
    cfg = await services_of(request).store.get_connector(tenant.id, out.id)
    if cfg is None:
        raise ApiError(404, "connector_not_found", f"Tenant {tenant.slug!r} has no connector {out.name!r}.")
    registry = services_of(request).registry
    if cfg.connector_type not in registry:
        raise ApiError(
            409,
            "connector_type_not_installed",
            f"Connector type {cfg.connector_type!r} is not installed on this server; install it to configure it.",
        )
    return cfg, registry.get(cfg.connector_type)


def _failed(exc: ApiError) -> FieldErrors:
    errors = details_to_errors(exc.details)
    errors.setdefault("_form", exc.message)
    return errors


# -- list, enable/disable --------------------------------------------------------------------


async def list_page(request: Request, user: ConsoleUser) -> Response:
    tenant = (await tenant_page(request, user)).item
    listing = await api.list_connectors(api_context(request, user, slug=tenant.slug))
    return page(
        request,
        user,
        "console/connectors.html",
        title=f"Connectors of {tenant.slug}",
        tenant=tenant,
        connectors=listing.items,
    )


async def set_enabled(request: Request, user: ConsoleUser) -> Response:
    tenant = (await tenant_page(request, user)).item
    fields = await form(request)
    cfg, _ = await _connector(request, user, tenant)
    enabled = fields.get("enabled") == "true"
    ctx = api_context(request, user, slug=tenant.slug, connector_id=cfg.id)
    await api.update_connector(ctx, ConnectorUpdate(enabled=enabled))
    return go(_base(tenant), f"Connector {cfg.name} {'enabled' if enabled else 'disabled'}.")


# -- add ---------------------------------------------------------------------------------------


def _type_choices(request: Request) -> list[tuple[str, str]]:
    return [(cls.info.id, f"{cls.info.title} ({cls.info.id})") for cls in services_of(request).registry]


def _new_page(
    request: Request,
    user: ConsoleUser,
    tenant: Tenant,
    cls: type[Connector] | None,
    values: dict[str, str],
    errors: FieldErrors,
    status: int = 200,
) -> Response:
    config_fields = fields_of(cls.Config.model_json_schema()) if cls is not None else []
    if cls is not None:
        config_fields = [_with_value(f, values) for f in config_fields]
    return page(
        request,
        user,
        "console/connector_new.html",
        status=status,
        title="Add a connector",
        tenant=tenant,
        types=_type_choices(request),
        chosen=cls,
        config_fields=config_fields,
        modes=_MODES,
        values=values,
        errors=errors,
    )


def _with_value(field: FormField, values: dict[str, str]) -> FormField:
    """`field` showing what was submitted (secrets excepted), for a form shown again with its errors."""
    if field.secret or field.name not in values:
        return field
    return replace(field, value=values[field.name])


async def new_page(request: Request, user: ConsoleUser) -> Response:
    tenant = (await tenant_page(request, user)).item
    chosen = request.query_params.get("type", "")
    registry = services_of(request).registry
    if chosen and chosen not in registry:
        return _new_page(
            request, user, tenant, None, {"connector_type": chosen[:64]}, {"connector_type": "Not installed."}, 422
        )
    cls = registry.get(chosen) if chosen else None
    values = {"connector_type": chosen, "name": chosen, "connection_mode": "shared"} if cls else {}
    return _new_page(request, user, tenant, cls, values, {})


async def create(request: Request, user: ConsoleUser) -> Response:
    tenant = (await tenant_page(request, user)).item
    fields = await form(request)
    registry = services_of(request).registry
    chosen = fields.get("connector_type", "")
    cls = registry.get(chosen) if chosen in registry else None
    if cls is None:
        return _new_page(request, user, tenant, None, fields, {"connector_type": "Choose an installed type."}, 422)
    config_fields = fields_of(cls.Config.model_json_schema())
    configuration, errors = values_from(fields, config_fields)
    if errors:
        return _new_page(request, user, tenant, cls, fields, errors, 422)
    data: dict[str, Any] = {
        "connector_type": chosen,
        "name": fields.get("name", "").strip(),
        "description": fields.get("description", ""),
        "enabled": fields.get("enabled") == "on",
        "configuration": configuration,
        "connection_mode": fields.get("connection_mode", "shared"),
    }
    try:
        body = ConnectorCreate.model_validate(data)
    except ValidationError as exc:
        return _new_page(request, user, tenant, cls, fields, details_to_errors(validation_details(exc)), 422)
    try:
        out = await api.create_connector(api_context(request, user, slug=tenant.slug), body)
    except ApiError as exc:
        if exc.status in (403, 404):
            raise
        return _new_page(request, user, tenant, cls, fields, _failed(exc), exc.status)
    return go(f"{_base(tenant)}/{out.name}", f"Connector {out.name} added.")


# -- settings and configuration ------------------------------------------------------------------


def _settings_page(
    request: Request,
    user: ConsoleUser,
    tenant: Tenant,
    cfg: ConnectorConfig,
    cls: type[Connector],
    values: dict[str, str] | None = None,
    errors: FieldErrors | None = None,
    status: int = 200,
) -> Response:
    config_fields = fields_of(cls.Config.model_json_schema(), cfg.configuration)
    if values is not None:
        config_fields = [_with_value(f, values) for f in config_fields]
    shown = values or {
        "name": cfg.name,
        "description": cfg.description,
        "connection_mode": cfg.connection_mode,
        "enabled": "on" if cfg.enabled else "",
        "discovery": "on" if cfg.discovery else "",
        "pinned_tools": ", ".join(cfg.pinned_tools),
    }
    return page(
        request,
        user,
        "console/connector.html",
        status=status,
        title=f"Connector {cfg.name}",
        tenant=tenant,
        connector=cfg,
        cls=cls,
        config_fields=config_fields,
        modes=_MODES,
        values=shown,
        errors=errors or {},
        mcp_url=services_of(request).mcp_url(tenant.slug, cfg.id),
    )


async def settings_page(request: Request, user: ConsoleUser) -> Response:
    tenant = (await tenant_page(request, user)).item
    cfg, cls = await _connector(request, user, tenant)
    return _settings_page(request, user, tenant, cfg, cls)


async def save_settings(request: Request, user: ConsoleUser) -> Response:
    tenant = (await tenant_page(request, user)).item
    fields = await form(request)
    cfg, cls = await _connector(request, user, tenant)
    configuration, errors = values_from(fields, fields_of(cls.Config.model_json_schema()), cfg.configuration)
    if errors:
        return _settings_page(request, user, tenant, cfg, cls, fields, errors, 422)
    data: dict[str, Any] = {
        "name": fields.get("name", "").strip() or cfg.name,
        "description": fields.get("description", ""),
        "enabled": fields.get("enabled") == "on",
        "configuration": configuration,
        "connection_mode": fields.get("connection_mode", cfg.connection_mode),
        "discovery": fields.get("discovery") == "on",
    }
    pins = _pinned_from_form(fields)
    if pins != cfg.pinned_tools:
        # Only a changed list is checked against the policy: saving other settings keeps pins it disabled since.
        data["pinned_tools"] = pins
    try:
        body = ConnectorUpdate.model_validate(data)
        ctx = api_context(request, user, slug=tenant.slug, connector_id=cfg.id)
        out = await api.update_connector(ctx, body)
    except ValidationError as exc:
        errors = details_to_errors(
            [(_pins_field(name), message) for name, message in validation_details(exc)]  # one field for the list
        )
        return _settings_page(request, user, tenant, cfg, cls, fields, errors, 422)
    except ApiError as exc:
        if exc.status in (403, 404):
            raise
        return _settings_page(request, user, tenant, cfg, cls, fields, _failed(exc), exc.status)
    return go(f"{_base(tenant)}/{out.name}", f"Connector {out.name} saved.")


def _pinned_from_form(fields: dict[str, str]) -> list[str]:
    """The pinned tools typed in the settings form: names separated by commas or spaces."""
    return [name for name in fields.get("pinned_tools", "").replace(",", " ").split() if name]


def _pins_field(name: str | None) -> str | None:
    """`pinned_tools.3` (one pin's error) as the form's one `pinned_tools` field."""
    return "pinned_tools" if name is not None and name.startswith("pinned_tools.") else name


# -- tool policy ----------------------------------------------------------------------------------


def policy_from_form(cls: type[Connector], fields: dict[str, str]) -> ToolPolicy:
    """The tool policy the policy form describes: the groups ticked (or the type's defaults), each tool's
    override (`tool.<name>` = on / off) and read-only mode."""
    groups = None if fields.get("default_groups") == "on" else [g for g in cls.groups() if fields.get(f"group.{g}")]
    include = [name for name in cls.tools if fields.get(f"tool.{name}") == "on"]
    exclude = [name for name in cls.tools if fields.get(f"tool.{name}") == "off"]
    return ToolPolicy(groups=groups, include_tools=include, exclude_tools=exclude, read_only="read_only" in fields)


def preview(cls: type[Connector], policy: ToolPolicy) -> list[str]:
    """The names of the tools `policy` leaves enabled, as `tools/list` will serve them (connector endpoint)."""
    return [spec.name for spec in cls.enabled_tools(policy)]


def _policy_page(
    request: Request,
    user: ConsoleUser,
    tenant: Tenant,
    cfg: ConnectorConfig,
    cls: type[Connector],
    policy: ToolPolicy,
    *,
    previewing: bool = False,
    errors: FieldErrors | None = None,
    status: int = 200,
) -> Response:
    effective = policy.groups if policy.groups is not None else cls.info.default_groups
    groups = [(g, effective is None or g in effective) for g in cls.groups()]
    tools = [
        {
            "name": spec.name,
            "title": spec.title,
            "group": spec.group,
            "read_only": spec.read_only,
            "destructive": spec.annotations.destructive,
            "choice": "on" if spec.name in policy.include_tools else "off" if spec.name in policy.exclude_tools else "",
            "enabled": cls.tool_enabled(spec, policy),
        }
        for spec in cls.tools.values()
    ]
    template = "console/_policy_preview.html" if request.headers.get("hx-request") else "console/policy.html"
    return page(
        request,
        user,
        template,
        status=status,
        title=f"Tool policy of {cfg.name}",
        tenant=tenant,
        connector=cfg,
        policy=policy,
        default_groups=list(cls.info.default_groups) if cls.info.default_groups is not None else None,
        groups=groups,
        tools=tools,
        choices=_TOOL_CHOICES,
        enabled=preview(cls, policy),
        previewing=previewing,
        errors=errors or {},
    )


async def policy_page(request: Request, user: ConsoleUser) -> Response:
    tenant = (await tenant_page(request, user)).item
    cfg, cls = await _connector(request, user, tenant)
    return _policy_page(request, user, tenant, cfg, cls, cfg.tool_policy)


async def save_policy(request: Request, user: ConsoleUser) -> Response:
    tenant = (await tenant_page(request, user)).item
    fields = await form(request)
    cfg, cls = await _connector(request, user, tenant)
    policy = policy_from_form(cls, fields)
    if fields.get("action") != "save":
        return _policy_page(request, user, tenant, cfg, cls, policy, previewing=True)
    try:
        ctx = api_context(request, user, slug=tenant.slug, connector_id=cfg.id)
        await api.update_connector(ctx, ConnectorUpdate(tool_policy=policy))
    except ApiError as exc:
        if exc.status in (403, 404):
            raise
        return _policy_page(request, user, tenant, cfg, cls, policy, errors=_failed(exc), status=exc.status)
    count = len(preview(cls, policy))
    return go(f"{_base(tenant)}/{cfg.name}/policy", f"Tool policy saved: {count} tools enabled.")


# -- delete ----------------------------------------------------------------------------------------


async def delete_page(request: Request, user: ConsoleUser) -> Response:
    tenant = (await tenant_page(request, user)).item
    cfg, _ = await _connector(request, user, tenant)
    return page(
        request, user, "console/connector_delete.html", title=f"Delete {cfg.name}", tenant=tenant, connector=cfg
    )


async def delete(request: Request, user: ConsoleUser) -> Response:
    tenant = (await tenant_page(request, user)).item
    await form(request)
    ctx = api_context(request, user, slug=tenant.slug, connector_id=str(request.path_params["name"])[:63])
    out = await api.get_connector(ctx)
    await api.delete_connector(api_context(request, user, slug=tenant.slug, connector_id=out.id))
    return go(_base(tenant), f"Connector {out.name} deleted.")


nav("Connectors", "/console/t/{slug}/connectors", "tenant_admin", order=10)

_C = "/t/{slug}/connectors"
routes: list[BaseRoute] = [
    route(_C, list_page, ["GET"]),
    route("/t/{slug}/new-connector", new_page, ["GET"]),
    route("/t/{slug}/new-connector", create, ["POST"]),
    route(_C + "/{name}", settings_page, ["GET"]),
    route(_C + "/{name}", save_settings, ["POST"]),
    route(_C + "/{name}/enabled", set_enabled, ["POST"]),
    route(_C + "/{name}/policy", policy_page, ["GET"]),
    route(_C + "/{name}/policy", save_policy, ["POST"]),
    route(_C + "/{name}/delete", delete_page, ["GET"]),
    route(_C + "/{name}/delete", delete, ["POST"]),
]
