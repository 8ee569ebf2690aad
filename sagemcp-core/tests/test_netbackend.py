"""The upstream client's network backend over real sockets: keep-alive, server-closed idle connections, TLS."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpcore
import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sagemcp import UpstreamClient
from sagemcp._netbackend import CachedSocketBackend, install

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


def test_the_default_client_uses_the_cached_socket_backend() -> None:
    client = UpstreamClient()
    pool = client._http._transport._pool  # type: ignore[attr-defined]
    assert isinstance(pool._network_backend, CachedSocketBackend)


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
