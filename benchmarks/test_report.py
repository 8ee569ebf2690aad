"""The timed benchmark's summary: outlier flags, per-repeat ratios, CPU on top of the SDK, interleaving order.

`python -m pytest benchmarks/test_report.py`: made-up runs, no server started.
"""

from __future__ import annotations

from typing import Any

import pytest

from . import mcp_requests as mr
from . import run
from .targets import _tuning


def _run(repeat: int, cpu: float, calls: float, **extra: Any) -> dict[str, Any]:
    return {
        "repeat": repeat,
        "calls_per_s": calls,
        "cpu_ms_per_call": cpu,
        "p50_ms": 1.0,
        "p99_ms": 2.0,
        "peak_rss_mb": 80.0,
        "foreign_cpu_on_server_core": 0.0,
        **extra,
    }


def test_a_repeat_far_from_the_others_is_flagged_whatever_busy_says() -> None:
    runs = [_run(0, 2.0, 500), _run(1, 2.1, 480), _run(2, 2.8, 350)]  # busy 0 in all three
    flagged = run.outliers(runs)
    assert [o["repeat"] for o in flagged] == [2]
    assert flagged[0]["others_median"] == pytest.approx(2.05)
    assert flagged[0]["departure"] == pytest.approx(2.8 / 2.05 - 1)


def test_repeats_within_the_limit_and_invalid_runs_are_not_flagged() -> None:
    runs = [_run(0, 2.0, 500), _run(1, 2.4, 450), _run(2, 9.0, 10, invalid="stuck")]
    assert run.outliers(runs) == []
    assert run.outliers([_run(0, 2.0, 500)]) == []  # one repeat: nothing to compare with


def test_per_repeat_ratios_and_cpu_over_the_sdk_pair_runs_of_the_same_repeat() -> None:
    sdk = run.Cell("sdk", "2026-07-28", "tools/call", 32, runs=[_run(0, 2.0, 500), _run(1, 2.2, 400)])
    core = run.Cell(
        "sagemcp-core", "2026-07-28", "tools/call", 32, runs=[_run(0, 2.5, 400), _run(1, 2.6, 380), _run(2, 9, 1)]
    )
    vs = run.versus_sdk(core, sdk)
    assert [r["repeat"] for r in vs["per_repeat"]] == [0, 1]  # repeat 2 has no SDK run to pair with
    assert vs["per_repeat"][0]["ratio"] == pytest.approx(0.8)
    assert vs["per_repeat"][1]["ratio"] == pytest.approx(0.95)
    assert vs["per_repeat"][0]["cpu_over_sdk_ms"] == pytest.approx(0.5)
    assert vs["per_repeat"][1]["cpu_over_sdk_ms"] == pytest.approx(0.4)
    assert vs["ratio"] == pytest.approx(380 / 450)  # median of 400, 380, 1 over median of 500, 400
    assert vs["cpu_over_sdk_ms"] == pytest.approx(2.6 - 2.1)
    assert run.versus_sdk(sdk, sdk) == {}


def test_cells_are_measured_cell_by_cell_in_report_order() -> None:
    targets = [run.Target("floor", "floor", ""), run.Target("sdk", "sdk", "")]
    cells = run.select_cells(targets, [], (1, 32))
    keys = run.cell_keys([c for c in cells if not c.stateful])
    assert keys[:3] == [
        ("2026-07-28", "tools/list", 1),
        ("2026-07-28", "tools/list", 32),
        ("2026-07-28", "tools/call", 1),
    ]
    assert ("2025-11-25", mr.ECHO, 32) in keys
    without_echo = run.select_cells(targets, [], (32,), echo_unavailable="demo connector missing")
    assert {c.method for c in without_echo} == {"tools/list", "tools/call"}


def test_the_report_shows_tuning_per_repeat_ratios_cpu_over_sdk_and_flags() -> None:
    sdk = run.Cell("sdk", "2026-07-28", mr.ECHO, 32, runs=[_run(0, 1.0, 900), _run(1, 1.0, 900), _run(2, 1.1, 850)])
    core = run.Cell(
        "sagemcp-core", "2026-07-28", mr.ECHO, 32, runs=[_run(0, 1.3, 700), _run(1, 1.35, 690), _run(2, 2.0, 450)]
    )
    cells = [sdk, core]
    summaries = {c.id: run.summarize(c) for c in cells}
    doc: dict[str, Any] = {
        "started": "2026-01-01T00:00:00+00:00",
        "machine": {
            "cpu_model": "test CPU",
            "cpus": 2,
            "cpus_usable": 2,
            "memory_gib": 4.0,
            "os": "Linux",
            "kernel": "6",
            "python": "3.11.7",
            "wrk": "wrk 4",
            "packages": {"mcp": "2.3.0"},
            "sniffio_importable": True,
            "loadavg_start": (0.0, 0.0, 0.0),
            "git": {"commit": "0" * 40, "dirty": False},
        },
        "loadavg_end": (0.0, 0.0, 0.0),
        "settings": {
            "quick": False,
            "repeats": 3,
            "warmup": 3,
            "duration": 10,
            "pinning": "server on CPU 0",
            "tuning": _tuning.describe("asyncio", "h11", "httpcore"),
        },
        "targets": [],
        "checks": [],
        "ratios": run.ratios(cells, summaries),
        "starts": [],
        "cells": [
            {
                "id": c.id,
                "target": c.target,
                "target_order": i,
                "era": c.era,
                "method": c.method,
                "concurrency": c.concurrency,
                "response_bytes": 111,
                "summary": summaries[c.id],
                "vs_sdk": run.versus_sdk(c, sdk),
                "failures": [],
            }
            for i, c in enumerate(cells)
        ],
    }
    text = run.markdown(doc)
    assert "httpcore's default for every target" in text
    assert "gc.freeze()" in text
    assert "## Server CPU per call on top of the SDK: tools/call echo" in text
    assert "| sagemcp-core | +0.35 (0.30 / 0.35 / 0.90) |" in text
    assert "0.78 / 0.77 / 0.53" in text  # the per-repeat ratios
    assert "repeat 3: CPU +51 %" in text  # 2.0 against 1.325, the median of the others
    assert "Inconsistent repeats" in text
