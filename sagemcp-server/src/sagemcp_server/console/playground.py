"""The tool playground: a connector's tools with their annotations and groups, and a form to call one.

Calls go through `McpApp.call_tool`, the pipeline of an MCP `tools/call`: the tool policy at
call time (a tool the policy disables, or a write tool in read-only mode, is refused), the
argument validation, the member's own credentials for `per_user` connectors, and the audit
trail with the member's user id. Any member of the tenant may use it, as they may call the
tenant's endpoints with their own OAuth token. A tool that is not read-only asks for
confirmation first: the arguments travel in one hidden field to the confirming form.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from sagemcp import Connector, InputRequired, MissingClientCapability
from sagemcp.errors import ConnectionRequired, LookupFailed, SageMCPError
from sagemcp.platform import ConnectorConfig, Principal, Tenant

from ..web.pages import read_form
from ..web.session import check_csrf, current_user
from ._shell import ConsoleUser, nav, not_found, page, route, services_of, tenant_page
from ._tool_form import ToolField, arguments_from, tool_fields, values_of

__all__ = ["member_principal", "routes"]

logger = logging.getLogger("sagemcp_server.console")

_MAX_FIELDS = 80
_MAX_ARGUMENTS_JSON = 12 * 1024


def member_principal(user: ConsoleUser, tenant: Tenant) -> Principal:
    """Who a playground call runs as: this person, in this tenant, for MCP (audited with their user id)."""
    return Principal(
        id=f"user:{user.user.id}",
        kind="user",
        tenant_id=tenant.id,
        scopes=frozenset({"mcp"}),
        name=user.user.email,
        user_id=user.user.id,
    )


async def _connector(request: Request, tenant: Tenant) -> tuple[ConnectorConfig, type[Connector]] | None:
    services = services_of(request)
    name = str(request.path_params.get("connector", ""))[:63]
    config = await services.store.get_connector(tenant.id, name)
    if config is None or config.name != name or config.connector_type not in services.registry:
        return None
    return config, services.registry.get(config.connector_type)


def _tool_rows(cls: type[Connector], config: ConnectorConfig) -> list[dict[str, Any]]:
    rows = []
    for spec in sorted(cls.tools.values(), key=lambda s: (s.group, s.name)):
        a = spec.annotations
        rows.append(
            {
                "name": spec.name,
                "title": spec.title,
                "description": spec.description.strip().split("\n\n")[0],
                "group": spec.group,
                "enabled": cls.tool_enabled(spec, config.tool_policy),
                "read_only": a.read_only,
                "destructive": a.destructive,
                "idempotent": a.idempotent,
                "open_world": a.open_world,
            }
        )
    return rows


async def connectors_page(request: Request, user: ConsoleUser) -> Response:
    """The tenant's connectors to try tools of."""
    tenant = (await tenant_page(request, user, admin=False)).item
    services = services_of(request)
    items = []
    for config in sorted(await services.store.list_connectors(tenant.id), key=lambda c: c.name):
        installed = config.connector_type in services.registry
        title = services.registry.get(config.connector_type).info.title if installed else config.connector_type
        count = len(services.registry.get(config.connector_type).tools) if installed else 0
        items.append({"config": config, "title": title, "installed": installed, "tools": count})
    return page(
        request, user, "console/playground.html", title=f"Playground · {tenant.slug}", tenant=tenant, items=items
    )


async def tools_page(request: Request, user: ConsoleUser) -> Response:
    """One connector's tools: annotations, group, and whether the tool policy enables each."""
    tenant = (await tenant_page(request, user, admin=False)).item
    found = await _connector(request, tenant)
    if found is None:
        return not_found(request, user, "This tenant has no such connector, or its type is not installed.")
    config, cls = found
    rows = _tool_rows(cls, config)
    return page(
        request,
        user,
        "console/playground_tools.html",
        title=f"Tools of {config.name}",
        tenant=tenant,
        config=config,
        cls=cls,
        tools=rows,
        groups=sorted({r["group"] for r in rows}),
    )


def _tool_context(tenant: Tenant, config: ConnectorConfig, cls: type[Connector], name: str) -> dict[str, Any] | None:
    spec = cls.tools.get(name)
    if spec is None:
        return None
    return {
        "tenant": tenant,
        "config": config,
        "cls": cls,
        "spec": spec,
        "enabled": cls.tool_enabled(spec, config.tool_policy),
        "fields": tool_fields(spec.input_schema),
        "schema": json.dumps(spec.input_schema, indent=2),
    }


