"""An httpcore network backend whose streams answer the connection pool's idle check cheaply.

Before every request and after every response, httpcore's pool asks each idle
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
backend: the client then behaves exactly as plain httpx, only with the slower check.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import ssl
from typing import Any

import anyio
import httpcore

__all__ = ["UNAVAILABLE", "CachedSocketBackend", "incompatibility", "install"]

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


def install(transport: Any) -> bool:
    """Use `CachedSocketBackend` in an `httpx.AsyncHTTPTransport`'s pool; False if that cannot be done.

    False, leaving the transport untouched, when this httpcore lacks what the backend needs
    (`UNAVAILABLE`) or the transport's layout is unknown. httpx does not take a network
    backend, so this replaces the pool's backend before the first connection is made; the
    unit tests check that it took effect.
    """
    if UNAVAILABLE is not None:
        return False
    pool = getattr(transport, "_pool", None)
    if not isinstance(pool, httpcore.AsyncConnectionPool) or not hasattr(pool, "_network_backend"):
        return False
    pool._network_backend = CachedSocketBackend()
    return True
