"""Prometheus metrics of one server process, in a registry of its own (so tests can build many apps).

HTTP requests by route template, tool calls by connector type / tool / outcome with
latency, upstream responses by provider and status, token refreshes, open MCP
connections, sessions and streams, and sessions and streams refused by limit or closed
by the server.

Every label value comes from a fixed set, whatever a client sends: HTTP methods outside
the standard ones are `other`, paths are their route template (`unmatched` when no route
matched, never a raw path, which would also put tenants in label values), tools,
connector types and providers are those of the installed connectors (`unknown` beyond
them), statuses are three-digit codes. A client can therefore not grow the registry, and
with it the time a scrape takes. The text is rendered in a worker thread, so that a
scrape never holds up the requests being served.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import anyio.to_thread
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from sagemcp.mcp import CLOSE_REASONS, LIMITS, STREAM_KINDS, McpUsage
from sagemcp.platform import CALL_LIMITS, AuditEvent, CallGuard, ConnectorRegistry

__all__ = ["CONTENT_TYPE_LATEST", "HTTP_METHODS", "LabelSet", "Metrics"]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"})
"""The methods of RFC 9110 and RFC 5789; anything else is counted as `other`."""
WEBSOCKET = "WS"
"""The method label of WebSocket connections."""
UNMATCHED = "unmatched"
UNKNOWN = "unknown"
OTHER = "other"
_OUTCOMES = frozenset({"ok", "error", "denied", "invalid", "limited", "upstream_error"})


class LabelSet:
    """A fixed set of label values; anything outside it becomes `fallback`."""

    def __init__(self, values: Iterable[str], fallback: str) -> None:
        self.values = frozenset(values)
        self.fallback = fallback

    def __call__(self, value: str | None) -> str:
        return value if value is not None and value in self.values else self.fallback

    def add(self, values: Iterable[str]) -> None:
        """Admit more values (routes drawn when the app is built)."""
        self.values = self.values | frozenset(values)


def _status(status: int | None) -> str:
    return str(status) if status is not None and 100 <= status <= 599 else OTHER


class Metrics:
    """The server's metrics. `registry` names the connectors whose tools, types and providers are
    counted by name; without it they all count as `unknown`."""

    def __init__(self, registry: ConnectorRegistry | None = None) -> None:
        connectors = list(registry) if registry is not None else []
        self.methods = LabelSet(HTTP_METHODS | {WEBSOCKET}, OTHER)
        self.routes = LabelSet((), UNMATCHED)
        self.connector_types = LabelSet((cls.info.id for cls in connectors), UNKNOWN)
        self.tools = LabelSet((spec.name for cls in connectors for spec in cls.tools.values()), UNKNOWN)
        self.providers = LabelSet((cls.provider_id() for cls in connectors), UNKNOWN)
        self.outcomes = LabelSet(_OUTCOMES, OTHER)

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
        self.mcp_open = 0
        """MCP requests and streams open now, counted by the HTTP middleware (on the event loop) and read by
        `sagemcp_mcp_active_connections` at scrape time: an integer update instead of a locked gauge update,
        twice per request."""
        self.mcp_connections.set_function(lambda: float(self.mcp_open))
        self.mcp_sessions = Gauge("sagemcp_mcp_active_sessions", "Stateful MCP sessions open now.", registry=r)
        self.audit_dropped = Counter(
            "sagemcp_audit_events_dropped", "Audit events dropped because the buffer was full.", registry=r
        )
        # The children of the per-request metrics by label values (all from fixed sets, so these stay small): a
        # dictionary look-up instead of `labels()` checking and joining the values again on every request.
        self._request_children: dict[tuple[str, str, str], tuple[Counter, Histogram]] = {}
        self._tool_children: dict[tuple[str, str, str], tuple[Counter, Histogram]] = {}
        self._upstream_children: dict[tuple[str, str, str], tuple[Counter, Histogram]] = {}

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (self.methods(method), self.routes(route), _status(status))
        children = self._request_children.get(key)
        if children is None:
            children = self._request_children[key] = (self.requests.labels(*key), self.request_seconds.labels(*key[:2]))
        children[0].inc()
        children[1].observe(seconds)

    def tool_call(self, event: AuditEvent) -> None:
        key = (self.connector_types(event.connector_type), self.tools(event.tool), self.outcomes(event.outcome))
        children = self._tool_children.get(key)
        if children is None:
            children = self._tool_children[key] = (self.tool_calls.labels(*key), self.tool_seconds.labels(*key[:2]))
        children[0].inc()
        children[1].observe(event.duration_ms / 1000)

    def upstream(self, provider: str, method: str, status: int | None, seconds: float) -> None:
        key = (self.providers(provider), self.methods(method), "none" if status is None else _status(status))
        children = self._upstream_children.get(key)
        if children is None:
            children = self._upstream_children[key] = (
                self.upstream_responses.labels(*key),
                self.upstream_seconds.labels(key[0]),
            )
        children[0].inc()
        children[1].observe(seconds)

    def refresh(self, provider: str, ok: bool) -> None:
        self.token_refreshes.labels(self.providers(provider), "ok" if ok else "failed").inc()

    def count_sessions(self, counter: Callable[[], int]) -> None:
        self.mcp_sessions.set_function(lambda: float(counter()))

    def watch_mcp(self, usage: Callable[[], McpUsage]) -> None:
        """Expose what the MCP endpoints hold open and refuse: totals by transport, limit and reason,
        all fixed sets (tenants are counted in the adapter and never become label values)."""
        self.registry.register(_McpUsageCollector(usage))

    def watch_call_limits(self, guard: CallGuard) -> None:
        """Expose tool calls refused by limit (`sagemcp_tool_call_refusals_total{limit}`) and whether the limits
        are enforced per process because the shared limiter is unreachable (`sagemcp_call_limits_degraded`)."""
        self.registry.register(_CallLimitsCollector(guard))

    def render(self) -> bytes:
        return generate_latest(self.registry)

    async def render_async(self) -> bytes:
        """`render()` in a worker thread: the event loop keeps serving while the text is built."""
        return await anyio.to_thread.run_sync(self.render)


class _McpUsageCollector(Collector):
    """`sagemcp_mcp_open_streams`, `sagemcp_mcp_limit_refusals_total` and `sagemcp_mcp_streams_closed_total`,
    read from the MCP app at scrape time."""

    def __init__(self, usage: Callable[[], McpUsage]) -> None:
        self.usage = usage

    def describe(self) -> Iterable[Metric]:
        return self._families(None)

    def collect(self) -> Iterable[Metric]:
        return self._families(self.usage())

    @staticmethod
    def _families(usage: McpUsage | None) -> list[Metric]:
        streams = GaugeMetricFamily(
            "sagemcp_mcp_open_streams",
            "Long-lived MCP streams open now, by transport (sse: legacy SSE, get: GET /mcp, websocket).",
            labels=["transport"],
        )
        refusals = CounterMetricFamily(
            "sagemcp_mcp_limit_refusals",
            "New MCP sessions and streams refused because a limit was reached, by limit.",
            labels=["limit"],
        )
        closed = CounterMetricFamily(
            "sagemcp_mcp_streams_closed",
            "MCP streams the server closed, by reason (idle: no message for too long; revoked: access lost).",
            labels=["reason"],
        )
        if usage is not None:
            for kind in STREAM_KINDS:
                streams.add_metric([kind], usage.streams.get(kind, 0))
            for limit in LIMITS:
                refusals.add_metric([limit], usage.refused.get(limit, 0))
            for reason in CLOSE_REASONS:
                closed.add_metric([reason], usage.closed.get(reason, 0))
        return [streams, refusals, closed]


class _CallLimitsCollector(Collector):
    """Read from the `CallGuard` at scrape time: limit names are a fixed set (`CALL_LIMITS`), tenants never labels."""

    def __init__(self, guard: CallGuard | None) -> None:
        self.guard = guard

    def describe(self) -> Iterable[Metric]:
        return self._families(None)

    def collect(self) -> Iterable[Metric]:
        return self._families(self.guard)

    @staticmethod
    def _families(guard: CallGuard | None) -> list[Metric]:
        refusals = CounterMetricFamily(
            "sagemcp_tool_call_refusals",
            "Tool calls refused by a tool-call limit or an upstream back-off, by limit.",
            labels=["limit"],
        )
        degraded = GaugeMetricFamily(
            "sagemcp_call_limits_degraded",
            "1 while the shared (Redis) limiter is unreachable and this process enforces the limits on its own.",
        )
        if guard is not None:
            for limit in CALL_LIMITS:
                refusals.add_metric([limit], guard.refused.get(limit, 0))
            degraded.add_metric([], 1.0 if guard.degraded is not None else 0.0)
        return [refusals, degraded]