async def tool_page(request: Request, user: ConsoleUser) -> Response:
    """The form of one tool, generated from its input schema."""
    tenant = (await tenant_page(request, user, admin=False)).item
    found = await _connector(request, tenant)
    context = _tool_context(tenant, *found, str(request.path_params["tool"])) if found else None
    if context is None:
        return not_found(request, user, "This connector has no such tool.")
    fields: list[ToolField] = context["fields"]
    values = {f.name: f.default for f in fields if f.default}
    return page(
        request, user, "console/playground_tool.html", title=context["spec"].name, values=values, result=None, **context
    )


async def call(request: Request, user: ConsoleUser) -> Response:
    """Call the tool with the form's arguments (after confirmation for a tool that is not read-only)."""
    fields_in = await read_form(request, max_fields=_MAX_FIELDS)
    await current_user(request)
    check_csrf(request, fields_in.get("csrf_token"))
    tenant = (await tenant_page(request, user, admin=False)).item
    found = await _connector(request, tenant)
    context = _tool_context(tenant, *found, str(request.path_params["tool"])) if found else None
    if context is None:
        return not_found(request, user, "This connector has no such tool.")
    spec, config = context["spec"], context["config"]
    fields: list[ToolField] = context["fields"]
    confirmed = fields_in.get("confirmed") == "yes"
    if confirmed and "arguments_json" in fields_in:
        raw = fields_in["arguments_json"]
        try:
            decoded = json.loads(raw) if len(raw) <= _MAX_ARGUMENTS_JSON else None
        except ValueError:
            decoded = None
        if not isinstance(decoded, dict):
            return page(
                request, user, "console/playground_tool.html", status=400, title=spec.name, values={}, result=None,
                errors={"_form": "The confirmed arguments could not be read; fill in the form again."}, **context,
            )  # fmt: skip
        arguments: dict[str, Any] = decoded
        errors: dict[str, str] = {}
    else:
        arguments, errors = arguments_from(fields, fields_in)
    values = values_of(fields, arguments)
    if errors:
        return page(
            request, user, "console/playground_tool.html", status=422, title=spec.name, values=values, result=None,
            errors=errors, **context,
        )  # fmt: skip
    if not spec.read_only and not confirmed:
        return page(
            request, user, "console/playground_confirm.html", title=f"Run {spec.name}?", values=values,
            arguments=json.dumps(arguments, indent=2), arguments_json=json.dumps(arguments), **context,
        )  # fmt: skip
    services = services_of(request)
    request_id = uuid.uuid4().hex
    started = time.perf_counter()
    try:
        outcome = await services.mcp.call_tool(
            tenant.slug, config.name, spec.name, arguments, member_principal(user, tenant), request_id=request_id
        )
    except (InputRequired, MissingClientCapability):
        return page(
            request, user, "console/playground_tool.html", status=409, title=spec.name, values=values, result=None,
            errors={"_form": f"{spec.name} asks its caller for more input while it runs, which the playground "
                    "cannot give: call it from an MCP client."}, **context,
        )  # fmt: skip
    except LookupFailed as exc:
        return page(
            request, user, "console/playground_tool.html", status=409, title=spec.name, values=values, result=None,
            errors={"_form": _sentence(exc.message)}, **context,
        )  # fmt: skip
    except SageMCPError as exc:
        return page(
            request, user, "console/playground_tool.html", status=403, title=spec.name, values=values, result=None,
            errors={"_form": _sentence(exc.message)}, **context,
        )  # fmt: skip
    duration_ms = (time.perf_counter() - started) * 1000
    structured = json.dumps(outcome.structured, indent=2, ensure_ascii=False) if outcome.structured else None
    connect_url = outcome.error.connect_url if isinstance(outcome.error, ConnectionRequired) else None
    result = {
        "outcome": outcome.outcome,
        "code": outcome.code,
        "is_error": outcome.is_error,
        "text": outcome.text,
        "structured": structured,
        "duration_ms": duration_ms,
        "request_id": request_id,
        "connect_url": connect_url,
        "advice": outcome.outcome in ("upstream_error", "denied") or connect_url is not None,
    }
    logger.info(
        "playground call",
        extra={"tenant": tenant.slug, "tool": spec.name, "outcome": outcome.outcome, "user_id": user.user.id},
    )
    return page(
        request, user, "console/playground_tool.html", title=spec.name, values=values, result=result,
        **context,
    )  # fmt: skip


def _sentence(text: str) -> str:
    return (text[:1].upper() + text[1:]).rstrip(".") + "."


nav("Playground", "/console/t/{slug}/playground", "tenant_member", order=30)

routes: list[BaseRoute] = [
    route("/t/{slug}/playground", connectors_page, ["GET"], "console.playground"),
    route("/t/{slug}/playground/{connector}", tools_page, ["GET"], "console.playgroundTools"),
    route("/t/{slug}/playground/{connector}/{tool}", tool_page, ["GET"], "console.playgroundTool"),
    route("/t/{slug}/playground/{connector}/{tool}", call, ["POST"], "console.playgroundCall"),
]
