"""The soak test: `python -m tests.soak` (or `nox -s soak`), bounded by `SAGEMCP_SOAK` seconds (default 600).

It starts a sagemcp MCP server in a child process, measures the capacity of the setup for a short while with
a closed loop, then runs an open loop at 70 % of it: a mix of tools/list and tools/call in both protocol
eras, stateful sessions opened, used and closed, and now and then a WebSocket or a legacy SSE stream,
spread over the tenants. It samples the server's RSS, open file descriptors and sessions, and exits
non-zero when any bound is broken:

- zero unexpected errors (every answer is the one the request must get);
- RSS growth under 10 % from the end of the warm-up to the end;
- file descriptors and sessions back to their warm-up level (within a small margin) once the load stops
  and its client has closed its connections (the server gets `IDLE_WAIT` seconds, past the keep-alive
  timeouts, to close its side);
- the server keeping up: at most 2 % of arrivals dropped, at least 90 % of the asked rate achieved.

Two servers can be soaked (`--server`):

- `core` (the default): core's adapter over a `MemoryStore` with the reliability suite's probe connector,
  whose answers name the tenant, and a fake upstream in this process.
- `reference`: the reference server as an operator runs it, `python -m sagemcp_server serve` configured
  through `SAGEMCP_*` variables, on the database given with `--database` (SQLite in a temporary directory
  by default; for a `postgresql+asyncpg://` URL a throwaway database `sagemcp_soak_<random>` is created on
  that server and dropped afterwards). Tenants, GitHub connectors pointed at a fake GitHub API in this
  process, tokens and keys are provisioned through the admin API. Calls are `github_get_issue`: the fake
  API puts a fingerprint of the token it received in the issue title, so every answer is checked against
  its tenant's token; half of the `tools/call`s send an invalid issue number instead (refused before the
  upstream). Sessions and open streams are read from `/metrics`.

Options: `--server`, `--database`, `--duration`, `--measure` (seconds of capacity measurement), `--tenants`,
`--rate` (fraction of capacity), `--report FILE` (JSON).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
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
IDLE_WAIT = 15.0
"""Seconds the server gets, once the load stops and its client closed its connections, to be back at its
warm-up file descriptors and sessions: longer than the keep-alive timeouts (5 s) on both sides."""


# -- the core server process --------------------------------------------------------------------


def serve(port: int, tenants: int, upstream: str) -> None:
    """The child: build the world, print the keys as one JSON line, serve until terminated."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Mount, Route

    from sagemcp import Credential
    from sagemcp.mcp import McpSettings, create_mcp_app
    from sagemcp.platform import ConnectorConfig, ConnectorRegistry, MemoryStore, Tenant, UpstreamClient
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


# -- what the load sends and checks -----------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    name: str
    arguments: dict[str, Any]
    check: Callable[[dict[str, Any], str], bool]
    """(the `tools/call` result, the tenant's slug) -> whether it is the answer this tenant must get."""


@dataclass(frozen=True)
class Profile:
    """The requests of one kind of server."""

    path: Callable[[str], str]
    """slug -> the MCP endpoint of the tenant's connector."""
    tools: int
    """How many tools `tools/list` answers."""
    calls: tuple[Call, ...]
    """`tools/call` picks one of these at random."""
    session_call: Call
    """What stateful sessions, WebSockets call."""


def _identity_tenant(result: dict[str, Any]) -> str | None:
    structured = result.get("structuredContent") or {}
    return structured.get("tenant", structured.get("identity", {}).get("tenant"))


def core_profile() -> Profile:
    def same_tenant(result: dict[str, Any], slug: str) -> bool:
        return not result.get("isError") and _identity_tenant(result) == slug

    whoami = Call("probe_whoami", {}, same_tenant)
    fetch = Call("probe_fetch", {}, same_tenant)  # through the fake upstream
    return Profile(lambda slug: f"/{slug}/connectors/probe/mcp", 8, (whoami, fetch), whoami)


def token_fingerprint(token: str | None) -> str:
    return hashlib.sha256((token or "").encode()).hexdigest()[:16]


def issue_title(token: str | None) -> str:
    """The title the fake GitHub API gives the issue for a request made with `token`."""
    return f"issue seen with token {token_fingerprint(token)}"


