"""Drive search queries (`files.list` `q`) built from typed filters, every value quoted.

Drive's query language takes string literals in single quotes, with `\\` and `'` escaped by a
backslash (https://developers.google.com/workspace/drive/api/guides/ref-search-terms). Every value
a caller gives goes through `literal()`, so a name like `it's' or name contains '` stays a name:
no argument can add a clause to the query.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

__all__ = ["FOLDER", "MIME_TYPES", "DriveQuery", "literal"]

FOLDER = "application/vnd.google-apps.folder"
MIME_TYPES = {
    "document": "application/vnd.google-apps.document",
    "spreadsheet": "application/vnd.google-apps.spreadsheet",
    "presentation": "application/vnd.google-apps.presentation",
    "folder": FOLDER,
    "form": "application/vnd.google-apps.form",
    "drawing": "application/vnd.google-apps.drawing",
    "pdf": "application/pdf",
    "shortcut": "application/vnd.google-apps.shortcut",
}
"""Short names for the kinds of file a caller filters on."""


def literal(value: str) -> str:
    """`value` as a Drive query string literal: `it's` -> `'it\\'s'`."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _timestamp(value: datetime) -> str:
    """RFC 3339 in UTC, as Drive compares dates (a naive datetime is taken as UTC)."""
    moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


class DriveQuery:
    """Clauses joined with `and`; each method adds one, quoting its value."""

    def __init__(self) -> None:
        self._clauses: list[str] = []

    def __str__(self) -> str:
        return " and ".join(self._clauses)

    def __bool__(self) -> bool:
        return bool(self._clauses)

    def full_text(self, text: str | None) -> DriveQuery:
        """Files whose name, description or content contains `text`."""
        if text:
            self._clauses.append(f"fullText contains {literal(text)}")
        return self

    def name_contains(self, text: str | None) -> DriveQuery:
        if text:
            self._clauses.append(f"name contains {literal(text)}")
        return self

    def mime_types(self, types: Sequence[str]) -> DriveQuery:
        """One of `types` (full MIME types)."""
        if types:
            terms = [f"mimeType = {literal(t)}" for t in types]
            self._clauses.append(terms[0] if len(terms) == 1 else "(" + " or ".join(terms) + ")")
        return self

    def not_folder(self) -> DriveQuery:
        self._clauses.append(f"mimeType != {literal(FOLDER)}")
        return self

    def in_folder(self, folder_id: str | None) -> DriveQuery:
        if folder_id:
            self._clauses.append(f"{literal(folder_id)} in parents")
        return self

    def owner(self, email: str | None) -> DriveQuery:
        if email:
            self._clauses.append(f"{literal(email)} in owners")
        return self

    def modified_after(self, when: datetime | None) -> DriveQuery:
        if when is not None:
            self._clauses.append(f"modifiedTime > {literal(_timestamp(when))}")
        return self

    def modified_before(self, when: datetime | None) -> DriveQuery:
        if when is not None:
            self._clauses.append(f"modifiedTime < {literal(_timestamp(when))}")
        return self

    def shared_with_me(self, only: bool) -> DriveQuery:
        if only:
            self._clauses.append("sharedWithMe = true")
        return self

    def starred(self, only: bool) -> DriveQuery:
        if only:
            self._clauses.append("starred = true")
        return self

    def trashed(self, trashed: bool) -> DriveQuery:
        self._clauses.append(f"trashed = {'true' if trashed else 'false'}")
        return self
