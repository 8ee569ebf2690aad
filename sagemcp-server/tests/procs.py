"""Helpers to run real server processes in tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAGEMCP_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def start(
    args: list[str], env: dict[str, str], log_dir: Path, name: str, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    out = open(log_dir / f"{name}.out", "wb")  # noqa: SIM115 - closed with the process
    err = open(log_dir / f"{name}.err", "wb")  # noqa: SIM115
    return subprocess.Popen([sys.executable, *args], env=env, stdout=out, stderr=err, cwd=cwd)


def wait_ready(port: int, proc: subprocess.Popen[bytes], log_dir: Path, name: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"{name} exited with {proc.returncode}:\n{(log_dir / f'{name}.err').read_text()[-3000:]}"
            )
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{name} did not become ready:\n{(log_dir / f'{name}.err').read_text()[-3000:]}")


def stop(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> int:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode
