"""OAuth 2.0 client flows for upstream providers: authorize, exchange the code, refresh, revoke.

Authlib does the protocol work: state and PKCE verifier generation, the S256
challenge, the authorization URL, token and revocation request bodies, and client
authentication (`client_secret_post`, `client_secret_basic`, `none`). The requests
are sent with httpx, the HTTP client of the rest of sagemcp, so one
`httpx.MockTransport` fakes a provider in tests. (Authlib's own
`AsyncOAuth2Client` is built on httpx2 whenever that is installed, as it is with
the MCP SDK, and cannot take an httpx transport.)

Provider quirks live in the connector's `OAuth2` scheme: the scope separator and
parameter, extra authorize parameters, the client authentication method, and a
`token_response_hook` that turns an unusual token response into the standard one.

Failures at the token endpoint become `TokenEndpointError` with `error` set to the
provider's OAuth error code, `UNREACHABLE` when there was no answer, or
`BAD_RESPONSE` when the answer was not a usable token response; `status` is the
HTTP status when there was one. No message contains the code, the client secret
or a token.
"""

from __future__ import annotations

import hmac
import logging
import math
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7009 import prepare_revoke_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from pydantic import SecretStr

from .auth import OAuth2, SelfRefreshingScheme
from .errors import OAuthError, OAuthStateError, TokenEndpointError
from .models import Credential, OAuthApp, base_provider, linked_provider

__all__ = ["BAD_RESPONSE", "UNREACHABLE", "Authorization", "OAuthFlows", "PendingAuthorization"]

logger = logging.getLogger("sagemcp.oauth")

UNREACHABLE = "temporarily_unavailable"
"""`TokenEndpointError.error` when the endpoint did not answer (RFC 6749's code for a passing outage)."""
BAD_RESPONSE = "invalid_token_response"
"""`TokenEndpointError.error` when the answer was not a usable token response (not an RFC 6749 code)."""

_STATE_LENGTH = 48
"""Characters of [A-Za-z0-9] in a state: about 285 bits."""
_VERIFIER_LENGTH = 64
_RESERVED_AUTHORIZE_PARAMS = frozenset(
    {"response_type", "client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method"}
)
_FORM_HEADERS = {"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"}
_DESCRIPTION_LIMIT = 200


@dataclass(frozen=True)
class PendingAuthorization:
    """An authorization in progress, kept by the caller between `begin` and `complete`.

    The state is single-use: stores hand it out once (`take_oauth_state`).
    """

    state: str = field(repr=False)
    tenant_id: str
    provider: str
    connector_id: str | None
    code_verifier: str | None = field(repr=False)
    redirect_uri: str
    scopes: tuple[str, ...]
    expires_at: float
    created_at: float

    def expired(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) >= self.expires_at


@dataclass(frozen=True)
class Authorization:
    """What a completed authorization produced: the credential, and any linked credentials
    (Slack's user token next to the bot token) keyed by linked-token name."""

    credential: Credential
    linked: Mapping[str, Credential] = field(default_factory=dict)

    @property
    def credentials(self) -> list[Credential]:
        """Every credential to store, the main one first."""
        return [self.credential, *self.linked.values()]


