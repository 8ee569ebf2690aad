"""The `summaries`, `webinars`, `users` and `users_admin` tools."""

from __future__ import annotations

import httpx
from zoom_cases import UUID
from zoom_support import FakeZoom, fixture, zoom_error

from sagemcp.errors import UpstreamForbidden, UpstreamNotFound
from sagemcp.platform import ToolPolicy
from sagemcp.testing import OpenAPIValidator, call_tool
from sagemcp_zoom import ZoomConnector


async def test_a_summary_with_host_edits_shows_the_edits(zoom_description: OpenAPIValidator) -> None:
    body = {
        **fixture("getMeetingSummary"),
        "edited_summary": {"summary_details": "Edited text.", "next_steps": ["One"]},
    }
    zoom = FakeZoom(zoom_description, responses={"getMeetingSummary": body})
    result = await call_tool(ZoomConnector, "zoom_get_meeting_summary", {"meeting": UUID}, handler=zoom)
    assert result.structured is not None
    assert result.structured["edited"] is True
    assert result.structured["sections"] == [{"summary": "Edited text."}]
    assert result.structured["next_steps"] == ["One"]
    assert "_Edited by the host._" in result.text
    assert zoom.requests[0].url.raw_path == b"/v2/meetings/4444AAAiAAAAAiAiAiiAii%3D%3D/meeting_summary"


async def test_no_summary_is_a_clear_result_not_a_failure(zoom_description: OpenAPIValidator) -> None:
    zoom = FakeZoom(
        zoom_description, responses={"getMeetingSummary": zoom_error(404, 3322, "Meeting summary does not exist.")}
    )
    result = await call_tool(ZoomConnector, "zoom_get_meeting_summary", {"meeting": UUID}, handler=zoom)
    assert not result.is_error
    assert result.structured is not None and result.structured["available"] is False
    assert "AI Companion" in result.text and "Meeting summary does not exist." in result.text


async def test_a_plan_without_ai_companion_is_explained(zoom_description: OpenAPIValidator) -> None:
    zoom = FakeZoom(zoom_description, responses={"getMeetingSummary": zoom_error(400, 200, "No permission.")})
    result = await call_tool(ZoomConnector, "zoom_get_meeting_summary", {"meeting": "123"}, handler=zoom)
    assert result.structured is not None and result.structured["available"] is False
    assert "host's plan includes AI Companion" in result.text


async def test_a_missing_meeting_or_scope_is_still_an_error(zoom_description: OpenAPIValidator) -> None:
    missing = FakeZoom(
        zoom_description, responses={"getMeetingSummary": zoom_error(404, 3001, "Meeting does not exist.")}
    )
    result = await call_tool(ZoomConnector, "zoom_get_meeting_summary", {"meeting": "123"}, handler=missing)
    assert isinstance(result.error, UpstreamNotFound)
    scope = zoom_error(400, 4711, "Invalid access token, does not contain scopes:[meeting:read:summary].")
    result = await call_tool(
        ZoomConnector,
        "zoom_get_meeting_summary",
        {"meeting": "123"},
        handler=FakeZoom(zoom_description, responses={"getMeetingSummary": scope}),
    )
    assert isinstance(result.error, UpstreamForbidden) and result.error.missing_scopes == ["meeting:read:summary"]


async def test_webinars_page_by_number(zoom_description: OpenAPIValidator) -> None:
    first = {**fixture("webinars"), "page_count": "2"}
    zoom = FakeZoom(zoom_description, responses={"webinars": [first, fixture("webinars")]})
    page1 = await call_tool(ZoomConnector, "zoom_list_webinars", {"limit": 1}, handler=zoom)
    assert page1.structured is not None and page1.structured["total_records"] == 1
    page2 = await call_tool(
        ZoomConnector, "zoom_list_webinars", {"limit": 1, "cursor": page1.structured["next_cursor"]}, handler=zoom
    )
    assert [r.url.params["page_number"] for r in zoom.requests] == ["1", "2"]
    assert page2.structured is not None and "next_cursor" not in page2.structured
    assert page1.structured["items"][0] == {
        "id": "1000",
        "uuid": "dsghfkhaewfds",
        "topic": "My Webinar",
        "type": "webinar",
        "start_time": "2019-09-24T22:00:00Z",
        "timezone": "America/Los_Angeles",
        "duration": 60,
        "join_url": "https://zoom.us/0001000/awesomewebinar",
    }


async def test_webinar_registrants_leave_out_personal_details(zoom_description: OpenAPIValidator) -> None:
    zoom = FakeZoom(zoom_description)
    result = await call_tool(ZoomConnector, "zoom_list_webinar_registrants", {"webinar_id": 1}, handler=zoom)
    assert result.structured is not None
    (registrant,) = result.structured["items"]
    assert registrant == {
        "id": "24000002122",
        "email": "example@example.com",
        "name": "Jill Chill",
        "status": "approved",
        "create_time": "2019-02-26T23:01:16.899Z",
    }
    assert "1800 Amphibious" not in result.text and "join_url" not in str(result.structured)


async def test_me_and_a_user_by_email(zoom_description: OpenAPIValidator) -> None:
    zoom = FakeZoom(zoom_description)
    me = await call_tool(ZoomConnector, "zoom_get_me", {}, handler=zoom)
    other = await call_tool(ZoomConnector, "zoom_get_user", {"user_id": "alice@example.com"}, handler=zoom)
    assert [r.url.raw_path for r in zoom.requests] == [b"/v2/users/me", b"/v2/users/alice@example.com"]
    assert me.structured is not None and me.structured["name"] == "Harry Grande"
    assert me.structured["type"] == "licensed" and "host_key" not in str(me.structured)
    assert other.structured == me.structured


async def test_listing_users_is_an_admin_group_off_by_default(zoom_description: OpenAPIValidator) -> None:
    zoom = FakeZoom(zoom_description, responses={"users": {**fixture("users"), "next_page_token": "n2"}})
    refused = await call_tool(ZoomConnector, "zoom_list_users", {}, handler=zoom, policy=ToolPolicy())
    assert refused.is_error and zoom.requests == []
    result = await call_tool(ZoomConnector, "zoom_list_users", {"status": "pending", "limit": 5}, handler=zoom)
    assert dict(zoom.requests[0].url.params) == {"status": "pending", "page_size": "5"}
    assert result.structured is not None and result.structured["next_cursor"]
    assert "user:read:list_users:admin" in ZoomConnector.tools["zoom_list_users"].scopes


async def test_past_webinar_participants(zoom_description: OpenAPIValidator) -> None:
    zoom = FakeZoom(zoom_description)
    result = await call_tool(
        ZoomConnector, "zoom_list_webinar_participants", {"webinar": "/ab//cd1234567890=="}, handler=zoom
    )
    assert zoom.requests[0].url.raw_path.startswith(b"/v2/past_webinars/%252Fab%252F%252Fcd")
    assert result.structured is not None and result.structured["next_cursor"]
    assert isinstance(zoom.requests[0], httpx.Request)
