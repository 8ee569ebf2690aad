"""The `recordings` tools: 30-day windows, recording files, and transcripts fetched from Zoom's download host."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest
from zoom_cases import TRANSCRIPT_PATH, UUID
from zoom_support import STORAGE_HOST, FakeZoom, fixture, transcript_vtt, zoom_error

from sagemcp.errors import UpstreamBadResponse, UpstreamForbidden, UpstreamNotFound
from sagemcp.testing import OpenAPIValidator, call_tool
from sagemcp_zoom import ZoomConnector
from sagemcp_zoom.tools.recordings import MAX_REQUESTS

MAX_RESULT_CHARS = 100_000
"""The server's default cap on one tool result (about 25,000 tokens)."""


def recording(uuid: str) -> dict[str, Any]:
    item = fixture("recordingsList")["meetings"][0]
    return {**item, "uuid": uuid}


async def test_a_quarter_is_searched_in_30_day_windows_newest_first(zoom_description: OpenAPIValidator) -> None:
    pages = {
        ("2026-03-02", None): {"meetings": [recording("m1")], "next_page_token": "more"},
        ("2026-03-02", "more"): {"meetings": [recording("m2")], "next_page_token": ""},
        ("2026-01-31", None): {"meetings": [], "next_page_token": ""},
        ("2026-01-01", None): {"meetings": [recording("m3")], "next_page_token": ""},
    }

    def answer(request: httpx.Request) -> httpx.Response:
        key = (request.url.params["from"], request.url.params.get("next_page_token"))
        return httpx.Response(200, json=pages[key])

    zoom = FakeZoom(zoom_description, responses={"recordingsList": answer})
    args = {"from_date": "2026-01-01", "to_date": "2026-03-31", "limit": 10}
    result = await call_tool(ZoomConnector, "zoom_list_recordings", args, handler=zoom)
    assert not result.is_error, result.text
    windows = [(r.url.params["from"], r.url.params["to"]) for r in zoom.requests]
    assert windows == [
        ("2026-03-02", "2026-03-31"),
        ("2026-03-02", "2026-03-31"),
        ("2026-01-31", "2026-03-01"),
        ("2026-01-01", "2026-01-30"),
    ]
    assert result.structured is not None
    assert [r["uuid"] for r in result.structured["items"]] == ["m1", "m2", "m3"]
    assert "next_cursor" not in result.structured


async def test_a_long_empty_range_is_walked_over_several_calls(zoom_description: OpenAPIValidator) -> None:
    zoom = FakeZoom(zoom_description, responses={"recordingsList": {"meetings": [], "next_page_token": ""}})
    args: dict[str, Any] = {"from_date": "2025-01-01", "to_date": "2025-12-31"}
    first = await call_tool(ZoomConnector, "zoom_list_recordings", args, handler=zoom)
    assert len(zoom.requests) == MAX_REQUESTS
    assert first.structured is not None and first.structured["items"] == []
    assert first.structured["searched_to"] == "2025-07-05"
    assert "Searched back to 2025-07-05" in first.text
    cursor, calls = first.structured["next_cursor"], 1
    while cursor:
        page = await call_tool(ZoomConnector, "zoom_list_recordings", {**args, "cursor": cursor}, handler=zoom)
        assert page.structured is not None and not page.is_error
        cursor, calls = page.structured.get("next_cursor"), calls + 1
    assert calls == 3 and len(zoom.requests) == 13  # a year is 13 windows of 30 days
    assert zoom.requests[MAX_REQUESTS].url.params["to"] == "2025-07-04"
    assert zoom.requests[-1].url.params["from"] == "2025-01-01"


