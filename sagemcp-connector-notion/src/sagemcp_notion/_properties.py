"""Page properties: Notion's property values shown compactly, and written from plain values.

Reading, every property type becomes one short text: titles and rich text as plain text,
select / status names, multi-select names joined by commas, dates with their end and time
zone (`2026-01-05 10:00+02:00 → 12:00+02:00 (Europe/Paris)`), people by name, relations by
the related pages' titles when they were looked up (else their ids), rollups and formulas by
their result, files by name.

Writing, a tool takes plain JSON values and this module turns them into Notion's property
values using the data source's schema: a string for titles, rich text (inline Markdown),
select, status, URL, email and phone number; a number; true/false for a checkbox; an ISO 8601
date or `{"start", "end", "time_zone"}` (or `[start, end]`) for a date; a list of names for
multi-select, of user ids for people, of page ids for relations, of URLs for files; null to
clear. A name that is not a property, a read-only property or a value of the wrong kind is an
`InvalidArguments` error naming the property and saying what it takes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sagemcp.errors import InvalidArguments

from ._ids import dashed
from ._richtext import plain_text, rich_text_from_markdown

__all__ = [
    "READ_ONLY_TYPES",
    "find_property",
    "page_title",
    "property_config",
    "property_value",
    "property_values",
    "relation_ids",
    "render_value",
    "schema_details",
    "title_property",
]

READ_ONLY_TYPES = frozenset(
    {
        "formula",
        "rollup",
        "created_time",
        "created_by",
        "last_edited_time",
        "last_edited_by",
        "unique_id",
        "button",
        "verification",
        "last_visited_time",
    }
)
"""Property types Notion computes: they cannot be written."""

_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::00)?(?:\.000)?(Z|[+-]\d{2}:\d{2})?$")
_CONFIG_TYPES = frozenset(
    {
        "title",
        "rich_text",
        "number",
        "select",
        "multi_select",
        "status",
        "date",
        "people",
        "files",
        "checkbox",
        "url",
        "email",
        "phone_number",
        "formula",
        "relation",
        "rollup",
        "created_time",
        "created_by",
        "last_edited_time",
        "last_edited_by",
        "unique_id",
        "place",
        "verification",
        "button",
        "location",
        "last_visited_time",
    }
)


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def page_title(page: Mapping[str, Any]) -> str:
    """The title of a page (the text of its `title` property), or of a database / data source."""
    title = page.get("title")
    if isinstance(title, list):
        return plain_text(title)
    for value in _obj(page.get("properties")).values():
        if isinstance(value, dict) and value.get("type") == "title":
            return plain_text(value.get("title") or [])
    return ""


def relation_ids(page: Mapping[str, Any]) -> list[str]:
    """The ids of the pages every relation property of `page` points at, in order, without repeats."""
    found: list[str] = []
    for value in _obj(page.get("properties")).values():
        if isinstance(value, dict) and value.get("type") == "relation":
            for item in value.get("relation") or []:
                if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"] not in found:
                    found.append(item["id"])
    return found


def _date(value: Any) -> str:
    data = _obj(value)
    start = data.get("start")
    if not isinstance(start, str):
        return ""
    text = _short_time(start)
    end = data.get("end")
    if isinstance(end, str) and end:
        end_text = _short_time(end)
        if end_text[:10] == text[:10] and len(end_text) > 10:
            end_text = end_text[11:]  # same day: the end time only
        text += f" → {end_text}"
    zone = data.get("time_zone")
    if isinstance(zone, str) and zone:
        text += f" ({zone})"
    return text


def _short_time(value: str) -> str:
    """`2026-01-05T10:00:00.000+02:00` as `2026-01-05 10:00+02:00`; other forms unchanged."""
    match = _DATETIME.match(value)
    if not match:
        return value
    day, clock, zone = match.groups()
    return f"{day} {clock}{'' if zone is None else 'Z' if zone == 'Z' else zone}"


def _user(value: Any) -> str:
    data = _obj(value)
    name = data.get("name")
    if isinstance(name, str) and name:
        return name
    email = _obj(data.get("person")).get("email")
    if isinstance(email, str) and email:
        return email
    return str(data.get("id") or "")


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def render_value(value: Mapping[str, Any], titles: Mapping[str, str] | None = None) -> str:
    """One property value as short text (see the module docstring); `titles` names related pages by id."""
    kind = value.get("type")
    data = value.get(kind) if isinstance(kind, str) else None
    if kind in ("title", "rich_text"):
        return plain_text(data or [])
    if kind == "number":
        return _number(data)
    if kind in ("select", "status"):
        return str(_obj(data).get("name") or "")
    if kind == "multi_select":
        return ", ".join(str(_obj(option).get("name") or "") for option in data or [])
    if kind == "date":
        return _date(data)
    if kind == "people":
        return ", ".join(_user(person) for person in data or [])
    if kind in ("created_by", "last_edited_by"):
        return _user(data)
    if kind in ("created_time", "last_edited_time", "last_visited_time"):
        return _short_time(data) if isinstance(data, str) else ""
    if kind == "checkbox":
        return "yes" if data is True else "no"
    if kind in ("url", "email", "phone_number"):
        return data if isinstance(data, str) else ""
    if kind == "relation":
        ids = [str(_obj(item).get("id")) for item in data or [] if _obj(item).get("id")]
        shown = [(titles or {}).get(page_id) or page_id for page_id in ids]
        more = " …" if value.get("has_more") is True else ""
        return ", ".join(shown) + more
    if kind == "files":
        return ", ".join(str(_obj(item).get("name") or "file") for item in data or [])
    if kind == "formula":
        inner = _obj(data)
        return render_value({"type": inner.get("type"), **inner}, titles)
    if kind == "rollup":
        inner = _obj(data)
        if inner.get("type") == "array":
            return ", ".join(render_value(_obj(item), titles) for item in inner.get("array") or [])
        return render_value({"type": inner.get("type"), **inner}, titles)
    if kind == "unique_id":
        inner = _obj(data)
        number = _number(inner.get("number"))
        prefix = inner.get("prefix")
        return f"{prefix}-{number}" if isinstance(prefix, str) and prefix and number else number
    if kind == "string":
        return data if isinstance(data, str) else ""
    if kind == "boolean":
        return "yes" if data is True else "no" if data is False else ""
    if kind == "verification":
        return str(_obj(data).get("state") or "")
    if kind == "place":
        inner = _obj(data)
        return str(inner.get("name") or inner.get("address") or "")
    return ""


def schema_details(prop: Mapping[str, Any]) -> str:
    """What a data source property holds beyond its type: options, the relation's target, a formula."""
    kind = prop.get("type")
    config = _obj(prop.get(kind)) if isinstance(kind, str) else {}
    if kind in ("select", "multi_select", "status"):
        names = [str(_obj(option).get("name")) for option in config.get("options") or [] if _obj(option).get("name")]
        return "options: " + ", ".join(names) if names else ""
    if kind == "relation":
        target = config.get("data_source_id") or config.get("database_id")
        return f"to data source {target}" if target else ""
    if kind == "formula":
        expression = config.get("expression")
        return f"= {expression}" if isinstance(expression, str) else ""
    if kind == "number":
        fmt = config.get("format")
        return f"format: {fmt}" if isinstance(fmt, str) and fmt != "number" else ""
    if kind == "rollup":
        parts = [config.get("function"), config.get("relation_property_name"), config.get("rollup_property_name")]
        return " of ".join(str(p) for p in parts[:1] if p) + (f" ({parts[1]} → {parts[2]})" if parts[1] else "")
    return ""


