"""`/admin/connector-types`: the connector types installed on this server, and those that failed to load."""

from __future__ import annotations

from sagemcp.auth import OAuth2
from sagemcp.connector import Connector

from .connectors import tool_out
from .routing import Context, Operation
from .schemas import AuthSchemeOut, ConnectorTypeOut, ConnectorTypesOut, LinkedTokenOut, LoadFailureOut

__all__ = ["OPERATIONS", "describe"]


def describe(cls: type[Connector]) -> ConnectorTypeOut:
    info = cls.info
    auth = []
    for scheme in cls.auth:
        if isinstance(scheme, OAuth2):
            auth.append(
                AuthSchemeOut(
                    kind=scheme.kind,
                    description=scheme.description,
                    authorize_url=scheme.authorize_url,
                    scopes=scheme.scopes_for(None),
                    revocable=bool(scheme.revoke_url),
                    linked_tokens=[
                        LinkedTokenOut(name=t.name, description=t.description, scopes=t.scopes_for(None))
                        for t in scheme.linked_tokens
                    ],
                )
            )
        else:
            auth.append(AuthSchemeOut(kind=scheme.kind, description=scheme.description))
    return ConnectorTypeOut(
        id=info.id,
        title=info.title,
        description=info.description,
        homepage=info.homepage,
        version=info.version,
        provider=cls.provider_id(),
        auth=auth,
        groups=cls.groups(),
        default_groups=list(info.default_groups) if info.default_groups is not None else None,
        config_schema=cls.Config.model_json_schema(),
        tools=[tool_out(cls, spec, None) for spec in cls.tools.values()],
    )


async def list_connector_types(ctx: Context) -> ConnectorTypesOut:
    registry = ctx.services.registry
    return ConnectorTypesOut(
        items=[describe(cls) for cls in registry],
        failures=[LoadFailureOut(name=f.name, target=f.target, reason=f.reason) for f in registry.failures],
    )


OPERATIONS = [
    Operation(
        "GET",
        "/admin/connector-types",
        "listConnectorTypes",
        "Installed connector types with their tools and auth schemes, and load failures",
        "connector-types",
        list_connector_types,
        ConnectorTypesOut,
    ),
]
