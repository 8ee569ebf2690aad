"""The `meetings` and `meetings_delete` tools: the requests they send and the results a model sees."""

from __future__ import annotations

import json

import httpx
from zoom_support import FakeZoom, fixture

from sagemcp.platform import ToolPolicy
from sagemcp.testing import OpenAPIValidator, call_tool
from sagemcp_zoom import ZoomConnector


async def test_list_meetings_maps_the_kind_and_pages_with_zoom_tokens(zoom_description: OpenAPIValidator) -> None:
    first = {**fixture("meetings"), "next_page_token": "tok2"}
    zoom = FakeZoom(zoom_description, responses={"meetings": [first, fixture("meetings")]})
    args = {"kind": "previous", "limit": 2}
    page1 = await call_tool(ZoomConnector, "zoom_list_meetings", args, handler=zoom)
    assert page1.structured is not None
    cursor = page1.structured["next_cursor"]
    assert f"cursor=`{cursor}`" in page1.text
    page2 = await call_tool(ZoomConnector, "zoom_list_meetings", {**args, "cursor": cursor}, handler=zoom)
    assert not page2.is_error, page2.text
    sent = [dict(r.url.params) for r in zoom.requests]
    assert sent == [
        {"type": "previous_meetings", "page_size": "2"},
        {"type": "previous_meetings", "page_size": "2", "next_page_token": "tok2"},
    ]
    assert page2.structured is not None and "next_cursor" not in page2.structured
    item = page1.structured["items"][0]
    assert item == {
        "id": "11111",
        "uuid": "mlghmfghlBBB",
        "topic": "Zoom Meeting",
        "type": "scheduled",
        "start_time": "2019-08-16T02:00:00Z",
        "timezone": "America/Los_Angeles",
        "duration": 30,
        "join_url": "https://zoom.us/j/11111",
    }
    assert "2019-08-15 19:00 America/Los_Angeles" in page1.text  # shown in the meeting's own zone


async def test_a_cursor_is_bound_to_the_listing(zoom_description: OpenAPIValidator) -> None:
    first = {**fixture("meetings"), "next_page_token": "tok2"}
    zoom = FakeZoom(zoom_description, responses={"meetings": first})
    page = await call_tool(ZoomConnector, "zoom_list_meetings", {"kind": "upcoming"}, handler=zoom)
    assert page.structured is not None
    other = await call_tool(
        ZoomConnector, "zoom_list_meetings", {"kind": "live", "cursor": page.structured["next_cursor"]}, handler=zoom
    )
    assert other.is_error and "kind" in other.text
    assert len(zoom.requests) == 1


async def test_get_meeting_never_shows_the_hosts_start_link(zoom_description: OpenAPIValidator) -> None:
    zoom = FakeZoom(zoom_description)
    result = await call_tool(ZoomConnector, "zoom_get_meeting", {"meeting_id": 1234555466}, handler=zoom)
    assert "start_url" not in json.dumps(result.structured)
    assert "zoom.us/1234555466/cdknf" not in result.text
    assert result.structured is not None
    assert result.structured["settings"]["auto_recording"] == "local"
    assert "global_dial_in_numbers" not in json.dumps(result.structured)


async def test_create_meeting_sends_an_explicit_time_zone_recurrence_and_plain_agenda(
    zoom_description: OpenAPIValidator,
) -> None:
    zoom = FakeZoom(zoom_description)
    arguments = {
        "topic": "Roadmap",
        "start_time": "2026-06-02T09:30:00+02:00",
        "timezone": "Europe/Berlin",
        "agenda": "## Plan\n\n1. **Importer** status\n2. Pricing — see [doc](https://example.com/d)",
        "recurrence": {"every": "month", "week_of_month": "last", "weekday": "friday", "until": "2026-12-31"},
        "settings": {"join_before_host": False, "registration": "automatic"},
    }
    result = await call_tool(ZoomConnector, "zoom_create_meeting", arguments, handler=zoom)
    assert not result.is_error, result.text
    body = zoom.body("meetingCreate")
    assert body == {
        "topic": "Roadmap",
        "type": 8,
        "duration": 60,
        "timezone": "Europe/Berlin",
        "start_time": "2026-06-02T07:30:00Z",
        "recurrence": {
            "type": 3,
            "repeat_interval": 1,
            "monthly_week": -1,
            "monthly_week_day": 6,
            "end_date_time": "2026-12-31T22:59:59Z",
        },
        "agenda": "Plan\n\n1. Importer status\n2. Pricing — see doc (https://example.com/d)",
        "settings": {"join_before_host": False, "approval_type": 0},
    }
    assert result.structured is not None and result.structured["id"] == "1100000"
    assert "Join: https://zoom.us/j/1100000" in result.text


async def test_a_local_start_time_stays_local(zoom_description: OpenAPIValidator) -> None:
    zoom = FakeZoom(zoom_description)
    arguments = {"topic": "Standup", "start_time": "2026-06-02T09:30:00", "timezone": "America/Chicago", "duration": 15}
    await call_tool(ZoomConnector, "zoom_create_meeting", arguments, handler=zoom)
    body = zoom.body("meetingCreate")
    assert (body["start_time"], body["timezone"], body["type"]) == ("2026-06-02T09:30:00", "America/Chicago", 2)


