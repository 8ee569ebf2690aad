"""Uploads over 5 MB: Drive's resumable upload, replayed against `UploadSessions` (Google's protocol) with
every request checked against the Drive discovery document.

The chunks are 1 MiB here (`upload_chunk_bytes`), so a 5.5 MiB file takes six of them.
"""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from google_support import FakeGoogle, distinct_bytes, json_response

from sagemcp.testing import call_tool
from sagemcp_google import GoogleConfig, GoogleConnector
from sagemcp_google import _resumable as resumable

MiB = 1024 * 1024
CHUNK = MiB
CONFIG = {"upload_chunk_bytes": CHUNK}
SIZE = 5 * MiB + MiB // 2


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resumable, "RESUME_DELAYS", (0.0,) * len(resumable.RESUME_DELAYS))


def content(size: int = SIZE) -> bytes:
    return distinct_bytes(size)


def arguments(data: bytes, **extra: object) -> dict[str, object]:
    return {
        "name": "backup.tar",
        "content_base64": base64.b64encode(data).decode(),
        "mime_type": "application/x-tar",
        "parent_id": "1fOlderDesignAssets00",
        **extra,
    }


def ranges(fake: FakeGoogle) -> list[str]:
    return [r.headers["content-range"] for r in fake.requests if r.method == "PUT"]


async def test_a_large_file_goes_up_in_chunks_of_the_configured_size() -> None:
    data = content()
    fake = FakeGoogle()
    result = await call_tool(
        GoogleConnector, "google_create_file", arguments(data, description="Nightly"), handler=fake, config=CONFIG
    )
    assert not result.is_error, result.text
    opening, *chunks = fake.requests
    assert opening.method == "POST" and opening.url.path == "/upload/drive/v3/files"
    assert opening.url.params["uploadType"] == "resumable" and opening.url.params["supportsAllDrives"] == "true"
    assert opening.headers["x-upload-content-type"] == "application/x-tar"
    assert opening.headers["x-upload-content-length"] == str(SIZE)
    assert json.loads(opening.content) == {
        "name": "backup.tar",
        "parents": ["1fOlderDesignAssets00"],
        "description": "Nightly",
    }
    assert [c.url.params["upload_id"] for c in chunks] == ["ADPycdu0001"] * 6
    assert ranges(fake) == [f"bytes {n * CHUNK}-{(n + 1) * CHUNK - 1}/{SIZE}" for n in range(5)] + [
        f"bytes {5 * CHUNK}-{SIZE - 1}/{SIZE}"
    ]
    (created,) = fake.uploads.files
    assert fake.uploads.problems == []
    assert bytes(next(iter(fake.uploads.sessions.values())).received) == data
    assert result.structured["id"] == created["id"] and result.structured["name"] == "backup.tar"  # type: ignore[index]
    assert all(m.id == "drive.files.create" for m in fake.methods)


async def test_a_dropped_chunk_resumes_from_what_google_holds_without_sending_a_byte_twice() -> None:
    data = content()
    fake = FakeGoogle()
    fake.uploads.drop[2] = 300 * 1024  # Google kept 300 KiB of the third chunk, then the connection broke
    result = await call_tool(GoogleConnector, "google_create_file", arguments(data), handler=fake, config=CONFIG)
    assert not result.is_error, result.text
    kept = 2 * CHUNK + 300 * 1024
    assert ranges(fake) == [
        f"bytes 0-{CHUNK - 1}/{SIZE}",
        f"bytes {CHUNK}-{2 * CHUNK - 1}/{SIZE}",
        f"bytes {2 * CHUNK}-{3 * CHUNK - 1}/{SIZE}",  # dropped
        f"bytes */{SIZE}",  # where does it stand?
        f"bytes {kept}-{kept + CHUNK - 1}/{SIZE}",
        f"bytes {kept + CHUNK}-{kept + 2 * CHUNK - 1}/{SIZE}",
        f"bytes {kept + 2 * CHUNK}-{kept + 3 * CHUNK - 1}/{SIZE}",
        f"bytes {kept + 3 * CHUNK}-{SIZE - 1}/{SIZE}",
    ]
    assert [r.method for r in fake.requests].count("POST") == 1  # the session was opened once
    assert len(fake.uploads.files) == 1 and fake.uploads.problems == []
    assert bytes(next(iter(fake.uploads.sessions.values())).received) == data


async def test_a_5xx_on_a_chunk_asks_where_the_upload_stands_then_goes_on() -> None:
    fake = FakeGoogle()
    fake.uploads.fail[1] = 503
    fake.uploads.short[3] = 100 * 1024  # Google may also keep less than it was sent, and say so
    data = content()
    result = await call_tool(GoogleConnector, "google_create_file", arguments(data), handler=fake, config=CONFIG)
    assert not result.is_error, result.text
    sent = ranges(fake)
    assert sent[1] == f"bytes {CHUNK}-{2 * CHUNK - 1}/{SIZE}" and sent[2] == f"bytes */{SIZE}"
    assert sent[3] == f"bytes {CHUNK}-{2 * CHUNK - 1}/{SIZE}"  # the failed chunk, from where Google stood
    assert sent[4] == f"bytes {2 * CHUNK}-{3 * CHUNK - 1}/{SIZE}"  # Google keeps 100 KiB of this one
    assert sent[5] == f"bytes {2 * CHUNK + 100 * 1024}-{3 * CHUNK + 100 * 1024 - 1}/{SIZE}"
    assert len(fake.uploads.files) == 1 and fake.uploads.problems == []
    assert bytes(next(iter(fake.uploads.sessions.values())).received) == data


