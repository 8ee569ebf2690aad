"""The deterministic per-call cost of a `tools/call` has not grown: `python -m pytest benchmarks/test_cost.py`.

Measures core's MCP app and the reference server's app in-process (see `benchmarks.cost`)
twice, checks that both measurements are identical (a guard that moves by itself guards
nothing), and compares them with `benchmarks/results/cost-baseline.json`: a figure that
grew by more than the margin fails, naming what grew. After an intended change,
`python -m benchmarks.cost --update-baseline` rewrites the baseline.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from . import cost
from .provision import sql_available
from .targets._connector import echo_connector_class


def _unavailable() -> str | None:
    """Why the apps cannot be built here (the reference server's SQL store or its demo connector missing)."""
    if echo_connector_class()[0] is None:
        return echo_connector_class()[1]
    return sql_available()


_why_not = _unavailable()


@pytest.fixture(scope="module")
def measured() -> dict[str, Any]:
    return cost.measure()


@pytest.mark.skipif(_why_not is not None, reason=str(_why_not))
def test_the_count_is_the_same_on_every_run(measured: dict[str, Any]) -> None:
    again = cost.measure()
    first = {k: c["totals"] for k, c in measured["cells"].items()}
    second = {k: c["totals"] for k, c in again["cells"].items()}
    assert first == second, f"two runs of the same code counted differently:\n{first}\n{second}"
    assert set(first) == {f"{app}/{cell}" for app in ("sdk", "core", "server") for cell, _, _ in cost.CELLS}
    assert {cell for cell, _, _ in cost.CELLS} == {*cost.ERAS, *(f"github/{era}" for era in cost.ERAS)}


@pytest.mark.skipif(_why_not is not None, reason=str(_why_not))
def test_the_cost_per_call_has_not_grown_beyond_the_baseline(measured: dict[str, Any]) -> None:
    baseline = cost.load_baseline()
    result = cost.compare(measured, baseline)
    if not result.comparable:
        pytest.skip(result.text())
    assert not result.failures, "the cost of a tools/call grew:\n" + result.text()
    for cell_id in ("core/2026-07-28", "server/2025-11-25"):
        per_call = measured["cells"][cell_id]["per_call"]
        packages = measured["cells"][cell_id]["by_package"]
        # a real request path ran: sagemcp's own work and the SDK's request kernel, and every figure counted
        # (not more than the bare SDK's work: the `tools/call` fast path leaves out the SDK's transport)
        sdk = measured["cells"][f"sdk/{cell_id.split('/')[1]}"]["per_call"]
        assert packages["sagemcp"]["lines"] > 100, (cell_id, packages)
        assert packages["mcp"]["lines"] > 50, (cell_id, packages)
        assert sdk["lines"] > 100, sdk
        assert per_call["python_calls"] > 0
        assert per_call["c_calls"] > 0
    for app in ("sdk", "core", "server"):
        for era in cost.ERAS:
            github, echo = measured["cells"][f"{app}/github/{era}"], measured["cells"][f"{app}/{era}"]
            # the GitHub cells made their upstream GET through httpx and rendered the issue with the connector
            assert github["tool"] == "github", github["tool"]
            assert echo["tool"] == "echo", echo["tool"]
            assert github["by_package"]["httpx"]["lines"] > 500, (app, era, github["by_package"])
            assert github["by_package"]["sagemcp_github"]["lines"] > 50, (app, era, github["by_package"])
            assert "httpx" not in echo["by_package"], (app, era, echo["by_package"])
            if app != "sdk":  # through core's upstream client, which the baseline gates as well
                assert "sagemcp._upstream:BoundClient.request" in github["functions"]
                assert baseline["cells"][f"{app}/github/{era}"]["gated"]


# -- the comparison itself, on made-up figures ---------------------------------------------------


def _cell(lines: float, *, gated: bool = True, sagemcp: float = 100.0, handler: float = 40.0) -> dict[str, Any]:
    return {
        "app": "core" if gated else "sdk",
        "era": "2026-07-28",
        "gated": gated,
        "per_call": {"python_calls": lines / 5, "c_calls": lines / 5, "lines": lines},
        "by_package": {
            "sagemcp": {"python_calls": 10.0, "c_calls": 10.0, "lines": sagemcp},
            "mcp": {"python_calls": 10.0, "c_calls": 10.0, "lines": lines - sagemcp},
        },
        "functions": {
            "sagemcp.mcp._handlers:call_tool": {"python_calls": 1.0, "c_calls": 1.0, "lines": handler},
            "mcp.shared.inbound:classify": {"python_calls": 1.0, "c_calls": 1.0, "lines": 30.0},
        },
    }


def _measurement(core: dict[str, Any], sdk: dict[str, Any]) -> dict[str, Any]:
    return {
        "calls": 100,
        "warmup": 20,
        "environment": {"python": "3.11.7", "implementation": "CPython", "packages": {"mcp": "2.3.0"}},
        "cells": {"core/2026-07-28": core, "sdk/2026-07-28": sdk},
    }


def _baseline() -> dict[str, Any]:
    return cost.baseline_document(_measurement(_cell(1000.0), _cell(600.0, gated=False)))


def test_growth_within_the_margin_passes() -> None:
    result = cost.compare(_measurement(_cell(1090.0), _cell(600.0, gated=False)), _baseline())
    assert result.comparable
    assert not result.failures, result.text()


def test_growth_beyond_the_margin_fails_and_names_what_grew() -> None:
    grown = _cell(1200.0, sagemcp=300.0, handler=240.0)
    grown["functions"]["sagemcp.mcp._new:hook"] = {"python_calls": 1.0, "c_calls": 0.0, "lines": 25.0}
    result = cost.compare(_measurement(grown, _cell(600.0, gated=False)), _baseline())
    assert len(result.failures) == 1
    assert result.failures[0].startswith("core/2026-07-28: per tools/call,")
    assert "lines 1,000.0 -> 1,200.0 (+20.0 %)" in result.failures[0]
    text = result.text()
    assert "sagemcp 100.0 -> 300.0" in text  # the package that grew
    assert "sagemcp.mcp._handlers:call_tool: 40.0 -> 240.0" in text  # the function that grew
    assert "sagemcp.mcp._new:hook: not run before -> 25.0" in text


def test_the_sdk_is_reported_not_gated() -> None:
    result = cost.compare(_measurement(_cell(1000.0), _cell(900.0, gated=False)), _baseline())
    assert not result.failures
    assert any(note.startswith("sdk/2026-07-28:") and "not gated" in note for note in result.notes)


def test_a_shrinking_cost_passes_and_suggests_updating_the_baseline() -> None:
    result = cost.compare(_measurement(_cell(700.0), _cell(600.0, gated=False)), _baseline())
    assert not result.failures
    assert any("--update-baseline" in note for note in result.notes)


def test_a_missing_gated_cell_fails() -> None:
    measured = _measurement(_cell(1000.0), _cell(600.0, gated=False))
    del measured["cells"]["core/2026-07-28"]
    result = cost.compare(measured, _baseline())
    assert result.failures == ["core/2026-07-28: not measured (the app could not be built?)"]


def test_another_interpreter_is_not_compared() -> None:
    measured = _measurement(_cell(5000.0), _cell(600.0, gated=False))
    measured["environment"] = copy.deepcopy(measured["environment"]) | {"python": "3.12.1"}
    result = cost.compare(measured, _baseline())
    assert not result.comparable
    assert not result.failures
    assert "3.11" in result.text()
    assert "3.12" in result.text()


def test_changed_packages_are_named() -> None:
    measured = _measurement(_cell(1000.0), _cell(600.0, gated=False))
    measured["environment"]["packages"] = {"mcp": "2.4.0"}
    result = cost.compare(measured, _baseline())
    assert any("mcp 2.3.0 -> 2.4.0" in note for note in result.notes)
