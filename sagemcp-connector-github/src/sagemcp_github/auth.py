"""GitHub App installation tokens: the app's private key is exchanged for short-lived tokens.

A GitHub App acts on the repositories it is installed on, with the permissions the
installation grants, without a person's account. The tenant stores a credential of
kind `github_app`:

- `extra["app_id"]`: the App ID (or the app's client ID) from the app's settings page;
- `extra["installation_id"]`: the installation on the tenant's account or organization;
- `extra["api_url"]` (optional): the API base URL for GitHub Enterprise Server;
- `refresh_token`: the app's private key (PEM), kept secret like every token;
- `access_token`: the current installation token (any placeholder before the first refresh,
  with `expires_at` 0 so that the first call refreshes it).

`GitHubAppAuth.refresh_credential` signs a ten-minute RS256 JWT with the private key
(Authlib's `jose`), posts it to `/app/installations/{installation_id}/access_tokens`,
and returns the credential with the new token (valid for one hour) and its expiry.
It implements core's `SelfRefreshingScheme`: `CredentialManager` calls it under its
single-flight and store lock before the token expires, and sets the new `version`.

Failures: GitHub's refusals raise `TokenEndpointError` (`invalid_grant` when the app
or installation is not accepted, so the manager marks the credential for reconnection;
the HTTP status for passing failures, which it retries later). A credential that cannot
work as stored (no app id, installation id or usable private key) raises
`ReconnectRequired` at once, with what to fix, and nothing is sent.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote

import authlib.deprecate  # noqa: F401  (imported first: it installs an "always" filter for its own warning)
import httpx
from pydantic import SecretStr

from sagemcp.auth import AuthScheme
from sagemcp.errors import ReconnectRequired, TokenEndpointError
from sagemcp.models import Credential
from sagemcp.oauth import BAD_RESPONSE, UNREACHABLE

with warnings.catch_warnings():
    # authlib.jose warns that it will move to joserfc in Authlib 2; it is the documented API until then.
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.jose import jwt
    from authlib.jose.errors import JoseError

from ._config import DEFAULT_API_URL, validate_api_url

__all__ = ["GitHubAppAuth"]

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


@dataclass(frozen=True)
class GitHubAppAuth(AuthScheme):
    """Authenticate as a GitHub App installation with tokens made from the app's private key."""

    kind: ClassVar[str] = "github_app"
    description: str = (
        "GitHub App installation: store the App ID and installation ID in the credential's extra data and the "
        "app's private key (PEM) as its refresh token; installation tokens are made and renewed automatically."
    )

    def headers(self, credential: Credential | None) -> dict[str, str]:
        if credential is None:
            return {}
        return {"Authorization": f"Bearer {credential.access_token.get_secret_value()}"}

    def app_jwt(self, credential: Credential, now: float | None = None) -> str:
        """The signed JWT that authenticates the app itself (not an installation)."""
        app_id = _required(credential, "app_id")
        if credential.refresh_token is None:
            raise ReconnectRequired(
                f"the GitHub App credential (app {app_id}) has no private key: store the app's private key "
                "(PEM) as the credential's refresh token"
            )
        issued = int(time.time() if now is None else now) - _CLOCK_SKEW
        payload = {"iat": issued, "exp": issued + _CLOCK_SKEW + _JWT_LIFETIME, "iss": str(app_id)}
        try:
            token: bytes = jwt.encode(
                {"alg": "RS256", "typ": "JWT"}, payload, credential.refresh_token.get_secret_value()
            )
        except (JoseError, ValueError, TypeError) as exc:
            raise ReconnectRequired(
                f"the private key stored for GitHub App {app_id} is not a usable RSA key in PEM format "
                f"({type(exc).__name__}): download a new private key from the app's settings and store it"
            ) from None
        return token.decode("ascii")

    async def refresh_credential(self, credential: Credential, http: httpx.AsyncClient) -> Credential:
        """`credential` with a new installation token and its expiry (the version is left to the caller).

        Raises `TokenEndpointError` when GitHub refuses or fails, `ReconnectRequired` when
        the stored credential lacks what the exchange needs.
        """
        app_id = _required(credential, "app_id")
        installation_id = _required(credential, "installation_id")
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
        except httpx.HTTPError as exc:
            raise TokenEndpointError(
                f"could not reach GitHub to renew the installation token of {where} ({type(exc).__name__})",
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


def _required(credential: Credential, key: str) -> str | int:
    value = credential.extra.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int) or value in ("", 0):
        raise ReconnectRequired(
            f"the GitHub App credential lacks extra[{key!r}]: store the app's app_id and installation_id "
            "in the credential's extra data"
        )
    return value


def _parse_expiry(value: Any) -> float:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    return time.time() + _FALLBACK_LIFETIME
