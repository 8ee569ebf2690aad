"""`JwtTokenVerifier`: access tokens that an external authorization server issued as signed JWTs.

The verifier finds the issuer's signing keys (its `jwks_uri`, given or discovered from the
issuer's RFC 8414 or OpenID Connect metadata), keeps them for `jwks_ttl` seconds, and
fetches them again when a token names a key id it does not know (key rotation), at most
once per `refetch_interval`, so made-up key ids cannot make it hammer the issuer. Every
document it fetches is size-capped, time-limited and never followed through redirects.

A token is accepted when its signature verifies with one of those keys under an
asymmetric algorithm it allows (`none` and HMAC are always refused), `iss` is the issuer,
`exp` lies ahead and `nbf`/`iat` not in the future (with `leeway` seconds of clock skew),
and `aud` names the canonical resource URL of the endpoint requested (or what
`audience_for(resource)` says the issuer calls it). Scopes come from `scope`
(space-separated) or `scp` (a list). `principal_for` maps the verified token to a member
and tenant of yours; scopes, `kind="oauth"` and `resource` are then set from the token.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import anyio
import httpx
from joserfc import jwt
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import Key, import_key
from joserfc.jws import extract_compact
from joserfc.jwt import JWTClaimsRegistry

from .._models import Principal
from ..errors import IssuerUnavailable
from ._auth import MAX_TOKEN_CHARS
from ._resource import same_resource

__all__ = ["ASYMMETRIC_ALGORITHMS", "JwtTokenVerifier", "VerifiedJwt"]

logger = logging.getLogger("sagemcp.mcp.jwt")

ASYMMETRIC_ALGORITHMS = frozenset(
    {
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
        "ES256", "ES384", "ES512", "ES256K", "EdDSA", "Ed25519", "Ed448",
    }
)  # fmt: skip
"""The signature algorithms a verifier may allow: public-key ones only (never `none` or HMAC)."""

_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
_MAX_KEYS = 100


@dataclass(frozen=True)
class VerifiedJwt:
    """A token whose signature, issuer, lifetime and audience were verified: what `principal_for` maps."""

    claims: dict[str, Any]
    issuer: str
    subject: str | None
    scopes: frozenset[str]
    resource: str
    """The canonical resource URL of the endpoint requested, which the token's audience names."""
    expires_at: int


