"""Validation of the GitHub API base URL (github.com, GHE.com or a GitHub Enterprise Server).

The URL decides where the tenant's token is sent, so it is checked strictly:
https only; no user name, password, query or fragment; no IP address in private,
link-local, multicast or reserved ranges (cloud metadata services live there). The
one exception is loopback (`localhost`, `127.0.0.0/8`, `::1`), accepted with http or
https for development and tests against a local fake GitHub.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

__all__ = ["DEFAULT_API_URL", "validate_api_url"]

DEFAULT_API_URL = "https://api.github.com"


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_api_url(value: str) -> str:
    """`value` normalised (no trailing slash), or `ValueError` saying what is wrong with it."""
    text = value.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"api_url {text!r} is not a valid URL ({exc})") from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise ValueError("api_url must be an absolute https URL such as https://api.github.com or https://HOST/api/v3")
    if parts.username is not None or parts.password is not None:
        raise ValueError("api_url must not contain a user name or password: the token is stored as a credential")
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise ValueError("api_url must not have a query string or fragment")
    loopback = _is_loopback(host)
    if parts.scheme == "http" and not loopback:
        raise ValueError("api_url must use https (plain http is accepted only for localhost, for development)")
    if not loopback:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if address is not None and (
            address.is_private
            or address.is_link_local
            or address.is_multicast
            or address.is_reserved
            or address.is_unspecified
        ):
            raise ValueError(
                f"api_url points at the non-public address {host}: use the GitHub Enterprise Server's host name"
            )
    segments = parts.path.split("/")
    if any(segment in (".", "..") for segment in segments):
        raise ValueError("api_url must not contain '.' or '..' path segments")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"
