"""`/metrics`: every label value comes from a fixed set, whatever clients send, and a scrape does not hold up
the event loop."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from conftest import MCP_HEADERS, Server, mcp_call
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.core import GaugeMetricFamily

from sagemcp.platform import AuditEvent, ConnectorRegistry
from sagemcp_server.connectors.demo import DemoConnector
from sagemcp_server.metrics import HTTP_METHODS, Metrics

_SERIES = re.compile(r"^(sagemcp_[a-z_]+)\{(.*)\} ")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def series(text: str) -> list[tuple[str, dict[str, str]]]:
    found = []
    for line in text.splitlines():
        match = _SERIES.match(line)
        if match:
            found.append((match.group(1), dict(_LABEL.findall(match.group(2)))))
    return found


def distinct(found: list[tuple[str, dict[str, str]]]) -> int:
    """The number of series: histogram buckets (`le`) and `_created` samples are parts of one series."""
    keys = set()
    for name, labels in found:
        base = re.sub(r"_(bucket|count|sum|created|total)$", "", name)
        keys.add((base, tuple(sorted((k, v) for k, v in labels.items() if k != "le"))))
    return len(keys)


TOKENS = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(method=TOKENS, route=st.text(max_size=60), tool=st.text(max_size=60), provider=st.text(max_size=30))
def test_metrics_map_every_unknown_value_to_one_label(method: str, route: str, tool: str, provider: str) -> None:
    metrics = Metrics(ConnectorRegistry([DemoConnector]))
    metrics.routes.add(["/healthz"])
    metrics.observe_request(method, route, 999, 0.01)
    metrics.upstream(provider, method, 1234, 0.01)
    metrics.refresh(provider, ok=True)
    event = AuditEvent(
        tenant_id="t", connector_id="c", connector_type=provider, tool=tool, principal_id="p", outcome="ok",
        duration_ms=1.0, request_id="r",
    )  # fmt: skip
    metrics.tool_call(event)
    for name, labels in series(metrics.render().decode()):
        assert labels.get("method", "GET") in HTTP_METHODS | {"WS", "other"}, (name, labels)
        assert labels.get("route", "/healthz") in ("/healthz", "unmatched"), (name, labels)
        assert labels.get("status", "200") in ("other", "none") or 100 <= int(labels.get("status", "200")) <= 599
        assert labels.get("tool", "demo_echo") in ("demo_echo", "demo_add", "demo_server_time", "unknown")
        assert labels.get("connector_type", "demo") in ("demo", "unknown")
        assert labels.get("provider", "demo") in ("demo", "unknown")


async def test_random_methods_paths_and_tools_do_not_grow_the_metrics(server: Server) -> None:
    """Regression: the raw HTTP method was a label value, so each new token a client sent as a method made a
    new series (13,000 requests made a scrape take 9 s)."""
    await server.tenant("acme")
    await server.connector("acme", "demo")
    key = await server.key("acme", ["mcp"])
    async with server.client(key) as client:
        await mcp_call(client, "/api/v1/acme/mcp", "tools/call", {"name": "demo_echo", "arguments": {"text": "x"}})
        baseline = distinct(series((await client.get("/metrics")).text))
        for i in range(150):
            method = f"X{i}METHOD"
            await client.request(method, f"/api/v1/acme/mcp/{i}", headers=MCP_HEADERS)
            await client.get(f"/no/such/path/{i}")
            await client.request(method, "/healthz")
            await mcp_call(client, "/api/v1/acme/mcp", "tools/call", {"name": f"demo_nope_{i}", "arguments": {}})
            await mcp_call(client, f"/api/v1/acme/connectors/c{i}/mcp", "tools/list")
        text = (await client.get("/metrics")).text
    found = series(text)
    methods = {labels["method"] for _, labels in found if "method" in labels}
    routes = {labels["route"] for _, labels in found if "route" in labels}
    tools = {labels["tool"] for _, labels in found if "tool" in labels}
    assert methods <= HTTP_METHODS | {"other"}, methods
    assert "other" in methods
    assert not any(re.search(r"\d", r.replace("/api/v1", "")) for r in routes), routes  # templates, no raw paths
    assert "unmatched" in routes and "/api/v1/{tenant}/mcp" in routes
    assert tools <= {"demo_echo", "demo_add", "demo_server_time", "unknown"}, tools
    # 750 requests with 600 distinct methods, paths and tool names added a handful of series, not hundreds
    assert distinct(found) - baseline < 15, (baseline, distinct(found))


class SlowCollector:
    """A collector that takes `seconds` to collect, as a registry of many series does."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def collect(self) -> Any:
        time.sleep(self.seconds)
        yield GaugeMetricFamily("sagemcp_test_slow", "slow", value=1.0)


