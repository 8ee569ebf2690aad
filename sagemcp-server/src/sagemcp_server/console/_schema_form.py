"""Form fields generated from a JSON Schema (a connector's configuration), and the values read back.

`fields_of(schema, current)` describes one input per top-level property: a text, number or
password input, a select for enums and booleans, a textarea for lists (one item a line) and
for anything nested (JSON). `values_from(form, fields)` turns the submitted strings back into
a configuration for the connector's own validation, which reports field-level errors under
`configuration.<name>`, the names these inputs carry. Properties marked `writeOnly` (or
`format: password`) are never rendered back; left blank, the stored value is kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["PREFIX", "FormField", "fields_of", "values_from"]

PREFIX = "configuration."
Widget = Literal["text", "number", "integer", "password", "select", "boolean", "lines", "json"]


@dataclass(frozen=True)
class FormField:
    name: str
    """The form field's name: `configuration.<property>`."""
    key: str
    label: str
    widget: Widget
    hint: str
    required: bool
    value: str
    """The current value as the input shows it ("" for secrets)."""
    options: tuple[tuple[str, str], ...] = ()
    secret: bool = False
    has_value: bool = False


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """The property's own schema: a `$ref` followed, and `anyOf [X, null]` (an optional field) as X."""
    for _ in range(8):
        if "$ref" in prop:
            ref = str(prop["$ref"]).rsplit("/", 1)[-1]
            prop = {**defs.get(ref, {}), **{k: v for k, v in prop.items() if k != "$ref"}}
            continue
        members = [m for m in prop.get("anyOf", ()) if m.get("type") != "null"]
        if "anyOf" in prop and len(members) == 1:
            prop = {**members[0], **{k: v for k, v in prop.items() if k != "anyOf"}}
            continue
        break
    return prop


def _widget(prop: dict[str, Any]) -> Widget:
    if prop.get("writeOnly") or prop.get("format") == "password":
        return "password"
    if "enum" in prop:
        return "select"
    kind = prop.get("type")
    if kind == "boolean":
        return "boolean"
    if kind == "integer":
        return "integer"
    if kind == "number":
        return "number"
    if kind == "string":
        return "text"
    if kind == "array" and _resolve(prop.get("items", {}), {}).get("type") in ("string", "integer", "number"):
        return "lines"
    return "json"


def _shown(widget: Widget, value: Any) -> str:
    if value is None or widget == "password":
        return ""
    if widget == "boolean":
        return "true" if value else "false"
    if widget == "lines":
        return "\n".join(str(v) for v in value) if isinstance(value, list) else str(value)
    if widget == "json":
        return json.dumps(value, indent=2)
    return str(value)


def fields_of(schema: dict[str, Any], current: dict[str, Any] | None = None, prefix: str = PREFIX) -> list[FormField]:
    """One field per top-level property of `schema` named `<prefix><property>`, showing `current`'s values
    (never a secret's)."""
    current = current or {}
    defs = schema.get("$defs", {})
    required = set(schema.get("required", ()))
    fields = []
    for key, raw in schema.get("properties", {}).items():
        prop = _resolve(raw, defs)
        widget = _widget(prop)
        hint = str(prop.get("description") or raw.get("description") or "")
        default = raw.get("default", prop.get("default"))
        if default is not None and widget != "password":
            hint = (hint + " " if hint else "") + f"Default: {_shown(widget, default) or 'empty'}."
        options: tuple[tuple[str, str], ...] = ()
        if widget == "select":
            options = (("", "(default)"), *((str(v), str(v)) for v in prop["enum"]))
        elif widget == "boolean":
            options = (("", "(default)"), ("true", "yes"), ("false", "no"))
        elif widget == "lines":
            hint = (hint + " " if hint else "") + "One value a line."
        elif widget == "json":
            hint = (hint + " " if hint else "") + "JSON."
        fields.append(
            FormField(
                name=prefix + key,
                key=key,
                label=str(prop.get("title") or raw.get("title") or key.replace("_", " ").capitalize()),
                widget=widget,
                hint=hint,
                required=key in required,
                value=_shown(widget, current.get(key)),
                options=options,
                secret=widget == "password",
                has_value=key in current and current[key] not in (None, ""),
            )
        )
    return fields


def values_from(
    form: dict[str, str], fields: list[FormField], current: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The configuration the form describes, and errors for inputs that cannot even be read (bad JSON).

    A blank input leaves the property out (its default applies); a blank secret keeps `current`'s."""
    current = current or {}
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields:
        text = form.get(field.name, "")
        if not text.strip():
            if field.secret and field.key in current:
                values[field.key] = current[field.key]
            continue
        if field.widget == "boolean":
            values[field.key] = text == "true"
        elif field.widget == "integer":
            try:
                values[field.key] = int(text.strip())
            except ValueError:
                values[field.key] = text  # the connector's validation reports it under this field
        elif field.widget == "number":
            try:
                values[field.key] = float(text.strip())
            except ValueError:
                values[field.key] = text
        elif field.widget == "lines":
            values[field.key] = [line.strip() for line in text.splitlines() if line.strip()]
        elif field.widget == "json":
            try:
                values[field.key] = json.loads(text)
            except ValueError:
                errors[field.name] = "This is not valid JSON."
        else:
            values[field.key] = text
    return values, errors
