"""The OAuth scopes the tools declare, one constant per scope set.

Read tools ask for the read-only scope of their API and write tools for the narrowest scope that
allows the write, so a tenant whose policy is read-only is asked only for read-only scopes, and a
tenant that enables one group is asked only for that group's scopes (`Connector.oauth_scopes`).
"""

from __future__ import annotations

__all__ = [
    "CALENDAR_EVENTS",
    "CALENDAR_READ",
    "DOCS_READ",
    "DOCS_WRITE",
    "DRIVE_METADATA_READ",
    "DRIVE_READ",
    "DRIVE_WRITE",
    "GMAIL_COMPOSE",
    "GMAIL_MODIFY",
    "GMAIL_READ",
    "GMAIL_SEND",
    "SHEETS_READ",
    "SHEETS_WRITE",
    "scope",
]

_PREFIX = "https://www.googleapis.com/auth/"


def scope(name: str) -> str:
    """The full scope URL of a short name (`drive.readonly`)."""
    return _PREFIX + name


DRIVE_READ = (scope("drive.readonly"),)
DRIVE_WRITE = (scope("drive"),)
DRIVE_METADATA_READ = (scope("drive.metadata.readonly"),)
"""Listing documents or spreadsheets by name needs only file metadata."""
DOCS_READ = (scope("documents.readonly"),)
DOCS_WRITE = (scope("documents"),)
SHEETS_READ = (scope("spreadsheets.readonly"),)
SHEETS_WRITE = (scope("spreadsheets"),)
CALENDAR_READ = (scope("calendar.readonly"),)
CALENDAR_EVENTS = (scope("calendar.events"),)
GMAIL_READ = (scope("gmail.readonly"),)
GMAIL_MODIFY = (scope("gmail.modify"),)
GMAIL_COMPOSE = (scope("gmail.compose"),)
GMAIL_SEND = (scope("gmail.send"),)
