"""Score a real sagemcp server against the conformance suite's per-revision requirement sets.

`python -m tests.conformance.requirements` (from the repository root; `nox -s conformance`
does it for you) starts `python -m tests.conformance.server` on a free port and runs
`conformance server --requirements REVISION` of `@modelcontextprotocol/conformance`
0.2.0-alpha.12 once per revision (2025-11-25 and 2026-07-28; the CLI takes one revision per
run) and once per route of the multi-tenant server: the per-connector endpoint
`/api/v1/conformance/connectors/test/mcp` and the tenant-wide endpoint `/api/v1/conformance/mcp`.

A run passes only if, for every route and revision, every required server scenario (as
`conformance list --requirements REVISION` names them) ran, saved its checks, passed at least
one check and failed none, and the suite's exit code agrees. Scenarios the suite runs but does
not score (pending, extension, added after the release) never fail the run; they are listed
with their result, and `--report PATH` writes the whole outcome as JSON.

`SAGEMCP_CONFORMANCE_NODE` (Node.js 22) and `SAGEMCP_CONFORMANCE_REQUIREMENTS_CLI` (the
suite's `dist/index.js`) come from the environment; `nox -s conformance` installs both.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .run import ROOT, SERVER_START_TIMEOUT, SetupError, free_port, stop, wait_until_answering

SUITE_VERSION = "0.2.0-alpha.12"
REVISIONS = ("2025-11-25", "2026-07-28")
RUN_TIMEOUT = 900.0

_SCENARIO_RE = re.compile(r"^=== Running scenario: (\S+) ===$", re.MULTILINE)
_SAVED_RE = re.compile(r"^Results saved to (.+)$", re.MULTILINE)
_LIST_ITEM_RE = re.compile(r"^\s+- (\S+)(?: \[(\w+)\])?$")


@dataclass
class ScenarioResult:
    scenario: str
    passed: int = 0
    failed: int = 0
    warnings: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.passed > 0


@dataclass
class RunOutcome:
    route: str
    revision: str
    returncode: int
    required: list[str]
    results: dict[str, ScenarioResult]
    not_scored: dict[str, str]
    """Scenario -> why it is not scored (pending, extension, added-after-release)."""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class RequirementSet:
    server: list[str]
    not_scored: dict[str, str]


def tool_paths() -> tuple[str, str]:
    node = os.environ.get("SAGEMCP_CONFORMANCE_NODE", "")
    cli = os.environ.get("SAGEMCP_CONFORMANCE_REQUIREMENTS_CLI", "")
    for name, value in (("SAGEMCP_CONFORMANCE_NODE", node), ("SAGEMCP_CONFORMANCE_REQUIREMENTS_CLI", cli)):
        if not value:
            raise SetupError(
                f"{name} is not set. Run `nox -s conformance`, which installs Node.js 22 and "
                f"@modelcontextprotocol/conformance@{SUITE_VERSION} into .tools/ and sets it."
            )
        if not Path(value).is_file():
            raise SetupError(f"{name}={value} does not exist. Run `nox -s conformance` to install the suite.")
    return node, cli


def parse_requirements(listing: str) -> RequirementSet:
    """The required server scenarios and the not-scored server scenarios of one `list --requirements` output."""
    server: list[str] = []
    not_scored: dict[str, str] = {}
    section = ""
    reason = ""
    for line in listing.splitlines():
        stripped = line.strip()
        if stripped.startswith("Server scenarios"):
            section = "server"
        elif stripped.startswith("Client scenarios"):
            section = "client"
        elif stripped.startswith("Run and reported, but never scored"):
            section = "not-scored"
        elif section == "not-scored" and re.match(r"^[\w-]+ \(\d+\):$", stripped):
            reason = stripped.split(" ")[0]
        else:
            item = _LIST_ITEM_RE.match(line)
            if item is None:
                continue
            if section == "server":
                server.append(item.group(1))
            elif section == "not-scored" and item.group(2) == "server":
                not_scored[item.group(1)] = reason
    if not server:
        raise SetupError("`conformance list --requirements` named no server scenario; has its output changed?")
    return RequirementSet(server, not_scored)


def read_results(output: str) -> dict[str, ScenarioResult]:
    """Each scenario's checks, from the directory the suite says it saved them to after announcing it."""
    results: dict[str, ScenarioResult] = {}
    scenarios = [(m.start(), m.group(1)) for m in _SCENARIO_RE.finditer(output)]
    for index, (start, scenario) in enumerate(scenarios):
        end = scenarios[index + 1][0] if index + 1 < len(scenarios) else len(output)
        saved = _SAVED_RE.search(output, start, end)
        result = ScenarioResult(scenario)
        results[scenario] = result
        if saved is None:
            result.failed += 1
            result.failures.append("the suite saved no checks for this scenario")
            continue
        checks: list[dict[str, Any]] = json.loads((Path(saved.group(1).strip()) / "checks.json").read_text())
        for check in checks:
            status = check.get("status")
            if status == "SUCCESS":
                result.passed += 1
            elif status == "FAILURE":
                result.failed += 1
                detail = check.get("errorMessage") or check.get("description", "")
                result.failures.append(f"{check.get('id')}: {detail}")
            elif status == "WARNING":
                result.warnings += 1
    return results


