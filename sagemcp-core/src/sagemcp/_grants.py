"""Grants that need no person, as auth schemes: client credentials (RFC 6749 §4.4) and JWT bearer (RFC 7523 §2.1).

Both keep what they need in the credential (plain fields in `Credential.extra`, the
client secret or private key in `Credential.secrets`) and start without an access
token. `CredentialManager` runs the grant on first use and again whenever the token is
due, under its single-flight and store lock, exactly as it refreshes OAuth tokens; there
is no refresh token. Authlib builds the token requests, the client authentication and
the signed assertion; httpx sends them (so `httpx.MockTransport` fakes a provider).

- `ClientCredentials`: a service's own client id and secret, for machine-to-machine
  APIs. Zoom's Server-to-Server OAuth is
  `ClientCredentials(token_url="https://zoom.us/oauth/token", grant_type="account_credentials",
  token_params=("account_id",))`: the account id becomes a required field, sent with the
  token request.
- `JwtBearer`: a JWT signed with the credential's private key (RS256 unless told
  otherwise) with `iss`, optional `sub` (the user to act as), `aud` = the token URL,
  `scope`, `iat` and `exp`, exchanged for an access token. A Google service account is
  `JwtBearer(token_url="https://oauth2.googleapis.com/token", scopes=(...))`; its JSON key
  file's contents are accepted as the field `service_account_key`, and `subject` names
  the Workspace user to impersonate under domain-wide delegation.

A provider refusing the grant raises `TokenEndpointError` with its OAuth error code;
`CredentialManager` marks the credential for reconnection on `invalid_client`,
`invalid_grant` or `unauthorized_client` and keeps it on passing failures (429, 5xx, no
answer). A credential missing its material raises `ReconnectRequired` before anything is sent.
"""

from __future__ import annotations

import functools
import json
import re
import time
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

import httpx
from authlib.oauth2.rfc7523 import JWTBearerGrant
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from joserfc import jwk
from joserfc.errors import JoseError
from pydantic import Field, SecretStr, create_model, field_validator, model_validator

from ._auth import AuthScheme, CredentialFields, TokenResponseHook
from ._models import Credential
from ._oauth import request_token, token_credential
from ._urls import validate_api_url
from .errors import ReconnectRequired

__all__ = [
    "JWT_BEARER_GRANT_TYPE",
    "ClientCredentials",
    "ClientCredentialsFields",
    "JwtBearer",
    "JwtBearerFields",
]

JWT_BEARER_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"

_PARAM_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_RESERVED_PARAMS = frozenset(
    {"grant_type", "scope", "scopes", "client_id", "client_secret", "assertion", "code", "refresh_token"}
)
_TOKEN_URL_EXAMPLE = "https://oauth2.googleapis.com/token"
_KEY_FAMILIES = ("RS", "PS", "ES", "Ed")
"""Prefixes of the asymmetric JWS algorithms (RS256, PS256, ES256, EdDSA)."""
_SERVICE_ACCOUNT_KEYS = ("client_email", "private_key", "token_uri")
_Scope = Annotated[str, Field(min_length=1, max_length=200)]
_Secret = Annotated[SecretStr, Field(min_length=1, max_length=16384)]


def _bearer(credential: Credential | None) -> dict[str, str]:
    if credential is None:
        return {}
    return {"Authorization": f"Bearer {credential.require_token()}"}


def _required(credential: Credential, name: str, what: str) -> str:
    """A plain field of the credential, or `ReconnectRequired` naming it."""
    value = credential.extra.get(name)
    if not isinstance(value, str) or not value:
        raise ReconnectRequired(
            f"the {credential.provider} {what} credential of this tenant lacks the field {name!r}: "
            "store the credential's fields again"
        )
    return value


def _secret(credential: Credential, name: str, what: str) -> str:
    value = credential.secret(name)
    if not value:
        raise ReconnectRequired(
            f"the {credential.provider} {what} credential of this tenant lacks its secret {name!r}: "
            "store the credential's fields again"
        )
    return value