async def test_a_window_cursor_is_bound_to_the_range(zoom_description: OpenAPIValidator) -> None:
    zoom = FakeZoom(zoom_description, responses={"recordingsList": {"meetings": [], "next_page_token": ""}})
    args: dict[str, Any] = {"from_date": "2025-01-01", "to_date": "2025-12-31"}
    first = await call_tool(ZoomConnector, "zoom_list_recordings", args, handler=zoom)
    assert first.structured is not None
    moved = await call_tool(
        ZoomConnector,
        "zoom_list_recordings",
        {**args, "to_date": "2025-11-30", "cursor": first.structured["next_cursor"]},
        handler=zoom,
    )
    assert moved.is_error and "from, to, user" in moved.text


async def test_recording_files_say_whether_a_transcript_exists(zoom_description: OpenAPIValidator) -> None:
    zoom = FakeZoom(zoom_description, responses={"recordingGet": fixture("recordingGet.transcript")})
    result = await call_tool(ZoomConnector, "zoom_get_meeting_recordings", {"meeting": UUID}, handler=zoom)
    assert result.structured is not None and result.structured["has_transcript"] is True
    assert "download_url" not in str(result.structured) and "download_access_token" not in str(result.structured)
    assert "password" not in result.structured


def transcript_zoom(validator: OpenAPIValidator, file: httpx.Response | None = None, **extra: Any) -> FakeZoom:
    return FakeZoom(
        validator,
        responses={"recordingGet": fixture("recordingGet.transcript"), **extra},
        files={TRANSCRIPT_PATH: file or httpx.Response(200, text=transcript_vtt())},
    )


async def test_the_transcript_is_downloaded_with_the_token_and_labelled_by_speaker(
    zoom_description: OpenAPIValidator,
) -> None:
    zoom = transcript_zoom(zoom_description)
    result = await call_tool(ZoomConnector, "zoom_get_transcript", {"meeting": UUID}, handler=zoom)
    assert not result.is_error, result.text
    download = zoom.downloads[0]
    assert str(download.url) == f"https://us06web.zoom.us{TRANSCRIPT_PATH}"
    assert download.headers["authorization"] == "Bearer test-token"
    assert result.structured is not None
    assert result.structured["speakers"] == ["Ana Lima", "Ben Okafor", "Chen Wei"]
    assert result.structured["source"] == "cloud_recording"
    lines = result.structured["text"].splitlines()
    assert lines[0] == (
        "[00:00:02] Ana Lima: Good morning, everyone. Let's go through the launch checklist. First item is the importer."
    )
    assert lines[1].startswith("[00:00:10] Ben Okafor: The importer shipped")
    assert "next_offset" not in result.structured


async def test_a_redirect_to_storage_is_followed_without_the_token(zoom_description: OpenAPIValidator) -> None:
    storage = f"https://{STORAGE_HOST}/cmr/replay/file.vtt?Signature=abc"
    zoom = transcript_zoom(zoom_description, httpx.Response(302, headers={"Location": storage}))
    zoom.files["/cmr/replay/file.vtt"] = httpx.Response(200, text=transcript_vtt())
    result = await call_tool(ZoomConnector, "zoom_get_transcript", {"meeting": UUID}, handler=zoom)
    assert not result.is_error, result.text
    hop = zoom.downloads[1]
    assert str(hop.url) == storage
    assert "authorization" not in hop.headers


async def test_a_redirect_to_a_private_address_is_refused(zoom_description: OpenAPIValidator) -> None:
    zoom = transcript_zoom(zoom_description, httpx.Response(302, headers={"Location": "https://10.0.0.5/secret"}))
    result = await call_tool(ZoomConnector, "zoom_get_transcript", {"meeting": UUID}, handler=zoom)
    assert isinstance(result.error, UpstreamBadResponse)
    assert "not allowed" in result.text and len(zoom.downloads) == 1


async def test_a_download_url_on_another_host_gets_nothing(zoom_description: OpenAPIValidator) -> None:
    body = fixture("recordingGet.transcript")
    body["recording_files"][-1]["download_url"] = "https://files.example.com/rec/t.vtt"
    zoom = FakeZoom(zoom_description, responses={"recordingGet": body})
    result = await call_tool(ZoomConnector, "zoom_get_transcript", {"meeting": UUID}, handler=zoom)
    assert isinstance(result.error, UpstreamBadResponse)
    assert "https://files.example.com" in result.text and "download_origins" in result.text
    assert zoom.downloads == []


