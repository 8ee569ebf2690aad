"""Data the platform keeps per tenant: tenants, connectors, credentials, OAuth apps, principals.

These are the shapes the `TenantStore` protocol speaks. Secrets are `SecretStr`, so a
model printed or logged by accident shows `**********`, never the value.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from .errors import NotConnected

__all__ = [
    "MAX_PINNED_TOOLS",
    "POST_AUTHORIZE_KEY",
    "SECRET_NAME_PATTERN",
    "SLUG_PATTERN",
    "ApiKeyRecord",
    "AuditEvent",
    "CallLimits",
    "ConnectorConfig",
    "Credential",
    "CredentialStatus",
    "OAuthApp",
    "Principal",
    "Tenant",
    "ToolPolicy",
    "base_provider",
    "linked_provider",
    "new_id",
    "utcnow",
]

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
_SLUG_RE = re.compile(SLUG_PATTERN)


def new_id() -> str:
    """A random identifier (UUID4 hex) for new rows."""
    # `uuid.uuid4().hex` without building a `UUID` (every tool call's audit event takes one): 122 random bits,
    # version 4 and the RFC 4122 variant set as uuid4 sets them.
    return f"{int.from_bytes(os.urandom(16)) & _UUID4_CLEAR | _UUID4_SET:032x}"


_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


def utcnow() -> datetime:
    return datetime.now(UTC)


SECRET_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
"""Names of a credential's named secrets (`private_key`, `client_secret`)."""
_SECRET_NAME_RE = re.compile(SECRET_NAME_PATTERN)

POST_AUTHORIZE_KEY = "post_authorize"
"""`Credential.extra[POST_AUTHORIZE_KEY]` holds what `OAuth2.post_authorize` returned when the account was
connected (Atlassian's sites and cloud ids, Notion's workspace, Slack's team)."""

LINKED_TOKEN_PATTERN = r"^[a-z][a-z0-9_]{0,14}$"
_LINKED_RE = re.compile(LINKED_TOKEN_PATTERN)


def linked_provider(provider: str, name: str) -> str:
    """The provider key of a linked credential: `"slack:user"` for Slack's user token next to the bot token.

    A linked credential is a second token one authorization produced (see `OAuth2.linked_tokens`),
    or one an operator stored under that key; tools declared with `@tool(token=name)` use it.
    """
    if not _LINKED_RE.match(name):
        raise ValueError(f"linked token name {name!r} must match {LINKED_TOKEN_PATTERN}")
    return f"{base_provider(provider)}:{name}"


def base_provider(provider: str) -> str:
    """The provider a (possibly linked) credential key belongs to: `"slack"` for `"slack:user"`."""
    return provider.partition(":")[0]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


_LIMIT = Field(default=None, ge=0, le=1_000_000)


class CallLimits(_Model):
    """How many tool calls a tenant may make: each None takes the server's default, 0 means no limit.

    Enforced on all replicas together when they share a Redis (`sagemcp.CallGuard`).
    """

    calls_per_minute: int | None = _LIMIT
    """Tool calls of the tenant in any rolling 60 seconds."""
    concurrent_calls: int | None = _LIMIT
    """Tool calls of the tenant running at once."""
    credential_calls_per_minute: int | None = _LIMIT
    """Tool calls in any rolling 60 seconds with one upstream credential (a tenant's GitHub token, a member's own)."""

    def over(self, defaults: CallLimits) -> CallLimits:
        """These limits with each unset one taken from `defaults`."""
        return CallLimits(
            calls_per_minute=_pick(self.calls_per_minute, defaults.calls_per_minute),
            concurrent_calls=_pick(self.concurrent_calls, defaults.concurrent_calls),
            credential_calls_per_minute=_pick(self.credential_calls_per_minute, defaults.credential_calls_per_minute),
        )


def _pick(own: int | None, default: int | None) -> int | None:
    return own if own is not None else default


MAX_PINNED_TOOLS = 20
"""Pinned tools a tenant (or a connector) may list beside the meta-tools in discovery mode."""


