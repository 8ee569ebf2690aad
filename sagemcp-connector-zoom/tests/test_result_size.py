"""Output budgets: a full page of realistic Zoom items is a small fraction of what Zoom sent, and under the cap.

Each list tool is called at its maximum `limit` against a page of copies of its fixture's
first item, filled the way real accounts fill them (long agendas, custom registration
questions, every recording file type, the participant fields Zoom returns today). The text a model reads must stay under a quarter of
the raw API bytes and under 80,000 characters (about 20,000 tokens).
"""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest
from zoom_cases import CASES, UUID
from zoom_support import FakeZoom, fixture

from sagemcp.testing import OpenAPIValidator, call_tool
from sagemcp_zoom import ZoomConnector

MAX_CHARS = 80_000
PARTICIPANT = {
    "user_id": "16778240",
    "registrant_id": "_TiWvn3vSwSu1DsbDDUHtw",
    "join_time": "2026-03-04T15:01:12Z",
    "leave_time": "2026-03-04T15:58:40Z",
    "duration": 3448,
    "failover": False,
    "status": "in_meeting",
    "internal_user": True,
}
"""The fields Zoom's current reference returns for a participant beyond the 2021 example's id, name and email."""
AGENDA = "Discuss the quarterly roadmap, staffing, budget and the launch plan in detail. " * 25
LISTS = {
    "zoom_list_meetings": ("meetings", "meetings"),
    "zoom_list_meeting_participants": ("pastMeetingParticipants", "participants"),
    "zoom_list_meeting_registrants": ("meetingRegistrants", "registrants"),
    "zoom_list_webinar_participants": ("listWebinarParticipants", "participants"),
    "zoom_list_webinar_registrants": ("webinarRegistrants", "registrants"),
    "zoom_list_users": ("users", "users"),
    "zoom_list_webinars": ("webinars", "webinars"),
    "zoom_list_recordings": ("recordingsList", "meetings"),
}


def _heavy(item: dict[str, Any], n: int) -> dict[str, Any]:
    item = copy.deepcopy(item)
    for key in ("id", "uuid"):
        if key in item:
            item[key] = f"{item[key]}{n}" if isinstance(item[key], str) else int(item[key]) + n
    if "agenda" in item or "topic" in item:
        item["agenda"] = AGENDA
    if "custom_questions" in item:
        item["custom_questions"] = item["custom_questions"] * 5
    if "user_email" in item and "name" in item:
        item.update(PARTICIPANT)
    if "recording_files" in item:
        item["recording_files"] = item["recording_files"] * 4
    return item


@pytest.mark.parametrize("tool", sorted(LISTS))
async def test_a_full_page_stays_small(tool: str, zoom_description: OpenAPIValidator) -> None:
    operation, key = LISTS[tool]
    args = next(a for name, a in CASES if name == tool)
    limit = 100
    body = fixture(operation)
    body[key] = [_heavy(body[key][0], n) for n in range(limit)]
    raw = httpx.Response(200, json=body).content
    zoom = FakeZoom(zoom_description, responses={operation: httpx.Response(200, content=raw)})
    result = await call_tool(ZoomConnector, tool, {**args, "limit": limit}, handler=zoom)
    assert not result.is_error, result.text[:300]
    assert result.structured is not None and len(result.structured["items"]) == limit
    assert len(result.text) <= MAX_CHARS, f"{tool}: {len(result.text):,} characters"
    assert len(result.text.encode()) < len(raw) / 4, f"{tool}: {len(result.text):,} characters for {len(raw):,} bytes"


async def test_a_recording_with_many_files_stays_small(zoom_description: OpenAPIValidator) -> None:
    body = fixture("recordingGet")
    body["recording_files"] = body["recording_files"] * 20
    zoom = FakeZoom(zoom_description, responses={"recordingGet": body})
    result = await call_tool(ZoomConnector, "zoom_get_meeting_recordings", {"meeting": UUID}, handler=zoom)
    raw = len(httpx.Response(200, json=body).content)
    assert len(result.text.encode()) < raw / 2
