"""Drive's resumable upload, for files too large for one multipart request.

Google's protocol (https://developers.google.com/workspace/drive/api/guides/manage-uploads#resumable):

1. `POST /upload/drive/v3/files?uploadType=resumable` with the file's metadata as JSON and the media's
   type and size in `X-Upload-Content-Type` / `X-Upload-Content-Length` opens a session; the answer's
   `Location` is the session URI. The file does not exist until the last byte arrives, so a failed
   opening leaves nothing behind, and the opening is never repeated blindly: a repeat that reached
   Google would open a second session for the same file.
2. `PUT <session URI>` with `Content-Range: bytes FIRST-LAST/TOTAL` sends one chunk, a multiple of
   256 KiB except the last. Google answers `308 Resume Incomplete` with `Range: bytes=0-N` (the bytes it
   holds, which may be fewer than were sent) until the last chunk, which it answers with the file.
3. When a chunk gets no answer (a dropped connection, a timeout) or a 5xx or 429, `PUT` with no body and
   `Content-Range: bytes */TOTAL` asks how much arrived; sending goes on from there, so no byte is sent
   twice into the file and no second file is made. If the lost answer was the last one, that question
   gets the file itself.

A session lives about a week; a 404 or 410 means it expired, and the upload has to start again.
The session URI carries the upload's authority, so it is never put in a message or a log.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import anyio
import httpx

from sagemcp import ToolContext, UpstreamResponse, origin_of
from sagemcp.errors import (
    UpstreamBadRequest,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamServerError,
    UpstreamTimeout,
    UpstreamUnavailable,
)

if TYPE_CHECKING:
    from .connector import GoogleConfig

__all__ = [
    "CHUNK_GRANULARITY",
    "DEFAULT_CHUNK_BYTES",
    "DEFAULT_MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_CEILING",
    "MULTIPART_LIMIT",
    "RESUME_DELAYS",
    "resumable_upload",
]

CHUNK_GRANULARITY = 256 * 1024
"""Every chunk but the last is a multiple of 256 KiB, as the protocol requires."""
MULTIPART_LIMIT = 5 * 1024 * 1024
"""Google's advice: one multipart request up to 5 MB, a resumable upload above."""
DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024
"""The largest upload unless the tenant's configuration says otherwise (`max_upload_bytes`)."""
MAX_UPLOAD_CEILING = 256 * 1024 * 1024
"""No configuration lets one upload hold more than this in memory."""
DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024
RESUME_DELAYS: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0)
"""Seconds to wait before each resumption in a row that made no progress; when they run out, the upload fails."""
_RANGE_RE = re.compile(r"^bytes=0-(\d+)$")
_TRANSIENT = (UpstreamServerError, UpstreamUnavailable, UpstreamTimeout, UpstreamRateLimited)


async def resumable_upload(
    ctx: ToolContext[GoogleConfig],
    upload_url: str,
    *,
    metadata: Mapping[str, Any],
    data: bytes,
    mime_type: str,
    params: Mapping[str, Any],
    chunk_size: int,
) -> dict[str, Any]:
    """Upload `data` as a new file with `metadata` in a resumable session; the created file's JSON."""
    if chunk_size <= 0 or chunk_size % CHUNK_GRANULARITY:
        raise ValueError(f"chunk_size must be a positive multiple of {CHUNK_GRANULARITY}, not {chunk_size}")
    total = len(data)
    opened = await ctx.http.post(
        upload_url,
        params={**params, "uploadType": "resumable"},
        json=dict(metadata),
        headers={"X-Upload-Content-Type": mime_type, "X-Upload-Content-Length": str(total)},
        idempotent=False,
    )
    session = _session_uri(opened, upload_url)
    offset = 0
    stalled = 0  # attempts in a row that moved the upload no further
    while True:
        end = min(offset + chunk_size, total)
        try:
            answer = await ctx.http.put(
                session,
                content=data[offset:end],
                headers={"Content-Range": f"bytes {offset}-{end - 1}/{total}"},
                idempotent=False,  # a lost chunk is resumed from what Google holds, never sent again blindly
                allow_error_status=(308,),
            )
            resumed = False
        except _TRANSIENT as failure:
            answer, stalled = await _resume(ctx, session, total, offset, stalled, failure)
            resumed = True
        except (UpstreamNotFound, UpstreamBadRequest) as failure:
            raise _expired(failure) if _is_gone(failure) else failure from None
        if answer.status in (200, 201):
            return answer.json_object()
        received = _received(answer, total)
        if received > offset:
            stalled = 0
        elif not resumed:  # a chunk answered 308 yet moved nothing on (a failure already counted itself)
            stalled += 1
            if stalled >= len(RESUME_DELAYS):
                raise _stopped(offset, total, "Google kept the upload where it was")
            await anyio.sleep(RESUME_DELAYS[stalled - 1])
        offset = received