class OAuthFlows:
    """The authorization-code flow, refresh and revocation against providers' endpoints.

    `transport` replaces the network (tests pass an `httpx.MockTransport`); `timeout`
    bounds each request to a provider; `state_ttl` is how long an authorization may
    take, in seconds.
    """

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 15.0,
        state_ttl: float = 600.0,
    ) -> None:
        self._transport = transport
        self._timeout = timeout
        self._state_ttl = state_ttl

    def begin(
        self,
        scheme: OAuth2,
        app: OAuthApp,
        *,
        tenant_id: str,
        provider: str,
        redirect_uri: str,
        scopes: Sequence[str],
        connector_id: str | None = None,
        linked_scopes: Mapping[str, Sequence[str]] | None = None,
    ) -> tuple[str, PendingAuthorization]:
        """The URL to send the user to, and the pending authorization the caller must store.

        `linked_scopes` asks for the scheme's linked tokens (`OAuth2.linked_tokens`) by name.
        """
        if isinstance(scopes, str):
            raise TypeError("scopes must be a sequence of scope names, not one string")
        linked_params = _linked_scope_params(scheme, linked_scopes or {})
        _check_app(app, tenant_id, provider)
        now = time.time()
        state = generate_token(_STATE_LENGTH)
        verifier = generate_token(_VERIFIER_LENGTH) if scheme.pkce else None
        wanted = tuple(dict.fromkeys(scopes))
        params = {k: v for k, v in scheme.extra_authorize_params.items() if k not in _RESERVED_AUTHORIZE_PARAMS}
        if wanted:
            params[scheme.scope_param] = scheme.scope_separator.join(wanted)
        params.update(linked_params)
        if verifier is not None:
            params["code_challenge"] = create_s256_code_challenge(verifier)
            params["code_challenge_method"] = "S256"
        url: str = prepare_grant_uri(
            scheme.authorize_url,
            client_id=app.client_id,
            response_type="code",
            redirect_uri=redirect_uri,
            state=state,
            **params,
        )
        pending = PendingAuthorization(
            state=state,
            tenant_id=tenant_id,
            provider=provider,
            connector_id=connector_id,
            code_verifier=verifier,
            redirect_uri=redirect_uri,
            scopes=wanted,
            expires_at=now + self._state_ttl,
            created_at=now,
        )
        return url, pending

    async def complete(
        self,
        scheme: OAuth2,
        app: OAuthApp,
        pending: PendingAuthorization,
        *,
        code: str,
        state: str,
        tenant_id: str,
        provider: str,
    ) -> Authorization:
        """Check the returned `state` against `pending` and exchange `code` for credentials."""
        if not hmac.compare_digest(state.encode("utf-8"), pending.state.encode("utf-8")):
            raise OAuthStateError(
                f"the OAuth state returned by {provider} does not match this authorization: start connecting again"
            )
        if not (
            hmac.compare_digest(tenant_id.encode("utf-8"), pending.tenant_id.encode("utf-8"))
            and hmac.compare_digest(provider.encode("utf-8"), pending.provider.encode("utf-8"))
        ):
            raise OAuthStateError(
                f"the OAuth state is bound to another tenant/provider than {provider} for this tenant: "
                f"start connecting {provider} again from this tenant"
            )
        if pending.expired():
            raise OAuthStateError(
                f"the OAuth state expired ({(pending.expires_at - pending.created_at) / 60:g} minutes after the "
                f"authorization started): start connecting {provider} again"
            )
        _check_app(app, tenant_id, provider)
        if not code:
            raise OAuthError(f"{provider} redirected back without an authorization code: start connecting again")
        fields = {"code": code, "redirect_uri": pending.redirect_uri}
        if pending.code_verifier:
            fields["code_verifier"] = pending.code_verifier
        data = await self._token_request(scheme, app, "authorization_code", fields, provider=provider, hidden=(code,))
        standard = _standard(scheme, data, provider)
        credential = _credential(
            standard, tenant_id=tenant_id, provider=provider, requested=pending.scopes, separator=scheme.scope_separator
        )
        return Authorization(credential, _linked_credentials(scheme, standard, tenant_id=tenant_id, provider=provider))

    async def refresh(self, scheme: OAuth2, app: OAuthApp, credential: Credential) -> Credential:
        """A new credential from the refresh-token grant, with `version` one higher.

        The old refresh token is kept when the provider does not send a new one. A linked
        credential (`"slack:user"`) is refreshed with the app of its base provider.
        """
        provider = credential.provider
        if credential.refresh_token is None:
            raise OAuthError(f"the {provider} credential has no refresh token: reconnect {provider}")
        _check_app(app, credential.tenant_id, base_provider(provider))
        refresh_token = credential.refresh_token.get_secret_value()
        data = await self._token_request(
            scheme, app, "refresh_token", {"refresh_token": refresh_token}, provider=provider, hidden=(refresh_token,)
        )
        return _credential(
            _standard(scheme, data, provider),
            tenant_id=credential.tenant_id,
            provider=provider,
            requested=credential.scopes,
            previous=credential,
            separator=scheme.scope_separator,
        )

    async def refresh_with_scheme(self, scheme: SelfRefreshingScheme, credential: Credential) -> Credential:
        """Renew a credential through a scheme's own exchange, with this object's HTTP settings."""
        try:
            async with httpx.AsyncClient(transport=self._transport, timeout=self._timeout) as client:
                new = await scheme.refresh_credential(credential, client)
        except httpx.HTTPError as exc:
            raise TokenEndpointError(
                f"the {credential.provider} token endpoint could not be reached ({type(exc).__name__})",
                error=UNREACHABLE,
            ) from None
        return new.model_copy(update={"version": credential.version + 1})

    async def revoke(self, scheme: OAuth2, app: OAuthApp, credential: Credential) -> bool:
        """Revoke the credential at the provider; False when the provider has no revocation
        endpoint or the revocation failed (failures are logged, never raised).

        See `OAuth2.revocation` for the two request styles.
        """
        if not scheme.revoke_url:
            return False
        provider = credential.provider
        if scheme.revocation == "bearer":
            headers = {**_FORM_HEADERS, "Authorization": f"Bearer {credential.access_token.get_secret_value()}"}
            url, body = scheme.revoke_url, ""
        else:
            if credential.refresh_token is not None:
                token, hint = credential.refresh_token.get_secret_value(), "refresh_token"
            else:
                token, hint = credential.access_token.get_secret_value(), "access_token"
            body, headers = prepare_revoke_token_request(token, hint, "", dict(_FORM_HEADERS))
            url, headers, body = _client_auth(scheme, app).prepare("POST", scheme.revoke_url, headers, body)
        try:
            response = await self._post(url, headers, body, provider=provider, endpoint="revocation endpoint")
        except TokenEndpointError as exc:
            logger.warning("revoking the %s credential of tenant %s failed: %s", provider, credential.tenant_id, exc)
            return False
        refusal = _revocation_refusal(response)
        if refusal is None:
            return True
        logger.warning(
            "%s's revocation endpoint refused for tenant %s (%s); the token may already be invalid",
            provider,
            credential.tenant_id,
            refusal,
        )
        return False

    async def _token_request(
        self,
        scheme: OAuth2,
        app: OAuthApp,
        grant_type: str,
        fields: Mapping[str, str],
        *,
        provider: str,
        hidden: Iterable[str],
    ) -> dict[str, Any]:
        body = prepare_token_request(grant_type, **fields)
        url, headers, body = _client_auth(scheme, app).prepare("POST", scheme.token_url, dict(_FORM_HEADERS), body)
        response = await self._post(url, headers, body, provider=provider, endpoint="token endpoint")
        secret = app.client_secret.get_secret_value() if app.client_secret else None
        return _read_token_response(response, provider, grant_type, [*hidden, *([secret] if secret else [])])

    async def _post(
        self, url: str, headers: Mapping[str, str], body: str, *, provider: str, endpoint: str
    ) -> httpx.Response:
        async with httpx.AsyncClient(transport=self._transport, timeout=self._timeout) as client:
            try:
                return await client.post(url, content=body.encode("utf-8"), headers=dict(headers))
            except httpx.TimeoutException:
                raise TokenEndpointError(
                    f"{provider}'s {endpoint} did not answer within {self._timeout:g}s; try again later",
                    error=UNREACHABLE,
                ) from None
            except httpx.HTTPError as exc:
                raise TokenEndpointError(
                    f"could not reach {provider}'s {endpoint} ({type(exc).__name__}); try again later",
                    error=UNREACHABLE,
                ) from None


