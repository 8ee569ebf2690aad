"""Profile one target under load with py-spy, and say where the time goes.

    python -m benchmarks.profile --target sagemcp-core --era 2026-07-28 --method tools/call -c 32 --seconds 15

Starts the fake upstream and the target (pinned as in the benchmark), drives it with
wrk for `--seconds`, samples the server with `py-spy record` (raw collapsed stacks
and an SVG flame graph in the work directory), then prints the functions with the
most self time and the sagemcp / SDK / library frames with the most inclusive time.
Needs py-spy (`pip install py-spy`) and permission to ptrace (root, or
`kernel.yama.ptrace_scope=0`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from benchmarks import allow_loopback_upstreams

from . import mcp_requests as mr
from ._harness import HarnessError, Pinning, ensure_wrk, free_port, run_wrk, start, wait_ready
from .run import Context, _databases, all_targets, launch
from .targets._connector import connector_class, tool_catalog
from .targets._fixtures import MCP_PATH


def _frame_module(frame: str) -> str:
    # py-spy raw frames look like "function (path/to/module.py:123)"; paths may be relative to site-packages
    inside = frame.rsplit("(", 1)[-1].rstrip(")")
    return "/" + inside.rsplit(":", 1)[0].lstrip("/")


def _group(path: str) -> str:
    for marker, name in (
        ("/sagemcp/", "sagemcp-core"),
        ("/sagemcp_server/", "sagemcp-server"),
        ("/sagemcp_github/", "sagemcp-github"),
        ("/mcp/", "mcp SDK"),
        ("/mcp_types/", "mcp SDK"),
        ("/pydantic", "pydantic"),
        ("/starlette/", "starlette"),
        ("/uvicorn/", "uvicorn"),
        ("/h11/", "h11"),
        ("/httpx/", "httpx"),
        ("/httpcore/", "httpcore"),
        ("/anyio/", "anyio"),
        ("/sqlalchemy/", "sqlalchemy"),
        ("/aiosqlite/", "aiosqlite"),
        ("/asyncpg/", "asyncpg"),
        ("/prometheus_client/", "prometheus"),
        ("/asyncio/", "asyncio"),
        ("/json/", "json"),
        ("/logging/", "logging"),
        ("importlib", "importlib"),
        ("/traceback.py", "traceback"),
        ("/ast.py", "traceback"),
    ):
        if marker in path:
            return name
    return "other"


def _event_loop_stacks(raw: Path) -> list[tuple[list[str], int]]:
    """The samples of the event-loop thread (py-spy --threads puts the thread first in each stack).

    Worker threads blocked in C (aiosqlite's queue, for one) look busy to py-spy; only the
    thread running the event loop serves requests.
    """
    threads: dict[str, list[tuple[list[str], int]]] = {}
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        frames = stack.split(";")
        thread = frames[0] if frames[0].startswith("thread ") else "main"
        if thread != "main":
            frames = frames[1:]
        if not frames:
            continue
        threads.setdefault(thread, []).append((frames, int(count)))

    def loop_samples(samples: list[tuple[list[str], int]]) -> int:
        return sum(n for frames, n in samples if any("run_forever" in f or "run_until_complete" in f for f in frames))

    return max(threads.values(), key=loop_samples) if threads else []


def report(raw: Path, top: int = 25) -> str:
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    by_group: Counter[str] = Counter()
    total = 0
    for frames, n in _event_loop_stacks(raw):
        total += n
        self_time[frames[-1]] += n
        by_group[_group(_frame_module(frames[-1]))] += n
        for frame in set(frames):
            inclusive[frame] += n
    if not total:
        return "no samples"
    out = [f"{total} samples of the event-loop thread", "", "self time by package:"]
    out += [f"  {100 * n / total:5.1f}%  {g}" for g, n in by_group.most_common()]
    out += ["", "top self time:"]
    out += [f"  {100 * n / total:5.1f}%  {f[:140]}" for f, n in self_time.most_common(top)]
    out += ["", "top inclusive time in sagemcp code:"]
    ours = [(f, n) for f, n in inclusive.items() if _frame_module(f).startswith("/sagemcp")]
    ours.sort(key=lambda x: -x[1])
    out += [f"  {100 * n / total:5.1f}%  {f[:140]}" for f, n in ours[:top]]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    allow_loopback_upstreams()
    p = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__.splitlines()[0])
    p.add_argument("--target", default="sagemcp-core")
    p.add_argument("--era", default="2026-07-28", choices=["2026-07-28", "2025-11-25", "2025-11-25-session"])
    p.add_argument("--method", default="tools/call", choices=["tools/call", "tools/list"])
    p.add_argument("-c", "--concurrency", type=int, default=32)
    p.add_argument("--seconds", type=float, default=15.0)
    p.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    p.add_argument("--top", type=int, default=25)
    args = p.parse_args(argv)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        print("error: py-spy is not installed: pip install py-spy", file=sys.stderr)
        return 2
    ensure_wrk(False)
    targets = {t.name: t for t in all_targets()}
    target = targets.get(args.target)
    if target is None or target.unavailable:
        print(f"error: target {args.target} unavailable: {target.unavailable if target else 'unknown'}")
        return 2
    pinning = Pinning.choose()
    if pinning.load is not None:
        os.sched_setaffinity(0, {pinning.load})
    workdir = Path("/tmp") / f"sagemcp-profile-{time.strftime('%Y%m%dT%H%M%S')}"
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
    try:
        wait_ready(upstream, port, "/__stats", need_ok=True)
        ctx = Context(
            workdir, pinning, f"http://127.0.0.1:{port}", port, workdir / "catalog.json", catalog, "auto", "auto"
        )
        stateful = args.era.endswith("-session")
        with _databases([target], ctx, argparse.Namespace(postgres_url=None)) as problems:
            if problems:
                print(problems)
                return 1
            running = launch(target, stateful, ctx)
            try:
                session = mr.open_session(running.port, running.api_key) if stateful else None
                request = mr.build(args.method, args.era.removesuffix("-session"), running.api_key, catalog, session)
                mr.verify(running.port, request, args.method, len(catalog))
                spec = workdir / "request.req"
                spec.write_bytes(request.spec())
                run_wrk(
                    running.port,
                    MCP_PATH,
                    spec,
                    request.expect,
                    connections=args.concurrency,
                    duration=2,
                    pinning=pinning,
                )
                result: dict[str, object] = {}

                def load() -> None:
                    result.update(
                        run_wrk(
                            running.port,
                            MCP_PATH,
                            spec,
                            request.expect,
                            connections=args.concurrency,
                            duration=args.seconds + 2,
                            pinning=pinning,
                        )
                    )

                thread = threading.Thread(target=load)
                thread.start()
                time.sleep(1)
                raw = workdir / "profile.raw"
                base = [
                    *pinning.prefix(pinning.load),
                    py_spy,
                    "record",
                    "-p",
                    str(running.proc.pid),
                    "-r",
                    str(args.rate),
                    "-d",
                    str(int(args.seconds)),
                    "--threads",
                ]
                subprocess.run([*base, "-f", "raw", "-o", str(raw)], capture_output=True, check=True)
                thread.join()
                print(
                    f"{args.target} {args.era} {args.method} c{args.concurrency}: "
                    f"{result.get('requests', 0)} calls in {args.seconds + 2:.0f} s under profiling"
                )
                print(report(raw, args.top))
                print(f"\nraw stacks: {raw}  (flame graph: py-spy record ... -f flamegraph, or speedscope)")
            finally:
                running.proc.stop()
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        upstream.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
