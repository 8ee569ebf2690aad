"""The deterministic cost of one MCP `tools/call`, and the guard that keeps it from growing unnoticed.

    python -m benchmarks.cost                    # measure, compare with the baseline; exit 1 if it grew
    python -m benchmarks.cost --update-baseline  # measure and rewrite benchmarks/results/cost-baseline.json
    python -m benchmarks.cost --instructions     # also CPU instructions per call (valgrind's callgrind)

What is measured: a stateless `tools/call` of `demo_echo` (no upstream call; cells
`<app>/<era>`) and of `github_get_issue` (one upstream GET of the 5 KB fixture issue,
answered in-process by an `httpx.MockTransport` handed to each app through its public
seam; cells `<app>/github/<era>`), protocol 2026-07-28 and 2025-11-25, sent in-process
through the ASGI interface (no sockets) to three apps:
the bare MCP SDK (`sdk`, for reference), core's MCP app (`core`) and the
reference server's app (`server`); see `benchmarks._inprocess`. Each app runs in a
fresh interpreter (`benchmarks._costworker`) with `PYTHONHASHSEED=0`, no `SAGEMCP_*`
settings, and clocks that advance per reading (`benchmarks._counting.fake_clocks`).

The figures, per call: Python function calls (including coroutine resumptions), calls
of built-in functions, and Python lines executed, counted only in the tasks that serve
the requests. They do not depend on the machine or its load: the same code, Python and
packages give the same numbers on every run, so a change in them is a change in the code
path. The guard (`benchmarks/test_cost.py`, and this command without options) fails when
a figure of `core` or `server` grew by more than the margin (10 %) over the baseline,
and says which packages and functions grew; `sdk` is reported, not gated, and shows
whether a change came from the SDK or another dependency.

`--instructions` runs the same calls under `valgrind --tool=callgrind` and reports
instructions per call, interpreter and event loop included. They are nearly but not
exactly deterministic and depend on the CPU, the C library and the Python build: a
companion figure, never in the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from ._costworker import CELLS
from ._counting import METRICS
from ._inprocess import KINDS, LABELS

ROOT = Path(__file__).resolve().parent.parent
BASELINE = Path(__file__).resolve().parent / "results" / "cost-baseline.json"
ERAS = ("2026-07-28", "2025-11-25")
GATED = ("core", "server")
MARGIN = 0.10
CALLS = 100
WARMUP = 20
PACKAGES = (
    "mcp",
    "sagemcp-core",
    "sagemcp-server",
    "starlette",
    "anyio",
    "httpx",
    "pydantic",
    "pydantic-core",
    "sqlalchemy",
    "prometheus-client",
    "uvicorn",
)
_LABELS = {"python_calls": "Python calls", "c_calls": "built-in calls", "lines": "lines"}


class CostError(RuntimeError):
    pass


def environment() -> dict[str, Any]:
    """What the counts depend on: the interpreter and the packages on the call path."""
    versions: dict[str, str | None] = {}
    for dist in PACKAGES:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "packages": versions,
    }


def worker_environment() -> dict[str, str]:
    """This environment without what would change the call path or its counts between runs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAGEMCP_")}
    env = {k: v for k, v in env.items() if not k.startswith("PYTHON") or k == "PYTHONPATH"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env["PYTHONHASHSEED"] = "0"
    env["SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS"] = "1"
    return env


def _worker(kind: str, out: Path, calls: int, warmup: int, mode: str, prefix: list[str] | None = None) -> None:
    cmd = [
        *(prefix or []),
        sys.executable,
        "-m",
        "benchmarks._costworker",
        *("--app", kind, "--out", str(out), "--calls", str(calls), "--warmup", str(warmup), "--mode", mode),
    ]
    done = subprocess.run(cmd, cwd=ROOT, env=worker_environment(), capture_output=True, text=True, check=False)
    if done.returncode != 0 or not out.exists():
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-25:])
        raise CostError(f"measuring {kind} failed (exit {done.returncode}):\n{tail}")