def title_property(schema: Mapping[str, Any]) -> str:
    """The name of the title property of a data source schema (`properties`), "title" if none is found."""
    for name, prop in schema.items():
        if isinstance(prop, dict) and prop.get("type") == "title":
            return str(prop.get("name") or name)
    return "title"


def find_property(schema: Mapping[str, Any], name: str, where: str) -> tuple[str, dict[str, Any]]:
    """The property named `name` (or with that id) in a schema: exact, then case-insensitive.

    `InvalidArguments` naming `where` and listing the properties there is when there is none.
    """
    if isinstance(schema.get(name), dict):
        return name, schema[name]
    for key, prop in schema.items():
        if isinstance(prop, dict) and prop.get("id") == name:
            return key, prop
    folded = [key for key in schema if key.casefold() == name.casefold()]
    if len(folded) == 1 and isinstance(schema[folded[0]], dict):
        return folded[0], schema[folded[0]]
    known = ", ".join(f"{key!r} ({_obj(prop).get('type')})" for key, prop in schema.items())
    raise InvalidArguments(
        f"{where}: {name!r} is not a property of this data source; its properties are: {known or 'none'}",
        [(where, f"unknown property {name!r}")],
    )


def _bad(where: str, name: str, kind: str, takes: str) -> InvalidArguments:
    return InvalidArguments(
        f"{where}: property {name!r} is a {kind} property and takes {takes}",
        [(where, f"{name!r} takes {takes}")],
    )