def _requested_scopes(credential: Credential, default: tuple[str, ...]) -> list[str]:
    stored = credential.extra.get("scopes")
    if isinstance(stored, list) and stored:
        return [str(s) for s in stored]
    return list(default)


# -- client credentials ------------------------------------------------------------------


class ClientCredentialsFields(CredentialFields):
    client_id: str = Field(min_length=1, max_length=512, description="The client id of the service's app.")
    client_secret: _Secret = Field(description="Write-only: its client secret.")
    scopes: list[_Scope] | None = Field(
        default=None, max_length=200, description="Scopes to request; default: the connector's."
    )


@functools.cache
def _client_credentials_fields(params: tuple[str, ...]) -> type[CredentialFields]:
    """`ClientCredentialsFields` plus a required text field per extra token parameter."""
    if not params:
        return ClientCredentialsFields
    extra: dict[str, Any] = {
        name: (str, Field(min_length=1, max_length=512, description=f"Sent as `{name}` with the token request."))
        for name in params
    }
    model: type[CredentialFields] = create_model(  # type: ignore[call-overload]
        "ClientCredentialsFields_" + "_".join(params), __base__=ClientCredentialsFields, **extra
    )
    return model


@dataclass(frozen=True)
class ClientCredentials(AuthScheme):
    """The client-credentials grant: the credential's own client id and secret are exchanged for tokens."""

    kind: ClassVar[str] = "client_credentials"
    Fields: ClassVar[type[CredentialFields]] = ClientCredentialsFields
    token_url: str = ""
    grant_type: str = "client_credentials"
    """Zoom's Server-to-Server OAuth: `account_credentials`."""
    token_auth_method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"
    scopes: tuple[str, ...] = ()
    """Scopes requested unless the credential names its own."""
    scope_separator: str = " "
    token_params: tuple[str, ...] = ()
    """Credential fields sent as parameters of the token request (Zoom: `account_id`); each becomes a
    required field of the credential."""
    token_response_hook: TokenResponseHook | None = None

    def __post_init__(self) -> None:
        if not self.token_url:
            raise ValueError("ClientCredentials needs token_url")
        for name in self.token_params:
            if not _PARAM_RE.match(name) or name in _RESERVED_PARAMS:
                raise ValueError(f"ClientCredentials.token_params: {name!r} is not a usable parameter name")

    def fields_model(self) -> type[CredentialFields]:
        return _client_credentials_fields(self.token_params)

    def headers(self, credential: Credential | None) -> dict[str, str]:
        return _bearer(credential)

    async def refresh_credential(self, credential: Credential, http: httpx.AsyncClient) -> Credential:
        """`credential` with a new access token from the grant (see `SelfRefreshingScheme`)."""
        what = "client-credentials"
        client_id = _required(credential, "client_id", what)
        secret = _secret(credential, "client_secret", what)
        params = {name: _required(credential, name, what) for name in self.token_params}
        scopes = _requested_scopes(credential, self.scopes)
        if scopes:
            params["scope"] = self.scope_separator.join(scopes)
        data = await request_token(
            http,
            self.token_url,
            self.grant_type,
            params,
            provider=credential.provider,
            client_id=client_id,
            client_secret=secret,
            auth_method=self.token_auth_method,
        )
        return token_credential(
            data,
            previous=credential,
            requested=scopes,
            separator=self.scope_separator,
            hook=self.token_response_hook,
        )


# -- JWT bearer --------------------------------------------------------------------------


def _import_key(pem: str, algorithm: str) -> jwk.RSAKey | jwk.ECKey | jwk.OKPKey:
    family = algorithm[:2]
    if family in ("RS", "PS"):
        return jwk.RSAKey.import_key(pem)
    if family == "ES":
        return jwk.ECKey.import_key(pem)
    return jwk.OKPKey.import_key(pem)


def _check_private_key(value: SecretStr | None) -> SecretStr | None:
    if value is None:
        return None
    try:
        load_pem_private_key(value.get_secret_value().encode("utf-8"), password=None)
    except (ValueError, TypeError):
        raise ValueError("is not a private key in PEM format (without a passphrase)") from None
    return value


