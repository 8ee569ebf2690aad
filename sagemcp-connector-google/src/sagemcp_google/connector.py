"""`GoogleConnector`: Google Drive, Docs, Sheets, Calendar and Gmail as MCP tools, under one Google connection.

One connector type and one Google OAuth app for the five APIs; each API is a tool group, with
separate groups, off by default, for rarer tools (Docs' structure, a spreadsheet's layout) and for what
reaches other people or cannot be undone (sharing, comments, trash, deletes, sending mail). Authentication (a
tenant's credential names its scheme by `kind`):

- `oauth2`: Google's OAuth 2.0 for web server apps, with PKCE. The authorization asks for offline
  access with the consent prompt, so Google returns a refresh token every time, and for exactly the
  scopes of the enabled tools (read-only scopes when the policy is read-only); incremental
  authorization keeps the scopes granted before.
- `jwt_bearer`: a service account with domain-wide delegation; the JWT names the Workspace user
  to act as (`subject`) and the scopes the administrator authorized.

Every Google host a tool calls is a declared credential origin (`credential_origins`). Google's
error envelope is read in `sagemcp_google._errors`: 403 rate limits become rate-limit errors and
missing scopes are named.
"""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator

from sagemcp import (
    Connector,
    ConnectorInfo,
    ConnectorSettings,
    Credential,
    JwtBearer,
    OAuth2,
    UpstreamResponse,
    current_cursor_tool,
    origin_of,
    validate_api_url,
)
from sagemcp.errors import UpstreamError

from . import __version__
from ._errors import map_google_error
from ._resumable import (
    CHUNK_GRANULARITY,
    DEFAULT_CHUNK_BYTES,
    DEFAULT_MAX_UPLOAD_BYTES,
    MAX_UPLOAD_CEILING,
    MULTIPART_LIMIT,
)
from ._scopes import scope
from ._services import ROOTS, Api, root_url
from .tools import (
    CalendarDeleteTools,
    CalendarTools,
    DocsStructureTools,
    DocsTools,
    DriveCommentsTools,
    DriveSharingTools,
    DriveTools,
    DriveTrashTools,
    GmailSendTools,
    GmailTools,
    SheetsDeleteTools,
    SheetsLayoutTools,
    SheetsTools,
)

__all__ = [
    "AUTHORIZE_URL",
    "DEFAULT_API_URL",
    "DEFAULT_GROUPS",
    "REVOKE_URL",
    "SERVICE_ACCOUNT_SCOPES",
    "TOKEN_URL",
    "GoogleConfig",
    "GoogleConnector",
]

DEFAULT_API_URL = ROOTS["drive"]
"""The base URL of relative requests; every tool names its API's URL in full (`sagemcp_google._services`)."""

DEFAULT_GROUPS = ("drive", "docs", "sheets")
"""Groups on for a tenant whose policy names none: files, documents and spreadsheets (25 tools), reads
and everyday writes. Calendar and Gmail are one switch away (`calendar`, `gmail`), and so are the rarer
tools on Docs' structure (`docs_structure`) and on a spreadsheet's tabs and formats (`sheets_layout`);
sharing, comments, trash, deletes and sending mail have groups of their own, off by default."""

AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
TOKEN_URL = "https://oauth2.googleapis.com/token"
REVOKE_URL = "https://oauth2.googleapis.com/revoke"

SERVICE_ACCOUNT_SCOPES = (scope("drive"), scope("documents"), scope("spreadsheets"))
"""What a service-account credential asks for unless it lists its own `scopes`: the write scopes of
the default groups. Every scope requested must be authorized for the service account's client id in
the Workspace Admin console (Security > API controls > Domain-wide delegation)."""

_Endpoint = Annotated[str, Field(max_length=2048)]


