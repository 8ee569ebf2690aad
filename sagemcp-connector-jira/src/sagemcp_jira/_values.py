"""Small readers of Jira's JSON shared by the models: text, names, users, dates and field values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ._adf import is_adf, plain_text

__all__ = ["as_int", "field_value", "name_of", "obj", "short_time", "text", "user_id", "user_name"]

_VALUE_LIMIT = 200
"""Characters of one field value shown in a table or a list of fields."""


def obj(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """The object under `key`, or an empty one when it is missing or not an object."""
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def text(value: Any) -> str | None:
    """A non-empty string, or None (numbers as their decimal text)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    return value if isinstance(value, str) and value else None


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def name_of(value: Any) -> str | None:
    """The display name of a Jira object (status, priority, issue type, project, version...)."""
    if isinstance(value, Mapping):
        for key in ("name", "displayName", "value", "key"):
            found = text(value.get(key))
            if found:
                return found
        return None
    return text(value)


def user_name(value: Any) -> str | None:
    """A user's display name (falling back to the account id or user name)."""
    if not isinstance(value, Mapping):
        return text(value)
    return text(value.get("displayName")) or text(value.get("name")) or text(value.get("accountId"))


def user_id(value: Any) -> str | None:
    """A user's id for the next call: the account id on Cloud, the user name on Data Center."""
    if not isinstance(value, Mapping):
        return None
    return text(value.get("accountId")) or text(value.get("name")) or text(value.get("key"))


def short_time(value: str | None) -> str:
    """`2021-01-17T12:34:00.000+0000` as `2021-01-17 12:34` (for tables); other text unchanged."""
    if not value or len(value) < 16 or value[10] != "T":
        return value or ""
    return f"{value[:10]} {value[11:16]}"


def field_value(value: Any, limit: int = _VALUE_LIMIT) -> str | None:
    """Any field's value as short text: names of objects, lists joined, rich text as plain text."""
    if value is None or value == [] or value == {}:
        return None
    if is_adf(value):
        rendered = plain_text(value)
    elif isinstance(value, Mapping):
        named = name_of(value)
        if named is None and "displayName" not in value:
            named = text(value.get("id"))
        rendered = named if named is not None else json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    elif isinstance(value, list):
        parts = [field_value(item, limit) for item in value]
        rendered = ", ".join(p for p in parts if p)
    elif isinstance(value, bool):
        rendered = "yes" if value else "no"
    else:
        rendered = str(value)
    rendered = " ".join(rendered.split())
    if not rendered:
        return None
    return rendered if len(rendered) <= limit else rendered[: limit - 1] + "…"
