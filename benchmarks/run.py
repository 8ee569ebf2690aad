"""Run the benchmark: floor, bare MCP SDK and sagemcp side by side, every cell, one machine, one run.

    python -m benchmarks.run            # the full run (about 30 minutes)
    python -m benchmarks.run --quick    # one short repeat of every cell (a few minutes)
    python -m benchmarks.run --only 'sagemcp-core/2026-07-28/tools-call/*' --duration 5

A cell is target x protocol era x method x concurrency. Eras: `2026-07-28`
(stateless by nature), `2025-11-25` (stateless, JSON responses) and
`2025-11-25-session` (stateful: `initialize` once, then every request carries the
`Mcp-Session-Id`; answers are SSE events, as sagemcp's stateful mode answers).
Methods: `tools/list`, `tools/call` (`github_get_issue`, one upstream GET) and `echo`
(`demo_echo`, no upstream call).

Every target gets the same tuning (`targets/_tuning.py`: uvicorn settings, `gc.freeze()`
once started, httpcore's default network backend for the upstream client). Each
repeat starts every server afresh (pinned to one CPU) and measures the targets
interleaved, cell by cell (floor, SDK, sagemcp..., then the next cell), so that the
ratios of one repeat come from back-to-back measurements. Before measuring, each
cell's request is checked to return a successful JSON-RPC result, then warmed up.
The report gives medians, per-repeat ratios, CPU per call on top of the SDK, and flags
a repeat whose CPU per call departs from the other repeats' median by more than 25 %.
Results go to benchmarks/results/<timestamp>.json and .md; full runs (3 or more
repeats, not --quick) also to latest.md / latest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import fnmatch
import json
import os
import secrets
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import allow_loopback_upstreams

from . import mcp_requests as mr
from ._harness import (
    ROOT,
    HarnessError,
    Pinning,
    Proc,
    cpu_busy,
    ensure_wrk,
    free_port,
    http_get,
    machine,
    run_wrk,
    start,
    wait_ready,
)
from .targets import _tuning
from .targets._fixtures import ECHO_PATH, MCP_PATH, TENANT

RESULTS = Path(__file__).resolve().parent / "results"
ERAS = ("2026-07-28", "2025-11-25", "2025-11-25-session")
METHODS = ("tools/list", "tools/call", mr.ECHO)
METHOD_LABELS = {"tools/list": "tools/list", "tools/call": "tools/call (github_get_issue)", mr.ECHO: "tools/call echo"}
CONCURRENCY = (1, 32)
TARGET_RATIO = 0.8
OUTLIER_LIMIT = 0.25
"""A repeat is flagged when its CPU per call departs from the median of the other repeats by more than this."""


# -- targets ---------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    kind: str
    """floor, sdk or sagemcp."""
    description: str
    store: str = "none"
    unavailable: str | None = None


def _sql_reason() -> str | None:
    from .provision import sql_available

    return sql_available()


def _server_reason() -> str | None:
    import importlib.util

    if importlib.util.find_spec("sagemcp_server") is None:
        return "sagemcp-server is not installed"
    if importlib.util.find_spec("sagemcp_server.cli") is None:
        return "sagemcp-server has no CLI yet (sagemcp_server.cli); `sagemcp serve` cannot be started"
    if importlib.util.find_spec("sagemcp_github") is None:
        return "sagemcp-connector-github is not installed: `sagemcp serve` would have no github connector"
    return _sql_reason()


def all_targets() -> list[Target]:
    from ._postgres import unavailable_reason as pg_reason
    from .targets._connector import connector_class

    connector = connector_class()[1]
    core = f"create_mcp_app + {connector}, API keys, audit + metrics observer"
    sql = _sql_reason()
    server = _server_reason()
    pg = pg_reason()
    return [
        Target("floor", "floor", "bare Starlette endpoint: json.loads, same result, same upstream GET (httpx)"),
        Target("sdk", "sdk", "MCP SDK low-level Server, stateless JSON (SSE when stateful), same upstream GET"),
        Target("sagemcp-core", "sagemcp", f"{core}; MemoryStore", "memory"),
        Target("sagemcp-core-sqlite", "sagemcp", f"{core}; the server's SqlStore on SQLite", "sqlite", sql),
        Target(
            "sagemcp-core-postgres", "sagemcp", f"{core}; the server's SqlStore on PostgreSQL", "postgres", sql or pg
        ),
        Target(
            "sagemcp-server-sqlite",
            "sagemcp",
            f"`sagemcp serve` (reference server), SQLite; {connector}",
            "sqlite",
            server,
        ),
        Target(
            "sagemcp-server-postgres",
            "sagemcp",
            f"`sagemcp serve` (reference server), PostgreSQL; {connector}",
            "postgres",
            server or pg,
        ),
    ]


# -- cells -----------------------------------------------------------------------------------


@dataclass
class Cell:
    target: str
    era: str
    method: str
    concurrency: int
    runs: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    response_bytes: int | None = None

    @property
    def id(self) -> str:
        return f"{self.target}/{self.era}/{self.method.replace('/', '-')}/c{self.concurrency}"

    @property
    def stateful(self) -> bool:
        return self.era.endswith("-session")

    @property
    def protocol(self) -> str:
        return self.era.removesuffix("-session")


def select_cells(
    targets: list[Target], only: list[str], concurrency: tuple[int, ...], echo_unavailable: str | None = None
) -> list[Cell]:
    methods = [m for m in METHODS if m != mr.ECHO or echo_unavailable is None]
    cells = [
        Cell(t.name, era, method, c)
        for t in targets
        if t.unavailable is None
        for era in ERAS
        for method in methods
        for c in concurrency
    ]
    if only:
        cells = [c for c in cells if any(fnmatch.fnmatch(c.id, pattern) for pattern in only)]
    return cells


# -- running servers -------------------------------------------------------------------------


@dataclass
class Context:
    workdir: Path
    pinning: Pinning
    upstream_url: str
    upstream_port: int
    catalog_path: Path
    catalog: list[dict[str, Any]]
    loop: str
    http: str
    secret_keys: str = field(default_factory=lambda: _secret_key())
    databases: dict[str, str] = field(default_factory=dict)
    """store -> SQL URL, provisioned."""
    keys: dict[str, str] = field(default_factory=dict)
    """store -> the bench tenant's API key."""
    echo_catalog_path: Path | None = None
    """The echo connector's tools/list JSON; None when no echo cells run (then no target serves the echo path)."""
    echo_catalog: list[dict[str, Any]] = field(default_factory=list)
    network_backend: str = "sagemcp"
    """`httpcore`: every target on httpcore's default network backend (equal peers, what `run` uses);
    `sagemcp`: the sagemcp targets keep `UpstreamClient`'s own (sagemcp as shipped)."""