def _linked_scope_params(scheme: OAuth2, linked_scopes: Mapping[str, Sequence[str]]) -> dict[str, str]:
    by_name = {linked.name: linked for linked in scheme.linked_tokens}
    params: dict[str, str] = {}
    for name, scopes in linked_scopes.items():
        linked = by_name.get(name)
        if linked is None:
            known = ", ".join(by_name) or "none"
            raise ValueError(f"the OAuth scheme has no linked token {name!r} (linked tokens: {known})")
        if isinstance(scopes, str):
            raise TypeError("linked scopes must be sequences of scope names, not one string")
        wanted = list(dict.fromkeys(scopes))
        if wanted:
            params[linked.scope_param] = scheme.scope_separator.join(wanted)
    return params


def _revocation_refusal(response: httpx.Response) -> str | None:
    """Why a revocation answer is a failure, or None: not 2xx, or JSON saying `ok: false` / `error`."""
    if not response.is_success:
        return f"HTTP {response.status_code}"
    try:
        data = response.json()
    except ValueError:
        return None
    if isinstance(data, dict):
        error = data.get("error")
        if error or data.get("ok") is False:
            return f"HTTP {response.status_code}, {error if isinstance(error, str) else 'error'}"[:_DESCRIPTION_LIMIT]
    return None


def _check_app(app: OAuthApp, tenant_id: str, provider: str) -> None:
    if app.tenant_id != tenant_id or app.provider != provider:
        raise OAuthError(f"the OAuth app given for {provider} is registered for another tenant or provider")


def _client_auth(scheme: OAuth2, app: OAuthApp) -> Any:
    """Authlib's client authentication; an app without a secret is a public client (`none`)."""
    secret = app.client_secret.get_secret_value() if app.client_secret else None
    return ClientAuth(app.client_id, secret, scheme.token_auth_method if secret else "none")


def _scrub(text: str, hidden: Iterable[str]) -> str:
    for value in hidden:
        if value:
            text = text.replace(value, "[redacted]")
    return text[:_DESCRIPTION_LIMIT]


