"""Markdown helpers for tool results: cells that cannot break a table, tables, bullets and page footers."""

from __future__ import annotations

import enum

import pytest
from pydantic import BaseModel

from sagemcp import Page
from sagemcp.markdown import SupportsMarkdown, bullets, cell, page_footer, page_table, table


class State(enum.Enum):
    OPEN = "open"


class Issue(BaseModel):
    number: int
    title: str
    labels: list[str] = []
    state: State = State.OPEN
    assignee: str | None = None


def test_cells_escape_pipes_and_flatten_line_breaks() -> None:
    assert cell("a | b") == "a \\| b"
    assert cell("first\nsecond\r\nthird\rfourth") == "first second third fourth"
    assert cell("  padded \n") == "padded"
    assert cell(None) == ""
    assert cell(State.OPEN) == "open"
    assert cell(["bug", "ui|ux"]) == "bug, ui\\|ux"
    assert cell(3.5) == "3.5"


def test_long_cells_are_cut_before_escaping() -> None:
    assert cell("x" * 10, max_chars=5) == "xxxx…"
    assert cell("||||||", max_chars=3) == "\\|\\|…"
    assert cell("x" * 500, max_chars=None) == "x" * 500


def test_a_table_of_models_with_chosen_columns() -> None:
    rows = [
        Issue(number=1, title="Crash | on start", labels=["bug"]),
        Issue(number=2, title="Docs\nare thin", assignee="ann"),
    ]
    rendered = table(rows, ["number", ("Title", "title"), "labels", ("who", lambda i: i.assignee or "-")])
    assert rendered.splitlines() == [
        "| number | Title | labels | who |",
        "| --- | --- | --- | --- |",
        "| 1 | Crash \\| on start | bug | - |",
        "| 2 | Docs are thin |  | ann |",
    ]


def test_a_table_of_mappings_and_missing_fields() -> None:
    rendered = table([{"id": "a", "n": 1}, {"id": "b"}], ["id", "n"])
    assert rendered.splitlines()[2:] == ["| a | 1 |", "| b |  |"]


def test_an_empty_table_is_the_empty_text() -> None:
    assert table([], ["number"]) == "No results."
    assert table(iter([]), ["number"], empty="No open issues.") == "No open issues."
    with pytest.raises(ValueError, match="at least one column"):
        table([{"a": 1}], [])


def test_bullets_indent_further_lines() -> None:
    assert bullets(["one", "two\nmore"]) == "- one\n- two\n  more"
    assert bullets([""]) == "- "
    assert bullets([], empty="Nothing.") == "Nothing."


def test_page_footer_writes_the_cursor_out() -> None:
    assert page_footer(None) == ""
    assert page_footer("abc") == "\n\n_More results: call again with cursor=`abc`._"
    assert page_footer("abc", True, argument="page_token") == (
        "\n\n_This page was cut to fit the size limit. More results: call again with page_token=`abc`._"
    )
    assert page_footer(None, True) == "\n\n_This page was cut to fit the size limit._"


def test_page_table_combines_title_count_table_and_footer() -> None:
    page = Page[Issue](items=[Issue(number=4, title="t")], next_cursor="c2")
    assert page_table(page, ["number", "title"], title="Open issues") == (
        "**Open issues** (1)\n\n| number | title |\n| --- | --- |\n| 4 | t |\n\n"
        "_More results: call again with cursor=`c2`._"
    )
    empty = Page[Issue](items=[])
    assert page_table(empty, ["number"], empty="No issues match.") == "No issues match."


def test_result_models_with_to_markdown_satisfy_the_protocol() -> None:
    class Listing(Page[Issue]):
        def to_markdown(self) -> str:
            return page_table(self, ["number"])

    assert isinstance(Listing(items=[]), SupportsMarkdown)
    assert not isinstance(Issue(number=1, title="t"), SupportsMarkdown)
