"""The relying-party side of OpenID Connect: discovery, the authorization URL, the code exchange, ID tokens.

Authlib builds the protocol messages (the authorization request with PKCE S256, the token
request) and checks the ID token's claims (`authlib.oidc.core.CodeIDToken`: `iss`, `aud`,
`azp`, `exp`, `iat`, `nonce`, `at_hash`); joserfc verifies its signature against the
provider's JWKS. Every request to the provider goes through the server's `UpstreamClient`,
so it leaves through the configured proxy and reaches only permitted addresses (checked
at connect time, `SAGEMCP_UPSTREAM_ALLOW`), with its timeouts and response size cap.
(Authlib's own `AsyncOAuth2Client` is built on httpx2 here and could not use that client.)

Discovery documents and key sets are cached per process (`DISCOVERY_TTL`); an ID token
signed with a key id the cached set lacks fetches the set again, at most once per
`JWKS_REFETCH_INTERVAL` per provider, so a flood of forged tokens cannot make the server
hammer the provider. Only asymmetric signature algorithms are accepted.

Failures are `OidcFailure` with a `reason` (logged) and a message for the person signing
in; nothing the provider sent (its `error_description`, token bodies) is shown or logged.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from sagemcp import validate_api_url
from sagemcp.errors import SageMCPError, UpstreamError
from sagemcp.platform import UpstreamClient

from ..db.people import OidcProvider

__all__ = [
    "ALLOWED_ALGORITHMS",
    "DISCOVERY_TTL",
    "JWKS_REFETCH_INTERVAL",
    "Discovery",
    "OidcClient",
    "OidcFailure",
    "SignInRequest",
]

ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
DISCOVERY_TTL = 3600.0
JWKS_REFETCH_INTERVAL = 60.0
CLOCK_LEEWAY = 60
_MAX_CACHED = 256
_PROVIDER_LABEL = "oidc"


class OidcFailure(SageMCPError):
    """A sign-in at an external provider failed; `reason` is a short code for the log."""

    code = "oidc_failed"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Discovery:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    algorithms: tuple[str, ...]
    token_auth_methods: tuple[str, ...]
    fetched_at: float


@dataclass(frozen=True)
class SignInRequest:
    """What a sign-in needs to keep until the callback (the caller stores it) and where to send the browser."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass
class _Keys:
    keys: KeySet
    fetched_at: float


def _server_url(value: Any, field: str) -> str:
    """A provider endpoint this server will call: the same rules as an upstream API URL."""
    if not isinstance(value, str) or not value:
        raise OidcFailure("bad_discovery", f"The provider's discovery document has no {field}.")
    try:
        validate_api_url(value.split("?", 1)[0], example="https://login.example.com/token", field=field)
    except ValueError as exc:
        raise OidcFailure("bad_discovery", f"The provider's {field} is not usable: {exc}.") from None
    return value


