"""Test helpers: Atlassian's API descriptions, the fixtures built from them, and a fake Jira that checks and answers.

- Jira Cloud platform REST v3: `specs/jira/swagger-v3.v3.json.gz` (Atlassian's published description).
- Jira Software agile 1.0: `specs/jira/software-swagger.v3.json.gz`.
- Jira Data Center / Server REST v2: `tests/schemas/jira-datacenter-v2.openapi.json`, HAND-WRITTEN from
  Atlassian's reference (https://docs.atlassian.com/software/jira/docs/api/REST/9.12.0/), since Atlassian
  publishes no machine-readable description of it.

Every request the fake receives is checked against the description of its API (method, path, query
string, JSON body), its origin against the one the deployment must call, and its headers (the
credential, `Accept`, Atlassian's `X-Atlassian-Token` on uploads); a request that breaks any of it
fails the test instead of being answered. Answers come from `tests/fixtures/` (the descriptions'
own examples, see `fixtures/_build.py`); the Data Center answers are derived from the same examples
where the shapes differ (`DATA_CENTER_ANSWERS`, each labelled).
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import httpx

from sagemcp import POST_AUTHORIZE_KEY, Credential
from sagemcp.testing import ContractViolation, OpenAPIValidator, Operation, load_description

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
SPECS = TESTS.parents[1] / "specs" / "jira"
PLATFORM_FILE = SPECS / "swagger-v3.v3.json"
AGILE_FILE = SPECS / "software-swagger.v3.json"
DATA_CENTER_FILE = TESTS / "schemas" / "jira-datacenter-v2.openapi.json"

SITE = "https://your-domain.atlassian.net"
GATEWAY = "https://api.atlassian.com"
CLOUD_ID = "1324a887-45db-1bf4-1e99-ef0ff456d421"
DATA_CENTER = "https://jira.example.com"
TOKEN = "test-token"

Responder = Callable[[httpx.Request], httpx.Response]


@dataclass(frozen=True)
class Deployment:
    """One way of reaching Jira: the configuration, the credential, where requests must go."""

    name: str
    config: dict[str, Any]
    credential: Credential
    origin: str
    prefix: str = ""
    """Path before `/rest/...` (the gateway's `/ex/jira/{cloudId}`)."""
    token: str = TOKEN
    """The secret of `credential`, as the Authorization header must carry it."""

    @property
    def auth_header(self) -> str:
        if self.credential.kind == "basic":
            return "Basic " + base64.b64encode(f"{self.credential.account}:{self.token}".encode()).decode()
        return f"Bearer {self.token}"


def oauth_credential(sites: list[dict[str, str]] | None = None, token: str = TOKEN) -> Credential:
    """An OAuth credential as the authorization flow stores it, with the sites the grant reaches."""
    found = sites if sites is not None else [{"cloud_id": CLOUD_ID, "url": SITE, "name": "your-domain"}]
    return Credential(
        tenant_id="test",
        provider="jira",
        kind="oauth2",
        access_token=token,  # type: ignore[arg-type]
        extra={POST_AUTHORIZE_KEY: {"sites": found}},
    )


CLOUD = Deployment(
    "cloud",
    {"site_url": SITE},
    Credential(tenant_id="test", provider="jira", kind="basic", account="me@example.com", access_token=TOKEN),  # type: ignore[arg-type]
    SITE,
)
OAUTH = Deployment("oauth", {}, oauth_credential(), GATEWAY, prefix=f"/ex/jira/{CLOUD_ID}")
DATA_CENTER_PAT = Deployment(
    "data_center",
    {"deployment": "data_center", "site_url": DATA_CENTER},
    Credential(tenant_id="test", provider="jira", kind="bearer", access_token=TOKEN),  # type: ignore[arg-type]
    DATA_CENTER,
)
DEPLOYMENTS = [CLOUD, OAUTH, DATA_CENTER_PAT]


@dataclass(frozen=True)
class Descriptions:
    platform: OpenAPIValidator
    agile: OpenAPIValidator
    data_center: OpenAPIValidator

    def for_path(self, path: str) -> OpenAPIValidator:
        if "/rest/agile/" in path:
            return self.agile
        if "/rest/api/3/" in path:
            return self.platform
        return self.data_center


AGILE_CORRECTIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("getAllBoards", "type"): {"type": "string", "enum": ["scrum", "kanban", "simple"]},
    ("getAllSprints", "state"): {"type": "string", "pattern": "^(future|active|closed)(,(future|active|closed))*$"},
    **{
        (operation, "fields"): {"type": "array", "items": {"type": "string"}}
        for operation in ("getIssuesForSprint", "getIssuesForBacklog", "getIssuesForEpic")
    },
}
"""Query parameters the 2022 agile description types as JSON objects (a defect of Atlassian's generator: they
are strings), corrected from the parameters' own descriptions ("Valid values: scrum, kanban, simple";
"states separated by commas"; "the list of fields") and Atlassian's reference,
https://developer.atlassian.com/cloud/jira/software/rest/api-group-board/. `test_contract.py` checks that
each corrected parameter is still object-typed in the file, so a fixed description drops the correction."""


