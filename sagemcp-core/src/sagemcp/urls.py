"""Validation of upstream base URLs taken from tenant configuration (GitHub Enterprise hosts, API overrides).

Such a URL decides where a tenant's token is sent, so it is checked strictly: https
only; no user name, password, query or fragment; no `.`/`..` segments; no IP address in
private, link-local, multicast, reserved or unspecified ranges (cloud metadata services
live there). The one exception is loopback (`localhost`, `127.0.0.0/8`, `::1`), accepted
with http or https for development and tests against a local fake upstream.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

__all__ = ["validate_api_url"]


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _non_public(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return (
        address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def validate_api_url(value: str, *, example: str, field: str = "api_url", private_hint: str = "") -> str:
    """`value` normalised (no trailing slash), or `ValueError` saying what is wrong with it.

    `example` is a valid URL quoted in the message; `private_hint` is appended when the
    URL names a non-public address (say, which host name to use instead).
    """
    text = value.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{field} {text!r} is not a valid URL ({exc})") from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise ValueError(f"{field} must be an absolute https URL such as {example}")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{field} must not contain a user name or password: the token is stored as a credential")
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise ValueError(f"{field} must not have a query string or fragment")
    loopback = _is_loopback(host)
    if parts.scheme == "http" and not loopback:
        raise ValueError(f"{field} must use https (plain http is accepted only for localhost, for development)")
    if not loopback and _non_public(host):
        raise ValueError(f"{field} points at the non-public address {host}{private_hint}")
    if any(segment in (".", "..") for segment in parts.path.split("/")):
        raise ValueError(f"{field} must not contain '.' or '..' path segments")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"
