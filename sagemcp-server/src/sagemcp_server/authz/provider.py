"""`AuthorizationProvider`: the MCP SDK's `OAuthAuthorizationServerProvider` over `AuthorizationStore`.

The SDK's handlers (`mcp.server.auth.handlers`) parse and validate the OAuth requests
(metadata, PKCE S256 only, redirect URI and scope checks, the token request's shape); this
provider decides everything that needs state:

- clients: registered ones from the store; a `client_id` that is an `https://` URL is a
  Client ID Metadata Document, fetched (`MetadataDocuments`) and cached for
  `AuthorizationConfig.client_metadata_ttl` seconds (a cached copy stands in while the URL
  cannot be reached, never once it serves something invalid);
- `/authorize`: the `resource` parameter (RFC 8707) is required and must be the canonical
  URL of an MCP endpoint of an existing, active tenant (and connector); the browser then
  goes to the consent page with the request sealed in its URL (`authz.pending`);
- codes: single use; a second use revokes every token issued for the first;
- refresh tokens: rotated on every use; presenting one again within `refresh_grace` seconds
  (the client lost the answer) withdraws the tokens it was exchanged for and issues new
  ones, unless those were used already; any other reuse revokes the whole family;
- revocation of any token revokes its family.

`on_revoke` is called after anything is revoked, so that this process stops accepting the
revoked access tokens at once (other replicas within the verifier's cache TTL).
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from mcp.server.auth.provider import (
    AuthorizationParams,
    AuthorizeError,
    OAuthAuthorizationServerProvider,
    RegistrationError,
    TokenError,
)
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import ValidationError

from sagemcp.mcp import McpSettings, canonical_resource
from sagemcp.platform import SecretBox

from ..db.store import SqlStore
from . import tokens
from .clients import McpClient, registration_problem
from .metadata_documents import DocumentRefused, MetadataDocuments, is_metadata_document_url
from .pending import PendingConsent, seal
from .store import (
    AuthorizationStore,
    ClientRecord,
    StoredAccessToken,
    StoredCode,
    StoredRefreshToken,
    TokenRecord,
    stored_access_token,
    stored_code,
    stored_refresh_token,
)

__all__ = [
    "CONSENT_PATH",
    "AuthorizationConfig",
    "AuthorizationProvider",
    "StoredAccessToken",
    "StoredCode",
    "StoredRefreshToken",
    "registering_address",
]

logger = logging.getLogger("sagemcp_server.authz")

CONSENT_PATH = "/oauth/consent"
_CHALLENGE_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_MAX_STATE_CHARS = 512
_MAX_CONSENT_URL_CHARS = 2000
"""The consent page's path and query travel through the sign-in page's `next` parameter, which is bounded."""

registering_address: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "sagemcp_registering_address", default=None
)
"""SHA-256 of the address a registration request comes from, set by the registration endpoint."""


@dataclass(frozen=True)
class AuthorizationConfig:
    issuer: str
    """The issuer identifier: the server's public base URL."""
    valid_scopes: list[str]
    access_lifetime: float = 3600.0
    refresh_lifetime: float = 30 * 86_400.0
    code_lifetime: float = 60.0
    consent_lifetime: float = 600.0
    refresh_grace: float = 10.0
    client_metadata_ttl: float = 3600.0


def _client_of(record: ClientRecord) -> McpClient:
    data = {k: v for k, v in record.metadata.items() if k not in ("client_id", "client_secret", "kind")}
    return McpClient.model_validate({**data, "client_id": record.client_id, "client_secret": None, "kind": record.kind})