def measure(kinds: tuple[str, ...] = KINDS, calls: int = CALLS, warmup: int = WARMUP) -> dict[str, Any]:
    """Count every cell of `kinds`; returns {"calls", "warmup", "environment", "cells": {"core/2026-07-28": ...}}.

    Cell ids: `<app>/<era>` for the echo tool, `<app>/github/<era>` for `github_get_issue`.
    """
    cells: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="sagemcp-cost-") as tmp:
        for kind in kinds:
            out = Path(tmp) / f"{kind}.json"
            _worker(kind, out, calls, warmup, "count")
            result = json.loads(out.read_text())
            for name, cell in result["cells"].items():
                cells[f"{kind}/{name}"] = {
                    "app": kind,
                    "era": name.rsplit("/", 1)[-1],
                    "tool": name.split("/", 1)[0] if "/" in name else "echo",
                    "label": result["label"],
                    "gated": kind in GATED,
                    "totals": cell["totals"],
                    "per_call": {m: cell["totals"][m] / calls for m in METRICS},
                    "by_package": {p: {m: v[m] / calls for m in METRICS} for p, v in cell["by_package"].items()},
                    "functions": {f: {m: v[m] / calls for m in METRICS} for f, v in cell["functions"].items()},
                }
    return {"calls": calls, "warmup": warmup, "environment": environment(), "cells": cells}


def instructions(kinds: tuple[str, ...] = KINDS, calls: int = 50, warmup: int = 10) -> dict[str, dict[str, float]]:
    """CPU instructions per call of every cell of `kinds`, from callgrind; {cell id: {"instructions": n}}."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise CostError("valgrind is not installed (Debian/Ubuntu: apt-get install -y valgrind)")
    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="sagemcp-callgrind-") as tmp:
        for kind in kinds:
            dumps = Path(tmp) / kind
            dumps.mkdir()
            prefix = [
                valgrind,
                "--tool=callgrind",
                "--dump-before=getppid",  # the worker calls os.getppid() around each era's calls
                f"--callgrind-out-file={dumps / 'callgrind.out'}",
            ]
            _worker(kind, Path(tmp) / f"{kind}.json", calls, warmup, "markers", prefix)
            # Dumps .1, .2, ...: start and warm-up | cell 1's calls | warm-up | cell 2's calls ...; the last: the exit.
            numbered = sorted(dumps.glob("callgrind.out.*"), key=lambda p: int(p.suffix[1:]))
            totals = [_callgrind_total(p) for p in numbered]
            windows = totals[1::2]
            if len(windows) < len(CELLS):
                raise CostError(f"callgrind wrote {len(numbered)} dumps for {kind}, expected {2 * len(CELLS)}")
            for (name, _, _), total in zip(CELLS, windows, strict=False):
                out[f"{kind}/{name}"] = {"instructions": total / calls}
    return out


def _callgrind_total(path: Path) -> int:
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("totals:") or line.startswith("summary:"):
            return int(line.split()[1])
    raise CostError(f"no totals in {path}")


# -- baseline ----------------------------------------------------------------------------------


def baseline_document(measured: dict[str, Any], margin: float = MARGIN) -> dict[str, Any]:
    """What `--update-baseline` writes: per cell its per-call figures, by package and by function.

    Functions are `name: [python_calls, c_calls, lines]` per call, to keep the file small.
    """
    cells = {}
    for cell_id, cell in measured["cells"].items():
        cells[cell_id] = {
            "gated": cell["gated"],
            "per_call": {m: round(v, 2) for m, v in cell["per_call"].items()},
            "by_package": {p: {m: round(x, 2) for m, x in v.items()} for p, v in cell["by_package"].items()},
            "functions": {f: [round(v[m], 2) for m in METRICS] for f, v in cell["functions"].items()},
        }
    return {
        "about": (
            "Deterministic per-call cost of a stateless tools/call of demo_echo (no upstream call; cells "
            "<app>/<era>) and of github_get_issue (one upstream GET answered in-process; <app>/github/<era>), "
            "in-process through ASGI. Written by `python -m benchmarks.cost --update-baseline`; checked by "
            "benchmarks/test_cost.py. See docs/performance.md."
        ),
        "environment": measured["environment"],
        "calls": measured["calls"],
        "warmup": measured["warmup"],
        "margin": margin,
        "cells": cells,
    }


def dumps_baseline(document: dict[str, Any]) -> str:
    """The baseline as JSON, one function per line (so that a diff shows which functions changed)."""
    text = json.dumps(document, indent=1)
    return re.sub(r"\[\s+([-\d.e]+),\s+([-\d.e]+),\s+([-\d.e]+)\s+\]", r"[\1, \2, \3]", text) + "\n"


def _function_figures(base: dict[str, Any], name: str) -> dict[str, float] | None:
    figures = base["functions"].get(name)
    if figures is None:
        return None
    return dict(zip(METRICS, figures, strict=True)) if isinstance(figures, list) else dict(figures)


def load_baseline(path: Path = BASELINE) -> dict[str, Any]:
    try:
        baseline: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise CostError(
            f"no baseline at {path}: write one with `python -m benchmarks.cost --update-baseline`"
        ) from None
    return baseline


@dataclass
class Comparison:
    failures: list[str] = field(default_factory=list)
    """One line per gated figure that grew by more than the margin."""
    notes: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    """What grew, for the failures: packages and functions."""
    comparable: bool = True
    """False when the interpreter differs from the baseline's (the counts are not comparable then)."""

    def text(self) -> str:
        return "\n".join([*self.failures, *self.details, *self.notes])


