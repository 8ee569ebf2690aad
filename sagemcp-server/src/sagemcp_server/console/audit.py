"""The audit log page: the tenant's tool calls, filtered and paged, with a chart and latency percentiles.

Filters: connector, tool, member, outcome and a time range (a preset, or from/to times in UTC).
The table pages with the admin API's cursor (`api.audit.audit_page`, the same function behind
`GET /admin/tenants/{slug}/audit`); the chart of calls and errors over time and the per-tool
p50/p95/p99 come from the stored events of the same filters (`SqlStore.audit_samples`, at most
`MAX_SAMPLES` of the newest, and the page says when more matched).

Owners, admins and platform admins see every call of the tenant; a member sees only the calls
run for them (their playground calls and their OAuth clients'), whatever the member filter says.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from ..api.audit import audit_page, connector_key
from ..api.errors import validation_details
from ..api.schemas import AuditQuery
from ._charts import buckets, latency_table, series_svg
from ._shell import ConsoleUser, nav, page, route, services_of, tenant_page

__all__ = ["MAX_SAMPLES", "RANGES", "routes"]

MAX_SAMPLES = 20_000
"""Events read for the chart and percentiles; beyond it the oldest of the range are left out (and said so)."""
RANGES: dict[str, timedelta | None] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "all": None,
}
_RANGE_LABELS = {"1h": "Last hour", "24h": "Last 24 hours", "7d": "Last 7 days", "30d": "Last 30 days", "all": "All"}
_OUTCOMES = ["ok", "error", "denied", "invalid", "limited", "upstream_error"]
_FILTERS = ("connector", "tool", "member", "outcome", "range", "since", "until")
_PAGE_SIZE = 50


def _time(value: str) -> datetime:
    """A `datetime-local` field's value (or ISO 8601), read as UTC when it names no offset."""
    parsed = datetime.fromisoformat(value)
    return (parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _window(params: dict[str, str], errors: dict[str, str]) -> tuple[datetime | None, datetime | None]:
    since = until = None
    for name in ("since", "until"):
        if params.get(name):
            try:
                value = _time(params[name])
            except ValueError:
                errors[name] = "Enter a date and time, such as 2026-01-31T14:00."
                continue
            if name == "since":
                since = value
            else:
                until = value
    if since is None and "since" not in errors:
        span = RANGES.get(params.get("range") or "24h")
        if span is not None:
            since = (until or datetime.now(UTC)) - span
    if since is not None and until is not None and since >= until:
        errors["since"] = "The start must be before the end."
    return since, until


async def audit(request: Request, user: ConsoleUser) -> Response:
    tenant = (await tenant_page(request, user, admin=False)).item
    services = services_of(request)
    sees_all = user.may_admin(tenant.slug)
    params = {name: request.query_params.get(name, "")[:200] for name in _FILTERS}
    if params["range"] not in RANGES:
        params["range"] = "24h"
    errors: dict[str, str] = {}
    since, until = _window(params, errors)
    member = params["member"] if sees_all else user.user.id
    query: AuditQuery | None = None
    try:
        query = AuditQuery(
            limit=_PAGE_SIZE,
            cursor=request.query_params.get("cursor") or None,
            connector_id=params["connector"] or None,
            tool=params["tool"] or None,
            outcome=params["outcome"] or None,
            user_id=member or None,
            since=since,
            until=until,
        )
    except ValidationError as exc:
        for name, message in validation_details(exc):
            field = {"connector_id": "connector", "user_id": "member"}.get(name or "", name or "_form")
            errors.setdefault(field, message)
    connectors = sorted(await services.store.list_connectors(tenant.id), key=lambda c: c.name)
    members = await services.people.list_members(tenant.id) if sees_all else []
    context: dict[str, Any] = {
        "tenant": tenant,
        "params": params,
        "errors": errors,
        "sees_all": sees_all,
        "connectors": connectors,
        "connector_names": {c.id: c.name for c in connectors},
        "members": members,
        "member_emails": {m.user.id: m.user.email for m in members} | {user.user.id: user.user.email},
        "outcomes": _OUTCOMES,
        "ranges": list(_RANGE_LABELS.items()),
        "items": [],
        "next_href": None,
        "chart": None,
        "series": [],
        "latency": [],
        "truncated": False,
        "sample_count": 0,
        "since": since,
        "until": until,
    }
    if query is None or errors:
        return page(request, user, "console/audit.html", status=422, title="Audit log", **context)
    result = await audit_page(services, tenant, query)
    end = until or datetime.now(UTC)
    samples, truncated = await services.store.audit_samples(
        tenant.id,
        since=since or datetime(1970, 1, 1, tzinfo=UTC),
        until=end,
        limit=MAX_SAMPLES,
        connector_id=await connector_key(services, tenant, query.connector_id),
        tool=query.tool,
        outcome=query.outcome,
        user_id=query.user_id,
    )
    start = since or (min(s[0] for s in samples) if samples else end - timedelta(hours=24))
    series = buckets(samples, start, end + timedelta(microseconds=1))
    if result.next_cursor:
        kept = {k: v for k, v in params.items() if v}
        context["next_href"] = "?" + urlencode({**kept, "cursor": result.next_cursor})
    context.update(
        items=result.items,
        chart=series_svg(series) if samples else None,
        series=series,
        latency=latency_table(samples),
        truncated=truncated,
        sample_count=len(samples),
    )
    return page(request, user, "console/audit.html", title="Audit log", **context)


nav("Audit log", "/console/t/{slug}/audit", "tenant_member", order=80)

routes: list[BaseRoute] = [route("/t/{slug}/audit", audit, ["GET"], "console.audit")]