async def test_a_lost_answer_to_the_last_chunk_finds_the_file_already_made() -> None:
    fake = FakeGoogle()
    data = content()
    fake.uploads.drop[5] = SIZE - 5 * CHUNK  # the whole last chunk arrived; its answer did not
    result = await call_tool(GoogleConnector, "google_create_file", arguments(data), handler=fake, config=CONFIG)
    assert not result.is_error, result.text
    assert ranges(fake)[-2:] == [f"bytes {5 * CHUNK}-{SIZE - 1}/{SIZE}", f"bytes */{SIZE}"]
    (created,) = fake.uploads.files
    assert result.structured["id"] == created["id"]  # type: ignore[index]


async def test_the_opening_is_never_repeated_when_it_fails() -> None:
    for status in (500, 503):
        fake = FakeGoogle(
            {
                "drive.files.create": lambda r, status=status: json_response(
                    {"error": {"code": status, "message": "Backend Error", "status": "UNAVAILABLE"}}, status
                )
            }
        )
        result = await call_tool(
            GoogleConnector, "google_create_file", arguments(content()), handler=fake, config=CONFIG
        )
        assert result.is_error and str(status) in result.text
        assert len(fake.requests) == 1  # one POST, not retried: a repeat could open a second session


async def test_dropped_opening_is_not_repeated() -> None:
    calls = []

    def drop(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadError("reset", request=request)

    result = await call_tool(
        GoogleConnector,
        "google_create_file",
        arguments(content()),
        handler=FakeGoogle({"drive.files.create": drop}),
        config=CONFIG,
    )
    assert result.is_error and len(calls) == 1


async def test_a_session_url_on_another_host_is_refused_before_anything_is_sent() -> None:
    def elsewhere(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Location": "https://uploads.example.com/upload?upload_id=x"})

    fake = FakeGoogle({"drive.files.create": elsewhere})
    result = await call_tool(GoogleConnector, "google_create_file", arguments(content()), handler=fake, config=CONFIG)
    assert result.is_error and "without a session URL on https://www.googleapis.com" in result.text
    assert "uploads.example.com" not in result.text and len(fake.requests) == 1


async def test_an_upload_that_keeps_failing_gives_up_and_says_where_it_stopped() -> None:
    fake = FakeGoogle()
    for n in range(1, 40):
        fake.uploads.fail[n] = 503
    result = await call_tool(GoogleConnector, "google_create_file", arguments(content()), handler=fake, config=CONFIG)
    assert result.is_error
    assert f"stopped at byte {CHUNK:,} of {SIZE:,}" in result.text and "No file was created" in result.text
    assert fake.uploads.files == [] and "upload_id" not in result.text
    # One chunk, then each resumption a status question and the chunk again, as many times as there are delays.
    assert len(ranges(fake)) == 1 + 1 + 2 * len(resumable.RESUME_DELAYS)


async def test_an_expired_session_says_to_upload_again() -> None:
    fake = FakeGoogle()

    def expiring(request: httpx.Request) -> httpx.Response:
        answer = fake(request)
        if fake.uploads.chunks == 2:
            fake.uploads.sessions.clear()  # the session expires after two chunks
        return answer

    result = await call_tool(
        GoogleConnector, "google_create_file", arguments(content()), handler=expiring, config=CONFIG
    )
    assert result.is_error and "no longer knows this upload session (HTTP 404)" in result.text
    assert "upload the file again" in result.text and len(ranges(fake)) == 3


async def test_the_configured_maximum_bounds_an_upload() -> None:
    fake = FakeGoogle()
    result = await call_tool(
        GoogleConnector,
        "google_create_file",
        arguments(content(6 * MiB)),
        handler=fake,
        config={"max_upload_bytes": 5 * MiB + 1},
    )
    assert result.is_error and "at most 5,242,881" in result.text and "max_upload_bytes" in result.text
    assert fake.requests == []
    text = await call_tool(
        GoogleConnector,
        "google_create_file",
        {"name": "big.txt", "content": "x" * (21 * MiB)},
        handler=fake,
    )
    assert text.is_error and "at most 20,971,520" in text.text and fake.requests == []


async def test_a_small_file_still_goes_in_one_multipart_request() -> None:
    fake = FakeGoogle()
    result = await call_tool(
        GoogleConnector, "google_create_file", arguments(content(5 * MiB)), handler=fake, config=CONFIG
    )
    assert not result.is_error and [r.url.params["uploadType"] for r in fake.requests] == ["multipart"]


def test_the_chunk_size_must_be_a_multiple_of_256_kib() -> None:
    with pytest.raises(ValueError, match=r"not a multiple of 262144 \(256 KiB\).*use 1048576 or 1310720"):
        GoogleConfig(upload_chunk_bytes=MiB + 1000)
    with pytest.raises(ValueError):
        GoogleConfig(max_upload_bytes=512 * MiB)
    assert GoogleConfig().upload_chunk_bytes == 8 * MiB and GoogleConfig().max_upload_bytes == 20 * MiB