def corrected_agile(document: dict[str, Any]) -> dict[str, Any]:
    """The agile description with `AGILE_CORRECTIONS` applied."""
    fixed = copy.deepcopy(document)
    for item in fixed["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters") or []:
                schema = AGILE_CORRECTIONS.get((operation.get("operationId"), parameter.get("name")))
                if schema is not None:
                    parameter["schema"] = schema
    return fixed


def load_descriptions() -> Descriptions:
    agile = corrected_agile(load_description(AGILE_FILE))
    return Descriptions(
        platform=OpenAPIValidator.from_file(PLATFORM_FILE),
        agile=OpenAPIValidator(agile, source=AGILE_FILE.name + ".gz (query types corrected)"),
        data_center=OpenAPIValidator.from_file(DATA_CENTER_FILE),
    )


@cache
def _fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def fixture_body(name: str) -> Any:
    """A fresh copy of the body of fixture `name` (an operationId)."""
    return copy.deepcopy(_fixture(name)["body"])


def fixture_response(name: str) -> httpx.Response:
    fixture = _fixture(name)
    if fixture.get("text") is not None:
        return httpx.Response(fixture["status"], text=fixture["text"], headers={"Content-Type": "text/plain"})
    if fixture["body"] is None:
        return httpx.Response(fixture["status"])
    return httpx.Response(fixture["status"], json=fixture_body(name))


def _dc_search() -> Any:
    body = fixture_body("searchAndReconsileIssuesUsingJqlPost")
    issues = body.get("issues") or []
    return {"startAt": 0, "maxResults": 50, "total": len(issues), "issues": issues}


def _dc_attachment() -> Any:
    body = fixture_body("getAttachment")
    body["content"] = f"{DATA_CENTER}/secure/attachment/{body['id']}/{body['filename']}"
    return body


def _dc_user(name: str) -> Callable[[], Any]:
    def make() -> Any:
        body = fixture_body(name)
        body.update(name="mia", key="JIRAUSER10100")  # Data Center names users; Cloud's example has no name
        return body

    return make


