"""How one server process authorizes MCP clients: which mode, which issuer, which verifier, which routes.

`SAGEMCP_AUTH_MODE`:

- `builtin` (default): this server is the authorization server (issuer = its public base
  URL); its access tokens are accepted at the MCP endpoints next to API keys;
- `external`: tokens of `SAGEMCP_AUTH_ISSUER` (JWTs checked against its JWKS) are accepted
  instead, and the resource metadata names that issuer;
- `off`: API keys only; no resource metadata is advertised.

The built-in server needs an `https://` public URL (`http://` only on loopback, for local
use), as OAuth 2.1 does; with any other `http://` public URL it stays off, with a warning,
and the MCP endpoints take API keys only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from starlette.routing import BaseRoute

from sagemcp.mcp import JwtTokenVerifier, McpSettings, TokenVerifier
from sagemcp.platform import SecretBox

from .metadata_documents import MetadataDocuments
from .provider import AuthorizationConfig, AuthorizationProvider
from .store import AuthorizationStore
from .verifier import BuiltinTokenVerifier

if TYPE_CHECKING:
    from ..db.people import PeopleStore
    from ..db.store import SqlStore
    from ..services import Services
    from ..settings import Settings

__all__ = ["AuthMode", "AuthorizationSetup", "build_authorization", "resolve_mode", "valid_scopes"]

logger = logging.getLogger("sagemcp_server.authz")

AuthMode = Literal["builtin", "external", "off"]
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
EXTRA_SCOPES = ["offline_access"]
"""Accepted besides the endpoints' scopes: clients ask for it to get refresh tokens, which are always issued."""


def valid_scopes(mcp_settings: McpSettings) -> list[str]:
    """The scopes clients may ask for: the endpoints' scopes, and `offline_access`."""
    return list(dict.fromkeys([*mcp_settings.resource_scopes, *EXTRA_SCOPES]))


def resolve_mode(settings: Settings) -> tuple[AuthMode, str | None]:
    """The mode this process runs in and the issuer whose tokens it accepts (None with `off`)."""
    mode: AuthMode = settings.auth_mode
    if mode == "external":
        return mode, settings.auth_issuer
    if mode == "off":
        return mode, None
    issuer = settings.resolved_public_url()
    parts = urlsplit(issuer)
    if parts.scheme != "https" and (parts.hostname or "") not in _LOOPBACK:
        logger.warning(
            "the built-in authorization server is off: SAGEMCP_PUBLIC_URL %s is not https:// (OAuth 2.1 requires "
            "TLS except on loopback); MCP clients can use API keys only. Set SAGEMCP_PUBLIC_URL=https://... to turn "
            "it on, or SAGEMCP_AUTH_MODE=off to silence this",
            issuer,
        )
        return "off", None
    return mode, issuer


@dataclass
class AuthorizationSetup:
    """The authorization pieces of one process (see the module docstring)."""

    mode: AuthMode
    issuer: str | None
    store: AuthorizationStore
    verifier: TokenVerifier | None
    provider: AuthorizationProvider | None = None
    documents: MetadataDocuments | None = None

    def routes(self, services: Services) -> list[BaseRoute]:
        """The authorization server's routes (none unless `builtin`)."""
        if self.provider is None:
            return []
        from .routes import authorization_server_routes

        return authorization_server_routes(services, self.provider)

    async def aclose(self) -> None:
        if self.documents is not None:
            await self.documents.aclose()
        if isinstance(self.verifier, JwtTokenVerifier):
            await self.verifier.aclose()


def build_authorization(
    settings: Settings,
    *,
    sql: SqlStore,
    people: PeopleStore,
    box: SecretBox,
    mcp_settings: McpSettings,
    store: AuthorizationStore,
    on_revoke: Callable[[], None],
) -> AuthorizationSetup:
    mode, issuer = resolve_mode(settings)
    if mode == "off":
        return AuthorizationSetup(mode, None, store, None)
    if mode == "external":
        from .external import external_verifier

        return AuthorizationSetup(mode, issuer, store, external_verifier(settings, sql, people, mcp_settings))
    assert issuer is not None
    scopes = valid_scopes(mcp_settings)
    documents = MetadataDocuments(
        valid_scopes=scopes,
        max_bytes=settings.auth_client_metadata_max_bytes,
        timeout=settings.auth_client_metadata_timeout,
        proxy=settings.resolved_upstream_proxy(),
    )
    provider = AuthorizationProvider(
        store=store,
        tenants=sql,
        box=box,
        documents=documents,
        mcp_settings=mcp_settings,
        config=AuthorizationConfig(
            issuer=issuer,
            valid_scopes=scopes,
            access_lifetime=settings.auth_access_token_ttl,
            refresh_lifetime=settings.auth_refresh_token_ttl,
            code_lifetime=settings.auth_code_ttl,
            consent_lifetime=settings.auth_consent_ttl,
            refresh_grace=settings.auth_refresh_grace,
            client_metadata_ttl=settings.auth_client_metadata_ttl,
        ),
        on_revoke=on_revoke,
    )
    return AuthorizationSetup(mode, issuer, store, BuiltinTokenVerifier(store), provider, documents)
