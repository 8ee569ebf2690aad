"""`sagemcp serve` processes on one PostgreSQL schema behind HAProxy, for the scale-out tests.

`Balanced` makes a private schema in the database of `SAGEMCP_TEST_POSTGRES_URL`, upgrades it once with
`sagemcp db upgrade` (as the compose file's `migrate` service and the chart's Job do), starts replicas with
`sagemcp serve --no-migrate` (the operator's command, with the installed connectors) and an HAProxy from
Debian's package in front of them: round-robin, health checks on `/readyz`, and the response header
`X-Served-By` naming the replica that answered. Replicas can be stopped with SIGTERM and started again on
the same port, one at a time, as a rolling restart does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from ._support import free_port

ROOT = Path(__file__).resolve().parents[2]
HAPROXY_CONFIG = """\
global
    maxconn 4096
    stats socket {socket} mode 600 level admin
    log stdout format raw local0 info

defaults
    mode http
    log global
    option httplog
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    # Generous: a replica starting up beside busy ones on a small machine answers /readyz slowly.
    timeout check 2s
    # A request that reached no replica (refused, or reset before any byte of an answer: a stopping replica
    # closes its listener with connections still in its backlog) goes to another one.
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response
    # The whole request is read before it is forwarded, so that it can be sent again.
    option http-buffer-request

frontend mcp
    bind 127.0.0.1:{port}
    default_backend replicas