def judge(
    route: str,
    revision: str,
    returncode: int,
    output: str,
    required: RequirementSet,
    also: frozenset[str] = frozenset(),
) -> RunOutcome:
    """The outcome of one run; `also` names not-scored scenarios that must pass too (when this revision runs them)."""
    results = read_results(output)
    outcome = RunOutcome(route, revision, returncode, required.server, results, required.not_scored)
    scored_failure = False
    for scenario in [*required.server, *sorted(also & required.not_scored.keys())]:
        scored = scenario in required.server
        result = results.get(scenario)
        if result is None:
            outcome.problems.append(f"{route} {revision}: required scenario {scenario} did not run")
        elif not result.ok:
            details = "; ".join(result.failures) or "no check passed"
            outcome.problems.append(f"{route} {revision}: required scenario {scenario} failed: {details}")
        else:
            continue
        scored_failure = scored_failure or scored
    if returncode != 0 and not scored_failure:
        outcome.problems.append(f"{route} {revision}: the suite exited with code {returncode}")
    if returncode == 0 and scored_failure:
        outcome.problems.append(f"{route} {revision}: the suite exited 0 although required scenarios failed")
    return outcome


def run_revision(
    node: str, cli: str, url: str, route: str, revision: str, out: Path, timeout: float, also: frozenset[str]
) -> RunOutcome:
    listing = subprocess.run(
        [node, cli, "list", "--requirements", revision], capture_output=True, text=True, check=True, timeout=60
    )
    required = parse_requirements(listing.stdout)
    command = [node, cli, "server", "--url", url, "--requirements", revision, "-o", str(out)]
    print(f"$ {' '.join(command)}", flush=True)
    try:
        completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise SetupError(f"the {revision} run on {route} did not finish within {timeout:.0f} s") from None
    if completed.returncode not in (0, 1):
        print(completed.stdout, completed.stderr, sep="\n")
    return judge(route, revision, completed.returncode, completed.stdout, required, also)


def summary(outcomes: list[RunOutcome]) -> str:
    lines = [f"=== conformance {SUITE_VERSION}, requirement sets {', '.join(REVISIONS)} ==="]
    for outcome in outcomes:
        required_ok = sum(1 for s in outcome.required if s in outcome.results and outcome.results[s].ok)
        lines.append(
            f"{outcome.route} {outcome.revision}: {required_ok}/{len(outcome.required)} required server scenarios pass"
        )
        for scenario in outcome.required:
            result = outcome.results.get(scenario)
            mark = "✓" if result is not None and result.ok else "✗"
            counts = f"{result.passed} passed, {result.failed} failed" if result else "did not run"
            lines.append(f"  {mark} {scenario}: {counts}")
        for scenario, reason in outcome.not_scored.items():
            result = outcome.results.get(scenario)
            if result is None:
                continue
            mark = "✓" if result.ok else "✗"
            lines.append(f"  {mark} {scenario} (not scored: {reason}): {result.passed} passed, {result.failed} failed")
    return "\n".join(lines)


