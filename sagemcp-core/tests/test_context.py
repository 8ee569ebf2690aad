"""`ToolContext` is generic over the connector's `Config`: typed for mypy, and invisible to the input schema."""

from __future__ import annotations

import textwrap
from pathlib import Path

import httpx
import pytest
from pydantic import BaseModel

from sagemcp import ToolContext
from sagemcp.testing import call_tool

from ._typed_connector import StockConfig, StockConnector

HERE = Path(__file__).parent
ROOT = HERE.parents[1]


async def test_a_tool_reads_its_typed_config() -> None:
    def api(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"quantity": 3})

    call = await call_tool(
        StockConnector, "stock_get_level", {"sku": "A-1"}, handler=api, config={"warehouse": "north", "pack_size": 4}
    )
    assert call.structured == {"sku": "A-1", "warehouse": "north", "quantity": 12}
    assert call.request.url.params["warehouse"] == "north"


def test_the_context_is_not_an_argument_even_when_its_config_is_imported_for_typing_only() -> None:
    spec = StockConnector.tools["stock_get_level"]
    assert list(spec.input_schema["properties"]) == ["sku"]
    assert spec.input_schema["required"] == ["sku"]


def test_a_plain_context_is_the_same_class() -> None:
    assert ToolContext[StockConfig].__origin__ is ToolContext  # type: ignore[attr-defined]
    assert ToolContext.__parameters__[0].__default__ is BaseModel  # type: ignore[attr-defined]


def test_mypy_strict_accepts_the_typed_connector_and_rejects_a_wrong_field(tmp_path: Path) -> None:
    api = pytest.importorskip("mypy.api", reason="the type check needs mypy (pip install mypy)")
    wrong = tmp_path / "wrong_field.py"
    wrong.write_text(
        textwrap.dedent(
            """
            from sagemcp import ConnectorSettings, ToolContext

            class Settings(ConnectorSettings):
                region: str = "eu"

            def region(ctx: ToolContext[Settings]) -> str:
                return ctx.config.region

            def misspelt(ctx: ToolContext[Settings]) -> str:
                return ctx.config.regoin

            def untyped(ctx: ToolContext) -> str:
                return ctx.config.region
            """
        )
    )
    files = [str(HERE / "_typed_tools.py"), str(HERE / "_typed_connector.py"), str(wrong)]
    stdout, stderr, status = api.run(
        [*files, "--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(tmp_path / "cache"),
         "--follow-imports=silent", "--no-error-summary"]
    )  # fmt: skip
    errors = [line for line in stdout.splitlines() if ": error:" in line]
    assert status == 1, stdout + stderr
    assert all(line.startswith(str(wrong)) for line in errors), stdout
    assert any(':11: error: "Settings" has no attribute "regoin"' in line for line in errors), stdout
    assert any(':14: error: "BaseModel" has no attribute "region"' in line for line in errors), stdout
