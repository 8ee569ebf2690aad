"""Compact JSON Schemas for tools: what pydantic generates, less what costs a model tokens and tells it nothing.

A tool's schemas are part of every `tools/list` a model reads. Pydantic writes a `title` on
every property and model ("Owner" for `owner`: the name again) and spells each optional
parameter as `{"anyOf": [{...}, {"type": "null"}], "default": null}`. `compact_input_schema`
drops the titles and, for a parameter whose default is None, the null branch and the null
default: leaving it out already means None (it is not required). It drops the regular
expressions (`pattern`) too: they cost a model more tokens than any other keyword (15 % of the
six connectors' catalogue) and say less than the parameter's description and example; the
schema stays truthful, only less strict: the tool's pydantic model still validates every
argument against them (and its error quotes the pattern), and still accepts an explicit
null. A parameter that gives its own description to a shared annotated type keeps only that one
(the type's description would be read too and say the same less precisely).
`compact_output_schema` drops the titles only. Enums, numeric and length bounds, formats,
defaults and descriptions stay: they tell the model what is allowed. Nested models stay shared
under `$defs` (pydantic's `$ref`s).
"""

from __future__ import annotations

from typing import Any

__all__ = ["compact_input_schema", "compact_output_schema"]

_SCHEMA_MAPS = frozenset({"properties", "$defs", "definitions", "patternProperties", "dependentSchemas"})
_SCHEMA_LISTS = frozenset({"anyOf", "oneOf", "allOf", "prefixItems"})
_SCHEMA_VALUES = frozenset(
    {"items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else", "unevaluatedProperties"}
)
_NULL = {"type": "null"}
_INPUT_NOISE = frozenset({"title", "pattern"})
_OUTPUT_NOISE = frozenset({"title"})


def _without(node: Any, keywords: frozenset[str]) -> Any:
    """A copy of a schema without the string-valued `keywords` at any depth (property *names* are kept)."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in keywords and isinstance(value, str):
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _without(sub, keywords) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [_without(sub, keywords) for sub in value]
        elif key in _SCHEMA_VALUES:
            out[key] = _without(value, keywords)
        else:
            out[key] = value
    return out


def _optional(prop: dict[str, Any]) -> dict[str, Any]:
    """A property with default None, without its null branch and null default."""
    if "default" not in prop or prop["default"] is not None:
        return prop
    branches = prop.get("anyOf")
    if isinstance(branches, list) and _NULL in branches:
        rest = [b for b in branches if b != _NULL]
        out = {k: v for k, v in prop.items() if k not in ("anyOf", "default")}
        # The parameter's own description replaces its shared type's: both would be read, the outer one is meant.
        if len(rest) == 1 and isinstance(rest[0], dict) and set(rest[0]) & set(out) <= {"description"}:
            return {**rest[0], **out}
        return {**out, "anyOf": rest} if rest else out
    kinds = prop.get("type")
    if isinstance(kinds, list) and "null" in kinds:
        rest_kinds = [k for k in kinds if k != "null"]
        out = {k: v for k, v in prop.items() if k != "default"}
        out["type"] = rest_kinds[0] if len(rest_kinds) == 1 else rest_kinds
        return out
    return prop


def _optionals(node: dict[str, Any]) -> dict[str, Any]:
    """Apply `_optional` to the properties of an object schema that are not required."""
    props = node.get("properties")
    if not isinstance(props, dict):
        return node
    required = set(node.get("required") or ())
    return {
        **node,
        "properties": {
            name: prop if name in required or not isinstance(prop, dict) else _optional(prop)
            for name, prop in props.items()
        },
    }


def compact_input_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A tool's input schema as a model should read it (see the module docstring)."""
    out = _optionals(_without(schema, _INPUT_NOISE))
    defs = out.get("$defs")
    if isinstance(defs, dict):
        out["$defs"] = {name: _optionals(sub) if isinstance(sub, dict) else sub for name, sub in defs.items()}
    if "properties" in out:
        out.setdefault("type", "object")
    return out


def compact_output_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A tool's output schema without pydantic's titles."""
    out: dict[str, Any] = _without(schema, _OUTPUT_NOISE)
    if "properties" in out:
        out.setdefault("type", "object")
    return out
