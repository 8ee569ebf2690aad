"""Process plumbing for the benchmark: start pinned processes, wait for them, measure them, run wrk.

Server CPU comes from `/proc/<pid>/stat` (utime + stime of the process and its
children), peak RSS from `/proc/<pid>/status` (`VmHWM`, reset before each
measurement through `/proc/<pid>/clear_refs` where the kernel allows it).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
WRK_SCRIPT = Path(__file__).resolve().parent / "wrk" / "mcp.lua"


class HarnessError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Pinning:
    """Which CPUs the server and the load side (wrk, fake upstream, database) run on."""

    server: int | None
    load: int | None

    @classmethod
    def choose(cls, enabled: bool = True) -> Pinning:
        cpus = sorted(os.sched_getaffinity(0))
        if not enabled or len(cpus) < 2 or shutil.which("taskset") is None:
            return cls(None, None)
        return cls(cpus[0], cpus[1])

    def prefix(self, cpu: int | None) -> list[str]:
        return ["taskset", "-c", str(cpu)] if cpu is not None else []

    def describe(self) -> str:
        if self.server is None:
            return "not pinned (fewer than 2 CPUs, taskset missing, or --no-pin)"
        return f"server on CPU {self.server}; wrk, fake upstream, database and harness on CPU {self.load}"


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    started: float = field(default_factory=time.monotonic)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def tree(self) -> list[int]:
        """This process and its descendants."""
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
        out, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo.extend(children.get(pid, []))
        return out

    def cpu_seconds(self) -> float:
        total = 0
        for pid in self.tree():
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / CLK_TCK

    def _status_kb(self, key: str) -> int:
        best = 0
        for pid in self.tree():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith(key + ":"):
                        best = max(best, int(line.split()[1]))
        return best

    def rss_mb(self) -> float:
        return self._status_kb("VmRSS") / 1024

    def peak_rss_mb(self) -> float:
        return self._status_kb("VmHWM") / 1024

    def reset_peak(self) -> bool:
        ok = True
        for pid in self.tree():
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("5")
            except OSError:
                ok = False
        return ok

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(5)

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""


def start(
    name: str, cmd: list[str], *, cpu: int | None, pinning: Pinning, logdir: Path, env: dict[str, str] | None = None
) -> Proc:
    log = logdir / f"{name}.log"
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    handle = log.open("ab")
    popen = subprocess.Popen(
        pinning.prefix(cpu) + cmd,
        stdout=handle,
        stderr=subprocess.STDOUT,
        env=full_env,
        cwd=ROOT,
        start_new_session=True,
    )
    handle.close()
    return Proc(name, popen, log)


def http_get(port: int, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_ready(proc: Proc, port: int, path: str, *, need_ok: bool, timeout: float = 60.0) -> float:
    """Seconds from process start until `GET path` answers (200 when `need_ok`, any status otherwise)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise HarnessError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.tail()}")
        try:
            status, _ = http_get(port, path, timeout=2.0)
            if status == 200 or not need_ok:
                return time.monotonic() - proc.started
        except OSError:
            pass
        time.sleep(0.02)
    raise HarnessError(f"{proc.name} not ready on port {port} after {timeout:.0f} s:\n{proc.tail()}")


def cpu_busy() -> dict[str, tuple[int, int]]:
    """Per-CPU (busy, total) jiffies from /proc/stat."""
    out = {}
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("cpu") and line[3:4].isdigit():
            name, *values = line.split()
            nums = [int(v) for v in values]
            idle = nums[3] + (nums[4] if len(nums) > 4 else 0)
            out[name] = (sum(nums) - idle, sum(nums))
    return out


def wrk_path() -> str | None:
    return shutil.which("wrk")


WRK_HELP = (
    "wrk is needed to generate load. Install it with `apt-get install -y wrk` (Debian/Ubuntu; run "
    "`apt-get update` first), `brew install wrk` (macOS), or build it from https://github.com/wg/wrk."
)


def ensure_wrk(install: bool) -> str:
    """The wrk binary; installs it with apt-get when `install` and possible, else explains how."""
    found = wrk_path()
    if found:
        return found
    if install and shutil.which("apt-get") and os.geteuid() == 0:
        print("wrk not found: installing it with apt-get ...", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False)
        found = wrk_path()
        if found:
            return found
    raise HarnessError(WRK_HELP)


def run_wrk(
    port: int,
    path: str,
    spec: Path,
    expect: str,
    *,
    connections: int,
    duration: float,
    pinning: Pinning,
    timeout_s: int = 10,
) -> dict[str, Any]:
    cmd = [
        *pinning.prefix(pinning.load),
        ensure_wrk(False),
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        f"--timeout={timeout_s}s",
        "-s",
        str(WRK_SCRIPT),
        f"http://127.0.0.1:{port}{path}",
        "--",
        str(spec),
        expect,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + timeout_s + 30, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("WRK_JSON "):
            result: dict[str, Any] = json.loads(line[len("WRK_JSON ") :])
            return result
    raise HarnessError(f"wrk failed ({done.returncode}): {done.stdout[-800:]} {done.stderr[-800:]}")


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _first_line(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else "unknown"


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    return 0.0


def _git() -> dict[str, Any]:
    commit = _first_line(["git", "-C", str(ROOT), "rev-parse", "HEAD"])
    dirty = _first_line(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"])
    return {"commit": commit, "dirty": dirty not in ("", "unknown")}


def _uvicorn_impl(loop: str, http_impl: str) -> dict[str, str]:
    """What uvicorn's `auto` resolves to in this environment."""
    import importlib.util

    if loop == "auto":
        loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    if http_impl == "auto":
        http_impl = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return {"loop": loop, "http": http_impl}


def machine(loop: str = "auto", http_impl: str = "auto") -> dict[str, Any]:
    import importlib.util

    dists = [
        "mcp",
        "sagemcp-core",
        "sagemcp-server",
        "sagemcp-connector-github",
        "starlette",
        "uvicorn",
        "httpx",
        "httpcore",
        "anyio",
        "sniffio",
        "pydantic",
        "pydantic-core",
        "sqlalchemy",
        "aiosqlite",
        "asyncpg",
        "uvloop",
        "httptools",
        "prometheus-client",
    ]
    os_name = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')
    return {
        "cpu_model": _cpu_model(),
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "memory_gib": _memory_gib(),
        "kernel": platform.release(),
        "os": os_name,
        "python": sys.version.split()[0],
        "python_impl": platform.python_implementation(),
        "uvicorn": _uvicorn_impl(loop, http_impl),
        "wrk": " ".join(_first_line([wrk_path() or "wrk", "-v"]).split()[:2]) if wrk_path() else None,
        "packages": {d: _version(d) for d in dists},
        "sniffio_importable": importlib.util.find_spec("sniffio") is not None,
        "loadavg_start": os.getloadavg(),
        "git": _git(),
    }


def natural_key(text: str) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text)]
