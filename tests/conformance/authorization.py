"""Run the official conformance suite's authorization-server scenarios against a real `sagemcp serve`.

`python -m tests.conformance.authorization` (from the repository root; `nox -s conformance_authorization`
does it for you) starts `sagemcp serve` on a free port with a fresh SQLite database, provisions a tenant,
a member and a public OAuth client through the CLI (its redirect URI is the suite's callback), and runs
`conformance authorization` (from `@modelcontextprotocol/conformance` 0.2.0-alpha.12 or newer: 0.1.x has
no authorization-server scenarios) for every scenario: `authorization-server-metadata-endpoint` and
`authorization-code-grant`. The latter prints an authorization URL and waits for a browser; this runner is
that browser: it signs in as the member, allows on the consent page and follows the redirect to the
suite's callback server. Exits 0 only if every check of every scenario passed.

Node.js 22 and the suite come from `SAGEMCP_CONFORMANCE_NODE` and `SAGEMCP_CONFORMANCE_AUTHZ_CLI` (the
suite's `dist/index.js`), which the nox session sets.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"
EXPECTED_CHECKS = ("authorization-server-metadata", "authorization-server-metadata-cimd", "authorization-code-grant")
"""The checks of the suite's two scenarios, `authorization-server-metadata-endpoint` and `authorization-code-grant`."""
_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
_REQUEST_RE = re.compile(r'name="request" value="([^"]+)"')


class SetupError(Exception):
    pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tools() -> tuple[str, str]:
    node = os.environ.get("SAGEMCP_CONFORMANCE_NODE", "")
    cli = os.environ.get("SAGEMCP_CONFORMANCE_AUTHZ_CLI", "")
    if not (node and Path(node).is_file() and cli and Path(cli).is_file()):
        raise SetupError(
            "set SAGEMCP_CONFORMANCE_NODE (a Node.js 22 binary) and SAGEMCP_CONFORMANCE_AUTHZ_CLI (the dist/index.js "
            "of @modelcontextprotocol/conformance 0.2.0-alpha.12 or newer); `nox -s conformance_authorization` "
            "installs both"
        )
    return node, cli


def _browse(base: str, url: str, email: str) -> None:
    """Sign in, allow, and deliver the redirect to the suite's callback server."""
    with httpx.Client(base_url=base, timeout=30) as browser:
        r = browser.get(url)
        if r.status_code != 302:
            raise SetupError(f"/authorize answered {r.status_code}: {r.text[:500]}")
        consent = r.headers["location"]
        r = browser.get(consent)
        signin = r.headers["location"]
        page = browser.get(signin)
        csrf = _CSRF_RE.search(page.text)
        if csrf is None:
            raise SetupError("the sign-in page has no CSRF token")
        nxt = httpx.URL(signin).params["next"]
        r = browser.post(
            "/signin", data={"email": email, "password": PASSWORD, "csrf_token": csrf.group(1), "next": nxt}
        )
        page = browser.get(r.headers["location"])
        csrf, request = _CSRF_RE.search(page.text), _REQUEST_RE.search(page.text)
        if csrf is None or request is None:
            raise SetupError(f"the consent page has no form: {page.text[:500]}")
        r = browser.post(
            "/oauth/consent", data={"csrf_token": csrf.group(1), "request": request.group(1), "decision": "allow"}
        )
        if r.status_code != 303:
            raise SetupError(f"the consent page answered {r.status_code}")
        httpx.get(r.headers["location"], timeout=30)  # the suite's callback server


def _checks(results: Path) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in sorted(results.rglob("checks.json")):
        found += json.loads(path.read_text())
    return found


def run_suite(
    node: str, cli: str, base: str, client_id: str, resource: str, callback_port: int, out: Path
) -> list[dict[str, Any]]:
    """Every authorization-server scenario in one run (the code grant reads what the metadata scenario found)."""
    command = [
        node, cli, "authorization", "--url", base, "--client-id", client_id,
        "--resource", resource, "--port", str(callback_port), "-o", str(out),
    ]  # fmt: skip
    print(f"$ {' '.join(command)}", flush=True)
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    browsed: list[BaseException] = []
    for line in proc.stdout:
        print(line, end="", flush=True)
        if line.startswith(base + "/authorize?"):

            def go(url: str = line.strip()) -> None:
                try:
                    _browse(base, url, "alice@example.com")
                except BaseException as exc:
                    browsed.append(exc)

            threading.Thread(target=go, daemon=True).start()
    proc.wait(timeout=600)
    if browsed:
        raise SetupError(f"the scripted browser failed: {browsed[0]}")
    if proc.returncode not in (0, 1):
        raise SetupError(f"`conformance authorization` exited with {proc.returncode}")
    return _checks(out)


def main() -> int:
    try:
        node, cli = _tools()
    except SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    port, callback_port = _free_port(), _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="sagemcp-authz-conformance-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SAGEMCP_")}
        env.update(PYTHONUNBUFFERED="1", SAGEMCP_PASSWORD_MEMORY_KIB="8192", SAGEMCP_PASSWORD_TIME_COST="1")

        def sagemcp(*args: str, stdin: str | None = None) -> str:
            result = subprocess.run(
                [sys.executable, "-m", "sagemcp_server.cli", *args],
                env=env, cwd=tmp, input=stdin, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            if result.returncode != 0:
                raise SetupError(f"sagemcp {' '.join(args)} failed: {result.stderr}")
            return result.stdout

        log = open(Path(tmp) / "server.log", "wb")  # noqa: SIM115 - closed below
        server = subprocess.Popen(
            [sys.executable, "-m", "sagemcp_server.cli", "serve", "--port", str(port)],
            env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while True:
                if server.poll() is not None:
                    raise SetupError("the server exited before it was ready")
                try:
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SetupError("the server did not become ready within 60 s")
                time.sleep(0.2)
            sagemcp("tenant", "create", "acme")
            sagemcp("connector", "add", "demo", "--tenant", "acme")
            sagemcp("user", "create", "alice@example.com", "--password-stdin", stdin=PASSWORD + "\n")
            sagemcp("member", "add", "alice@example.com", "--tenant", "acme")
            redirect = f"http://127.0.0.1:{callback_port}/callback"
            added = sagemcp(
                "oauth-client", "add", "--name", "MCP conformance", "--public", "--redirect-uri", redirect, "--json"
            )
            client = json.loads(added)
            checks = run_suite(
                node, cli, base, client["client_id"], f"{base}/api/v1/acme/mcp", callback_port, Path(tmp) / "results"
            )
        except SetupError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()
    failed = [c for c in checks if c.get("status") not in ("SUCCESS", "WARNING")]
    ran = {c.get("id") for c in checks}
    print(f"\n{len(checks) - len(failed)} of {len(checks)} checks passed: {', '.join(sorted(str(r) for r in ran))}")
    for check in failed:
        print(f"  {check.get('status')} {check.get('id')}: {check.get('errorMessage') or check.get('description')}")
    missing = [c for c in EXPECTED_CHECKS if c not in ran]
    if missing:
        print(f"  no result for: {', '.join(missing)}")
    return 0 if checks and not failed and not missing else 1


if __name__ == "__main__":
    sys.exit(main())
