"""Test helpers: Notion's API description (with the hand-written schemas it lacks), the fixtures, a fake Notion.

`specs/notion/notion-openapi.json` is Notion's own description (kept with its provenance in
`specs/README.md`), but it describes request bodies loosely or wrongly in places: blocks may
only be plain paragraphs and bullets, rich text has no annotations or mentions, page
children are strings, and 2025-09-03's `POST /v1/databases` and `data_source_id` parents are
missing. The schemas in `tests/schemas/` stand in for those parts, each labelled with the
Notion reference page and the generated request type it was written from; `load_description`
puts them in, and makes every described request body refuse fields it does not describe.
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
from sagemcp_notion.connector import API_VERSION

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
SCHEMAS = TESTS / "schemas"
DESCRIPTION = Path(__file__).resolve().parents[2] / "specs" / "notion" / "notion-openapi.json"

Responder = Callable[[httpx.Request], httpx.Response]

COMPONENTS = (
    "richTextRequest",
    "blockObjectRequest",
    "sortObject",
    "dateRequest",
    "iconRequest",
    "propertyValueRequest",
)
"""Schemas of `tests/schemas/` put under `components.schemas` (the first two replace the description's)."""
BODIES = {
    ("post", "/v1/pages"): "post-page.request",
    ("patch", "/v1/pages/{page_id}"): "patch-page.request",
    ("post", "/v1/pages/{page_id}/move"): "move-page.request",
    ("patch", "/v1/blocks/{block_id}"): "update-a-block.request",
    ("post", "/v1/comments"): "create-a-comment.request",
}
"""Request bodies replaced by hand-written schemas."""

PAGE_ID = "393abc1e-edcd-81f5-ae94-ec2d55fe98ed"
ROW_ID = "393abc1e-edcd-8100-8000-000000000001"
DATA_SOURCE_ID = "393abc1e-edcd-8179-9372-000bd163e729"
DATABASE_ID = "e234cdc8-4ad2-4371-a97e-999a238bf8f5"
BLOCK_ID = "393abc1e-edcd-8182-aa10-e3ab78a2475f"
USER_ID = "7775f3a3-893f-43fa-b625-460c61094c78"


def schema(name: str) -> dict[str, Any]:
    """A hand-written schema of `tests/schemas/`."""
    data: dict[str, Any] = json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))
    return data["schema"]


def _strict(node: Any) -> None:
    """Objects that list their properties accept no others (the description leaves that open)."""
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            _strict(value)
    elif isinstance(node, list):
        for value in node:
            _strict(value)


@cache
def description_document() -> dict[str, Any]:
    document = copy.deepcopy(parse_description(DESCRIPTION))
    schemas = document["components"]["schemas"]
    for name in COMPONENTS:
        schemas[name] = schema(name)
    for (method, path), name in BODIES.items():
        document["paths"][path][method]["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schema(name)}},
        }
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                _strict(operation["requestBody"])
    document["paths"]["/v1/databases"] = {
        "post": {
            "operationId": "create-a-database",
            "summary": "Create a database (hand-written: tests/schemas/create-a-database.request.json)",
            "parameters": [{"$ref": "#/components/parameters/notionVersion"}],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": schema("create-a-database.request")}},
            },
            "responses": {"200": {"description": "The new database"}},
        }
    }
    return document


def load_description() -> OpenAPIValidator:
    return OpenAPIValidator(description_document(), source="notion-openapi.json + tests/schemas")


@cache
def _fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def fixture_body(name: str) -> Any:
    """A fresh copy of fixture `name`'s body (see `fixtures/_build.py` for where each comes from)."""
    return copy.deepcopy(_fixture(name)["body"])


def respond(name: str, status: int | None = None) -> httpx.Response:
    return httpx.Response(status or _fixture(name)["status"], json=fixture_body(name))


def error(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> httpx.Response:
    """Notion's error envelope."""
    body = {"object": "error", "status": status, "code": code, "message": message, "request_id": "req-1"}
    return httpx.Response(status, json=body, headers=headers)


DEFAULT_FIXTURES = {
    "retrieve-a-page": "retrieve-a-page.row",
    "retrieve-a-data-source": "retrieve-a-data-source.tasks",
    "query-data-source": "query-data-source",
    "post-search": "post-search",
}


def block_children(request: httpx.Request, path_params: Mapping[str, str]) -> httpx.Response:
    """The 100-block page: its top-level blocks in two pages, and the children of its nested blocks."""
    nested = fixture_body("get-block-children.nested")
    block = path_params.get("block_id", "")
    if block in nested:
        return httpx.Response(200, json=nested[block])
    first = fixture_body("get-block-children.page-1")
    if request.url.params.get("start_cursor") == first["next_cursor"]:
        return respond("get-block-children.page-2")
    return httpx.Response(200, json=first)


class FakeNotion:
    """A fake Notion API for `httpx.MockTransport`.

    Every request is first checked against the description (a request it does not describe
    fails the test, it is not answered) and for `Notion-Version: 2025-09-03`, then answered
    by `responses[operation_id](request)`, or with the operation's fixture.
    """

    def __init__(self, validator: OpenAPIValidator, responses: Mapping[str, Responder] | None = None) -> None:
        self.validator = validator
        self.responses = dict(responses or {})
        self.requests: list[httpx.Request] = []
        self.operations: list[Operation] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.headers.get("notion-version") == API_VERSION, request.headers
        operation = self.validator.validate_request(request)
        self.operations.append(operation)
        operation_id = operation.operation_id or ""
        respond_with = self.responses.get(operation_id)
        if respond_with is not None:
            return respond_with(request)
        if operation_id == "get-block-children":
            return block_children(request, operation.path_params)
        return respond(DEFAULT_FIXTURES.get(operation_id, operation_id))

    @property
    def operation_ids(self) -> list[str]:
        return [operation.operation_id or "" for operation in self.operations]


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)
