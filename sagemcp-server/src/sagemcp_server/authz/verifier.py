"""Access tokens at the MCP endpoints: the built-in authorization server's `TokenVerifier`, and the
authenticator that sends each bearer credential to the one place that can check it.

`BuiltinTokenVerifier.verify` accepts an access token of this server while it is
unexpired and unrevoked, its user is active and still a member of its tenant, and the tenant
is active (one query). The principal names the token's grant (`oauth:<family id>`, stable
across refreshes, so open streams survive a refresh), the tenant, the user, the scopes and
the resource the token was issued for, which the MCP app compares with the endpoint requested.

`KeyOrTokenAuthenticator` looks at the shape of the credential first: an access token
(`smcpat_...`, or a JWT for an external issuer) goes only to the token authenticator, anything
else only to the API keys, so neither is ever looked up as the other.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import HTTPConnection

from sagemcp.mcp import CallerAuthenticator, InvalidationSource, bearer_token
from sagemcp.platform import Principal

from . import tokens
from .store import AuthorizationStore

__all__ = ["BuiltinTokenVerifier", "KeyOrTokenAuthenticator", "looks_like_jwt"]


class BuiltinTokenVerifier:
    """The `sagemcp.mcp.TokenVerifier` of this server's access tokens."""

    def __init__(self, store: AuthorizationStore) -> None:
        self.store = store

    async def verify(self, token: str, resource: str) -> Principal | None:
        if not tokens.is_access_token(token):
            return None
        grant = await self.store.grant_for_access_token(tokens.digest(token))
        if grant is None:
            return None
        return Principal(
            id=f"oauth:{grant.family_id}",
            kind="oauth",
            tenant_id=grant.tenant_id,
            user_id=grant.user_id,
            scopes=frozenset(grant.scopes),
            resource=grant.resource,
            name=grant.client_name[:200],
        )


def looks_like_jwt(token: str) -> bool:
    """Whether a bearer credential has the shape of a JWS (three dot-separated parts); API keys have no dots."""
    return token.count(".") == 2


class KeyOrTokenAuthenticator:
    """API keys and access tokens on the same `Authorization: Bearer` header, told apart by their shape."""

    def __init__(self, keys: CallerAuthenticator, tokens: CallerAuthenticator, is_token: Callable[[str], bool]) -> None:
        self.keys = keys
        self.tokens = tokens
        self.is_token = is_token

    async def authenticate(self, conn: HTTPConnection) -> Principal | None:
        credential = bearer_token(conn)
        if credential is not None and self.is_token(credential):
            return await self.tokens.authenticate(conn)
        return await self.keys.authenticate(conn)

    def on_invalidate(self, listener: Callable[[], None]) -> None:
        for member in (self.keys, self.tokens):
            if isinstance(member, InvalidationSource):
                member.on_invalidate(listener)
