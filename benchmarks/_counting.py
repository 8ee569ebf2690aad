"""Deterministic measures of the work one call does: Python function calls, built-in calls and lines executed.

`WorkCounter` counts, with `sys.setprofile` and `sys.settrace`, only what runs in a
context where `COUNTED` is true: the harness sets it in the task serving a request, so
tasks that request starts (which copy its context) are counted, and the event loop's own
machinery and background tasks (audit writer, cache sweepers) are not. Each count is
attributed to the code object that ran, so a difference can be traced to a module and a
function.

`fake_clocks` makes time a function of the work done: `time.monotonic`, `perf_counter` and
their `_ns` variants advance by one microsecond per reading, from a fixed start, instead
of with the wall clock. Durations, timeouts, histogram buckets and anything else that
branches on elapsed time then come out the same on every run; `time.time` (dates,
expiry against stored timestamps) is left alone.

Counts depend on the Python version and on the installed packages, not on the machine or
its load: the same code gives the same numbers, which is what a CI guard needs.
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import itertools
import sys
import time
from collections.abc import Iterator
from types import CodeType, FrameType
from typing import Any

COUNTED: contextvars.ContextVar[bool] = contextvars.ContextVar("sagemcp_bench_counted", default=False)
METRICS = ("python_calls", "c_calls", "lines")
"""python_calls: every Python function call and every resumption of a coroutine or generator (profile `call`
events); c_calls: calls of built-in functions from Python code; lines: Python lines executed (trace `line`)."""

_CLOCK_START_S = 10_000.0
_CLOCK_STEP_S = 1e-6
_CLOCKS = ("monotonic", "perf_counter")


@contextlib.contextmanager
def fake_clocks() -> Iterator[None]:
    """Replace the duration clocks of the `time` module for the duration of the block (see the module docstring).

    Code that bound a clock at import (`from time import monotonic`) keeps the real one: the
    standard library's `queue` and `threading` do, which keeps worker threads' waits real.
    """
    saved = {name: getattr(time, name) for name in _CLOCKS + tuple(f"{c}_ns" for c in _CLOCKS)}
    for name in _CLOCKS:
        # C-level callables: reading the fake clock adds no Python call to what is counted.
        setattr(time, name, itertools.count(_CLOCK_START_S, _CLOCK_STEP_S).__next__)
        setattr(time, f"{name}_ns", itertools.count(int(_CLOCK_START_S * 1e9), int(_CLOCK_STEP_S * 1e9)).__next__)
    try:
        yield
    finally:
        for name, clock in saved.items():
            setattr(time, name, clock)


def _package(module: str) -> str:
    return module.split(".", 1)[0] or "?"


class WorkCounter:
    """Python-level work done where `COUNTED` is set, by code object (see the module docstring)."""

    def __init__(self) -> None:
        self.python_calls: collections.Counter[CodeType] = collections.Counter()
        self.c_calls: collections.Counter[CodeType] = collections.Counter()
        self.lines: collections.Counter[CodeType] = collections.Counter()
        self._modules: dict[CodeType, str] = {}

    def _profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            if COUNTED.get():
                code = frame.f_code
                self.python_calls[code] += 1
                if code not in self._modules:
                    self._modules[code] = frame.f_globals.get("__name__") or "?"
        elif event == "c_call" and COUNTED.get():
            code = frame.f_code  # the built-in's caller
            self.c_calls[code] += 1
            if code not in self._modules:
                self._modules[code] = frame.f_globals.get("__name__") or "?"

    def _trace(self, frame: FrameType, event: str, arg: Any) -> Any:
        return self._line if COUNTED.get() else None

    def _line(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            self.lines[frame.f_code] += 1
        return self._line

    @contextlib.contextmanager
    def counting(self) -> Iterator[WorkCounter]:
        """Count in this thread for the duration of the block."""
        old_profile, old_trace = sys.getprofile(), sys.gettrace()
        sys.setprofile(self._profile)
        sys.settrace(self._trace)
        try:
            yield self
        finally:
            sys.settrace(old_trace)
            sys.setprofile(old_profile)

    def totals(self) -> dict[str, int]:
        return {metric: sum(getattr(self, metric).values()) for metric in METRICS}

    def _name(self, code: CodeType) -> str:
        return f"{self._modules.get(code, '?')}:{code.co_qualname}"

    def by_package(self) -> dict[str, dict[str, int]]:
        """Totals per top-level module (`sagemcp`, `mcp`, `starlette`, `asyncio`, ...)."""
        out: dict[str, dict[str, int]] = {}
        for metric in METRICS:
            for code, n in getattr(self, metric).items():
                row = out.setdefault(_package(self._modules.get(code, "?")), dict.fromkeys(METRICS, 0))
                row[metric] += n
        return dict(sorted(out.items(), key=lambda kv: -kv[1]["lines"]))

    def by_function(self) -> dict[str, dict[str, int]]:
        """Totals per function (`module:qualname`); code objects of the same name are added up."""
        out: dict[str, dict[str, int]] = {}
        for metric in METRICS:
            for code, n in getattr(self, metric).items():
                row = out.setdefault(self._name(code), dict.fromkeys(METRICS, 0))
                row[metric] += n
        return dict(sorted(out.items(), key=lambda kv: (-kv[1]["lines"], -kv[1]["python_calls"], kv[0])))
