"""Tool schemas as a model reads them: no pydantic titles, no null branches or patterns, everything else kept."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field

from sagemcp import Connector, ConnectorInfo, ToolContext, tool
from sagemcp._schema import compact_input_schema, compact_output_schema
from sagemcp.errors import InvalidArguments
from sagemcp.testing import call_tool


class Filter(BaseModel):
    """Which items to keep."""

    label: str | None = None
    state: Literal["open", "closed"] = "open"


class Found(BaseModel):
    title: str
    note: str | None = None


Sha = Annotated[str, Field(pattern=r"^[0-9a-f]{40}$", description="A full commit SHA.")]


class Shapes(Connector):
    info = ConnectorInfo(id="shapes", title="Shapes", description="Schemas to test.")

    @tool(read_only=True, group="read")
    async def find(
        self,
        ctx: ToolContext,
        title: Annotated[str, Field(min_length=1, max_length=50, description="A word of the title.")],
        sha: Sha,
        first: Filter | None = None,
        second: Filter | None = None,
        limit: Annotated[int, Field(ge=1, le=20)] = 5,
        kind: Literal["a", "b"] | None = None,
        since: Annotated[str | None, Field(max_length=30, description="Not before.")] = None,
        keep: str | None = "all",
    ) -> list[Found]:
        """Find things."""
        return [Found(title=title), Found(title=sha[:7], note=kind)]


def _walk(node: Any, key: str) -> list[Any]:
    """Every value of `key` at any depth of a schema, skipping the names under `properties`."""
    found: list[Any] = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key and not isinstance(v, dict):
                found.append(v)
            if k in ("properties", "$defs"):
                for sub in v.values():
                    found += _walk(sub, key)
            else:
                found += _walk(v, key)
    elif isinstance(node, list):
        for v in node:
            found += _walk(v, key)
    return found


def test_the_input_schema_has_no_titles_null_branches_or_patterns() -> None:
    schema = Shapes.tools["shapes_find"].input_schema
    props = schema["properties"]
    assert _walk(schema, "title") == []
    assert _walk(schema, "pattern") == []
    assert '{"type": "null"}' not in json.dumps({k: v for k, v in props.items() if k != "keep"})
    assert props["since"] == {"type": "string", "maxLength": 30, "description": "Not before."}
    assert props["kind"] == {"enum": ["a", "b"], "type": "string"}
    assert props["first"] == {"$ref": "#/$defs/Filter"}


def test_enums_bounds_defaults_and_names_called_title_are_kept() -> None:
    schema = Shapes.tools["shapes_find"].input_schema
    props = schema["properties"]
    assert props["title"] == {"description": "A word of the title.", "maxLength": 50, "minLength": 1, "type": "string"}
    assert props["limit"] == {"default": 5, "maximum": 20, "minimum": 1, "type": "integer"}
    # A non-None default keeps its null branch: null then means something other than leaving it out.
    assert props["keep"]["default"] == "all"
    assert {"type": "null"} in props["keep"]["anyOf"]
    assert schema["required"] == ["title", "sha"]
    assert schema["type"] == "object"


def test_a_nested_model_is_one_shared_definition() -> None:
    schema = Shapes.tools["shapes_find"].input_schema
    assert list(schema["$defs"]) == ["Filter"]
    assert schema["$defs"]["Filter"] == {
        "description": "Which items to keep.",
        "properties": {
            "label": {"type": "string"},
            "state": {"default": "open", "enum": ["open", "closed"], "type": "string"},
        },
        "type": "object",
    }
    assert json.dumps(schema).count('"#/$defs/Filter"') == 2


async def test_validation_still_applies_the_pattern_and_accepts_explicit_null() -> None:
    ok = await call_tool(Shapes, "find", {"title": "x", "sha": "a" * 40, "kind": None, "since": None})
    assert not ok.is_error, ok.text
    assert ok.structured == {"result": [{"title": "x"}, {"title": "aaaaaaa"}]}
    bad = await call_tool(Shapes, "find", {"title": "x", "sha": "abc"})
    assert bad.is_error
    assert isinstance(bad.error, InvalidArguments)
    assert "sha" in bad.text


def test_the_output_schema_loses_titles_but_keeps_nullable_fields() -> None:
    schema = Shapes.tools["shapes_find"].output_schema
    assert schema is not None
    assert _walk(schema, "title") == []
    found = schema["$defs"]["Found"]
    assert "title" in found["properties"]
    assert {"type": "null"} in found["properties"]["note"]["anyOf"]


@pytest.mark.parametrize(
    ("raw", "compact"),
    [
        ({"type": ["string", "null"], "default": None}, {"type": "string"}),
        ({"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}], "default": None},
         {"anyOf": [{"type": "string"}, {"type": "integer"}]}),
        # The property's own description replaces the branch's (a shared type's).
        ({"anyOf": [{"type": "string", "description": "inner"}, {"type": "null"}], "default": None, "description": "outer"},
         {"type": "string", "description": "outer"}),
        # A branch whose other keys clash with the property's keeps the anyOf form.
        ({"anyOf": [{"type": "string", "examples": ["a"]}, {"type": "null"}], "default": None, "examples": ["b"]},
         {"anyOf": [{"type": "string", "examples": ["a"]}], "examples": ["b"]}),
    ],
)  # fmt: skip
def test_optional_spellings(raw: dict[str, Any], compact: dict[str, Any]) -> None:
    schema = {"type": "object", "properties": {"x": raw}}
    assert compact_input_schema(schema)["properties"]["x"] == compact


def test_required_nullable_properties_and_values_are_left_alone() -> None:
    schema = {
        "type": "object",
        "title": "Args",
        "properties": {
            "x": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "X"},
            "y": {"type": "string", "default": "keep", "enum": ["keep", "title"], "pattern": "^k"},
            "z": {"type": "object", "default": {"title": "a value, not a keyword"}},
        },
        "required": ["x"],
    }
    assert compact_input_schema(schema) == {
        "type": "object",
        "properties": {
            "x": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "y": {"type": "string", "default": "keep", "enum": ["keep", "title"]},
            "z": {"type": "object", "default": {"title": "a value, not a keyword"}},
        },
        "required": ["x"],
    }
    assert compact_output_schema(schema)["properties"]["y"]["pattern"] == "^k"
