"""The scale check: 10,000 tenants with 3 connectors each, cache expiry, and memory over 100,000 calls.

    python -m benchmarks.scale                 # the full check
    python -m benchmarks.scale --quick         # 1,000 tenants, 5,000 calls: proves the harness

Against the reference server (`sagemcp serve` on SQLite) when it is installed, else
core's app over the server's SQL store, else core over a `MemoryStore`:

1. start to ready (process start until `/readyz` answers 200) and RSS at ready, with
   every tenant in the database;
2. steady-state `tools/call` throughput (2026-07-28, concurrency 32) on one tenant
   and round-robin over `--hot` tenants, against the same server holding one tenant;
3. the first call for a tenant whose cache entries expired (`--ttl` seconds), one
   call at a time over `--expired` tenants: p50 / p99 / max;
4. memory over `--flat-calls` calls spread over `--spread` tenants (RSS sampled
   every few seconds), and over `--sessions` stateful sessions opened and deleted.

Writes benchmarks/results/scale-<timestamp>.json and .md, and scale-latest.md.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import allow_loopback_upstreams

from . import mcp_requests as mr
from ._harness import HarnessError, Pinning, ensure_wrk, free_port, machine, run_wrk, start, wait_ready
from .provision import populate_sql, slug
from .run import RESULTS, Context, Running, Target, all_targets, launch
from .targets._connector import connector_class, tool_catalog
from .targets._fixtures import MCP_PATH, TENANT

TARGETS = {"ready_s": 3.0, "rss_mb": 250.0, "throughput_ratio": 0.9, "expired_p99_ms": 20.0}


@dataclass
class World:
    ctx: Context
    target: Target
    keys: dict[str, str]


def choose_target(preference: str) -> Target:
    targets = {t.name: t for t in all_targets()}
    order = {
        "auto": ["sagemcp-server-sqlite", "sagemcp-core-sqlite", "sagemcp-core"],
        "server": ["sagemcp-server-sqlite"],
        "sqlite": ["sagemcp-core-sqlite"],
        "memory": ["sagemcp-core"],
    }[preference]
    for name in order:
        if targets[name].unavailable is None:
            return targets[name]
    raise HarnessError(
        f"no target available for --store {preference}: " + "; ".join(f"{n}: {targets[n].unavailable}" for n in order)
    )


def provision(ctx: Context, target: Target, tenants: int, connectors: int, name: str) -> dict[str, str]:
    """For SQL targets: a database with `tenants` tenants (ctx.databases['sqlite'] points at it afterwards)."""
    if target.store == "memory":
        return {}
    url = f"sqlite+aiosqlite:///{ctx.workdir / f'{name}.db'}"
    started = time.monotonic()
    keys = asyncio.run(populate_sql(url, ctx.secret_keys, tenants, connectors, ctx.upstream_url))
    print(f"provisioned {tenants} tenants x {connectors} connectors in {time.monotonic() - started:.0f} s", flush=True)
    ctx.databases[f"sqlite:{name}"] = url
    ctx.keys[f"sqlite:{name}"] = keys[TENANT]
    return keys


def start_server(
    world: World, db: str, *, tenants: int, connectors: int, ttl: float | None = None, stateful: bool = False
) -> tuple[Running, dict[str, str]]:
    ctx = world.ctx
    if world.target.store != "memory":
        ctx.databases["sqlite"] = ctx.databases[f"sqlite:{db}"]
        ctx.keys["sqlite"] = ctx.keys[f"sqlite:{db}"]
        running = launch(world.target, stateful, ctx, cache_ttl=ttl)
        return running, world.keys if db == "big" else {TENANT: running.api_key}
    running = launch(
        world.target, stateful, ctx, cache_ttl=ttl, tenants=tenants, connectors=connectors, ready_timeout=600
    )
    name = f"{world.target.name}{'-stateful' if stateful else ''}"
    keys = json.loads((ctx.workdir / f"keys-{name}.json").read_text())
    return running, keys


def throughput(
    running: Running, keys: dict[str, str], tenants: list[str], ctx: Context, duration: float, label: str
) -> dict[str, Any]:
    base = mr.build("tools/call", mr.MODERN, keys[TENANT], ctx.catalog)
    requests = [mr.for_tenant(base, t, keys[t]) for t in tenants]
    for request in requests[:3]:
        mr.verify(running.port, request, "tools/call")
    spec = ctx.workdir / f"scale-{label}.req"
    spec.write_bytes(mr.specs(requests))
    for request in requests:  # fill every tenant's cache entries before measuring
        mr.send(running.port, request)
    run_wrk(running.port, MCP_PATH, spec, base.expect, connections=32, duration=2, pinning=ctx.pinning)
    wrk = run_wrk(running.port, MCP_PATH, spec, base.expect, connections=32, duration=duration, pinning=ctx.pinning)
    if wrk["bad"] or any(wrk["errors"].values()):
        raise HarnessError(f"{label}: bad responses or errors: {wrk['bad']} {wrk['errors']} {wrk['bad_sample']}")
    rate = wrk["requests"] / (wrk["duration_us"] / 1e6)
    print(f"  {label:40s} {rate:8.0f} calls/s  p99 {wrk['latency_us']['p99'] / 1000:7.2f} ms", flush=True)
    return {
        "calls_per_s": rate,
        "p50_ms": wrk["latency_us"]["p50"] / 1000,
        "p99_ms": wrk["latency_us"]["p99"] / 1000,
        "tenants": len(tenants),
    }


class KeepAlive:
    """One keep-alive HTTP/1.1 connection, timing each request."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def timed(self, request: mr.HttpRequest) -> float:
        started = time.perf_counter()
        self.conn.request("POST", request.path, body=request.body, headers=request.headers)
        response = self.conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200 or b'"structuredContent"' not in body:
            raise HarnessError(f"first call failed: {response.status} {body[:200]!r}")
        return elapsed * 1000

    def close(self) -> None:
        self.conn.close()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def expired_first_calls(
    running: Running, keys: dict[str, str], tenants: list[str], ctx: Context, ttl: float
) -> dict[str, Any]:
    base = mr.build("tools/call", mr.MODERN, keys[TENANT], ctx.catalog)
    requests = [mr.for_tenant(base, t, keys[t]) for t in tenants]
    client = KeepAlive(running.port)
    try:
        cold = [client.timed(r) for r in requests]  # never seen: every cache misses
        warm = [client.timed(r) for r in requests[: min(100, len(requests))]]
        time.sleep(ttl + 0.5)
        expired = [client.timed(r) for r in requests]  # cached once, now expired
    finally:
        client.close()

    def stats(values: list[float]) -> dict[str, float]:
        return {
            "n": len(values),
            "p50_ms": statistics.median(values),
            "p99_ms": _pct(values, 99),
            "max_ms": max(values),
        }

    out: dict[str, Any] = {"ttl_s": ttl, "never_seen": stats(cold), "warm": stats(warm), "expired": stats(expired)}
    print(
        f"  first call after expiry: p50 {out['expired']['p50_ms']:.2f} ms, p99 {out['expired']['p99_ms']:.2f} ms "
        f"(warm p50 {out['warm']['p50_ms']:.2f} ms)",
        flush=True,
    )
    return out


