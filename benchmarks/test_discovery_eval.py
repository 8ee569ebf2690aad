"""The discovery evaluation: realistic requests, and whether the search finds the tool for each.

`discovery_eval.yaml` holds requests as people ask them across the six connectors, each with
the tool that does it. `sagemcp.platform.ToolIndex` ranks every tool of the six connectors
(all groups, as the tenant-wide endpoint's search meta-tool sees them) for each request; the
expected tool must be among the first three in at least 90 % of cases. The misses are printed,
so a change to the ranking or to a description shows what it won and lost.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from sagemcp.platform import ToolIndex, tool_doc

from . import catalogue

EVAL_FILE = Path(__file__).with_name("discovery_eval.yaml")
TOP = 3
REQUIRED_SHARE = 0.9


def _cases() -> list[dict[str, Any]]:
    data = yaml.safe_load(EVAL_FILE.read_text())
    return list(data["cases"])


@pytest.fixture(scope="module")
def index() -> ToolIndex:
    classes = catalogue.connector_classes()
    return ToolIndex(
        tool_doc(cid, spec) for cid, cls in classes.items() for spec in cls.enabled_tools(catalogue.all_groups(cls))
    )


def test_the_set_is_large_covers_every_connector_and_names_real_tools(index: ToolIndex) -> None:
    cases = _cases()
    assert len(cases) >= 40
    known = {name for cls in catalogue.connector_classes().values() for name in cls.tools}
    assert len(index) == len(known) > 250
    for case in cases:
        assert case["expected"] in known, case
        assert case["request"].strip(), case
    covered = {case["expected"].split("_", 1)[0] for case in cases}
    assert covered == set(catalogue.CONNECTORS)
    per_connector = {cid: sum(c["expected"].startswith(cid + "_") for c in cases) for cid in catalogue.CONNECTORS}
    assert min(per_connector.values()) >= 5, per_connector


def test_the_expected_tool_is_in_the_top_three_for_nine_requests_in_ten(index: ToolIndex) -> None:
    cases = _cases()
    misses: list[str] = []
    for case in cases:
        ranked = [doc.name for doc, _ in index.search(case["request"], limit=TOP)]
        if case["expected"] not in ranked:
            misses.append(f"{case['request']!r}: expected {case['expected']}, got {ranked}")
    share = 1 - len(misses) / len(cases)
    print(f"\ndiscovery: {len(cases) - len(misses)}/{len(cases)} in the top {TOP} ({share:.0%})")
    for miss in misses:
        print("  miss:", miss)
    assert share >= REQUIRED_SHARE, "\n".join(misses)
