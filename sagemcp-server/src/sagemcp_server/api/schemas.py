"""Request and response bodies of the HTTP API. The OpenAPI document is generated from these models.

Request models refuse unknown fields, so a typo is an error rather than silently ignored.
Secrets (client secrets, tokens) appear only in request models, as write-only strings.
Free-form JSON (a connector's configuration, a credential's fields and extra data, an OAuth
app's extra settings) is bounded on input (`JsonObject`): at most `MAX_JSON_DEPTH` levels
deep and `MAX_JSON_BYTES` bytes, with finite numbers only, so that whatever is stored can be
stored by every database and listed again.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, model_validator

from sagemcp.platform import MAX_PINNED_TOOLS, SLUG_PATTERN, ToolPolicy

__all__ = [
    "CONNECTOR_TYPE_PATTERN",
    "CREDENTIAL_KEY_PATTERN",
    "MAX_JSON_BYTES",
    "MAX_JSON_DEPTH",
    "PROVIDER_PATTERN",
    "ApiKeyCreate",
    "ApiKeyCreated",
    "ApiKeyList",
    "ApiKeyOut",
    "AuditEventOut",
    "AuditPage",
    "AuditQuery",
    "AuthSchemeOut",
    "AuthorizeRequest",
    "AuthorizeResponse",
    "CallLimitsIn",
    "CallLimitsOut",
    "ConnectionMode",
    "ConnectionsQuery",
    "ConnectorCreate",
    "ConnectorList",
    "ConnectorOut",
    "ConnectorToolsOut",
    "ConnectorTypeOut",
    "ConnectorTypesOut",
    "ConnectorUpdate",
    "CredentialList",
    "CredentialOut",
    "CredentialPut",
    "ErrorResponse",
    "JsonObject",
    "LinkedTokenOut",
    "ListQuery",
    "LoadFailureOut",
    "MemberConnectionList",
    "MemberConnectionOut",
    "MyConnectionOut",
    "MyConnections",
    "MyConnectorOut",
    "OAuthAppOut",
    "OAuthAppPut",
    "TenantCreate",
    "TenantList",
    "TenantListQuery",
    "TenantOut",
    "TenantUpdate",
    "ToolAnnotationsOut",
    "ToolOut",
    "ToolPolicy",
]

CONNECTOR_TYPE_PATTERN = r"^[a-z][a-z0-9]{0,31}$"
PROVIDER_PATTERN = r"^[a-z][a-z0-9_-]{0,63}$"
CREDENTIAL_KEY_PATTERN = r"^[a-z][a-z0-9_-]{0,47}(?::[a-z][a-z0-9_]{0,14})?$"
"""A provider, or a linked credential of one (`slack:user`)."""
KEY_ID_PATTERN = r"^[0-9a-f]{32}$"

Slug = Annotated[str, Field(pattern=SLUG_PATTERN, min_length=1, max_length=63, examples=["acme"])]
Name = Annotated[str, Field(max_length=200)]
Description = Annotated[str, Field(max_length=2000)]
Provider = Annotated[str, Field(pattern=PROVIDER_PATTERN, max_length=64, examples=["github"])]
Scope = Annotated[str, Field(min_length=1, max_length=200)]
ToolName = Annotated[str, Field(min_length=1, max_length=128)]
MAX_JSON_DEPTH = 32
"""Levels of nesting a free-form JSON object may have (the object itself is level 1)."""
MAX_JSON_BYTES = 64 * 1024
"""Bytes a free-form JSON object may take, written compactly."""


def _bounded_json(value: dict[str, Any]) -> dict[str, Any]:
    """`value` if it is JSON every database stores and a listing shows again; else `ValueError` saying why."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError("numbers must be finite (a literal such as 1e999 overflows to infinity)")
        if isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise ValueError(f"must not be nested more than {MAX_JSON_DEPTH} levels deep")
            pending.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size > MAX_JSON_BYTES:
        raise ValueError(f"must take at most {MAX_JSON_BYTES} bytes as JSON, not {size}")
    return value


