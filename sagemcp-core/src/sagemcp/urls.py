"""Validation of upstream base URLs taken from tenant configuration (GitHub Enterprise hosts, API overrides).

Such a URL decides where a tenant's token is sent, so it is checked strictly: https
only; no user name, password, query or fragment; no `.`/`..` segments, encoded or
not; and an IP address must be a global one, however it is spelled (`0xa9fea9fe`,
`127.1` and `0177.0.0.1` are read the way the resolver reads them). Loopback hosts
(the platform's own admin API and database listen there) are refused unless the
operator sets `SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS=1`, for development and tests against
a local fake upstream; then plain http is accepted for them too.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from urllib.parse import unquote, urlsplit

__all__ = ["ALLOW_LOOPBACK_ENV", "loopback_allowed", "validate_api_url"]

ALLOW_LOOPBACK_ENV = "SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def loopback_allowed() -> bool:
    """Whether the operator allowed upstream URLs on loopback (development and tests only)."""
    return os.environ.get(ALLOW_LOOPBACK_ENV, "").strip().lower() in ("1", "true", "yes")


def _address(host: str) -> IPAddress | None:
    """The IP address `host` denotes when it is an address literal in any spelling, else None."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefx." for c in host):
        try:
            # inet_aton accepts the short, hex and octal forms that resolvers accept too.
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _is_loopback(host: str, address: IPAddress | None) -> bool:
    if address is not None:
        return address.is_loopback
    return host == "localhost" or host.endswith(".localhost")


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
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme not in ("https", "http") or not host:
        raise ValueError(f"{field} must be an absolute https URL such as {example}")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{field} must not contain a user name or password: the token is stored as a credential")
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise ValueError(f"{field} must not have a query string or fragment")
    address = _address(host)
    if _is_loopback(host, address):
        if not loopback_allowed():
            raise ValueError(
                f"{field} points at this machine ({host}); set {ALLOW_LOOPBACK_ENV}=1 only for development"
            )
    else:
        if parts.scheme == "http":
            raise ValueError(f"{field} must use https")
        if address is not None and not address.is_global:
            raise ValueError(f"{field} points at the non-public address {address}{private_hint}")
    if any(unquote(segment) in (".", "..") for segment in parts.path.split("/")):
        raise ValueError(f"{field} must not contain '.' or '..' path segments")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"
