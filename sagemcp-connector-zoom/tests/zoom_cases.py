"""Representative arguments for every tool; `test_contract.py` checks each request they make against the description.

`fake(tool)` is the fake Zoom a case runs against: the fixtures, plus for the transcript the
recording with a TRANSCRIPT file and the file itself on Zoom's download host.
"""

from __future__ import annotations

import httpx
from zoom_support import FakeZoom, fixture, transcript_vtt

from sagemcp.testing import OpenAPIValidator

TRANSCRIPT_PATH = "/rec/download/Qg75t7xZBtEbAkjdlgbfdngBBBB.vtt"
UUID = "4444AAAiAAAAAiAiAiiAii=="
SLASHED_UUID = "/ajXp112QmuoKj4854875=="

CASES: list[tuple[str, dict[str, object]]] = [
    ("zoom_list_meetings", {}),
    ("zoom_list_meetings", {"kind": "previous", "from_date": "2026-01-01", "to_date": "2026-01-31", "limit": 50}),
    ("zoom_list_meetings", {"kind": "live", "user_id": "alice@example.com"}),
    ("zoom_get_meeting", {"meeting_id": 85746065432}),
    ("zoom_get_meeting", {"meeting_id": 85746065432, "occurrence_id": "1648194360000"}),
    ("zoom_get_meeting_invitation", {"meeting_id": 85746065432}),
    ("zoom_get_past_meeting", {"meeting": UUID}),
    ("zoom_get_past_meeting", {"meeting": SLASHED_UUID}),
    ("zoom_list_past_instances", {"meeting_id": 85746065432}),
    ("zoom_list_meeting_participants", {"meeting": "85746065432", "limit": 100}),
    ("zoom_list_meeting_registrants", {"meeting_id": 85746065432, "status": "pending"}),
    (
        "zoom_update_meeting_registrants",
        {"meeting_id": 85746065432, "action": "approve", "registrant_ids": ["zjkfsdfjdfhg"]},
    ),
    ("zoom_list_meeting_polls", {"meeting_id": 85746065432}),
    ("zoom_get_poll_results", {"meeting": UUID}),
    (
        "zoom_create_meeting",
        {
            "topic": "Launch review",
            "start_time": "2026-06-02T09:30:00",
            "timezone": "America/New_York",
            "duration": 45,
            "agenda": "**Goals**\n\n- importer\n- pricing [page](https://example.com/p)",
            "recurrence": {"every": "week", "weekdays": ["monday", "wednesday"], "count": 6},
            "settings": {
                "waiting_room": True,
                "auto_recording": "cloud",
                "registration": "manual",
                "alternative_hosts": ["bob@example.com"],
            },
            "passcode": "launch1",
        },
    ),
    ("zoom_create_meeting", {"topic": "Quick sync", "instant": True}),
    (
        "zoom_update_meeting",
        {"meeting_id": 85746065432, "start_time": "2026-06-03T15:00:00Z", "timezone": "Europe/Berlin"},
    ),
    (
        "zoom_update_meeting",
        {
            "meeting_id": 85746065432,
            "occurrence_id": "1648194360000",
            "topic": "Moved",
            "recurrence": {"every": "month", "day_of_month": 3, "until": "2026-12-31"},
            "timezone": "UTC",
        },
    ),
    ("zoom_delete_meeting", {"meeting_id": 85746065432, "notify_registrants": True}),
    ("zoom_list_recordings", {}),
    ("zoom_list_recordings", {"from_date": "2026-01-01", "to_date": "2026-03-31", "limit": 5}),
    ("zoom_get_meeting_recordings", {"meeting": UUID}),
    ("zoom_get_transcript", {"meeting": UUID}),
    ("zoom_delete_recording", {"meeting": UUID}),
    (
        "zoom_delete_recording",
        {"meeting": SLASHED_UUID, "recording_id": "96119skjlfhdshkjf-djkfndjf0-f791", "action": "delete"},
    ),
    ("zoom_get_meeting_summary", {"meeting": UUID}),
    ("zoom_list_webinars", {}),
    ("zoom_get_webinar", {"webinar_id": 12345678}),
    ("zoom_list_webinar_participants", {"webinar": "12345678"}),
    ("zoom_list_webinar_registrants", {"webinar_id": 12345678, "status": "approved", "occurrence_id": "1648194360000"}),
    ("zoom_get_me", {}),
    ("zoom_get_user", {"user_id": "alice@example.com"}),
    ("zoom_list_users", {"status": "active"}),
]


def fake(tool: str, validator: OpenAPIValidator) -> FakeZoom:
    """The fake Zoom for `tool`'s case."""
    if tool == "zoom_get_transcript":
        return FakeZoom(
            validator,
            responses={"recordingGet": fixture("recordingGet.transcript")},
            files={TRANSCRIPT_PATH: httpx.Response(200, text=transcript_vtt(), headers={"Content-Type": "text/vtt"})},
        )
    return FakeZoom(validator)