class AuthorizationProvider(OAuthAuthorizationServerProvider[StoredCode, StoredRefreshToken, StoredAccessToken]):
    """See the module docstring."""

    def __init__(
        self,
        *,
        store: AuthorizationStore,
        tenants: SqlStore,
        box: SecretBox,
        documents: MetadataDocuments,
        mcp_settings: McpSettings,
        config: AuthorizationConfig,
        on_revoke: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.tenants = tenants
        self.box = box
        self.documents = documents
        self.mcp_settings = mcp_settings
        self.config = config
        self.on_revoke = on_revoke

    # -- clients -------------------------------------------------------------------------

    async def get_client(self, client_id: str) -> McpClient | None:
        if is_metadata_document_url(client_id):
            return await self._metadata_document_client(client_id)
        record = await self.store.get_client(client_id)
        if record is None or record.kind == "document":
            return None
        try:
            return _client_of(record)
        except ValidationError:
            logger.warning("stored OAuth client %s has metadata that no longer validates", client_id)
            return None

    async def client_secret_digest(self, client_id: str) -> str | None:
        """The stored digest of a registered client's secret (None: a public client, or no such client)."""
        record = await self.store.get_client(client_id)
        return record.secret_digest if record is not None and record.kind != "document" else None

    async def _metadata_document_client(self, url: str) -> McpClient | None:
        cached = await self.store.get_client(url)
        if cached is not None and cached.kind != "document":
            cached = None
        now = time.time()
        fetched_at = cached.fetched_at if cached is not None else None
        if cached is not None and fetched_at is not None and now - fetched_at < self.config.client_metadata_ttl:
            return _client_of(cached)
        try:
            metadata = await self.documents.fetch(url)
        except DocumentRefused as refused:
            if refused.unreachable and cached is not None:
                logger.warning("using the cached metadata document of OAuth client %s: %s", url, refused.message)
                return _client_of(cached)
            logger.info("OAuth client metadata document refused: %s", refused.message)
            if cached is not None:
                await self.store.forget_metadata_document(url)
            return None
        await self.store.cache_metadata_document(url, metadata, fresh_for=self.config.client_metadata_ttl)
        return _client_of(ClientRecord(url, "document", None, metadata, now, now))

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        problem = registration_problem(client_info)
        if problem is not None:
            raise RegistrationError(*problem)
        metadata = client_info.model_dump(mode="json", exclude_none=True, exclude={"client_secret", "client_id"})
        secret = client_info.client_secret
        await self.store.register_client(
            client_info.client_id,
            metadata,
            secret_digest=tokens.digest(secret) if secret else None,
            registered_from=registering_address.get(),
        )
        logger.info(
            "OAuth client registered",
            extra={"client_id": client_info.client_id, "client_name": (client_info.client_name or "")[:200]},
        )

    # -- authorization -------------------------------------------------------------------

    async def resolve_resource(self, resource: str | None) -> tuple[str, str, str | None]:
        """(canonical resource URL, tenant id, connector key or None) of an MCP endpoint of an existing, active
        tenant, or `AuthorizeError("invalid_target")`."""
        if not resource:
            raise AuthorizeError(
                "invalid_target",
                "the resource parameter (RFC 8707) is required: the URL of the MCP endpoint the token is for",
            )
        try:
            canonical = canonical_resource(resource)
        except ValueError:
            raise AuthorizeError("invalid_target", "the resource parameter is not an http(s) URL") from None
        endpoint = self.mcp_settings.endpoint_for(canonical)
        if endpoint is None:
            raise AuthorizeError(
                "invalid_target",
                f"the resource must be the URL of one of this server's MCP endpoints ({self.config.issuer}/api/v1/"
                "<tenant>/mcp or .../connectors/<connector>/mcp)",
            )
        slug, connector = endpoint
        tenant = await self.tenants.get_tenant(slug)
        if tenant is None or not tenant.active:
            raise AuthorizeError("invalid_target", f"there is no active tenant {slug!r} on this server")
        if connector is not None and await self.tenants.get_connector(tenant.id, connector) is None:
            raise AuthorizeError("invalid_target", f"tenant {slug!r} has no connector {connector!r}")
        return canonical, tenant.id, connector

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        if params.state is not None and len(params.state) > _MAX_STATE_CHARS:
            raise AuthorizeError("invalid_request", f"state is longer than {_MAX_STATE_CHARS} characters")
        if not _CHALLENGE_RE.match(params.code_challenge):
            raise AuthorizeError(
                "invalid_request", "code_challenge must be the S256 challenge: 43 characters of base64url"
            )
        resource, tenant_id, connector = await self.resolve_resource(params.resource)
        scopes = params.scopes or self._default_scopes(client)
        pending = PendingConsent(
            client_id=client.client_id,
            redirect_uri=str(params.redirect_uri),
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
            state=params.state,
            scopes=list(dict.fromkeys(scopes)),
            code_challenge=params.code_challenge,
            resource=resource,
            tenant_id=tenant_id,
            connector=connector,
            expires_at=time.time() + self.config.consent_lifetime,
        )
        target = f"{CONSENT_PATH}?request={quote(seal(self.box, pending), safe='')}"
        if len(target) > _MAX_CONSENT_URL_CHARS:
            raise AuthorizeError(
                "invalid_request", "the authorization request is too large: shorten state or the redirect URI"
            )
        return self.config.issuer + target

    def _default_scopes(self, client: OAuthClientInformationFull) -> list[str]:
        registered = (client.scope or "").split()
        return [s for s in registered if s in self.config.valid_scopes] or ["mcp"]

    # -- codes ---------------------------------------------------------------------------

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> StoredCode | None:
        if not tokens.shaped(authorization_code, tokens.CODE_PREFIX):
            return None
        record = await self.store.get_code(tokens.digest(authorization_code))
        if record is None:
            return None
        if record.used:
            revoked = await self.store.revoke_family(record.family_id)
            logger.warning(
                "an authorization code was used twice: its tokens are revoked",
                extra={"client_id": record.client_id, "revoked": revoked},
            )
            self.on_revoke()
            return None
        return stored_code(record, authorization_code, client.client_id)

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: StoredCode
    ) -> OAuthToken:
        code = authorization_code
        if not await self.store.use_code(code.digest):
            await self.store.revoke_family(code.family_id)
            self.on_revoke()
            raise TokenError("invalid_grant", "the authorization code was already used")
        if not await self.store.in_good_standing(code.user_id, code.tenant_id):
            raise TokenError("invalid_grant", "the user is no longer an active member of the tenant")
        issued = await self.store.issue_tokens(
            family_id=code.family_id,
            client_id=code.client_id,
            user_id=code.user_id,
            tenant_id=code.tenant_id,
            resource=code.resource or "",
            scopes=code.scopes,
            redirect_uri=str(code.redirect_uri),
            access_lifetime=self.config.access_lifetime,
            refresh_lifetime=self.config.refresh_lifetime,
        )
        logger.info("OAuth tokens issued", extra={"client_id": code.client_id, "user_id": code.user_id})
        return _token_response(issued.access_token, issued.refresh_token, issued.expires_in, issued.scopes)

    # -- refresh tokens --------------------------------------------------------------------

    async def load_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: str
    ) -> StoredRefreshToken | None:
        if not tokens.shaped(refresh_token, tokens.REFRESH_PREFIX):
            return None
        record = await self.store.get_token(tokens.digest(refresh_token))
        if record is None or record.kind != "refresh" or record.revoked or record.expires_at < time.time():
            return None
        if record.rotated and not self._within_grace(record):
            await self._reused(record)
            return None
        return stored_refresh_token(record, refresh_token, client.client_id)

    def _within_grace(self, record: TokenRecord) -> bool:
        return record.rotated_at is not None and time.time() - record.rotated_at <= self.config.refresh_grace

    async def _reused(self, record: TokenRecord) -> None:
        revoked = await self.store.revoke_family(record.family_id)
        logger.warning(
            "a rotated refresh token was presented again: its whole grant is revoked",
            extra={"client_id": record.client_id, "user_id": record.user_id, "revoked": revoked},
        )
        self.on_revoke()

    async def exchange_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: StoredRefreshToken, scopes: list[str]
    ) -> OAuthToken:
        refresh = refresh_token
        rotated_now = not refresh.rotated and await self.store.rotate_refresh(refresh.digest)
        if not rotated_now:
            # Exchanged before (within the grace period, or by a concurrent request just now).
            record = await self.store.get_token(refresh.digest)
            if record is None or record.revoked or not self._within_grace(record):
                if record is not None:
                    await self._reused(record)
                raise TokenError("invalid_grant", "the refresh token was already used")
            if not await self.store.withdraw_successors(refresh.digest):
                await self._reused(record)
                raise TokenError("invalid_grant", "the refresh token was already used")
            self.on_revoke()
        if not await self.store.in_good_standing(refresh.user_id, refresh.tenant_id):
            await self.store.revoke_family(refresh.family_id)
            self.on_revoke()
            raise TokenError("invalid_grant", "the user is no longer an active member of the tenant")
        issued = await self.store.issue_tokens(
            family_id=refresh.family_id,
            client_id=refresh.client_id,
            user_id=refresh.user_id,
            tenant_id=refresh.tenant_id,
            resource=refresh.resource or "",
            scopes=scopes,
            redirect_uri=refresh.redirect_uri,
            access_lifetime=self.config.access_lifetime,
            refresh_lifetime=self.config.refresh_lifetime,
            parent_digest=refresh.digest,
        )
        return _token_response(issued.access_token, issued.refresh_token, issued.expires_in, issued.scopes)

    # -- access tokens and revocation --------------------------------------------------------

    async def load_access_token(self, token: str) -> StoredAccessToken | None:
        if not tokens.is_access_token(token):
            return None
        record = await self.store.get_token(tokens.digest(token))
        if record is None or record.kind != "access" or record.revoked or record.expires_at < time.time():
            return None
        return stored_access_token(record, token)

    async def find_token(self, token: str) -> TokenRecord | None:
        """The stored access or refresh token `token` is, whatever its state (for revocation)."""
        if not (tokens.shaped(token, tokens.ACCESS_PREFIX) or tokens.shaped(token, tokens.REFRESH_PREFIX)):
            return None
        return await self.store.get_token(tokens.digest(token))

    async def revoke_token(self, token: StoredAccessToken | StoredRefreshToken) -> None:
        await self.revoke_family(token.family_id)

    async def revoke_family(self, family_id: str) -> None:
        await self.store.revoke_family(family_id)
        self.on_revoke()


def _token_response(access: str, refresh: str, expires_in: int, scopes: list[str]) -> OAuthToken:
    return OAuthToken(
        access_token=access, token_type="Bearer", expires_in=expires_in, scope=" ".join(scopes), refresh_token=refresh
    )


def client_details(client: OAuthClientInformationFull) -> dict[str, Any]:
    """What the consent page and operators are told about a client."""
    from .clients import display_host

    document = client.client_id if getattr(client, "kind", "") == "document" else None
    return {
        "client_id": client.client_id,
        "name": (client.client_name or display_host(client.client_id) or client.client_id)[:200],
        "client_uri_host": display_host(client.client_uri),
        "document_url": document,
        "kind": getattr(client, "kind", "registered"),
    }