async def test_a_vanity_host_can_be_allowed_in_the_configuration(zoom_description: OpenAPIValidator) -> None:
    body = fixture("recordingGet.transcript")
    body["recording_files"][-1]["download_url"] = f"https://us06web.zoom.us{TRANSCRIPT_PATH}"
    zoom = transcript_zoom(zoom_description, recordingGet=body)
    config = {"download_origins": ["https://us06web.zoom.us"]}
    result = await call_tool(ZoomConnector, "zoom_get_transcript", {"meeting": UUID}, handler=zoom, config=config)
    assert not result.is_error, result.text
    refused = await call_tool(
        ZoomConnector,
        "zoom_get_transcript",
        {"meeting": UUID},
        handler=zoom,
        config={"download_origins": ["https://zoom.us"]},
    )
    assert isinstance(refused.error, UpstreamBadResponse)


async def test_no_transcript_anywhere_is_explained(zoom_description: OpenAPIValidator) -> None:
    zoom = FakeZoom(
        zoom_description,
        responses={
            "recordingGet": fixture("recordingGet"),
            "getMeetingTranscript": zoom_error(404, 3322, "The meeting transcript does not exist."),
        },
    )
    result = await call_tool(ZoomConnector, "zoom_get_transcript", {"meeting": UUID}, handler=zoom)
    assert isinstance(result.error, UpstreamNotFound)
    assert "audio transcripts" in result.text
    assert zoom.operation_ids == ["recordingGet", "getMeetingTranscript"]


async def test_a_transcript_still_processing_says_to_wait(zoom_description: OpenAPIValidator) -> None:
    body = fixture("recordingGet.transcript")
    body["recording_files"][-1]["status"] = "processing"
    zoom = FakeZoom(
        zoom_description,
        responses={
            "recordingGet": body,
            "getMeetingTranscript": {"can_download": False, "download_restriction_reason": "NOT_READY"},
        },
    )
    result = await call_tool(ZoomConnector, "zoom_get_transcript", {"meeting": UUID}, handler=zoom)
    assert isinstance(result.error, UpstreamNotFound) and "still being processed" in result.text


async def test_a_missing_recording_scope_is_named(zoom_description: OpenAPIValidator) -> None:
    scope = zoom_error(
        400, 4711, "Invalid access token, does not contain scopes:[cloud_recording:read:list_recording_files]."
    )
    zoom = FakeZoom(
        zoom_description,
        responses={"recordingGet": scope, "getMeetingTranscript": zoom_error(404, 3322, "No transcript.")},
    )
    result = await call_tool(ZoomConnector, "zoom_get_transcript", {"meeting": UUID}, handler=zoom)
    assert isinstance(result.error, UpstreamForbidden)
    assert result.error.missing_scopes == ["cloud_recording:read:list_recording_files"]


def one_hour_vtt(seed: int = 7) -> str:
    """A realistic hour of meeting: four people, about 140 words a minute, cues of 2-6 seconds as Zoom cuts them."""
    rng = random.Random(seed)
    people = ["Ana Lima", "Ben Okafor", "Chen Wei", "Dana Schmidt"]
    words = [
        "the",
        "importer",
        "pricing",
        "page",
        "launch",
        "customers",
        "support",
        "tickets",
        "design",
        "review",
        "next",
        "week",
        "we",
        "should",
        "probably",
        "make",
        "sure",
        "that",
        "timeline",
        "budget",
        "dashboard",
        "metrics",
        "onboarding",
        "feedback",
        "release",
        "notes",
    ]
    cues, t, n, speaker = ["WEBVTT", ""], 0.0, 1, people[0]
    while t < 3600:
        if rng.random() < 0.25:
            speaker = rng.choice(people)
        length = rng.uniform(2.0, 6.0)
        text = " ".join(rng.choice(words) for _ in range(int(length * 140 / 60)))
        start = f"{int(t) // 3600:02d}:{int(t) % 3600 // 60:02d}:{t % 60:06.3f}"
        end_t = t + length
        end = f"{int(end_t) // 3600:02d}:{int(end_t) % 3600 // 60:02d}:{end_t % 60:06.3f}"
        cues += [str(n), f"{start} --> {end}", f"{speaker}: {text.capitalize()}.", ""]
        t, n = end_t + 0.2, n + 1
    return "\n".join(cues)