def _read_token_response(
    response: httpx.Response, provider: str, grant_type: str, hidden: Sequence[str]
) -> dict[str, Any]:
    status = response.status_code
    grant = "authorization code" if grant_type == "authorization_code" else "refresh token"
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise TokenEndpointError(
            f"{provider}'s token endpoint answered HTTP {status} without a JSON object; "
            "check the token URL, or try again later",
            error=BAD_RESPONSE,
            status=status,
        )
    error = data.get("error")
    if error:
        code = error if isinstance(error, str) else "error"
        message = f"{provider} refused the {grant} (HTTP {status}, {code})"
        description = data.get("error_description")
        if isinstance(description, str) and description:
            message += f": {_scrub(description, hidden)}"
        raise TokenEndpointError(message, error=code, status=status)
    if status >= 400:
        raise TokenEndpointError(f"{provider}'s token endpoint answered HTTP {status}", status=status)
    return data


def _standard(scheme: OAuth2, raw: dict[str, Any], provider: str) -> Mapping[str, Any]:
    """The token response in the standard shape, through the scheme's hook when it has one."""
    if scheme.token_response_hook is None:
        return {key: value for key, value in raw.items() if key not in ("extra", "linked")}
    try:
        data = scheme.token_response_hook(dict(raw))
    except Exception as exc:
        raise TokenEndpointError(
            f"{provider}'s token response could not be read by the connector's token_response_hook "
            f"({type(exc).__name__}); the provider may have changed its response",
            error=BAD_RESPONSE,
        ) from None
    if not isinstance(data, Mapping):
        raise TokenEndpointError(f"the token_response_hook of {provider} did not return a mapping", error=BAD_RESPONSE)
    return data


def _linked_credentials(
    scheme: OAuth2, data: Mapping[str, Any], *, tenant_id: str, provider: str
) -> dict[str, Credential]:
    found = data.get("linked")
    if not isinstance(found, Mapping):
        return {}
    linked: dict[str, Credential] = {}
    for token in scheme.linked_tokens:
        entry = found.get(token.name)
        if isinstance(entry, Mapping) and entry.get("access_token"):
            key = linked_provider(provider, token.name)
            linked[token.name] = _credential(
                entry, tenant_id=tenant_id, provider=key, requested=(), separator=scheme.scope_separator
            )
    return linked


def _credential(
    data: Mapping[str, Any],
    *,
    tenant_id: str,
    provider: str,
    requested: Sequence[str],
    previous: Credential | None = None,
    separator: str = " ",
) -> Credential:
    now = time.time()
    access_token = data.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise TokenEndpointError(f"{provider}'s token response has no access_token", error=BAD_RESPONSE)
    new_refresh = data.get("refresh_token")
    refresh_token: SecretStr | None
    if isinstance(new_refresh, str) and new_refresh:
        refresh_token = SecretStr(new_refresh)
    else:
        refresh_token = previous.refresh_token if previous is not None else None
    token_type = data.get("token_type")
    token_type = token_type if isinstance(token_type, str) and token_type else "Bearer"
    extra = data.get("extra")
    account = data.get("account")
    fields: dict[str, Any] = {
        "tenant_id": tenant_id,
        "provider": provider,
        "kind": "oauth2",
        "access_token": SecretStr(access_token),
        "refresh_token": refresh_token,
        "token_type": "Bearer" if token_type.lower() == "bearer" else token_type,
        "expires_at": _expires_at(data, now),
        "scopes": _scopes(data.get("scope"), separator, requested),
        "extra": dict(extra) if isinstance(extra, Mapping) else {},
        "account": account if isinstance(account, str) and account else None,
    }
    if previous is not None:
        fields["id"] = previous.id
        fields["version"] = previous.version + 1
        fields["extra"] = {**previous.extra, **fields["extra"]}
        fields["account"] = fields["account"] or previous.account
    return Credential(**fields)


def _expires_at(data: Mapping[str, Any], now: float) -> float | None:
    for key, base in (("expires_in", now), ("expires_at", 0.0)):
        value = data.get(key)
        if value is None or isinstance(value, bool):
            continue
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(seconds) and seconds > 0:
            return base + seconds
    return None


def _scopes(value: Any, separator: str, requested: Sequence[str]) -> list[str]:
    if isinstance(value, str):
        parts = value.split(separator) if separator and separator in value else re.split(r"[\s,]+", value)
    elif isinstance(value, (list, tuple)):
        parts = [str(item) for item in value]
    else:
        return list(requested)
    return list(dict.fromkeys(p.strip() for p in parts if p.strip()))
