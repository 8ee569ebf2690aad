"""Embedding sagemcp behind an external OAuth authorization server: its JWT access tokens, mapped to your
own members, beside the store's API keys."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import Mount

from sagemcp import Credential
from sagemcp.mcp import (
    ApiKeyAuthenticator,
    BearerTokenAuthenticator,
    ChainAuthenticator,
    JwtTokenVerifier,
    McpSettings,
    VerifiedJwt,
    create_mcp_app,
    protected_resource_routes,
)
from sagemcp.platform import ConnectorConfig, ConnectorRegistry, MemoryStore, Principal, Tenant

from .weather import WeatherConnector

MEMBERS = {("alice@example.com", "acme")}
"""Your user store: which person (the token's `email` claim) belongs to which tenant."""


def build(issuer: str, public_url: str) -> Starlette:
    """The host app: MCP endpoints under `/mcp-api`, their OAuth metadata at the root.

    `issuer` is the authorization server's issuer URL, `public_url` where clients reach this app.
    """
    store = MemoryStore()
    tenant = store.add_tenant(Tenant(slug="acme", name="Acme"))
    store.add_connector(ConnectorConfig(tenant_id=tenant.id, connector_type="weather", name="weather"))
    store.put_credential(Credential(tenant_id=tenant.id, provider="weather", kind="api_key", access_token="wk-123"))

    settings = McpSettings(public_url=public_url + "/mcp-api", authorization_servers=[issuer])

    async def principal_for(token: VerifiedJwt) -> Principal | None:
        """The member a verified token acts for, on the tenant of the endpoint it was issued for."""
        endpoint = settings.endpoint_for(token.resource)
        email = token.claims.get("email")
        if endpoint is None or (email, endpoint[0]) not in MEMBERS:
            return None
        member_of = await store.get_tenant(endpoint[0])
        if member_of is None:
            return None
        return Principal(id=f"oauth:{token.subject}", kind="oauth", tenant_id=member_of.id, user_id=email, name=email)

    verifier = JwtTokenVerifier(issuer, principal_for=principal_for)
    tokens = BearerTokenAuthenticator(verifier, ttl=settings.cache_ttl)
    mcp_app = create_mcp_app(
        store,
        ConnectorRegistry([WeatherConnector]),
        authenticator=ChainAuthenticator([ApiKeyAuthenticator(store, ttl=settings.cache_ttl), tokens]),
        settings=settings,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with mcp_app.lifespan():
            try:
                yield
            finally:
                await verifier.aclose()  # its HTTP client for the issuer's keys

    routes = [*protected_resource_routes(settings, mount_prefix="/mcp-api"), Mount("/mcp-api", app=mcp_app)]
    return Starlette(routes=routes, lifespan=lifespan)


if __name__ == "__main__":
    import os

    import uvicorn

    issuer = os.environ.get("ISSUER", "https://auth.example.com")
    print("MCP URL: http://127.0.0.1:8000/mcp-api/acme/connectors/weather/mcp")
    uvicorn.run(build(issuer, "http://127.0.0.1:8000"), host="127.0.0.1", port=8000)