async def test_a_one_hour_meeting_fits_in_one_result(zoom_description: OpenAPIValidator) -> None:
    vtt = one_hour_vtt()
    zoom = transcript_zoom(zoom_description, httpx.Response(200, text=vtt))
    result = await call_tool(
        ZoomConnector, "zoom_get_transcript", {"meeting": UUID}, handler=zoom, max_result_chars=MAX_RESULT_CHARS
    )
    assert not result.is_error, result.text[:300]
    assert result.structured is not None
    assert "next_offset" not in result.structured, "an hour must not need a second call"
    assert "…[truncated" not in result.text
    assert len(result.text) < MAX_RESULT_CHARS
    assert len(result.structured["text"]) < 0.75 * len(vtt)  # no cue numbers, end times or repeated names
    assert result.structured["speakers"] == sorted(result.structured["speakers"], key=result.structured["text"].index)
    assert all(line.startswith("[") and ": " in line for line in result.structured["text"].splitlines())


async def test_a_long_transcript_continues_at_next_offset(zoom_description: OpenAPIValidator) -> None:
    vtt = one_hour_vtt()
    zoom = transcript_zoom(zoom_description, httpx.Response(200, text=vtt))
    first = await call_tool(ZoomConnector, "zoom_get_transcript", {"meeting": UUID, "max_chars": 5_000}, handler=zoom)
    assert first.structured is not None
    offset = first.structured["next_offset"]
    assert 4_000 < offset <= 5_000
    assert f"offset={offset}" in first.text
    second = await call_tool(
        ZoomConnector, "zoom_get_transcript", {"meeting": UUID, "offset": offset, "max_chars": 5_000}, handler=zoom
    )
    assert second.structured is not None
    total = first.structured["total_chars"]
    assert second.structured["offset"] == offset and second.structured["total_chars"] == total
    assert second.structured["text"].startswith("[")  # cut at a line boundary


@pytest.mark.parametrize("content", ["not a transcript", "WEBVTT\n\n00:00:01.000 --> bogus\nhello\n"])
async def test_a_broken_file_is_a_clear_error(zoom_description: OpenAPIValidator, content: str) -> None:
    zoom = transcript_zoom(zoom_description, httpx.Response(200, text=content))
    result = await call_tool(ZoomConnector, "zoom_get_transcript", {"meeting": UUID}, handler=zoom)
    assert isinstance(result.error, UpstreamBadResponse) and "WebVTT" in result.text


async def test_an_empty_file_means_zoom_is_not_done(zoom_description: OpenAPIValidator) -> None:
    zoom = transcript_zoom(zoom_description, httpx.Response(200, text="WEBVTT\n\n"))
    result = await call_tool(ZoomConnector, "zoom_get_transcript", {"meeting": UUID}, handler=zoom)
    assert isinstance(result.error, UpstreamNotFound) and "empty" in result.text


async def test_delete_recording_trashes_by_default(zoom_description: OpenAPIValidator) -> None:
    zoom = FakeZoom(zoom_description)
    result = await call_tool(ZoomConnector, "zoom_delete_recording", {"meeting": UUID}, handler=zoom)
    assert dict(zoom.requests[0].url.params) == {"action": "trash"}
    assert "recoverable for 30 days" in result.text
    assert ZoomConnector.tools["zoom_delete_recording"].annotations.destructive
