"""The identifiers tools take, validated and described, and how they go into a request path.

A meeting has a numeric id (`85746065432`, shared by every occurrence of a recurring
meeting) and, per held instance, a UUID (`4444AAAiAAAAAiAiAiiAii==`). Zoom's rule for UUIDs
in paths: one that starts with `/` or contains `//` must be URL-encoded twice, any other once
(`ref_segment`).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from pydantic import Field

__all__ = [
    "MeetingId",
    "MeetingRef",
    "OccurrenceId",
    "UserRef",
    "WebinarId",
    "WebinarRef",
    "ref_segment",
]

_ID_MAX = 99_999_999_999_999
_UUID = r"[A-Za-z0-9+/=_-]{16,64}"

MeetingId = Annotated[
    int,
    Field(
        ge=1,
        le=_ID_MAX,
        description="The number in the join link, without spaces.",
        examples=[85746065432],
    ),
]
MeetingRef = Annotated[
    str,
    Field(
        pattern=rf"^(\d{{1,14}}|{_UUID})$",
        description="Numeric id (latest instance) or a held instance's UUID (zoom_list_past_instances).",
        examples=["85746065432", "4444AAAiAAAAAiAiAiiAii=="],
    ),
]
WebinarId = Annotated[
    int,
    Field(ge=1, le=_ID_MAX, description="From zoom_list_webinars."),
]
WebinarRef = Annotated[
    str,
    Field(
        pattern=rf"^(\d{{1,14}}|{_UUID})$",
        description="Numeric id (latest instance) or a held instance's UUID.",
    ),
]
OccurrenceId = Annotated[
    str | None,
    Field(
        default=None,
        pattern=r"^\d{1,20}$",
        description="One occurrence (from zoom_get_meeting); omit for the whole series.",
    ),
]
UserRef = Annotated[
    str,
    Field(
        pattern=r"^(me|[A-Za-z0-9_-]{1,64}|[^\s@/?#]{1,64}@[^\s@/?#]{1,255})$",
        description="`me`, a user id or an email (others need an admin or Server-to-Server credential).",
        examples=["me", "alice@example.com"],
    ),
]


def ref_segment(ref: str | int) -> str:
    """`ref` as one path segment: numbers as they are, UUIDs encoded once, or twice when Zoom requires it."""
    text = str(ref)
    if text.isdigit():
        return text
    once = quote(text, safe="")
    return quote(once, safe="") if text.startswith("/") or "//" in text else once
