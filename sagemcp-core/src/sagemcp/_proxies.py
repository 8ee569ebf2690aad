"""Outbound proxies for every HTTP client sagemcp builds: tool calls and token endpoints alike.

An explicit proxy URL (`UpstreamClient(proxy=...)`, `OAuthFlows(proxy=...)`, the server's
`SAGEMCP_UPSTREAM_PROXY`) sends every request through that proxy. Without one, the
standard environment variables decide, read with `urllib.request.getproxies()` as httpx
reads them: `HTTPS_PROXY` for https URLs, `HTTP_PROXY` for http URLs, `ALL_PROXY` for
either (upper or lower case).

Hosts in `NO_PROXY` are reached directly, whichever source named the proxy, matched as
httpx (and curl) match them: `example.com` covers the domain and its subdomains,
`.example.com` only the subdomains, an IP address or `localhost` exactly that host,
`scheme://host[:port]` exactly that origin, and `*` everything. Loopback is not exempt by
itself (httpx and curl do not exempt it either): list `localhost,127.0.0.1,::1` in
`NO_PROXY` to reach local services directly. Address ranges (`10.0.0.0/8`) are not
understood by httpx's matching and are skipped with a warning.

The result is a set of httpx `mounts`: the client keeps its own transport for direct
connections, and requests matching a proxied pattern use a proxy transport.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import urllib.request
from collections.abc import Callable

import httpx

__all__ = ["PROXY_SCHEMES", "proxy_mounts", "validate_proxy_url"]

logger = logging.getLogger("sagemcp._upstream")

PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
"""Proxy URL schemes httpx speaks (SOCKS needs `httpx[socks]`)."""

ProxyTransportFactory = Callable[[httpx.Proxy], httpx.AsyncBaseTransport]


def validate_proxy_url(value: str) -> str:
    """`value` (a proxy URL such as `http://proxy.internal:3128`) checked, or `ValueError` saying what is wrong.

    A user name and password in the URL are allowed (they become `Proxy-Authorization`);
    a path, query or fragment is not.
    """
    text = value.strip()
    if "://" not in text:
        raise ValueError("the proxy URL must name its scheme, such as http://proxy.internal:3128")
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as exc:
        raise ValueError(f"the proxy URL is not a valid URL ({type(exc).__name__})") from None
    if url.scheme not in PROXY_SCHEMES:
        raise ValueError(f"the proxy URL scheme must be one of {', '.join(PROXY_SCHEMES)}, not {url.scheme!r}")
    if not url.host:
        raise ValueError("the proxy URL has no host")
    if url.path not in ("", "/") or url.query or url.fragment:
        raise ValueError("the proxy URL must not have a path, query or fragment: give scheme://host:port")
    return text


def proxy_mounts(
    proxy: str | None, *, use_environment: bool, transport: ProxyTransportFactory
) -> dict[str, httpx.AsyncBaseTransport | None]:
    """httpx `mounts` sending requests through `proxy`, or else through the environment's proxies.

    `use_environment` False ignores the environment's proxy variables (a client given a
    test transport, as httpx does), but `NO_PROXY` still exempts hosts from an explicit
    proxy. `transport` builds the transport for one proxy; a proxy named for both schemes
    gets one transport. A None value in the result means "direct, on the client's own
    transport". An empty result means no proxy at all.
    """
    environment = urllib.request.getproxies()
    if proxy is not None:
        routes = {"http://": validate_proxy_url(proxy), "https://": validate_proxy_url(proxy)}
    elif use_environment:
        routes = {
            f"{scheme}://": environment[scheme] if "://" in environment[scheme] else f"http://{environment[scheme]}"
            for scheme in ("http", "https", "all")
            if environment.get(scheme)
        }
    else:
        routes = {}
    if not routes:
        return {}
    direct = _no_proxy_patterns(environment.get("no", ""))
    if direct is None:
        return {}
    transports: dict[str, httpx.AsyncBaseTransport] = {}
    mounts: dict[str, httpx.AsyncBaseTransport | None] = {}
    for pattern, url in routes.items():
        if url not in transports:
            transports[url] = transport(httpx.Proxy(url))
        mounts[pattern] = transports[url]
    mounts.update(dict.fromkeys(direct))
    return mounts


@functools.lru_cache(maxsize=16)  # token clients are built per exchange: warn about an entry once, not each time
def _no_proxy_patterns(value: str) -> tuple[str, ...] | None:
    """`NO_PROXY` as httpx mount patterns for direct connections; None when it is `*` (no proxy at all)."""
    patterns: list[str] = []
    for entry in (item.strip() for item in value.split(",")):
        if not entry:
            continue
        if entry == "*":
            return None
        if "/" in entry and "://" not in entry:
            logger.warning("NO_PROXY entry %r is an address range, which is not supported; list the addresses", entry)
            continue
        if "://" in entry:
            pattern = entry
        elif _is_ipv6(entry):
            pattern = f"all://[{entry.strip('[]')}]"
        elif entry.lower() == "localhost" or _is_ipv4(entry):
            pattern = f"all://{entry}"
        else:
            pattern = f"all://*{entry}"
        try:
            httpx.URL(pattern)
        except httpx.InvalidURL:
            logger.warning("NO_PROXY entry %r is not a host name, address or origin; it is ignored", entry)
            continue
        patterns.append(pattern)
    return tuple(patterns)


def _is_ipv4(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def _is_ipv6(host: str) -> bool:
    try:
        ipaddress.IPv6Address(host.strip("[]"))
    except ValueError:
        return False
    return True
