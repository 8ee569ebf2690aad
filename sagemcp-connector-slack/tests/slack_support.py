"""The test harness: a fake Slack that answers from fixtures and checks every request it gets.

Every request a tool sends to the fake goes through `Contract.check` first: methods in
Slack's OpenAPI description (`specs/slack/slack_web_openapi_v2.json`, stored gzipped, at the
repository root) are validated against it with `sagemcp.testing.OpenAPIValidator`; methods it
lacks are validated against the hand-written schemas in `tests/schemas/` (from Slack's
documentation). A request that breaks its description fails the test that sent it.

Responses come from `tests/fixtures/<method>.json` (the description's own examples, or
hand-written from Slack's documentation: each file says which in `source` and `from`).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
from jsonschema import Draft202012Validator

from sagemcp import ClientChannel, Credential
from sagemcp.platform import ToolPolicy
from sagemcp.testing import OpenAPIValidator, ToolCall, call_tool
from sagemcp_slack import SlackConnector

TESTS = Path(__file__).resolve().parent
SPEC_DIR = Path(__file__).resolve().parents[2] / "specs" / "slack"
SPEC_FILE = SPEC_DIR / "slack_web_openapi_v2.json"
SCHEMAS = TESTS / "schemas"
FIXTURES = TESTS / "fixtures"
FILE_HOST = "files.slack.com"

Answer = dict[str, Any] | httpx.Response | Callable[[httpx.Request], "Answer"]


def fixture(name: str) -> dict[str, Any]:
    """A fresh copy of the response in `tests/fixtures/<name>.json`."""
    document = json.loads((FIXTURES / f"{name}.json").read_text())
    assert document.get("source") in ("example", "documentation"), f"fixture {name} does not say where it comes from"
    assert document.get("from"), f"fixture {name} does not say where it comes from"
    return copy.deepcopy(document["body"])


def slack_method(request: httpx.Request) -> str:
    return request.url.path.rstrip("/").rsplit("/", 1)[-1]


def arguments(request: httpx.Request) -> dict[str, Any]:
    """The Web API arguments of a request: its query (GET), JSON body or form body."""
    if request.method == "GET":
        return dict(request.url.params)
    media = request.headers.get("content-type", "").split(";")[0].strip()
    if media == "application/json":
        return dict(json.loads(request.content or b"{}"))
    return dict(parse_qsl(request.content.decode("utf-8"), keep_blank_values=True))


class Contract:
    """Checks requests against the OpenAPI description or, for newer methods, a hand-written schema."""

    def __init__(self, validator: OpenAPIValidator) -> None:
        self.validator = validator
        self.paths = set(validator.document["paths"])
        self.checked: dict[str, str] = {}
        """method -> how it was checked ("openapi" or "schema"), for the coverage test."""

    def has_schema(self, method: str) -> bool:
        return (SCHEMAS / f"{method}.json").exists()

    def check(self, request: httpx.Request) -> str:
        method = slack_method(request)
        assert "token" not in request.url.params, f"{method}: the token must never go in the query string"
        if f"/{method}" in self.paths:
            self.validator.validate_request(self._with_legacy_token(request))
            how = "openapi"
        elif self.has_schema(method):
            self._check_schema(method, request)
            how = "schema"
        else:
            raise AssertionError(f"{request.method} {request.url.path}: no description of {method} to check against")
        self.checked[method] = how
        return how

    def _with_legacy_token(self, request: httpx.Request) -> httpx.Request:
        """A copy of `request` with its bearer token also as the `token` query parameter, for validation only.

        The 2020 description still models Slack's legacy `token` argument, required on many GET
        methods. The connector sends the token in the `Authorization` header, which Slack accepts
        for every method (and requires for JSON bodies); the copy lets the rest of the query be
        checked against the description without weakening the check of any other parameter.
        """
        auth = request.headers.get("authorization", "")
        operation = self.validator.find_operation(request.method, request.url.path)
        declared = (
            {p.get("name") for p in (operation.raw.get("parameters") or ()) if p.get("in") == "query"}
            if operation
            else set()
        )
        if request.method != "GET" or not auth.startswith("Bearer ") or "token" not in declared:
            return request
        url = request.url.copy_merge_params({"token": auth.removeprefix("Bearer ")})
        return httpx.Request(request.method, url, headers=request.headers, content=request.content)

    def _check_schema(self, method: str, request: httpx.Request) -> None:
        schema = json.loads((SCHEMAS / f"{method}.json").read_text())
        where = f"{request.method} {request.url.path}"
        assert request.method == schema["http_method"], f"{where}: {method} is sent with {schema['http_method']}"
        if schema["content_types"]:
            media = request.headers.get("content-type", "").split(";")[0].strip()
            assert media in schema["content_types"], f"{where}: content type {media!r} not in {schema['content_types']}"
        else:
            assert not request.content, f"{where}: {method} takes no body"
        args = arguments(request)
        for name in schema["json_fields"]:
            if name in args:
                args[name] = json.loads(args[name])
        errors = sorted(Draft202012Validator(schema["arguments"]).iter_errors(args), key=str)
        assert not errors, f"{where} breaks tests/schemas/{method}.json: " + "; ".join(e.message for e in errors)


class FakeSlack:
    """An `httpx.MockTransport` handler standing in for slack.com and files.slack.com.

    Each Web API method answers with its fixture unless `on(method, ...)` queued other
    answers (dicts are JSON bodies with HTTP 200; the last queued answer repeats).
    Every request is checked by the `Contract` and recorded.
    """

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.answers: dict[str, list[Answer]] = {}
        self.files: dict[str, Answer] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method: str, *answers: Answer) -> FakeSlack:
        self.answers[method] = list(answers)
        return self

    def on_file(self, path: str, answer: Answer) -> FakeSlack:
        self.files[path] = answer
        return self

    def methods(self) -> list[str]:
        """The Web API methods called, in order (file-host requests left out)."""
        return [slack_method(r) for r in self.requests if r.url.host != FILE_HOST]

    def sent(self, method: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.host != FILE_HOST and slack_method(r) == method]

    def args(self, method: str, index: int = -1) -> dict[str, Any]:
        calls = self.sent(method)
        assert calls, f"{method} was not called; calls: {self.methods()}"
        return arguments(calls[index])

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host == FILE_HOST:
            answer = self.files.get(request.url.path)
            assert answer is not None, f"unexpected file-host request {request.method} {request.url}"
            return _response(answer, request)
        self.contract.check(request)
        method = slack_method(request)
        queue = self.answers.get(method)
        if queue:
            answer = queue.pop(0) if len(queue) > 1 else queue[0]
        elif (FIXTURES / f"{method}.json").exists():
            answer = fixture(method)
        else:
            answer = {"ok": False, "error": "unknown_method"}
        return _response(answer, request)


def _response(answer: Answer, request: httpx.Request) -> httpx.Response:
    while callable(answer):
        answer = answer(request)
    if isinstance(answer, httpx.Response):
        return answer
    return httpx.Response(200, json=answer)


ALL_GROUPS = ToolPolicy(groups=SlackConnector.groups())


async def run(
    fake: FakeSlack,
    tool: str,
    args: dict[str, Any] | None = None,
    *,
    config: dict[str, Any] | None = None,
    policy: ToolPolicy | None = None,
    credential: Credential | None = None,
    client: ClientChannel | None = None,
) -> ToolCall:
    """Call a Slack tool as the platform would, against the fake (`client`: the MCP client it may ask)."""
    return await call_tool(
        SlackConnector,
        tool,
        args or {},
        handler=fake,
        config=config,
        policy=policy or ALL_GROUPS,
        credential=credential,
        client=client,
    )
