"""`ZoomConfig`: a tenant's API host and the hosts Zoom serves recording files from.

Both decide where the tenant's token goes, so both are checked with core's
`sagemcp._urls.validate_api_url` (https, no credentials in the URL, public hosts only;
loopback only when the operator allows it for development and tests).
"""

from __future__ import annotations

from pydantic import Field, field_validator

from sagemcp import ConnectorSettings, validate_api_url

__all__ = ["DEFAULT_API_URL", "DEFAULT_DOWNLOAD_ORIGINS", "ZoomConfig", "check_origin"]

DEFAULT_API_URL = "https://api.zoom.us/v2"
"""Zoom's REST API (Zoom for Government: https://api.zoomgov.com/v2)."""

DEFAULT_DOWNLOAD_ORIGINS: tuple[str, ...] = (
    "https://zoom.us",
    *(f"https://us{n:02d}web.zoom.us" for n in range(1, 8)),
)
"""Where Zoom's recording and transcript `download_url`s point: zoom.us and its regional web hosts.

A download there needs the tenant's OAuth token, so these origins receive it (see
`ZoomConnector.credential_origins`); an account with a vanity host (`acme.zoom.us`) adds it
to `download_origins`."""

_API_EXAMPLE = "https://api.zoom.us/v2"
_ORIGIN_EXAMPLE = "https://us06web.zoom.us"


def check_origin(value: str) -> str:
    """`value` as a normalised origin (`https://host[:port]`), or `ValueError` saying what is wrong."""
    origin = validate_api_url(value, example=_ORIGIN_EXAMPLE, field="download origin")
    if origin.count("/") > 2:
        raise ValueError(f"download origin {value!r} must be scheme://host[:port] only, such as {_ORIGIN_EXAMPLE}")
    return origin


class ZoomConfig(ConnectorSettings):
    """Per-tenant configuration of the Zoom connector; every field has a working default."""

    api_url: str | None = Field(
        default=None,
        description="REST API base URL. Leave it out for https://api.zoom.us/v2 (or the API host Zoom's OAuth "
        "answer names); https://api.zoomgov.com/v2 for Zoom for Government.",
    )
    download_origins: tuple[str, ...] = Field(
        default=DEFAULT_DOWNLOAD_ORIGINS,
        max_length=50,
        description="Origins (https://host) of Zoom's recording downloads, which receive the tenant's token to "
        "fetch transcripts: zoom.us and us01web-us07web.zoom.us by default; add a vanity host such as "
        "https://acme.zoom.us, or https://zoomgov.com for Zoom for Government.",
    )

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str | None) -> str | None:
        return None if value is None else validate_api_url(value, example=_API_EXAMPLE)

    @field_validator("download_origins")
    @classmethod
    def _download_origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(check_origin(origin) for origin in value))