class JwtTokenVerifier:
    """A `TokenVerifier` for the JWT access tokens of one external issuer (see the module docstring).

    `principal_for(token)` returns the principal the token acts for (tenant, member, a stable
    `id` such as `"oauth:" + subject`), or None to refuse it (an unknown user, a resource
    outside the tenants this user belongs to). Give `http` to share a client (it is then
    not closed by `aclose()`).
    """

    def __init__(
        self,
        issuer: str,
        *,
        principal_for: Callable[[VerifiedJwt], Awaitable[Principal | None]],
        audience_for: Callable[[str], str] | None = None,
        jwks_uri: str | None = None,
        algorithms: Sequence[str] = ("RS256", "ES256", "PS256", "EdDSA"),
        leeway: int = 30,
        http: httpx.AsyncClient | None = None,
        jwks_ttl: float = 3600.0,
        refetch_interval: float = 30.0,
        timeout: float = 5.0,
        max_document_bytes: int = 256 * 1024,
    ) -> None:
        if not algorithms or not set(algorithms) <= ASYMMETRIC_ALGORITHMS:
            refused = sorted(set(algorithms) - ASYMMETRIC_ALGORITHMS) or "nothing"
            raise ValueError(f"JwtTokenVerifier allows public-key algorithms only; refused: {refused}")
        parts = urlsplit(issuer)
        if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(f"the issuer must be an http(s) URL without query or fragment; got {issuer!r}")
        if leeway < 0 or jwks_ttl <= 0 or refetch_interval < 0 or timeout <= 0 or max_document_bytes < 1024:
            raise ValueError("leeway, jwks_ttl, refetch_interval, timeout and max_document_bytes must be positive")
        self.issuer = issuer
        self.principal_for = principal_for
        self.audience_for = audience_for
        self.jwks_uri = jwks_uri
        self.algorithms = frozenset(algorithms)
        self.leeway = leeway
        self.jwks_ttl = jwks_ttl
        self.refetch_interval = refetch_interval
        self.max_document_bytes = max_document_bytes
        self._timeout = httpx.Timeout(timeout)
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)
        self._keys: list[Key] = []
        self._fetched_at: float | None = None
        self._last_attempt: float | None = None
        self._lock = anyio.Lock()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def verify(self, token: str, resource: str) -> Principal | None:
        if len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
            return None  # not a JWS (an opaque token, a JWE, garbage)
        try:
            unverified = extract_compact(token.encode())
            header = unverified.protected
            claims = json.loads(unverified.payload)
        except (JoseError, ValueError, TypeError):
            return None
        alg = header.get("alg")
        if alg not in self.algorithms or "b64" in header or not isinstance(claims, dict):
            return None
        if claims.get("iss") != self.issuer:
            return None  # another issuer's token: no reason to fetch this issuer's keys
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            return None
        key = await self._key_for(kid, alg)
        if key is None:
            return None
        try:
            with warnings.catch_warnings():
                # RFC 9864 deprecates the name "EdDSA" in favour of "Ed25519"; issuers still use it.
                warnings.simplefilter("ignore", SecurityWarning)
                claims = jwt.decode(token, key, algorithms=[alg]).claims
            registry = JWTClaimsRegistry(
                leeway=self.leeway, iss={"essential": True, "value": self.issuer}, exp={"essential": True}
            )
            registry.validate(claims)
        except (JoseError, ValueError, TypeError):
            return None
        audience = self.audience_for(resource) if self.audience_for is not None else resource
        if not _names_audience(claims.get("aud"), audience):
            return None
        scopes = _scopes(claims)
        subject = claims.get("sub")
        verified = VerifiedJwt(
            claims=claims,
            issuer=self.issuer,
            subject=subject if isinstance(subject, str) else None,
            scopes=scopes,
            resource=resource,
            expires_at=int(claims["exp"]),
        )
        principal = await self.principal_for(verified)
        if principal is None:
            return None
        return principal.model_copy(update={"kind": "oauth", "scopes": scopes, "resource": resource})

    # -- signing keys -------------------------------------------------------------------

    async def _key_for(self, kid: str | None, alg: str) -> Key | None:
        """The key to check a token signed with `alg` by key `kid`: from the cached key set, fetched
        again when it expired or (at most once per `refetch_interval`) when `kid` is not in it."""
        if not self._fresh():
            await self._refresh(unknown_kid=False)
        key = _pick(self._keys, kid, alg)
        if key is None and kid is not None:
            await self._refresh(unknown_kid=True)
            key = _pick(self._keys, kid, alg)
        return key

    def _fresh(self) -> bool:
        return self._fetched_at is not None and time.monotonic() - self._fetched_at < self.jwks_ttl

    async def _refresh(self, *, unknown_kid: bool) -> None:
        """Fetch the key set, unless another request just did or an attempt was made within
        `refetch_interval`. When fetching fails, keys held before stay in use."""
        async with self._lock:
            if not unknown_kid and self._fresh():
                return  # another request refreshed it while this one waited
            now = time.monotonic()
            if self._last_attempt is not None and now - self._last_attempt < self.refetch_interval:
                if unknown_kid or self._keys:
                    return
                raise IssuerUnavailable(
                    f"The signing keys of {self.issuer} could not be fetched moments ago; "
                    f"the next attempt is in at most {self.refetch_interval:.0f} s."
                )
            self._last_attempt = now
            try:
                self._keys = await self._fetch_keys()
                self._fetched_at = time.monotonic()
            except IssuerUnavailable as exc:
                if not self._keys:
                    raise
                logger.warning("keeping the signing keys held for %s: %s", self.issuer, exc.message)

    async def _fetch_keys(self) -> list[Key]:
        if self.jwks_uri is None:
            self.jwks_uri = await self._discover_jwks_uri()
        document = await self._get_json(self.jwks_uri)
        entries = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            raise IssuerUnavailable(f"{self.jwks_uri} is not a JSON Web Key Set (no 'keys' list).")
        keys: list[Key] = []
        for entry in entries[:_MAX_KEYS]:
            if not isinstance(entry, dict) or entry.get("kty") == "oct" or entry.get("use", "sig") != "sig":
                continue  # symmetric and encryption keys never verify access tokens here
            try:
                keys.append(import_key(entry))
            except (JoseError, ValueError, TypeError):
                continue
        if not keys:
            raise IssuerUnavailable(f"{self.jwks_uri} holds no usable public signing key.")
        return keys

    async def _discover_jwks_uri(self) -> str:
        """The issuer's `jwks_uri`, from its RFC 8414 metadata or else its OpenID Connect configuration."""
        for url in _metadata_urls(self.issuer):
            try:
                metadata = await self._get_json(url)
            except _NotFound:
                continue
            if not isinstance(metadata, dict) or metadata.get("issuer") != self.issuer:
                raise IssuerUnavailable(f"{url} is not the metadata of issuer {self.issuer} (its 'issuer' differs).")
            jwks_uri = metadata.get("jwks_uri")
            if not isinstance(jwks_uri, str) or urlsplit(jwks_uri).scheme not in ("https", "http"):
                raise IssuerUnavailable(f"{url} names no jwks_uri: set the verifier's jwks_uri explicitly.")
            return jwks_uri
        raise IssuerUnavailable(f"{self.issuer} publishes no authorization server or OpenID Connect metadata.")

    async def _get_json(self, url: str) -> Any:
        limit = self.max_document_bytes
        try:
            async with self._http.stream(
                "GET", url, headers={"Accept": "application/json"}, timeout=self._timeout, follow_redirects=False
            ) as response:
                if response.status_code == 404:
                    raise _NotFound(url)
                if response.status_code != 200:
                    raise IssuerUnavailable(f"{url} answered HTTP {response.status_code}.")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise IssuerUnavailable(f"{url} answered more than {limit} bytes.")
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > limit:
                        raise IssuerUnavailable(f"{url} answered more than {limit} bytes.")
        except httpx.HTTPError as exc:
            raise IssuerUnavailable(f"{url} cannot be reached ({type(exc).__name__}).") from None
        try:
            return json.loads(body)
        except ValueError:
            raise IssuerUnavailable(f"{url} did not answer JSON.") from None


