"""Connector classes are checked when they are defined: names, schemas, annotations, auth."""

from __future__ import annotations

from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field

from sagemcp import Connector, ConnectorInfo, OAuth2, ToolContext, tool
from sagemcp.errors import DefinitionError, InvalidArguments
from sagemcp.platform import ToolPolicy

from ._support import NotesConnector


class Item(BaseModel):
    id: int
    name: str


def test_tool_names_are_prefixed_with_the_connector_id() -> None:
    assert "notes_get_note" in NotesConnector.tools
    spec = NotesConnector.tools["notes_get_note"]
    assert spec.action == "get_note" and spec.group == "read"
    assert spec.description == "Get one note by id."


def test_input_schema_comes_from_the_signature() -> None:
    class Shop(Connector):
        info = ConnectorInfo(id="shop", title="Shop", description="A shop.")

        @tool(read_only=True, group="items")
        async def search(
            self,
            ctx: ToolContext,
            query: Annotated[str, Field(description="Free text.")],
            sort: Literal["new", "old"] = "new",
            limit: Annotated[int, Field(ge=1, le=100)] = 20,
            cursor: str | None = None,
        ) -> list[Item]:
            """Search items."""
            return []

    spec = Shop.tools["shop_search"]
    schema = spec.input_schema
    assert schema["type"] == "object"
    assert schema["required"] == ["query"]
    assert schema["properties"]["query"]["description"] == "Free text."
    assert schema["properties"]["sort"]["enum"] == ["new", "old"]
    assert schema["properties"]["limit"]["maximum"] == 100
    assert schema["additionalProperties"] is False
    # a list return type is wrapped in an object, as MCP requires
    assert spec.output_schema is not None and spec.output_schema["type"] == "object"
    assert spec.structured([Item(id=1, name="a")]) == {"result": [{"id": 1, "name": "a"}]}
    assert spec.validate_arguments({"query": "x"}) == {"query": "x", "sort": "new", "limit": 20, "cursor": None}
    with pytest.raises(InvalidArguments) as bad:
        spec.validate_arguments({"query": "x", "limit": 500, "sort": "sideways"})
    fields = [path for path, _ in bad.value.errors]
    assert fields == ["sort", "limit"]
    assert "500" not in bad.value.message  # input values are not echoed


def test_read_only_tools_are_idempotent_and_never_destructive() -> None:
    a = NotesConnector.tools["notes_get_note"].annotations
    assert (a.read_only, a.destructive, a.idempotent) == (True, False, True)
    w = NotesConnector.tools["notes_delete_all"].annotations
    assert (w.read_only, w.destructive) == (False, True)
    with pytest.raises(DefinitionError):
        tool(read_only=True, destructive=True, group="g")


@pytest.mark.parametrize(
    ("action", "group", "message"),
    [("Bad-Name", "g", "must match"), ("ok", "Bad Group", "group"), ("x" * 70, "g", "must match")],
)
def test_malformed_names_are_rejected(action: str, group: str, message: str) -> None:
    with pytest.raises(DefinitionError, match=message):

        class Broken(Connector):
            info = ConnectorInfo(id="broken", title="B", description="B.")

            @tool(read_only=True, group=group, name=action)
            async def t(self, ctx: ToolContext) -> str:
                """Doc."""
                return ""


def test_duplicate_tool_names_are_rejected() -> None:
    with pytest.raises(DefinitionError, match="duplicate"):

        class Dup(Connector):
            info = ConnectorInfo(id="dup", title="D", description="D.")

            @tool(read_only=True, group="g", name="same")
            async def a(self, ctx: ToolContext) -> str:
                """A."""
                return ""

            @tool(read_only=True, group="g", name="same")
            async def b(self, ctx: ToolContext) -> str:
                """B."""
                return ""


def test_tools_need_descriptions_annotations_and_async() -> None:
    with pytest.raises(DefinitionError, match="description"):

        class NoDoc(Connector):
            info = ConnectorInfo(id="nodoc", title="N", description="N.")

            @tool(read_only=True, group="g")
            async def a(self, ctx: ToolContext) -> str:
                return ""

    with pytest.raises(DefinitionError, match="async"):

        @tool(read_only=True, group="g")
        def sync(self, ctx: ToolContext) -> str:  # type: ignore[type-var]
            """S."""
            return ""

    with pytest.raises(DefinitionError, match="annotation"):

        class NoHint(Connector):
            info = ConnectorInfo(id="nohint", title="N", description="N.")

            @tool(read_only=True, group="g")
            async def a(self, ctx: ToolContext, x) -> str:  # type: ignore[no-untyped-def]
                """A."""
                return ""


def test_oauth_scheme_must_be_complete_and_ids_well_formed() -> None:
    with pytest.raises(DefinitionError, match="OAuth2"):

        class Half(Connector):
            info = ConnectorInfo(id="half", title="H", description="H.")
            auth = (OAuth2(authorize_url="https://a.example/authorize"),)

    with pytest.raises(ValueError):
        ConnectorInfo(id="Bad_ID", title="x", description="x")


def test_tool_groups_as_mixins() -> None:
    class ReadTools:
        @tool(read_only=True, group="read")
        async def fetch(self, ctx: ToolContext) -> str:
            """Fetch."""
            return ""

    class WriteTools:
        @tool(read_only=False, group="write")
        async def store(self, ctx: ToolContext) -> str:
            """Store."""
            return ""

    class Mixed(ReadTools, WriteTools, Connector):
        info = ConnectorInfo(id="mixed", title="M", description="M.", default_groups=("read",))

    assert set(Mixed.tools) == {"mixed_fetch", "mixed_store"}
    enabled = {s.name for s in Mixed.enabled_tools(ToolPolicy())}
    assert enabled == {"mixed_fetch"}
    assert {s.name for s in Mixed.enabled_tools(ToolPolicy(groups=["read", "write"]))} == set(Mixed.tools)
    assert {s.name for s in Mixed.enabled_tools(ToolPolicy(include_tools=["mixed_store"]))} == set(Mixed.tools)
    everything = ToolPolicy(groups=["read", "write"], read_only=True)
    assert {s.name for s in Mixed.enabled_tools(everything)} == {"mixed_fetch"}
    assert Mixed.enabled_tools(ToolPolicy(exclude_tools=["mixed_fetch"])) == []