def _check_token_url(value: str | None) -> str | None:
    if value is None:
        return None
    return validate_api_url(value, example=_TOKEN_URL_EXAMPLE, field="token_url")


def _service_account(value: SecretStr) -> dict[str, Any]:
    """The contents of a Google service-account JSON key file, checked; `ValueError` says what is wrong."""
    try:
        data = json.loads(value.get_secret_value())
    except ValueError:
        raise ValueError("is not JSON: give the contents of the service account's JSON key file") from None
    if not isinstance(data, dict) or data.get("type") != "service_account":
        raise ValueError('is not a service-account key file (its "type" must be "service_account")')
    missing = [key for key in _SERVICE_ACCOUNT_KEYS if not isinstance(data.get(key), str) or not data.get(key)]
    if missing:
        raise ValueError(f"lacks {', '.join(missing)}")
    _check_private_key(SecretStr(data["private_key"]))
    _check_token_url(data["token_uri"])
    return data


class JwtBearerFields(CredentialFields):
    """An issuer and its private key, or a Google service account's JSON key file as `service_account_key`."""

    issuer: str | None = Field(
        default=None, min_length=1, max_length=512, description="`iss` (a service account's client_email)."
    )
    private_key: _Secret | None = Field(default=None, description="Write-only: the PEM private key that signs.")
    key_id: str | None = Field(default=None, max_length=200, description="`kid` of the key, if the provider wants it.")
    service_account_key: SecretStr | None = Field(
        default=None,
        max_length=65536,
        description="Write-only: a Google service account's JSON key file, instead of issuer and private_key.",
    )
    subject: str | None = Field(
        default=None, min_length=1, max_length=512, description="`sub`: the user to act as (domain-wide delegation)."
    )
    token_url: str | None = Field(default=None, max_length=2048, description="Used when the connector names none.")
    scopes: list[_Scope] | None = Field(
        default=None, max_length=200, description="Scopes to request; default: the connector's."
    )

    _private_key = field_validator("private_key")(_check_private_key)
    _token_url = field_validator("token_url")(_check_token_url)

    @field_validator("service_account_key")
    @classmethod
    def _key_file(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _service_account(value)
        return value

    @model_validator(mode="after")
    def _one_source(self) -> JwtBearerFields:
        if self.service_account_key is not None:
            if self.issuer is not None or self.private_key is not None:
                raise ValueError("give either service_account_key, or issuer and private_key, not both")
        elif self.issuer is None or self.private_key is None:
            raise ValueError("give issuer and private_key, or a service account's service_account_key")
        return self


@dataclass(frozen=True)
class JwtBearer(AuthScheme):
    """The JWT-bearer grant: a JWT signed with the credential's private key is exchanged for tokens."""

    kind: ClassVar[str] = "jwt_bearer"
    Fields: ClassVar[type[CredentialFields]] = JwtBearerFields
    token_url: str = ""
    """The token endpoint, also the JWT's `aud`; when empty, the credential's `token_url` field."""
    scopes: tuple[str, ...] = ()
    """Scopes requested unless the credential names its own."""
    algorithm: str = "RS256"
    lifetime: int = 3600
    """Seconds from the JWT's `iat` to its `exp` (Google allows at most an hour)."""
    scope_in: Literal["claim", "request"] = "claim"
    """Where the scopes go: the JWT's `scope` claim (Google), or a `scope` parameter of the token request."""
    scope_separator: str = " "

    def __post_init__(self) -> None:
        if self.algorithm[:2] not in _KEY_FAMILIES:
            raise ValueError(f"JwtBearer.algorithm {self.algorithm!r} is not an asymmetric JWS algorithm")
        if not 0 < self.lifetime <= 86400:
            raise ValueError("JwtBearer.lifetime must be between 1 second and a day")

    def headers(self, credential: Credential | None) -> dict[str, str]:
        return _bearer(credential)

    def to_credential(self, fields: CredentialFields, *, tenant_id: str, provider: str) -> Credential:
        """Store the issuer, subject, key id and token URL as plain fields and only the private key as a secret."""
        assert isinstance(fields, JwtBearerFields)
        issuer, private_key, key_id, token_url = fields.issuer, fields.private_key, fields.key_id, fields.token_url
        extra: dict[str, Any] = {}
        if fields.service_account_key is not None:
            data = _service_account(fields.service_account_key)
            issuer, private_key, token_url = data["client_email"], SecretStr(data["private_key"]), data["token_uri"]
            key_id = data.get("private_key_id") or None
            for name in ("project_id", "client_id"):
                if isinstance(data.get(name), str):
                    extra[name] = data[name]
        assert issuer is not None  # the model's validator requires one source or the other
        assert private_key is not None
        plain = {
            "issuer": issuer,
            "subject": fields.subject,
            "key_id": key_id,
            "token_url": token_url,
            "scopes": fields.scopes,
        }
        extra.update({name: value for name, value in plain.items() if value is not None})
        return Credential(
            tenant_id=tenant_id,
            provider=provider,
            kind=self.kind,
            account=fields.subject or issuer,
            extra=extra,
            secrets={"private_key": private_key},
        )

    def assertion(self, credential: Credential, now: float | None = None) -> str:
        """The signed JWT that `refresh_credential` exchanges (RFC 7523 §3 claims, plus `scope`)."""
        what = "JWT-bearer"
        issuer = _required(credential, "issuer", what)
        token_url = self._token_url(credential)
        pem = _secret(credential, "private_key", what)
        try:
            key = _import_key(pem, self.algorithm)
        except (JoseError, ValueError, TypeError) as exc:
            raise ReconnectRequired(
                f"the private key of the {credential.provider} credential cannot sign {self.algorithm} JWTs "
                f"({type(exc).__name__}): store a matching private key"
            ) from None
        header: dict[str, Any] = {"alg": self.algorithm, "typ": "JWT"}
        key_id = credential.extra.get("key_id")
        if isinstance(key_id, str) and key_id:
            header["kid"] = key_id
        claims: dict[str, Any] = {}
        scopes = _requested_scopes(credential, self.scopes)
        if scopes and self.scope_in == "claim":
            claims["scope"] = self.scope_separator.join(scopes)
        subject = credential.extra.get("subject")
        issued = int(time.time() if now is None else now)
        try:
            token: str = JWTBearerGrant.sign(
                key,
                issuer=issuer,
                audience=token_url,
                subject=subject if isinstance(subject, str) and subject else None,
                issued_at=issued,
                expires_at=issued + self.lifetime,
                claims=claims,
                header=header,
            )
        except (JoseError, ValueError, TypeError) as exc:
            raise ReconnectRequired(
                f"the {credential.provider} JWT could not be signed with the stored private key "
                f"({type(exc).__name__}): store a matching private key"
            ) from None
        return token

    async def refresh_credential(self, credential: Credential, http: httpx.AsyncClient) -> Credential:
        """`credential` with a new access token for a freshly signed assertion (see `SelfRefreshingScheme`)."""
        assertion = self.assertion(credential)
        params = {"assertion": assertion}
        scopes = _requested_scopes(credential, self.scopes)
        if scopes and self.scope_in == "request":
            params["scope"] = self.scope_separator.join(scopes)
        data = await request_token(
            http,
            self._token_url(credential),
            JWT_BEARER_GRANT_TYPE,
            params,
            provider=credential.provider,
            hidden=(assertion,),
        )
        return token_credential(data, previous=credential, requested=scopes, separator=self.scope_separator)

    def _token_url(self, credential: Credential) -> str:
        if self.token_url:
            return self.token_url
        stored = _required(credential, "token_url", "JWT-bearer")
        try:
            return validate_api_url(stored, example=_TOKEN_URL_EXAMPLE, field="token_url")
        except ValueError as exc:
            raise ReconnectRequired(
                f"the token_url of the {credential.provider} credential is not usable ({exc}): store it again"
            ) from None
