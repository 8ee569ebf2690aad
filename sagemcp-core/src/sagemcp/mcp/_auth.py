"""Caller authentication for the MCP endpoints: pluggable, API keys by default, OAuth access tokens through a
`TokenVerifier`, anonymous only on request."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from starlette.requests import HTTPConnection

from .._cache import TTLCache
from .._models import Principal
from .._store import TenantStore
from ._http import header

__all__ = [
    "AllowAnonymous",
    "ApiKeyAuthenticator",
    "BearerTokenAuthenticator",
    "CallerAuthenticator",
    "ChainAuthenticator",
    "InvalidationSource",
    "TokenVerifier",
    "bearer_token",
]

MAX_TOKEN_CHARS = 4096
"""Longer bearer tokens are refused without any work (no hashing, no verification)."""
RESOURCE_SCOPE_KEY = "sagemcp.resource"
"""Where the MCP app puts the canonical resource URL of the endpoint requested, in the ASGI scope."""

ANONYMOUS = Principal(id="anonymous", kind="anonymous", name="anonymous")


@runtime_checkable
class CallerAuthenticator(Protocol):
    async def authenticate(self, conn: HTTPConnection) -> Principal | None:
        """The principal behind a request, or None when it presents no valid credentials."""
        ...


@runtime_checkable
class InvalidationSource(Protocol):
    """An authenticator that can say when its cached answers were invalidated (a key revoked in this process)."""

    def on_invalidate(self, listener: Callable[[], None]) -> None:
        """Call `listener` (which must not block) after every invalidation."""
        ...


def bearer_token(conn: HTTPConnection, *, query_param: str | None = None) -> str | None:
    """The token of an `Authorization: Bearer` header.

    `query_param` also accepts the token in the query string of WebSocket upgrades, for
    browser clients that cannot set headers. Off by default: URLs end up in access logs.
    """
    # The raw header list, not `conn.headers`: this runs on every request, and a `Headers` view costs more.
    value = header(conn.scope, b"authorization") or ""
    scheme, _, token = value.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if query_param and conn.scope.get("type") == "websocket":
        return conn.query_params.get(query_param) or None
    return None


class ApiKeyAuthenticator:
    """Tenant and platform API keys verified by the store, cached briefly by key hash.

    A revoked key stops working on this process at once when the revoking code calls
    `invalidate()`, and on other replicas within `ttl` seconds. The MCP app listens to
    `invalidate()` and re-admits its open streams then, so a revoked key's streams close too.
    """

    def __init__(
        self, store: TenantStore, ttl: float = 5.0, maxsize: int = 50_000, *, websocket_query_param: str | None = None
    ) -> None:
        self.store = store
        self.websocket_query_param = websocket_query_param
        self._cache: TTLCache[str, Principal] = TTLCache(ttl, maxsize)
        self._listeners: list[Callable[[], None]] = []

    async def authenticate(self, conn: HTTPConnection) -> Principal | None:
        token = bearer_token(conn, query_param=self.websocket_query_param)
        if token is None or len(token) > 512:
            return None
        digest = hashlib.sha256(token.encode()).hexdigest()
        return await self._cache.get_or_load(digest, lambda: self.store.verify_api_key(token))

    def invalidate(self) -> None:
        self._cache.invalidate()
        for listener in self._listeners:
            listener()

    def on_invalidate(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)


@runtime_checkable
class TokenVerifier(Protocol):
    """Verifies OAuth access tokens for the MCP endpoints (the built-in authorization server's, or an issuer's JWTs).

    `resource` is the canonical resource URL (RFC 8707) of the endpoint the request is for,
    `McpSettings.resource_url(conn)`: a verifier checking audiences checks it against the
    token; one that knows the resource a token was issued for may ignore it and set
    `Principal.resource`, which admission compares with the requested endpoint.
    """

    async def verify(self, token: str, resource: str) -> Principal | None:
        """The principal (`kind="oauth"`, tenant, user, scopes, resource) of a valid token, or None.

        Raise a `SageMCPError` (e.g. `IssuerUnavailable`) when the token cannot be checked
        now: the caller then gets 503, not a 401 that would send it through sign-in again.
        """
        ...


class BearerTokenAuthenticator:
    """OAuth access tokens of `Authorization: Bearer` headers, verified by a `TokenVerifier`, cached briefly.

    Answers are cached by the SHA-256 of the token and the requested resource for `ttl`
    seconds, so a revoked token keeps working on other replicas for at most that long;
    code revoking a token in this process calls `invalidate()`, which also re-admits the
    MCP app's open streams. Tokens longer than 4 KB are refused unread.

    The resource asked about is the canonical resource URL of the endpoint requested, which
    the MCP app computes (`McpSettings.resource_url`) and puts in the ASGI scope before
    authenticating; `resource_url` computes it instead, for use outside the MCP app.
    """

    def __init__(
        self,
        verifier: TokenVerifier,
        *,
        resource_url: Callable[[HTTPConnection], str] | None = None,
        ttl: float = 5.0,
        maxsize: int = 50_000,
        websocket_query_param: str | None = None,
    ) -> None:
        self.verifier = verifier
        self.resource_url = resource_url
        self.websocket_query_param = websocket_query_param
        self._cache: TTLCache[str, Principal] = TTLCache(ttl, maxsize)
        self._listeners: list[Callable[[], None]] = []

    async def authenticate(self, conn: HTTPConnection) -> Principal | None:
        token = bearer_token(conn, query_param=self.websocket_query_param)
        if token is None or len(token) > MAX_TOKEN_CHARS:
            return None
        resource = self.resource_url(conn) if self.resource_url is not None else conn.scope.get(RESOURCE_SCOPE_KEY)
        if not isinstance(resource, str):
            raise RuntimeError(
                "BearerTokenAuthenticator outside the MCP app needs resource_url= (e.g. McpSettings.resource_url)"
            )
        digest = hashlib.sha256(f"{resource}\n{token}".encode()).hexdigest()
        return await self._cache.get_or_load(digest, lambda: self.verifier.verify(token, resource))

    def invalidate(self) -> None:
        """Forget every cached answer (a token was revoked in this process) and tell the listeners."""
        self._cache.invalidate()
        for listener in self._listeners:
            listener()

    def on_invalidate(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)


class AllowAnonymous:
    """Everyone is let in as the anonymous principal. Only for deliberately open, local setups."""

    async def authenticate(self, conn: HTTPConnection) -> Principal | None:
        return ANONYMOUS


class ChainAuthenticator:
    """The first authenticator that recognises the request wins (API keys, then OAuth tokens...)."""

    def __init__(self, authenticators: Sequence[CallerAuthenticator]) -> None:
        self.authenticators = list(authenticators)

    def on_invalidate(self, listener: Callable[[], None]) -> None:
        """Listen to every member that can say when it was invalidated."""
        for auth in self.authenticators:
            if isinstance(auth, InvalidationSource):
                auth.on_invalidate(listener)

    async def authenticate(self, conn: HTTPConnection) -> Principal | None:
        for auth in self.authenticators:
            principal = await auth.authenticate(conn)
            if principal is not None:
                return principal
        return None
