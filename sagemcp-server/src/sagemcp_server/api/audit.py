"""`/admin/tenants/{slug}/audit`: the tenant's tool-call audit trail, newest first, with cursor pagination."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from ..db.store import decode_cursor
from . import params
from .auth import tenant_for
from .errors import ApiError
from .routing import Context, Operation
from .schemas import AuditEventOut, AuditPage, AuditQuery

__all__ = ["OPERATIONS"]


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


async def list_audit(ctx: Context, query: AuditQuery) -> AuditPage:
    tenant = (await tenant_for(ctx)).item
    connector_id = query.connector_id
    if connector_id is not None:
        cfg = await ctx.services.store.get_connector(tenant.id, connector_id)
        connector_id = cfg.id if cfg is not None else connector_id
    page = await ctx.services.store.list_audit(
        tenant.id,
        limit=query.limit,
        cursor=_cursor(query.cursor) if query.cursor else None,
        connector_id=connector_id,
        tool=query.tool,
        outcome=query.outcome,
    )
    return AuditPage(
        items=[AuditEventOut(**e.model_dump(exclude={"tenant_id"})) for e in page.items],
        next_cursor=page.next_cursor,
    )


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
