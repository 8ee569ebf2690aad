"""One app's per-call cost, measured in a fresh interpreter (`benchmarks.cost` starts it).

    python -m benchmarks._costworker --app core --out cost-core.json [--mode count|markers]

For each cell (`CELLS`: a `tools/call` of `demo_echo`, then of `github_get_issue`, whose
upstream GET `benchmarks._inprocess.fake_upstream` answers in-process; each in protocol
era 2026-07-28 and 2025-11-25, stateless) it checks one call, warms up with `--warmup`
calls, collects garbage, then makes `--calls` calls one after the other, each answer
checked. The whole run, app start included, is on
`fake_clocks`, so that nothing depends on elapsed time.

- `count`: the calls run under a `WorkCounter` (the collector paused, so that its timing
  cannot move finalizers in or out of the count); totals, per package and per function,
  go to `--out` as JSON.
- `markers`: nothing is counted here; `os.getppid()` is called right before and right after
  each cell's calls, so that `valgrind --tool=callgrind --dump-before=getppid` splits its
  instruction counts at those points (`benchmarks.cost --instructions`).

Run it with `PYTHONHASHSEED=0` and no `SAGEMCP_*` settings in the environment, as
`benchmarks.cost` does: string hashing and settings would otherwise differ between runs.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
from pathlib import Path
from typing import Any

from . import _inprocess
from . import mcp_requests as mr
from ._counting import WorkCounter, fake_clocks

ERAS = (mr.MODERN, mr.HANDSHAKE)
CELLS = (
    *((era, mr.ECHO, era) for era in ERAS),
    *((f"github/{era}", mr.CALL, era) for era in ERAS),
)
"""(cell, request kind, protocol era), in the order they are measured: the echo cells are named by their era
alone, the GitHub cells (`github_get_issue`, one upstream GET answered in-process) `github/<era>`."""


async def _drain() -> None:
    """Let tasks the last request started finish (they are counted: they copied its context)."""
    for _ in range(20):
        await asyncio.sleep(0)


async def _one(app: Any, state: dict[str, Any], request: mr.HttpRequest, what: str, counted: bool = False) -> None:
    """One call, its answer checked (outside what is counted)."""
    status, _, body = await _inprocess.call(app, state, request.path, request.headers, request.body, counted=counted)
    if status != 200 or request.expect.encode() not in body or b'"isError":true' in body:
        raise mr.VerificationError(f"{what}: HTTP {status}: {body[:300]!r}")


async def measure(kind: str, calls: int, warmup: int, mode: str) -> dict[str, Any]:
    from .targets._connector import connector_class, echo_catalog, tool_catalog

    catalogs = {mr.ECHO: echo_catalog(), mr.CALL: tool_catalog(connector_class()[0])}
    out: dict[str, Any] = {"app": kind, "label": _inprocess.LABELS[kind], "calls": calls, "warmup": warmup}
    cells: dict[str, Any] = {}
    async with _inprocess.app(kind) as (app, state, key):
        for cell, method, era in CELLS:
            request = mr.build(method, era, key, catalogs[method])
            what = f"{kind}/{cell}"

            status, headers, body = await _inprocess.call(app, state, request.path, request.headers, request.body)
            mr.check(status, headers, body, request, method)
            for _ in range(warmup):
                await _one(app, state, request, what)
            await _drain()
            gc.collect()
            if mode == "markers":
                os.getppid()  # callgrind dumps (and zeroes) its counters here
                for _ in range(calls):
                    await _one(app, state, request, what)
                await _drain()
                os.getppid()
                cells[cell] = {"response_bytes": len(body)}
                continue
            counter = WorkCounter()
            gc.disable()
            try:
                with counter.counting():
                    for _ in range(calls):
                        await _one(app, state, request, what, counted=True)
                    await _drain()
            finally:
                gc.enable()
            cells[cell] = {
                "response_bytes": len(body),
                "totals": counter.totals(),
                "by_package": counter.by_package(),
                "functions": counter.by_function(),
            }
    out["cells"] = cells
    return out


async def _run(kind: str, calls: int, warmup: int, mode: str) -> dict[str, Any]:
    with fake_clocks():
        return await measure(kind, calls, warmup, mode)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks._costworker", description=__doc__.splitlines()[0])
    p.add_argument("--app", choices=_inprocess.KINDS, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--calls", type=int, default=100)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--mode", choices=("count", "markers"), default="count")
    args = p.parse_args(argv)
    if args.calls < 1 or args.warmup < 0:
        p.error("--calls must be at least 1 and --warmup at least 0")
    os.environ.setdefault("SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS", "1")  # the GitHub connector's fake upstream
    result = asyncio.run(_run(args.app, args.calls, args.warmup, args.mode))
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
