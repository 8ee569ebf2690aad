"""Caller authentication for the MCP endpoints: pluggable, API keys by default, anonymous only on request."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from starlette.requests import HTTPConnection

from .._cache import TTLCache
from .._models import Principal
from .._store import TenantStore

__all__ = [
    "AllowAnonymous",
    "ApiKeyAuthenticator",
    "CallerAuthenticator",
    "ChainAuthenticator",
    "InvalidationSource",
    "bearer_token",
]

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
    header = conn.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
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
