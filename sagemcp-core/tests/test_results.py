"""Tool return values become structured content plus one text block (Markdown or compact JSON), capped in size."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from sagemcp import Connector, ConnectorInfo, Image, Text, ToolContext, ToolResult, tool, truncation_marker
from sagemcp._results import CAP_HINT, render_value


class Row(BaseModel):
    id: int
    body: str | None = None

    def to_markdown(self) -> str:
        return f"# Row {self.id}" + (f"\n\n{self.body}" if self.body else "")


class Plain(BaseModel):
    id: int
    body: str | None = None


class Rows(Connector):
    info = ConnectorInfo(id="rows", title="Rows", description="Rows.")

    @tool(read_only=True, group="g")
    async def row(self, ctx: ToolContext) -> Row:
        """One row."""
        return Row(id=1)

    @tool(read_only=True, group="g")
    async def plain(self, ctx: ToolContext) -> Plain:
        """One row without a Markdown rendering."""
        return Plain(id=1)

    @tool(read_only=True, group="g")
    async def text(self, ctx: ToolContext) -> str:
        """Plain text."""
        return ""

    @tool(read_only=True, group="g")
    async def many(self, ctx: ToolContext) -> list[Row]:
        """Many rows."""
        return []

    @tool(read_only=True, group="g")
    async def anything(self, ctx: ToolContext) -> Any:
        """No output schema."""
        return None

    @tool(read_only=True, group="g")
    async def rich(self, ctx: ToolContext) -> ToolResult:
        """Rich content."""
        return ToolResult()


def test_a_model_with_to_markdown_renders_it_and_keeps_the_data_structured() -> None:
    outcome = render_value(Rows.tools["rows_row"], Row(id=7, body="hello"), 1000)
    assert outcome.structured == {"id": 7, "body": "hello"}
    assert outcome.content == [Text("# Row 7\n\nhello")]
    assert (outcome.is_error, outcome.outcome, outcome.code) == (False, "ok", None)
    assert outcome.value == Row(id=7, body="hello")


def test_without_to_markdown_the_text_is_compact_json_without_nones() -> None:
    outcome = render_value(Rows.tools["rows_plain"], Plain(id=7), 1000)
    assert outcome.structured == {"id": 7}
    assert outcome.text == '{"id":7}'


def test_an_untyped_value_with_to_markdown_is_text_only() -> None:
    outcome = render_value(Rows.tools["rows_anything"], Row(id=3), 1000)
    assert outcome.structured is None and outcome.text == "# Row 3"


def test_long_text_is_cut_with_a_marker() -> None:
    outcome = render_value(Rows.tools["rows_text"], "x" * 500, 100)
    text = outcome.text
    assert text == "x" * 100 + truncation_marker(100, 500, hint=CAP_HINT)
    assert "100 of 500 characters shown; ask for less" in text
    assert not outcome.is_error


def test_oversized_structured_result_is_an_error_not_a_silent_cut() -> None:
    rows = [Row(id=i, body="y" * 50) for i in range(100)]
    outcome = render_value(Rows.tools["rows_many"], rows, 1000)
    assert outcome.is_error and outcome.code == "result_too_large"
    assert "over this server's limit of 1000" in outcome.text
    assert outcome.structured is None


def test_the_cap_measures_the_markdown_when_there_is_one() -> None:
    small = render_value(Rows.tools["rows_row"], Row(id=1, body="z" * 80), 100)
    assert not small.is_error
    big = render_value(Rows.tools["rows_row"], Row(id=1, body="z" * 200), 100)
    assert big.is_error and "is 209 characters" in big.text


def test_explicit_tool_results_keep_their_parts_and_cap_their_text() -> None:
    value = ToolResult(content=[Text("h" * 50), Image(data="aGk=", mime_type="image/png")], structured={"a": 1})
    outcome = render_value(Rows.tools["rows_rich"], value, 10)
    assert [type(c) for c in outcome.content] == [Text, Image]
    assert outcome.text == "h" * 10 + truncation_marker(10, 50, hint=CAP_HINT)
    assert outcome.structured == {"a": 1} and outcome.outcome == "ok"
    failed = render_value(Rows.tools["rows_rich"], ToolResult(content=[Text("no")], is_error=True), 10)
    assert failed.is_error and failed.outcome == "error"
