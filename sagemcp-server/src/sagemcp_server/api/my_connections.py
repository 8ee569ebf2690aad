"""`/api/v1/me/connections`: the signed-in member's own connections, for scripts and pages of their own.

Authenticated by the session cookie (`web.session.current_user`); `DELETE` also needs the
session's CSRF token in `X-CSRF-Token`. API keys and OAuth tokens act for no browser session
and get 401 here.

- `GET /api/v1/me/connections`: the member's connections in every tenant they belong to
  (provider, account, status, expiry, the `per_user` connectors using each; never a token), and
  every `per_user` connector they can connect, with its connect page.
- `DELETE /api/v1/me/connections/{tenant}/{provider}`: disconnect: revoke the token at the
  provider where it can be revoked, then delete it (and the provider's linked credentials,
  such as `slack:user`). 204, or 404 when the member has no such connection.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sagemcp.platform import Tenant, base_provider

from ..services import Services
from ..web.connect import disconnect_member
from ..web.session import check_csrf_header, current_user
from .credentials import credential_status
from .errors import ApiError, handle_exception
from .schemas import CREDENTIAL_KEY_PATTERN, MyConnectionOut, MyConnections, MyConnectorOut

__all__ = ["my_connection_routes", "my_connections"]

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_PROVIDER = re.compile(CREDENTIAL_KEY_PATTERN)


def _not_signed_in() -> ApiError:
    return ApiError(
        401,
        "not_signed_in",
        "Sign in first: this API uses the session cookie of a signed-in browser (/signin), not an API key.",
    )


async def _connectors(services: Services, tenant: Tenant) -> list[tuple[str, str, str]]:
    """The tenant's enabled `per_user` connectors a member can connect: (name, title, provider)."""
    found: list[tuple[str, str, str]] = []
    for config in await services.store.list_connectors(tenant.id):
        if config.connection_mode != "per_user" or not config.enabled or config.connector_type not in services.registry:
            continue
        cls = services.registry.get(config.connector_type)
        if cls.oauth2() is None:
            continue
        found.append((config.name, cls.info.title, config.provider or cls.provider_id()))
    return found


async def my_connections(services: Services, user_id: str) -> MyConnections:
    """A member's own connections in every tenant they belong to, and the `per_user` connectors they can connect:
    what `GET /api/v1/me/connections` answers and the console's connections page shows (never a token)."""
    tenants = {tenant.id: tenant for tenant, _ in await services.people.memberships_of(user_id)}
    items: list[MyConnectionOut] = []
    connectors: list[MyConnectorOut] = []
    connected: set[tuple[str, str]] = set()
    records = await services.store.list_user_credentials(None, user_id)
    by_tenant: dict[str, list[tuple[str, str, str]]] = {}
    for tenant in sorted(tenants.values(), key=lambda t: t.slug):
        by_tenant[tenant.id] = await _connectors(services, tenant)
    for record in records:
        cred = record.item
        member_of = tenants.get(cred.tenant_id)
        if member_of is None:
            continue  # a tenant the member left: not theirs to see any more
        tenant = member_of
        connected.add((tenant.id, cred.provider))
        items.append(
            MyConnectionOut(
                tenant=tenant.slug,
                tenant_name=tenant.name,
                provider=cred.provider,
                account=cred.account,
                status=credential_status(cred),  # type: ignore[arg-type]
                expires_at=datetime.fromtimestamp(cred.expires_at, UTC) if cred.expires_at is not None else None,
                connected_at=record.created_at,
                updated_at=record.updated_at,
                connectors=[n for n, _, p in by_tenant.get(tenant.id, []) if p == base_provider(cred.provider)],
                disconnect_path=f"/api/v1/me/connections/{tenant.slug}/{cred.provider}",
            )
        )
    items.sort(key=lambda i: (i.tenant, i.provider))
    for tenant_id, found in by_tenant.items():
        tenant = tenants[tenant_id]
        for name, title, provider in found:
            connectors.append(
                MyConnectorOut(
                    tenant=tenant.slug,
                    tenant_name=tenant.name,
                    connector=name,
                    title=title,
                    provider=provider,
                    connected=(tenant.id, provider) in connected,
                    connect_url=services.connect_url(tenant.slug, name),
                )
            )
    return MyConnections(items=items, connectors=connectors)


async def list_my_connections(request: Request) -> Response:
    try:
        user = await current_user(request)
        if user is None:
            raise _not_signed_in()
        body = await my_connections(request.app.state.services, user.id)
        return JSONResponse(body.model_dump(mode="json"), headers={"Cache-Control": "no-store"})
    except Exception as exc:
        return await handle_exception(request, exc)


async def delete_my_connection(request: Request) -> Response:
    try:
        user = await current_user(request)
        if user is None:
            raise _not_signed_in()
        check_csrf_header(request)
        slug, provider = str(request.path_params["tenant"]), str(request.path_params["provider"])
        if len(slug) > 63 or not _SLUG.match(slug):
            raise ApiError(422, "invalid_tenant", "tenant must be a tenant slug.", [("tenant", "invalid")])
        if len(provider) > 64 or not _PROVIDER.match(provider):
            raise ApiError(422, "invalid_provider", "provider must be a provider id.", [("provider", "invalid")])
        services: Services = request.app.state.services
        tenant = await services.store.get_tenant(slug)
        # Only the member's own credentials are looked at: another member's or the tenant's are never reachable.
        if tenant is None or not await disconnect_member(services, tenant, provider, user.id):
            raise ApiError(404, "connection_not_found", f"You have no {provider} connection in tenant {slug!r}.")
        return Response(status_code=204)
    except Exception as exc:
        return await handle_exception(request, exc)


def my_connection_routes() -> list[Route]:
    return [
        Route("/api/v1/me/connections", list_my_connections, methods=["GET"], name="listMyConnections"),
        Route(
            "/api/v1/me/connections/{tenant}/{provider}",
            delete_my_connection,
            methods=["DELETE"],
            name="deleteMyConnection",
        ),
    ]
