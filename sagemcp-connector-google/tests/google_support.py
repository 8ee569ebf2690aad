"""Test helpers: Google's discovery documents as a request validator, the fixtures, and a fake Google.

The descriptions are `specs/google/*.json` at the repository root (see `specs/README.md`); they are
loaded once per session. `FakeGoogle` checks every request against them (one they do not describe
fails the test, it is not answered) and answers with the fixture of the method it calls.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from discovery import DiscoveryValidator, Method

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
    return DiscoveryValidator(SPECS)


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


class FakeGoogle:
    """A fake of the five Google APIs for `httpx.MockTransport`.

    `responses` maps a method id to a function of the request that answers instead of the fixture.
    """

    def __init__(self, responses: Mapping[str, Responder] | None = None) -> None:
        self.validator = validator()
        self.responses = dict(responses or {})
        self.requests: list[httpx.Request] = []
        self.methods: list[Method] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        method = self.validator.validate_request(request)
        self.methods.append(method)
        respond = self.responses.get(method.id)
        if respond is not None:
            return respond(request)
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
