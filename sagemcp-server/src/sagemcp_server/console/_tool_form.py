"""A form from a tool's JSON input schema, and the tool's arguments from that form (the playground's).

Each top-level property becomes one field: strings (a text area for long ones), numbers and
integers, booleans (a checkbox), enums (a select), arrays of strings (one item per line), and
anything else (objects, arrays of objects, unions) a JSON text area. `anyOf [X, null]` is an
optional X. Only what the form cannot say is reported here (a number that is not one, JSON that
does not parse); everything else is the tool pipeline's own argument validation, so the playground
reports exactly what an MCP client would be told.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["ToolField", "arguments_from", "tool_fields", "values_of"]

Kind = Literal["string", "text", "number", "integer", "boolean", "enum", "string_list", "json"]

_LONG_STRING = 500
"""Strings that may be longer than this get a text area."""


@dataclass(frozen=True)
class ToolField:
    name: str
    label: str
    kind: Kind
    required: bool
    description: str = ""
    options: tuple[str, ...] = ()
    default: str = ""
    """The schema's default, as the field shows it."""

    @property
    def field_id(self) -> str:
        return "arg-" + self.name


def _resolve(node: Any, root: dict[str, Any]) -> dict[str, Any]:
    """A local `$ref` (`#/$defs/X`) replaced by what it points to; other nodes as they are."""
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < 8:
        ref: str = node["$ref"]
        target: Any = root
        for part in ref.removeprefix("#/").split("/") if ref.startswith("#/") else ["\x00"]:
            target = target.get(part) if isinstance(target, dict) else None
        if not isinstance(target, dict):
            return {}
        node, seen = target, seen + 1
    return node if isinstance(node, dict) else {}


def _unwrap_optional(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """`anyOf: [X, {"type": "null"}]` as X (the field may be left empty)."""
    options = node.get("anyOf")
    if isinstance(options, list):
        kept = [_resolve(o, root) for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
        if len(kept) == 1:
            merged = {k: v for k, v in node.items() if k != "anyOf"}
            return {**kept[0], **merged}
    return node


def _kind(node: dict[str, Any], root: dict[str, Any]) -> tuple[Kind, tuple[str, ...]]:
    enum = node.get("enum")
    if isinstance(enum, list) and enum and all(isinstance(v, str) for v in enum):
        return "enum", tuple(enum)
    kind = node.get("type")
    if kind == "string":
        limit = node.get("maxLength")
        return ("text" if not isinstance(limit, int) or limit > _LONG_STRING else "string"), ()
    if kind == "number":
        return "number", ()
    if kind == "integer":
        return "integer", ()
    if kind == "boolean":
        return "boolean", ()
    if kind == "array":
        items = _unwrap_optional(_resolve(node.get("items", {}), root), root)
        if items.get("type") == "string" and "enum" not in items:
            return "string_list", ()
    return "json", ()


def _shown(value: Any, kind: Kind) -> str:
    if value is None:
        return ""
    if kind == "boolean":
        return "on" if value else ""
    if kind == "string_list" and isinstance(value, list):
        return "\n".join(str(v) for v in value)
    if kind == "json":
        return json.dumps(value)
    return str(value)


def tool_fields(schema: dict[str, Any]) -> list[ToolField]:
    """The form fields of a tool's input schema, in the schema's order."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return []
    required = set(schema.get("required") or ())
    fields: list[ToolField] = []
    for name, raw in properties.items():
        raw = raw if isinstance(raw, dict) else {}
        node = _unwrap_optional(_resolve(raw, schema), schema)
        kind, options = _kind(node, schema)
        fields.append(
            ToolField(
                name=str(name),
                label=str(raw.get("title") or node.get("title") or name),
                kind=kind,
                required=name in required,
                description=str(node.get("description") or raw.get("description") or ""),
                options=options,
                default=_shown(node.get("default", raw.get("default")), kind),
            )
        )
    return fields


def values_of(fields: list[ToolField], arguments: dict[str, Any]) -> dict[str, str]:
    """Arguments shown back in their fields (after a confirmation step or an error)."""
    return {f.name: _shown(arguments[f.name], f.kind) for f in fields if f.name in arguments}


def _number(text: str, integer: bool) -> int | float:
    if integer:
        return int(text)
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    plain = "." not in text and "e" not in text.lower()
    return int(value) if plain and value.is_integer() else value


_UNREADABLE = {"integer": "Enter a whole number.", "number": "Enter a number."}


def arguments_from(fields: list[ToolField], form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The tool's arguments from the submitted form, and the fields that could not be read (name -> message).

    An empty optional field is left out, so the tool's default applies; an unchecked checkbox of a
    required boolean (or of one whose default is true) is `false`.
    """
    arguments: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields:
        raw = form.get(f.name, "")
        if f.kind == "boolean":
            if raw or f.required or f.default:
                arguments[f.name] = raw == "on"
            continue
        text = raw if f.kind in ("string", "text") else raw.strip()
        if text == "":
            if f.required and f.kind in ("string", "text"):
                arguments[f.name] = ""  # the tool's own validation says whether an empty string will do
            elif f.required:
                errors[f.name] = "Fill this in: it is required."
            continue
        try:
            if f.kind in ("number", "integer"):
                arguments[f.name] = _number(text, f.kind == "integer")
            elif f.kind == "string_list":
                arguments[f.name] = [line.strip() for line in text.splitlines() if line.strip()]
            elif f.kind == "json":
                arguments[f.name] = json.loads(text)
            elif f.kind == "enum" and text not in f.options:
                errors[f.name] = "Choose one of the listed values."
            else:
                arguments[f.name] = text
        except ValueError:
            errors[f.name] = _UNREADABLE.get(f.kind, 'Enter valid JSON (for example {"key": "value"} or [1, 2]).')
    return arguments, errors
