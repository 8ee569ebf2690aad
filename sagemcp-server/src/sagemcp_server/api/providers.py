"""Which connector classes use a credential provider, for the routes keyed by provider."""

from __future__ import annotations

from sagemcp import Connector
from sagemcp.platform import Tenant

from .errors import ApiError
from .routing import Context

__all__ = ["classes_for_provider"]


async def classes_for_provider(ctx: Context, tenant: Tenant, provider: str) -> list[type[Connector]]:
    """Installed connector classes whose credentials are stored under `provider` (for this tenant); 422 if none."""
    found = list(ctx.services.providers().get(provider, []))
    for cfg in await ctx.services.store.list_connectors(tenant.id):
        if cfg.provider == provider and cfg.connector_type in ctx.services.registry:
            cls = ctx.services.registry.get(cfg.connector_type)
            if cls not in found:
                found.append(cls)
    if not found:
        known = ", ".join(sorted(ctx.services.providers())) or "none"
        raise ApiError(
            422,
            "unknown_provider",
            f"No installed connector uses the provider {provider!r} (providers: {known}).",
            [("provider", "unknown")],
        )
    return found
