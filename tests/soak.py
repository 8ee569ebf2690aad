"""The soak test: `python -m tests.soak` (or `nox -s soak`), bounded by `SAGEMCP_SOAK` seconds (default 600).

It starts a sagemcp MCP server in a child process (core's adapter over a `MemoryStore` with several tenants,
the reliability suite's probe connector, and a fake upstream in this process), measures the capacity of the
setup for a short while with a closed loop, then runs an open loop at 70 % of it: a mix of tools/list and
tools/call in both protocol eras, stateful sessions opened, used and closed, and now and then a WebSocket
or a legacy SSE stream, spread over the tenants. It samples the server's RSS, open file descriptors and
sessions, and exits non-zero when any bound is broken:

- zero unexpected errors (every answer is the one the request must get);
- RSS growth under 10 % from the end of the warm-up to the end;
- file descriptors and sessions back to their warm-up level (within a small margin) once the load stops.

Options: `--duration`, `--tenants`, `--rate` (fraction of capacity), `--report FILE` (JSON).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
RSS_GROWTH_LIMIT = 0.10
FD_MARGIN = 8
SESSION_MARGIN = 2
CAPACITY_WORKERS = 8
MAX_IN_FLIGHT = 4 * CAPACITY_WORKERS
MAX_DROPPED = 0.02


# -- the server process -----------------------------------------------------------------------------


def serve(port: int, tenants: int, upstream: str) -> None:
    """The child: build the world, print the keys as one JSON line, serve until terminated."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Mount, Route

    from sagemcp import ConnectorConfig, ConnectorRegistry, Credential, MemoryStore, Tenant, UpstreamClient
    from sagemcp.mcp import McpSettings, create_mcp_app
    from tests.reliability._support import make_probe_connector

    store = MemoryStore(audit_limit=1000)
    keys = {}
    for i in range(tenants):
        tenant = store.add_tenant(Tenant(slug=f"tenant-{i}"))
        store.add_connector(
            ConnectorConfig(
                tenant_id=tenant.id, connector_type="probe", name="probe", configuration={"upstream": upstream}
            )
        )
        store.put_credential(
            Credential(tenant_id=tenant.id, provider="probe", kind="bearer", access_token=f"tok-{i}-soak")
        )
        keys[tenant.slug], _ = store.create_api_key(tenant.id)
    upstream_client = UpstreamClient(timeout=10)
    mcp = create_mcp_app(
        store,
        ConnectorRegistry([make_probe_connector()]),
        upstream=upstream_client,
        settings=McpSettings(stateful=True, session_idle_timeout=60),
        observer=lambda event: None,
    )

    async def stats(request: Any) -> JSONResponse:
        manager = getattr(mcp, "_manager", None)
        sse = getattr(mcp, "_sse", None)
        return JSONResponse(
            {
                "sessions": len(getattr(manager, "_server_instances", ())),
                "sse_sessions": len(getattr(sse, "_read_stream_writers", ())),
            }
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> Any:
        async with mcp.lifespan():
            yield

    app = Starlette(routes=[Route("/_soak/stats", stats), Mount("/", app=mcp)], lifespan=lifespan)
    print(json.dumps({"keys": keys}), flush=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# -- measurements ------------------------------------------------------------------------------------


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@dataclass
class Sample:
    t: float
    rss_kb: int
    fds: int
    sessions: int
    sse_sessions: int
    rate: float


@dataclass
class Report:
    duration: float
    capacity_per_s: float = 0.0
    target_per_s: float = 0.0
    achieved_per_s: float = 0.0
    requests: int = 0
    dropped: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    unexpected: int = 0
    examples: list[str] = field(default_factory=list)
    latency_ms_p50: float = 0.0
    latency_ms_p99: float = 0.0
    latency_ms_by_kind: dict[str, dict[str, float]] = field(default_factory=dict)
    rss_warm_kb: int = 0
    rss_end_kb: int = 0
    rss_growth: float = 0.0
    fds_warm: int = 0
    fds_end: int = 0
    sessions_warm: int = 0
    sessions_end: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)


# -- the load ------------------------------------------------------------------------------------------


class Load:
    def __init__(self, base: str, keys: dict[str, str]) -> None:
        self.base = base
        self.keys = keys
        self.slugs = sorted(keys)
        self.http = httpx.AsyncClient(base_url=base, timeout=30, limits=httpx.Limits(max_connections=256))
        self.count: Counter[str] = Counter()
        self.unexpected: list[str] = []
        self.latencies: list[float] = []
        self.by_kind: dict[str, list[float]] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        await self.http.aclose()

    def fail(self, kind: str, detail: str) -> None:
        self.unexpected.append(f"{kind}: {detail[:300]}")

    async def one(self, rng: random.Random) -> None:
        from tests.reliability import _clients as c

        slug = rng.choice(self.slugs)
        key = self.keys[slug]
        path = f"/{slug}/connectors/probe/mcp"
        roll = rng.random()
        started = time.perf_counter()
        if roll < 0.35:
            kind = "modern tools/list"
            reply = await c.call_modern(self.http, path, key, "tools/list", {})
            ok = reply.status == 200 and len(reply.result["tools"]) == 8
        elif roll < 0.65:
            kind = "modern tools/call"
            tool = rng.choice(["probe_whoami", "probe_fetch"])
            reply = await c.call_modern(self.http, path, key, "tools/call", {"name": tool, "arguments": {}})
            ok = reply.status == 200 and not reply.result.get("isError")
            if ok:
                identity = reply.result["structuredContent"]
                ok = identity.get("tenant", identity.get("identity", {}).get("tenant")) == slug
        elif roll < 0.85:
            kind = "stateful session"
            init, session = await c.open_session(self.http, path, key)
            ok = init.status == 200 and session is not None
            if ok:
                for _ in range(3):
                    reply = await c.call_handshake(
                        self.http, path, key, "tools/call", {"name": "probe_whoami", "arguments": {}}, session=session
                    )
                    ok = ok and reply.status == 200 and reply.result["structuredContent"]["tenant"] == slug
                await self.http.delete(path, headers={"Mcp-Session-Id": session, **c.auth(key)})
        elif roll < 0.93:
            kind = "websocket"
            async with c.ws_connect(self.base, path.replace("/mcp", "/ws"), key) as ws:
                await c.ws_handshake(ws)
                reply = await c.ws_exchange(ws, c.request("tools/call", {"name": "probe_whoami", "arguments": {}}))
                ok = reply["result"]["structuredContent"]["tenant"] == slug
        else:
            kind = "legacy sse"
            async with c.sse_session(self.http, path.replace("/mcp", "/sse"), key) as sse:
                await sse.handshake(key)
                status, reply = await sse.call("tools/list", {}, key)
                ok = status == 202 and reply is not None and len(reply["result"]["tools"]) == 8
        self.latencies.append(time.perf_counter() - started)
        self.by_kind.setdefault(kind, []).append(time.perf_counter() - started)
        self.count[kind] += 1
        if not ok:
            self.fail(kind, locals().get("reply", "") and str(locals()["reply"]))

    async def guarded(self, rng: random.Random) -> None:
        try:
            await self.one(rng)
        except Exception as exc:
            self.count["exception"] += 1
            self.fail("exception", repr(exc))

    async def closed_loop(self, seconds: float, workers: int) -> float:
        stop = time.monotonic() + seconds
        done = 0

        async def worker(seed: int) -> None:
            nonlocal done
            rng = random.Random(seed)
            while time.monotonic() < stop:
                await self.guarded(rng)
                done += 1

        await asyncio.gather(*(worker(i) for i in range(workers)))
        return done / seconds

    async def open_loop(self, seconds: float, rate: float, on_tick: Any) -> tuple[int, int]:
        """Start `rate` requests per second (Poisson arrivals) for `seconds`. An arrival that finds
        `MAX_IN_FLIGHT` requests in flight is dropped (counted, not sent): the server fell behind. (The cap
        also keeps this generator, whose HTTP client slows down with concurrency, from becoming the
        bottleneck.) Returns (sent, dropped)."""
        rng = random.Random(1)
        tasks = self.tasks
        started = time.monotonic()
        next_at = started
        sent = dropped = 0
        next_tick = started + 5
        while (now := time.monotonic()) < started + seconds:
            if now >= next_tick:
                await on_tick(now - started)
                next_tick += 5
            if now < next_at:
                await asyncio.sleep(min(next_at - now, 0.05))
                continue
            next_at += rng.expovariate(rate)
            if len(tasks) >= MAX_IN_FLIGHT:
                dropped += 1
                await asyncio.sleep(0.005)  # let the requests in flight progress
                continue
            task = asyncio.ensure_future(self.guarded(random.Random(sent)))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            sent += 1
        await asyncio.gather(*tasks)
        return sent, dropped


# -- the run -------------------------------------------------------------------------------------------


async def run(duration: float, tenants: int, fraction: float) -> Report:
    from tests.reliability._fake_upstream import FakeUpstream
    from tests.reliability._support import free_port

    report = Report(duration=duration)
    async with FakeUpstream() as fake:
        port = free_port()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.soak",
                "--serve",
                str(port),
                "--tenants",
                str(tenants),
                "--upstream",
                fake.url,
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
        )
        try:
            assert proc.stdout is not None
            line = await asyncio.get_running_loop().run_in_executor(None, proc.stdout.readline)
            keys = json.loads(line)["keys"]
            base = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient() as probe:
                for _ in range(200):
                    with contextlib.suppress(httpx.HTTPError):
                        if (await probe.get(base + "/_soak/stats")).status_code == 200:
                            break
                    await asyncio.sleep(0.05)
            load = Load(base, keys)
            try:
                await execute(load, proc.pid, report, duration, fraction, fake)
            finally:
                await load.close()
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
    return report


