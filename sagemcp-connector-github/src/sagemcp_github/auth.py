"""GitHub App installation tokens: the app's private key is exchanged for short-lived tokens.

A GitHub App acts on the repositories it is installed on, with the permissions the
installation grants, without a person's account. The tenant stores a credential of
kind `github_app` from these fields (`GitHubAppFields`):

- `app_id`: the App ID (or the app's client ID) from the app's settings page;
- `installation_id`: the installation on the tenant's account or organization;
- `private_key`: the app's private key (PEM), kept as the credential's secret `private_key`;
- `api_url` (optional): the API base URL for GitHub Enterprise Server.

The credential starts without an access token. `GitHubAppAuth.refresh_credential`
signs a ten-minute RS256 JWT with the private key (joserfc, Authlib's JOSE library),
posts it to `/app/installations/{installation_id}/access_tokens`, and returns the
credential with the new token (valid for one hour) and its expiry. It implements
core's `SelfRefreshingScheme`: `CredentialManager` calls it on first use and before the
token expires, under its single-flight and store lock, and sets the new `version`.

Failures: GitHub's refusals raise `TokenEndpointError` (`invalid_grant` when the app
or installation is not accepted, so the manager marks the credential for reconnection;
the HTTP status for passing failures, which it retries later). A credential that cannot
work as stored (no app id, installation id or usable private key) raises
`ReconnectRequired` at once, with what to fix, and nothing is sent.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from pydantic import Field, SecretStr, field_validator

from sagemcp import BAD_RESPONSE, UNREACHABLE, AuthScheme, Credential, CredentialFields
from sagemcp.errors import ReconnectRequired, TokenEndpointError

from ._config import DEFAULT_API_URL, validate_api_url

__all__ = ["GitHubAppAuth", "GitHubAppFields"]

_JWT_LIFETIME = 540
"""Seconds a signing JWT is valid (GitHub allows at most ten minutes)."""
_CLOCK_SKEW = 60
"""Seconds the JWT's issue time is backdated, for clocks slightly ahead of GitHub's."""
_FALLBACK_LIFETIME = 3600.0
_API_VERSION = "2022-11-28"
_REFUSALS = {
    401: "GitHub did not accept the app's JWT: check the App ID, and that the private key is the app's",
    403: "the app may not create tokens for this installation (suspended, or permissions not accepted)",
    404: "the installation does not exist: the app was uninstalled, or the installation ID is wrong",
    422: "GitHub rejected the token request",
}


class GitHubAppFields(CredentialFields):
    """What a GitHub App credential is stored from."""

    app_id: str = Field(
        min_length=1, max_length=100, description="The App ID (or client ID) from the app's settings page."
    )
    installation_id: int = Field(gt=0, description="The installation on the tenant's account or organization.")
    private_key: SecretStr = Field(max_length=16384, description="Write-only: the app's private key (PEM).")
    api_url: str | None = Field(
        default=None, max_length=2048, description="GitHub Enterprise Server's API URL (https://HOST/api/v3)."
    )

    @field_validator("app_id", mode="before")
    @classmethod
    def _app_id(cls, value: Any) -> Any:
        # GitHub shows the App ID as a number; JSON callers send it as one.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("private_key")
    @classmethod
    def _private_key(cls, value: SecretStr) -> SecretStr:
        try:
            key = load_pem_private_key(value.get_secret_value().encode("utf-8"), password=None)
        except (ValueError, TypeError):
            key = None
        if not isinstance(key, RSAPrivateKey):
            raise ValueError(
                "is not an RSA private key in PEM format: download a private key from the app's settings page"
            )
        return value

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str | None) -> str | None:
        return validate_api_url(value) if value is not None else None


@dataclass(frozen=True)
class GitHubAppAuth(AuthScheme):
    """Authenticate as a GitHub App installation with tokens made from the app's private key."""

    kind: ClassVar[str] = "github_app"
    Fields: ClassVar[type[CredentialFields]] = GitHubAppFields
    description: str = (
        "GitHub App installation: store the App ID, the installation ID and the app's private key (PEM); "
        "installation tokens are made and renewed automatically."
    )

    def headers(self, credential: Credential | None) -> dict[str, str]:
        if credential is None:
            return {}
        return {"Authorization": f"Bearer {credential.require_token()}"}

    def app_jwt(self, credential: Credential, now: float | None = None) -> str:
        """The signed JWT that authenticates the app itself (not an installation)."""
        app_id = _required(credential.extra, "app_id")
        private_key = credential.secret("private_key")
        if not private_key:
            raise ReconnectRequired(
                f"the GitHub App credential (app {app_id}) has no private key: store the credential again with "
                "the app's private key (PEM)"
            )
        issued = int(time.time() if now is None else now) - _CLOCK_SKEW
        payload = {"iat": issued, "exp": issued + _CLOCK_SKEW + _JWT_LIFETIME, "iss": str(app_id)}
        try:
            return jwt.encode({"alg": "RS256", "typ": "JWT"}, payload, RSAKey.import_key(private_key))
        except (JoseError, ValueError, TypeError) as exc:
            raise ReconnectRequired(
                f"the private key stored for GitHub App {app_id} is not a usable RSA key in PEM format "
                f"({type(exc).__name__}): download a new private key from the app's settings and store it"
            ) from None

    async def refresh_credential(self, credential: Credential, http: httpx.AsyncClient) -> Credential:
        """`credential` with a new installation token and its expiry (the version is left to the caller).

        Raises `TokenEndpointError` when GitHub refuses or fails, `ReconnectRequired` when
        the stored credential lacks what the exchange needs.
        """
        app_id = _required(credential.extra, "app_id")
        installation_id = _required(credential.extra, "installation_id")
        api_url = credential.extra.get("api_url") or DEFAULT_API_URL
        try:
            api_url = validate_api_url(str(api_url))
        except ValueError as exc:
            raise ReconnectRequired(f"the GitHub App credential's api_url is not usable: {exc}") from None
        url = f"{api_url}/app/installations/{quote(str(installation_id), safe='')}/access_tokens"
        headers = {
            "Authorization": f"Bearer {self.app_jwt(credential)}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": _API_VERSION,
        }
        where = f"GitHub App {app_id}, installation {installation_id}"
        try:
            response = await http.post(url, headers=headers)
        except httpx.HTTPError:
            # The same text for every failure, as for tool calls: it must not tell which ports of a host are open.
            raise TokenEndpointError(
                f"could not reach GitHub to renew the installation token of {where}: no connection, or no answer "
                "in time; try again later",
                error=UNREACHABLE,
            ) from None
        status = response.status_code
        if status in _REFUSALS:
            raise TokenEndpointError(
                f"GitHub refused an installation token for {where} ({status}): {_REFUSALS[status]}; "
                "update the GitHub App credential for this tenant",
                error="invalid_grant" if status != 422 else "invalid_request",
                status=status,
            )
        if not response.is_success:
            raise TokenEndpointError(
                f"GitHub answered {status} when renewing the installation token of {where}", status=status
            )
        try:
            data: Any = response.json()
        except ValueError:
            data = None
        token = data.get("token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise TokenEndpointError(
                f"GitHub's answer for {where} held no installation token", error=BAD_RESPONSE, status=status
            )
        extra = dict(credential.extra)
        if isinstance(data.get("permissions"), dict):
            extra["permissions"] = data["permissions"]
        if isinstance(data.get("repository_selection"), str):
            extra["repository_selection"] = data["repository_selection"]
        return credential.model_copy(
            update={
                "access_token": SecretStr(token),
                "expires_at": _parse_expiry(data.get("expires_at")),
                "token_type": "Bearer",
                "extra": extra,
            }
        )


def _required(extra: Mapping[str, Any], key: str) -> str | int:
    value = extra.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int) or value in ("", 0):
        raise ReconnectRequired(
            f"the GitHub App credential lacks its {key}: store the credential again with the app's app_id, "
            "installation_id and private_key"
        )
    return value


def _parse_expiry(value: Any) -> float:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    return time.time() + _FALLBACK_LIFETIME