_JSON_LIMITS = f"At most {MAX_JSON_DEPTH} levels deep and {MAX_JSON_BYTES // 1024} KiB; numbers must be finite."
JsonObject = Annotated[dict[str, Any], AfterValidator(_bounded_json)]
"""A free-form JSON object from a request, bounded in depth and size, with finite numbers only."""
Configuration = Annotated[
    JsonObject, Field(description="Validated by the connector type's Config model. " + _JSON_LIMITS)
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Response(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- errors ---------------------------------------------------------------------------------


class ErrorDetail(_Response):
    field: str | None = Field(description="The offending field, dotted (`configuration.site`), if any.")
    message: str


class ErrorBody(_Response):
    code: str = Field(description="Stable, machine-readable error code.", examples=["invalid_configuration"])
    message: str = Field(description="What went wrong and what to do next.")
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorResponse(_Response):
    error: ErrorBody
    request_id: str


# -- tenants --------------------------------------------------------------------------------


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    limit: int = Field(default=100, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=512, description="`next_cursor` of the previous page.")


class TenantListQuery(ListQuery):
    search: str | None = Field(
        default=None, max_length=100, description="Only tenants whose slug or name contains this (any case)."
    )


_LIMITS_NOTE = "null: the server's default (`SAGEMCP_...`); 0: no limit."


class CallLimitsIn(_Request):
    """A tenant's own tool-call limits, enforced on all replicas together (through Redis when configured)."""

    calls_per_minute: int | None = Field(
        default=None, ge=0, le=1_000_000, description="Tool calls in any rolling 60 seconds. " + _LIMITS_NOTE
    )
    concurrent_calls: int | None = Field(
        default=None, ge=0, le=100_000, description="Tool calls running at once. " + _LIMITS_NOTE
    )
    credential_calls_per_minute: int | None = Field(
        default=None,
        ge=0,
        le=1_000_000,
        description="Tool calls in any rolling 60 seconds with one upstream credential. " + _LIMITS_NOTE,
    )


class CallLimitsOut(_Response):
    calls_per_minute: int | None
    concurrent_calls: int | None
    credential_calls_per_minute: int | None


_DISCOVERY = (
    "Discovery mode: the tenant-wide MCP endpoint lists the meta-tools search_tools, describe_tool and "
    "call_tool (and the pinned tools) instead of every enabled tool. An API key may choose otherwise."
)
_PINNED = (
    f"Up to {MAX_PINNED_TOOLS} tools listed beside the meta-tools in discovery mode, by their tenant-wide names "
    "(see a connector's tenant_wide_name); pins of tools not enabled are not listed."
)
PinnedTools = Annotated[list[ToolName], Field(max_length=MAX_PINNED_TOOLS)]


class TenantCreate(_Request):
    slug: Slug = Field(description="Lowercase letters, digits and hyphens; unique; used in URLs.")
    name: Name = ""
    active: bool = True
    limits: CallLimitsIn | None = Field(default=None, description="Tool-call limits (platform admin only).")
    discovery: bool = Field(default=False, description=_DISCOVERY + " Pin tools with an update once it has connectors.")


class TenantUpdate(_Request):
    name: Name | None = None
    active: bool | None = Field(default=None, description="Inactive tenants' MCP endpoints refuse every call.")
    limits: CallLimitsIn | None = Field(
        default=None,
        description="Tool-call limits to change (platform admin only): only the fields given change; "
        "a field given as null goes back to the server's default.",
    )
    discovery: bool | None = Field(default=None, description=_DISCOVERY)
    pinned_tools: PinnedTools | None = Field(default=None, description=_PINNED + " Replaces the list.")


class TenantOut(_Response):
    id: str
    slug: str
    name: str
    active: bool
    mcp_url: str = Field(description="The tenant-wide MCP endpoint (all enabled connectors).")
    limits: CallLimitsOut = Field(description="The tenant's own tool-call limits (null: the server's default).")
    effective_limits: CallLimitsOut = Field(
        description="The limits in force: the tenant's own, else the server's default (null or 0: no limit)."
    )
    discovery: bool = Field(description=_DISCOVERY)
    pinned_tools: list[str] = Field(description=_PINNED)
    created_at: datetime
    updated_at: datetime


class TenantList(_Response):
    items: list[TenantOut]
    next_cursor: str | None


# -- connectors -----------------------------------------------------------------------------


ConnectionMode = Literal["shared", "per_user"]
_CONNECTION_MODE = (
    "`shared`: every call uses the tenant's one credential for the provider. `per_user`: each call uses the "
    "calling member's own account, which they connect at `/connect/{tenant}/{connector}`; tenant API keys "
    "cannot call it. Needs a connector type whose accounts connect with OAuth."
)


_CONNECTOR_DISCOVERY = (
    "Discovery mode on this connector's own MCP endpoint: it lists the meta-tools search_tools, describe_tool "
    "and call_tool (and the pinned tools) instead of every enabled tool. An API key may choose otherwise; the "
    "tenant-wide endpoint follows the tenant's setting."
)
_CONNECTOR_PINNED = (
    f"Up to {MAX_PINNED_TOOLS} of this connector's enabled tools listed beside the meta-tools in discovery mode, "
    "by the names its own endpoint serves (unprefixed). Unknown tools and tools the tool policy does not enable "
    "are refused; a pin the policy disables later is not listed."
)


class ConnectorCreate(_Request):
    connector_type: str = Field(pattern=CONNECTOR_TYPE_PATTERN, description="An installed connector type id.")
    name: Slug = Field(description="Unique within the tenant; usable instead of the id in URLs.")
    description: Description = ""
    enabled: bool = True
    configuration: Configuration = Field(default_factory=dict)
    tool_policy: ToolPolicy = Field(default_factory=ToolPolicy)
    provider: Provider | None = Field(
        default=None, description="Credential provider key; default: the connector type's own provider."
    )
    connection_mode: ConnectionMode = Field(default="shared", description=_CONNECTION_MODE)
    discovery: bool = Field(default=False, description=_CONNECTOR_DISCOVERY)
    pinned_tools: PinnedTools = Field(default_factory=list, description=_CONNECTOR_PINNED)


class ConnectorUpdate(_Request):
    name: Slug | None = None
    description: Description | None = None
    enabled: bool | None = None
    configuration: Configuration | None = None
    tool_policy: ToolPolicy | None = None
    provider: Provider | None = None
    connection_mode: ConnectionMode | None = Field(default=None, description=_CONNECTION_MODE)
    discovery: bool | None = Field(default=None, description=_CONNECTOR_DISCOVERY)
    pinned_tools: PinnedTools | None = Field(default=None, description=_CONNECTOR_PINNED + " Replaces the list.")


class ConnectorOut(_Response):
    id: str
    connector_type: str
    name: str
    description: str
    enabled: bool
    configuration: dict[str, Any]
    tool_policy: ToolPolicy
    provider: str = Field(description="The credential provider this connector uses.")
    connection_mode: ConnectionMode = Field(description=_CONNECTION_MODE)
    discovery: bool = Field(description=_CONNECTOR_DISCOVERY)
    pinned_tools: list[str] = Field(description=_CONNECTOR_PINNED)
    installed: bool = Field(description="Whether the connector type is installed on this server.")
    mcp_url: str
    tenant_wide_prefix: str | None = Field(
        default=None,
        description="In listings: what the tenant-wide endpoint puts before this connector's tool and prompt "
        "names (empty unless the tenant serves two connectors of this type; null when it is not served).",
    )
    created_at: datetime
    updated_at: datetime


class ConnectorList(_Response):
    items: list[ConnectorOut]


class ToolAnnotationsOut(_Response):
    read_only: bool
    destructive: bool
    idempotent: bool
    open_world: bool


class ToolOut(_Response):
    name: str
    tenant_wide_name: str | None = Field(
        default=None,
        description="The name the tenant-wide endpoint serves the tool under: prefixed with the connector's name "
        "when the tenant serves two connectors of this type. Null where not computed (the type catalogue) or "
        "when the connector is not served (disabled, or an invalid configuration).",
    )
    title: str
    description: str
    group: str
    enabled: bool = Field(description="Whether the connector's tool policy lets the tool be listed and called.")
    annotations: ToolAnnotationsOut
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    token: str | None = Field(
        default=None,
        description="The linked credential the tool prefers (e.g. user for slack:user); the main one when absent.",
    )


class ConnectorToolsOut(_Response):
    connector_id: str
    connector_type: str
    tenant_wide_prefix: str | None = Field(
        default=None,
        description="What the tenant-wide endpoint puts before this connector's tool and prompt names: empty "
        "unless the tenant serves two connectors of this type; null when the connector is not served.",
    )
    items: list[ToolOut]


# -- OAuth apps and credentials -------------------------------------------------------------


class OAuthAppPut(_Request):
    client_id: str = Field(min_length=1, max_length=512)
    client_secret: SecretStr | None = Field(
        default=None,
        max_length=4096,
        description="Write-only. Omit to keep the stored secret; null to remove it (a public client).",
    )
    extra: JsonObject = Field(
        default_factory=dict, description="Provider-specific, non-secret settings. " + _JSON_LIMITS
    )


class OAuthAppOut(_Response):
    provider: str
    client_id: str
    has_client_secret: bool
    extra: dict[str, Any]
    redirect_uri: str = Field(description="Register this redirect URI with the provider.")
    created_at: datetime
    updated_at: datetime


class CredentialPut(_Request):
    """A credential of one of the connector's auth schemes: `{"kind": ..., "fields": {...}}`.

    The older shape (`token`, with `account`, `scopes` and `expires_at`) still stores a
    bearer, API-key or Basic credential.
    """

    kind: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9_]{0,31}$",
        description="The auth scheme (bearer, api_key, basic, client_credentials, jwt_bearer, github_app, ...); "
        "default: the provider's first scheme that is not OAuth.",
    )
    fields: JsonObject | None = Field(
        default=None,
        description="The scheme's fields, as `fields_schema` of GET /admin/connector-types describes them. "
        "Secret fields are write-only: they are stored encrypted and never returned. " + _JSON_LIMITS,
    )
    token: SecretStr | None = Field(
        default=None,
        min_length=1,
        max_length=16384,
        description="Write-only: the PAT, bot token or API key (the older shape; same as fields.token).",
    )
    account: str | None = Field(default=None, max_length=512, description="Who the token acts as (login, email).")
    scopes: list[Scope] = Field(default_factory=list, max_length=200)
    expires_at: datetime | None = None
    extra: JsonObject = Field(default_factory=dict, description="Provider data that is not secret. " + _JSON_LIMITS)

    @model_validator(mode="after")
    def _one_shape(self) -> CredentialPut:
        if self.fields is None:
            if self.token is None:
                raise ValueError("give the scheme's fields (or, for a token, token)")
        elif self.token is not None or self.account is not None or self.scopes or self.expires_at is not None:
            raise ValueError("with fields, give token, account, scopes and expires_at inside fields")
        return self