def _pct(new: float, old: float) -> str:
    return "new" if old == 0 else f"{100 * (new / old - 1):+.1f} %"


def _growth(current: dict[str, Any], base: dict[str, Any], limit: int) -> list[str]:
    """The packages and functions whose lines (then calls) per call grew most, current against baseline."""
    out = []
    rows = []
    for name in set(current["by_package"]) | set(base["by_package"]):
        new = current["by_package"].get(name, {}).get("lines", 0.0)
        old = base["by_package"].get(name, {}).get("lines", 0.0)
        if new - old > 0.5:
            rows.append((new - old, name, new, old))
    if rows:
        out.append(
            "    packages (lines per call): "
            + ", ".join(f"{name} {old:,.1f} -> {new:,.1f}" for _, name, new, old in sorted(rows, reverse=True)[:limit])
        )
    rows = []
    for name, figures in current["functions"].items():
        old_figures = _function_figures(base, name)
        old = old_figures["lines"] if old_figures else 0.0
        if figures["lines"] - old > 0.5:
            rows.append((figures["lines"] - old, name, figures["lines"], old_figures is None))
    if rows:
        out.append("    functions (lines per call):")
        for delta, name, new, unlisted in sorted(rows, reverse=True)[:limit]:
            before = "not run before" if unlisted else f"{new - delta:,.1f}"
            out.append(f"      {name}: {before} -> {new:,.1f}")
    return out


def compare(
    measured: dict[str, Any],
    baseline: dict[str, Any],
    margin: float | None = None,
    apps: tuple[str, ...] | None = None,
) -> Comparison:
    """`measured` against `baseline`: a failure for every gated figure that grew by more than the margin.

    `apps` limits the comparison to those apps' cells (all of the baseline's by default).
    """
    margin = baseline.get("margin", MARGIN) if margin is None else margin
    result = Comparison()
    env, base_env = measured["environment"], baseline["environment"]
    here = (env["implementation"], env["python"].rsplit(".", 1)[0])
    there = (base_env["implementation"], base_env["python"].rsplit(".", 1)[0])
    if here != there:
        result.comparable = False
        result.notes.append(
            f"the baseline was counted on {' '.join(there)}, this is {' '.join(here)}: counts of different "
            "interpreters are not comparable; regenerate it with `python -m benchmarks.cost --update-baseline`"
        )
        return result
    if measured["calls"] != baseline["calls"] or measured["warmup"] != baseline["warmup"]:
        result.notes.append(
            f"measured {measured['calls']} calls after {measured['warmup']} warm-up calls; the baseline "
            f"{baseline['calls']} after {baseline['warmup']}"
        )
    for cell_id, base in baseline["cells"].items():
        if apps is not None and cell_id.split("/", 1)[0] not in apps:
            continue
        current = measured["cells"].get(cell_id)
        if current is None:
            if base["gated"]:
                result.failures.append(f"{cell_id}: not measured (the app could not be built?)")
            continue
        grew = []
        for metric in METRICS:
            new, old = current["per_call"][metric], base["per_call"][metric]
            if old > 0 and new / old - 1 > margin:
                grew.append(f"{_LABELS[metric]} {old:,.1f} -> {new:,.1f} ({_pct(new, old)})")
            elif old > 0 and new / old - 1 < -margin:
                result.notes.append(
                    f"{cell_id}: {_LABELS[metric]} fell {old:,.1f} -> {new:,.1f} ({_pct(new, old)}); "
                    "`python -m benchmarks.cost --update-baseline` locks the gain in"
                )
        if not grew:
            continue
        line = f"{cell_id}: per tools/call, " + "; ".join(grew) + f" (margin {100 * margin:.0f} %)"
        if base["gated"]:
            result.failures.append(line)
            result.details.append(f"  what grew in {cell_id}:")
            result.details += _growth(current, base, 8)
        else:
            result.notes.append(line + " — not gated; a dependency changed?")
    changed = {
        k: (base_env["packages"].get(k), v) for k, v in env["packages"].items() if base_env["packages"].get(k) != v
    }
    if changed:
        result.notes.append(
            "packages differ from the baseline's: "
            + ", ".join(f"{k} {old} -> {new}" for k, (old, new) in sorted(changed.items()))
            + " (if the growth comes from them, regenerate the baseline)"
        )
    return result


