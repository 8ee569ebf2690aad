"""The verdict of `tests.conformance.requirements`: what counts as required, passing and not scored.

The runner itself runs in `nox -s conformance`; these tests pin its reading of the suite's output, so a
changed output format or a lenient judge cannot turn a failing run green.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conformance.requirements import RequirementSet, SetupError, judge, parse_requirements

LISTING = """Required for 2026-07-28 (5 scenarios, frozen; run at the 2026-07-28 wire):

Server scenarios (test against a server):
  - server-stateless
  - caching

Client scenarios (test against a client):
  - tools_call

Run and reported, but never scored:
  extension (1):
    - tasks-lifecycle [server]
  pending (2):
    - json-schema-2020-12 [server]
    - json-schema-2020-12-preservation [client]
"""


def test_parse_requirements_keeps_server_scenarios_only() -> None:
    parsed = parse_requirements(LISTING)
    assert parsed.server == ["server-stateless", "caching"]
    assert parsed.not_scored == {"tasks-lifecycle": "extension", "json-schema-2020-12": "pending"}


def test_a_listing_without_server_scenarios_is_a_setup_error() -> None:
    with pytest.raises(SetupError):
        parse_requirements("Required for 2026-07-28 (0 scenarios)\n")


def output_for(tmp: Path, results: dict[str, list[str] | None]) -> str:
    """The suite's stdout for scenarios whose checks have the given statuses (None: no checks saved)."""
    lines = []
    for scenario, statuses in results.items():
        lines.append(f"=== Running scenario: {scenario} ===")
        if statuses is None:
            continue
        where = tmp / f"server-{scenario}-2026-12-04T01-57-06-025Z"
        where.mkdir()
        checks = [{"id": f"{scenario}-{i}", "status": s, "errorMessage": f"{s} {i}"} for i, s in enumerate(statuses)]
        (where / "checks.json").write_text(json.dumps(checks))
        lines.append(f"Results saved to {where}")
    return "\n".join(lines) + "\n"


REQUIRED = RequirementSet(["server-stateless", "caching"], {"tasks-lifecycle": "extension", "pending-one": "pending"})


def test_all_required_pass_and_unscored_failures_do_not_count(tmp_path: Path) -> None:
    out = output_for(
        tmp_path,
        {"server-stateless": ["SUCCESS", "WARNING"], "caching": ["SUCCESS"], "tasks-lifecycle": ["FAILURE"]},
    )
    outcome = judge("connector", "2026-07-28", 0, out, REQUIRED)
    assert outcome.ok, outcome.problems
    assert outcome.results["tasks-lifecycle"].failed == 1


@pytest.mark.parametrize(
    "results",
    [
        {"server-stateless": ["SUCCESS"], "caching": ["SUCCESS", "FAILURE"]},  # a failed check
        {"server-stateless": ["SUCCESS"], "caching": []},  # no check passed
        {"server-stateless": ["SUCCESS"], "caching": None},  # no checks saved
        {"server-stateless": ["SUCCESS"]},  # did not run
    ],
)
def test_a_required_scenario_that_did_not_pass_fails_the_run(tmp_path: Path, results: dict) -> None:
    outcome = judge("tenant", "2026-07-28", 0, output_for(tmp_path, results), REQUIRED)
    assert not outcome.ok
    assert any("caching" in p for p in outcome.problems)


def test_the_exit_code_must_agree(tmp_path: Path) -> None:
    out = output_for(tmp_path, {"server-stateless": ["SUCCESS"], "caching": ["SUCCESS"]})
    assert not judge("connector", "2026-07-28", 1, out, REQUIRED).ok


def test_a_required_pending_scenario_must_pass_too(tmp_path: Path) -> None:
    out = output_for(tmp_path, {"server-stateless": ["SUCCESS"], "caching": ["SUCCESS"], "pending-one": ["FAILURE"]})
    assert judge("connector", "2026-07-28", 0, out, REQUIRED).ok
    outcome = judge("connector", "2026-07-28", 0, out, REQUIRED, frozenset({"pending-one"}))
    assert not outcome.ok and "pending-one" in outcome.problems[0]
    # Named but not run at this revision (another revision's pending scenario): nothing to require.
    assert judge("connector", "2026-07-28", 0, out, REQUIRED, frozenset({"elsewhere"})).ok