def _secret_key() -> str:
    from sagemcp.platform import SecretBox

    return SecretBox.generate_key()


@dataclass
class Running:
    proc: Proc
    port: int
    api_key: str
    ready_seconds: float


def launch(
    target: Target,
    stateful: bool,
    ctx: Context,
    *,
    cache_ttl: float | None = None,
    tenants: int = 1,
    connectors: int = 1,
    ready_timeout: float = 120.0,
) -> Running:
    """Start a target pinned to the server CPU and wait until it serves; `tenants`/`connectors` size a MemoryStore."""
    port = free_port()
    common = ["--port", str(port), "--upstream", ctx.upstream_url, "--loop", ctx.loop, "--http", ctx.http]
    if stateful:
        common.append("--stateful")
    py = [sys.executable, "-m"]
    name = f"{target.name}{'-stateful' if stateful else ''}"
    echo = ctx.echo_catalog_path is not None
    backend = {_tuning.NETWORK_BACKEND_ENV: ctx.network_backend}
    log = ctx.workdir / f"{name}.log"
    logged = log.stat().st_size if log.exists() else 0  # the log is appended to, repeat after repeat
    if target.kind in ("floor", "sdk"):
        cmd = [*py, f"benchmarks.targets.{target.kind}", *common, "--catalog", str(ctx.catalog_path)]
        if echo:
            cmd += ["--echo-catalog", str(ctx.echo_catalog_path)]
        proc = start(name, cmd, cpu=ctx.pinning.server, pinning=ctx.pinning, logdir=ctx.workdir)
        ready = wait_ready(proc, port, "/", need_ok=False, timeout=ready_timeout)
        return Running(proc, port, "no-auth-on-this-target", ready)
    if target.name.startswith("sagemcp-core"):
        cmd = [*py, "benchmarks.targets.sagemcp_core", *common]
        if echo:
            cmd.append("--echo")
        if cache_ttl is not None:
            cmd += ["--cache-ttl", str(cache_ttl)]
        if target.store == "memory":
            keys_file = ctx.workdir / f"keys-{name}.json"
            keys_file.unlink(missing_ok=True)
            cmd += ["--keys-out", str(keys_file), "--tenants", str(tenants), "--connectors", str(connectors)]
        else:
            cmd += ["--store", ctx.databases[target.store], "--secret-keys", ctx.secret_keys]
        proc = start(name, cmd, cpu=ctx.pinning.server, pinning=ctx.pinning, logdir=ctx.workdir, env=backend)
        ready = wait_ready(proc, port, "/healthz", need_ok=True, timeout=ready_timeout)
        _check_backend(proc, ctx, logged)
        key = json.loads(keys_file.read_text())[TENANT] if target.store == "memory" else ctx.keys[target.store]
        return Running(proc, port, key, ready)
    # the reference server, configured the way an operator configures it: environment variables
    env = {
        **_tuning.server_environment(),
        **backend,
        "SAGEMCP_DATABASE_URL": ctx.databases[target.store],
        "SAGEMCP_SECRET_KEYS": ctx.secret_keys,
        "SAGEMCP_ADMIN_KEY": "smcp_" + secrets.token_urlsafe(32),
        "SAGEMCP_HOST": "127.0.0.1",
        "SAGEMCP_PORT": str(port),
        "SAGEMCP_WORKERS": "1",
        "SAGEMCP_LOG_LEVEL": "warning",
        "SAGEMCP_MCP_STATEFUL": "true" if stateful else "false",
        "SAGEMCP_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    if cache_ttl is not None:
        env["SAGEMCP_CACHE_TTL"] = str(cache_ttl)
    cmd = [*py, "benchmarks.targets.sagemcp_server"]  # `sagemcp serve`, with the network-backend switch
    proc = start(name, cmd, cpu=ctx.pinning.server, pinning=ctx.pinning, logdir=ctx.workdir, env=env)
    ready = wait_ready(proc, port, "/readyz", need_ok=True, timeout=ready_timeout)
    _check_backend(proc, ctx, logged)
    return Running(proc, port, ctx.keys[target.store], ready)


def _check_backend(proc: Proc, ctx: Context, offset: int) -> None:
    """A sagemcp target asked for httpcore's default backend must say it took it (else it would be uneven);
    `offset`: where this process's part of its log starts."""
    if ctx.network_backend != "httpcore":
        return
    try:
        log = proc.log.read_bytes()[offset:].decode(errors="replace")
    except OSError:
        log = ""
    if _tuning.PLAIN_BACKEND_MARKER not in log:
        proc.stop()
        raise HarnessError(
            f"{proc.name} did not take the plain upstream transport (no line {_tuning.PLAIN_BACKEND_MARKER!r} in "
            "its log): it would run on sagemcp's own network backend while the SDK runs on httpcore's; see "
            "benchmarks/targets/sagemcp_server.py"
        )


def upstream_count(ctx: Context) -> int:
    return int(http_get(ctx.upstream_port, "/__stats")[1])


def measure(
    cell: Cell, running: Running, spec: Path, expect: str, duration: float, ctx: Context, repeat: int = 0
) -> dict[str, Any]:
    proc = running.proc
    peak_reset = proc.reset_peak()
    cpu0, busy0, up0 = proc.cpu_seconds(), cpu_busy(), upstream_count(ctx)
    wrk = run_wrk(
        running.port, MCP_PATH, spec, expect, connections=cell.concurrency, duration=duration, pinning=ctx.pinning
    )
    cpu1, busy1, up1 = proc.cpu_seconds(), cpu_busy(), upstream_count(ctx)
    requests = max(1, wrk["requests"])
    seconds = wrk["duration_us"] / 1e6
    server_cpu = cpu1 - cpu0
    run: dict[str, Any] = {
        "repeat": repeat,
        "calls_per_s": wrk["requests"] / seconds,
        "p50_ms": wrk["latency_us"]["p50"] / 1000,
        "p90_ms": wrk["latency_us"]["p90"] / 1000,
        "p99_ms": wrk["latency_us"]["p99"] / 1000,
        "max_ms": wrk["latency_us"]["max"] / 1000,
        "cpu_ms_per_call": server_cpu * 1000 / requests,
        "server_cpu_util": server_cpu / seconds,
        "peak_rss_mb": proc.peak_rss_mb(),
        "peak_rss_since": "measurement" if peak_reset else "process start",
        "requests": wrk["requests"],
        "seconds": seconds,
        "errors": wrk["errors"],
        "bad": wrk["bad"],
        "upstream_calls_per_call": (up1 - up0) / requests,
    }
    if ctx.pinning.server is not None:
        cpu = f"cpu{ctx.pinning.server}"
        busy = (busy1[cpu][0] - busy0[cpu][0]) / max(1, busy1[cpu][1] - busy0[cpu][1])
        run["foreign_cpu_on_server_core"] = round(max(0.0, busy - run["server_cpu_util"]), 3)
    problems = [f"{k} errors: {v}" for k, v in wrk["errors"].items() if v]
    if wrk["bad"]:
        problems.append(f"{wrk['bad']} bad responses, e.g. {wrk['bad_sample']!r}")
    # Little's law: with every connection busy, mean latency x throughput = connections. Much less means
    # some connections stopped getting answers (stuck requests), which wrk does not count as errors.
    occupancy = wrk["latency_us"]["mean"] / 1e6 * run["calls_per_s"]
    run["occupancy"] = round(occupancy / cell.concurrency, 3)
    # (Requests still in flight when wrk stops are not counted, which lowers the estimate when latency is a
    # sizeable part of the run; the check is skipped then.)
    if wrk["latency_us"]["mean"] / 1e6 < seconds / 4 and occupancy < 0.5 * cell.concurrency:
        problems.append(f"only {occupancy:.1f} of {cell.concurrency} connections busy on average (stuck requests?)")
    if cell.method == "tools/call" and run["upstream_calls_per_call"] < 0.95:
        problems.append(f"only {run['upstream_calls_per_call']:.2f} upstream calls per tools/call")
    if cell.method == mr.ECHO and run["upstream_calls_per_call"] > 0.01:
        problems.append(f"{run['upstream_calls_per_call']:.2f} upstream calls per echo call (expected none)")
    if problems:
        run["invalid"] = "; ".join(problems)
    return run


def run_cell(cell: Cell, running: Running, ctx: Context, args: argparse.Namespace, repeat: int) -> None:
    """Check the cell's request, warm up, measure once (one repeat), and print the line."""
    try:
        path = ECHO_PATH if cell.method == mr.ECHO else MCP_PATH
        catalog = ctx.echo_catalog if cell.method == mr.ECHO else ctx.catalog
        session = mr.open_session(running.port, running.api_key, path) if cell.stateful else None
        request = mr.build(cell.method, cell.protocol, running.api_key, catalog, session)
        cell.response_bytes = mr.verify(running.port, request, cell.method, len(ctx.catalog))
        spec = ctx.workdir / f"{cell.id.replace('/', '_')}.req"
        spec.write_bytes(request.spec())
        if args.warmup > 0:
            run_wrk(
                running.port,
                MCP_PATH,
                spec,
                request.expect,
                connections=cell.concurrency,
                duration=args.warmup,
                pinning=ctx.pinning,
            )
        run = measure(cell, running, spec, request.expect, args.duration, ctx, repeat)
        cell.runs.append(run)
        flag = f"  INVALID: {run['invalid']}" if "invalid" in run else ""
        print(
            f"  {cell.id:52s} {run['calls_per_s']:8.0f} calls/s  p50 {run['p50_ms']:7.2f} ms  "
            f"p99 {run['p99_ms']:7.2f} ms  cpu {run['cpu_ms_per_call']:6.2f} ms/call  "
            f"rss {run['peak_rss_mb']:6.1f} MB{flag}",
            flush=True,
        )
    except (mr.VerificationError, HarnessError, OSError, ValueError) as exc:
        cell.failures.append(f"repeat {repeat + 1}: {type(exc).__name__}: {exc}")
        print(f"  ! {cell.id}: {type(exc).__name__}: {exc}", flush=True)


def cell_keys(cells: list[Cell]) -> list[tuple[str, str, int]]:
    """(era, method, concurrency) of `cells`, each once, in the order of the report."""
    keys = {(c.era, c.method, c.concurrency) for c in cells}
    return sorted(keys, key=lambda k: (ERAS.index(k[0]), METHODS.index(k[1]), k[2]))


def run_repeat(
    repeat: int,
    targets: list[Target],
    cells: list[Cell],
    ctx: Context,
    args: argparse.Namespace,
    starts: list[dict[str, Any]],
) -> None:
    """One repeat: for stateless then stateful cells, start every target afresh, then measure the targets
    interleaved, cell by cell (A B C, A B C, ...), so that one repeat's ratios come from back-to-back runs."""
    by_id = {(c.target, c.era, c.method, c.concurrency): c for c in cells}
    for stateful in (False, True):
        mode = [c for c in cells if c.stateful == stateful]
        names = [t for t in targets if t.unavailable is None and any(c.target == t.name for c in mode)]
        if not names:
            continue
        running: dict[str, Running] = {}
        try:
            for target in names:
                try:
                    running[target.name] = launch(target, stateful, ctx)
                except HarnessError as exc:
                    for cell in mode:
                        if cell.target == target.name:
                            cell.failures.append(f"repeat {repeat + 1}: server did not start: {exc}")
                    print(f"  ! {target.name}: {exc}", flush=True)
                    continue
                r = running[target.name]
                starts.append(
                    {
                        "target": target.name,
                        "stateful": stateful,
                        "repeat": repeat,
                        "ready_seconds": r.ready_seconds,
                        "rss_mb_at_ready": r.proc.rss_mb(),
                    }
                )
            for era, method, concurrency in cell_keys(mode):
                for target in names:
                    todo = by_id.get((target.name, era, method, concurrency))
                    server = running.get(target.name)
                    if todo is None or server is None:
                        continue
                    if not server.proc.alive():
                        todo.failures.append(f"repeat {repeat + 1}: {target.name} died:\n{server.proc.tail()}")
                        print(f"  ! {target.name} died:\n{server.proc.tail()}", flush=True)
                        del running[target.name]
                        continue
                    run_cell(todo, server, ctx, args, repeat)
        finally:
            for server in running.values():
                server.proc.stop()


# -- summary ---------------------------------------------------------------------------------


def _stats(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def summarize(cell: Cell) -> dict[str, Any]:
    valid = [r for r in cell.runs if "invalid" not in r]
    out: dict[str, Any] = {"valid_runs": len(valid), "runs": len(cell.runs)}
    for key in ("calls_per_s", "p50_ms", "p99_ms", "cpu_ms_per_call", "peak_rss_mb"):
        out[key] = _stats([r[key] for r in valid])
    out["foreign_cpu"] = _stats([r["foreign_cpu_on_server_core"] for r in valid if "foreign_cpu_on_server_core" in r])
    out["outliers"] = outliers(cell.runs)
    return out


def outliers(runs: list[dict[str, Any]], limit: float = OUTLIER_LIMIT) -> list[dict[str, Any]]:
    """The valid repeats whose CPU per call departs from the median of the other valid repeats by more than
    `limit` (a fraction), whatever the `busy` figure says: noise that the busy figure did not see."""
    valid = [r for r in runs if "invalid" not in r]
    flagged = []
    for i, run in enumerate(valid):
        others = [r["cpu_ms_per_call"] for j, r in enumerate(valid) if j != i]
        if not others:
            continue
        typical = statistics.median(others)
        if typical <= 0:
            continue
        departure = run["cpu_ms_per_call"] / typical - 1
        if abs(departure) > limit:
            flagged.append(
                {
                    "repeat": run.get("repeat", i),
                    "cpu_ms_per_call": run["cpu_ms_per_call"],
                    "others_median": typical,
                    "departure": departure,
                }
            )
    return flagged


def versus_sdk(cell: Cell, sdk: Cell | None) -> dict[str, Any]:
    """`cell` against the SDK's cell of the same era, method and concurrency: the ratio of median calls/s, the
    server CPU per call on top of the SDK's (difference of medians, ms), and both again for every repeat in which
    both have a valid run (measured back to back)."""
    if sdk is None or sdk is cell:
        return {}
    mine = {r.get("repeat", 0): r for r in cell.runs if "invalid" not in r}
    theirs = {r.get("repeat", 0): r for r in sdk.runs if "invalid" not in r}
    out: dict[str, Any] = {
        "per_repeat": [
            {
                "repeat": k,
                "ratio": mine[k]["calls_per_s"] / theirs[k]["calls_per_s"],
                "cpu_over_sdk_ms": mine[k]["cpu_ms_per_call"] - theirs[k]["cpu_ms_per_call"],
            }
            for k in sorted(mine.keys() & theirs.keys())
            if theirs[k]["calls_per_s"] > 0
        ]
    }
    if mine and theirs and statistics.median(r["calls_per_s"] for r in theirs.values()) > 0:
        med = statistics.median
        out["ratio"] = med(r["calls_per_s"] for r in mine.values()) / med(r["calls_per_s"] for r in theirs.values())
        out["cpu_over_sdk_ms"] = med(r["cpu_ms_per_call"] for r in mine.values()) - med(
            r["cpu_ms_per_call"] for r in theirs.values()
        )
    return out


def ratios(cells: list[Cell], summaries: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    by_key: dict[tuple[str, str, int], dict[str, float]] = {}
    for cell in cells:
        s = summaries[cell.id]
        if s["calls_per_s"] is not None:
            by_key.setdefault((cell.era, cell.method, cell.concurrency), {})[cell.target] = s["calls_per_s"]["median"]
    out = []
    for (era, method, conc), values in sorted(by_key.items()):
        row: dict[str, Any] = {"era": era, "method": method, "concurrency": conc}
        sdk, floor = values.get("sdk"), values.get("floor")
        if sdk and floor:
            row["sdk_over_floor"] = sdk / floor
        for target, value in values.items():
            if target.startswith("sagemcp") and sdk:
                row[f"{target}_over_sdk"] = value / sdk
        out.append(row)
    return out


def checks(ratio_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The throughput target: sagemcp tools/call >= 0.8 x SDK, every era, concurrency 32."""
    out = []
    for row in ratio_rows:
        if row["method"] != "tools/call" or row["concurrency"] != 32:
            continue
        for key, value in row.items():
            if key.endswith("_over_sdk"):
                out.append(
                    {
                        "check": f"{key.removesuffix('_over_sdk')} tools/call {row['era']} c32 >= {TARGET_RATIO} x sdk",
                        "value": round(value, 3),
                        "pass": value >= TARGET_RATIO,
                    }
                )
    return out


# -- report ----------------------------------------------------------------------------------


def _fmt(stat: dict[str, float] | None, digits: int = 0, spread: bool = True) -> str:
    if stat is None:
        return "–"
    f = f"{{:,.{digits}f}}"
    if not spread or stat["min"] == stat["max"]:
        return f.format(stat["median"])
    return f"{f.format(stat['median'])} ({f.format(stat['min'])}–{f.format(stat['max'])})"


def _busy(stat: dict[str, float] | None) -> str:
    """Other processes' share of the server's CPU during the measurement (0 on an idle machine)."""
    return "" if stat is None else f"{100 * stat['max']:.0f} %"


def _by_repeat(per_repeat: list[dict[str, Any]], key: str, digits: int) -> str:
    return " / ".join(f"{r[key]:.{digits}f}" for r in per_repeat)


def _flags(summary: dict[str, Any]) -> str:
    return "; ".join(
        f"repeat {o['repeat'] + 1}: CPU {100 * o['departure']:+.0f} %" for o in summary.get("outliers") or ()
    )


def markdown(doc: dict[str, Any]) -> str:
    m, s = doc["machine"], doc["settings"]
    tuning = s["tuning"]
    lines = [f"# sagemcp benchmark — {doc['started']}", ""]
    if s["quick"] or s["repeats"] < 3:
        lines += ["> **Trial run** (--quick or fewer than 3 repeats): not a publishable result.", ""]
    lines += [
        "## Machine and settings",
        "",
        f"- CPU: {m['cpu_model']}, {m['cpus']} CPUs ({m['cpus_usable']} usable), {m['memory_gib']} GiB; "
        f"{m['os']}, Linux {m['kernel']}",
        f"- Python {m['python']}; {m['wrk']}",
        "- Packages: " + ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v),
        f"- sniffio importable: {m['sniffio_importable']} (without it httpcore retries `import sniffio` on every "
        "upstream request)",
        f"- Tuning, the same for every target: uvicorn {tuning['uvicorn']}; heap: {tuning['heap']}; upstream "
        f"client: {tuning['network_backend']}",
        f"- Pinning: {s['pinning']}",
        f"- Per cell: {s['warmup']} s warm-up, {s['duration']} s measured, {s['repeats']} repeat(s); each repeat "
        "restarts every server and measures the targets interleaved, cell by cell; medians with (min–max) over "
        f"repeats; a repeat whose CPU per call departs by more than {100 * OUTLIER_LIMIT:.0f} % from the median "
        "of the other repeats is flagged",
        f"- Load average at start {tuple(round(x, 2) for x in m['loadavg_start'])}, at end "
        f"{tuple(round(x, 2) for x in doc['loadavg_end'])}",
        f"- git {m['git']['commit'][:12]}{' (with uncommitted changes)' if m['git']['dirty'] else ''}",
        "",
    ]
    if tuning["network_backend_mode"] != "httpcore":
        lines += [
            "> **Uneven network backends** (--network-backend sagemcp): the sagemcp targets ran on their own "
            "upstream network backend, the SDK and floor on httpcore's; ratios favour sagemcp.",
            "",
        ]
    foreign = [c["summary"]["foreign_cpu"]["max"] for c in doc["cells"] if c["summary"].get("foreign_cpu")]
    if foreign and max(foreign) > 0.05:
        lines += [
            "",
            f"> **Noisy machine**: other processes used up to {100 * max(foreign):.0f} % of the server's CPU "
            "during measurements (column `busy`); these figures are not comparable with an idle machine's.",
            "",
        ]
    flagged = [c for c in doc["cells"] if c["summary"].get("outliers")]
    if flagged:
        lines += [
            f"> **Inconsistent repeats** in {len(flagged)} cell(s) (column `flags`): CPU per call departed by more "
            f"than {100 * OUTLIER_LIMIT:.0f} % from the other repeats'; prefer the per-repeat ratios there.",
            "",
        ]
    lines += [
        "## Targets",
        "",
    ]
    for t in doc["targets"]:
        state = "" if t["unavailable"] is None else f" — **not run**: {t['unavailable']}"
        lines.append(f"- `{t['name']}`: {t['description']}{state}")
    if s.get("echo_unavailable"):
        lines.append(f"- echo cells not run: {s['echo_unavailable']}")
    lines += ["", "## Throughput target (tools/call, concurrency 32, sagemcp ≥ 0.8 × SDK)", ""]
    if doc["checks"]:
        lines += ["| check | ratio | |", "|---|---:|---|"]
        lines += [f"| {c['check']} | {c['value']:.2f} | {'pass' if c['pass'] else '**FAIL**'} |" for c in doc["checks"]]
    else:
        lines.append("No tools/call c32 cells with both sagemcp and SDK results.")
    lines += _cpu_over_sdk_tables(doc["cells"])
    lines += ["", "## Results", ""]
    lines += [
        "calls/s, latency and CPU: median over repeats (min–max). CPU ms/call: server process CPU time "
        "divided by calls; over SDK: minus the SDK's (median). vs SDK: median calls/s over the SDK's; by repeat: "
        "the same from each repeat's back-to-back runs. Peak RSS: VmHWM of the server during the measurement. "
        "bytes: the response body. busy: the most CPU other processes took on the server's core during a repeat. "
        "flags: repeats whose CPU per call departs from the other repeats'.",
        "",
    ]
    cells = doc["cells"]
    for era in ERAS:
        for method in METHODS:
            group = [c for c in cells if c["era"] == era and c["method"] == method]
            if not group:
                continue
            lines += [
                f"### {METHOD_LABELS[method]}, {era}",
                "",
                "| target | conc. | calls/s | p50 ms | p99 ms | CPU ms/call | over SDK | peak RSS MB | vs SDK "
                "| by repeat | bytes | busy | flags |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
            ]
            for c in sorted(group, key=lambda c: (c["concurrency"], c["target_order"])):
                s_ = c["summary"]
                vs = c.get("vs_sdk") or {}
                if s_["calls_per_s"] is None:
                    why = "; ".join(c["failures"])[:160] or "no valid run"
                    lines.append(f"| {c['target']} | {c['concurrency']} | failed: {why} | | | | | | | | | | |")
                    continue
                ratio = "" if vs.get("ratio") is None else f"{vs['ratio']:.2f}"
                over = "" if vs.get("cpu_over_sdk_ms") is None else f"{vs['cpu_over_sdk_ms']:+.2f}"
                lines.append(
                    f"| {c['target']} | {c['concurrency']} | {_fmt(s_['calls_per_s'])} | {_fmt(s_['p50_ms'], 2)} | "
                    f"{_fmt(s_['p99_ms'], 2)} | {_fmt(s_['cpu_ms_per_call'], 2)} | {over} | "
                    f"{_fmt(s_['peak_rss_mb'], 0, spread=False)} | {ratio} | "
                    f"{_by_repeat(vs.get('per_repeat') or [], 'ratio', 2)} | {c['response_bytes'] or ''} | "
                    f"{_busy(s_.get('foreign_cpu'))} | {_flags(s_)} |"
                )
            lines.append("")
    lines += [
        "## Ratios (median calls/s)",
        "",
        "| era | method | conc. | SDK / floor | sagemcp target / SDK |",
        "|---|---|---:|---:|---|",
    ]
    for r in doc["ratios"]:
        sag = ", ".join(f"{k.removesuffix('_over_sdk')} {v:.2f}" for k, v in r.items() if k.endswith("_over_sdk"))
        sof = f"{r['sdk_over_floor']:.2f}" if "sdk_over_floor" in r else "–"
        lines.append(f"| {r['era']} | {METHOD_LABELS[r['method']]} | {r['concurrency']} | {sof} | {sag} |")
    if doc["starts"]:
        lines += [
            "",
            "## Server start",
            "",
            "| target | stateful | repeat | start to ready s | RSS at ready MB |",
            "|---|---|---:|---:|---:|",
        ]
        lines += [
            f"| {x['target']} | {x['stateful']} | {x.get('repeat', 0) + 1} | {x['ready_seconds']:.2f} | "
            f"{x['rss_mb_at_ready']:.0f} |"
            for x in doc["starts"]
        ]
    lines += [
        "",
        "Reproduce: `nox -s bench` (or `python -m benchmarks.run`). What the numbers mean: docs/performance.md.",
        "",
    ]
    return "\n".join(lines)


def _cpu_over_sdk_tables(cells: list[dict[str, Any]]) -> list[str]:
    """Per method: the server CPU ms per call each target spends on top of the SDK, per era and concurrency."""
    lines: list[str] = []
    for method in ("tools/call", mr.ECHO):
        group = [
            c for c in cells if c["method"] == method and (c.get("vs_sdk") or {}).get("cpu_over_sdk_ms") is not None
        ]
        if not group:
            continue
        columns = sorted({(c["era"], c["concurrency"]) for c in group}, key=lambda k: (ERAS.index(k[0]), k[1]))
        targets = sorted({(c["target_order"], c["target"]) for c in group})
        lines += [
            "",
            f"## Server CPU per call on top of the SDK: {METHOD_LABELS[method]} (ms; by repeat)",
            "",
            "| target | " + " | ".join(f"{era} c{conc}" for era, conc in columns) + " |",
            "|---|" + "---:|" * len(columns),
        ]
        index = {(c["target"], c["era"], c["concurrency"]): c for c in group}
        for _, target in targets:
            row = [f"| {target} |"]
            for era, conc in columns:
                c = index.get((target, era, conc))
                if c is None:
                    row.append(" |")
                    continue
                vs = c["vs_sdk"]
                each = _by_repeat(vs.get("per_repeat") or [], "cpu_over_sdk_ms", 2)
                row.append(
                    f" {vs['cpu_over_sdk_ms']:+.2f}{f' ({each})' if len(vs.get('per_repeat') or []) > 1 else ''} |"
                )
            lines.append("".join(row))
    return lines


# -- main ------------------------------------------------------------------------------------


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1 repeat, 3 s per cell, 1 s warm-up")
    p.add_argument("--duration", type=float, help="seconds measured per cell and repeat (default 10)")
    p.add_argument("--warmup", type=float, help="seconds of warm-up per cell and repeat (default 3)")
    p.add_argument("--repeats", type=int, help="repeats (default 3)")
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="GLOB",
        help="cell ids to run, e.g. 'sdk/*/tools-call/c32' (repeatable)",
    )
    p.add_argument("--targets", help="comma-separated target names (default: every available target)")
    p.add_argument("--concurrency", default=",".join(map(str, CONCURRENCY)), help="default 1,32")
    p.add_argument("--no-pin", action="store_true", help="do not pin processes to CPUs")
    p.add_argument("--install-wrk", action="store_true", help="apt-get install wrk when it is missing (root)")
    p.add_argument("--postgres-url", help="use this empty PostgreSQL database instead of a temporary cluster")
    p.add_argument(
        "--loop",
        default=_tuning.LOOP,
        help=f"uvicorn --loop of the floor, SDK and core targets (default {_tuning.LOOP}: what `sagemcp serve` runs)",
    )
    p.add_argument(
        "--http",
        default=_tuning.HTTP,
        help=f"uvicorn --http of the floor, SDK and core targets (default {_tuning.HTTP}: what `sagemcp serve` runs)",
    )
    p.add_argument(
        "--network-backend",
        choices=_tuning.NETWORK_BACKENDS,
        default="httpcore",
        help="httpcore (default): every target's upstream client on httpcore's default network backend; sagemcp: "
        "the sagemcp targets keep UpstreamClient's own backend (as shipped; uneven against the SDK)",
    )
    p.add_argument("--out", type=Path, default=RESULTS, help="results directory (default benchmarks/results)")
    args = p.parse_args(argv)
    args.duration = args.duration or (3.0 if args.quick else 10.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 3.0)
    args.repeats = args.repeats or (1 if args.quick else 3)
    return args


def main(argv: list[str] | None = None) -> int:
    allow_loopback_upstreams()
    args = parse(argv)
    try:
        ensure_wrk(args.install_wrk or os.environ.get("SAGEMCP_BENCH_INSTALL_WRK") == "1")
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    pinning = Pinning.choose(not args.no_pin)
    info = machine(args.loop, args.http)
    if pinning.load is not None:
        os.sched_setaffinity(0, {pinning.load})
    targets = all_targets()
    if args.targets:
        wanted = set(args.targets.split(","))
        unknown = wanted - {t.name for t in targets}
        if unknown:
            print(f"error: unknown targets {sorted(unknown)}", file=sys.stderr)
            return 2
        for t in targets:
            if t.name not in wanted and t.unavailable is None:
                t.unavailable = "not selected (--targets)"
    if (args.loop, args.http) != (_tuning.LOOP, _tuning.HTTP) and any(
        t.name.startswith("sagemcp-server") and t.unavailable is None for t in targets
    ):
        print(
            f"note: `sagemcp serve` always runs its guarded {_tuning.HTTP} protocol on asyncio's selector loop; "
            f"--loop {args.loop} --http {args.http} apply to the other targets only (uneven)",
            flush=True,
        )
    concurrency = tuple(int(c) for c in args.concurrency.split(","))
    from .targets._connector import echo_catalog, echo_connector_class

    echo_unavailable = echo_connector_class()[1] if echo_connector_class()[0] is None else None
    cells = select_cells(targets, args.only, concurrency, echo_unavailable)
    if not cells:
        print("error: no cell selected", file=sys.stderr)
        return 2
    for t in targets:
        print(f"target {t.name}: {'ok' if t.unavailable is None else 'skipped: ' + t.unavailable}", flush=True)

    started = datetime.now(UTC)
    workdir = Path(os.environ.get("SAGEMCP_BENCH_WORKDIR", "/tmp")) / f"sagemcp-bench-{started:%Y%m%dT%H%M%S}"
    workdir.mkdir(parents=True, exist_ok=True)
    from .targets._connector import connector_class, tool_catalog

    catalog = tool_catalog(connector_class()[0])
    catalog_path = workdir / "catalog.json"
    catalog_path.write_text(json.dumps(catalog))
    echo_path: Path | None = None
    echo_tools = echo_catalog() if any(c.method == mr.ECHO for c in cells) else []
    if echo_tools:
        echo_path = workdir / "echo-catalog.json"
        echo_path.write_text(json.dumps(echo_tools))
    upstream_port = free_port()
    upstream = start(
        "fake-upstream",
        [sys.executable, "-m", "benchmarks.targets.fake_upstream", "--port", str(upstream_port)],
        cpu=pinning.load,
        pinning=pinning,
        logdir=workdir,
    )
    starts: list[dict[str, Any]] = []
    try:
        wait_ready(upstream, upstream_port, "/__stats", need_ok=True)
        ctx = Context(
            workdir,
            pinning,
            f"http://127.0.0.1:{upstream_port}",
            upstream_port,
            catalog_path,
            catalog,
            args.loop,
            args.http,
            echo_catalog_path=echo_path,
            echo_catalog=echo_tools,
            network_backend=args.network_backend,
        )
        used = {t.name: t for t in targets if any(c.target == t.name for c in cells)}
        with _databases(used.values(), ctx, args) as problems:
            for name, reason in problems.items():
                used[name].unavailable = reason
                for cell in cells:
                    if cell.target == name:
                        cell.failures.append(reason)
            for repeat in range(args.repeats):
                print(f"repeat {repeat + 1}/{args.repeats}", flush=True)
                run_repeat(repeat, list(used.values()), cells, ctx, args, starts)
    finally:
        upstream.stop()

    order = {t.name: i for i, t in enumerate(targets)}
    summaries = {c.id: summarize(c) for c in cells}
    ratio_rows = ratios(cells, summaries)
    sdk_cells = {(c.era, c.method, c.concurrency): c for c in cells if c.target == "sdk"}
    doc: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": info,
        "loadavg_end": os.getloadavg(),
        "settings": {
            "quick": args.quick,
            "duration": args.duration,
            "warmup": args.warmup,
            "repeats": args.repeats,
            "concurrency": list(concurrency),
            "only": args.only,
            "pinning": pinning.describe(),
            "catalog_tools": len(catalog),
            "echo_unavailable": echo_unavailable,
            "interleaved": True,
            "outlier_limit": OUTLIER_LIMIT,
            "tuning": _tuning.describe(args.loop, args.http, args.network_backend),
        },
        "targets": [
            {
                "name": t.name,
                "kind": t.kind,
                "description": t.description,
                "store": t.store,
                "unavailable": t.unavailable,
            }
            for t in targets
        ],
        "cells": [],
        "ratios": ratio_rows,
        "checks": checks(ratio_rows),
        "starts": starts,
    }
    for c in cells:
        s = summaries[c.id]
        vs = versus_sdk(c, sdk_cells.get((c.era, c.method, c.concurrency)))
        doc["cells"].append(
            {
                "id": c.id,
                "target": c.target,
                "target_order": order[c.target],
                "era": c.era,
                "method": c.method,
                "concurrency": c.concurrency,
                "stateful": c.stateful,
                "response_bytes": c.response_bytes,
                "summary": s,
                "vs_sdk": vs,
                "runs": c.runs,
                "failures": c.failures,
            }
        )
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"{started:%Y-%m-%dT%H%M%S}{'-quick' if args.quick else ''}"
    (args.out / f"{stem}.json").write_text(json.dumps(doc, indent=2) + "\n")
    text = markdown(doc)
    (args.out / f"{stem}.md").write_text(text)
    full = not args.quick and args.repeats >= 3
    if full:  # a trial run never replaces the latest full one
        (args.out / "latest.md").write_text(text)
        (args.out / "latest.json").write_text(json.dumps(doc, indent=2) + "\n")
    also = " (and latest.md)" if full else " (a trial run: latest.md left as it was)"
    print(f"\nwrote {args.out / stem}.json and .md{also}; server logs in {workdir}")
    for check in doc["checks"]:
        print(f"  {'PASS' if check['pass'] else 'FAIL'} {check['check']}: {check['value']:.2f}")
    failed = [c.id for c in cells if not any("invalid" not in r for r in c.runs)]
    if failed:
        print(f"{len(failed)} cell(s) without a valid run: {', '.join(failed[:12])}", file=sys.stderr)
        return 1
    return 0


class _databases:
    """Provision the SQL databases the selected targets need; yields {target: reason} for those that failed."""

    def __init__(self, targets: Any, ctx: Context, args: argparse.Namespace) -> None:
        self.targets = list(targets)
        self.ctx = ctx
        self.args = args
        self._pg: Any = None

    def __enter__(self) -> dict[str, str]:
        from .provision import populate_sql

        problems: dict[str, str] = {}
        stores = {t.store for t in self.targets if t.unavailable is None and t.store in ("sqlite", "postgres")}
        for store in sorted(stores):
            try:
                if store == "sqlite":
                    url = f"sqlite+aiosqlite:///{self.ctx.workdir / 'sagemcp.db'}"
                else:
                    from ._postgres import cluster

                    self._pg = cluster(self.ctx.pinning, self.args.postgres_url)
                    url = self._pg.__enter__()
                started = time.monotonic()
                echo = self.ctx.echo_catalog_path is not None
                keys = asyncio.run(populate_sql(url, self.ctx.secret_keys, 1, 1, self.ctx.upstream_url, echo=echo))
                print(f"provisioned {store} in {time.monotonic() - started:.1f} s", flush=True)
                self.ctx.databases[store] = url
                self.ctx.keys[store] = keys[TENANT]
            except Exception as exc:
                reason = f"could not provision {store}: {type(exc).__name__}: {exc}"
                print(f"  ! {reason}", flush=True)
                problems.update({t.name: reason for t in self.targets if t.store == store})
        return problems

    def __exit__(self, *exc: object) -> None:
        if self._pg is not None:
            self._pg.__exit__(None, None, None)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
