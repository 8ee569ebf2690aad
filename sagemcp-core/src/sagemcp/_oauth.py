"""OAuth 2.0 client flows for upstream providers: authorize, exchange the code, refresh, revoke.

Authlib does the protocol work: state and PKCE verifier generation, the S256
challenge, the authorization URL, token and revocation request bodies, and client
authentication (`client_secret_post`, `client_secret_basic`, `none`). The requests
are sent with httpx, the HTTP client of the rest of sagemcp, so one
`httpx.MockTransport` fakes a provider in tests. (Authlib's own
`AsyncOAuth2Client` is built on httpx2 whenever that is installed, as it is with
the MCP SDK, and cannot take an httpx transport.)

Provider quirks live in the connector's `OAuth2` scheme: the scope separator and
parameter, extra authorize parameters, the client authentication method, a
`token_response_hook` that turns an unusual token response into the standard one, and
a `post_authorize` hook that asks the provider what a new grant reaches.

`request_token` and `token_credential` are the same token-endpoint plumbing for
schemes that run a grant of their own (`sagemcp._grants`); `refresh_with_scheme` runs
any `SelfRefreshingScheme` with this object's HTTP settings.

Failures at the token endpoint become `TokenEndpointError` with `error` set to the
provider's OAuth error code, `UNREACHABLE` when there was no answer, or
`BAD_RESPONSE` when the answer was not a usable token response; `status` is the
HTTP status when there was one. No message contains the code, the client secret
or a token.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7009 import prepare_revoke_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from pydantic import SecretStr

from . import _netbackend
from ._auth import OAuth2, SelfRefreshingScheme
from ._models import POST_AUTHORIZE_KEY, Credential, OAuthApp, base_provider, linked_provider
from ._proxies import proxy_mounts, validate_proxy_url
from ._urls import ALLOW_ENV
from .errors import OAuthError, OAuthStateError, TokenEndpointError

__all__ = [
    "BAD_RESPONSE",
    "UNREACHABLE",
    "Authorization",
    "OAuthFlows",
    "PendingAuthorization",
    "request_token",
    "token_credential",
]

logger = logging.getLogger("sagemcp._oauth")

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
_POST_AUTHORIZE_LIMIT = 65_536
"""Bytes of JSON a post-authorization hook may keep with a credential."""
_GRANT_NAMES = {
    "authorization_code": "authorization code",
    "refresh_token": "refresh token",
    "client_credentials": "client credentials",
    "urn:ietf:params:oauth:grant-type:jwt-bearer": "JWT bearer assertion",
}


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
    user_id: str | None = None
    """The member connecting their own account (a `per_user` connector); None for the tenant's shared one.
    The credentials the authorization produces belong to that member."""

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
    take, in seconds. `proxy` is the outbound proxy, as for `UpstreamClient` (the same
    setting, so token calls and tool calls leave the same way; without it the
    environment's `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` apply, unless `transport` is given).
    """

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 15.0,
        state_ttl: float = 600.0,
        proxy: str | None = None,
    ) -> None:
        if proxy is not None:
            validate_proxy_url(proxy)
        self._proxy = proxy
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
        user_id: str | None = None,
    ) -> tuple[str, PendingAuthorization]:
        """The URL to send the user to, and the pending authorization the caller must store.

        `linked_scopes` asks for the scheme's linked tokens (`OAuth2.linked_tokens`) by name.
        `user_id` makes it a member's own connection: the credentials it produces carry that user.
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
            user_id=user_id,
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
        standard = _standard(scheme.token_response_hook, data, provider)
        credential = _credential(
            standard, tenant_id=tenant_id, provider=provider, requested=pending.scopes, separator=scheme.scope_separator
        )
        linked = _linked_credentials(scheme, standard, tenant_id=tenant_id, provider=provider)
        if scheme.post_authorize is not None:
            found = await self._post_authorize(scheme, credential)
            credential = credential.model_copy(update={"extra": {**credential.extra, POST_AUTHORIZE_KEY: found}})
        if pending.user_id is not None:
            # A member's own connection: every credential it produced is theirs, never the tenant's shared one.
            owner = {"user_id": pending.user_id}
            credential = credential.model_copy(update=owner)
            linked = {name: cred.model_copy(update=owner) for name, cred in linked.items()}
        return Authorization(credential, linked)

    async def _post_authorize(self, scheme: OAuth2, credential: Credential) -> dict[str, Any]:
        """Run the scheme's `post_authorize` hook; any failure fails the authorization with a clear error."""
        assert scheme.post_authorize is not None
        provider = credential.provider
        headers = {"Authorization": f"Bearer {credential.require_token()}", "Accept": "application/json"}
        try:
            async with self._client(headers) as http:
                found = await scheme.post_authorize(credential, http)
        except OAuthError:
            raise
        except httpx.HTTPStatusError as exc:
            status = exc.response.status_code
            raise TokenEndpointError(
                f"{provider} answered HTTP {status} when asked what the new authorization can reach; "
                "nothing was stored: start connecting again"
                + (" later" if status >= 500 else f", and check the scopes granted to {provider}"),
                error=UNREACHABLE if status >= 500 or status == 429 else None,
                status=status,
            ) from None
        except httpx.HTTPError as exc:
            logger.info("no answer from %s after the authorization: %s", provider, type(exc).__name__)
            raise TokenEndpointError(
                f"could not reach {provider} to complete the authorization: no connection, or no answer in time; "
                "nothing was stored: start connecting again later",
                error=UNREACHABLE,
            ) from None
        except Exception as exc:
            logger.warning("the post_authorize hook of %s failed: %s", provider, type(exc).__name__)
            raise OAuthError(
                f"the {provider} connector could not complete the authorization ({type(exc).__name__}); nothing "
                "was stored: start connecting again, or ask the operator to check the connector"
            ) from None
        if not isinstance(found, Mapping):
            raise OAuthError(f"the post_authorize hook of {provider} did not return a mapping; nothing was stored")
        try:
            encoded = json.dumps(dict(found))
        except (TypeError, ValueError):
            raise OAuthError(
                f"the post_authorize hook of {provider} returned data that is not JSON; nothing was stored"
            ) from None
        if len(encoded) > _POST_AUTHORIZE_LIMIT:
            raise OAuthError(
                f"the post_authorize hook of {provider} returned more than {_POST_AUTHORIZE_LIMIT} bytes; "
                "nothing was stored"
            )
        result: dict[str, Any] = json.loads(encoded)
        return result

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
            _standard(scheme.token_response_hook, data, provider),
            tenant_id=credential.tenant_id,
            provider=provider,
            requested=credential.scopes,
            previous=credential,
            separator=scheme.scope_separator,
        )

    async def refresh_with_scheme(self, scheme: SelfRefreshingScheme, credential: Credential) -> Credential:
        """A first or renewed token through a scheme's own grant, with this object's HTTP settings and
        `version` one higher; HTTP failures become `TokenEndpointError(UNREACHABLE)`."""
        try:
            async with self._client() as client:
                new = await scheme.refresh_credential(credential, client)
        except httpx.HTTPError as exc:
            logger.info("no answer from %s's token endpoint: %s", credential.provider, type(exc).__name__)
            raise TokenEndpointError(
                f"the {credential.provider} token endpoint could not be reached: no connection, or no answer in "
                "time; try again later",
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
            if credential.access_token is None:
                return False
            headers = {**_FORM_HEADERS, "Authorization": f"Bearer {credential.access_token.get_secret_value()}"}
            url, body = scheme.revoke_url, ""
        else:
            if credential.refresh_token is not None:
                token, hint = credential.refresh_token.get_secret_value(), "refresh_token"
            elif credential.access_token is not None:
                token, hint = credential.access_token.get_secret_value(), "access_token"
            else:
                return False
            body, headers = prepare_revoke_token_request(token, hint, "", dict(_FORM_HEADERS))
            url, headers, body = _client_auth(scheme, app).prepare("POST", scheme.revoke_url, headers, body)
        try:
            async with self._client() as http:
                response = await _send(http, url, headers, body, provider=provider, endpoint="revocation endpoint")
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
        secret = app.client_secret.get_secret_value() if app.client_secret else None
        async with self._client() as http:
            return await request_token(
                http,
                scheme.token_url,
                grant_type,
                fields,
                provider=provider,
                client_id=app.client_id,
                client_secret=secret,
                # An app without a secret is a public client.
                auth_method=scheme.token_auth_method if secret else "none",
                hidden=hidden,
            )

    def _client(self, headers: Mapping[str, str] | None = None) -> httpx.AsyncClient:
        """The HTTP client of one exchange with a provider (every request of this object goes through one).

        It leaves like the upstream client's: through the configured proxy, or the environment's,
        and direct connections only to permitted addresses, checked when connecting
        (`sagemcp._netbackend.AddressGuard`), so a token URL whose host resolves to an internal
        address receives no code, client secret or token. Redirects are not followed.
        """
        mounts = proxy_mounts(self._proxy, use_environment=self._transport is None, transport=_proxy_transport)
        transport = self._transport if self._transport is not None else _guarded_transport()
        return httpx.AsyncClient(
            transport=transport, mounts=mounts, timeout=self._timeout, headers=headers, follow_redirects=False
        )


def _guarded_transport() -> httpx.AsyncHTTPTransport:
    """A direct transport that connects only to permitted addresses (`AddressGuard`)."""
    transport = httpx.AsyncHTTPTransport()
    if not _netbackend.install(transport, guard=True):
        raise RuntimeError(
            f"httpx {httpx.__version__} lays out its transport in a way sagemcp does not know, so token endpoint "
            "addresses cannot be checked at connect time; install an httpx version sagemcp-core supports"
        )
    return transport


def _proxy_transport(proxy: httpx.Proxy) -> httpx.AsyncBaseTransport:
    """A transport through `proxy`, which resolves the names itself (its own access rules apply)."""
    transport = httpx.AsyncHTTPTransport(proxy=proxy)
    _netbackend.install(transport)
    return transport


async def request_token(
    http: httpx.AsyncClient,
    token_url: str,
    grant_type: str,
    params: Mapping[str, str],
    *,
    provider: str,
    client_id: str | None = None,
    client_secret: str | None = None,
    auth_method: str = "none",
    hidden: Iterable[str] = (),
) -> dict[str, Any]:
    """POST an RFC 6749 token request and return the provider's JSON answer.

    Authlib builds the form body (`grant_type` and `params`) and the client authentication
    (`client_secret_basic`, `client_secret_post`, or `none` with a `client_id`, or none at
    all without one). A refusal raises `TokenEndpointError` with the provider's error code,
    no answer `UNREACHABLE`, an answer that is no JSON object `BAD_RESPONSE`; `hidden` values
    (codes, assertions) and the client secret are scrubbed from the messages.
    """
    body = prepare_token_request(grant_type, **params)
    headers = dict(_FORM_HEADERS)
    if client_id is not None:
        auth = ClientAuth(client_id, client_secret, auth_method if client_secret else "none")
        token_url, headers, body = auth.prepare("POST", token_url, headers, body)
    response = await _send(http, token_url, headers, body, provider=provider, endpoint="token endpoint")
    return _read_token_response(response, provider, grant_type, [*hidden, *([client_secret] if client_secret else [])])


def token_credential(
    data: Mapping[str, Any],
    *,
    previous: Credential,
    requested: Sequence[str] = (),
    separator: str = " ",
    hook: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> Credential:
    """`previous` with the token of a token response (through `hook` first, when given), `version` one
    higher: its kind, fields, secrets and refresh token (unless a new one came) are kept."""
    standard = _standard(hook, dict(data), previous.provider)
    return _credential(
        standard,
        tenant_id=previous.tenant_id,
        provider=previous.provider,
        requested=requested,
        previous=previous,
        separator=separator,
    )


async def _send(
    http: httpx.AsyncClient, url: str, headers: Mapping[str, str], body: str, *, provider: str, endpoint: str
) -> httpx.Response:
    try:
        return await http.post(url, content=body.encode("utf-8"), headers=dict(headers))
    except httpx.ProxyError:
        raise TokenEndpointError(
            f"the outbound proxy did not connect to {provider}'s {endpoint}; check the proxy setting "
            "(SAGEMCP_UPSTREAM_PROXY, or HTTPS_PROXY / HTTP_PROXY) and NO_PROXY, then try again",
            error=UNREACHABLE,
        ) from None
    except httpx.HTTPError as exc:
        # One text for every failure (refused, reset, unknown host, no answer in time, an address that may not
        # be reached): what differs would tell whoever configured the URL which ports of a host are open.
        logger.info("no answer from %s's %s: %s: %s", provider, endpoint, type(exc).__name__, str(exc)[:200] or "-")
        raise TokenEndpointError(
            f"could not reach {provider}'s {endpoint}: no connection, or no answer in time. Try again later; "
            f"a host on a private network must be allowed by the operator ({ALLOW_ENV})",
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
    grant = _GRANT_NAMES.get(grant_type, f"{grant_type} grant")
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


def _standard(
    hook: Callable[[dict[str, Any]], dict[str, Any]] | None, raw: dict[str, Any], provider: str
) -> Mapping[str, Any]:
    """The token response in the standard shape, through the scheme's `token_response_hook` when it has one."""
    if hook is None:
        return {key: value for key, value in raw.items() if key not in ("extra", "linked")}
    try:
        data = hook(dict(raw))
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
        "kind": previous.kind if previous is not None else "oauth2",
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
        fields["user_id"] = previous.user_id
        fields["version"] = previous.version + 1
        fields["extra"] = {**previous.extra, **fields["extra"]}
        fields["account"] = fields["account"] or previous.account
        fields["secrets"] = previous.secrets
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