async def test_update_meeting_patches_only_what_is_given_then_reads_it(zoom_description: OpenAPIValidator) -> None:
    zoom = FakeZoom(zoom_description)
    arguments = {"meeting_id": 1234555466, "topic": "Renamed", "settings": {"waiting_room": True}}
    result = await call_tool(ZoomConnector, "zoom_update_meeting", arguments, handler=zoom)
    assert not result.is_error, result.text
    assert zoom.operation_ids == ["meetingUpdate", "meeting"]
    assert zoom.body("meetingUpdate") == {"topic": "Renamed", "settings": {"waiting_room": True}}
    assert zoom.requests[0].method == "PATCH"


async def test_registrants_are_approved_by_id(zoom_description: OpenAPIValidator) -> None:
    zoom = FakeZoom(zoom_description)
    arguments = {"meeting_id": 1, "action": "deny", "registrant_ids": ["a1", "b2", "a1"], "occurrence_id": "99"}
    result = await call_tool(ZoomConnector, "zoom_update_meeting_registrants", arguments, handler=zoom)
    assert zoom.body("meetingRegistrantStatus") == {"action": "deny", "registrants": [{"id": "a1"}, {"id": "b2"}]}
    assert zoom.requests[0].url.params["occurrence_id"] == "99"
    assert "Denied 2 registration(s)" in result.text


async def test_past_instances_are_newest_first_with_an_offset_cursor(zoom_description: OpenAPIValidator) -> None:
    zoom = FakeZoom(zoom_description)
    first = await call_tool(ZoomConnector, "zoom_list_past_instances", {"meeting_id": 1, "limit": 1}, handler=zoom)
    assert first.structured is not None
    assert [i["uuid"] for i in first.structured["items"]] == ["/ajXp112QmuoKj4854875=="]
    second = await call_tool(
        ZoomConnector,
        "zoom_list_past_instances",
        {"meeting_id": 1, "limit": 1, "cursor": first.structured["next_cursor"]},
        handler=zoom,
    )
    assert second.structured is not None
    assert [i["uuid"] for i in second.structured["items"]] == ["Zd5hZ0oHQ9GyMd5Pr5R3FA=="]
    assert "next_cursor" not in second.structured


async def test_poll_results_are_counted(zoom_description: OpenAPIValidator) -> None:
    results = {
        "id": 1,
        "uuid": "u",
        "start_time": "2026-01-01T10:00:00Z",
        "questions": [
            {"name": "A", "email": "a@x.io", "question_details": [{"question": "Lunch?", "answer": "Pizza;Salad"}]},
            {"name": "B", "email": "b@x.io", "question_details": [{"question": "Lunch?", "answer": "Pizza"}]},
        ],
    }
    zoom = FakeZoom(zoom_description, responses={"listPastMeetingPolls": results})
    result = await call_tool(ZoomConnector, "zoom_get_poll_results", {"meeting": "1"}, handler=zoom)
    assert result.structured is not None
    assert result.structured["respondents"] == 2
    assert result.structured["questions"] == [
        {"question": "Lunch?", "answers": [{"answer": "Pizza", "count": 2}, {"answer": "Salad", "count": 1}]}
    ]
    assert "email" not in json.dumps(result.structured)


async def test_delete_meeting_is_off_by_default_and_sends_the_notification_choices(
    zoom_description: OpenAPIValidator,
) -> None:
    zoom = FakeZoom(zoom_description)
    refused = await call_tool(
        ZoomConnector, "zoom_delete_meeting", {"meeting_id": 1}, handler=zoom, policy=ToolPolicy()
    )
    assert refused.is_error and zoom.requests == []
    result = await call_tool(
        ZoomConnector, "zoom_delete_meeting", {"meeting_id": 1, "notify_hosts": True}, handler=zoom
    )
    assert not result.is_error, result.text
    assert dict(zoom.requests[0].url.params) == {"schedule_for_reminder": "true", "cancel_meeting_reminder": "false"}
    assert ZoomConnector.tools["zoom_delete_meeting"].annotations.destructive


async def test_read_only_policy_blocks_meeting_writes(zoom_description: OpenAPIValidator) -> None:
    zoom = FakeZoom(zoom_description)
    policy = ToolPolicy(read_only=True)
    result = await call_tool(
        ZoomConnector, "zoom_create_meeting", {"topic": "x", "instant": True}, handler=zoom, policy=policy
    )
    assert result.is_error and zoom.requests == []


async def test_default_groups_stay_small_and_safe() -> None:
    enabled = ZoomConnector.enabled_tools(ToolPolicy())
    names = {spec.name for spec in enabled}
    assert len(enabled) <= 25
    assert not any(spec.annotations.destructive for spec in enabled)
    assert {"zoom_delete_meeting", "zoom_delete_recording", "zoom_list_users"}.isdisjoint(names)
    assert {"zoom_get_transcript", "zoom_get_meeting_summary", "zoom_create_meeting"} <= names


async def test_invitation_is_shown_verbatim(zoom_description: OpenAPIValidator) -> None:
    text = "Join: https://zoom.us/j/1?pwd=a_b*c\r\n# not a heading"
    zoom = FakeZoom(zoom_description, responses={"meetingInvitation": httpx.Response(200, json={"invitation": text})})
    result = await call_tool(ZoomConnector, "zoom_get_meeting_invitation", {"meeting_id": 1}, handler=zoom)
    assert "```text\nJoin: https://zoom.us/j/1?pwd=a_b*c\n# not a heading\n```" in result.text
