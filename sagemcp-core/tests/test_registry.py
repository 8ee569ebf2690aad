"""The registry: entry-point discovery with stevedore, and every way a connector can fail to load."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from importlib import invalidate_caches
from pathlib import Path

import pytest

from sagemcp import Connector, ConnectorInfo, ToolContext, tool
from sagemcp.errors import ConnectorNotFound, RegistryError
from sagemcp.platform import ConnectorRegistry

from ._support import NotesConnector

GROUP = "sagemcp.test_connectors"


@pytest.fixture
def plugins(tmp_path: Path) -> Iterator[Path]:
    """A directory on sys.path holding a fake distribution with entry points in GROUP."""
    pkg = tmp_path / "fakeplug"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        textwrap.dedent(
            '''
            from sagemcp import Connector, ConnectorInfo, ToolContext, tool

            class Good(Connector):
                info = ConnectorInfo(id="good", title="Good", description="Loads fine.")

                @tool(read_only=True, group="g")
                async def ping(self, ctx: ToolContext) -> str:
                    """Ping."""
                    return "pong"

            class OldApi(Connector):
                info = ConnectorInfo(id="oldapi", title="Old", description="Old core API.", core_api=0)

                @tool(read_only=True, group="g")
                async def ping(self, ctx: ToolContext) -> str:
                    """Ping."""
                    return "pong"

            class NotAConnector:
                pass
            '''
        )
    )
    (pkg / "broken.py").write_text("import module_that_is_not_installed\n")
    dist = tmp_path / "fakeplug-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fakeplug\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        f"[{GROUP}]\n"
        "good = fakeplug:Good\n"
        "oldapi = fakeplug:OldApi\n"
        "notaconnector = fakeplug:NotAConnector\n"
        "broken = fakeplug.broken:Thing\n"
        "misnamed = fakeplug:Good\n"
    )
    sys.path.insert(0, str(tmp_path))
    invalidate_caches()
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith("fakeplug")]:
        del sys.modules[name]


def test_loads_entry_points_and_explains_failures(plugins: Path) -> None:
    registry = ConnectorRegistry.from_entry_points(group=GROUP)
    assert registry.ids() == ["good"]
    reasons = {f.name: f.reason for f in registry.failures}
    assert set(reasons) == {"oldapi", "notaconnector", "broken", "misnamed"}
    assert "connector API 0" in reasons["oldapi"]
    assert "not a Connector subclass" in reasons["notaconnector"]
    assert "module_that_is_not_installed" in reasons["broken"]
    assert "does not match the connector id" in reasons["misnamed"]


def test_loads_only_named_connectors_and_reports_missing(plugins: Path) -> None:
    registry = ConnectorRegistry.from_entry_points(["good", "absent"], group=GROUP)
    assert registry.ids() == ["good"]
    assert [(f.name, f.reason) for f in registry.failures] == [("absent", "no connector named 'absent' is installed")]


def test_classes_are_loaded_not_instantiated(plugins: Path) -> None:
    registry = ConnectorRegistry.from_entry_points(["good"], group=GROUP)
    cls = registry.get("good")
    assert isinstance(cls, type)
    assert registry.instance("good") is registry.instance("good")


def test_register_rejects_duplicates_and_unknown_lookups() -> None:
    registry = ConnectorRegistry([NotesConnector])
    registry.register(NotesConnector)  # the same class again is fine

    class Impostor(Connector):
        info = ConnectorInfo(id="notes", title="Other", description="Same id.")

        @tool(read_only=True, group="g")
        async def x(self, ctx: ToolContext) -> str:
            """X."""
            return ""

    with pytest.raises(RegistryError, match="already registered"):
        registry.register(Impostor)
    with pytest.raises(ConnectorNotFound, match="not installed"):
        registry.get("github")
    assert "notes" in registry and len(registry) == 1
