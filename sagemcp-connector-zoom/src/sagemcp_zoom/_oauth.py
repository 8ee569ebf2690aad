"""Zoom's token answers, and the API host they name.

Zoom's token endpoint (authorization code, refresh and Server-to-Server `account_credentials`
alike) answers the standard fields plus `api_url`, the API host for the account
(`https://api.zoom.us`). `zoom_token_response` keeps it in `Credential.extra["api_url"]` when
it is a Zoom host, and `ZoomConnector.api_base_url` then sends the tenant's calls there.
"""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["API_HOST_SUFFIXES", "zoom_api_base", "zoom_token_response"]

API_HOST_SUFFIXES = (".zoom.us", ".zoomgov.com")
"""Hosts a token answer may name as the account's API host."""


def zoom_api_base(value: object) -> str | None:
    """`https://api.zoom.us/v2` for Zoom's `api_url` `https://api.zoom.us` (or that base itself), or None if it
    is not an https Zoom API host."""
    if not isinstance(value, str):
        return None
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL:
        return None
    host = url.host.lower()
    if url.scheme != "https" or url.userinfo or url.port not in (None, 443) or not host.endswith(API_HOST_SUFFIXES):
        return None
    if url.path not in ("", "/", "/v2", "/v2/") or url.query:
        return None
    return f"https://{host}/v2"


def zoom_token_response(raw: dict[str, Any]) -> dict[str, Any]:
    """Zoom's token answer in the standard shape, its API host kept in `extra` when it is a Zoom host."""
    standard = {key: raw.get(key) for key in ("access_token", "refresh_token", "expires_in", "scope", "token_type")}
    base = zoom_api_base(raw.get("api_url"))
    standard["extra"] = {"api_url": base} if base else {}
    return standard
