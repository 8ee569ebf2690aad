"""Test helpers: Zoom's API description every request is checked against, and a fake Zoom answering from fixtures.

The description is `specs/zoom/zoom-api-v2.oas2.json.gz` at the repository root (Zoom API 2.0.0,
the monolithic Swagger file of 2021; see `specs/README.md`), with three kinds of hand-written
stand-ins from Zoom's documentation in `tests/schemas/` (each names its source):

- `kind: operation`: an endpoint the 2021 file lacks (meeting summaries, meeting transcripts);
- `kind: parameters`: query parameters Zoom added since (List meetings' `previous_meetings`, dates);
- `kind: property`: a body property whose 2021 schema contradicts its own text (`weekly_days`).

Zoom's schemas leave their objects open. The harness closes the request bodies (every object
with `properties` refuses other fields, nested `allOf` parts merged first), so a tool sending
a field Zoom does not describe fails its test.

`FakeZoom` stands in for `api.zoom.us` (checked against the description) and for Zoom's
download hosts, which must receive the tenant's token, and a storage host, which must not.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import httpx

from sagemcp.testing import OpenAPIValidator, Operation
from sagemcp.testing import load_description as parse_description

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
SCHEMAS = TESTS / "schemas"
DESCRIPTION = Path(__file__).resolve().parents[2] / "specs" / "zoom" / "zoom-api-v2.oas2.json"
"""The API description (read from the `.json.gz` stored beside that name)."""
API_HOST = "api.zoom.us"
DOWNLOAD_HOSTS = frozenset({"zoom.us", "us06web.zoom.us"})
STORAGE_HOST = "ssrweb.zoom.us"

Answer = httpx.Response | Mapping[str, Any] | Callable[[httpx.Request], "Answer"]


def hand_written() -> dict[str, dict[str, Any]]:
    """The stand-ins in `tests/schemas/`, by file stem."""
    return {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(SCHEMAS.glob("*.json"))}


def _flatten(schema: Any) -> Any:
    """`schema` with nested `allOf` object parts merged and every object with properties closed."""
    if isinstance(schema, list):
        return [_flatten(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    node = dict(schema)
    parts = node.pop("allOf", None)
    if isinstance(parts, list):
        merged: dict[str, Any] = {}
        required: list[str] = []
        for part in (_flatten(p) for p in parts):
            if not isinstance(part, dict) or set(part) - {
                "type",
                "properties",
                "required",
                "description",
                "title",
                "additionalProperties",
            }:
                node["allOf"] = parts  # not plain objects: leave the composition as the description has it
                return {k: _flatten(v) if k != "allOf" else v for k, v in node.items()}
            merged.update(part.get("properties") or {})
            required.extend(part.get("required") or [])
        node.setdefault("type", "object")
        node["properties"] = {**merged, **(node.get("properties") or {})}
        if required:
            node["required"] = list(dict.fromkeys([*(node.get("required") or []), *required]))
    for key in ("properties", "definitions"):
        if isinstance(node.get(key), dict):
            node[key] = {name: _flatten(value) for name, value in node[key].items()}
    for key in ("items", "additionalProperties", "not"):
        if isinstance(node.get(key), dict | list):
            node[key] = _flatten(node[key])
    for key in ("anyOf", "oneOf"):
        if isinstance(node.get(key), list):
            node[key] = [_flatten(v) for v in node[key]]
    if isinstance(node.get("properties"), dict) and "additionalProperties" not in node:
        node["additionalProperties"] = False
    return node


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        op["operationId"]: op
        for item in document["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and op.get("operationId")
    }


@cache
def zoom_document() -> dict[str, Any]:
    """The 2021 description with the hand-written stand-ins applied and request bodies closed."""
    document = parse_description(DESCRIPTION)
    for name, stand_in in hand_written().items():
        kind = stand_in["kind"]
        item = document["paths"].setdefault(stand_in.get("path", ""), {})
        if kind == "operation":
            assert stand_in["method"] not in item, f"{name}: the description already has this operation"
            item[stand_in["method"]] = copy.deepcopy(stand_in["operation"])
        elif kind == "parameters":
            operation = item[stand_in["method"]]
            replaced = {p["name"] for p in stand_in["parameters"]}
            kept = [p for p in operation["parameters"] if not (p.get("in") == "query" and p.get("name") in replaced)]
            operation["parameters"] = kept + copy.deepcopy(stand_in["parameters"])
    for operation in _operations(document).values():
        for parameter in operation.get("parameters") or ():
            if isinstance(parameter, dict) and parameter.get("in") == "body":
                parameter["schema"] = _flatten(parameter.get("schema"))
    operations = _operations(document)
    for name, stand_in in hand_written().items():
        if stand_in["kind"] != "property":
            continue
        for operation_id in stand_in["operations"]:
            body = next(p for p in operations[operation_id]["parameters"] if p.get("in") == "body")["schema"]
            *parents, leaf = stand_in["property"]
            for parent in parents:
                body = body["properties"][parent]
            assert leaf in body["properties"], f"{name}: {operation_id} has no {stand_in['property']}"
            body["properties"][leaf] = copy.deepcopy(stand_in["schema"])
    return document


@cache
def load_description() -> OpenAPIValidator:
    return OpenAPIValidator(zoom_document(), source="zoom-api-v2.oas2.json.gz + tests/schemas")


@cache
def _fixture_document(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def fixture(name: str) -> Any:
    """A fresh copy of the body of `tests/fixtures/<name>.json`."""
    return copy.deepcopy(_fixture_document(name)["body"])


def transcript_vtt() -> str:
    return (FIXTURES / "meeting_transcript.vtt").read_text(encoding="utf-8")


def success_status(operation: Operation) -> int:
    """The operation's success status: 204 when it has one (Zoom's deletes list 200 and 204), else its first 2xx."""
    codes = [str(code) for code in operation.raw.get("responses", {}) if str(code).startswith("2")]
    return 204 if "204" in codes else int(codes[0])


def zoom_error(status: int, code: int, message: str, **headers: str) -> httpx.Response:
    """Zoom's error envelope."""
    return httpx.Response(status, json={"code": code, "message": message}, headers=headers)


