"""The connector passes core's contract checks, and every request every tool sends is one Zoom describes.

Each tool is called with the arguments of `zoom_cases.CASES`; every request to `api.zoom.us`
(method, path, query string, JSON body) must match an operation of Zoom's 2021 description,
or of a hand-written stand-in from Zoom's documentation (`tests/schemas/`), with request bodies
closed so that an undescribed field fails. The tool must turn the operation's fixture (the
description's example, labelled in `tests/fixtures/`) into a successful result.
"""

from __future__ import annotations

import importlib.util
import json

import httpx
import pytest
from zoom_cases import CASES, fake
from zoom_support import DESCRIPTION, FIXTURES, FakeZoom, hand_written

from sagemcp.platform import ConnectorRegistry
from sagemcp.testing import ContractViolation, OpenAPIValidator, assert_connector_valid, call_tool
from sagemcp.testing import load_description as parse_description
from sagemcp_zoom import ZoomConnector
from sagemcp_zoom.connector import DEFAULT_API_URL

CASE_IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CASES)]
API = DEFAULT_API_URL

_spec = importlib.util.spec_from_file_location("zoom_fixture_builder", FIXTURES / "_build.py")
assert _spec is not None and _spec.loader is not None
_builder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_builder)


def test_the_connector_passes_the_contract_checks() -> None:
    assert_connector_valid(ZoomConnector)


def test_the_entry_point_loads_the_connector_class() -> None:
    registry = ConnectorRegistry.from_entry_points(["zoom"])
    assert registry.failures == []
    assert registry.get("zoom") is ZoomConnector


def test_every_tool_has_a_contract_case() -> None:
    covered = {name for name, _ in CASES}
    assert covered == set(ZoomConnector.tools), (
        f"tools without a case in zoom_cases.py: {sorted(set(ZoomConnector.tools) - covered)}; "
        f"cases for unknown tools: {sorted(covered - set(ZoomConnector.tools))}"
    )


@pytest.mark.parametrize(("tool_name", "arguments"), CASES, ids=CASE_IDS)
async def test_tool_requests_match_the_description(
    tool_name: str, arguments: dict[str, object], zoom_description: OpenAPIValidator
) -> None:
    zoom = fake(tool_name, zoom_description)
    result = await call_tool(ZoomConnector, tool_name, arguments, handler=zoom)
    assert not result.is_error, result.text
    assert zoom.operations, f"{tool_name} sent no API request"
    assert len(zoom.operations) + len(zoom.downloads) == len(result.requests)
    assert all(r.headers["authorization"] == "Bearer test-token" for r in result.requests)
    assert result.structured is not None


async def test_every_described_operation_used_is_checked(zoom_description: OpenAPIValidator) -> None:
    used: set[str] = set()
    for tool_name, arguments in CASES:
        zoom = fake(tool_name, zoom_description)
        await call_tool(ZoomConnector, tool_name, arguments, handler=zoom)
        used.update(op for op in zoom.operation_ids if op)
    assert used == {
        "meetings", "meeting", "meetingInvitation", "pastMeetingDetails", "pastMeetings", "pastMeetingParticipants",
        "meetingRegistrants", "meetingRegistrantStatus", "meetingPolls", "listPastMeetingPolls", "meetingCreate",
        "meetingUpdate", "meetingDelete", "recordingsList", "recordingGet", "recordingDelete", "recordingDeleteOne",
        "getMeetingSummary", "webinars", "webinar", "listWebinarParticipants", "webinarRegistrants", "user", "users",
    }  # fmt: skip


def test_hand_written_schemas_stand_in_only_where_the_description_lacks_them() -> None:
    vendor = parse_description(DESCRIPTION)
    written = hand_written()
    assert set(written) == {
        "getMeetingSummary",
        "getMeetingTranscript",
        "meetings.parameters",
        "recurrence.weekly_days",
    }
    for name, stand_in in written.items():
        assert stand_in["source"].startswith("https://developers.zoom.us/"), name
        assert "Hand-written from Zoom's documentation" in stand_in["$comment"], name
        if stand_in["kind"] == "operation":
            assert stand_in["method"] not in vendor["paths"].get(stand_in["path"], {}), name
        elif stand_in["kind"] == "parameters":
            described = {p["name"]: p for p in vendor["paths"][stand_in["path"]][stand_in["method"]]["parameters"]}
            assert "previous_meetings" not in described["type"]["enum"]
            assert not {"from", "to", "timezone"} & set(described)
    create = vendor["paths"]["/users/{userId}/meetings"]["post"]
    body = next(p for p in create["parameters"] if p["in"] == "body")["schema"]
    assert body["properties"]["recurrence"]["properties"]["weekly_days"]["enum"] == ["1", "2", "3", "4", "5", "6", "7"]


async def test_the_transcript_endpoint_is_checked_against_its_stand_in(zoom_description: OpenAPIValidator) -> None:
    """A meeting without a cloud transcript falls back to Zoom's meeting-transcript endpoint."""
    zoom = FakeZoom(
        zoom_description,
        responses={
            "recordingGet": httpx.Response(404, json={"code": 3301, "message": "This recording does not exist."})
        },
        files={
            "/rec/archive/download/xyz.vtt": httpx.Response(
                200, text="WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nAna: Hi.\n"
            )
        },
    )
    result = await call_tool(ZoomConnector, "zoom_get_transcript", {"meeting": "85746065432"}, handler=zoom)
    assert not result.is_error, result.text
    assert zoom.operation_ids == ["recordingGet", "getMeetingTranscript"]
    assert result.structured is not None and result.structured["source"] == "meeting_transcript"


