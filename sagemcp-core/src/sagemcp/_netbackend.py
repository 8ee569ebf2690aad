"""An httpcore network backend whose streams answer the connection pool's idle check cheaply.

Before every request and after every response, httpcore's pool asks each idle
connection whether its socket became readable (the server closed it). httpcore's
anyio streams find the socket through anyio's typed attributes, which rebuild a
dictionary of socket attributes, `getpeername()` included, on every lookup: with
tens of pooled connections to one upstream that is a large share of a tool call's
CPU time. These streams look the socket up once, when the connection is made, and
answer the same question with the same `is_socket_readable` check.
"""

from __future__ import annotations

import ssl
from typing import Any

import anyio
import httpcore
from httpcore._backends.anyio import AnyIOBackend, AnyIOStream
from httpcore._utils import is_socket_readable

__all__ = ["CachedSocketBackend", "install"]


class _CachedSocketStream(AnyIOStream):
    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._socket: Any = stream.extra(anyio.abc.SocketAttribute.raw_socket, None)  # noqa: S610 - anyio, not Django

    def get_extra_info(self, info: str) -> Any:
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
        return _CachedSocketStream(upgraded._stream) if isinstance(upgraded, AnyIOStream) else upgraded


class CachedSocketBackend(AnyIOBackend):
    """httpcore's anyio backend, with streams that keep their socket at hand (see the module docstring)."""

    async def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        stream = await super().connect_tcp(*args, **kwargs)
        return _CachedSocketStream(stream._stream) if isinstance(stream, AnyIOStream) else stream


def install(transport: Any) -> bool:
    """Use `CachedSocketBackend` in an `httpx.AsyncHTTPTransport`'s pool; False if its layout is unknown.

    httpx does not take a network backend, so this replaces the pool's backend
    before the first connection is made; the unit tests check that it took effect.
    """
    pool = getattr(transport, "_pool", None)
    if not isinstance(pool, httpcore.AsyncConnectionPool) or not hasattr(pool, "_network_backend"):
        return False
    pool._network_backend = CachedSocketBackend()
    return True