class CredentialOut(_Response):
    provider: str = Field(description="The provider, or a linked credential of one such as slack:user.")
    kind: str
    account: str | None
    scopes: list[str]
    expires_at: datetime | None
    status: Literal["active", "expired", "reconnect_required"]
    has_access_token: bool = Field(
        description="False until a scheme that makes its own tokens (client credentials, GitHub App) gets one."
    )
    has_refresh_token: bool
    secrets: list[str] = Field(description="Names of the stored secrets (never their values).")
    extra: dict[str, Any] = Field(description="The scheme's plain fields and provider data (nothing secret).")
    origins: list[str] | None = Field(
        description="The upstream origins the credential is bound to: it is sent to no other. They are the "
        "origins of the provider's connectors when it was stored or authorized; after a connector's host "
        "changes, store the credential again (or a platform admin rebinds it). Null: not bound (stored by "
        "an earlier version)."
    )
    created_at: datetime
    updated_at: datetime


class CredentialList(_Response):
    items: list[CredentialOut]


# -- members' own connections (per_user connectors) ----------------------------------------


CredentialStatusOut = Literal["active", "expired", "reconnect_required"]


class ConnectionsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    provider: str | None = Field(
        default=None,
        pattern=PROVIDER_PATTERN,
        max_length=64,
        description="Only this provider's connections (and its linked ones, such as slack:user).",
    )
    limit: int = Field(default=100, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=512, description="`next_cursor` of the previous page.")


