"""Run one suite of the official MCP conformance suite against a real sagemcp server process.

`python -m tests.conformance.run` (from the repository root) picks a free port, starts
`python -m tests.conformance.server` on it, waits until it answers, runs `conformance server
--url ... --suite active` (or the scenario given with `--scenario NAME`), prints the suite's
output and the details of every failed or warning check, stops the server and exits 0 only
if every scenario ran and no check failed. CI scores the per-revision requirement sets
instead (`nox -s conformance`, `tests/conformance/requirements.py`, which reuses the server
handling here); this runner is for running one scenario or suite by hand.

Node.js 22 and the suite come from the environment: `SAGEMCP_CONFORMANCE_NODE` (the node
binary) and `SAGEMCP_CONFORMANCE_CLI` (the suite's `dist/index.js`, e.g. the one `nox -s
conformance` installs under `.tools/conformance-authorization/`). Extra arguments are passed
on to the suite, e.g. `--scenario tools-call-image` to run one scenario.

The verdict takes the suite's exit code (1 when any check has status FAILURE), its summary
and the `checks.json` it writes per scenario, and requires all three to agree. Checks with
status WARNING (SHOULD-level advice) count as passing, as they do for the suite itself; they
are printed, and `--fail-on-warnings` makes them fail the run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SERVER_START_TIMEOUT = 30.0
SUITE_TIMEOUT = 600.0
SERVER_STOP_TIMEOUT = 10.0

_RUNNING_RE = re.compile(r"^Running \w+ suite \((\d+) scenarios\)", re.MULTILINE)
_SCENARIO_RE = re.compile(r"^[✓✗] (\S+): (\d+) passed, (\d+) failed$", re.MULTILINE)
_TOTAL_RE = re.compile(r"^Total: (\d+) passed, (\d+) failed$", re.MULTILINE)
_SINGLE_RE = re.compile(r"^Passed: (\d+)/(\d+), (\d+) failed, (\d+) warnings$", re.MULTILINE)
_RESULT_DIR_RE = re.compile(r"^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$")


class SetupError(Exception):
    """The run could not start: missing tools, or a server that never answered."""


@dataclass
class Verdict:
    passed: int = 0
    failed: int = 0
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def tool_paths() -> tuple[str, str]:
    """The node binary and the suite's CLI, from the environment; there is deliberately no fallback."""
    node = os.environ.get("SAGEMCP_CONFORMANCE_NODE", "")
    cli = os.environ.get("SAGEMCP_CONFORMANCE_CLI", "")
    missing = [
        name for name, value in (("SAGEMCP_CONFORMANCE_NODE", node), ("SAGEMCP_CONFORMANCE_CLI", cli)) if not value
    ]
    if missing:
        raise SetupError(
            f"{' and '.join(missing)} not set. `nox -s conformance --install-only` installs Node.js 22 and "
            "@modelcontextprotocol/conformance into .tools/conformance-authorization; then set them: "
            "SAGEMCP_CONFORMANCE_NODE=<node 22 binary> "
            "SAGEMCP_CONFORMANCE_CLI=<.../@modelcontextprotocol/conformance/dist/index.js>."
        )
    for name, value in (("SAGEMCP_CONFORMANCE_NODE", node), ("SAGEMCP_CONFORMANCE_CLI", cli)):
        if not Path(value).is_file():
            raise SetupError(f"{name}={value} does not exist. Run `nox -s conformance` to install the suite.")
    return node, cli


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_answering(url: str, server: subprocess.Popen[bytes], timeout: float) -> None:
    """Poll until the server answers HTTP at `url` (any status), or raise `SetupError`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SetupError(f"the server exited with code {server.returncode} before answering")
        try:
            with urllib.request.urlopen(urllib.request.Request(url, method="GET"), timeout=2):
                return
        except urllib.error.HTTPError:
            return  # any HTTP answer (405, 400 without a session...) means it is up
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise SetupError(f"the server did not answer at {url} within {timeout:.0f} s")


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=SERVER_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=SERVER_STOP_TIMEOUT)


def judge(returncode: int, output: str, results_dir: Path, fail_on_warnings: bool) -> Verdict:
    """Cross-check the exit code, the printed summary and the saved checks of every scenario."""
    verdict = Verdict()
    checks: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(results_dir.glob("*/checks.json")):
        checks[path.parent.name] = json.loads(path.read_text())
    for dir_name, items in checks.items():
        matched = _RESULT_DIR_RE.match(dir_name)
        scenario = matched.group(1) if matched else dir_name
        for check in items:
            status = check.get("status")
            where = f"{scenario} / {check.get('id')}"
            detail = check.get("errorMessage") or check.get("description", "")
            if status == "SUCCESS":
                verdict.passed += 1
            elif status == "FAILURE":
                verdict.failed += 1
                verdict.problems.append(f"FAILURE {where}: {detail}")
            elif status == "WARNING":
                verdict.warnings.append(f"WARNING {where}: {detail}")
    if returncode != 0:
        verdict.problems.append(f"the suite exited with code {returncode}")

    running = _RUNNING_RE.search(output)
    single = _SINGLE_RE.search(output)
    if running is not None:  # a suite: one summary line per scenario, then a total
        expected = int(running.group(1))
        summary = _SCENARIO_RE.findall(output)
        total = _TOTAL_RE.search(output)
        if total is None:
            verdict.problems.append("the suite's output has no total (did it crash?)")
        elif int(total.group(2)) != 0:
            verdict.problems.append(f"the suite's summary counts {total.group(2)} failed checks")
        if len(summary) != expected:
            verdict.problems.append(f"the suite announced {expected} scenarios but summarised {len(summary)}")
    elif single is not None:  # --scenario NAME
        expected = 1
        if int(single.group(3)) != 0:
            verdict.problems.append(f"the suite counts {single.group(3)} failed checks")
    else:
        expected = 0
        verdict.problems.append("the suite's output has no summary (did it crash?)")
    if len(checks) != expected:
        verdict.problems.append(f"the suite ran {expected} scenarios but saved results for {len(checks)}")
    if verdict.passed == 0:
        verdict.problems.append("no check passed")
    if fail_on_warnings and verdict.warnings:
        verdict.problems.append(f"{len(verdict.warnings)} warnings, and --fail-on-warnings was given")
    return verdict


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fail-on-warnings", action="store_true", help="fail when any check has status WARNING")
    parser.add_argument("--timeout", type=float, default=SUITE_TIMEOUT, help="seconds the whole suite may take")
    args, suite_args = parser.parse_known_args(argv)
    try:
        node, cli = tool_paths()
    except SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from .server import PATH  # after the check above, so a missing tool is reported before any import fails

    port = free_port()
    url = f"http://127.0.0.1:{port}{PATH}"
    with tempfile.TemporaryDirectory(prefix="sagemcp-conformance-") as tmp:
        server_log = Path(tmp) / "server.log"
        results_dir = Path(tmp) / "results"
        with server_log.open("wb") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "tests.conformance.server", "--port", str(port)],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        failure: SetupError | None = None
        try:
            wait_until_answering(url, server, SERVER_START_TIMEOUT)
            command = [node, cli, "server", "--url", url, "-o", str(results_dir)]
            if not any(a == "--scenario" or a.startswith("--scenario=") for a in suite_args):
                command += ["--suite", "active"]
            command += suite_args
            print(f"$ {' '.join(command)}", flush=True)
            try:
                completed = subprocess.run(
                    command, cwd=ROOT, capture_output=True, text=True, timeout=args.timeout, check=False
                )
            except subprocess.TimeoutExpired as exc:
                print(_text(exc.stdout), _text(exc.stderr), sep="\n")
                raise SetupError(f"the suite did not finish within {args.timeout:.0f} s") from None
            print(completed.stdout, end="")
            print(completed.stderr, end="", file=sys.stderr)
            verdict = judge(completed.returncode, completed.stdout, results_dir, args.fail_on_warnings)
        except SetupError as exc:
            failure = exc
        finally:
            stop(server)
        if failure is not None:
            print(f"error: {failure}\n--- server log ---\n{server_log.read_text(errors='replace')}", file=sys.stderr)
            return 2

        print("\n=== sagemcp verdict ===")
        for line in verdict.warnings:
            print(line)
        for line in verdict.problems:
            print(line)
        print(f"{verdict.passed} checks passed, {verdict.failed} failed, {len(verdict.warnings)} warnings")
        if not verdict.ok:
            print(f"--- server log ---\n{server_log.read_text(errors='replace')}", file=sys.stderr)
            print("CONFORMANCE FAILED")
            return 1
        print("CONFORMANCE PASSED")
        return 0


def _text(value: str | bytes | None) -> str:
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else value


if __name__ == "__main__":
    sys.exit(main())
