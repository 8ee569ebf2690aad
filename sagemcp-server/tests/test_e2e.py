"""The README's path, automated: one command starts the server; the CLI creates a tenant, a connector and a
key; the official MCP SDK client lists (and calls) the connector's tools over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from procs import clean_env, free_port, start, stop, wait_ready

pytestmark = pytest.mark.e2e


def cli(env: dict[str, str], cwd: Path, *args: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "sagemcp_server.cli", *args, "--json"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


async def test_fresh_machine_to_listing_tools(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(SAGEMCP_LOG_FORMAT="json")
    proc = start(["-m", "sagemcp_server.cli", "serve", "--port", str(port)], env, tmp_path, "server", cwd=tmp_path)
    try:
        wait_ready(port, proc, tmp_path, "server")
        banner = (tmp_path / "server.out").read_text()
        assert "platform admin API key" in banner  # created on first start, printed once
        assert (tmp_path / "sagemcp.db").exists() and (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600

        cli(env, tmp_path, "tenant", "create", "acme")
        connector = cli(env, tmp_path, "connector", "add", "demo", "--tenant", "acme")
        key = cli(env, tmp_path, "key", "create", "--tenant", "acme")["key"]

        url = f"http://127.0.0.1:{port}/api/v1/acme/connectors/{connector['id']}/mcp"
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30) as http:
            async with Client(streamable_http_client(url, http_client=http)) as client:
                tools = await client.list_tools()
                assert {t.name for t in tools.tools} == {"demo_echo", "demo_add", "demo_server_time"}
                result = await client.call_tool("demo_add", {"a": 2, "b": 3})
                assert result.structured_content == {"a": 2.0, "b": 3.0, "sum": 5.0}
            async with Client(streamable_http_client(url, http_client=http), mode="legacy") as client:
                assert len((await client.list_tools()).tools) == 3
        async with httpx2.AsyncClient(timeout=30) as http:
            with pytest.raises(Exception):
                async with Client(streamable_http_client(url, http_client=http)) as client:
                    await client.list_tools()
    finally:
        code = stop(proc)
    assert code in (0, -15)  # uvicorn re-raises SIGTERM after its graceful shutdown
    logs = (tmp_path / "server.err").read_text().splitlines()
    records = [json.loads(line) for line in logs if line.startswith("{")]
    assert records and any(r.get("request_id") and r["logger"] == "sagemcp_server.access" for r in records)
    assert any(r["message"] == "sagemcp server stopped" for r in records)
    everything = "\n".join(logs)
    assert key not in everything and key[:20] not in everything


def test_serve_demo_prints_url_key_and_client_configs(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(SAGEMCP_LOG_FORMAT="json")
    outputs = []
    for run in range(2):
        proc = start(
            ["-m", "sagemcp_server.cli", "serve", "--demo", "--port", str(port)],
            env,
            tmp_path,
            f"demo{run}",
            cwd=tmp_path,
        )
        try:
            wait_ready(port, proc, tmp_path, f"demo{run}")
        finally:
            stop(proc)
        outputs.append((tmp_path / f"demo{run}.out").read_text())
    first, second = outputs
    url = f"http://127.0.0.1:{port}/api/v1/demo/mcp"
    assert f"MCP URL: {url}" in first and f"MCP URL: {url}" in second
    key = first.split("MCP API key (shown only now): ")[1].split()[0]
    assert f'claude mcp add --transport http sagemcp-demo {url} --header "Authorization: Bearer {key}"' in first
    for client in ("Claude Desktop", "Cursor", "VS Code"):
        assert client in first
    assert key not in second and "cannot be shown again" in second
    assert "platform admin API key" in first and "platform admin API key" not in second
