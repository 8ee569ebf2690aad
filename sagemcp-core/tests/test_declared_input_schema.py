"""`@tool(input_schema=...)`: a declared JSON Schema 2020-12 input schema, served as declared and checked
against the tool's parameters (which still validate the arguments)."""

from __future__ import annotations

from typing import Any

import pytest

from sagemcp import Connector, ConnectorInfo, DefinitionError, NoAuth, ToolContext, tool
from sagemcp.testing import call_tool

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {"who": {"$anchor": "who", "type": "string"}},
    "properties": {"name": {"$ref": "#/$defs/who"}, "email": {"type": "string"}},
    "if": {"required": ["name"]},
    "then": {"required": ["email"]},
    "additionalProperties": False,
}


class Declared(Connector):
    info = ConnectorInfo(id="decl", title="Declared", description="A tool with a declared schema.")
    auth = (NoAuth(),)

    @tool(read_only=True, group="read", input_schema=SCHEMA)
    async def greet(self, ctx: ToolContext, name: str | None = None, email: str | None = None) -> str:
        """Greet someone."""
        return f"hi {name} <{email}>"


def test_the_declared_schema_is_served_unchanged() -> None:
    assert Declared.tools["decl_greet"].input_schema == SCHEMA


async def test_the_parameters_still_validate_the_arguments() -> None:
    ok = await call_tool(Declared, "decl_greet", {"name": "Ada", "email": "ada@example.com"})
    assert ok.text == "hi Ada <ada@example.com>"
    bad = await call_tool(Declared, "decl_greet", {"name": 5, "surprise": True})
    assert bad.is_error and "Invalid arguments" in bad.text


@pytest.mark.parametrize(
    "schema",
    [
        {**SCHEMA, "properties": {"name": {"type": "string"}}},  # a parameter missing
        {**SCHEMA, "properties": {**SCHEMA["properties"], "extra": {"type": "string"}}},  # not a parameter
        {"type": "array"},
    ],
)
def test_a_schema_that_does_not_match_the_parameters_is_a_definition_error(schema: dict[str, Any]) -> None:
    with pytest.raises(DefinitionError, match="input_schema"):

        class Broken(Connector):
            info = ConnectorInfo(id="broken", title="Broken", description="Mismatched schema.")
            auth = (NoAuth(),)

            @tool(read_only=True, group="read", input_schema=schema)
            async def greet(self, ctx: ToolContext, name: str | None = None, email: str | None = None) -> str:
                """Greet someone."""
                return "hi"