def _strings(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value if item.strip()]
    return None


def _ids(value: Any, where: str, name: str, kind: str) -> list[str]:
    items = _strings(value)
    if items is None:
        raise _bad(where, name, kind, "a list of ids")
    try:
        return [dashed(item) for item in items]
    except ValueError:
        raise _bad(where, name, kind, "a list of Notion ids (32 hex digits, or Notion URLs)") from None


def _date_value(value: Any, where: str, name: str) -> dict[str, Any]:
    takes = 'an ISO 8601 date or date-time, [start, end], or {"start", "end", "time_zone"}'
    if isinstance(value, str) and value.strip():
        return {"start": value.strip()}
    if isinstance(value, list) and len(value) in (1, 2) and all(isinstance(v, str) for v in value):
        return {"start": value[0], **({"end": value[1]} if len(value) == 2 else {})}
    if isinstance(value, dict) and isinstance(value.get("start"), str):
        extra = set(value) - {"start", "end", "time_zone"}
        if extra:
            raise _bad(where, name, "date", takes)
        return {key: value[key] for key in ("start", "end", "time_zone") if value.get(key) is not None}
    raise _bad(where, name, "date", takes)


def property_value(name: str, prop: Mapping[str, Any], value: Any, where: str) -> dict[str, Any]:
    """The Notion property value for `value` written to property `name` of type `prop["type"]`."""
    kind = str(prop.get("type") or "")
    if kind in READ_ONLY_TYPES:
        raise InvalidArguments(
            f"{where}: property {name!r} is a {kind} property, which Notion computes; it cannot be written",
            [(where, f"{name!r} is read-only ({kind})")],
        )
    if kind in ("title", "rich_text"):
        if value is None:
            return {kind: []}
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise _bad(where, name, kind, "text (inline Markdown)")
        return {kind: rich_text_from_markdown(str(value))}
    if kind == "number":
        if value is None:
            return {"number": None}
        if isinstance(value, str):
            try:
                value = float(value) if any(c in value for c in ".eE") else int(value)
            except ValueError:
                raise _bad(where, name, kind, "a number") from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad(where, name, kind, "a number")
        return {"number": value}
    if kind in ("select", "status"):
        if value is None:
            return {kind: None}
        if not isinstance(value, str) or not value.strip():
            raise _bad(where, name, kind, "one option name")
        if kind == "status":
            options = [str(_obj(o).get("name")) for o in _obj(prop.get("status")).get("options") or []]
            if options and value not in options:
                raise InvalidArguments(
                    f"{where}: {value!r} is not a status of property {name!r}; choose one of: {', '.join(options)}",
                    [(where, f"unknown status {value!r} for {name!r}")],
                )
        return {kind: {"name": value.strip()}}
    if kind == "multi_select":
        names = [] if value is None else _strings(value)
        if names is None:
            raise _bad(where, name, kind, "a list of option names")
        return {kind: [{"name": option} for option in names]}
    if kind == "date":
        return {"date": None if value is None else _date_value(value, where, name)}
    if kind == "checkbox":
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no"):
            value = value.lower() in ("true", "yes")
        if not isinstance(value, bool):
            raise _bad(where, name, kind, "true or false")
        return {"checkbox": value}
    if kind in ("url", "email", "phone_number"):
        if value is not None and not isinstance(value, str):
            raise _bad(where, name, kind, "a string")
        return {kind: value or None}
    if kind == "people":
        users = [] if value is None else _ids(value, where, name, kind)
        return {"people": [{"object": "user", "id": user} for user in users]}
    if kind == "relation":
        pages = [] if value is None else _ids(value, where, name, kind)
        return {"relation": [{"id": page} for page in pages]}
    if kind == "files":
        urls = [] if value is None else _strings(value)
        if urls is None or not all(url.startswith("https://") for url in urls):
            raise _bad(where, name, kind, "a list of https URLs")
        return {
            "files": [
                {
                    "name": url.rstrip("/").rsplit("/", 1)[-1][:100] or "file",
                    "type": "external",
                    "external": {"url": url},
                }
                for url in urls
            ]
        }
    raise InvalidArguments(
        f"{where}: property {name!r} has type {kind or 'unknown'}, which this connector cannot write",
        [(where, f"{name!r} cannot be written ({kind or 'unknown type'})")],
    )