class MemberConnectionOut(_Response):
    """A member's own connection to a provider, as an admin sees it: who and what, never the tokens."""

    provider: str = Field(description="The provider, or a linked credential of one such as slack:user.")
    user_id: str
    email: str
    name: str
    account: str | None = Field(description="Who the member's account is at the provider (login, e-mail).")
    kind: str
    scopes: list[str]
    status: CredentialStatusOut
    expires_at: datetime | None
    connected_at: datetime
    updated_at: datetime


class MemberConnectionList(_Response):
    items: list[MemberConnectionOut]
    next_cursor: str | None


class MyConnectionOut(_Response):
    """One of the signed-in member's own connections."""

    tenant: str = Field(description="The tenant's slug.")
    tenant_name: str
    provider: str = Field(description="The provider, or a linked credential of one such as slack:user.")
    account: str | None
    status: CredentialStatusOut
    expires_at: datetime | None
    connected_at: datetime
    updated_at: datetime
    connectors: list[str] = Field(description="The tenant's per_user connectors that call with this connection.")
    disconnect_path: str = Field(description="DELETE this path (with the X-CSRF-Token header) to disconnect.")


class MyConnectorOut(_Response):
    """A per_user connector of one of the member's tenants, and whether they connected it."""

    tenant: str
    tenant_name: str
    connector: str = Field(description="The connector's name.")
    title: str = Field(description="What the connector calls (GitHub, Slack, ...).")
    provider: str
    connected: bool
    connect_url: str = Field(description="The page where the member connects (or reconnects) their account.")