def test_uuids_that_zoom_requires_to_be_double_encoded(zoom_description: OpenAPIValidator) -> None:
    request = httpx.Request("GET", f"{API}/past_meetings/%252FajXp112QmuoKj4854875%253D%253D")
    operation = zoom_description.validate_request(request)
    assert operation.operation_id == "pastMeetingDetails"
    assert operation.path_params == {"meetingUUID": "%2FajXp112QmuoKj4854875%3D%3D"}


async def test_a_slashed_uuid_is_sent_encoded_twice(zoom_description: OpenAPIValidator) -> None:
    zoom = FakeZoom(zoom_description)
    await call_tool(ZoomConnector, "zoom_get_past_meeting", {"meeting": "/ajXp112QmuoKj4854875=="}, handler=zoom)
    assert zoom.requests[0].url.raw_path == b"/v2/past_meetings/%252FajXp112QmuoKj4854875%253D%253D"


# The checks would catch a broken request: they are not vacuous.


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", f"{API}/no/such/endpoint"),
        ("POST", f"{API}/meetings/1/invitation"),
        ("GET", f"{API}/meetings/1/summary"),
    ],
)
def test_an_undescribed_request_fails_the_contract(zoom_description: OpenAPIValidator, method: str, url: str) -> None:
    with pytest.raises(ContractViolation):
        zoom_description.validate_request(httpx.Request(method, url))


def test_an_unknown_query_parameter_fails_the_contract(zoom_description: OpenAPIValidator) -> None:
    request = httpx.Request("GET", f"{API}/users/me/meetings", params={"type": "upcoming", "since": "yesterday"})
    with pytest.raises(ContractViolation, match="since"):
        zoom_description.validate_request(request)


def test_an_unknown_list_type_fails_the_contract(zoom_description: OpenAPIValidator) -> None:
    request = httpx.Request("GET", f"{API}/users/me/meetings", params={"type": "yesterday"})
    with pytest.raises(ContractViolation, match="type"):
        zoom_description.validate_request(request)


@pytest.mark.parametrize(
    ("method", "path", "body", "problem"),
    [
        ("POST", "/users/me/meetings", {"topic": "x", "colour": "red"}, "colour"),
        ("POST", "/users/me/meetings", {"topic": "x", "settings": {"waiting_rooms": True}}, "waiting_rooms"),
        ("PATCH", "/meetings/1", {"topic": "x", "start": "now"}, "start"),
        ("POST", "/users/me/meetings", {"topic": "x", "recurrence": {"type": 2, "weekly_days": "1,9"}}, "weekly_days"),
        ("PUT", "/meetings/1/registrants/status", {"registrants": [{"id": "a"}]}, "action"),
    ],
)
def test_a_wrong_body_fails_the_contract(
    zoom_description: OpenAPIValidator, method: str, path: str, body: object, problem: str
) -> None:
    with pytest.raises(ContractViolation, match=problem):
        zoom_description.validate_request(httpx.Request(method, f"{API}{path}", json=body))


def test_several_weekdays_pass_the_stand_in(zoom_description: OpenAPIValidator) -> None:
    body = {"topic": "x", "type": 8, "recurrence": {"type": 2, "weekly_days": "2,4"}}
    zoom_description.validate_request(httpx.Request("POST", f"{API}/users/me/meetings", json=body))


def test_fixtures_are_current_and_labelled() -> None:
    """The fixtures are exactly what `tests/fixtures/_build.py` makes from the description, and say where from."""
    expected = _builder.build()
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in FIXTURES.iterdir() if p.suffix in (".json", ".vtt")}
    assert sorted(on_disk) == sorted(expected), "run: python tests/fixtures/_build.py"
    for name, text in expected.items():
        assert on_disk[name] == text, f"{name} is out of date: run python tests/fixtures/_build.py"
        if not name.endswith(".json"):
            continue
        document = json.loads(text)
        assert document["source"] in {"example", "example, adjusted", "derived", "documentation"}
        if document["source"] == "documentation":
            assert document["from"].startswith("hand-written from Zoom's documentation, https://developers.zoom.us/")
        else:
            assert document["from"].startswith("specs/zoom/zoom-api-v2.oas2.json.gz#/paths/")
        assert document["source"] in {"example", "documentation"} or document.get("notes")


def test_example_fixtures_are_the_descriptions_examples() -> None:
    vendor = parse_description(DESCRIPTION)
    for path in FIXTURES.glob("*.json"):
        document = json.loads(path.read_text(encoding="utf-8"))
        if document["source"] != "example":
            continue
        for item in vendor["paths"].values():
            for operation in item.values():
                if isinstance(operation, dict) and operation.get("operationId") == document["operation"]:
                    example = operation["responses"][str(document["status"])]["examples"]["application/json"]
                    assert document["body"] == example, path.name
