"""Upstream authentication schemes a connector declares.

A connector lists one or more schemes in `Connector.auth`; a tenant's `Credential`
names the scheme it was made for through `Credential.kind`. Provider quirks (Slack's
nested user token, Notion's Basic auth at the token endpoint, Atlassian's cloud-id
discovery) are expressed with the fields and hooks of `OAuth2`, not with branches in core.

What a credential of a scheme is made of is data: each scheme declares a pydantic model
of the fields an operator supplies (`AuthScheme.Fields`, secrets typed `SecretStr`), and
`credential_from_fields` validates such fields and turns them into a `Credential`: fields
named in the scheme's `field_slots` fill the credential's own attributes (the token, the
account), other secrets go to `Credential.secrets`, everything else to `Credential.extra`.

Schemes that make their own tokens without a person (`ClientCredentials` and `JwtBearer`
in `sagemcp._grants`, GitHub App installation tokens) implement `SelfRefreshingScheme`;
`CredentialManager` gets their first token on first use and renews it when due.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, Protocol, runtime_checkable

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ._models import LINKED_TOKEN_PATTERN, Credential

__all__ = [
    "ApiKey",
    "ApiKeyFields",
    "AuthScheme",
    "BasicAuth",
    "BasicAuthFields",
    "BearerToken",
    "BearerTokenFields",
    "CredentialFields",
    "LinkedToken",
    "NoAuth",
    "OAuth2",
    "OAuth2Fields",
    "PostAuthorizeHook",
    "SelfRefreshingScheme",
    "TokenResponseHook",
    "credential_from_fields",
]

TokenResponseHook = Callable[[dict[str, Any]], dict[str, Any]]
"""Turns a provider's token response into the standard shape (`access_token`, `refresh_token`,
`expires_in`, `scope`, `token_type`, plus anything to keep in `Credential.extra` under `extra`)."""

PostAuthorizeHook = Callable[[Credential, httpx.AsyncClient], Awaitable[Mapping[str, Any]]]
"""Called by `OAuthFlows.complete` with the new credential and an HTTP client that sends its access
token; returns JSON data kept in `Credential.extra[POST_AUTHORIZE_KEY]` (see `OAuth2.post_authorize`)."""

_CREDENTIAL_SLOTS = frozenset({"access_token", "refresh_token", "account", "scopes", "expires_at"})


class CredentialFields(BaseModel):
    """Base of a scheme's `Fields`: what an operator supplies to store a credential of that scheme.

    Secret fields are typed `SecretStr` (their JSON schema says `writeOnly`); unknown fields
    are refused, so a typo is an error naming the field.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


_TokenValue = Annotated[SecretStr, Field(min_length=1, max_length=16384)]
_Scope = Annotated[str, Field(min_length=1, max_length=200)]


class _TokenMetadata(CredentialFields):
    account: str | None = Field(default=None, max_length=512, description="Who the token acts as (login, email).")
    scopes: list[_Scope] = Field(default_factory=list, max_length=200, description="The token's scopes, if known.")
    expires_at: datetime | None = Field(default=None, description="When the token expires; omit if it does not.")


class BearerTokenFields(_TokenMetadata):
    token: _TokenValue = Field(description="Write-only: the token (PAT, bot token...).")


class ApiKeyFields(_TokenMetadata):
    key: _TokenValue = Field(description="Write-only: the API key.")


class BasicAuthFields(CredentialFields):
    username: str = Field(min_length=1, max_length=512, description="The user name (Jira: the account's email).")
    token: _TokenValue = Field(description="Write-only: the password or API token.")
    scopes: list[_Scope] = Field(default_factory=list, max_length=200)
    expires_at: datetime | None = None


class OAuth2Fields(_TokenMetadata):
    access_token: _TokenValue = Field(description="Write-only: an access token obtained elsewhere.")
    refresh_token: _TokenValue | None = Field(
        default=None, description="Write-only: its refresh token; with the tenant's OAuth app it is refreshed."
    )


