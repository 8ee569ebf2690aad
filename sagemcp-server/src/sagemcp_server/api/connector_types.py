"""`/admin/connector-types`: the connector types installed on this server, and those that failed to load."""

from __future__ import annotations

from typing import Any

from sagemcp import AuthScheme, Connector, NoAuth, OAuth2, SelfRefreshingScheme

from .connectors import tool_out
from .routing import Context, Operation
from .schemas import AuthSchemeOut, ConnectorTypeOut, ConnectorTypesOut, LinkedTokenOut, LoadFailureOut

__all__ = ["OPERATIONS", "describe"]


def describe(cls: type[Connector]) -> ConnectorTypeOut:
    info = cls.info
    auth = []
    linked = cls.linked_oauth_scopes(None)
    for scheme in cls.auth:
        if isinstance(scheme, OAuth2):
            auth.append(
                AuthSchemeOut(
                    kind=scheme.kind,
                    description=scheme.description,
                    authorize_url=scheme.authorize_url,
                    scopes=cls.oauth_scopes(None),
                    revocable=bool(scheme.revoke_url),
                    **_fields_out(scheme),
                    linked_tokens=[
                        LinkedTokenOut(name=t.name, description=t.description, scopes=linked.get(t.name, []))
                        for t in scheme.linked_tokens
                    ],
                )
            )
        else:
            auth.append(AuthSchemeOut(kind=scheme.kind, description=scheme.description, **_fields_out(scheme)))
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


def _fields_out(scheme: AuthScheme) -> dict[str, Any]:
    """What a caller needs to store a credential of `scheme`: its fields' JSON Schema, which are secret,
    and whether the server gets the scheme's tokens itself (and where)."""
    if isinstance(scheme, NoAuth):
        return {}
    schema = scheme.fields_model().model_json_schema()
    renews = isinstance(scheme, SelfRefreshingScheme)
    token_url = getattr(scheme, "token_url", None) if renews else None
    return {
        "fields_schema": schema,
        "secret_fields": [name for name, prop in schema.get("properties", {}).items() if _write_only(prop)],
        "renews_itself": renews,
        "token_url": token_url or None,
    }


def _write_only(prop: dict[str, Any]) -> bool:
    """Whether a property's schema (or a member of its `anyOf`, for optional fields) is `writeOnly` (a secret)."""
    return bool(prop.get("writeOnly")) or any(_write_only(member) for member in prop.get("anyOf", ()))


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