class GoogleConfig(ConnectorSettings):
    """Per-tenant configuration of the Google connector."""

    endpoints: dict[Api, _Endpoint] = Field(
        default_factory=dict,
        description="Root URLs replacing Google's for some APIs, such as Private Service Connect endpoints: "
        '{"drive": "https://www-acme.p.googleapis.com/"}. Keys: drive, docs, sheets, calendar, gmail; '
        "the discovery paths (drive/v3/..., v1/documents/...) are appended.",
    )
    time_zone: str | None = Field(
        default=None,
        max_length=64,
        description="IANA time zone (Europe/Paris) for calendar times given without an offset; "
        "default: each calendar's own time zone.",
    )
    max_upload_bytes: int = Field(
        default=DEFAULT_MAX_UPLOAD_BYTES,
        ge=MULTIPART_LIMIT,
        le=MAX_UPLOAD_CEILING,
        description="The largest file google_create_file uploads, in bytes (default 20 MiB, at most 256 MiB). "
        "Files over 5 MiB go up in a resumable upload, in chunks of upload_chunk_bytes.",
    )
    upload_chunk_bytes: int = Field(
        default=DEFAULT_CHUNK_BYTES,
        ge=CHUNK_GRANULARITY,
        le=64 * 1024 * 1024,
        description="The size of each chunk of a resumable upload, a multiple of 262144 (256 KiB); default 8 MiB.",
    )

    @field_validator("endpoints")
    @classmethod
    def _endpoints(cls, value: dict[Api, str]) -> dict[Api, str]:
        checked: dict[Api, str] = {}
        for api, url in value.items():
            checked[api] = validate_api_url(url, example=ROOTS[api], field=f"endpoints.{api}").rstrip("/") + "/"
        return checked

    @field_validator("upload_chunk_bytes")
    @classmethod
    def _chunk(cls, value: int) -> int:
        if value % CHUNK_GRANULARITY:
            lower = value // CHUNK_GRANULARITY * CHUNK_GRANULARITY
            raise ValueError(
                f"{value} is not a multiple of {CHUNK_GRANULARITY} (256 KiB), as Google requires of every chunk but "
                f"the last: use {lower or CHUNK_GRANULARITY} or {lower + CHUNK_GRANULARITY}"
            )
        return value

    @field_validator("time_zone")
    @classmethod
    def _time_zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone name such as Europe/Paris") from None
        return value


class GoogleConnector(
    DriveTools,
    DriveSharingTools,
    DriveCommentsTools,
    DriveTrashTools,
    DocsTools,
    DocsStructureTools,
    SheetsTools,
    SheetsLayoutTools,
    SheetsDeleteTools,
    CalendarTools,
    CalendarDeleteTools,
    GmailTools,
    GmailSendTools,
    Connector,
):
    """Google Workspace: Drive files, Docs, Sheets, Calendar and Gmail."""

    info = ConnectorInfo(
        id="google",
        title="Google",
        description="Google Workspace under one Google account connection: Drive files and folders (search, "
        "read any file as text, create, copy, move, share, comment), Docs as Markdown, Sheets ranges, "
        "Calendar events and free/busy, and Gmail messages, labels and drafts.",
        homepage="https://developers.google.com/workspace",
        version=__version__,
        default_groups=DEFAULT_GROUPS,
    )
    auth = (
        OAuth2(
            description="Google OAuth 2.0 for web server apps (authorization code with PKCE, offline access); "
            "the scopes follow the enabled tools.",
            authorize_url=AUTHORIZE_URL,
            token_url=TOKEN_URL,
            revoke_url=REVOKE_URL,
            pkce=True,
            token_auth_method="client_secret_post",
            # offline + consent: Google returns a refresh token on every authorization, not only the first;
            # include_granted_scopes: enabling one more group adds its scopes to those granted before.
            extra_authorize_params={
                "access_type": "offline",
                "prompt": "consent",
                "include_granted_scopes": "true",
            },
        ),
        JwtBearer(
            description="A Google service account with domain-wide delegation, acting as the Workspace user "
            "named in `subject`.",
            token_url=TOKEN_URL,
            scopes=SERVICE_ACCOUNT_SCOPES,
        ),
    )
    Config = GoogleConfig
    base_url = DEFAULT_API_URL

    @classmethod
    def api_base_url(cls, config: BaseModel, credential: Credential | None) -> str:
        """Drive's root (or the tenant's endpoint for it); every tool passes its API's absolute URL."""
        return root_url(config if isinstance(config, GoogleConfig) else None, "drive")

    @classmethod
    def credential_origins(cls, config: BaseModel, credential: Credential | None) -> tuple[str, ...]:
        """The origins of the APIs besides Drive's: Docs, Sheets, Gmail (Calendar shares Drive's host)."""
        settings = config if isinstance(config, GoogleConfig) else None
        base = origin_of(root_url(settings, "drive"))
        origins: list[str] = []
        for api in ROOTS:
            origin = origin_of(root_url(settings, api))
            if origin != base and origin not in origins:
                origins.append(origin)
        return tuple(origins)

    def check_response(self, response: UpstreamResponse) -> UpstreamError | None:
        """Google's 403s that mean "rate limited" or "missing scope"; everything else is core's mapping."""
        name = current_cursor_tool()
        spec = type(self).tools.get(name) if name else None
        return map_google_error(response, spec.scopes if spec is not None else ())
