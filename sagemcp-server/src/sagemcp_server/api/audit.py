"""`/admin/tenants/{slug}/audit`: the tenant's tool-call audit trail, newest first, with cursor pagination."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sagemcp.platform import Tenant

from ..db.store import decode_cursor
from ..services import Services
from . import params
from .auth import tenant_for
from .errors import ApiError
from .routing import Context, Operation
from .schemas import AuditEventOut, AuditPage, AuditQuery

__all__ = ["OPERATIONS", "audit_page", "connector_key"]


_EVENT_ID = re.compile(r"^[0-9a-f]{32}$")


def _cursor(value: str) -> tuple[datetime, str]:
    """The (time, event id) a cursor stands for. Cursors come back from clients: only values the database can
    compare are accepted (PostgreSQL refuses NUL characters and times outside its range, which the store
    would otherwise report as a database outage)."""
    data = decode_cursor(value, 2)
    try:
        if data is None or not _EVENT_ID.match(data[1]):
            raise ValueError
        at = datetime.fromisoformat(data[0])
        return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).astimezone(UTC), data[1]
    except (ValueError, OverflowError):
        raise ApiError(
            422, "invalid_cursor", "The cursor is not one this API returned.", [("cursor", "invalid")]
        ) from None


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).astimezone(UTC)


async def connector_key(services: Services, tenant: Tenant, key: str | None) -> str | None:
    """The connector id an audit filter means: a connector's name or id (a deleted connector's id stays usable)."""
    if key is None:
        return None
    cfg = await services.store.get_connector(tenant.id, key)
    return cfg.id if cfg is not None else key


async def audit_page(services: Services, tenant: Tenant, query: AuditQuery) -> AuditPage:
    """One page of the tenant's audit events matching `query`: what the API answers and the console shows.

    The caller has checked that the tenant is one it may read (`tenant_for`, the console's role check)."""
    since, until = _utc(query.since), _utc(query.until)
    if since is not None and until is not None and since >= until:
        raise ApiError(422, "invalid_time_range", "since must be before until.", [("since", "after until")])
    page = await services.store.list_audit(
        tenant.id,
        limit=query.limit,
        cursor=_cursor(query.cursor) if query.cursor else None,
        connector_id=await connector_key(services, tenant, query.connector_id),
        tool=query.tool,
        outcome=query.outcome,
        user_id=query.user_id,
        since=since,
        until=until,
    )
    return AuditPage(
        items=[AuditEventOut(**e.model_dump(exclude={"tenant_id"})) for e in page.items],
        next_cursor=page.next_cursor,
    )


async def list_audit(ctx: Context, query: AuditQuery) -> AuditPage:
    tenant = (await tenant_for(ctx)).item
    return await audit_page(ctx.services, tenant, query)


OPERATIONS = [
    Operation(
        "GET",
        "/admin/tenants/{slug}/audit",
        "listAuditEvents",
        "Tool-call audit events, newest first",
        "audit",
        list_audit,
        AuditPage,
        query=AuditQuery,
        params={"slug": params.SLUG},
    ),
]