DATA_CENTER_ANSWERS: dict[str, tuple[str, Callable[[], Any] | str]] = {
    "searchUsingSearchRequest": (
        "derived: the Cloud search example's issues, offset-paged as Data Center pages",
        _dc_search,
    ),
    "getCreateIssueMetaProjectIssueTypes": (
        "derived: the Cloud example's issue types under `values`",
        lambda: {
            "startAt": 0,
            "maxResults": 50,
            "total": 1,
            "isLast": True,
            "values": fixture_body("getCreateIssueMetaIssueTypes")["issueTypes"],
        },
    ),
    "getCreateIssueMetaFields": (
        "derived: the Cloud example's fields under `values`",
        lambda: {
            "startAt": 0,
            "maxResults": 50,
            "total": 1,
            "isLast": True,
            "values": fixture_body("getCreateIssueMetaIssueTypeId")["fields"],
        },
    ),
    "getAllProjects": (
        "derived: the Cloud example's projects as a bare list",
        lambda: fixture_body("searchProjects")["values"],
    ),
    "getProjectComponents": (
        "derived: the Cloud example's components as a bare list",
        lambda: fixture_body("getProjectComponentsPaginated")["values"],
    ),
    "getAttachment": ("derived: the Cloud example, its content URL on the Data Center host", _dc_attachment),
    "assign": ("the Cloud example (an empty 204)", "assignIssue"),
    "getUser": ("derived: the Cloud example of GET /myself with a user name", _dc_user("getCurrentUser")),
    "getUserByName": ("derived: the Cloud example of GET /user with a user name", _dc_user("getUser")),
    "downloadAttachment": ("the derived text attachment", "getAttachmentContent"),
}
"""Data Center operationId -> (label, Cloud fixture name or a function making the body). Others: same-named fixture."""


@dataclass
class FakeJira:
    """A fake Jira for `httpx.MockTransport`: checks each request (origin, headers, description), then answers.

    `responses[operation_id]` replaces the fixture answer (a function of the request, or a body).
    """

    descriptions: Descriptions
    deployment: Deployment = CLOUD
    responses: dict[str, Responder | Any] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    operations: list[Operation] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.check_request(request)
        validator = self.descriptions.for_path(request.url.path)
        prefix = self.deployment.prefix.replace(CLOUD_ID, "{cloudid}") or None
        operation = validator.validate_request(request, base_path_prefix=prefix)
        self.operations.append(operation)
        op_id = operation.operation_id or ""
        chosen = self.responses.get(op_id)
        if callable(chosen):
            return chosen(request)
        if chosen is not None:
            return httpx.Response(200, json=chosen)
        return self.answer(op_id, validator is self.descriptions.data_center)

    def check_request(self, request: httpx.Request) -> None:
        origin = f"{request.url.scheme}://{request.url.netloc.decode()}"
        if origin != self.deployment.origin:
            raise ContractViolation(f"{request.method} {request.url} went to {origin}, not {self.deployment.origin}")
        if not request.url.path.startswith(self.deployment.prefix + "/"):
            raise ContractViolation(f"{request.url.path} is not under {self.deployment.prefix or '/'}")
        if request.headers.get("authorization") != self.deployment.auth_header:
            raise ContractViolation(f"{request.method} {request.url.path} lacks the credential's Authorization header")
        if request.headers.get("accept") != "application/json":
            raise ContractViolation(f"{request.method} {request.url.path} does not ask for JSON (Accept)")
        if request.url.path.endswith("/attachments") and request.headers.get("x-atlassian-token") != "no-check":
            raise ContractViolation("an attachment upload needs X-Atlassian-Token: no-check, or Jira refuses it (XSRF)")
        if self.deployment.name != "data_center" and "/rest/api/2/" in request.url.path:
            raise ContractViolation(f"{request.url.path}: Jira Cloud is called with REST API v3")
        if self.deployment.name == "data_center" and "/rest/api/3/" in request.url.path:
            raise ContractViolation(f"{request.url.path}: Jira Data Center has no REST API v3")

    @staticmethod
    def answer(op_id: str, data_center: bool) -> httpx.Response:
        if data_center and op_id in DATA_CENTER_ANSWERS:
            _, source = DATA_CENTER_ANSWERS[op_id]
            if isinstance(source, str):
                return fixture_response(source)
            return httpx.Response(200, json=source())
        return fixture_response(op_id)

    @property
    def operation_ids(self) -> list[str | None]:
        return [op.operation_id for op in self.operations]


def jira_error(
    status: int,
    messages: list[str] | None = None,
    errors: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """An answer in Atlassian's error envelope (`ErrorCollection`)."""
    body = {"errorMessages": messages or [], "errors": dict(errors or {}), "status": status}
    return httpx.Response(status, json=body, headers=dict(headers or {}))
