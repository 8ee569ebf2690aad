"""Helpers the tool groups share: path segments for users, and checks done before any request."""

from __future__ import annotations

from urllib.parse import quote

from sagemcp.errors import InvalidArguments

__all__ = ["require", "user_segment"]


def user_segment(user_id: str) -> str:
    """A user reference (`me`, an id, an email address) as one path segment."""
    return quote(user_id, safe="@")


def require(condition: bool, field: str, message: str) -> None:
    """Refuse the call before anything is sent, naming the field, when `condition` does not hold."""
    if not condition:
        raise InvalidArguments(f"Invalid arguments: {field}: {message}", [(field, message)])
