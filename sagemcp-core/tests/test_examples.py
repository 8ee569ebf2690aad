"""The documented examples work as written."""

from __future__ import annotations

import httpx
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from examples.embed_app import build
from examples.weather import WeatherConnector
from sagemcp.testing import assert_connector_valid, call_tool

from ._support import http2_client, serve


def test_example_connector_passes_the_contract_checks() -> None:
    assert_connector_valid(WeatherConnector)


async def test_example_tool_with_call_tool() -> None:
    def upstream(request: httpx.Request) -> httpx.Response:
        assert request.headers["x-api-key"] == "test-token"
        assert request.url.params["units"] == "metric"
        return httpx.Response(200, json={"summary": "Sunny", "temp": 21.5})

    call = await call_tool(WeatherConnector, "weather_get_forecast", {"city": "Lisbon"}, handler=upstream)
    assert call.structured == {"city": "Lisbon", "summary": "Sunny", "temperature_c": 21.5}
    assert call.requests[0].url.path == "/forecast"


async def test_embedded_app_serves_mcp_under_its_mount() -> None:
    app, key = build()
    async with serve(app) as base:
        url = f"{base}/mcp-api/acme/connectors/weather/mcp"
        async with Client(streamable_http_client(url, http_client=http2_client(key))) as client:  # type: ignore[arg-type]
            names = [t.name for t in (await client.list_tools()).tools]
    assert names == ["weather_get_forecast"]