@dataclass(frozen=True)
class AuthScheme:
    """Base of the schemes; `kind` matches `Credential.kind`."""

    kind: ClassVar[str] = "none"
    Fields: ClassVar[type[CredentialFields]] = CredentialFields
    """The fields a credential of this scheme is stored from (see `credential_from_fields`)."""
    field_slots: ClassVar[Mapping[str, str]] = {}
    """Field name -> the `Credential` attribute it fills (`access_token`, `refresh_token`, `account`,
    `scopes`, `expires_at`). Other secret fields go to `Credential.secrets`, the rest to `extra`."""
    description: str = ""

    def fields_model(self) -> type[CredentialFields]:
        """The fields model of this scheme instance (`Fields`, unless the instance adds fields of its own)."""
        return self.Fields

    def to_credential(self, fields: CredentialFields, *, tenant_id: str, provider: str) -> Credential:
        """A new credential of this scheme from validated `fields` (None values are left out)."""
        slots: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        secrets: dict[str, SecretStr] = {}
        plain = fields.model_dump(mode="json")
        for name in type(fields).model_fields:
            value = getattr(fields, name)
            if value is None:
                continue
            slot = self.field_slots.get(name)
            if slot is not None:
                if slot not in _CREDENTIAL_SLOTS:
                    raise ValueError(f"{type(self).__name__}.field_slots maps {name!r} to unknown slot {slot!r}")
                slots[slot] = value.timestamp() if isinstance(value, datetime) else value
            elif isinstance(value, SecretStr):
                secrets[name] = value
            else:
                extra[name] = plain[name]
        return Credential(tenant_id=tenant_id, provider=provider, kind=self.kind, extra=extra, secrets=secrets, **slots)

    def headers(self, credential: Credential | None) -> dict[str, str]:
        """The headers that authenticate an upstream request with `credential`."""
        return {}

    def query(self, credential: Credential | None) -> dict[str, str]:
        """Query parameters that authenticate an upstream request (rarely used)."""
        return {}


@dataclass(frozen=True)
class NoAuth(AuthScheme):
    kind: ClassVar[str] = "none"


@dataclass(frozen=True)
class LinkedToken:
    """A second token that the same authorization issues, with scopes of its own.

    Slack returns a user token (under `authed_user`) next to the bot token when the
    authorize URL also asks for `user_scope`. The connector's `token_response_hook`
    returns it under `linked[name]` in the standard shape; it is stored as its own
    credential under `linked_provider(provider, name)` (`"slack:user"`), refreshed and
    revoked on its own, and used by the tools declared with `@tool(token=name)`, whose
    `scopes` it requests (`Connector.linked_oauth_scopes`).
    """

    name: str
    scope_param: str
    """The authorize parameter carrying its scopes (Slack: `user_scope`)."""
    scopes: tuple[str, ...] = ()
    """Scopes always requested for this token; the enabled tools declared with its `token=` add theirs."""
    description: str = ""

    def __post_init__(self) -> None:
        if not re.match(LINKED_TOKEN_PATTERN, self.name):
            raise ValueError(f"LinkedToken name {self.name!r} must match {LINKED_TOKEN_PATTERN}")


@dataclass(frozen=True)
class OAuth2(AuthScheme):
    """The OAuth 2.0 authorization-code flow (with PKCE S256 when `pkce`)."""

    kind: ClassVar[str] = "oauth2"
    authorize_url: str = ""
    token_url: str = ""
    scopes: tuple[str, ...] = ()
    """Scopes always requested; the enabled tools' `@tool(scopes=...)` are added (`Connector.oauth_scopes`)."""
    revoke_url: str | None = None
    pkce: bool = True
    token_auth_method: Literal["client_secret_post", "client_secret_basic", "none"] = "client_secret_post"
    scope_separator: str = " "
    scope_param: str = "scope"
    extra_authorize_params: Mapping[str, str] = field(default_factory=dict)
    refreshable: bool = True
    token_response_hook: TokenResponseHook | None = None
    linked_tokens: tuple[LinkedToken, ...] = ()
    """Further tokens the authorization issues (Slack's user token); see `LinkedToken`."""
    revocation: Literal["rfc7009", "bearer"] = "rfc7009"
    """How `revoke_url` is called: an RFC 7009 request with client authentication (the refresh token
    when there is one), or `"bearer"`: a POST authenticated with the access token itself (Slack's
    `auth.revoke`). Either way a 2xx answer whose JSON says `"ok": false` or has an `error` is a failure."""
    post_authorize: PostAuthorizeHook | None = None
    """Runs once an authorization's code is exchanged, with the new credential and an HTTP client that
    sends its access token, to learn what the grant reaches (Atlassian's `accessible-resources`: cloud ids
    and site URLs; Notion's workspace; Slack's team). What it returns is kept, as JSON, in
    `Credential.extra[POST_AUTHORIZE_KEY]`. If it raises, the authorization fails and nothing is stored."""

    Fields: ClassVar[type[CredentialFields]] = OAuth2Fields
    field_slots: ClassVar[Mapping[str, str]] = {
        "access_token": "access_token",
        "refresh_token": "refresh_token",
        "account": "account",
        "scopes": "scopes",
        "expires_at": "expires_at",
    }

    def __post_init__(self) -> None:
        names = [linked.name for linked in self.linked_tokens]
        if len(set(names)) != len(names):
            raise ValueError(f"OAuth2.linked_tokens names must be unique, got {names}")
        params = [linked.scope_param for linked in self.linked_tokens]
        if self.scope_param in params or len(set(params)) != len(params):
            raise ValueError("each linked token needs a scope parameter of its own, other than scope_param")

    def headers(self, credential: Credential | None) -> dict[str, str]:
        if credential is None:
            return {}
        return {"Authorization": f"Bearer {credential.require_token()}"}


