"""Tool return values become structured content plus a compact text rendering, capped in size."""

from __future__ import annotations

from pydantic import BaseModel

from sagemcp import Connector, ConnectorInfo, Image, Text, ToolContext, ToolResult, tool
from sagemcp.mcp._convert import TRUNCATION_MARKER, tool_value_to_result


class Row(BaseModel):
    id: int
    body: str | None = None

    def to_markdown(self) -> str:
        return f"# Row {self.id}"


class Rows(Connector):
    info = ConnectorInfo(id="rows", title="Rows", description="Rows.")

    @tool(read_only=True, group="g")
    async def row(self, ctx: ToolContext) -> Row:
        """One row."""
        return Row(id=1)

    @tool(read_only=True, group="g")
    async def text(self, ctx: ToolContext) -> str:
        """Plain text."""
        return ""

    @tool(read_only=True, group="g")
    async def many(self, ctx: ToolContext) -> list[Row]:
        """Many rows."""
        return []

    @tool(read_only=True, group="g")
    async def rich(self, ctx: ToolContext) -> ToolResult:
        """Rich content."""
        return ToolResult()


def test_models_render_markdown_and_drop_nones() -> None:
    result = tool_value_to_result(Rows.tools["rows_row"], Row(id=7), 1000)
    assert result.structured_content == {"id": 7}
    assert result.content[0].text == "# Row 7"
    assert not result.is_error


def test_long_text_is_cut_with_a_marker() -> None:
    result = tool_value_to_result(Rows.tools["rows_text"], "x" * 500, 100)
    text = result.content[0].text
    assert text.startswith("x" * 100) and "x" * 101 not in text
    assert TRUNCATION_MARKER.format(shown=100, total=500) in text


def test_oversized_structured_result_is_an_error_not_a_silent_cut() -> None:
    rows = [Row(id=i, body="y" * 50) for i in range(100)]
    result = tool_value_to_result(Rows.tools["rows_many"], rows, 1000)
    assert result.is_error
    assert "over this server's limit of 1000" in result.content[0].text
    assert result.structured_content is None


def test_explicit_tool_results_keep_their_parts() -> None:
    value = ToolResult(content=[Text("hello"), Image(data="aGk=", mime_type="image/png")], structured={"a": 1})
    result = tool_value_to_result(Rows.tools["rows_rich"], value, 1000)
    assert [c.type for c in result.content] == ["text", "image"]
    assert result.structured_content == {"a": 1}
