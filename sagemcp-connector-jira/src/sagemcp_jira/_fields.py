"""Fields named the way people name them: "Story Points" is found as `customfield_10016`.

`FieldCatalog` reads the site's fields (`GET /rest/api/{3|2}/field`) once per call that needs it,
and resolves a field given by id, key or name (case-insensitive; an ambiguous name is refused with
the ids to choose from, an unknown one with the closest names). It also shapes friendly values into
what Jira's REST API takes: Markdown for rich-text fields, `{"value": ...}` for options,
`{"name": ...}` for priorities, versions and components, a user reference for user fields.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from sagemcp.errors import InvalidArguments

from ._api import JiraApi
from ._values import obj

__all__ = ["FieldCatalog", "looks_like_field_id"]

_ID_RE = re.compile(r"^(customfield_\d+|[a-z][A-Za-z0-9]*)$")
_TEXTAREA = "com.atlassian.jira.plugin.system.customfieldtypes:textarea"
_RICH_SYSTEM = frozenset({"description", "environment"})
_NAMED = frozenset({"priority", "version", "component", "issuetype", "resolution", "project", "securitylevel"})


def looks_like_field_id(name: str) -> bool:
    """Whether `name` is spelled like a field id (`summary`, `customfield_10016`) rather than a display name."""
    return bool(_ID_RE.match(name))


class FieldCatalog:
    """The site's fields, by id and by lower-cased name."""

    def __init__(self, fields: list[Mapping[str, Any]]) -> None:
        self.by_id: dict[str, Mapping[str, Any]] = {}
        self.by_name: dict[str, list[Mapping[str, Any]]] = {}
        for field in fields:
            field_id = field.get("id") or field.get("key")
            if not isinstance(field_id, str):
                continue
            self.by_id[field_id] = field
            name = field.get("name")
            if isinstance(name, str):
                self.by_name.setdefault(name.strip().lower(), []).append(field)

    @classmethod
    async def load(cls, api: JiraApi) -> FieldCatalog:
        response = await api.get(api.api("/field"))
        return cls(response.json_list(of=dict))

    def names(self) -> dict[str, str]:
        """Field id -> display name."""
        return {fid: str(f.get("name") or fid) for fid, f in self.by_id.items()}

    def resolve(self, name: str, argument: str = "fields") -> Mapping[str, Any]:
        """The field `name` names (an id, a key, or a display name); `InvalidArguments` when none or several."""
        found = self.by_id.get(name)
        if found is not None:
            return found
        matches = self.by_name.get(name.strip().lower(), [])
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            ids = ", ".join(f"{m.get('id')}" for m in matches)
            raise InvalidArguments(
                f"several Jira fields are named {name!r} ({ids}): name the field by its id instead",
                [(argument, f"ambiguous field name {name!r}")],
            )
        close = difflib.get_close_matches(name.strip().lower(), list(self.by_name), n=3, cutoff=0.6)
        hint = (
            "; did you mean "
            + ", ".join(f"{self.by_name[c][0].get('name')!r} ({self.by_name[c][0].get('id')})" for c in close)
            + "?"
            if close
            else "; jira_list_fields lists the site's fields"
        )
        raise InvalidArguments(f"Jira has no field {name!r}{hint}", [(argument, f"unknown field {name!r}")])

    def shape(self, api: JiraApi, field: Mapping[str, Any], value: Any) -> Any:
        """`value` in the form Jira takes for `field`, when given in a friendlier one (else unchanged)."""
        schema = obj(field, "schema")
        kind = schema.get("type")
        items = schema.get("items")
        if isinstance(value, str) and (
            schema.get("system") in _RICH_SYSTEM or schema.get("custom") == _TEXTAREA or field.get("id") in _RICH_SYSTEM
        ):
            return api.rich_text(value)  # Markdown in; ADF on Cloud, wiki markup on Data Center
        if kind == "array" and isinstance(value, list):
            return [self._one(api, items, v) for v in value]
        return self._one(api, kind, value)

    @staticmethod
    def _one(api: JiraApi, kind: Any, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if kind == "option":
            return {"value": value}
        if kind in _NAMED:
            return {"name": value}
        if kind == "user":
            return api.user(value)
        return value

    def rename_errors(self, message: str) -> str:
        """An error message with field ids followed by their names (`customfield_10016 (Story Points)`)."""

        def name(match: re.Match[str]) -> str:
            field = self.by_id.get(match.group(0))
            label = field.get("name") if field is not None else None
            return f"{match.group(0)} ({label})" if isinstance(label, str) else match.group(0)

        return re.sub(r"customfield_\d+", name, message)