def property_values(
    schema: Mapping[str, Any], values: Mapping[str, Any], where: str = "properties"
) -> dict[str, dict[str, Any]]:
    """Plain `values` by property name as the `properties` object of a page request."""
    found: dict[str, dict[str, Any]] = {}
    for name, value in values.items():
        key, prop = find_property(schema, name, f"{where}.{name}")
        found[key] = property_value(key, prop, value, f"{where}.{name}")
    return found


_SIMPLE_CONFIG_KEYS = frozenset({"type", "options", "format", "expression", "data_source_id", "dual", "description"})


def property_config(name: str, spec: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A property configuration for a data source schema from a short spec.

    `{"type": "select", "options": ["A", "B"]}`, `{"type": "number", "format": "dollar"}`,
    `{"type": "formula", "expression": "prop(\\"Price\\") * 2"}`, `{"type": "relation",
    "data_source_id": "…", "dual": true}`, `{"type": "rich_text"}`; an object already in
    Notion's form (`{"select": {"options": [...]}}`) is passed on as it is. `name` renames.
    """
    notion_keys = [key for key in spec if key in _CONFIG_TYPES]
    if notion_keys:
        return dict(spec)
    extra = set(spec) - _SIMPLE_CONFIG_KEYS - {"name"}
    kind = spec.get("type")
    if extra:
        raise InvalidArguments(
            f"{where}: unknown keys {sorted(extra)} for property {name!r}; use type, options, format, expression, "
            "data_source_id, dual, description and name",
            [(where, f"unknown keys {sorted(extra)}")],
        )
    config: dict[str, Any] = {}
    if isinstance(spec.get("name"), str):
        config["name"] = spec["name"]
    if isinstance(spec.get("description"), str):
        config["description"] = spec["description"]
    if kind is None:
        if not config:
            raise InvalidArguments(
                f"{where}: give property {name!r} a type (or a new name to rename it)", [(where, "no type or name")]
            )
        return config
    if kind not in _CONFIG_TYPES:
        raise InvalidArguments(
            f"{where}: {kind!r} is not a Notion property type; use one of: {', '.join(sorted(_CONFIG_TYPES))}",
            [(where, f"unknown type {kind!r}")],
        )
    body: dict[str, Any] = {}
    if kind in ("select", "multi_select", "status") and spec.get("options") is not None:
        options = _strings(spec["options"])
        if options is None:
            raise _bad(where, name, kind, "options as a list of names")
        body["options"] = [{"name": option} for option in options]
    elif kind == "number" and isinstance(spec.get("format"), str):
        body["format"] = spec["format"]
    elif kind == "formula":
        if not isinstance(spec.get("expression"), str):
            raise _bad(where, name, kind, "an expression")
        body["expression"] = spec["expression"]
    elif kind == "relation":
        target = spec.get("data_source_id")
        if not isinstance(target, str):
            raise _bad(where, name, kind, "data_source_id, the data source it links to")
        try:
            body["data_source_id"] = dashed(target)
        except ValueError:
            raise _bad(where, name, kind, "data_source_id as a Notion id") from None
        if spec.get("dual") is True:
            body["type"], body["dual_property"] = "dual_property", {}
        else:
            body["type"], body["single_property"] = "single_property", {}
    config[str(kind)] = body
    return config
