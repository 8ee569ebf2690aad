"""A newcomer's first minutes, as the README tells them: a fresh virtualenv, the README's `pip install` line
exactly (no test extras, nothing the test environments add), then `sagemcp serve --demo`, and an MCP client
on the WebSocket endpoint (which answered 404 when no WebSocket library came with the server). Every wheel
carries the license.

Runs in the e2e session only (`nox -s e2e`): it builds and installs the packages, reusing pip's cache; bounded
to 10 minutes for the install and 60 s for the rest."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

websockets = pytest.importorskip("websockets", reason="the test's MCP client speaks WebSocket")

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
OFFLINE = re.compile(
    r"NewConnectionError|ConnectTimeoutError|Temporary failure in name resolution|Network is unreachable"
)


def readme_install_args() -> list[str]:
    """The arguments of the README's `pip install` line (the command a newcomer copies)."""
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        if "pip install ./sagemcp-core" in line:
            command = line.split("&&")[0]
            args = shlex.split(command.split("pip install", 1)[1])
            assert all(not a.startswith("-e") and "[" not in a for a in args), args  # no editable, no extras
            return args
    raise AssertionError("the README has no `pip install ./sagemcp-core ...` line")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SAGEMCP_", "PIP_NO_CACHE", "VIRTUAL_ENV"))}
    env.update(PYTHONUNBUFFERED="1", PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)
    return env


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("readme") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(target)], check=True, timeout=120)
    python = target / "bin" / "python"
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", *readme_install_args()],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0 and OFFLINE.search(result.stderr):
        pytest.skip(f"the package index is unreachable: {OFFLINE.search(result.stderr).group(0)}")  # type: ignore[union-attr]
    assert result.returncode == 0, result.stderr[-3000:]
    return target


def test_every_installed_package_carries_the_license(venv: Path) -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text and "END OF TERMS AND CONDITIONS" in text
    site = next((venv / "lib").glob("python3*/site-packages"))
    for name in ("sagemcp_core", "sagemcp_server", "sagemcp_connector_github", "sagemcp_connector_slack"):
        dist = next(site.glob(f"{name}-*.dist-info"))
        assert (dist / "licenses" / "LICENSE").read_text(encoding="utf-8") == text, name
        assert "License-Expression: Apache-2.0" in (dist / "METADATA").read_text(encoding="utf-8"), name


def test_serve_demo_then_an_mcp_client_over_websocket(venv: Path, tmp_path: Path) -> None:
    port = _free_port()
    out, err = tmp_path / "serve.out", tmp_path / "serve.err"
    proc = subprocess.Popen(
        [str(venv / "bin" / "sagemcp"), "serve", "--demo", "--port", str(port)],
        cwd=tmp_path,
        env=_env(),
        stdout=out.open("wb"),
        stderr=err.open("wb"),
    )
    try:
        url, key = _wait_for_demo(proc, out, err)
        assert url == f"http://127.0.0.1:{port}/api/v1/demo/mcp", url
        assert "--host/--port or SAGEMCP_HOST/SAGEMCP_PORT" in out.read_text()  # where the URL came from
        tools = asyncio.run(
            _list_tools_over_websocket(url.replace("http://", "ws://").removesuffix("/mcp") + "/ws", key)
        )
        assert {"demo_echo", "demo_add", "demo_server_time"} <= tools
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert "No supported WebSocket library" not in err.read_text()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_demo(proc: subprocess.Popen[bytes], out: Path, err: Path) -> tuple[str, str]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = out.read_text(errors="replace")
        url = re.search(r"MCP URL: (\S+)", text)
        key = re.search(r"MCP API key \(shown only now\): (\S+)", text)
        ready = "Uvicorn running" in err.read_text(errors="replace") or "Application startup complete" in err.read_text(
            errors="replace"
        )
        if url and key and ready:
            return url.group(1), key.group(1)
        if proc.poll() is not None:
            raise AssertionError(f"sagemcp serve exited with {proc.returncode}: {err.read_text()[-3000:]}")
        time.sleep(0.2)
    raise AssertionError(f"sagemcp serve --demo did not get ready: {out.read_text()[-2000:]} {err.read_text()[-2000:]}")


async def _list_tools_over_websocket(url: str, key: str) -> set[str]:
    async with (
        asyncio.timeout(30),
        websockets.connect(
            url, subprotocols=["mcp"], additional_headers={"Authorization": f"Bearer {key}"}, open_timeout=10
        ) as ws,
    ):
        init = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "readme", "version": "1"}}
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init}))
        assert "result" in json.loads(await ws.recv())
        await ws.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}))
        while True:
            reply = json.loads(await ws.recv())
            if reply.get("id") == 2:
                return {tool["name"] for tool in reply["result"]["tools"]}
