"""Test helpers: GitHub's API description, the recorded fixtures, and a fake GitHub that replays them.

The description is `specs/github/api.github.com.json.gz` at the repository root (see
`specs/README.md`). It is loaded once per session.
"""

from __future__ import annotations

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
SPEC_DIR = Path(__file__).resolve().parents[2] / "specs" / "github"
SPEC_FILE = SPEC_DIR / "api.github.com.json.gz"
OCTOKIT_COMPARE = "/repos/{owner}/{repo}/compare/{base}...{head}"
"""A path Octokit adds to its build of the description; GitHub's own has only `.../compare/{basehead}`."""

Responder = Callable[[httpx.Request], httpx.Response]


@cache
def load_fixture(name: str) -> dict[str, Any]:
    """A recorded response by name (`issues/get`, `pulls/get.diff`, ...); see fixtures/_build.py."""
    path = FIXTURES / (name.replace("/", "__") + ".json")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def fixture_body(name: str) -> Any:
    return json.loads(json.dumps(load_fixture(name)["body"]))  # a fresh copy


def fixture_response(
    name: str, *, status: int | None = None, headers: Mapping[str, str] | None = None, body: Any = ...
) -> httpx.Response:
    """The recorded response `name` as an `httpx.Response`, optionally with another status, headers or body."""
    fixture = load_fixture(name)
    all_headers = {**fixture.get("headers", {}), **(headers or {})}
    code = status if status is not None else fixture["status"]
    if body is not ...:
        return httpx.Response(code, json=body, headers=all_headers)
    if fixture.get("text") is not None:
        return httpx.Response(code, text=fixture["text"], headers=all_headers)
    if fixture.get("body") is None:
        return httpx.Response(code, headers=all_headers)
    return httpx.Response(code, json=fixture_body(name), headers=all_headers)


def load_description() -> OpenAPIValidator:
    document = parse_description(SPEC_FILE)
    # Octokit's extra path would shadow the official operation for `base...head` paths; drop it so the
    # contract tests check requests against GitHub's own `GET /repos/{owner}/{repo}/compare/{basehead}`.
    document["paths"].pop(OCTOKIT_COMPARE, None)
    # Only `{path}` (`/repos/{owner}/{repo}/contents/{path}`) may hold slashes; any other parameter is one segment.
    return OpenAPIValidator(document, source="api.github.com.json.gz", multi_segment_params=("path",))


class FakeGitHub:
    """Answers each request with the recorded response of the operation it matches.

    With a `validator`, every request is first checked against GitHub's description
    (a request it does not describe fails the test). `responses` maps an operation id to
    a fixture name or a function of the request, replacing the default fixture.
    """

    MEDIA_FIXTURES = {
        ("pulls/get", "application/vnd.github.diff"): "pulls/get.diff",
        ("repos/get-commit", "application/vnd.github.sha"): "repos/get-commit.sha",
    }

    def __init__(
        self,
        validator: OpenAPIValidator,
        responses: Mapping[str, str | Responder] | None = None,
        *,
        base_path_prefix: str | None = None,
    ) -> None:
        self.validator = validator
        self.responses = dict(responses or {})
        self.base_path_prefix = base_path_prefix
        self.operations: list[Operation] = []

    @staticmethod
    def is_storage(request: httpx.Request) -> bool:
        """Job logs live on GitHub's storage host, outside the REST API (and its description)."""
        return request.url.host.endswith(".actions.githubusercontent.com")

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.is_storage(request):
            return httpx.Response(200, text="##[group]Run actions/checkout@v2\nerror: build failed\n")
        operation = self.validator.validate_request(request, base_path_prefix=self.base_path_prefix)
        self.operations.append(operation)
        op_id = operation.operation_id or ""
        chosen = self.responses.get(op_id)
        if callable(chosen):
            return chosen(request)
        if chosen is None:
            accept = request.headers.get("accept", "")
            chosen = self.MEDIA_FIXTURES.get((op_id, accept), op_id)
        return fixture_response(chosen)

    @property
    def operation_ids(self) -> list[str | None]:
        return [op.operation_id for op in self.operations]