def reference_profile(tokens: dict[str, str], tools: int) -> Profile:
    from benchmarks.mcp_requests import ARGUMENTS, TOOL

    def own_issue(result: dict[str, Any], slug: str) -> bool:
        structured = result.get("structuredContent") or {}
        return not result.get("isError") and structured.get("title") == issue_title(tokens[slug])

    def refused(result: dict[str, Any], slug: str) -> bool:
        return bool(result.get("isError")) and "issue_number" in json.dumps(result.get("content"))

    get_issue = Call(TOOL, dict(ARGUMENTS), own_issue)
    invalid = Call(TOOL, {**ARGUMENTS, "issue_number": 0}, refused)
    return Profile(lambda slug: f"/api/v1/{slug}/connectors/github/mcp", tools, (invalid, get_issue), get_issue)


# -- the servers -------------------------------------------------------------------------------------


@dataclass
class Target:
    """A running server: where it listens, its process, the tenants' API keys and how to read its sessions."""

    base: str
    pid: int
    keys: dict[str, str]
    profile: Profile
    stats: Callable[[httpx.AsyncClient], Awaitable[dict[str, int]]]
    database: str


async def _wait_ready(base: str, path: str, proc: subprocess.Popen[bytes], log: Path | None = None) -> None:
    async with httpx.AsyncClient() as probe:
        for _ in range(1200):
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-3000:] if log is not None and log.exists() else ""
                raise RuntimeError(f"the server exited with {proc.returncode} before it was ready\n{tail}")
            with contextlib.suppress(httpx.HTTPError):
                if (await probe.get(base + path)).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise RuntimeError(f"the server did not answer {path} within 60 s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@contextlib.asynccontextmanager
async def core_server(tenants: int, upstream: str) -> AsyncIterator[Target]:
    """Core's adapter over a `MemoryStore`, in a child process running `serve()` above."""
    from tests.reliability._support import free_port

    port = free_port()
    command = [sys.executable, "-m", "tests.soak", "--serve", str(port), "--tenants", str(tenants)]
    proc = subprocess.Popen([*command, "--upstream", upstream], cwd=ROOT, stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        line = await asyncio.get_running_loop().run_in_executor(None, proc.stdout.readline)
        keys = json.loads(line)["keys"]
        base = f"http://127.0.0.1:{port}"
        await _wait_ready(base, "/_soak/stats", proc)

        async def stats(http: httpx.AsyncClient) -> dict[str, int]:
            data: dict[str, int] = (await http.get("/_soak/stats")).json()
            return data

        yield Target(base, proc.pid, keys, core_profile(), stats, "memory")
    finally:
        _stop(proc)


def github_api() -> Any:
    """The fake GitHub API's answer to every request: the benchmark's issue, titled with the token's fingerprint."""
    from benchmarks.targets._fixtures import issue
    from tests.reliability._fake_upstream import behave

    template = issue()

    async def run(up: Any, seen: Any, writer: asyncio.StreamWriter) -> None:
        await behave.json(200, {**template, "title": issue_title(seen.token)})(up, seen, writer)

    return run


@contextlib.asynccontextmanager
async def soak_database(url: str | None, workdir: Path) -> AsyncIterator[tuple[str, str]]:
    """(URL, backend) of an empty database: SQLite in `workdir`, or a throwaway one on a PostgreSQL server."""
    if url is None or url.startswith("sqlite"):
        yield url or f"sqlite+aiosqlite:///{workdir / 'soak.db'}", "sqlite"
        return
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    server = make_url(url)
    if not server.drivername.startswith("postgresql"):
        raise SystemExit(f"--database: a sqlite+aiosqlite:// or postgresql+asyncpg:// URL, not {server.drivername}")
    name = f"sagemcp_soak_{secrets.token_hex(4)}"
    engine = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        print(f"created the database {name} on {server.host}:{server.port or 5432}", flush=True)
        try:
            yield server.set(database=name).render_as_string(hide_password=False), "postgresql"
        finally:
            async with engine.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            print(f"dropped the database {name}", flush=True)
    finally:
        await engine.dispose()


async def provision(base: str, admin_key: str, tenants: int, upstream: str) -> tuple[dict[str, str], dict[str, str]]:
    """Tenants, each with a GitHub connector on the fake API, a token and an `mcp` key, through the admin API.
    Returns ({slug: API key}, {slug: GitHub token})."""
    from benchmarks.targets._connector import connector_configuration

    keys: dict[str, str] = {}
    tokens: dict[str, str] = {}
    headers = {"Authorization": f"Bearer {admin_key}"}
    async with httpx.AsyncClient(base_url=base + "/api/v1/admin", headers=headers, timeout=30) as admin:

        async def call(method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
            r = await admin.request(method, path, json=body)
            if r.status_code >= 300:
                raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:500]}")
            data: dict[str, Any] = r.json()
            return data

        for i in range(tenants):
            slug = f"tenant-{i}"
            await call("POST", "/tenants", {"slug": slug, "name": f"Soak tenant {i}"})
            connector = {
                "connector_type": "github",
                "name": "github",
                "configuration": connector_configuration(upstream),
            }
            await call("POST", f"/tenants/{slug}/connectors", connector)
            tokens[slug] = "ghp_" + secrets.token_hex(18)
            await call("PUT", f"/tenants/{slug}/credentials/github", {"token": tokens[slug], "account": slug})
            keys[slug] = str(
                (await call("POST", f"/tenants/{slug}/api-keys", {"scopes": ["mcp"], "name": "soak"}))["key"]
            )
    return keys, tokens


async def _tool_count(base: str, path: str, key: str) -> int:
    from tests.reliability import _clients as c

    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        reply = await c.call_modern(http, path, key, "tools/list", {})
    if reply.status != 200 or not reply.result:
        raise RuntimeError(f"tools/list on the reference server: {reply.status} {reply.text[:500]}")
    names = [t["name"] for t in reply.result["tools"]]
    if "github_get_issue" not in names:
        raise RuntimeError(f"the GitHub connector serves no github_get_issue: {names}")
    return len(names)


_METRIC = re.compile(r"^(sagemcp_mcp_active_sessions|sagemcp_mcp_active_connections) ([0-9.e+]+)$", re.M)


@contextlib.asynccontextmanager
async def reference_server(tenants: int, upstream: str, database: str | None) -> AsyncIterator[Target]:
    """`python -m sagemcp_server serve`, configured through `SAGEMCP_*` variables, provisioned over HTTP."""
    from sagemcp.platform import SecretBox
    from tests.reliability._support import free_port

    workdir = Path(tempfile.mkdtemp(prefix="sagemcp-soak-"))
    log = workdir / "server.log"
    try:
        async with soak_database(database, workdir) as (url, backend):
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            admin_key = "smcp_" + secrets.token_urlsafe(32)
            env = {
                **os.environ,
                "SAGEMCP_DATABASE_URL": url,
                "SAGEMCP_SECRET_KEYS": SecretBox.generate_key(),
                "SAGEMCP_ADMIN_KEY": admin_key,
                "SAGEMCP_HOST": "127.0.0.1",
                "SAGEMCP_PORT": str(port),
                "SAGEMCP_PUBLIC_URL": base,
                "SAGEMCP_DATA_DIR": str(workdir),
                "SAGEMCP_WORKERS": "1",
                "SAGEMCP_LOG_LEVEL": "warning",
                "SAGEMCP_LOG_FORMAT": "text",
                "SAGEMCP_MCP_STATEFUL": "true",
                "SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS": "1",  # the fake GitHub API listens on 127.0.0.1
            }
            with log.open("wb") as out:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "sagemcp_server", "serve"], cwd=workdir, env=env, stdout=out, stderr=out
                )
            try:
                await _wait_ready(base, "/readyz", proc, log)
                keys, tokens = await provision(base, admin_key, tenants, upstream)
                profile = reference_profile(
                    tokens,
                    await _tool_count(
                        base, f"/api/v1/{next(iter(keys))}/connectors/github/mcp", next(iter(keys.values()))
                    ),
                )

                async def stats(http: httpx.AsyncClient) -> dict[str, int]:
                    found = dict(_METRIC.findall((await http.get("/metrics")).text))
                    return {
                        "sessions": int(float(found.get("sagemcp_mcp_active_sessions", "0"))),
                        "sse_sessions": int(float(found.get("sagemcp_mcp_active_connections", "0"))),
                    }

                yield Target(base, proc.pid, keys, profile, stats, backend)
            finally:
                _stop(proc)
                errors = [line for line in log.read_text(errors="replace").splitlines() if "Traceback" in line]
                if errors:
                    print(f"the server logged {len(errors)} tracebacks; see its log below", file=sys.stderr)
                    print(log.read_text(errors="replace")[-5000:], file=sys.stderr)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


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
    """Core: legacy SSE sessions; reference server: MCP requests and streams open (`sagemcp_mcp_active_connections`)."""
    rate: float


