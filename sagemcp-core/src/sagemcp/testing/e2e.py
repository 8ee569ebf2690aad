"""End-to-end test harness: a fake upstream over real HTTP, a server process, and the official MCP client.

    with fake_upstream(lambda upstream: my_fake_api(upstream)) as upstream:  # uvicorn in a thread
        env = operator_environment(data_dir)
        sagemcp_cli(env, "tenant", "create", "acme")
        with server_process([sys.executable, "-m", "sagemcp_server", "serve", "--port", str(port)],
                            port=port, log=data_dir / "server.log", env=env):
            async with mcp_client(url, api_key) as client:
                result = await client.call_tool("my_get_thing", {"id": 1})
            assert upstream.requests[0]["headers"]["authorization"] == "Bearer test-token"

`fake_upstream` serves a Starlette (any ASGI) app built for the `FakeUpstream` record it is given, in a
thread, so that it outlives one test's event loop (module-scoped fixtures); its socket is bound before the
app is built, so the app knows its own URL (for links it hands out). `server_process` runs a server command,
waits until it listens (and, with `ready_path`, answers 200 there), prints its log when anything fails, and
stops it. `sagemcp_cli` runs the reference server's `sagemcp` command (`sagemcp-server` must be installed)
as an operator would. `mcp_client` is the MCP SDK's client over Streamable HTTP with an API key.

Needs the `testing` extra (uvicorn); the MCP SDK comes with sagemcp-core.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from .server import _bind

__all__ = [
    "FakeUpstream",
    "fake_upstream",
    "mcp_client",
    "operator_environment",
    "sagemcp_cli",
    "server_process",
    "stop_process",
    "text_of",
    "wait_for_port",
]

DEADLINE = 60.0
"""Seconds a server may take to start, a CLI command to finish, an MCP request to be answered."""


@dataclass
class FakeUpstream:
    """A fake upstream's base URL, the requests it received, and the contract violations it found."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    """One entry per request, as the fake's app records it (method, path, headers, body...)."""
    violations: list[str] = field(default_factory=list)
    """Why requests did not match the upstream's API description; a test asserts this stays empty."""

    def reset(self) -> FakeUpstream:
        """Forget earlier tests' requests and violations (for a module-scoped fake); returns itself."""
        self.requests.clear()
        self.violations.clear()
        return self


def wait_for_port(
    port: int,
    process: subprocess.Popen[bytes] | None = None,
    *,
    host: str = "127.0.0.1",
    timeout: float = DEADLINE,
) -> None:
    """Return once something accepts connections on `host:port`; `AssertionError` when `process` exits first
    or nothing listens within `timeout` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the server process exited with {process.returncode}")
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listened on {host}:{port} within {timeout} seconds")


@contextlib.contextmanager
def fake_upstream(
    build: Callable[[FakeUpstream], Any],
    *,
    name: str = "fake-upstream",
    host: str = "127.0.0.1",
    timeout: float = DEADLINE,
) -> Iterator[FakeUpstream]:
    """Serve the ASGI app `build(upstream)` returns under uvicorn in a thread; yield its `FakeUpstream`."""
    try:
        import uvicorn
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError('sagemcp.testing.fake_upstream needs uvicorn: pip install "sagemcp-core[testing]"') from exc

    sock = _bind(host, 0)
    port = int(sock.getsockname()[1])
    upstream = FakeUpstream(url=f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}")
    config = uvicorn.Config(build(upstream), host=host, port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True)
    thread.start()
    try:
        end = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError(f"the {name} server stopped before it started")
            if time.monotonic() > end:
                raise TimeoutError(f"the {name} server did not start within {timeout} seconds")
            time.sleep(0.01)
        yield upstream
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextlib.contextmanager
def server_process(
    command: Sequence[str],
    *,
    port: int,
    log: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    ready_path: str | None = None,
    timeout: float = DEADLINE,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` (a server listening on 127.0.0.1:`port`) until the block ends, its output in `log`.

    Yields once the port accepts connections and, with `ready_path` (`/readyz`), once that path answers 200.
    When starting fails or the block raises, the log is written to standard error (pytest shows it with the
    failure). The process is stopped at the end (`stop_process`).
    """
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - the test's own server command
            list(command),
            env=dict(env) if env is not None else None,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port(port, process, timeout=timeout)
            if ready_path is not None:
                _wait_until_ready(f"http://127.0.0.1:{port}{ready_path}", timeout)
            yield process
        except BaseException:
            out.flush()
            sys.stderr.write(log.read_text(errors="replace"))
            raise
        finally:
            stop_process(process)


def stop_process(process: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    """Terminate `process` and wait for it; kill it when it has not stopped within `timeout` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def _wait_until_ready(url: str, timeout: float) -> None:
    end = time.monotonic() + timeout
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        if time.monotonic() > end:
            raise AssertionError(f"{url} did not answer 200 within {timeout} seconds")
        time.sleep(0.1)


def operator_environment(data_dir: Path | None = None, **settings: str) -> dict[str, str]:
    """This process's environment without its `SAGEMCP_*` variables, for a server set up from scratch.

    Loopback upstreams are allowed (the fakes listen on 127.0.0.1) and the log level is `warning`;
    `data_dir` becomes `SAGEMCP_DATA_DIR`, and `settings` (`SAGEMCP_PUBLIC_URL="..."`) are added as given.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("SAGEMCP_")}
    env.update(SAGEMCP_ALLOW_LOOPBACK_UPSTREAMS="1", SAGEMCP_LOG_LEVEL="warning", PYTHONUNBUFFERED="1")
    if data_dir is not None:
        env["SAGEMCP_DATA_DIR"] = str(data_dir)
    env.update(settings)
    return env


def sagemcp_cli(
    env: Mapping[str, str],
    *args: str,
    stdin: str | None = None,
    cwd: Path | None = None,
    timeout: float = DEADLINE,
) -> str:
    """Run the reference server's `sagemcp` command with `args`; its standard output, or `AssertionError`
    with its standard error when it fails. `stdin` is written to its standard input (a secret, say)."""
    done = subprocess.run(  # noqa: S603 - this interpreter's sagemcp_server, with the test's arguments
        [sys.executable, "-m", "sagemcp_server", *args],
        env=dict(env),
        cwd=cwd,
        input=stdin.encode() if stdin is not None else None,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"sagemcp {' '.join(args)} failed: {done.stderr.decode(errors='replace')}"
    return done.stdout.decode()


@contextlib.asynccontextmanager
async def mcp_client(
    url: str,
    api_key: str | None = None,
    *,
    timeout: float = DEADLINE,  # noqa: ASYNC109 - the client's per-request deadline, not the block's
) -> AsyncIterator[Any]:
    """The MCP SDK's `Client` on the endpoint `url` over Streamable HTTP, sending `api_key` as a bearer token."""
    # Imported here: the rest of sagemcp.testing runs without opening an MCP session.
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    headers = {"Authorization": f"Bearer {api_key}"} if api_key is not None else {}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(timeout)) as http:
        transport = streamable_http_client(url, http_client=http)
        async with Client(transport, read_timeout_seconds=timeout) as client:  # type: ignore[arg-type]
            yield client


def text_of(result: Any) -> str:
    """The text parts of an MCP tool result, joined."""
    return "".join(getattr(part, "text", "") for part in result.content)