class _NotFound(IssuerUnavailable):
    def __init__(self, url: str) -> None:
        super().__init__(f"{url} answered HTTP 404.")


def _metadata_urls(issuer: str) -> list[str]:
    """Where an issuer's metadata may be (RFC 8414 §3.1 path insertion, then OpenID Connect Discovery)."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")

    def at(well_known: str) -> str:
        return urlunsplit((parts.scheme, parts.netloc, well_known, "", ""))

    urls = [at("/.well-known/oauth-authorization-server" + path), at("/.well-known/openid-configuration" + path)]
    if path:
        urls.append(at(path + "/.well-known/openid-configuration"))
    return urls


def _pick(keys: list[Key], kid: str | None, alg: str) -> Key | None:
    """The key for a token: the one with its `kid`, or without a `kid` the only key of the right type."""
    key_type = _KEY_TYPES.get(alg[:2])
    fitting = [k for k in keys if k.key_type == key_type and k.get("alg") in (None, alg)]
    if kid is not None:
        return next((k for k in fitting if k.kid == kid), None)
    return fitting[0] if len(fitting) == 1 else None


def _names_audience(aud: object, audience: str) -> bool:
    values = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    return any(isinstance(v, str) and (v == audience or same_resource(v, audience)) for v in values)


def _scopes(claims: dict[str, Any]) -> frozenset[str]:
    scope = claims.get("scope")
    if isinstance(scope, str):
        return frozenset(scope.split())
    scp = claims.get("scp")
    if isinstance(scp, list):
        return frozenset(s for s in scp if isinstance(s, str))
    if isinstance(scp, str):
        return frozenset(scp.split())
    return frozenset()
