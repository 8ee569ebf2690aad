"""`SAGEMCP_MCP_MAX_BODY_BYTES`: the largest MCP request body the server takes (4 MiB unless raised)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import MCP_HEADERS, running
from helpers import FakeProvider
from pydantic import ValidationError

from sagemcp.platform import ConnectorRegistry
from sagemcp_server import cli
from sagemcp_server.settings import Settings

MIB = 1024 * 1024


def padded_call(size: int) -> bytes:
    """A `demo_add` call padded in `_meta` to about `size` bytes: valid, and larger than the default limit."""
    body: dict[str, Any] = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {"name": "demo_add", "arguments": {"a": 2, "b": 3}, "_meta": {"padding": "x" * size}},
    }
    return json.dumps(body).encode()


def configured(settings: Settings, **changes: Any) -> Settings:
    return Settings(**{**settings.model_dump(exclude_unset=True), **changes})


async def calls(settings: Settings, registry: ConnectorRegistry, provider: FakeProvider, *sizes: int) -> list[Any]:
    """One padded call of each size to tenant `acme`'s demo connector, on a server with `settings`."""
    async with running(settings, registry, provider) as server:
        await server.tenant("acme")
        await server.connector("acme", "demo")
        key = await server.key("acme", ["mcp"])
        async with server.client(key) as client:
            return [
                await client.post(
                    "/api/v1/acme/connectors/demo/mcp",
                    content=padded_call(size),
                    headers={**MCP_HEADERS, "Content-Type": "application/json"},
                )
                for size in sizes
            ]


async def test_a_body_over_the_default_limit_is_refused_with_413(
    settings: Settings, registry: ConnectorRegistry, provider: FakeProvider
) -> None:
    assert settings.mcp_max_body_bytes == 4 * MIB
    small, large = await calls(settings, registry, provider, 1024, 5 * MIB)
    assert small.status_code == 200 and small.json()["result"]["structuredContent"]["sum"] == 5.0
    assert large.status_code == 413 and "too large" in large.text


async def test_a_raised_limit_takes_the_larger_body(
    settings: Settings, registry: ConnectorRegistry, provider: FakeProvider
) -> None:
    raised = configured(settings, mcp_max_body_bytes=8 * MIB)
    large, larger = await calls(raised, registry, provider, 5 * MIB, 9 * MIB)
    assert large.status_code == 200, large.text[:300]
    result = large.json()["result"]
    assert result["isError"] is False and result["structuredContent"]["sum"] == 5.0
    assert larger.status_code == 413  # what exceeds the raised limit is still refused


def test_the_limit_comes_from_the_environment_and_is_bounded(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    monkeypatch.setenv("SAGEMCP_MCP_MAX_BODY_BYTES", str(16 * MIB))
    assert configured(settings).mcp_max_body_bytes == 16 * MIB
    for bad in (str(1024), str(65 * MIB), "lots"):
        monkeypatch.setenv("SAGEMCP_MCP_MAX_BODY_BYTES", bad)
        with pytest.raises(ValidationError, match="mcp_max_body_bytes"):
            configured(settings)


def test_serve_bounds_websocket_messages_the_same_way(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, secret_key: str
) -> None:
    for name in list(os.environ):
        if name.startswith("SAGEMCP_") and name not in (
            "SAGEMCP_TEST_POSTGRES_URL",
            "SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS",
        ):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAGEMCP_SECRET_KEYS", secret_key)
    monkeypatch.setenv("SAGEMCP_MCP_MAX_BODY_BYTES", str(2 * MIB))
    seen: dict[str, Any] = {}

    async def prepared(settings: Settings, *, demo: bool) -> None:
        return None

    def run(app: Any, **kwargs: Any) -> None:
        seen["app"], seen["kwargs"] = app, kwargs

    monkeypatch.setattr(cli, "_prepare", prepared)
    monkeypatch.setattr("uvicorn.run", run)
    monkeypatch.setattr("sagemcp_server.logging.configure_logging", lambda *a: None)
    assert cli.main(["serve", "--port", "18998"]) == 0
    assert seen["kwargs"]["ws_max_size"] == 2 * MIB
    assert seen["app"].state.services.mcp.settings.max_body_bytes == 2 * MIB
