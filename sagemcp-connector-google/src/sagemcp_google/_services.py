"""Where each Google API lives, and the URL of one of its methods for a tenant.

The five APIs sit on four hosts (Drive and Calendar share `www.googleapis.com`). A tenant may point
an API at another root URL, such as a Private Service Connect endpoint
(`https://www-acme.p.googleapis.com/`), with `GoogleConfig.endpoints`; the paths below the root are
those of Google's discovery documents (`servicePath` + the method's `path`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal
from urllib.parse import quote

if TYPE_CHECKING:
    from .connector import GoogleConfig

__all__ = ["ROOTS", "SERVICE_PATHS", "Api", "api_url", "segment", "upload_url"]

Api = Literal["drive", "docs", "sheets", "calendar", "gmail"]

ROOTS: dict[Api, str] = {
    "drive": "https://www.googleapis.com/",
    "docs": "https://docs.googleapis.com/",
    "sheets": "https://sheets.googleapis.com/",
    "calendar": "https://www.googleapis.com/",
    "gmail": "https://gmail.googleapis.com/",
}
"""Each API's `rootUrl` in its discovery document."""

SERVICE_PATHS: dict[Api, str] = {
    "drive": "drive/v3/",
    "docs": "v1/",
    "sheets": "v4/",
    "calendar": "calendar/v3/",
    "gmail": "gmail/v1/",
}
"""Each API's `servicePath` (Docs and Sheets keep the version in each method's path; here it is shared)."""


def root_url(config: GoogleConfig | None, api: Api) -> str:
    """The root URL of `api` for a tenant: its configured endpoint, or Google's."""
    configured = config.endpoints.get(api) if config is not None else None
    root = configured or ROOTS[api]
    return root if root.endswith("/") else root + "/"


def api_url(config: GoogleConfig | None, api: Api, path: str) -> str:
    """The absolute URL of `path` (already encoded) in `api`: `files/abc` -> `https://www.googleapis.com/drive/v3/files/abc`."""
    return root_url(config, api) + SERVICE_PATHS[api] + path.lstrip("/")


def upload_url(config: GoogleConfig | None, api: Api, path: str) -> str:
    """The media-upload URL of a method (`/upload/` before the service path, as the discovery documents give it)."""
    return root_url(config, api) + "upload/" + SERVICE_PATHS[api] + path.lstrip("/")


def segment(value: str) -> str:
    """`value` as one path segment: every character that could end or escape the segment percent-encoded."""
    return quote(value, safe="")