class Tenant(_Model):
    """An organisation using the platform; everything else hangs off one."""

    id: str = Field(default_factory=new_id)
    slug: str
    name: str = ""
    active: bool = True
    generation: int = 0
    """Bumped by stores that track changes whenever the tenant, its connectors or its credentials
    change (`sagemcp._store.ChangeTracking`): caches compare it to revalidate cheaply."""
    limits: CallLimits = Field(default_factory=CallLimits)
    """The tenant's own tool-call limits; unset ones are the server's defaults."""
    discovery: bool = False
    """Discovery mode: the tenant-wide endpoint lists the meta-tools (search, describe, call) and the
    pinned tools instead of every enabled tool (an API key may choose otherwise)."""
    pinned_tools: list[str] = Field(default_factory=list, max_length=MAX_PINNED_TOOLS)
    """Tools listed beside the meta-tools in discovery mode, by their tenant-wide names."""

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG_RE.match(value):
            raise ValueError("slug must be 1-63 lowercase letters, digits or hyphens, not starting or ending with '-'")
        return value


class ToolPolicy(_Model):
    """Which tools of a connector may be listed and called.

    A tool is enabled when its group is in `groups` (or, if `groups` is None, in the
    connector's default groups) or it is named in `include_tools`; it is then
    disabled again if named in `exclude_tools`, or if `read_only` is on and the
    tool is not read-only. The policy is enforced when a tool is called, not only
    when tools are listed.
    """

    groups: list[str] | None = None
    include_tools: list[str] = Field(default_factory=list)
    exclude_tools: list[str] = Field(default_factory=list)
    read_only: bool = False


class ConnectorConfig(_Model):
    """One connector instance configured for a tenant (e.g. the tenant's GitHub)."""

    id: str = Field(default_factory=new_id)
    tenant_id: str
    connector_type: str
    name: str
    description: str = ""
    enabled: bool = True
    configuration: dict[str, Any] = Field(default_factory=dict)
    tool_policy: ToolPolicy = Field(default_factory=ToolPolicy)
    provider: str | None = None
    """Credential provider key; None means the connector type's own provider."""
    connection_mode: Literal["shared", "per_user"] = "shared"
    """`shared`: calls use the tenant's one credential. `per_user`: each call uses the calling member's own
    credential (`Principal.user_id`), never another member's; a caller without a user cannot use it."""
    discovery: bool = False
    """Discovery mode on this connector's own endpoint: it lists the meta-tools (search, describe, call) and
    `pinned_tools` instead of every enabled tool (an API key may choose otherwise). The tenant-wide endpoint
    follows `Tenant.discovery`."""
    pinned_tools: list[str] = Field(default_factory=list, max_length=MAX_PINNED_TOOLS)
    """Tools listed beside the meta-tools on the connector's endpoint in discovery mode, by the names that
    endpoint serves (the tool's own, unprefixed); pins of tools the policy does not enable are not listed."""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _SLUG_RE.match(value):
            raise ValueError("connector name must be 1-63 lowercase letters, digits or hyphens")
        return value


class CredentialStatus(StrEnum):
    ACTIVE = "active"
    RECONNECT_REQUIRED = "reconnect_required"