async def test_a_slow_scrape_does_not_block_other_requests(server: Server) -> None:
    """Regression: `/metrics` rendered on the event loop, so every request of every tenant waited for a scrape."""
    server.services.metrics.registry.register(SlowCollector(0.8))
    async with server.client() as client:

        async def health_after_a_moment() -> float:
            await asyncio.sleep(0.1)
            started = time.perf_counter()
            assert (await client.get("/healthz")).status_code == 200
            return time.perf_counter() - started

        scrape, waited = await asyncio.gather(client.get("/metrics"), health_after_a_moment())
    assert scrape.status_code == 200 and "sagemcp_test_slow 1.0" in scrape.text
    assert waited < 0.4, f"/healthz waited {waited:.2f} s for a scrape"


def test_repeated_observations_add_up_in_their_own_series() -> None:
    """The per-request children are kept per label values: each observation lands in its own series, and
    values outside the fixed sets share the fallback's."""
    metrics = Metrics(ConnectorRegistry([DemoConnector]))
    metrics.routes.add(["/healthz", "/api/v1/{tenant}/mcp"])
    for _ in range(3):
        metrics.observe_request("POST", "/api/v1/{tenant}/mcp", 200, 0.002)
    metrics.observe_request("POST", "/api/v1/{tenant}/mcp", 401, 0.001)
    metrics.observe_request("BREW", "/nowhere", 200, 0.001)
    metrics.observe_request("SPILL", "/elsewhere", 200, 0.001)
    sample = metrics.registry.get_sample_value
    assert (
        sample("sagemcp_http_requests_total", {"method": "POST", "route": "/api/v1/{tenant}/mcp", "status": "200"}) == 3
    )
    assert (
        sample("sagemcp_http_requests_total", {"method": "POST", "route": "/api/v1/{tenant}/mcp", "status": "401"}) == 1
    )
    assert sample("sagemcp_http_requests_total", {"method": "other", "route": "unmatched", "status": "200"}) == 2
    assert (
        sample("sagemcp_http_request_duration_seconds_count", {"method": "POST", "route": "/api/v1/{tenant}/mcp"}) == 4
    )
    for outcome in ("ok", "ok", "error"):
        event = AuditEvent(
            tenant_id="t", connector_id="c", connector_type="demo", tool="demo_echo", principal_id="p",
            outcome=outcome, duration_ms=2.0, request_id="r",
        )  # fmt: skip
        metrics.tool_call(event)
    labels = {"connector_type": "demo", "tool": "demo_echo"}
    assert sample("sagemcp_tool_calls_total", {**labels, "outcome": "ok"}) == 2
    assert sample("sagemcp_tool_calls_total", {**labels, "outcome": "error"}) == 1
    assert sample("sagemcp_tool_call_duration_seconds_count", labels) == 3


def test_open_mcp_requests_are_read_at_scrape_time() -> None:
    metrics = Metrics()
    assert metrics.registry.get_sample_value("sagemcp_mcp_active_connections") == 0
    metrics.mcp_open += 2
    assert metrics.registry.get_sample_value("sagemcp_mcp_active_connections") == 2
    metrics.mcp_open -= 2
    assert "sagemcp_mcp_active_connections 0.0" in metrics.render().decode()


def test_upstream_attempts_are_counted_per_label_values() -> None:
    metrics = Metrics(ConnectorRegistry([DemoConnector]))
    for status in (200, 200, 503, None):
        metrics.upstream("demo", "GET", status, 0.25)
    metrics.upstream("someone-else", "get", 200, 0.5)
    text = metrics.render().decode()
    assert 'sagemcp_upstream_responses_total{method="GET",provider="demo",status="200"} 2.0' in text
    assert 'sagemcp_upstream_responses_total{method="GET",provider="demo",status="503"} 1.0' in text
    assert 'sagemcp_upstream_responses_total{method="GET",provider="demo",status="none"} 1.0' in text
    assert 'sagemcp_upstream_responses_total{method="other",provider="unknown",status="200"} 1.0' in text
    assert 'sagemcp_upstream_request_duration_seconds_count{provider="demo"} 4.0' in text
    assert 'sagemcp_upstream_request_duration_seconds_sum{provider="demo"} 1.0' in text
    assert 'sagemcp_upstream_request_duration_seconds_count{provider="unknown"} 1.0' in text