async def _resume(
    ctx: ToolContext[GoogleConfig],
    session: str,
    total: int,
    offset: int,
    stalled: int,
    failure: UpstreamError,
) -> tuple[UpstreamResponse, int]:
    """After a chunk got no usable answer: wait, then ask Google how much of the file it holds.

    Returns the answer and the count of attempts in a row without progress, this failure included.
    """
    while True:
        stalled += 1
        if stalled > len(RESUME_DELAYS):
            raise _stopped(offset, total, str(failure))
        wait = failure.retry_after if isinstance(failure, UpstreamRateLimited) else None
        await anyio.sleep(wait if wait is not None else RESUME_DELAYS[stalled - 1])
        try:
            answer = await ctx.http.put(
                session,
                content=b"",
                headers={"Content-Range": f"bytes */{total}"},
                idempotent=True,  # only asks; safe to repeat
                allow_error_status=(308,),
            )
        except _TRANSIENT as again:
            failure = again
            continue
        except (UpstreamNotFound, UpstreamBadRequest) as gone:
            raise _expired(gone) if _is_gone(gone) else gone from None
        return answer, stalled


def _stopped(offset: int, total: int, reason: str) -> UpstreamUnavailable:
    return UpstreamUnavailable(
        f"the upload to Google Drive stopped at byte {offset:,} of {total:,} after {len(RESUME_DELAYS)} attempts "
        f"in a row that did not move it on ({reason}). No file was created; try again later.",
        provider="google",
    )


def _is_gone(failure: UpstreamError) -> bool:
    """404 or 410: the session is gone (Google's way of saying it expired)."""
    return failure.status in (404, 410)


def _session_uri(opened: UpstreamResponse, upload_url: str) -> str:
    """The session URI of Google's answer, if it is on the upload host and names an upload session."""
    location = opened.headers.get("location") or ""
    try:
        target = httpx.URL(location)
        same_host = bool(location) and origin_of(location) == origin_of(upload_url)
    except (httpx.InvalidURL, ValueError):
        same_host = False
    if not same_host or "upload_id" not in target.params:
        raise UpstreamBadResponse(
            f"Google answered the opening of a resumable upload (HTTP {opened.status}) without a session URL on "
            f"{origin_of(upload_url)}; nothing was uploaded and no file was created. Try again.",
            status=opened.status,
            provider="google",
        )
    return location


def _received(answer: UpstreamResponse, total: int) -> int:
    """How many bytes a `308 Resume Incomplete` says Google holds (`Range: bytes=0-N`; none without it)."""
    header = answer.headers.get("range")
    if header is None:
        return 0
    match = _RANGE_RE.match(header.strip())
    if match is None or int(match.group(1)) >= total:
        raise UpstreamBadResponse(
            f"Google answered a chunk of the upload with 308 and Range {header[:40]!r}, which does not fit an upload "
            f"of {total:,} bytes; no file was created. Try again.",
            status=answer.status,
            provider="google",
        )
    return int(match.group(1)) + 1


def _expired(failure: UpstreamError) -> UpstreamError:
    return type(failure)(
        f"Google Drive no longer knows this upload session (HTTP {failure.status}): it expired or was cancelled. "
        "No file was created; upload the file again.",
        status=failure.status,
        provider="google",
        upstream_code=failure.upstream_code,
    )