class Credential(_Model):
    """An upstream credential of a tenant for one provider.

    `version` increases on every update; stores compare it to make updates
    compare-and-swap, so two processes refreshing at once cannot clobber each other.
    """

    id: str = Field(default_factory=new_id)
    tenant_id: str
    provider: str
    user_id: str | None = None
    """The member this credential belongs to (`per_user` connectors); None for the tenant's shared credential."""
    kind: str = Field(default="oauth2", pattern=r"^[a-z][a-z0-9_]{0,31}$")
    """The auth scheme it is for: "oauth2", "bearer", "api_key", "basic", or a connector's own (e.g. "github_app")."""
    access_token: SecretStr | None = None
    """The token sent upstream; None while there is none yet (a scheme that makes its own tokens, such as
    `ClientCredentials` or a GitHub App, gets the first one when the credential is first used)."""
    refresh_token: SecretStr | None = None
    token_type: str = "Bearer"
    expires_at: float | None = None
    """Unix time at which the access token expires; None if it does not."""
    scopes: list[str] = Field(default_factory=list)
    account: str | None = None
    """Who the credential acts as (login, email, workspace), for people."""
    extra: dict[str, Any] = Field(default_factory=dict)
    """Data that is not secret: the scheme's plain fields (an App ID, a client id) and provider data (Slack
    team, Atlassian cloud ids; see `POST_AUTHORIZE_KEY`)."""
    secrets: dict[str, SecretStr] = Field(default_factory=dict)
    """Named secrets of the scheme (a private key, a client secret): encrypted at rest like the tokens and
    never returned by an API."""
    status: CredentialStatus = CredentialStatus.ACTIVE
    version: int = 1
    origins: tuple[str, ...] | None = None
    """The upstream origins (`https://api.github.com`) the credential was stored or authorized for: it is
    sent to no other (`sagemcp._execution.credential_binding` computes them from a connector's configuration).
    A refresh keeps them; storing the credential again binds it anew. None: not bound to any origin (stored
    by an earlier version, or by code that does not bind credentials)."""

    @field_validator("secrets")
    @classmethod
    def _secret_names(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for name in value:
            if not _SECRET_NAME_RE.match(name):
                raise ValueError(f"secret names must match {SECRET_NAME_PATTERN}")
        return value

    def expires_within(self, seconds: float, now: float | None = None) -> bool:
        if self.expires_at is None:
            return False
        return self.expires_at - (time.time() if now is None else now) <= seconds

    def require_token(self) -> str:
        """The access token's value; `NotConnected` when the credential has none yet."""
        if self.access_token is None:
            if self.user_id is not None:
                raise NotConnected(
                    f"your {self.provider} credential has no access token yet: connect your {self.provider} "
                    "account again"
                )
            raise NotConnected(
                f"the {self.provider} credential of this tenant has no access token yet: connect {self.provider} "
                "again, or let the credential manager obtain one"
            )
        return self.access_token.get_secret_value()

    def secret(self, name: str) -> str | None:
        """The value of the named secret, or None when the credential has no such secret."""
        value = self.secrets.get(name)
        return value.get_secret_value() if value is not None else None


class OAuthApp(_Model):
    """A tenant's OAuth client registration with one provider."""

    tenant_id: str
    provider: str
    client_id: str
    client_secret: SecretStr | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


PrincipalKind = Literal["api_key", "oauth", "user", "platform_admin", "anonymous"]


class Principal(_Model):
    """Who is calling: a tenant API key, an OAuth bearer token, a signed-in member, the platform admin, or nobody.

    `tenant_id` None means platform-wide (the admin). `connector_id` limits a key to
    one connector. `user_id` is the member the caller acts for (OAuth tokens, member
    sessions): `per_user` connectors use that member's own credentials.
    """

    id: str
    kind: PrincipalKind
    tenant_id: str | None = None
    scopes: frozenset[str] = frozenset()
    connector_id: str | None = None
    name: str = ""
    user_id: str | None = None
    resource: str | None = None
    """For OAuth tokens: the one MCP endpoint URL (RFC 8707 resource) the token was issued for."""
    discovery: bool | None = None
    """An API key's choice of discovery mode on the MCP endpoints (tenant-wide and per connector); None: the
    tenant's setting on the tenant-wide endpoint, the connector's on a connector's endpoint."""

    def can_use(self, tenant_id: str, connector_ids: Iterable[str] | None = None, scope: str = "mcp") -> bool:
        """Whether this principal may act on `tenant_id` (and every connector named) with `scope`."""
        if self.kind in ("platform_admin", "anonymous"):
            return True
        if scope not in self.scopes:
            return False
        if self.tenant_id != tenant_id:
            return False
        if self.connector_id is not None and connector_ids is not None:
            return all(cid == self.connector_id for cid in connector_ids)
        return True


class ApiKeyRecord(_Model):
    """A stored API key: only the hash of the key is kept."""

    id: str = Field(default_factory=new_id)
    tenant_id: str | None
    name: str = ""
    prefix: str
    key_hash: str
    scopes: frozenset[str] = frozenset({"mcp"})
    connector_id: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    revoked: bool = False
    discovery: bool | None = None
    """Discovery mode for this key's calls to the MCP endpoints; None: the tenant's setting on the tenant-wide
    endpoint, the connector's on a connector's endpoint."""


class AuditEvent(_Model):
    """One tool call, as recorded for the tenant's audit trail. Never holds secrets or arguments."""

    id: str = Field(default_factory=new_id)
    tenant_id: str
    connector_id: str
    connector_type: str
    tool: str
    principal_id: str
    user_id: str | None = None
    """The member the call ran for, when the caller acts for one."""
    outcome: Literal["ok", "error", "denied", "invalid", "limited", "upstream_error"]
    error_code: str | None = None
    duration_ms: float
    request_id: str
    at: datetime = Field(default_factory=utcnow)
