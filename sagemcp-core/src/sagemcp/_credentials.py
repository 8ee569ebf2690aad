"""`CredentialManager`: a valid upstream credential for a tenant and provider, refreshed when due.

A credential is the tenant's shared one (`user_id` None) or a member's own (`per_user`
connectors): each is looked up, refreshed, locked and revoked on its own, and the errors
for a member speak to that member ("you have not connected GitHub", "reconnect your
GitHub account"), never of "this tenant".

A refresh happens once however many calls need it: callers in this process wait
for the one refresh in flight (single-flight per tenant, provider and user), and
processes sharing a store take the store's credential lock, re-read the
credential inside it (another process may have refreshed it already), and write
the result with a compare-and-swap on `Credential.version`. A provider that
rotates refresh tokens therefore never sees an old refresh token used twice, and
a newer credential is never overwritten.

The same machinery gets the tokens of schemes that make their own (`SelfRefreshingScheme`:
the client-credentials and JWT-bearer grants, GitHub App installation tokens): a credential
of such a scheme is stored without an access token, gets its first one on first use, and
a new one whenever it is due. A credential without an access token whose scheme cannot
make one needs reconnecting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio

from ._auth import AuthScheme, OAuth2, SelfRefreshingScheme
from ._models import Credential, CredentialStatus, base_provider
from ._oauth import UNREACHABLE, OAuthFlows
from .errors import (
    ConnectionRequired,
    CredentialError,
    NotConnected,
    ReconnectRequired,
    RefreshFailed,
    TokenEndpointError,
)

if TYPE_CHECKING:
    from ._connector import Connector
    from ._store import TenantStore

__all__ = ["CredentialManager"]

logger = logging.getLogger("sagemcp._credentials")

_TRANSIENT_ERRORS = frozenset({UNREACHABLE, "server_error", "slow_down"})
_GRANT_REFUSALS = frozenset({"invalid_grant", "invalid_client", "unauthorized_client", "invalid_scope"})
"""Errors with which a provider refuses a self-refreshing scheme's grant for good: the credential's
client, key or account is not (or no longer) accepted, so it is marked for reconnection."""


@dataclass
class _Flight:
    """One refresh in progress in this process, awaited by every caller that needs it."""

    done: anyio.Event = field(default_factory=anyio.Event)
    result: Credential | None = None
    error: Exception | None = None


class CredentialManager:
    """Hands out valid credentials, refreshing OAuth tokens within `refresh_margin` seconds of expiry
    and getting self-refreshing schemes' tokens when they have none yet or theirs is due.

    `on_refresh(provider, ok)` is called after every refresh attempt that reached the
    provider (for metrics).
    """

    def __init__(
        self,
        store: TenantStore,
        oauth: OAuthFlows,
        *,
        refresh_margin: float = 60.0,
        on_refresh: Callable[[str, bool], None] | None = None,
    ) -> None:
        self._store = store
        self._oauth = oauth
        self._margin = refresh_margin
        self._on_refresh = on_refresh
        self._flights: dict[tuple[str, str, str | None], _Flight] = {}

    @property
    def refresh_margin(self) -> float:
        """Seconds before expiry at which a token is refreshed."""
        return self._margin

    async def get(
        self, tenant_id: str, provider: str, connector_cls: type[Connector], user_id: str | None = None
    ) -> Credential | None:
        """The credential to call `connector_cls`'s upstream with: the tenant's shared one, or with `user_id`
        that member's own (never another's); None if the connector needs none.

        Raises `NotConnected` when there is no credential for `provider` (for a member:
        `ConnectionRequired`, without a link: the MCP layer adds one), `ReconnectRequired`
        when it can no longer be used or refreshed, and `RefreshFailed` when a due refresh
        failed for a reason that may pass.
        """
        if not connector_cls.needs_credential():
            return None
        credential = await self._store.get_credential(tenant_id, provider, **_user(user_id))
        if credential is None:
            raise _missing(provider, user_id)
        self._check_usable(credential, connector_cls)
        if not self._due(credential):
            return credential
        scheme = connector_cls.scheme_for(credential.kind)
        if scheme is None or not _refreshable(credential, scheme):
            return _unrenewable(credential)
        return await self._single_flight(tenant_id, provider, user_id, scheme, connector_cls)

    async def revoke(
        self, tenant_id: str, provider: str, connector_cls: type[Connector], user_id: str | None = None
    ) -> bool:
        """Revoke the tenant's shared credential (or, with `user_id`, that member's) at the provider; False
        when it cannot be revoked there.

        The stored credential is left alone: the caller deletes it.
        """
        credential = await self._store.get_credential(tenant_id, provider, **_user(user_id))
        scheme = connector_cls.oauth2()
        if credential is None or scheme is None or credential.kind != "oauth2":
            return False
        app = await self._store.get_oauth_app(tenant_id, base_provider(provider))
        if app is None:
            return False
        return await self._oauth.revoke(scheme, app, credential)

    def _due(self, credential: Credential) -> bool:
        """Whether the credential needs a new token: it has none yet, or it expires within the margin."""
        return credential.access_token is None or credential.expires_within(self._margin)

    def _check_usable(self, credential: Credential, connector_cls: type[Connector]) -> None:
        provider = credential.provider
        member = credential.user_id is not None
        if credential.status == CredentialStatus.RECONNECT_REQUIRED:
            if member:
                raise ReconnectRequired(
                    f"the authorization of your {provider} account was revoked or expired: reconnect your "
                    f"{provider} account"
                )
            raise ReconnectRequired(
                f"the {provider} credential of this tenant was revoked or expired: reconnect {provider}"
            )
        if connector_cls.scheme_for(credential.kind) is None:
            accepted = ", ".join(scheme.kind for scheme in connector_cls.auth)
            whose = "your" if member else "the stored"
            again = f"your {provider} account" if member else provider
            raise ReconnectRequired(
                f"{whose} {provider} credential is of kind {credential.kind!r}, but the "
                f"{connector_cls.info.id} connector accepts {accepted}: reconnect {again}"
            )

    async def _single_flight(
        self, tenant_id: str, provider: str, user_id: str | None, scheme: AuthScheme, connector_cls: type[Connector]
    ) -> Credential:
        key = (tenant_id, provider, user_id)
        while True:
            flight = self._flights.get(key)
            if flight is None:
                break
            await flight.done.wait()
            if flight.error is not None:
                raise flight.error
            if flight.result is not None:
                return flight.result
            # The refreshing caller was cancelled before it had an outcome: take over.
        flight = self._flights[key] = _Flight()
        try:
            # Shielded: once the provider may have rotated the refresh token, the new one must be stored.
            with anyio.CancelScope(shield=True):
                result = flight.result = await self._refresh(tenant_id, provider, user_id, scheme, connector_cls)
        except Exception as exc:
            flight.error = exc
            raise
        finally:
            del self._flights[key]
            flight.done.set()
        return result

    async def _refresh(
        self, tenant_id: str, provider: str, user_id: str | None, scheme: AuthScheme, connector_cls: type[Connector]
    ) -> Credential:
        async with self._store.lock_credential(tenant_id, provider, **_user(user_id)) as latest:
            if latest is None:
                raise _disconnected(provider, user_id)
            self._check_usable(latest, connector_cls)
            if not self._due(latest):
                return latest
            if not _refreshable(latest, scheme):
                return _unrenewable(latest)
            try:
                new = await self._exchange(tenant_id, provider, scheme, latest)
            except TokenEndpointError as exc:
                self._report(provider, False)
                return await self._refresh_refused(latest, exc, scheme)
            self._report(provider, True)
            # A new token goes where the old one was bound to, and stays whose it was, whatever the scheme built.
            new = new.model_copy(update={"origins": latest.origins, "user_id": latest.user_id})
            if await self._store.swap_credential(latest.version, new):
                return new
            logger.info("another process updated the %s credential of tenant %s first", provider, tenant_id)
            return await self._winner(tenant_id, provider, user_id, connector_cls)

    async def _exchange(self, tenant_id: str, provider: str, scheme: AuthScheme, latest: Credential) -> Credential:
        """Get a fresh token: the OAuth refresh grant, or the scheme's own grant (client credentials, JWT bearer,
        GitHub App installation tokens)."""
        if isinstance(scheme, SelfRefreshingScheme):
            return await self._oauth.refresh_with_scheme(scheme, latest)
        if not isinstance(scheme, OAuth2):
            raise ReconnectRequired(f"the {provider} credential cannot be renewed: reconnect {provider}")
        app = await self._store.get_oauth_app(tenant_id, base_provider(provider))
        if app is None:
            if latest.user_id is not None:
                raise ReconnectRequired(
                    f"your {provider} token expired and cannot be refreshed because no {provider} OAuth app is "
                    f"configured for the tenant: ask an administrator to configure it, then reconnect your "
                    f"{provider} account"
                )
            raise ReconnectRequired(
                f"the {provider} token of this tenant expired and cannot be refreshed because no {provider} "
                f"OAuth app is configured for the tenant: configure it, then reconnect {provider}"
            )
        return await self._oauth.refresh(scheme, app, latest)

    async def _refresh_refused(self, latest: Credential, exc: TokenEndpointError, scheme: AuthScheme) -> Credential:
        provider = latest.provider
        own_grant = isinstance(scheme, SelfRefreshingScheme)
        member = latest.user_id is not None
        if exc.error in (_GRANT_REFUSALS if own_grant else ("invalid_grant",)):
            marked = latest.model_copy(
                update={"status": CredentialStatus.RECONNECT_REQUIRED, "version": latest.version + 1}
            )
            if not await self._store.swap_credential(latest.version, marked):
                winner = await self._store.get_credential(latest.tenant_id, provider, **_user(latest.user_id))
                if winner is not None and winner.status == CredentialStatus.ACTIVE and _has_live_token(winner):
                    return winner
            if member:
                raise ReconnectRequired(
                    f"{provider} refused to renew the token of your {provider} account ({exc.error}: the grant was "
                    f"revoked or expired): reconnect your {provider} account"
                ) from exc
            if own_grant:
                raise ReconnectRequired(
                    f"{provider} refused to issue a token for this tenant's {latest.kind} credential "
                    f"({exc.message}): store the tenant's {provider} credential again with working values"
                ) from exc
            raise ReconnectRequired(
                f"{provider} refused to refresh this tenant's token (invalid_grant: the grant was revoked or "
                f"expired): reconnect {provider}"
            ) from exc
        if _transient(exc):
            raise RefreshFailed(
                f"refreshing the {provider} token failed temporarily ({exc.message}); the credential is kept, "
                "try again shortly"
            ) from exc
        if member:
            raise CredentialError(
                f"renewing the token of your {provider} account failed ({exc.message}); reconnect your {provider} "
                f"account, or ask an administrator to check the tenant's {provider} OAuth app"
            ) from exc
        if own_grant:
            raise CredentialError(
                f"getting a {provider} token failed ({exc.message}); check the tenant's {provider} "
                f"{latest.kind} credential"
            ) from exc
        raise CredentialError(
            f"refreshing the {provider} token failed ({exc.message}); check the tenant's {provider} OAuth app "
            f"(client id and secret), or reconnect {provider}"
        ) from exc

    async def _winner(
        self, tenant_id: str, provider: str, user_id: str | None, connector_cls: type[Connector]
    ) -> Credential:
        winner = await self._store.get_credential(tenant_id, provider, **_user(user_id))
        if winner is None:
            raise _disconnected(provider, user_id)
        self._check_usable(winner, connector_cls)
        return winner

    def _report(self, provider: str, ok: bool) -> None:
        if self._on_refresh is None:
            return
        try:
            self._on_refresh(provider, ok)
        except Exception:
            logger.exception("the on_refresh callback failed")


def _user(user_id: str | None) -> dict[str, str]:
    """The `user_id` argument of a store call: left out for the shared credential, so that stores written
    before members existed keep working for it."""
    return {} if user_id is None else {"user_id": user_id}


def _missing(provider: str, user_id: str | None) -> NotConnected:
    if user_id is not None:
        return ConnectionRequired(
            f"you have not connected {provider}: connect your {provider} account, then call the tool again",
            provider=provider,
        )
    return NotConnected(
        f"{provider} is not connected for this tenant: connect it with the {provider} OAuth flow, "
        f"or store a {provider} token for the tenant in the admin API"
    )


def _disconnected(provider: str, user_id: str | None) -> NotConnected:
    if user_id is not None:
        return ConnectionRequired(
            f"your {provider} account was disconnected: connect it again, then call the tool again", provider=provider
        )
    return NotConnected(f"{provider} was disconnected for this tenant: connect it again")


def _unrenewable(credential: Credential) -> Credential:
    """A due credential that cannot get a new token: usable while its token lasts, else `ReconnectRequired`."""
    provider = credential.provider
    if credential.user_id is not None:
        if credential.access_token is None or credential.expires_within(0):
            raise ReconnectRequired(
                f"the token of your {provider} account expired and cannot be renewed: reconnect your {provider} account"
            )
        return credential
    if credential.access_token is None:
        raise ReconnectRequired(
            f"the {provider} credential of this tenant ({credential.kind}) has no access token, and its scheme "
            f"cannot obtain one: store the {provider} token again, or reconnect {provider}"
        )
    if credential.expires_within(0):
        raise ReconnectRequired(
            f"the {provider} token of this tenant expired and cannot be refreshed: reconnect {provider}"
        )
    return credential


def _has_live_token(credential: Credential) -> bool:
    return credential.access_token is not None and not credential.expires_within(0)


def _refreshable(credential: Credential, scheme: AuthScheme) -> bool:
    if isinstance(scheme, OAuth2):
        return credential.kind == "oauth2" and credential.refresh_token is not None and scheme.refreshable
    return isinstance(scheme, SelfRefreshingScheme)


def _transient(exc: TokenEndpointError) -> bool:
    if exc.error in _TRANSIENT_ERRORS:
        return True
    return exc.status is not None and (exc.status == 429 or exc.status >= 500)
