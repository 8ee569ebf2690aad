"""The upstream client's network backend over real sockets: keep-alive, server-closed idle connections, TLS."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpcore
import httpcore._backends.anyio
import httpcore._utils
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sagemcp import _netbackend
from sagemcp._netbackend import AddressGuard, CachedSocketBackend, install
from sagemcp.platform import UpstreamClient

BODY = b'{"ok":true}'


@asynccontextmanager
async def http_server(
    close_after_response: bool = False, ssl_context: ssl.SSLContext | None = None
) -> AsyncIterator[tuple[int, list[int]]]:
    """A keep-alive HTTP/1.1 server on 127.0.0.1; yields its port and the connections it accepted."""
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(len(connections))
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if not head:
                    break
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY))
                await writer.drain()
                if close_after_response:
                    break  # closes without saying so: the client's idle connection goes stale
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ssl_context)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield port, connections


def test_the_default_client_uses_the_cached_socket_backend_inside_the_address_guard() -> None:
    client = UpstreamClient()
    pool = client._http._transport._pool  # type: ignore[attr-defined]
    assert isinstance(pool._network_backend, AddressGuard)
    assert isinstance(pool._network_backend.inner, CachedSocketBackend)


def test_install_leaves_unknown_transports_alone() -> None:
    assert install(httpx.MockTransport(lambda r: httpx.Response(200))) is False
    transport = httpx.AsyncHTTPTransport()
    assert install(transport) is True


async def test_keep_alive_reuses_one_connection() -> None:
    async with http_server() as (port, connections), UpstreamClient() as client:
        bound = client.bind(base_url=f"http://127.0.0.1:{port}", provider="test")
        for _ in range(5):
            response = await bound.get("/x")
            assert response.json() == {"ok": True}
    assert len(connections) == 1


async def test_an_idle_connection_the_server_closed_is_not_reused() -> None:
    async with http_server(close_after_response=True) as (port, connections), UpstreamClient() as client:
        bound = client.bind(base_url=f"http://127.0.0.1:{port}", provider="test")
        for _ in range(3):
            assert (await bound.post("/write", json={})).json() == {"ok": True}
            await asyncio.sleep(0.05)  # the server's close reaches the client
    # Each POST went out once, on a fresh connection: the stale ones were recognised as readable (closed).
    assert len(connections) == 3


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


async def test_tls_connections_keep_the_cached_socket(tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    client_context = ssl.create_default_context(cafile=str(cert))
    backend = CachedSocketBackend()
    async with http_server(ssl_context=server_context) as (port, _):
        stream = await backend.connect_tcp("127.0.0.1", port, timeout=5)
        tls = await stream.start_tls(client_context, server_hostname="127.0.0.1", timeout=5)
        assert type(tls) is type(stream)
        raw = tls.get_extra_info("socket")
        assert raw is not None and raw.getpeername()[1] == port
        assert tls.get_extra_info("ssl_object") is not None
        await tls.write(b"GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", timeout=5)
        answer = b""
        while not answer.endswith(BODY):
            answer += await tls.read(4096, timeout=5)
        assert answer.startswith(b"HTTP/1.1 200 OK")
        await tls.aclose()
        async with httpcore.AsyncConnectionPool(ssl_context=client_context, network_backend=backend) as pool:
            for _ in range(2):
                response = await pool.request("GET", f"https://127.0.0.1:{port}/x")
                assert response.content == BODY


# -- on an httpcore whose private modules changed -------------------------------------------


def test_this_httpcore_has_every_piece_the_backend_uses() -> None:
    assert _netbackend.incompatibility() is None
    assert _netbackend.UNAVAILABLE is None


def _unsupported_stream_init(self: object, stream: object, *, extra: object) -> None:
    """An `AnyIOStream.__init__` of another shape: a required keyword the streams do not pass."""


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda mp: mp.setitem(sys.modules, "httpcore._utils", None), "cannot import httpcore._utils"),
        (
            lambda mp: mp.setitem(sys.modules, "httpcore._backends.anyio", None),
            "cannot import httpcore._backends.anyio",
        ),
        (lambda mp: mp.delattr(httpcore._utils, "is_socket_readable"), "is_socket_readable(sock) is missing"),
        (lambda mp: mp.setattr(httpcore._backends.anyio, "AnyIOBackend", object), "AnyIOBackend is not a network"),
        (lambda mp: mp.delattr(httpcore._backends.anyio, "AnyIOStream"), "AnyIOStream is not a network stream"),
        (
            lambda mp: mp.setattr(httpcore._backends.anyio.AnyIOStream, "__init__", _unsupported_stream_init),
            "AnyIOStream is not a network stream",
        ),
        (lambda mp: mp.delattr(anyio.abc.SocketAttribute, "raw_socket"), "raw_socket is missing"),
    ],
)
def test_a_missing_or_changed_private_piece_is_named(
    monkeypatch: pytest.MonkeyPatch, change: Callable[[pytest.MonkeyPatch], None], reason: str
) -> None:
    change(monkeypatch)
    found = _netbackend.incompatibility()
    assert found is not None and reason in found


async def test_without_the_backend_the_client_uses_httpcores_default_and_still_sends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_netbackend, "UNAVAILABLE", "simulated: httpcore._utils is gone")
    transport = httpx.AsyncHTTPTransport()
    assert install(transport) is False
    async with http_server() as (port, connections), UpstreamClient() as client:
        pool = client._http._transport._pool  # type: ignore[attr-defined]
        assert isinstance(pool._network_backend, AddressGuard)  # the address check needs nothing private
        assert not isinstance(pool._network_backend.inner, CachedSocketBackend)
        assert type(pool._network_backend.inner) is type(transport._pool._network_backend)  # httpcore's default
        bound = client.bind(base_url=f"http://127.0.0.1:{port}", provider="test")
        for _ in range(3):
            assert (await bound.post("/write", json={"n": 1})).json() == {"ok": True}
    assert len(connections) == 1  # keep-alive works as in plain httpx


FALLBACK_SCRIPT = """
import asyncio, logging, sys
import httpcore, httpcore._backends.anyio  # loaded as httpx would, then the private module disappears
sys.modules["httpcore._utils"] = None
logging.basicConfig(level=logging.DEBUG, format="%(name)s %(levelname)s %(message)s", stream=sys.stderr)
from sagemcp import _netbackend
from sagemcp.platform import UpstreamClient

async def main():
    async def handle(reader, writer):
        await reader.readuntil(b"\\r\\n\\r\\n")
        writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: 11\\r\\n\\r\\n{\\"ok\\":true}")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, UpstreamClient() as client:
        response = await client.bind(base_url=f"http://127.0.0.1:{port}", provider="test").get("/x")
        backend = type(client._http._transport._pool._network_backend.inner).__name__
        print(_netbackend.UNAVAILABLE, backend, response.json(), sep="|")

asyncio.run(main())
"""


def test_at_import_a_missing_private_module_logs_one_line_and_falls_back() -> None:
    done = subprocess.run(
        [sys.executable, "-c", FALLBACK_SCRIPT], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    reason, backend, body = done.stdout.strip().split("|")
    assert reason == "cannot import httpcore._utils"
    assert backend != "CachedSocketBackend" and body == "{'ok': True}"
    logged = [line for line in done.stderr.splitlines() if line.startswith("sagemcp._netbackend ")]
    assert len(logged) == 1 and logged[0].startswith("sagemcp._netbackend INFO httpcore ")
    assert "cannot import httpcore._utils" in logged[0] and "httpcore's default backend" in logged[0]
