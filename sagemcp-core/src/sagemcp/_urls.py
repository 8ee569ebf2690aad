"""Where upstream requests may go: validation of configured base URLs, and the address policy behind it.

A configured base URL (GitHub Enterprise hosts, API overrides) decides where a tenant's
token is sent, so it is checked strictly: https only; no user name, password, query or
fragment; no `.`/`..` segments, encoded or not; and the host is judged as httpx will
send it (IDNA-normalised, so `127。0。0。1` with ideographic dots is `127.0.0.1`). An IP
address must be a public one however it is spelled (`0xa9fea9fe`, `127.1` and
`0177.0.0.1` are read the way the resolver reads them; `::ffff:a9fe:a9fe`, `::127.0.0.1`,
NAT64 `64:ff9b::...` and 6to4 `2002:...` are judged by the IPv4 address inside them).

A host name cannot be judged here: it may resolve to anything, and to something else
later. `UpstreamClient` therefore checks every address a name resolves to when it
connects (`sagemcp._netbackend.AddressGuard`), with the same policy (`address_permitted`).

Non-public addresses are refused unless the operator allow-lists them in
`SAGEMCP_UPSTREAM_ALLOW`: comma-separated networks (`10.20.0.0/16`, `fd00:1::/48`), host
names (`ghe.corp.example`) and name suffixes (`.corp.example`), for an upstream on a
private network such as a GitHub Enterprise Server. Loopback (where the platform's own
admin API and database listen) is refused unless the operator sets
`SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS=1`, for development and tests against a local fake
upstream; then plain http is accepted for loopback hosts too.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import os
import re
import socket
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import httpx

__all__ = [
    "ALLOW_ENV",
    "ALLOW_LOOPBACK_ENV",
    "AllowList",
    "address_permitted",
    "allow_list",
    "is_loopback_address",
    "is_public_address",
    "loopback_allowed",
    "validate_api_url",
]

logger = logging.getLogger("sagemcp._urls")

ALLOW_LOOPBACK_ENV = "SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS"
ALLOW_ENV = "SAGEMCP_UPSTREAM_ALLOW"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_HOST_RE = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,62}(?<!-))?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}(?<!-))?)*$")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NOT_PUBLIC_V6 = (
    ipaddress.IPv6Network("64:ff9b:1::/48"),  # local-use NAT64 (RFC 8215): translates into the local network
    ipaddress.IPv6Network("fec0::/10"),  # site-local (deprecated, still routed by some networks)
)


def loopback_allowed() -> bool:
    """Whether the operator allowed upstream URLs on loopback (development and tests only)."""
    return os.environ.get(ALLOW_LOOPBACK_ENV, "").strip().lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class AllowList:
    """Non-public destinations the operator allows (`SAGEMCP_UPSTREAM_ALLOW`)."""

    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()
    """Name suffixes with their leading dot (`.corp.example`)."""

    def allows_address(self, address: IPAddress) -> bool:
        return any(address.version == net.version and address in net for net in self.networks)

    def allows_host(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return host in self.hosts or any(host.endswith(suffix) for suffix in self.suffixes)


def allow_list() -> AllowList:
    """The operator's allow-list, read from `SAGEMCP_UPSTREAM_ALLOW` (entries that are not valid are ignored
    with a warning, so they allow nothing)."""
    return _parse_allow_list(os.environ.get(ALLOW_ENV, ""))


@functools.lru_cache(maxsize=8)
def _parse_allow_list(value: str) -> AllowList:
    networks: list[IPNetwork] = []
    hosts: set[str] = set()
    suffixes: list[str] = []
    for entry in (item.strip().lower() for item in value.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            continue
        except ValueError:
            pass
        name = entry.rstrip(".")
        if _HOST_RE.match(name.lstrip(".")) and not _address(name.lstrip(".")):
            if name.startswith("."):
                suffixes.append(name)
            else:
                hosts.add(name)
            continue
        logger.warning(
            "%s entry %r is neither a network (10.0.0.0/8), a host name (ghe.corp.example) nor a name suffix "
            "(.corp.example); it is ignored",
            ALLOW_ENV,
            entry,
        )
    return AllowList(tuple(networks), frozenset(hosts), tuple(suffixes))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries and reaches (mapped, compatible, NAT64, 6to4), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    value = int(address)
    if address in _NAT64 or (value >> 32 == 0 and value > 1):  # NAT64, or IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)
    return None


def _effective(address: IPAddress) -> IPAddress:
    """The address a connection actually reaches: the IPv4 address inside an IPv4-embedding IPv6 form."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return embedded
    return address


