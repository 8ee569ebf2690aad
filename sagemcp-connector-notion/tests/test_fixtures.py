"""The fixtures built from the description's examples and derived shapes are current (see fixtures/_build.py)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _builder() -> object:
    spec = importlib.util.spec_from_file_location("notion_fixtures_build", FIXTURES / "_build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BUILD = _builder()
BUILT = {**BUILD.examples(), **BUILD.derived()}  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(BUILT))
def test_the_fixture_is_current(name: str) -> None:
    stored = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    assert stored == BUILT[name], f"run python tests/fixtures/_build.py to rebuild {name}.json"


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.name)
def test_every_fixture_says_where_it_comes_from(path: Path) -> None:
    fixture = json.loads(path.read_text(encoding="utf-8"))
    assert fixture["source"] in ("example", "recorded", "recorded, adjusted", "derived")
    assert fixture.get("from") or fixture.get("notes")
    assert fixture["operationId"] and fixture["operation"]
    if fixture["source"] == "recorded, adjusted":
        assert fixture["notes"]
    assert "ntn_" not in json.dumps(fixture) and "secret_" not in json.dumps(fixture)
