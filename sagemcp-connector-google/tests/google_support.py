"""Test helpers: Google's discovery documents as a request validator, the fixtures, and a fake Google.

The descriptions are `specs/google/*.json` at the repository root (see `specs/README.md`); they are
loaded once per session. `FakeGoogle` checks every request against them (one they do not describe
fails the test, it is not answered) and answers with the fixture of the method it calls.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from sheets_simulator import SheetsSimulator, from_fixtures

from sagemcp.testing import DiscoveryMethod, DiscoveryValidator

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
SPEC_DIR = TESTS.parents[1] / "specs" / "google"
SPECS = [
    SPEC_DIR / name for name in ("drive.v3.json", "docs.v1.json", "sheets.v4.json", "calendar.v3.json", "gmail.v1.json")
]
TOKEN = "test-token"

Responder = Callable[[httpx.Request], httpx.Response]


@cache
def validator() -> DiscoveryValidator:
    return DiscoveryValidator.from_files(SPECS)


@cache
def load_fixture(method_id: str) -> dict[str, Any]:
    """The fixture of a discovery method (`drive.files.list`); see fixtures/_build.py."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{method_id}.json").read_text(encoding="utf-8"))
    return data


def body(method_id: str) -> Any:
    """A fresh copy of a fixture's body."""
    return json.loads(json.dumps(load_fixture(method_id)["body"]))


MEDIA = {
    "text/markdown": b"# Roadmap\n\nShip the **importer** in March.\n",
    "text/csv": b"Region,Q1,Q2\nNorth,120,135\nSouth,98,110\n",
    "text/plain": b"Roadmap\nShip the importer in March.\n",
    "text/html": b"<html><body><h1>Roadmap</h1><p>Ship the <b>importer</b> in March.</p></body></html>",
}


@dataclass
class Session:
    """One resumable upload session of `UploadSessions`."""

    metadata: dict[str, Any]
    total: int | None
    media_type: str | None
    received: bytearray = field(default_factory=bytearray)
    file: dict[str, Any] | None = None
    """The file, once the last byte arrived (Drive creates it then, not before)."""


class UploadSessions:
    """Drive's side of the resumable upload protocol, for `FakeGoogle`.

    Opening a session answers 200 with the session URI in `Location`; a chunk must start at the first byte
    not yet received (anything else is a protocol error the test fails on) and is answered 308 with
    `Range: bytes=0-N`, or, for the last byte, with the new file; `bytes */TOTAL` asks where the session
    stands. Faults: `drop[n] = k` keeps the first k bytes of the n-th chunk sent (0-based) and drops the
    connection without an answer; `fail[n] = status` answers the n-th chunk with that status and keeps
    nothing; `short[n] = k` keeps k bytes of it and answers 308 honestly.
    """

    def __init__(self) -> None:
        self.sessions: dict[str, Session] = {}
        self.drop: dict[int, int] = {}
        self.fail: dict[int, int] = {}
        self.short: dict[int, int] = {}
        self.chunks = 0
        self.problems: list[str] = []

    @property
    def files(self) -> list[dict[str, Any]]:
        return [s.file for s in self.sessions.values() if s.file is not None]

    def __call__(self, request: httpx.Request, method: DiscoveryMethod) -> httpx.Response:
        if not method.session:
            upload_id = f"ADPycdu{len(self.sessions) + 1:04d}"
            length = request.headers.get("x-upload-content-length")
            self.sessions[upload_id] = Session(
                metadata=json.loads(request.content or b"{}"),
                total=int(length) if length is not None else None,
                media_type=request.headers.get("x-upload-content-type"),
            )
            location = request.url.copy_with(params={"uploadType": "resumable", "upload_id": upload_id})
            return httpx.Response(200, headers={"Location": str(location), "X-GUploader-UploadID": upload_id})
        session = self.sessions.get(request.url.params["upload_id"])
        if session is None:
            return json_response({"error": {"code": 404, "message": "Not Found"}}, 404)
        assert method.content_range is not None
        first, _last, total = method.content_range
        if total is not None and session.total is not None and total != session.total:
            self.problems.append(f"Content-Range total {total} is not the {session.total} announced")
        if first is None:
            return self._state(session)
        number = self.chunks
        self.chunks += 1
        if session.file is not None:
            self.problems.append("a chunk was sent after the upload had completed")
            return self._state(session)
        if first != len(session.received):
            self.problems.append(f"a chunk starts at byte {first}, but the session holds {len(session.received)}")
            return json_response({"error": {"code": 400, "message": "Invalid request."}}, 400)
        if number in self.fail:
            return json_response({"error": {"code": self.fail[number], "message": "Backend Error"}}, self.fail[number])
        kept = self.drop.get(number, self.short.get(number, len(request.content)))
        session.received += request.content[:kept]
        if number in self.drop:
            if len(session.received) == session.total:
                self._complete(session)
            raise httpx.ReadError("connection reset while waiting for the answer", request=request)
        if len(session.received) == session.total:
            self._complete(session)
        return self._state(session)

    def _complete(self, session: Session) -> None:
        file = body("drive.files.create")
        file.update(
            id=f"1uPloaded{len(self.files) + 1:012d}",
            name=session.metadata.get("name", "Untitled"),
            mimeType=session.metadata.get("mimeType") or session.media_type or "application/octet-stream",
            size=str(len(session.received)),
        )
        session.file = file

    def _state(self, session: Session) -> httpx.Response:
        if session.file is not None:
            return json_response(session.file)
        headers = {"Range": f"bytes=0-{len(session.received) - 1}"} if session.received else {}
        return httpx.Response(308, headers=headers)