def is_loopback_address(address: IPAddress) -> bool:
    """Whether `address` is a loopback address, in an IPv4-embedding IPv6 form too (`::ffff:127.0.0.1`)."""
    return address.is_loopback or _effective(address).is_loopback


def is_public_address(address: IPAddress) -> bool:
    """Whether `address` is a public unicast address; an IPv6 form embedding an IPv4 address is judged by
    the IPv4 address, which is what a connection to it reaches."""
    effective = _effective(address)
    if (
        effective is address
        and isinstance(address, ipaddress.IPv6Address)
        and any(address in net for net in _NOT_PUBLIC_V6)
    ):
        return False
    return effective.is_global and not effective.is_multicast


def address_permitted(address: IPAddress, allowed: AllowList | None = None) -> bool:
    """Whether an upstream connection may go to `address`: public, allow-listed, or loopback when allowed."""
    allowed = allow_list() if allowed is None else allowed
    if allowed.allows_address(address) or allowed.allows_address(_effective(address)):
        return True
    if is_loopback_address(address):
        return loopback_allowed()
    return is_public_address(address)


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


def _is_loopback_name(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")


def _normalised_host(text: str, field: str) -> tuple[httpx.URL, str]:
    """The URL as httpx parses it, and its host as httpx sends it (IDNA A-labels, no trailing dot)."""
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, ValueError) as exc:
        raise ValueError(f"{field} {text!r} is not a valid URL ({exc})") from None
    host = url.raw_host.decode("ascii").lower().rstrip(".")
    return url, host


def validate_api_url(value: str, *, example: str, field: str = "api_url", private_hint: str = "") -> str:
    """`value` normalised (no trailing slash, the host as httpx sends it), or `ValueError` saying what is wrong.

    `example` is a valid URL quoted in the message; `private_hint` is appended when the
    URL names a non-public address (say, which host name to use instead).
    """
    text = value.strip()
    if any(c in text for c in "\\\x00\t\r\n "):
        raise ValueError(f"{field} must not contain spaces, backslashes or control characters")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{field} {text!r} is not a valid URL ({exc})") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"{field} must be an absolute https URL such as {example}")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{field} must not contain a user name or password: the token is stored as a credential")
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise ValueError(f"{field} must not have a query string or fragment")
    if any(unquote(segment) in (".", "..") for segment in parts.path.split("/")):
        raise ValueError(f"{field} must not contain '.' or '..' path segments")
    allowed = allow_list()
    # The host as written first (resolvers read `0177.0.0.1` as 127.0.0.1 though httpx refuses it), then as
    # httpx sends it (`127。0。0。1` with ideographic dots is 127.0.0.1 too).
    _check_host(parts.scheme, (parts.hostname or "").lower().rstrip("."), allowed, field, private_hint)
    url, host = _normalised_host(text, field)
    default = _DEFAULT_PORTS[parts.scheme]
    if url.userinfo or (url.port or default) != (port or default):
        raise ValueError(f"{field} {text!r} is ambiguous: it does not parse the same way everywhere")
    if _address(host) is None and not _HOST_RE.match(host):
        raise ValueError(f"{field} has an invalid host name {host!r}; use a DNS name such as {example}")
    _check_host(parts.scheme, host, allowed, field, private_hint)
    netloc = f"[{host}]" if ":" in host else host
    if url.port is not None:
        netloc += f":{url.port}"
    path = url.raw_path.decode("ascii").rstrip("/")
    return f"{parts.scheme}://{netloc}{path}"


def _check_host(scheme: str, host: str, allowed: AllowList, field: str, private_hint: str) -> None:
    """`ValueError` unless an upstream URL may name `host`: loopback only when allowed, else public or allowed."""
    address = _address(host)
    if _is_loopback_name(host) or (address is not None and is_loopback_address(address)):
        if not (loopback_allowed() or (address is not None and allowed.allows_address(address))):
            raise ValueError(
                f"{field} points at this machine ({host}); set {ALLOW_LOOPBACK_ENV}=1 only for development"
            )
        if scheme == "http" and not loopback_allowed():
            raise ValueError(f"{field} must use https")
        return
    if scheme == "http":
        raise ValueError(f"{field} must use https")
    if address is not None and not address_permitted(address, allowed):
        raise ValueError(
            f"{field} points at the non-public address {_effective(address)}{private_hint}; an operator can "
            f"allow a trusted private network with {ALLOW_ENV}"
        )