async def stats(load: Load) -> dict[str, int]:
    return (await load.http.get("/_soak/stats")).json()


async def execute(load: Load, pid: int, report: Report, duration: float, fraction: float, fake: Any) -> None:
    measure = min(20.0, max(5.0, duration * 0.05))
    report.capacity_per_s = await load.closed_loop(measure, workers=CAPACITY_WORKERS)
    rate = report.target_per_s = report.capacity_per_s * fraction
    for kind, values in sorted(load.by_kind.items()):
        print(f"  {kind:20s} median {statistics.median(values) * 1000:7.1f} ms  max {max(values) * 1000:7.1f} ms")
    print(
        f"capacity {report.capacity_per_s:.0f} requests/s over {measure:.0f} s; soaking at {rate:.0f}/s for {duration:.0f} s"
    )
    load.count.clear()
    load.latencies.clear()
    load.by_kind.clear()
    warmup = max(10.0, duration * 0.1)
    samples: list[Sample] = []
    last = {"t": 0.0, "n": 0}

    async def tick(elapsed: float) -> None:
        s = await stats(load)
        n = sum(load.count.values())
        sample = Sample(
            elapsed,
            rss_kb(pid),
            fd_count(pid),
            s["sessions"],
            s["sse_sessions"],
            (n - last["n"]) / max(elapsed - last["t"], 1e-6),
        )
        last.update(t=elapsed, n=n)
        samples.append(sample)
        print(
            f"  {elapsed:6.0f} s  {sample.rate:6.0f}/s  rss {sample.rss_kb / 1024:6.1f} MB  fds {sample.fds:4d}  "
            f"sessions {sample.sessions:3d}+{sample.sse_sessions}  unexpected {len(load.unexpected)}  "
            f"in flight {len(load.tasks)}",
            flush=True,
        )

    started = time.monotonic()
    report.requests, report.dropped = await load.open_loop(duration, rate, tick)
    elapsed = time.monotonic() - started
    await asyncio.sleep(1.0)  # let closed sessions wind down
    await tick(elapsed + 1.0)
    report.achieved_per_s = sum(load.count.values()) / elapsed
    report.kinds = dict(load.count)
    report.unexpected = len(load.unexpected)
    report.examples = load.unexpected[:10]
    if load.latencies:
        ordered = sorted(load.latencies)
        report.latency_ms_p50 = statistics.median(ordered) * 1000
        report.latency_ms_p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
    for kind, values in sorted(load.by_kind.items()):
        ordered = sorted(values)
        report.latency_ms_by_kind[kind] = {
            "p50": round(statistics.median(ordered) * 1000, 1),
            "p99": round(ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000, 1),
        }
    report.samples = [asdict(s) for s in samples]
    warm = [s for s in samples if s.t >= warmup] or samples
    first = warm[:3]
    end = samples[-3:]
    report.rss_warm_kb = int(statistics.median(s.rss_kb for s in first))
    report.rss_end_kb = int(statistics.median(s.rss_kb for s in end))
    report.rss_growth = (report.rss_end_kb - report.rss_warm_kb) / report.rss_warm_kb
    idle = samples[-1]
    report.fds_warm = min(s.fds for s in first)
    report.fds_end = idle.fds
    report.sessions_warm = min(s.sessions + s.sse_sessions for s in first)
    report.sessions_end = idle.sessions + idle.sse_sessions
    if report.unexpected:
        report.broken.append(f"{report.unexpected} unexpected errors, e.g. {report.examples[:3]}")
    if report.rss_growth >= RSS_GROWTH_LIMIT:
        report.broken.append(f"RSS grew {report.rss_growth:.1%} (limit {RSS_GROWTH_LIMIT:.0%})")
    if report.fds_end > report.fds_warm + FD_MARGIN:
        report.broken.append(f"file descriptors {report.fds_warm} -> {report.fds_end}")
    if report.sessions_end > SESSION_MARGIN:
        report.broken.append(f"{report.sessions_end} sessions still open after the load stopped")
    offered = report.requests + report.dropped
    if offered and report.dropped > MAX_DROPPED * offered:
        report.broken.append(
            f"{report.dropped} of {offered} arrivals dropped with {MAX_IN_FLIGHT} requests in flight: "
            "the server fell behind"
        )
    if report.achieved_per_s < rate * 0.9:
        report.broken.append(
            f"achieved {report.achieved_per_s:.0f}/s of the {rate:.0f}/s asked: the server fell behind"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=float(os.environ.get("SAGEMCP_SOAK", "600")))
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--rate", type=float, default=0.7, help="fraction of the measured capacity")
    parser.add_argument("--report", type=Path, help="write the report as JSON here")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--upstream", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.tenants, args.upstream)
        return 0
    report = asyncio.run(run(args.duration, args.tenants, args.rate))
    summary = {k: v for k, v in asdict(report).items() if k != "samples"}
    print(json.dumps(summary, indent=2))
    if args.report:
        args.report.write_text(json.dumps(asdict(report), indent=2))
    if report.broken:
        print("SOAK FAILED: " + "; ".join(report.broken), file=sys.stderr)
        return 1
    print("soak passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