class MyConnections(_Response):
    items: list[MyConnectionOut]
    connectors: list[MyConnectorOut]


# -- API keys -------------------------------------------------------------------------------


class ApiKeyCreate(_Request):
    name: Name = ""
    scopes: list[Literal["admin", "mcp"]] = Field(
        default=["mcp"],
        min_length=1,
        max_length=2,
        description="`mcp`: use the tenant's MCP endpoints; `admin`: manage the tenant.",
    )
    connector_id: str | None = Field(
        default=None,
        max_length=63,
        description="Limit the key to one connector (id or name). Such a key uses MCP only: not with `admin`.",
    )
    discovery: bool | None = Field(
        default=None,
        description="Discovery mode for this key on the tenant-wide endpoint: true (meta-tools), false (every "
        "tool), or null to follow the tenant's setting.",
    )


class ApiKeyOut(_Response):
    id: str
    name: str
    prefix: str = Field(description="The first characters of the key, to tell keys apart.")
    scopes: list[str]
    connector_id: str | None
    created_at: datetime
    revoked: bool
    discovery: bool | None = Field(description="The key's discovery mode choice; null: the tenant's setting.")


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The API key. Shown only in this response: store it now.")


class ApiKeyList(_Response):
    items: list[ApiKeyOut]


# -- audit ----------------------------------------------------------------------------------


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=512)
    connector_id: str | None = Field(default=None, max_length=63)
    tool: ToolName | None = None
    outcome: Literal["ok", "error", "denied", "invalid", "limited", "upstream_error"] | None = None
    user_id: str | None = Field(
        default=None, max_length=32, pattern=r"^[0-9a-f]{32}$", description="Only the calls run for this member."
    )
    since: datetime | None = Field(default=None, description="Only events at or after this time (ISO 8601).")
    until: datetime | None = Field(default=None, description="Only events before this time (ISO 8601).")


class AuditEventOut(_Response):
    id: str
    connector_id: str
    connector_type: str
    tool: str
    principal_id: str
    user_id: str | None = Field(
        default=None, description="The member the call ran for (OAuth tokens, signed-in members); null for API keys."
    )
    outcome: str
    error_code: str | None
    duration_ms: float
    request_id: str
    at: datetime


class AuditPage(_Response):
    items: list[AuditEventOut]
    next_cursor: str | None


# -- connector types ------------------------------------------------------------------------


class LinkedTokenOut(_Response):
    name: str = Field(description="Stored as the credential {provider}:{name}.")
    description: str
    scopes: list[str]


class AuthSchemeOut(_Response):
    kind: str
    description: str
    authorize_url: str | None = None
    token_url: str | None = Field(
        default=None, description="Where the scheme's grant is run, for schemes that run one."
    )
    scopes: list[str] | None = None
    revocable: bool = False
    linked_tokens: list[LinkedTokenOut] = Field(
        default_factory=list, description="Further tokens the same OAuth authorization issues (Slack's user token)."
    )
    fields_schema: dict[str, Any] | None = Field(
        default=None,
        description="JSON Schema of the `fields` to PUT for a credential of this kind (none for NoAuth). "
        "Secret fields are marked `writeOnly`.",
    )
    secret_fields: list[str] = Field(default_factory=list, description="The write-only fields of `fields_schema`.")
    renews_itself: bool = Field(
        default=False,
        description="Whether the server gets and renews this scheme's access tokens itself (no person needed).",
    )


class ConnectorTypeOut(_Response):
    id: str
    title: str
    description: str
    homepage: str
    version: str
    provider: str
    auth: list[AuthSchemeOut]
    groups: list[str]
    default_groups: list[str] | None
    config_schema: dict[str, Any]
    tools: list[ToolOut]


class LoadFailureOut(_Response):
    name: str
    target: str
    reason: str


class ConnectorTypesOut(_Response):
    items: list[ConnectorTypeOut]
    failures: list[LoadFailureOut]


# -- OAuth ----------------------------------------------------------------------------------


class AuthorizeRequest(_Request):
    connector_id: str | None = Field(
        default=None, max_length=63, description="Request the scopes this connector's tool policy needs."
    )
    scopes: list[Scope] | None = Field(default=None, max_length=100, description="Extra scopes to request.")


class AuthorizeResponse(_Response):
    authorization_url: str = Field(
        description="Open this link in the browser that should complete the connection: it works once, in one "
        "browser, which it sends on to the provider; the provider redirects back to redirect_uri, and only "
        "that browser's callback is accepted."
    )
    redirect_uri: str
    expires_at: datetime = Field(description="The authorization must be completed before this time.")