def report(outcomes: list[RunOutcome]) -> dict[str, Any]:
    return {
        "suite": f"@modelcontextprotocol/conformance@{SUITE_VERSION}",
        "runs": [
            {
                "route": o.route,
                "revision": o.revision,
                "ok": o.ok,
                "required": {s: asdict(o.results[s]) if s in o.results else None for s in o.required},
                "not_scored": {
                    s: {"reason": r, "ok": o.results[s].ok, **asdict(o.results[s])}
                    for s, r in o.not_scored.items()
                    if s in o.results
                },
                "problems": o.problems,
            }
            for o in outcomes
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requirements", default=",".join(REVISIONS), help="comma-separated revisions to score")
    parser.add_argument("--route", choices=("connector", "tenant", "both"), default="both")
    parser.add_argument(
        "--require",
        action="append",
        default=[],
        metavar="ROUTE:SCENARIO",
        help="a not-scored scenario that must pass too on that route (connector or tenant), where a revision runs it",
    )
    parser.add_argument("--report", type=Path, help="write the outcome as JSON to this file")
    parser.add_argument("--timeout", type=float, default=RUN_TIMEOUT, help="seconds one revision's run may take")
    args = parser.parse_args(argv)
    revisions = [r.strip() for r in args.requirements.split(",") if r.strip()]
    also: dict[str, set[str]] = {"connector": set(), "tenant": set()}
    for item in args.require:
        route_name, _, scenario = item.partition(":")
        if route_name not in also or not scenario:
            parser.error(f"--require {item}: expected connector:SCENARIO or tenant:SCENARIO")
        also[route_name].add(scenario)
    try:
        node, cli = tool_paths()
    except SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from .server import PATH, WIDE_PATH

    routes = {"connector": PATH, "tenant": WIDE_PATH}
    chosen = list(routes) if args.route == "both" else [args.route]
    port = free_port()
    outcomes: list[RunOutcome] = []
    with tempfile.TemporaryDirectory(prefix="sagemcp-requirements-") as tmp:
        server_log = Path(tmp) / "server.log"
        with server_log.open("wb") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "tests.conformance.server", "--port", str(port)],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until_answering(f"http://127.0.0.1:{port}{PATH}", server, SERVER_START_TIMEOUT)
            for route in chosen:
                url = f"http://127.0.0.1:{port}{routes[route]}"
                for revision in revisions:
                    out = Path(tmp) / f"{route}-{revision}"
                    extra = frozenset(also[route])
                    outcomes.append(run_revision(node, cli, url, route, revision, out, args.timeout, extra))
        except (SetupError, subprocess.SubprocessError) as exc:
            print(f"error: {exc}\n--- server log ---\n{server_log.read_text(errors='replace')}", file=sys.stderr)
            return 2
        finally:
            stop(server)
        print(summary(outcomes))
        if args.report is not None:
            args.report.write_text(json.dumps(report(outcomes), indent=2) + "\n")
        problems = [p for o in outcomes for p in o.problems]
        for problem in problems:
            print(problem)
        if problems:
            print(f"--- server log ---\n{server_log.read_text(errors='replace')[-20000:]}", file=sys.stderr)
            print("CONFORMANCE REQUIREMENTS FAILED")
            return 1
        print("CONFORMANCE REQUIREMENTS PASSED")
        return 0


if __name__ == "__main__":
    sys.exit(main())
