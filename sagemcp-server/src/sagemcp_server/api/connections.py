"""`/admin/tenants/{slug}/connections`: the accounts the tenant's members connected to `per_user` connectors.

Who connected which provider, as which account, and whether the connection still works
(status, expiry). Never a token: the same metadata `GET .../credentials` shows for the
tenant's shared credentials. Members connect and disconnect their own accounts themselves
(`sagemcp_server.member`); deleting a tenant or a user removes theirs.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sagemcp.platform import base_provider

from ..db.store import MemberCredential, decode_cursor, encode_cursor
from . import params
from .auth import tenant_for
from .credentials import credential_status, renews_itself
from .errors import ApiError
from .routing import Context, Operation
from .schemas import ConnectionsQuery, MemberConnectionList, MemberConnectionOut

__all__ = ["OPERATIONS", "member_connection_out"]


def member_connection_out(ctx: Context, found: MemberCredential) -> MemberConnectionOut:
    record = found.record
    cred = record.item
    assert cred.user_id is not None  # members' credentials only
    expires = datetime.fromtimestamp(cred.expires_at, UTC) if cred.expires_at is not None else None
    return MemberConnectionOut(
        provider=cred.provider,
        user_id=cred.user_id,
        email=found.email,
        name=found.name,
        account=cred.account,
        kind=cred.kind,
        scopes=list(cred.scopes),
        status=credential_status(cred, renews_itself(ctx.services, cred)),  # type: ignore[arg-type]
        expires_at=expires,
        connected_at=record.created_at,
        updated_at=record.updated_at,
    )


async def list_connections(ctx: Context, query: ConnectionsQuery) -> MemberConnectionList:
    tenant = (await tenant_for(ctx)).item
    after: tuple[str, str] | None = None
    if query.cursor is not None:
        data = decode_cursor(query.cursor, 2)
        if data is None:
            raise ApiError(422, "invalid_cursor", "The cursor is not one this API returned.", [("cursor", "invalid")])
        after = (data[0], data[1])
    provider = base_provider(query.provider) if query.provider is not None else None
    found = await ctx.services.store.list_member_credentials(tenant.id, provider, limit=query.limit + 1, after=after)
    items = [member_connection_out(ctx, f) for f in found[: query.limit]]
    next_cursor = None
    if len(found) > query.limit:
        last = items[-1]
        next_cursor = encode_cursor([last.provider, last.user_id])
    return MemberConnectionList(items=items, next_cursor=next_cursor)


OPERATIONS = [
    Operation(
        "GET",
        "/admin/tenants/{slug}/connections",
        "listMemberConnections",
        "List the accounts the tenant's members connected themselves (per_user connectors; never tokens)",
        "connections",
        list_connections,
        MemberConnectionList,
        query=ConnectionsQuery,
        params={"slug": params.SLUG},
        description="One item per member and provider (linked credentials such as slack:user separately), "
        "ordered by provider, then user id, in pages of `limit` linked by `next_cursor`. Members connect "
        "at `/connect/{tenant}/{connector}` and disconnect with `DELETE /api/v1/me/connections/...`.",
    ),
]
