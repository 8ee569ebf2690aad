"""The curated public API: `sagemcp` for connector authors, `sagemcp.platform` for embedders, and nothing else."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

import sagemcp
import sagemcp.errors
import sagemcp.platform

SRC = Path(sagemcp.__file__).parent
REPOSITORY = Path(__file__).parents[2]
PUBLIC_MODULES = {"catalog", "errors", "markdown", "mcp", "platform", "scaffold", "testing"}


@pytest.mark.parametrize("module", [sagemcp, sagemcp.platform], ids=["sagemcp", "sagemcp.platform"])
def test_all_is_unique_and_importable(module: object) -> None:
    names = list(module.__all__)  # type: ignore[attr-defined]
    assert len(names) == len(set(names))
    for name in names:
        assert getattr(module, name) is not None, name


def test_nothing_public_is_left_out_of_all() -> None:
    """Like httpx: every public attribute of the package is in `__all__` (or is a public submodule)."""
    exposed = {n for n in vars(sagemcp) if not n.startswith("_")} - PUBLIC_MODULES
    assert exposed == set(sagemcp.__all__) - {"__version__"}
    exposed = {n for n in vars(sagemcp.platform) if not n.startswith("_")} - {"annotations"}
    assert exposed == set(sagemcp.platform.__all__)


def test_every_error_class_is_exported_from_the_package() -> None:
    assert set(sagemcp.errors.__all__) <= set(sagemcp.__all__)


def test_the_two_surfaces_do_not_overlap() -> None:
    assert not set(sagemcp.__all__) & set(sagemcp.platform.__all__)


def test_internal_modules_are_private() -> None:
    modules = {p.stem for p in SRC.glob("*.py")} | {p.name for p in SRC.iterdir() if (p / "__init__.py").exists()}
    public = {m for m in modules if not m.startswith("_")}
    assert public == PUBLIC_MODULES
    for name in public:
        importlib.import_module(f"sagemcp.{name}")


def test_packages_outside_core_use_only_public_names() -> None:
    """Connectors, the server, benchmarks and cross-package tests never import core's private modules."""
    private = re.compile(r"^\s*(from|import)\s+sagemcp\._|^\s*from\s+sagemcp\.mcp\._", re.MULTILINE)
    offenders = []
    roots = [p for p in REPOSITORY.glob("sagemcp-*") if p.name != "sagemcp-core"]
    roots += [REPOSITORY / "tests", REPOSITORY / "benchmarks", REPOSITORY / "docs"]
    for root in roots:
        for path in root.rglob("*.py"):
            if private.search(path.read_text(encoding="utf-8")):
                offenders.append(str(path.relative_to(REPOSITORY)))
    assert offenders == []
