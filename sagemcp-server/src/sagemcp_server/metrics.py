"""Prometheus metrics of one server process, in a registry of its own (so tests can build many apps).

HTTP requests by route template (never by raw path, to keep tenants out of label
values), tool calls by connector type / tool / outcome with latency, upstream
responses by provider and status, token refreshes, and open MCP connections.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from sagemcp.models import AuditEvent

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "sagemcp_http_requests", "HTTP requests served.", ["method", "route", "status"], registry=r
        )
        self.request_seconds = Histogram(
            "sagemcp_http_request_duration_seconds",
            "HTTP request latency.",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.tool_calls = Counter(
            "sagemcp_tool_calls", "MCP tool calls.", ["connector_type", "tool", "outcome"], registry=r
        )
        self.tool_seconds = Histogram(
            "sagemcp_tool_call_duration_seconds",
            "MCP tool call latency.",
            ["connector_type", "tool"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.upstream_responses = Counter(
            "sagemcp_upstream_responses",
            "Upstream HTTP attempts by status ('none': no answer).",
            ["provider", "method", "status"],
            registry=r,
        )
        self.upstream_seconds = Histogram(
            "sagemcp_upstream_request_duration_seconds",
            "Upstream request latency.",
            ["provider"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.token_refreshes = Counter(
            "sagemcp_token_refreshes", "Upstream token refreshes.", ["provider", "outcome"], registry=r
        )
        self.mcp_connections = Gauge(
            "sagemcp_mcp_active_connections", "MCP requests and streams (SSE, WebSocket) open now.", registry=r
        )
        self.mcp_sessions = Gauge("sagemcp_mcp_active_sessions", "Stateful MCP sessions open now.", registry=r)
        self.audit_dropped = Counter(
            "sagemcp_audit_events_dropped", "Audit events dropped because the buffer was full.", registry=r
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.request_seconds.labels(method, route).observe(seconds)

    def tool_call(self, event: AuditEvent) -> None:
        self.tool_calls.labels(event.connector_type, event.tool, event.outcome).inc()
        self.tool_seconds.labels(event.connector_type, event.tool).observe(event.duration_ms / 1000)

    def upstream(self, provider: str, method: str, status: int | None, seconds: float) -> None:
        self.upstream_responses.labels(provider, method, "none" if status is None else str(status)).inc()
        self.upstream_seconds.labels(provider).observe(seconds)

    def refresh(self, provider: str, ok: bool) -> None:
        self.token_refreshes.labels(provider, "ok" if ok else "failed").inc()

    def count_sessions(self, counter: Callable[[], int]) -> None:
        self.mcp_sessions.set_function(lambda: float(counter()))

    def render(self) -> bytes:
        return generate_latest(self.registry)
