"""Server-rendered charts of audit events: calls and errors over time as SVG, and latency percentiles.

The SVG uses presentation attributes and classes only (no `style` attribute, no script), so the
console's Content-Security-Policy (`style-src 'self'`) lets it render inline; it carries a
`<title>` and `<desc>` for screen readers, and the page shows the same numbers as a table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from xml.sax.saxutils import escape

from markupsafe import Markup

__all__ = ["Bucket", "ToolLatency", "buckets", "latency_table", "percentile", "series_svg"]

ERROR_OUTCOMES = frozenset({"error", "denied", "invalid", "limited", "upstream_error"})

Sample = tuple[datetime, str, str, float]
"""(time, tool, outcome, duration in ms), as `SqlStore.audit_samples` returns them."""


@dataclass(frozen=True)
class Bucket:
    start: datetime
    end: datetime
    calls: int
    errors: int


@dataclass(frozen=True)
class ToolLatency:
    tool: str
    calls: int
    errors: int
    p50: float
    p95: float
    p99: float


def buckets(samples: Iterable[Sample], since: datetime, until: datetime, count: int = 24) -> list[Bucket]:
    """`count` equal time slices of [since, until), with the calls and the failed calls in each."""
    span = (until - since).total_seconds()
    if span <= 0 or count < 1:
        return []
    calls = [0] * count
    errors = [0] * count
    for at, _tool, outcome, _ms in samples:
        offset = (at - since).total_seconds()
        if offset < 0 or offset >= span:
            continue
        index = min(count - 1, int(offset / span * count))
        calls[index] += 1
        if outcome in ERROR_OUTCOMES:
            errors[index] += 1
    width = timedelta(seconds=span / count)
    return [Bucket(since + width * i, since + width * (i + 1), calls[i], errors[i]) for i in range(count)]


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The `q` percentile (0-100) of sorted values, interpolated linearly between the closest ranks."""
    if not sorted_values:
        return math.nan
    if len(sorted_values) == 1:
        return sorted_values[0]
    rank = q / 100 * (len(sorted_values) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)


def latency_table(samples: Iterable[Sample]) -> list[ToolLatency]:
    """Per-tool call count, failures and p50/p95/p99 duration, the busiest tools first."""
    durations: dict[str, list[float]] = {}
    failed: dict[str, int] = {}
    for _at, tool, outcome, ms in samples:
        durations.setdefault(tool, []).append(ms)
        if outcome in ERROR_OUTCOMES:
            failed[tool] = failed.get(tool, 0) + 1
    rows = []
    for tool, values in durations.items():
        values.sort()
        rows.append(
            ToolLatency(
                tool=tool,
                calls=len(values),
                errors=failed.get(tool, 0),
                p50=percentile(values, 50),
                p95=percentile(values, 95),
                p99=percentile(values, 99),
            )
        )
    rows.sort(key=lambda r: (-r.calls, r.tool))
    return rows


def _label(at: datetime, span: timedelta) -> str:
    if span <= timedelta(days=2):
        return at.strftime("%H:%M")
    return at.strftime("%m-%d")


def _nice_ceiling(value: int) -> int:
    """A round axis maximum at or above `value` whose four grid steps are whole numbers (4, 8, 20, 40, ...)."""
    quarter = max(1, -(-value // 4))
    magnitude = int(10 ** math.floor(math.log10(quarter)))
    for step in (1, 2, 5, 10):
        if quarter <= step * magnitude:
            return 4 * step * magnitude
    return 40 * magnitude


def series_svg(data: Sequence[Bucket], *, width: int = 720, height: int = 220) -> Markup:
    """Calls (bars) and errors (the darker part of each bar) per time slice, as an inline SVG document."""
    left, right, top, bottom = 44, 8, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    total = sum(b.calls for b in data)
    failed = sum(b.errors for b in data)
    peak = _nice_ceiling(max((b.calls for b in data), default=0))
    span = (data[-1].end - data[0].start) if data else timedelta(0)
    title = "Calls and errors over time"
    desc = f"{total} calls, {failed} failed, in {len(data)} slices"
    if data:
        desc += f" from {data[0].start:%Y-%m-%d %H:%M} to {data[-1].end:%Y-%m-%d %H:%M} UTC"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="chart-title chart-desc" preserveAspectRatio="xMidYMid meet">',
        f'<title id="chart-title">{escape(title)}</title><desc id="chart-desc">{escape(desc)}</desc>',
    ]
    for i in range(5):
        value = peak * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d4da" '
            f'stroke-width="1"/><text class="axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" '
            f'font-size="11" fill="#444">{value:g}</text>'
        )
    slot = plot_w / max(len(data), 1)
    bar = max(slot * 0.8, 1.0)
    for i, b in enumerate(data):
        x = left + i * slot + (slot - bar) / 2
        h_calls = plot_h * b.calls / peak
        h_errors = plot_h * b.errors / peak
        label = f"{b.start:%Y-%m-%d %H:%M}: {b.calls} calls, {b.errors} failed"
        parts.append(f"<g><title>{escape(label)}</title>")
        if b.calls:
            parts.append(
                f'<rect class="calls" x="{x:.1f}" y="{top + plot_h - h_calls:.1f}" width="{bar:.1f}" '
                f'height="{h_calls:.1f}" fill="#3b6fd4"/>'
            )
        if b.errors:
            parts.append(
                f'<rect class="errors" x="{x:.1f}" y="{top + plot_h - h_errors:.1f}" width="{bar:.1f}" '
                f'height="{h_errors:.1f}" fill="#b3261e"/>'
            )
        parts.append("</g>")
        if len(data) <= 12 or i % max(len(data) // 6, 1) == 0:
            parts.append(
                f'<text class="axis" x="{x + bar / 2:.1f}" y="{height - 8}" text-anchor="middle" font-size="11" '
                f'fill="#444">{escape(_label(b.start, span))}</text>'
            )
    parts.append(
        f'<line class="axis-line" x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" '
        'stroke="#444" stroke-width="1"/></svg>'
    )
    # Every interpolated text went through `escape` and every number is formatted here: safe to mark up.
    return Markup("".join(parts))  # noqa: S704