class OidcClient:
    """Discovery and key caches for this process, and the steps of one sign-in."""

    def __init__(self, upstream: UpstreamClient) -> None:
        self._upstream = upstream
        self._discovery: OrderedDict[str, Discovery] = OrderedDict()
        self._keys: OrderedDict[str, _Keys] = OrderedDict()

    def _remember(self, cache: OrderedDict[str, Any], key: str, value: Any) -> None:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > _MAX_CACHED:
            cache.popitem(last=False)

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            client = self._upstream.bind(base_url=url, provider=_PROVIDER_LABEL)
            response = await client.get(url, headers={"Accept": "application/json"})
            return response.json_object()
        except UpstreamError as exc:
            raise OidcFailure("unreachable", f"The sign-in provider's {what} could not be read ({exc.code}).") from None
        except ValueError as exc:
            raise OidcFailure("unreachable", f"The sign-in provider's {what} URL is not usable ({exc}).") from None

    async def discover(self, provider: OidcProvider) -> Discovery:
        """The provider's `/.well-known/openid-configuration`, cached for `DISCOVERY_TTL`."""
        cached = self._discovery.get(provider.issuer)
        if cached is not None and time.time() - cached.fetched_at < DISCOVERY_TTL:
            return cached
        url = provider.issuer.rstrip("/") + "/.well-known/openid-configuration"
        _server_url(url, "issuer")
        doc = await self._get_json(url, "discovery document")
        if doc.get("issuer") != provider.issuer:
            raise OidcFailure(
                "issuer_mismatch",
                "The provider's discovery document names another issuer than the one configured; the operator "
                "must set the issuer URL exactly as the provider spells it.",
            )
        authorize = doc.get("authorization_endpoint")
        if not isinstance(authorize, str) or not authorize.startswith(("https://", "http://")):
            raise OidcFailure("bad_discovery", "The provider's discovery document has no authorization_endpoint.")
        offered = doc.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = tuple(a for a in offered if isinstance(a, str) and a in ALLOWED_ALGORITHMS)
        if not algorithms:
            raise OidcFailure("bad_discovery", "The provider signs ID tokens only with algorithms this server refuses.")
        methods = doc.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        found = Discovery(
            issuer=provider.issuer,
            authorization_endpoint=authorize,
            token_endpoint=_server_url(doc.get("token_endpoint"), "token_endpoint"),
            jwks_uri=_server_url(doc.get("jwks_uri"), "jwks_uri"),
            algorithms=algorithms,
            token_auth_methods=tuple(m for m in methods if isinstance(m, str)),
            fetched_at=time.time(),
        )
        self._remember(self._discovery, provider.issuer, found)
        return found

    async def begin(self, provider: OidcProvider, redirect_uri: str) -> SignInRequest:
        """A new authorization request (state, nonce, PKCE S256) and the URL to send the browser to."""
        discovery = await self.discover(provider)
        state = secrets.token_urlsafe(32)
        nonce = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)
        url = prepare_grant_uri(
            discovery.authorization_endpoint,
            provider.client_id,
            "code",
            redirect_uri=redirect_uri,
            scope=" ".join(provider.scopes),
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
        )
        return SignInRequest(url=url, state=state, nonce=nonce, code_verifier=verifier)

    async def exchange(
        self, provider: OidcProvider, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> dict[str, Any]:
        """Exchange the code for tokens and return the verified ID token's claims."""
        discovery = await self.discover(provider)
        body = prepare_token_request(
            "authorization_code", code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        secret = provider.client_secret.get_secret_value() if provider.client_secret is not None else None
        if secret is None:
            body += "&client_id=" + quote(provider.client_id, safe="")
        elif "client_secret_basic" in discovery.token_auth_methods or "client_secret_post" not in (
            discovery.token_auth_methods
        ):
            pair = f"{quote(provider.client_id, safe='')}:{quote(secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
        else:
            body += f"&client_id={quote(provider.client_id, safe='')}&client_secret={quote(secret, safe='')}"
        try:
            client = self._upstream.bind(base_url=discovery.token_endpoint, provider=_PROVIDER_LABEL)
            response = await client.post(
                discovery.token_endpoint, content=body, headers=headers, allow_error_status=(400, 401, 403)
            )
        except UpstreamError as exc:
            raise OidcFailure("token_unreachable", f"The sign-in provider could not be reached ({exc.code}).") from None
        if not response.ok:
            raise OidcFailure(
                f"token_refused_{response.status}",
                "The sign-in provider refused to complete the sign-in; start again. If it keeps failing, the "
                "operator should check the provider's client id, secret and redirect URI.",
            )
        try:
            tokens = response.json_object()
        except UpstreamError:
            raise OidcFailure("token_bad_response", "The sign-in provider sent an unusable answer.") from None
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str) or len(id_token) > 64 * 1024:
            raise OidcFailure("no_id_token", "The sign-in provider sent no ID token; is `openid` among the scopes?")
        access_token = tokens.get("access_token")
        return await self.verify_id_token(
            provider,
            discovery,
            id_token,
            nonce=nonce,
            access_token=access_token if isinstance(access_token, str) else None,
        )

    async def _key_set(self, discovery: Discovery, *, refresh: bool = False) -> KeySet:
        cached = self._keys.get(discovery.jwks_uri)
        now = time.time()
        fresh_enough = cached is not None and now - cached.fetched_at < DISCOVERY_TTL
        if cached is not None and ((fresh_enough and not refresh) or now - cached.fetched_at < JWKS_REFETCH_INTERVAL):
            return cached.keys
        doc = await self._get_json(discovery.jwks_uri, "signing keys")
        try:
            keys = KeySet.import_key_set(doc)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError):
            raise OidcFailure("bad_jwks", "The sign-in provider's signing keys could not be read.") from None
        self._remember(self._keys, discovery.jwks_uri, _Keys(keys, now))
        return keys

    async def verify_id_token(
        self,
        provider: OidcProvider,
        discovery: Discovery,
        id_token: str,
        *,
        nonce: str,
        access_token: str | None = None,
    ) -> dict[str, Any]:
        """The ID token's claims once its signature (the provider's keys) and claims are verified."""
        keys = await self._key_set(discovery)
        try:
            token = self._decode(id_token, keys, discovery)
        except _UnknownKey:
            # The provider may have rotated its keys since they were fetched.
            try:
                token = self._decode(id_token, await self._key_set(discovery, refresh=True), discovery)
            except _UnknownKey:
                raise OidcFailure(
                    "id_token_unknown_key", "The sign-in provider's answer could not be verified; start again."
                ) from None
        claims = CodeIDToken(
            token.claims,
            token.header,
            options={
                "iss": {"essential": True, "value": provider.issuer},
                "aud": {"essential": True, "value": provider.client_id},
                "sub": {"essential": True},
                "nonce": {"essential": True, "value": nonce},
            },
            params={"nonce": nonce, "client_id": provider.client_id, "access_token": access_token},
        )
        try:
            claims.validate(now=int(time.time()), leeway=CLOCK_LEEWAY)
        except JoseError as exc:
            claim = getattr(exc, "claim", None) or type(exc).__name__
            raise OidcFailure(
                f"id_token_{claim}", "The sign-in provider's answer could not be verified; start again."
            ) from None
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub or len(sub) > 255:
            raise OidcFailure("id_token_sub", "The sign-in provider's answer names no usable account.")
        return dict(claims)

    @staticmethod
    def _decode(id_token: str, keys: KeySet, discovery: Discovery) -> jwt.Token:
        try:
            return jwt.decode(id_token, keys, algorithms=list(discovery.algorithms))
        except InvalidKeyIdError:
            raise _UnknownKey from None
        except (JoseError, ValueError, TypeError):
            raise OidcFailure(
                "id_token_signature", "The sign-in provider's answer could not be verified; start again."
            ) from None


class _UnknownKey(Exception):
    """An ID token signed with a key id the cached key set lacks."""