def _answer(answer: Answer, request: httpx.Request) -> httpx.Response:
    while callable(answer):
        answer = answer(request)
    if isinstance(answer, httpx.Response):
        return answer
    return httpx.Response(200, json=dict(answer))


class FakeZoom:
    """An `httpx.MockTransport` handler standing in for Zoom's API, download hosts and storage host.

    API requests are validated against the description (one it does not describe fails the test)
    and answered with `responses[operation_id]` (a queue: the last answer repeats), else the
    operation's fixture, else an empty 204 for operations that answer 204. Download-host requests
    must carry the token and storage-host requests must not; both are answered from `files`.
    """

    def __init__(
        self,
        validator: OpenAPIValidator | None = None,
        responses: Mapping[str, Answer | list[Answer]] | None = None,
        files: Mapping[str, Answer] | None = None,
    ) -> None:
        self.validator = validator or load_description()
        self.responses: dict[str, list[Answer]] = {
            key: list(value) if isinstance(value, list) else [value] for key, value in (responses or {}).items()
        }
        self.files = dict(files or {})
        self.requests: list[httpx.Request] = []
        self.operations: list[Operation] = []
        self.downloads: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        host = request.url.host
        if host in DOWNLOAD_HOSTS or host == STORAGE_HOST:
            return self._file(request)
        assert host == API_HOST, f"request to an unexpected host: {request.method} {request.url}"
        assert request.url.scheme == "https"
        operation = self.validator.validate_request(request)
        self.operations.append(operation)
        operation_id = operation.operation_id or ""
        queue = self.responses.get(operation_id)
        if queue:
            return _answer(queue.pop(0) if len(queue) > 1 else queue[0], request)
        if (FIXTURES / f"{operation_id}.json").exists():
            return httpx.Response(_fixture_document(operation_id)["status"], json=fixture(operation_id))
        status = success_status(operation)
        assert status == 204, f"no fixture for {operation_id}: add one to tests/fixtures/_build.py or pass responses="
        return httpx.Response(204)

    def _file(self, request: httpx.Request) -> httpx.Response:
        self.downloads.append(request)
        assert request.method == "GET", f"files are only downloaded: {request.method} {request.url}"
        auth = request.headers.get("authorization")
        if request.url.host == STORAGE_HOST:
            assert auth is None, "the storage host must never see the tenant's token"
        else:
            assert (auth or "").startswith("Bearer "), "a download from Zoom's web host needs the token"
        answer = self.files.get(request.url.path)
        assert answer is not None, f"unexpected file request {request.url}"
        return _answer(answer, request)

    @property
    def operation_ids(self) -> list[str | None]:
        return [op.operation_id for op in self.operations]

    def sent(self, operation_id: str) -> list[httpx.Request]:
        api = [r for r in self.requests if r.url.host == API_HOST]
        return [r for r, op in zip(api, self.operations, strict=True) if op.operation_id == operation_id]

    def body(self, operation_id: str, index: int = -1) -> Any:
        return json.loads(self.sent(operation_id)[index].content)