def _growth(samples: list[dict[str, float]]) -> dict[str, float]:
    """RSS growth over the second half of the run (the first half is warm-up) and the least-squares slope."""
    half = samples[len(samples) // 2 :]
    if len(half) < 2:
        return {"second_half_growth_mb": 0.0, "slope_kb_per_1000_calls": 0.0}
    xs, ys = [s["calls"] for s in half], [s["rss_mb"] for s in half]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs) or 1.0
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var
    return {"second_half_growth_mb": ys[-1] - ys[0], "slope_kb_per_1000_calls": slope * 1024 * 1000}


def flatness(
    running: Running, keys: dict[str, str], tenants: list[str], ctx: Context, calls: int, chunk_s: float
) -> dict[str, Any]:
    call = mr.build("tools/call", mr.MODERN, keys[TENANT], ctx.catalog)
    listing = mr.build("tools/list", mr.HANDSHAKE, keys[TENANT], ctx.catalog)
    requests = []
    for i, t in enumerate(tenants):
        requests.append(mr.for_tenant(call, t, keys[t]))
        if i % 10 == 0:
            requests.append(mr.for_tenant(listing, t, keys[t]))
    spec = ctx.workdir / "scale-flat.req"
    spec.write_bytes(mr.specs(requests))
    samples = [{"calls": 0, "rss_mb": running.proc.rss_mb(), "t": 0.0}]
    done, started = 0, time.monotonic()
    deadline = started + max(600.0, calls / 20)
    while done < calls and time.monotonic() < deadline:
        wrk = run_wrk(running.port, MCP_PATH, spec, "", connections=32, duration=chunk_s, pinning=ctx.pinning)
        if wrk["bad"] or any(wrk["errors"].values()):
            raise HarnessError(f"flatness: bad responses or errors: {wrk['bad']} {wrk['errors']} {wrk['bad_sample']}")
        done += wrk["requests"]
        samples.append({"calls": done, "rss_mb": running.proc.rss_mb(), "t": time.monotonic() - started})
    out = {
        "calls": done,
        "tenants": len(tenants),
        "samples": samples,
        **_growth(samples),
        "peak_rss_mb": running.proc.peak_rss_mb(),
    }
    print(
        f"  {done} calls over {len(tenants)} tenants: RSS {samples[0]['rss_mb']:.0f} -> {samples[-1]['rss_mb']:.0f} MB,"
        f" second half {out['second_half_growth_mb']:+.1f} MB",
        flush=True,
    )
    return out