@dataclass
class Report:
    duration: float
    server: str = "core"
    database: str = "memory"
    tenants: int = 0
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
    rss_max_kb: int = 0
    fds_warm: int = 0
    fds_end: int = 0
    fds_max: int = 0
    sessions_warm: int = 0
    sessions_end: int = 0
    sessions_max: int = 0
    idle_after_s: float = 0.0
    """Seconds after the load until file descriptors and sessions were back at their warm-up level."""
    samples: list[dict[str, Any]] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)


# -- the load ------------------------------------------------------------------------------------------


class Load:
    def __init__(self, target: Target) -> None:
        self.base = target.base
        self.keys = target.keys
        self.profile = target.profile
        self._stats = target.stats
        self.slugs = sorted(self.keys)
        self.http = httpx.AsyncClient(base_url=self.base, timeout=30, limits=httpx.Limits(max_connections=256))
        self.count: Counter[str] = Counter()
        self.unexpected: list[str] = []
        self.latencies: list[float] = []
        self.by_kind: dict[str, list[float]] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        await self.http.aclose()

    async def hang_up(self) -> None:
        """Close every connection of the load (what the server holds open afterwards is its own); keep one
        client for reading the server's statistics."""
        await self.http.aclose()
        self.http = httpx.AsyncClient(base_url=self.base, timeout=30)

    async def stats(self) -> dict[str, int]:
        return await self._stats(self.http)

    def fail(self, kind: str, detail: str) -> None:
        self.unexpected.append(f"{kind}: {detail[:300]}")

    async def one(self, rng: random.Random) -> None:
        from tests.reliability import _clients as c

        profile = self.profile
        slug = rng.choice(self.slugs)
        key = self.keys[slug]
        path = profile.path(slug)
        base_path = path.removesuffix("/mcp")
        roll = rng.random()
        started = time.perf_counter()
        reply: Any = None
        if roll < 0.35:
            kind = "modern tools/list"
            reply = await c.call_modern(self.http, path, key, "tools/list", {})
            ok = reply.status == 200 and len(reply.result["tools"]) == profile.tools
        elif roll < 0.65:
            kind = "modern tools/call"
            call = rng.choice(profile.calls)
            reply = await c.call_modern(
                self.http, path, key, "tools/call", {"name": call.name, "arguments": call.arguments}
            )
            ok = reply.status == 200 and call.check(reply.result, slug)
        elif roll < 0.85:
            kind = "stateful session"
            init, session = await c.open_session(self.http, path, key)
            ok = init.status == 200 and session is not None
            reply = init
            if ok:
                call = profile.session_call
                params = {"name": call.name, "arguments": call.arguments}
                for _ in range(3):
                    reply = await c.call_handshake(self.http, path, key, "tools/call", params, session=session)
                    ok = ok and reply.status == 200 and call.check(reply.result, slug)
                await self.http.delete(path, headers={"Mcp-Session-Id": session, **c.auth(key)})
        elif roll < 0.93:
            kind = "websocket"
            call = profile.session_call
            async with c.ws_connect(self.base, base_path + "/ws", key) as ws:
                await c.ws_handshake(ws)
                reply = await c.ws_exchange(
                    ws, c.request("tools/call", {"name": call.name, "arguments": call.arguments})
                )
                ok = "result" in reply and call.check(reply["result"], slug)
        else:
            kind = "legacy sse"
            async with c.sse_session(self.http, base_path + "/sse", key) as sse:
                await sse.handshake(key)
                status, reply = await sse.call("tools/list", {}, key)
                ok = status == 202 and reply is not None and len(reply["result"]["tools"]) == profile.tools
        self.latencies.append(time.perf_counter() - started)
        self.by_kind.setdefault(kind, []).append(time.perf_counter() - started)
        self.count[kind] += 1
        if not ok:
            self.fail(kind, str(reply))

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


