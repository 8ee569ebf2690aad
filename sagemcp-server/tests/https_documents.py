"""A local HTTPS server for Client ID Metadata Documents, with a self-signed certificate for 127.0.0.1.

`tls_files(directory)` writes the certificate and key; point `SSL_CERT_FILE` at the certificate
before the server under test is built, so that its outbound client trusts it. `DocumentServer`
serves JSON documents set by the test and counts requests per path.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from sagemcp.testing import serve


def tls_files(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate (and its key) valid for 127.0.0.1 and localhost."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sagemcp test documents")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "documents.pem", directory / "documents.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class DocumentServer:
    def __init__(self) -> None:
        self.documents: dict[str, Any] = {}
        self.raw: dict[str, bytes] = {}
        self.redirects: dict[str, str] = {}
        self.hits: Counter[str] = Counter()
        self.base = ""

    def url(self, path: str) -> str:
        return self.base + path

    def app(self) -> Starlette:
        async def document(request: Request) -> Response:
            path = request.url.path
            self.hits[path] += 1
            if path in self.redirects:
                return RedirectResponse(self.redirects[path], status_code=302)
            if path in self.raw:
                return Response(self.raw[path], media_type="application/json")
            if path not in self.documents:
                return Response("not found", status_code=404)
            return Response(json.dumps(self.documents[path]), media_type="application/json")

        return Starlette(routes=[Route("/{path:path}", document)])

    @asynccontextmanager
    async def running(self, cert: Path, key: Path) -> AsyncIterator[DocumentServer]:
        async with serve(self.app(), ssl_certfile=str(cert), ssl_keyfile=str(key)) as base:
            self.base = base.replace("http://", "https://")
            yield self