def session_churn(running: Running, keys: dict[str, str], ctx: Context, sessions: int) -> dict[str, Any]:
    key = keys[TENANT]
    samples = [{"sessions": 0, "rss_mb": running.proc.rss_mb()}]
    for i in range(1, sessions + 1):
        session = mr.open_session(running.port, key)
        request = mr.build("tools/call", mr.HANDSHAKE, key, ctx.catalog, session)
        mr.verify(running.port, request, "tools/call")
        conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=30)
        conn.request(
            "DELETE",
            MCP_PATH,
            headers={"Authorization": f"Bearer {key}", "Mcp-Session-Id": session, "MCP-Protocol-Version": mr.HANDSHAKE},
        )
        conn.getresponse().read()
        conn.close()
        if i % max(1, sessions // 20) == 0:
            samples.append({"sessions": i, "rss_mb": running.proc.rss_mb()})
    half = samples[len(samples) // 2 :]
    out = {"sessions": sessions, "samples": samples, "second_half_growth_mb": half[-1]["rss_mb"] - half[0]["rss_mb"]}
    print(
        f"  {sessions} sessions opened, used and deleted: RSS {samples[0]['rss_mb']:.0f} -> "
        f"{samples[-1]['rss_mb']:.0f} MB",
        flush=True,
    )
    return out


def markdown(doc: dict[str, Any]) -> str:
    s, r = doc["settings"], doc["results"]
    lines = [f"# sagemcp scale check — {doc['started']}", ""]
    if s["quick"]:
        lines += ["> **Trial run** (--quick): not a publishable result.", ""]
    m = doc["machine"]
    lines += [
        f"Target: `{doc['target']}` ({doc['target_description']}). Machine: {m['cpu_model']}, {m['cpus']} CPUs, "
        f"Python {m['python']}, uvicorn {m['uvicorn']['loop']}/{m['uvicorn']['http']}. {s['tenants']} tenants x "
        f"{s['connectors']} connectors. Load average at start {tuple(round(x, 2) for x in m['loadavg_start'])}.",
        "",
        "| check | value | target | |",
        "|---|---:|---:|---|",
    ]
    for c in doc["checks"]:
        lines.append(f"| {c['check']} | {c['value']} | {c['target']} | {'pass' if c['pass'] else '**FAIL**'} |")
    lines += [
        "",
        "## Details",
        "",
        "```json",
        json.dumps({k: v for k, v in r.items() if k != "flat"}, indent=2),
        "```",
        "",
    ]
    if "flat" in r:
        lines += ["RSS over calls (flatness):", "", "| calls | RSS MB |", "|---:|---:|"]
        lines += [f"| {x['calls']} | {x['rss_mb']:.1f} |" for x in r["flat"]["samples"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    allow_loopback_upstreams()
    p = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--store", default="auto", choices=["auto", "server", "sqlite", "memory"])
    p.add_argument("--tenants", type=int)
    p.add_argument("--connectors", type=int, default=3)
    p.add_argument("--duration", type=float, help="seconds per throughput measurement (default 10)")
    p.add_argument("--hot", type=int, default=100, help="tenants in the round-robin throughput measurement")
    p.add_argument("--expired", type=int, help="tenants whose first call after expiry is timed (default 300)")
    p.add_argument("--ttl", type=float, default=1.0, help="cache TTL for the expiry measurement")
    p.add_argument("--flat-calls", type=int, help="calls in the memory check (default 100000)")
    p.add_argument("--spread", type=int, default=2000, help="tenants the memory check's calls are spread over")
    p.add_argument("--sessions", type=int, help="stateful sessions opened and deleted (default 2000)")
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    tenants = args.tenants or (1000 if args.quick else 10_000)
    duration = args.duration or (4.0 if args.quick else 10.0)
    expired_n = min(args.expired or (100 if args.quick else 300), tenants)
    flat_calls = args.flat_calls or (5_000 if args.quick else 100_000)
    sessions = args.sessions if args.sessions is not None else (200 if args.quick else 2000)
    spread = min(args.spread, tenants)
    hot = min(args.hot, tenants)
    try:
        ensure_wrk(os.environ.get("SAGEMCP_BENCH_INSTALL_WRK") == "1")
        target = choose_target(args.store)
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    pinning = Pinning.choose()
    info = machine()
    if pinning.load is not None:
        os.sched_setaffinity(0, {pinning.load})
    started = datetime.now(UTC)
    workdir = Path(os.environ.get("SAGEMCP_BENCH_WORKDIR", "/tmp")) / f"sagemcp-scale-{started:%Y%m%dT%H%M%S}"
    workdir.mkdir(parents=True)
    catalog = tool_catalog(connector_class()[0])
    (workdir / "catalog.json").write_text(json.dumps(catalog))
    port = free_port()
    upstream = start(
        "fake-upstream",
        [sys.executable, "-m", "benchmarks.targets.fake_upstream", "--port", str(port)],
        cpu=pinning.load,
        pinning=pinning,
        logdir=workdir,
    )
    results: dict[str, Any] = {}
    print(f"target {target.name}: {target.description}", flush=True)
    try:
        wait_ready(upstream, port, "/__stats", need_ok=True)
        ctx = Context(
            workdir, pinning, f"http://127.0.0.1:{port}", port, workdir / "catalog.json", catalog, "auto", "auto"
        )
        world = World(ctx, target, {})
        provision(ctx, target, 1, 1, "single")
        world.keys = provision(ctx, target, tenants, args.connectors, "big")

        print("single tenant:", flush=True)
        running, keys = start_server(world, "single", tenants=1, connectors=1)
        try:
            results["single"] = throughput(running, keys, [TENANT], ctx, duration, "one tenant (1 in the store)")
        finally:
            running.proc.stop()

        print(f"{tenants} tenants:", flush=True)
        running, keys = start_server(world, "big", tenants=tenants, connectors=args.connectors)
        world.keys = keys
        try:
            results["start"] = {"ready_s": running.ready_seconds, "rss_mb_at_ready": running.proc.rss_mb()}
            print(
                f"  start to ready {running.ready_seconds:.2f} s, RSS {results['start']['rss_mb_at_ready']:.0f} MB",
                flush=True,
            )
            results["big_one"] = throughput(running, keys, [TENANT], ctx, duration, f"one tenant ({tenants} in store)")
            hot_set = [slug(i) for i in range(hot)]
            results["big_hot"] = throughput(running, keys, hot_set, ctx, duration, f"{hot} tenants round-robin")
            results["rss_after_throughput_mb"] = running.proc.rss_mb()
            results["peak_rss_mb"] = running.proc.peak_rss_mb()
        finally:
            running.proc.stop()

        print(f"first calls after a {args.ttl} s cache expiry:", flush=True)
        running, keys = start_server(world, "big", tenants=tenants, connectors=args.connectors, ttl=args.ttl)
        try:
            picks = [slug(i) for i in range(tenants - expired_n, tenants)]
            results["expired"] = expired_first_calls(running, keys, picks, ctx, args.ttl)
        finally:
            running.proc.stop()

        print("memory:", flush=True)
        running, keys = start_server(world, "big", tenants=tenants, connectors=args.connectors)
        try:
            results["flat"] = flatness(running, keys, [slug(i) for i in range(spread)], ctx, flat_calls, 5.0)
            results["peak_rss_mb"] = max(results["peak_rss_mb"], running.proc.peak_rss_mb())
        finally:
            running.proc.stop()
        if sessions:
            running, keys = start_server(world, "big", tenants=tenants, connectors=args.connectors, stateful=True)
            try:
                results["sessions"] = session_churn(running, keys, ctx, sessions)
            finally:
                running.proc.stop()
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        upstream.stop()

    checks = [
        {
            "check": "start to ready (s)",
            "value": round(results["start"]["ready_s"], 2),
            "target": f"< {TARGETS['ready_s']}",
            "pass": results["start"]["ready_s"] < TARGETS["ready_s"],
        },
        {
            "check": "peak RSS (MB)",
            "value": round(results["peak_rss_mb"], 1),
            "target": f"< {TARGETS['rss_mb']:.0f}",
            "pass": results["peak_rss_mb"] < TARGETS["rss_mb"],
        },
        {
            "check": "throughput, one tenant of many / single-tenant store",
            "value": round(results["big_one"]["calls_per_s"] / results["single"]["calls_per_s"], 3),
            "target": f">= {TARGETS['throughput_ratio']}",
            "pass": results["big_one"]["calls_per_s"] >= TARGETS["throughput_ratio"] * results["single"]["calls_per_s"],
        },
        {
            "check": f"throughput, {hot} tenants round-robin / single-tenant store",
            "value": round(results["big_hot"]["calls_per_s"] / results["single"]["calls_per_s"], 3),
            "target": f">= {TARGETS['throughput_ratio']}",
            "pass": results["big_hot"]["calls_per_s"] >= TARGETS["throughput_ratio"] * results["single"]["calls_per_s"],
        },
        {
            "check": "first call after cache expiry, p99 (ms)",
            "value": round(results["expired"]["expired"]["p99_ms"], 2),
            "target": f"< {TARGETS['expired_p99_ms']:.0f}",
            "pass": results["expired"]["expired"]["p99_ms"] < TARGETS["expired_p99_ms"],
        },
        {
            "check": f"RSS growth over the second half of {results['flat']['calls']} calls (MB)",
            "value": round(results["flat"]["second_half_growth_mb"], 1),
            "target": "< 5",
            "pass": results["flat"]["second_half_growth_mb"] < 5,
        },
    ]
    if "sessions" in results:
        checks.append(
            {
                "check": f"RSS growth over the second half of {sessions} sessions (MB)",
                "value": round(results["sessions"]["second_half_growth_mb"], 1),
                "target": "< 5",
                "pass": results["sessions"]["second_half_growth_mb"] < 5,
            }
        )
    doc = {
        "started": started.isoformat(timespec="seconds"),
        "machine": info,
        "target": target.name,
        "target_description": target.description,
        "settings": {
            "quick": args.quick,
            "tenants": tenants,
            "connectors": args.connectors,
            "duration": duration,
            "hot": hot,
            "expired": expired_n,
            "ttl": args.ttl,
            "flat_calls": flat_calls,
            "spread": spread,
            "sessions": sessions,
            "pinning": pinning.describe(),
        },
        "results": results,
        "checks": checks,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"scale-{started:%Y-%m-%dT%H%M%S}{'-quick' if args.quick else ''}"
    (args.out / f"{stem}.json").write_text(json.dumps(doc, indent=2) + "\n")
    (args.out / f"{stem}.md").write_text(markdown(doc))
    (args.out / "scale-latest.md").write_text(markdown(doc))
    print(f"\nwrote {args.out / stem}.json and .md; logs in {workdir}")
    for c in checks:
        print(f"  {'PASS' if c['pass'] else 'FAIL'} {c['check']}: {c['value']} (target {c['target']})")
    return 0 if all(c["pass"] for c in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