async def run(
    duration: float,
    tenants: int,
    fraction: float,
    *,
    server: str = "core",
    database: str | None = None,
    measure: float | None = None,
) -> Report:
    from tests.reliability._fake_upstream import FakeUpstream

    report = Report(duration=duration, server=server, tenants=tenants)
    async with FakeUpstream(default=github_api() if server == "reference" else None) as fake:
        started = core_server(tenants, fake.url) if server == "core" else reference_server(tenants, fake.url, database)
        async with started as target:
            report.database = target.database
            load = Load(target)
            try:
                await execute(load, target.pid, report, duration, fraction, fake, measure)
            finally:
                await load.close()
    return report


async def execute(
    load: Load, pid: int, report: Report, duration: float, fraction: float, fake: Any, measure: float | None = None
) -> None:
    measure = measure if measure is not None else min(20.0, max(5.0, duration * 0.05))
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
        s = await load.stats()
        fake.seen.clear()  # the fake upstream keeps what it saw; the soak does not need it
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
    report.achieved_per_s = sum(load.count.values()) / elapsed
    warm = [s for s in samples if s.t >= warmup] or samples
    first = warm[:3]
    fds_warm = min(s.fds for s in first)
    await load.hang_up()
    while True:  # idle: until the server is back at its warm-up level, or IDLE_WAIT has passed
        await asyncio.sleep(1.0)
        await tick(time.monotonic() - started)
        idle_for = time.monotonic() - started - elapsed
        last_sample = samples[-1]
        settled = last_sample.fds <= fds_warm + FD_MARGIN and last_sample.sessions + last_sample.sse_sessions == 0
        if settled or idle_for >= IDLE_WAIT:
            report.idle_after_s = round(idle_for, 1)
            break
    report.kinds = dict(load.count)
    report.unexpected = len(load.unexpected)
    report.examples = load.unexpected[:10]
    if load.latencies:
        ordered = sorted(load.latencies)
        report.latency_ms_p50 = statistics.median(ordered) * 1000
        report.latency_ms_p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000
    for kind, values in sorted(load.by_kind.items()):
        ordered = sorted(values)
        report.latency_ms_by_kind[kind] = {
            "p50": round(statistics.median(ordered) * 1000, 1),
            "p99": round(ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000, 1),
        }
    report.samples = [asdict(s) for s in samples]
    end = samples[-3:]
    report.rss_warm_kb = int(statistics.median(s.rss_kb for s in first))
    report.rss_end_kb = int(statistics.median(s.rss_kb for s in end))
    report.rss_growth = (report.rss_end_kb - report.rss_warm_kb) / report.rss_warm_kb
    report.rss_max_kb = max(s.rss_kb for s in samples)
    idle = samples[-1]
    report.fds_warm = fds_warm
    report.fds_end = idle.fds
    report.fds_max = max(s.fds for s in samples)
    report.sessions_warm = min(s.sessions + s.sse_sessions for s in first)
    report.sessions_end = idle.sessions + idle.sse_sessions
    report.sessions_max = max(s.sessions + s.sse_sessions for s in samples)
    if report.unexpected:
        report.broken.append(f"{report.unexpected} unexpected errors, e.g. {report.examples[:3]}")
    if report.rss_growth >= RSS_GROWTH_LIMIT:
        report.broken.append(f"RSS grew {report.rss_growth:.1%} (limit {RSS_GROWTH_LIMIT:.0%})")
    if report.fds_end > report.fds_warm + FD_MARGIN:
        report.broken.append(
            f"file descriptors {report.fds_warm} -> {report.fds_end}, {IDLE_WAIT:.0f} s after the load"
        )
    if report.sessions_end > SESSION_MARGIN:
        report.broken.append(f"{report.sessions_end} sessions still open {IDLE_WAIT:.0f} s after the load stopped")
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
    parser.add_argument(
        "--server",
        choices=["core", "reference"],
        default="core",
        help="core: core's adapter over a MemoryStore; reference: `sagemcp serve` on --database",
    )
    parser.add_argument(
        "--database",
        help="reference server: sqlite+aiosqlite:///FILE, or postgresql+asyncpg://USER@HOST:PORT/DB where a "
        "throwaway database is created and dropped (default: SQLite in a temporary directory)",
    )
    parser.add_argument("--duration", type=float, default=float(os.environ.get("SAGEMCP_SOAK", "600")))
    parser.add_argument(
        "--measure", type=float, help="seconds of capacity measurement (default 5 % of the duration, 5-20 s)"
    )
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--rate", type=float, default=0.7, help="fraction of the measured capacity")
    parser.add_argument("--report", type=Path, help="write the report as JSON here")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--upstream", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.tenants, args.upstream)
        return 0
    if args.database and args.server != "reference":
        parser.error("--database needs --server reference (the core server keeps everything in memory)")
    report = asyncio.run(
        run(args.duration, args.tenants, args.rate, server=args.server, database=args.database, measure=args.measure)
    )
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
