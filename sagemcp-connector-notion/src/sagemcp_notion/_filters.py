"""Notion's filter and sort objects for a data source query, checked against its schema before sending.

A filter is Notion's own object: `{"property": "Status", "status": {"equals": "Done"}}`,
compounds `{"and": [...]}` / `{"or": [...]}` nested at most two deep, and timestamp filters
`{"timestamp": "created_time", "created_time": {"past_week": {}}}`. Sorts are
`[{"property": "Due", "direction": "ascending"}, {"timestamp": "last_edited_time", ...}]`.

Notion answers a wrong filter with a 400 whose message is hard to act on; here a property
the data source does not have, a condition that does not fit the property's type, an
unknown operator or a value of the wrong kind is an `InvalidArguments` naming the property,
the path in the filter, and what would be valid. Properties may be named by name or id
(case-insensitively when that is unambiguous); they are sent by name, as in the schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sagemcp.errors import InvalidArguments

from ._properties import find_property

__all__ = ["check_filter", "check_sorts"]

_EXISTENCE = {"is_empty": "true", "is_not_empty": "true"}
_TEXT = {
    **{op: "string" for op in ("equals", "does_not_equal", "contains", "does_not_contain", "starts_with", "ends_with")},
    **_EXISTENCE,
}
_NUMBER = {
    **{
        op: "number"
        for op in (
            "equals",
            "does_not_equal",
            "greater_than",
            "less_than",
            "greater_than_or_equal_to",
            "less_than_or_equal_to",
        )
    },
    **_EXISTENCE,
}
_CHECKBOX = {"equals": "boolean", "does_not_equal": "boolean"}
_OPTION = {"equals": "string_or_strings", "does_not_equal": "string_or_strings", **_EXISTENCE}
_MULTI = {"contains": "string_or_strings", "does_not_contain": "string_or_strings", **_EXISTENCE}
_DATE = {
    **{op: "date" for op in ("equals", "before", "after", "on_or_before", "on_or_after")},
    **{
        op: "empty"
        for op in ("this_week", "past_week", "past_month", "past_year", "next_week", "next_month", "next_year")
    },
    **_EXISTENCE,
}
_PEOPLE = {"contains": "string", "does_not_contain": "string", **_EXISTENCE}
_RELATION = {"contains": "string", "does_not_contain": "string", **_EXISTENCE}
_FILES = dict(_EXISTENCE)
_VERIFICATION = {"status": "verification", "does_not_equal": "verification"}

_OPERATORS: dict[str, dict[str, str]] = {
    "title": _TEXT,
    "rich_text": _TEXT,
    "url": _TEXT,
    "email": _TEXT,
    "phone_number": _TEXT,
    "number": _NUMBER,
    "unique_id": _NUMBER,
    "checkbox": _CHECKBOX,
    "select": _OPTION,
    "status": _OPTION,
    "multi_select": _MULTI,
    "date": _DATE,
    "created_time": _DATE,
    "last_edited_time": _DATE,
    "people": _PEOPLE,
    "created_by": _PEOPLE,
    "last_edited_by": _PEOPLE,
    "relation": _RELATION,
    "files": _FILES,
    "verification": _VERIFICATION,
}
_FORMULA = {"string": _TEXT, "checkbox": _CHECKBOX, "number": _NUMBER, "date": _DATE}
_ROLLUP_EACH = {
    key: _OPERATORS[key]
    for key in (
        "rich_text",
        "number",
        "checkbox",
        "select",
        "multi_select",
        "relation",
        "date",
        "people",
        "files",
        "status",
    )
}
_RELATIVE = (
    "today",
    "tomorrow",
    "yesterday",
    "one_week_ago",
    "one_week_from_now",
    "one_month_ago",
    "one_month_from_now",
)
_TIMESTAMPS = ("created_time", "last_edited_time")
_MAX_DEPTH = 2


def _fail(path: str, message: str) -> InvalidArguments:
    return InvalidArguments(f"{path}: {message}", [(path, message)])


def check_filter(filter_: Mapping[str, Any], schema: Mapping[str, Any], path: str = "filter") -> dict[str, Any]:
    """`filter_` checked against the data source `schema` (its `properties`), with properties named as in it."""
    return _node(filter_, schema, path, 0)


def _node(node: Any, schema: Mapping[str, Any], path: str, depth: int) -> dict[str, Any]:
    if not isinstance(node, Mapping):
        raise _fail(path, 'a filter must be an object such as {"property": "Status", "status": {"equals": "Done"}}')
    compound = [key for key in ("and", "or") if key in node]
    if compound:
        key = compound[0]
        if len(node) != 1:
            raise _fail(path, f"a compound filter holds only {key!r}, got the keys {sorted(node)}")
        items = node[key]
        if not isinstance(items, list) or not items:
            raise _fail(f"{path}.{key}", "must be a non-empty list of filters")
        if depth >= _MAX_DEPTH:
            raise _fail(path, f"Notion nests compound filters at most {_MAX_DEPTH} levels deep")
        return {key: [_node(item, schema, f"{path}.{key}[{i}]", depth + 1) for i, item in enumerate(items)]}
    if "timestamp" in node:
        stamp = node["timestamp"]
        if stamp not in _TIMESTAMPS:
            raise _fail(f"{path}.timestamp", f"must be one of {', '.join(_TIMESTAMPS)}, got {stamp!r}")
        extra = set(node) - {"timestamp", stamp, "type"}
        if extra or stamp not in node:
            raise _fail(path, f'a timestamp filter is {{"timestamp": "{stamp}", "{stamp}": {{...}}}}')
        return {"timestamp": stamp, stamp: _condition(node[stamp], _DATE, f"{path}.{stamp}", stamp)}
    name = node.get("property")
    if not isinstance(name, str) or not name:
        raise _fail(path, 'a filter needs "property" (or "timestamp", or "and" / "or")')
    key, prop = find_property(schema, name, f"{path}.property")
    kind = str(prop.get("type") or "")
    conditions = [k for k in node if k not in ("property", "type")]
    if len(conditions) != 1:
        raise _fail(path, f'give exactly one condition for {key!r}, keyed by its type {kind!r}: {{"{kind}": {{...}}}}')
    given = conditions[0]
    where = f"{path}.{given}"
    if kind == "formula":
        if given != "formula" or not isinstance(node[given], Mapping) or len(node[given]) != 1:
            raise _fail(
                where,
                f'{key!r} is a formula: use {{"formula": {{"string" | "number" | "checkbox" | "date": {{...}}}}}}',
            )
        ((result, inner),) = node[given].items()
        if result not in _FORMULA:
            raise _fail(
                where, f"a formula condition is keyed by its result type: {', '.join(_FORMULA)}; got {result!r}"
            )
        return {"property": key, "formula": {result: _condition(inner, _FORMULA[result], f"{where}.{result}", key)}}
    if kind == "rollup":
        return {
            "property": key,
            "rollup": _rollup(node[given], f"{where}", key) if given == "rollup" else _wrong(where, key, kind, given),
        }
    operators = _OPERATORS.get(kind)
    if operators is None:
        raise _fail(where, f"{key!r} is a {kind} property, which Notion cannot filter on")
    if given != kind:
        raise _fail(where, f"{key!r} is a {kind} property: key its condition {kind!r}, not {given!r}")
    return {"property": key, kind: _condition(node[given], operators, where, key)}


def _wrong(where: str, name: str, kind: str, given: str) -> dict[str, Any]:
    raise _fail(where, f"{name!r} is a {kind} property: key its condition {kind!r}, not {given!r}")


def _rollup(value: Any, where: str, name: str) -> dict[str, Any]:
    if not isinstance(value, Mapping) or len(value) != 1:
        raise _fail(
            where, 'a rollup condition is {"any" | "every" | "none": {type: {...}}} or {"number" | "date": {...}}'
        )
    ((how, inner),) = value.items()
    if how in ("number", "date"):
        return {how: _condition(inner, _OPERATORS[how], f"{where}.{how}", name)}
    if how not in ("any", "every", "none") or not isinstance(inner, Mapping) or len(inner) != 1:
        raise _fail(
            where, 'a rollup condition is {"any" | "every" | "none": {type: {...}}} or {"number" | "date": {...}}'
        )
    ((kind, condition),) = inner.items()
    if kind not in _ROLLUP_EACH:
        raise _fail(f"{where}.{how}", f"a rollup's items are filtered by one of: {', '.join(_ROLLUP_EACH)}")
    return {how: {kind: _condition(condition, _ROLLUP_EACH[kind], f"{where}.{how}.{kind}", name)}}


def _condition(value: Any, operators: Mapping[str, str], where: str, name: str) -> dict[str, Any]:
    if not isinstance(value, Mapping) or len(value) != 1:
        raise _fail(where, f"a condition is one operator and its value, one of: {', '.join(operators)}")
    ((operator, operand),) = value.items()
    takes = operators.get(operator)
    if takes is None:
        raise _fail(where, f"{operator!r} does not apply to {name!r}; use one of: {', '.join(operators)}")
    if not _fits(takes, operand):
        raise _fail(f"{where}.{operator}", f"{operator!r} takes {_TAKES[takes]}, got {operand!r}")
    return {operator: operand}


_TAKES = {
    "true": "true",
    "string": "a string",
    "number": "a number",
    "boolean": "true or false",
    "string_or_strings": "a string or a list of strings",
    "date": f"an ISO 8601 date or one of {', '.join(_RELATIVE)}",
    "empty": "an empty object {}",
    "verification": "verified, expired or none",
}


def _fits(takes: str, value: Any) -> bool:
    if takes == "true":
        return value is True
    if takes == "string":
        return isinstance(value, str)
    if takes == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if takes == "boolean":
        return isinstance(value, bool)
    if takes == "string_or_strings":
        return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
    if takes == "date":
        return isinstance(value, str) and (value in _RELATIVE or value[:4].isdigit())
    if takes == "empty":
        return isinstance(value, dict) and not value
    return isinstance(value, str) and value in ("verified", "expired", "none")


def check_sorts(sorts: list[Any], schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Sort objects checked against the data source `schema`, with properties named as in it."""
    checked: list[dict[str, Any]] = []
    for index, sort in enumerate(sorts):
        where = f"sorts[{index}]"
        if not isinstance(sort, Mapping):
            raise _fail(where, 'a sort is {"property": "Name", "direction": "ascending" | "descending"}')
        direction = sort.get("direction", "ascending")
        if direction not in ("ascending", "descending"):
            raise _fail(f"{where}.direction", f"must be ascending or descending, got {direction!r}")
        extra = set(sort) - {"property", "timestamp", "direction"}
        if extra:
            raise _fail(where, f"unknown keys {sorted(extra)}; a sort has property (or timestamp) and direction")
        if "timestamp" in sort:
            if sort["timestamp"] not in _TIMESTAMPS or "property" in sort:
                raise _fail(f"{where}.timestamp", f"must be one of {', '.join(_TIMESTAMPS)} (without property)")
            checked.append({"timestamp": sort["timestamp"], "direction": direction})
            continue
        name = sort.get("property")
        if not isinstance(name, str) or not name:
            raise _fail(where, "a sort needs a property name (or a timestamp)")
        key, _ = find_property(schema, name, f"{where}.property")
        checked.append({"property": key, "direction": direction})
    return checked
