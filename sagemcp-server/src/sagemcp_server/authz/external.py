"""An external authorization server's JWT access tokens at the MCP endpoints (`SAGEMCP_AUTH_MODE=external`).

Core's `JwtTokenVerifier` checks a token's signature (the issuer's JWKS), issuer, lifetime,
audience and scopes; `ExternalPrincipals.principal_for` then maps it to a member of a tenant:

- the tenant is the one whose MCP endpoint the token's audience names (the canonical
  resource URL of the endpoint requested); with `SAGEMCP_AUTH_AUDIENCE` (for issuers that
  put one fixed audience in every token) the tenant of the endpoint requested;
- the user is the one linked to the token's (issuer, `sub`) in `user_identities` (people
  who signed in through that issuer as an OpenID Connect provider are linked), or else,
  unless `SAGEMCP_AUTH_MATCH_EMAIL=false`, the user whose e-mail address is the token's
  `email` claim when `email_verified` is true;
- the user must be active and a member of the tenant; otherwise the token is refused.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING

from sagemcp.mcp import JwtTokenVerifier, McpSettings, VerifiedJwt
from sagemcp.platform import Principal

if TYPE_CHECKING:
    from ..db.people import PeopleStore
    from ..db.store import SqlStore
    from ..settings import Settings

__all__ = ["ExternalPrincipals", "external_verifier"]

logger = logging.getLogger("sagemcp_server.authz")


class ExternalPrincipals:
    """Maps a verified external access token to a member of the tenant it is for (see the module docstring)."""

    def __init__(self, store: SqlStore, people: PeopleStore, mcp_settings: McpSettings, *, match_email: bool) -> None:
        self.store = store
        self.people = people
        self.mcp_settings = mcp_settings
        self.match_email = match_email

    async def principal_for(self, token: VerifiedJwt) -> Principal | None:
        endpoint = self.mcp_settings.endpoint_for(token.resource)
        if endpoint is None:
            return None
        tenant = await self.store.get_tenant(endpoint[0])
        if tenant is None:
            return None
        user_id = await self._user_of(token)
        if user_id is None:
            return None
        user = await self.people.get_user(user_id)
        if user is None or not user.active or await self.people.role_of(tenant.id, user_id) is None:
            return None
        stable = hashlib.sha256(f"{token.issuer}\n{token.subject or user_id}".encode()).hexdigest()[:32]
        return Principal(
            id=f"oauth:{stable}",
            kind="oauth",
            tenant_id=tenant.id,
            user_id=user_id,
            name=user.email,
        )

    async def _user_of(self, token: VerifiedJwt) -> str | None:
        if token.subject:
            identity = await self.people.find_identity(token.issuer, token.subject)
            if identity is not None:
                return identity.user_id
        if not self.match_email:
            return None
        email = token.claims.get("email")
        if not isinstance(email, str) or token.claims.get("email_verified") is not True:
            return None
        user = await self.people.get_user_by_email(email)
        return user.id if user is not None else None


def external_verifier(
    settings: Settings, store: SqlStore, people: PeopleStore, mcp_settings: McpSettings
) -> JwtTokenVerifier:
    """The verifier of the configured external issuer's tokens."""
    if not settings.auth_issuer:
        raise ValueError("SAGEMCP_AUTH_MODE=external needs SAGEMCP_AUTH_ISSUER (the issuer's URL)")
    principals = ExternalPrincipals(store, people, mcp_settings, match_email=settings.auth_match_email)
    audience = settings.auth_audience
    return JwtTokenVerifier(
        settings.auth_issuer,
        principal_for=principals.principal_for,
        audience_for=(lambda _resource: audience) if audience else None,
        jwks_uri=settings.auth_jwks_uri,
        algorithms=tuple(settings.auth_algorithms),
    )