def fixture_spreadsheet() -> SheetsSimulator:
    """The spreadsheet of the Sheets fixtures: the `spreadsheets.get` fixture's sheets and named range, its
    cells written from the `values.get` and `values.batchGet` fixtures."""
    return from_fixtures(
        body("sheets.spreadsheets.get"),
        [body("sheets.spreadsheets.values.get"), *body("sheets.spreadsheets.values.batchGet")["valueRanges"]],
    )


class FakeGoogle:
    """A fake of the five Google APIs for `httpx.MockTransport`.

    `responses` maps a method id to a function of the request that answers instead of the fixture.
    Resumable uploads go to `uploads` (`UploadSessions`). `sheets` (a `SheetsSimulator`) answers
    `spreadsheets.get` and the value reads for the ranges asked; without one, the fixtures' spreadsheet
    answers `spreadsheets.get` and `values.batchGet`, and `values.get` replays its fixture.
    """

    def __init__(self, responses: Mapping[str, Responder] | None = None, sheets: SheetsSimulator | None = None) -> None:
        self.validator = validator()
        self.responses = dict(responses or {})
        self.requests: list[httpx.Request] = []
        self.methods: list[DiscoveryMethod] = []
        self.uploads = UploadSessions()
        self.sheets = sheets if sheets is not None else fixture_spreadsheet()
        self._simulated = (
            SheetsSimulator.METHODS
            if sheets is not None
            else ("sheets.spreadsheets.get", "sheets.spreadsheets.values.batchGet")
        )

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        method = self.validator.validate_request(request)
        self.methods.append(method)
        respond = self.responses.get(method.id)
        if respond is not None:
            return respond(request)
        if method.upload == "resumable":
            return self.uploads(request, method)
        if method.id in self._simulated:
            return self.sheets(request, method, self.validator)
        if method.id == "drive.files.export":
            return httpx.Response(200, content=MEDIA[request.url.params["mimeType"]])
        if method.id == "drive.files.get" and request.url.params.get("alt") == "media":
            return httpx.Response(200, content=b"hello from a text file\n", headers={"Content-Type": "text/plain"})
        if method.id == "docs.documents.batchUpdate":
            return json_response(docs_replies(json.loads(request.content)))
        fixture = load_fixture(method.id)
        if fixture.get("body") is None:
            return httpx.Response(fixture["status"])
        # Google pretty-prints its JSON answers; the fixtures are served the same way.
        return httpx.Response(
            fixture["status"],
            content=json.dumps(fixture["body"], indent=2).encode(),
            headers={"Content-Type": "application/json; charset=UTF-8"},
        )

    @property
    def method_ids(self) -> list[str]:
        return [m.id for m in self.methods]


def json_response(data: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(
        status, content=json.dumps(data, indent=2).encode(), headers={"Content-Type": "application/json"}
    )


def docs_replies(body: dict[str, Any]) -> dict[str, Any]:
    """What Docs answers to a batch: one reply per request, with the ids of what it created."""
    replies: list[dict[str, Any]] = []
    for request in body.get("requests") or ():
        kind = next(iter(request))
        if kind == "createHeader":
            replies.append({"createHeader": {"headerId": "kix.header9"}})
        elif kind == "createFooter":
            replies.append({"createFooter": {"footerId": "kix.footer9"}})
        elif kind == "replaceAllText":
            replies.append({"replaceAllText": {"occurrencesChanged": 3}})
        elif kind == "createNamedRange":
            replies.append({"createNamedRange": {"namedRangeId": "kix.nr9"}})
        else:
            replies.append({})
    return {
        "documentId": "1aBcDocRoadmap2026xYz",
        "replies": replies,
        "writeControl": {"requiredRevisionId": "ALm37BVx3f"},
    }


def distinct_bytes(size: int) -> bytes:
    """Bytes that differ at every offset, so a chunk sent twice or out of place shows in what arrives."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(counter.to_bytes(8, "big")).digest()
        counter += 1
    return bytes(out[:size])
