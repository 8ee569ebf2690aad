"""The upstream pool's network backend: connect-time address checks, and streams that answer the idle check cheaply.

`AddressGuard` resolves a host name itself, refuses the connection when any address it
resolves to is not permitted (`sagemcp._urls.address_permitted`: public, allow-listed
in `SAGEMCP_UPSTREAM_ALLOW`, or loopback when `SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS` is set),
and connects to the very addresses it checked, so a name that resolves to a public
address when it is configured and to an internal one later (DNS rebinding) gets nowhere.
TLS still verifies the certificate for the host name, which httpcore passes separately.
It needs nothing private: it wraps whatever backend the pool has.

`CachedSocketBackend`: before every request and after every response, httpcore's pool asks each idle
connection whether its socket became readable (the server closed it). httpcore's
anyio streams find the socket through anyio's typed attributes, which rebuild a
dictionary of socket attributes, `getpeername()` included, on every lookup: with
tens of pooled connections to one upstream that is a large share of a tool call's
CPU time. These streams look the socket up once, when the connection is made, and
answer the same question with the same `is_socket_readable` check.

The streams build on httpcore's private `_backends.anyio` and `_utils` modules, which
any httpcore release may change. At import, `incompatibility()` checks every private
piece used; when one is missing or has another shape, one INFO line says so,
`UNAVAILABLE` holds the reason, and `install()` leaves httpx on httpcore's default
backend (inside the guard): the client then behaves exactly as plain httpx, only with
the slower check.
"""

from __future__ import annotations

import importlib
import inspect
import ipaddress
import logging
import socket
import ssl
import time
from collections.abc import Iterable
from typing import Any

import anyio
import httpcore

from . import _urls as urls

__all__ = ["UNAVAILABLE", "AddressGuard", "CachedSocketBackend", "incompatibility", "install"]

logger = logging.getLogger(__name__)


def _accepts(function: Any, *args: object) -> bool:
    """Whether `function` can be called with these positional arguments (judged by its signature)."""
    try:
        inspect.signature(function).bind(*args)
    except (TypeError, ValueError):
        return False
    return True


def incompatibility() -> str | None:
    """What the installed httpcore lacks of the private pieces the streams build on; None when nothing."""
    try:
        backends = importlib.import_module("httpcore._backends.anyio")
        utils = importlib.import_module("httpcore._utils")
    except ImportError as exc:
        return f"cannot import {exc.name or exc}"
    problems = []
    backend = getattr(backends, "AnyIOBackend", None)
    if not (
        isinstance(backend, type)
        and issubclass(backend, httpcore.AsyncNetworkBackend)
        and inspect.iscoroutinefunction(getattr(backend, "connect_tcp", None))
    ):
        problems.append("httpcore._backends.anyio.AnyIOBackend is not a network backend with async connect_tcp()")
    stream = getattr(backends, "AnyIOStream", None)
    if not (
        isinstance(stream, type)
        and issubclass(stream, httpcore.AsyncNetworkStream)
        and _accepts(stream, object())
        and inspect.iscoroutinefunction(getattr(stream, "start_tls", None))
        and callable(getattr(stream, "get_extra_info", None))
    ):
        problems.append(
            "httpcore._backends.anyio.AnyIOStream is not a network stream built from one anyio stream "
            "with async start_tls() and get_extra_info()"
        )
    readable = getattr(utils, "is_socket_readable", None)
    if not (callable(readable) and _accepts(readable, None)):
        problems.append("httpcore._utils.is_socket_readable(sock) is missing")
    if getattr(getattr(anyio.abc, "SocketAttribute", None), "raw_socket", None) is None:
        problems.append("anyio.abc.SocketAttribute.raw_socket is missing")
    return "; ".join(problems) or None


UNAVAILABLE: str | None = incompatibility()
"""Why this httpcore gets its default backend instead of `CachedSocketBackend`; None when it does not."""

