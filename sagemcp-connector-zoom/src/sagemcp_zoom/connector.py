"""`ZoomConnector`: Zoom meetings, webinars, cloud recordings, transcripts and AI summaries as MCP tools.

Authentication (a tenant's credential names its scheme by its `kind`):

- `oauth2`: a Zoom General app's user authorization (authorization code with PKCE, client
  authentication with HTTP Basic as Zoom requires). The authorize URL names the granular scopes
  of the enabled tools (`@tool(scopes=...)`; the Zoom app must offer them). Zoom rotates refresh
  tokens on every refresh; core's `CredentialManager` stores each new one with a compare-and-swap
  on the credential's version, so a rotated token is never lost or used twice.
- `client_credentials`: a Server-to-Server OAuth app: its client id and secret plus the Zoom
  account id, exchanged with Zoom's `account_credentials` grant for one-hour tokens (no refresh
  token), fetched again when due, once for all concurrent callers.

Zoom's token answers name the account's API host (`api_url`); `api_base_url` uses it unless the
tenant configured `api_url`. Recording downloads go to Zoom's web hosts, which receive the token
too (`credential_origins`: the tenant's `download_origins`). Zoom's error envelope, rate-limit
headers and 429s are mapped in `_errors.zoom_error`.
"""

from __future__ import annotations

from pydantic import BaseModel

from sagemcp import ClientCredentials, Connector, ConnectorInfo, Credential, OAuth2, UpstreamResponse
from sagemcp.errors import UpstreamError

from . import __version__
from ._config import DEFAULT_API_URL, DEFAULT_DOWNLOAD_ORIGINS, ZoomConfig
from ._errors import zoom_error
from ._oauth import zoom_api_base, zoom_token_response
from .tools import (
    MeetingsDeleteTools,
    MeetingsTools,
    RecordingsDeleteTools,
    RecordingsTools,
    SummariesTools,
    UsersAdminTools,
    UsersTools,
    WebinarsTools,
)

__all__ = [
    "AUTHORIZE_URL",
    "DEFAULT_API_URL",
    "DEFAULT_GROUPS",
    "REVOKE_URL",
    "TOKEN_URL",
    "ZoomConfig",
    "ZoomConnector",
]

DEFAULT_GROUPS = ("meetings", "recordings", "summaries", "webinars", "users")
"""Groups enabled when a tenant's policy names none. Deleting (`meetings_delete`, `recordings_delete`)
and listing the account's users (`users_admin`, an admin scope) must be enabled."""

AUTHORIZE_URL = "https://zoom.us/oauth/authorize"
TOKEN_URL = "https://zoom.us/oauth/token"
REVOKE_URL = "https://zoom.us/oauth/revoke"


class ZoomConnector(
    MeetingsTools,
    MeetingsDeleteTools,
    RecordingsTools,
    RecordingsDeleteTools,
    SummariesTools,
    WebinarsTools,
    UsersTools,
    UsersAdminTools,
    Connector,
):
    """Zoom: meetings, webinars, cloud recordings, transcripts, AI Companion summaries and users."""

    info = ConnectorInfo(
        id="zoom",
        title="Zoom",
        description="Schedule, read and update Zoom meetings (held instances, participants, registrants, polls), "
        "list cloud recordings and read transcripts as speaker-labelled text, AI Companion meeting summaries, "
        "webinars and users.",
        homepage="https://developers.zoom.us/docs/api/",
        version=__version__,
        default_groups=DEFAULT_GROUPS,
    )
    auth = (
        OAuth2(
            description="Zoom user OAuth (a General app, authorization code with PKCE); the granular scopes "
            "follow the enabled tools, and Zoom's rotating refresh tokens are kept.",
            authorize_url=AUTHORIZE_URL,
            token_url=TOKEN_URL,
            revoke_url=REVOKE_URL,
            pkce=True,
            token_auth_method="client_secret_basic",
            token_response_hook=zoom_token_response,
        ),
        ClientCredentials(
            description="Zoom Server-to-Server OAuth: the app's client id and secret and the Zoom account id, "
            "exchanged for one-hour tokens (account_credentials grant); the scopes are chosen in the app.",
            token_url=TOKEN_URL,
            grant_type="account_credentials",
            token_params=("account_id",),
            token_auth_method="client_secret_basic",
            token_response_hook=zoom_token_response,
        ),
    )
    Config = ZoomConfig
    base_url = DEFAULT_API_URL
    extra_origins = DEFAULT_DOWNLOAD_ORIGINS

    @classmethod
    def api_base_url(cls, config: BaseModel, credential: Credential | None) -> str:
        """The tenant's `api_url`; else the API host Zoom's token answer named; else api.zoom.us."""
        configured = config.api_url if isinstance(config, ZoomConfig) else None
        if configured:
            return configured
        named = zoom_api_base(credential.extra.get("api_url")) if credential is not None else None
        return named or DEFAULT_API_URL

    @classmethod
    def credential_origins(cls, config: BaseModel, credential: Credential | None) -> tuple[str, ...]:
        """Zoom's download hosts (the tenant's `download_origins`), where transcript files are fetched."""
        return config.download_origins if isinstance(config, ZoomConfig) else DEFAULT_DOWNLOAD_ORIGINS

    def check_response(self, response: UpstreamResponse) -> UpstreamError | None:
        """Zoom's error envelope, scope errors, rate limits and 429s (see `_errors`)."""
        return zoom_error(response)