@dataclass(frozen=True)
class BearerToken(AuthScheme):
    """A long-lived token pasted by the operator (GitHub PAT, Slack bot token...)."""

    kind: ClassVar[str] = "bearer"
    Fields: ClassVar[type[CredentialFields]] = BearerTokenFields
    field_slots: ClassVar[Mapping[str, str]] = {
        "token": "access_token",
        "account": "account",
        "scopes": "scopes",
        "expires_at": "expires_at",
    }
    header: str = "Authorization"
    prefix: str = "Bearer"

    def headers(self, credential: Credential | None) -> dict[str, str]:
        if credential is None:
            return {}
        token = credential.require_token()
        return {self.header: f"{self.prefix} {token}" if self.prefix else token}


@dataclass(frozen=True)
class ApiKey(AuthScheme):
    """A key sent in a header (or, for old APIs, the query string) with a format like `"Token {token}"`."""

    kind: ClassVar[str] = "api_key"
    Fields: ClassVar[type[CredentialFields]] = ApiKeyFields
    field_slots: ClassVar[Mapping[str, str]] = {
        "key": "access_token",
        "account": "account",
        "scopes": "scopes",
        "expires_at": "expires_at",
    }
    header: str = "X-API-Key"
    format: str = "{token}"
    query_param: str | None = None

    def headers(self, credential: Credential | None) -> dict[str, str]:
        if credential is None or self.query_param:
            return {}
        return {self.header: self.format.format(token=credential.require_token())}

    def query(self, credential: Credential | None) -> dict[str, str]:
        if credential is None or not self.query_param:
            return {}
        return {self.query_param: credential.require_token()}


@dataclass(frozen=True)
class BasicAuth(AuthScheme):
    """HTTP Basic with `Credential.account` as user and the token as password (Jira email + API token)."""

    kind: ClassVar[str] = "basic"
    Fields: ClassVar[type[CredentialFields]] = BasicAuthFields
    field_slots: ClassVar[Mapping[str, str]] = {
        "username": "account",
        "token": "access_token",
        "scopes": "scopes",
        "expires_at": "expires_at",
    }

    def headers(self, credential: Credential | None) -> dict[str, str]:
        if credential is None:
            return {}
        raw = f"{credential.account or ''}:{credential.require_token()}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}


@runtime_checkable
class SelfRefreshingScheme(Protocol):
    """A scheme that makes its own short-lived tokens from the credential's fields and secrets, without a
    person: the client-credentials and JWT-bearer grants (`sagemcp._grants`), GitHub App installation tokens.

    `CredentialManager` calls `refresh_credential` when the credential has no access token
    yet or it is due, under the same single-flight and store lock as an OAuth refresh, and
    stores the result with the next `version`. It returns the credential with a new
    `access_token` and `expires_at` (its fields and secrets kept). A refusal raises
    `TokenEndpointError` with the OAuth error code (`invalid_client`, `invalid_grant`,
    `unauthorized_client` mark the credential for reconnection; HTTP 429 / 5xx and
    `UNREACHABLE` are passing failures); a credential that lacks what the exchange needs
    raises `ReconnectRequired` before anything is sent. `httpx` errors from `http` are
    turned into `TokenEndpointError(UNREACHABLE)` by the caller.
    """

    async def refresh_credential(self, credential: Credential, http: httpx.AsyncClient) -> Credential: ...


def credential_from_fields(
    scheme: AuthScheme, fields: Mapping[str, Any] | CredentialFields, *, tenant_id: str, provider: str
) -> Credential:
    """Validate `fields` against the scheme's fields model and make a new credential of the scheme.

    Raises pydantic's `ValidationError`, naming each bad field (never echoing its value
    in the message), when the fields do not fit.
    """
    model = scheme.fields_model()
    validated = fields if isinstance(fields, model) else model.model_validate(fields)
    return scheme.to_credential(validated, tenant_id=tenant_id, provider=provider)