backend replicas
    balance roundrobin
    option http-server-close
    option httpchk
    http-check send meth GET uri /readyz
    http-check expect status 200
    default-server inter 500ms fall 3 rise 2
    http-response set-header X-Served-By %[srv_name]
{servers}
"""


def haproxy() -> str | None:
    return shutil.which("haproxy") or next((p for p in ("/usr/sbin/haproxy",) if os.access(p, os.X_OK)), None)


def sagemcp_command() -> list[str]:
    script = Path(sys.executable).parent / "sagemcp"
    return [str(script)] if script.exists() else [sys.executable, "-m", "sagemcp_server.cli"]


@dataclass
class Replica:
    name: str
    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Balanced:
    url: str
    count: int = 3
    settings: dict[str, str] = field(default_factory=dict)
    schema: str = field(default_factory=lambda: f"lb_{secrets.token_hex(6)}")
    admin_key: str = field(default_factory=lambda: "test-admin-" + secrets.token_urlsafe(24))
    secret_key: str = ""
    replicas: list[Replica] = field(default_factory=list)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="sagemcp-balanced-")))
    port: int = field(default_factory=free_port)
    lb: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        """The load balancer's URL."""
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SAGEMCP_")}
        env.update(
            PYTHONUNBUFFERED="1",
            SAGEMCP_DATABASE_URL=self.url,
            SAGEMCP_DATABASE_SCHEMA=self.schema,
            SAGEMCP_SECRET_KEYS=self.secret_key,
            SAGEMCP_ADMIN_KEY=self.admin_key,
            SAGEMCP_PUBLIC_URL=self.base,
            SAGEMCP_LOG_FORMAT="json",
            SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS="1",
        )
        env.update(self.settings)
        return env

    async def setup(self) -> None:
        from sqlalchemy import text

        from sagemcp.platform import SecretBox
        from sagemcp_server.db import create_engine

        self.secret_key = SecretBox.generate_key()
        engine = create_engine(self.url)
        async with engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        await engine.dispose()
        migrate = await asyncio.to_thread(
            subprocess.run, [*sagemcp_command(), "db", "upgrade"], env=self.env(), capture_output=True, timeout=120
        )
        assert migrate.returncode == 0, migrate.stderr.decode(errors="replace")
        for i in range(self.count):
            self.replicas.append(Replica(f"r{i}", free_port(), self.workdir / f"r{i}.log"))
        for replica in self.replicas:
            self.start(replica)
        for replica in self.replicas:
            await self.wait_ready(replica)
        self._start_haproxy()
        await self.wait_in_rotation(*self.replicas)

    def start(self, replica: Replica) -> None:
        with replica.log.open("ab") as out:
            replica.proc = subprocess.Popen(
                [*sagemcp_command(), "serve", "--no-migrate", "--host", "127.0.0.1", "--port", str(replica.port)],
                cwd=self.workdir,
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def terminate(self, replica: Replica) -> float:
        """SIGTERM, as Kubernetes and Docker stop a container; returns when it was sent (monotonic)."""
        assert replica.proc is not None
        replica.proc.send_signal(signal.SIGTERM)
        return time.monotonic()

    async def wait_exit(self, replica: Replica, timeout: float) -> int:
        assert replica.proc is not None
        deadline = time.monotonic() + timeout
        while replica.proc.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"{replica.name} still running {timeout} s after SIGTERM:\n{self.tail(replica)}")
            await asyncio.sleep(0.05)
        return replica.proc.returncode

    async def wait_ready(self, replica: Replica, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as http:
            while True:
                assert replica.proc is not None
                if replica.proc.poll() is not None:
                    raise AssertionError(f"{replica.name} exited:\n{self.tail(replica)}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(replica.base + "/readyz")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise AssertionError(f"{replica.name} not ready:\n{self.tail(replica)}")
                await asyncio.sleep(0.1)

    def tail(self, replica: Replica, chars: int = 3000) -> str:
        return replica.log.read_text(errors="replace")[-chars:] if replica.log.exists() else ""

    # -- HAProxy ---------------------------------------------------------------------------------

    @property
    def _socket(self) -> Path:
        return self.workdir / "haproxy.sock"

    def _start_haproxy(self) -> None:
        binary = haproxy()
        assert binary is not None
        servers = "\n".join(f"    server {r.name} 127.0.0.1:{r.port} check" for r in self.replicas)
        config = self.workdir / "haproxy.cfg"
        config.write_text(HAPROXY_CONFIG.format(port=self.port, socket=self._socket, servers=servers))
        check = subprocess.run([binary, "-c", "-f", str(config)], capture_output=True, timeout=30)
        assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()
        with (self.workdir / "haproxy.log").open("ab") as out:
            self.lb = subprocess.Popen([binary, "-db", "-f", str(config)], stdout=out, stderr=subprocess.STDOUT)

    def admin(self, command: str) -> str:
        """One command on HAProxy's admin socket (`show stat`, `set server ...`)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(str(self._socket))
            sock.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def states(self) -> dict[str, str]:
        """Each replica's status as HAProxy sees it (UP, DOWN, ...)."""
        states = {}
        for line in self.admin("show stat").splitlines():
            parts = line.split(",")
            if len(parts) > 17 and parts[0] == "replicas" and parts[1] not in ("FRONTEND", "BACKEND"):
                states[parts[1]] = parts[17]
        return states

    async def wait_in_rotation(self, *replicas: Replica, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(OSError):
                states = self.states()
                if all(states.get(r.name) == "UP" for r in replicas):
                    return
            if time.monotonic() > deadline:
                raise AssertionError(f"HAProxy does not see {[r.name for r in replicas]} up: {self.states()}")
            await asyncio.sleep(0.1)

    # -- teardown --------------------------------------------------------------------------------

    async def teardown(self) -> None:
        for replica in self.replicas:
            if replica.proc is not None and replica.proc.poll() is None:
                replica.proc.terminate()
        if self.lb is not None and self.lb.poll() is None:
            self.lb.terminate()
        for proc in [r.proc for r in self.replicas] + [self.lb]:
            if proc is None:
                continue
            try:
                await asyncio.to_thread(proc.wait, 20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        from sqlalchemy import text

        from sagemcp_server.db import create_engine

        engine = create_engine(self.url)
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
        await engine.dispose()
        if not os.environ.get("RELIABILITY_KEEP_LOGS"):
            shutil.rmtree(self.workdir, ignore_errors=True)