if UNAVAILABLE is None:
    from httpcore._backends.anyio import AnyIOBackend, AnyIOStream
    from httpcore._utils import is_socket_readable

    class _CachedSocketStream(AnyIOStream):
        def __init__(self, stream: Any) -> None:
            super().__init__(stream)
            self._socket: Any = stream.extra(anyio.abc.SocketAttribute.raw_socket, None)  # noqa: S610 - anyio, not Django

        def get_extra_info(self, info: str) -> Any:
            if self._socket is None:  # not a socket stream: nothing cached, httpcore answers
                return super().get_extra_info(info)
            if info == "is_readable":
                return is_socket_readable(self._socket)
            if info == "socket":
                return self._socket
            return super().get_extra_info(info)

        async def start_tls(
            self,
            ssl_context: ssl.SSLContext,
            server_hostname: str | None = None,
            timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        ) -> httpcore.AsyncNetworkStream:
            upgraded = await super().start_tls(ssl_context, server_hostname, timeout)
            return _wrap(upgraded)

    def _wrap(stream: httpcore.AsyncNetworkStream) -> httpcore.AsyncNetworkStream:
        """`stream` with its socket cached, or unchanged if it is not httpcore's anyio stream as known here."""
        inner = getattr(stream, "_stream", None) if isinstance(stream, AnyIOStream) else None
        return _CachedSocketStream(inner) if isinstance(inner, anyio.abc.ByteStream) else stream

    class CachedSocketBackend(AnyIOBackend):
        """httpcore's anyio backend, with streams that keep their socket at hand (see the module docstring)."""

        async def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
            return _wrap(await super().connect_tcp(*args, **kwargs))

else:
    logger.info(
        "httpcore %s is not what sagemcp's cached-socket network backend was written for (%s); "
        "upstream connections use httpcore's default backend",
        getattr(httpcore, "__version__", "?"),
        UNAVAILABLE,
    )


class AddressGuard(httpcore.AsyncNetworkBackend):
    """A network backend that connects only to permitted addresses, resolving host names itself.

    Every address a name resolves to must be permitted, not only the first: otherwise
    a name with one public and one internal address would reach the internal one
    whenever the public one is slow. A host name the operator allow-lists is connected
    to as it is, without the check. Refusals are `httpcore.ConnectError`s, which
    `UpstreamClient` reports like any other failed connection (and logs the reason).
    """

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self.inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        allowed = urls.allow_list()
        if allowed.allows_host(host):
            return await self.inner.connect_tcp(host, port, timeout, local_address, socket_options)
        deadline = None if timeout is None else time.monotonic() + timeout
        addresses = await _resolve(host, port, timeout)
        refused = [address for address in addresses if not urls.address_permitted(address, allowed)]
        if refused:
            switch = (
                f"set {urls.ALLOW_LOOPBACK_ENV}=1 for development against a local upstream"
                if urls.is_loopback_address(refused[0])
                else f"if it is a trusted upstream, allow it with {urls.ALLOW_ENV} (networks or host names)"
            )
            logger.warning(
                "refused to connect to upstream host %s: it resolves to %s, which is not a public address; %s",
                host,
                refused[0],
                switch,
            )
            raise httpcore.ConnectError(f"{host} resolves to an address upstream requests may not go to")
        failure: Exception | None = None
        for address in addresses:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise httpcore.ConnectTimeout(f"no connection to {host} within {timeout} seconds")
            try:
                return await self.inner.connect_tcp(str(address), port, left, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # _resolve returns at least one address
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("upstream requests do not go to Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


async def _resolve(host: str, port: int, timeout: float | None) -> list[urls.IPAddress]:  # noqa: ASYNC109
    """The addresses `host` resolves to, in the resolver's order of preference, without repeats."""
    try:
        with anyio.fail_after(timeout):
            found = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError:
        raise httpcore.ConnectTimeout(f"resolving {host} took longer than {timeout} seconds") from None
    except (OSError, UnicodeError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
    addresses: list[urls.IPAddress] = []
    for family, *_, sockaddr in found:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        try:
            address = ipaddress.ip_address(str(sockaddr[0]))
        except ValueError:
            continue
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise httpcore.ConnectError(f"{host} resolves to no IP address")
    return addresses


def install(transport: Any, *, guard: bool = False) -> bool:
    """Give an `httpx.AsyncHTTPTransport`'s pool `CachedSocketBackend`, inside `AddressGuard` when `guard`.

    Returns whether what was asked for is in place: with `guard`, whether the guard is
    (around httpcore's own backend when this httpcore lacks what `CachedSocketBackend`
    needs); without, whether `CachedSocketBackend` is. False, leaving the transport
    untouched, when the transport's layout is unknown. httpx does not take a network
    backend, so this replaces the pool's backend before the first connection is made;
    the unit tests check that it took effect.
    """
    pool = getattr(transport, "_pool", None)
    if not isinstance(pool, httpcore.AsyncConnectionPool) or not hasattr(pool, "_network_backend"):
        return False
    if UNAVAILABLE is None:
        pool._network_backend = CachedSocketBackend()
    elif not guard:
        return False
    if guard:
        pool._network_backend = AddressGuard(pool._network_backend)
    return True