# -- report ------------------------------------------------------------------------------------


def table(
    measured: dict[str, Any], baseline: dict[str, Any] | None, counted: dict[str, dict[str, float]] | None = None
) -> str:
    """The figures per cell, with the change against the baseline and the cost on top of the SDK."""
    lines = [
        f"per tools/call (<app>/<era>: demo_echo; <app>/github/<era>: github_get_issue, one upstream GET), "
        f"{measured['calls']} calls after {measured['warmup']} warm-up calls; "
        f"Python {measured['environment']['python']}",
        "",
        f"{'cell':26s} {'Python calls':>13s} {'built-in':>10s} {'lines':>10s}  {'lines vs baseline':>18s}  "
        f"{'lines over SDK':>14s}" + (f"  {'instructions':>13s}" if counted else ""),
    ]
    for cell_id, cell in measured["cells"].items():
        per = cell["per_call"]
        base = (baseline or {}).get("cells", {}).get(cell_id)
        vs = _pct(per["lines"], base["per_call"]["lines"]) if base else "–"
        sdk = measured["cells"].get("sdk/" + cell_id.split("/", 1)[1])
        over = f"{per['lines'] - sdk['per_call']['lines']:+,.1f}" if sdk and cell["app"] != "sdk" else ""
        line = (
            f"{cell_id:26s} {per['python_calls']:13,.1f} {per['c_calls']:10,.1f} {per['lines']:10,.1f}  "
            f"{vs:>18s}  {over:>14s}"
        )
        if counted:
            n = counted.get(cell_id, {}).get("instructions")
            line += f"  {'' if n is None else f'{n:13,.0f}'}"
        lines.append(line)
    lines += [
        "",
        "apps: "
        + "; ".join(f"{k}: {LABELS[k]}" for k in KINDS if any(c["app"] == k for c in measured["cells"].values())),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.cost", description=__doc__.splitlines()[0])
    p.add_argument("--update-baseline", action="store_true", help=f"rewrite {BASELINE.relative_to(ROOT)}")
    p.add_argument("--instructions", action="store_true", help="also instructions per call with callgrind (slow)")
    p.add_argument("--apps", default=",".join(KINDS), help=f"comma-separated, of {', '.join(KINDS)} (default all)")
    p.add_argument("--baseline", type=Path, default=BASELINE)
    p.add_argument("--json", type=Path, help="also write the measurement here")
    args = p.parse_args(argv)
    kinds = tuple(k for k in args.apps.split(",") if k)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        p.error(f"--apps: unknown {', '.join(unknown) or '(none given)'}; expected some of {', '.join(KINDS)}")
    if args.update_baseline and set(kinds) != set(KINDS):
        p.error("--update-baseline measures every app: leave --apps out")
    try:
        measured = measure(kinds)
        counted = instructions(kinds) if args.instructions else None
    except CostError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        args.json.write_text(json.dumps({**measured, "instructions": counted}, indent=1) + "\n")
    if args.update_baseline:
        args.baseline.write_text(dumps_baseline(baseline_document(measured)))
        print(table(measured, None, counted))
        print(f"\nwrote {args.baseline}")
        return 0
    try:
        baseline = load_baseline(args.baseline)
    except CostError as exc:
        print(table(measured, None, counted))
        print(f"\n{exc}")
        return 1
    print(table(measured, baseline, counted))
    result = compare(measured, baseline, apps=kinds)
    print()
    print(result.text() or f"within {100 * baseline.get('margin', MARGIN):.0f} % of the baseline")
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main())
