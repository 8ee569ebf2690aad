"""The official MCP TypeScript SDK client (`@modelcontextprotocol/sdk` from npm) through the OAuth flow of a real
`sagemcp serve` process: discovery from the 401, registration (RFC 7591 with `client_secret_basic`, and a Client
ID Metadata Document in a second test), authorization with a scripted browser step (sign-in form, consent page),
token exchange, tool calls, a refresh once the 10-second access token expired, and the token refused on another
tenant's endpoint.

The SDK is installed with npm into `.tools/mcp-typescript-sdk` on first use (`nox -s e2e` runs this test);
without `node` and `npm` the test is skipped, saying so.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
SDK_VERSION = "1.32.2"
TOOLS = ROOT / ".tools" / "mcp-typescript-sdk"
SCRIPT = Path(__file__).parent / "oauth_clients" / "typescript_client.mjs"
PASSWORD = "correct horse battery staple"
REDIRECT = "http://127.0.0.1:47115/callback"


def _node_and_npm() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("the TypeScript SDK client needs Node.js 20+ with npm (`node` and `npm` on PATH)")
    return node, npm


@pytest.fixture(scope="module")
def sdk() -> tuple[str, Path]:
    """node, and a directory holding the SDK and the client script (ESM resolves packages from the script's place)."""
    node, npm = _node_and_npm()
    marker = TOOLS / "node_modules" / "@modelcontextprotocol" / "sdk" / "package.json"
    if not marker.exists() or json.loads(marker.read_text())["version"] != SDK_VERSION:
        TOOLS.mkdir(parents=True, exist_ok=True)
        (TOOLS / "package.json").write_text('{"name": "sagemcp-typescript-client-tests", "private": true}\n')
        subprocess.run(
            [
                npm,
                "install",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(TOOLS),
                f"@modelcontextprotocol/sdk@{SDK_VERSION}",
            ],
            check=True,
            timeout=600,
        )
    shutil.copy(SCRIPT, TOOLS / SCRIPT.name)
    return node, TOOLS


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tls(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

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
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "documents.pem", directory / "documents.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class _Documents:
    """Client ID Metadata Documents over HTTPS on 127.0.0.1 (a thread of this process)."""

    def __init__(self, cert: Path, key: Path) -> None:
        import ssl

        documents: dict[str, bytes] = {}
        self.documents = documents

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = documents.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body or b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.base = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return _tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, tls: tuple[Path, Path]) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("serve")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAGEMCP_")}
    env.update(
        PYTHONUNBUFFERED="1",
        SAGEMCP_AUTH_ACCESS_TOKEN_TTL="10",
        SAGEMCP_PASSWORD_MEMORY_KIB="8192",
        SAGEMCP_PASSWORD_TIME_COST="1",
        SAGEMCP_UPSTREAM_ALLOW="127.0.0.1/32",  # the metadata documents of the second test are served on loopback
        SSL_CERT_FILE=str(tls[0]),
    )

    def cli(*args: str, stdin: str | None = None) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "sagemcp_server.cli", *args],
            env=env, cwd=tmp, input=stdin, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr

    out, err = open(tmp / "server.out", "wb"), open(tmp / "server.err", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "sagemcp_server.cli", "serve", "--port", str(port)],
        env=env,
        cwd=tmp,
        stdout=out,
        stderr=err,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp / "server.err").read_text()[-3000:]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (tmp / "server.err").read_text()[-3000:]
            time.sleep(0.2)
        for slug in ("acme", "globex"):
            cli("tenant", "create", slug)
            cli("connector", "add", "demo", "--tenant", slug)
        cli("user", "create", "alice@example.com", "--password-stdin", stdin=PASSWORD + "\n")
        cli("member", "add", "alice@example.com", "--tenant", "acme")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        out.close()
        err.close()


def _run(sdk: tuple[str, Path], **options: Any) -> dict[str, Any]:
    node, directory = sdk
    result = subprocess.run(
        [node, str(directory / SCRIPT.name), json.dumps(options)],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def _check(outcome: dict[str, Any]) -> None:
    assert outcome["tools"] == ["demo_add", "demo_echo", "demo_server_time"]
    assert outcome["sum"] == 5
    assert "after refresh" in outcome["echoed"]
    assert outcome["authorizations"] == 1 and outcome["savedTokens"] == 2 and outcome["refreshed"] is True
    assert outcome["accessPrefix"] == "smcpat_" and outcome["consentShowsClient"] is True
    assert outcome["otherTenantStatus"] == 404


def test_typescript_sdk_client_registers_and_completes_the_flow(sdk: tuple[str, Path], server: str) -> None:
    outcome = _run(
        sdk,
        mcpUrl=f"{server}/api/v1/acme/mcp",
        otherUrl=f"{server}/api/v1/globex/mcp",
        email="alice@example.com",
        password=PASSWORD,
        redirectUrl=REDIRECT,
    )
    _check(outcome)
    assert outcome["authMethod"] == "client_secret_basic"


def test_typescript_sdk_client_with_a_client_id_metadata_document(
    sdk: tuple[str, Path], server: str, tls: tuple[Path, Path]
) -> None:
    documents = _Documents(*tls)
    try:
        url = documents.base + "/oauth/typescript-client.json"
        documents.documents["/oauth/typescript-client.json"] = json.dumps(
            {
                "client_id": url,
                "client_name": "TypeScript SDK test client",
                "redirect_uris": [REDIRECT],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "none",
            }
        ).encode()
        outcome = _run(
            sdk,
            mcpUrl=f"{server}/api/v1/acme/connectors/demo/mcp",
            otherUrl=f"{server}/api/v1/acme/mcp",  # the tenant-wide endpoint is another resource
            email="alice@example.com",
            password=PASSWORD,
            redirectUrl=REDIRECT,
            clientMetadataUrl=url,
        )
    finally:
        documents.close()
    _check(outcome)
    assert outcome["clientId"] == url
