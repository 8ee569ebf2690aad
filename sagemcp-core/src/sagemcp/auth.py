"""Upstream authentication schemes a connector declares.

A connector lists one or more schemes in `Connector.auth`; a tenant's `Credential`
names the scheme it was made for through `Credential.kind`. Provider quirks (Slack's
nested user token, Notion's Basic auth at the token endpoint) are expressed with the
fields and the `token_response_hook` of `OAuth2`, not with branches in core.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable

from .models import LINKED_TOKEN_PATTERN, Credential

if TYPE_CHECKING:
    import httpx

__all__ = [
    "ApiKey",
    "AuthScheme",
    "BasicAuth",
    "BearerToken",
    "LinkedToken",
    "NoAuth",
    "OAuth2",
    "SelfRefreshingScheme",
    "TokenResponseHook",
]

TokenResponseHook = Callable[[dict[str, Any]], dict[str, Any]]
"""Turns a provider's token response into the standard shape (`access_token`, `refresh_token`,
`expires_in`, `scope`, `token_type`, plus anything to keep in `Credential.extra` under `extra`)."""


@dataclass(frozen=True)
class AuthScheme:
    """Base of the schemes; `kind` matches `Credential.kind`."""

    kind: ClassVar[str] = "none"
    description: str = ""

    def headers(self, credential: Credential | None) -> dict[str, str]:
        """The headers that authenticate an upstream request with `credential`."""
        return {}

    def query(self, credential: Credential | None) -> dict[str, str]:
        """Query parameters that authenticate an upstream request (rarely used)."""
        return {}


@dataclass(frozen=True)
class NoAuth(AuthScheme):
    kind: ClassVar[str] = "none"


def _scopes_for(
    always: tuple[str, ...], by_group: Mapping[str, tuple[str, ...]], groups: list[str] | None
) -> list[str]:
    wanted = list(always)
    for group, scopes in by_group.items():
        if groups is None or group in groups:
            wanted.extend(scopes)
    return list(dict.fromkeys(wanted))


@dataclass(frozen=True)
class LinkedToken:
    """A second token that the same authorization issues, with scopes of its own.

    Slack returns a user token (under `authed_user`) next to the bot token when the
    authorize URL also asks for `user_scope`. The connector's `token_response_hook`
    returns it under `linked[name]` in the standard shape; it is stored as its own
    credential under `linked_provider(provider, name)` (`"slack:user"`), refreshed and
    revoked on its own, and used by the tools declared with `@tool(token=name)`.
    """

    name: str
    scope_param: str
    """The authorize parameter carrying its scopes (Slack: `user_scope`)."""
    scopes: tuple[str, ...] = ()
    scopes_by_group: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        if not re.match(LINKED_TOKEN_PATTERN, self.name):
            raise ValueError(f"LinkedToken name {self.name!r} must match {LINKED_TOKEN_PATTERN}")

    def scopes_for(self, groups: list[str] | None) -> list[str]:
        """Scopes to request for this token when `groups` are enabled (all groups when None)."""
        return _scopes_for(self.scopes, self.scopes_by_group, groups)


@dataclass(frozen=True)
class OAuth2(AuthScheme):
    """The OAuth 2.0 authorization-code flow (with PKCE S256 when `pkce`)."""

    kind: ClassVar[str] = "oauth2"
    authorize_url: str = ""
    token_url: str = ""
    scopes: tuple[str, ...] = ()
    """Scopes always requested."""
    scopes_by_group: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Extra scopes requested when a tool group is enabled."""
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
        return {"Authorization": f"Bearer {credential.access_token.get_secret_value()}"}

    def scopes_for(self, groups: list[str] | None) -> list[str]:
        """Scopes to request when `groups` are enabled (all groups when None), without duplicates."""
        return _scopes_for(self.scopes, self.scopes_by_group, groups)

    def linked_scopes_for(self, groups: list[str] | None) -> dict[str, list[str]]:
        """Scopes of each linked token for `groups`, leaving out tokens that need none."""
        wanted = {linked.name: linked.scopes_for(groups) for linked in self.linked_tokens}
        return {name: scopes for name, scopes in wanted.items() if scopes}


@dataclass(frozen=True)
class BearerToken(AuthScheme):
    """A long-lived token pasted by the operator (GitHub PAT, Slack bot token...)."""

    kind: ClassVar[str] = "bearer"
    header: str = "Authorization"
    prefix: str = "Bearer"

    def headers(self, credential: Credential | None) -> dict[str, str]:
        if credential is None:
            return {}
        token = credential.access_token.get_secret_value()
        return {self.header: f"{self.prefix} {token}" if self.prefix else token}


@dataclass(frozen=True)
class ApiKey(AuthScheme):
    """A key sent in a header (or, for old APIs, the query string) with a format like `"Token {token}"`."""

    kind: ClassVar[str] = "api_key"
    header: str = "X-API-Key"
    format: str = "{token}"
    query_param: str | None = None

    def headers(self, credential: Credential | None) -> dict[str, str]:
        if credential is None or self.query_param:
            return {}
        return {self.header: self.format.format(token=credential.access_token.get_secret_value())}

    def query(self, credential: Credential | None) -> dict[str, str]:
        if credential is None or not self.query_param:
            return {}
        return {self.query_param: credential.access_token.get_secret_value()}


@dataclass(frozen=True)
class BasicAuth(AuthScheme):
    """HTTP Basic with `Credential.account` as user and the token as password (Jira email + API token)."""

    kind: ClassVar[str] = "basic"

    def headers(self, credential: Credential | None) -> dict[str, str]:
        if credential is None:
            return {}
        raw = f"{credential.account or ''}:{credential.access_token.get_secret_value()}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}


@runtime_checkable
class SelfRefreshingScheme(Protocol):
    """A scheme that renews its own short-lived tokens (e.g. GitHub App installation tokens).

    `CredentialManager` calls `refresh_credential` under the same single-flight and
    store lock as an OAuth refresh. It returns the credential with a new token and
    `expires_at`; failures raise `TokenEndpointError`.
    """

    async def refresh_credential(self, credential: Credential, http: httpx.AsyncClient) -> Credential: ...
