"""OpenAPIValidator: requests checked against OpenAPI 3 and Swagger 2 descriptions."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from sagemcp.testing import ContractViolation, OpenAPIValidator, Operation, load_description

OAS3: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Items", "version": "1"},
    "servers": [{"url": "https://api.example.com/v1"}],
    "components": {
        "securitySchemes": {"key": {"type": "apiKey", "in": "query", "name": "api_key"}},
        "parameters": {
            "item-id": {"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}},
            "limit": {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}},
        },
        "schemas": {
            "Node": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                },
            },
            "NewItem": {
                "type": "object",
                "required": ["title", "id"],
                "properties": {
                    "id": {"type": "integer", "readOnly": True},
                    "title": {"type": "string", "minLength": 1},
                    "due": {"type": "string", "nullable": True},
                    "owner": {"allOf": [{"$ref": "#/components/schemas/Owner"}], "nullable": True},
                    "tree": {"$ref": "#/components/schemas/Node"},
                    "priority": {"type": "integer", "minimum": 0, "exclusiveMinimum": True},
                },
                "additionalProperties": False,
            },
            "Owner": {"type": "object", "required": ["login"], "properties": {"login": {"type": "string"}}},
        },
        "requestBodies": {
            "NewItem": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewItem"}}},
            }
        },
    },
    "paths": {
        "/items": {
            "get": {
                "operationId": "items/list",
                "parameters": [
                    {"$ref": "#/components/parameters/limit"},
                    {"name": "state", "in": "query", "schema": {"type": "string", "enum": ["open", "closed"]}},
                    {"name": "tags", "in": "query", "schema": {"type": "array", "items": {"type": "integer"}}},
                    {"name": "archived", "in": "query", "schema": {"type": "boolean"}},
                ],
            },
            "post": {"operationId": "items/create", "requestBody": {"$ref": "#/components/requestBodies/NewItem"}},
        },
        "/items/search": {
            "get": {
                "operationId": "items/search",
                "parameters": [{"name": "q", "in": "query", "required": True, "schema": {"type": "string"}}],
            }
        },
        "/items/{item_id}": {
            "parameters": [{"$ref": "#/components/parameters/item-id"}],
            "get": {"operationId": "items/get"},
            "delete": {"operationId": "items/delete", "deprecated": True},
        },
        "/files/{owner}/{path}": {
            "get": {
                "operationId": "files/get",
                "parameters": [
                    {
                        "name": "owner",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^[a-z]+$"},
                    },
                    {"name": "path", "in": "path", "required": True, "schema": {"type": "string"}},
                ],
            }
        },
        "/token": {
            "post": {
                "operationId": "token",
                "requestBody": {
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "required": ["grant_type"],
                                "properties": {
                                    "grant_type": {"type": "string", "enum": ["authorization_code", "refresh_token"]},
                                    "expires_in": {"type": "integer"},
                                },
                            }
                        }
                    }
                },
            }
        },
    },
}

SWAGGER2: dict[str, Any] = {
    "swagger": "2.0",
    "info": {"title": "Chat", "version": "1"},
    "host": "chat.example.com",
    "basePath": "/api",
    "definitions": {
        "Thing": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string"},
                "size": {"type": "integer", "x-nullable": True},
                "parent": {"$ref": "#/definitions/Thing"},
                "tags": {"type": "array", "items": [{"type": "string"}, {"type": "integer"}]},
            },
        }
    },
    "paths": {
        "/chat.post": {
            "post": {
                "operationId": "chat_post",
                "consumes": ["application/x-www-form-urlencoded", "application/json"],
                "parameters": [
                    {"name": "token", "in": "header", "required": True, "type": "string"},
                    {"name": "channel", "in": "formData", "required": True, "type": "string"},
                    {"name": "text", "in": "formData", "type": "string"},
                    {"name": "mrkdwn", "in": "formData", "type": "boolean"},
                ],
            }
        },
        "/history": {
            "get": {
                "operationId": "history",
                "parameters": [
                    {"name": "channel", "in": "query", "required": True, "type": "string"},
                    {"name": "limit", "in": "query", "type": "integer", "maximum": 1000},
                    {"name": "types", "in": "query", "type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
                ],
            }
        },
        "/things/{id}": {
            "put": {
                "operationId": "things_put",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "type": "string", "pattern": "^T[0-9]+$"},
                    {"name": "body", "in": "body", "required": True, "schema": {"$ref": "#/definitions/Thing"}},
                ],
            }
        },
    },
}


@pytest.fixture(scope="module")
def oas3() -> OpenAPIValidator:
    return OpenAPIValidator(OAS3, source="items.json")


@pytest.fixture(scope="module")
def swagger() -> OpenAPIValidator:
    return OpenAPIValidator(SWAGGER2, source="chat.json")


def violation(validator: OpenAPIValidator, request: httpx.Request, **kwargs: Any) -> str:
    with pytest.raises(ContractViolation) as info:
        validator.validate_request(request, **kwargs)
    assert isinstance(info.value, AssertionError)
    return str(info.value)


def get(url: str, **kwargs: Any) -> httpx.Request:
    return httpx.Request("GET", url, **kwargs)


# -- matching ------------------------------------------------------------------------------


def test_valid_request_returns_the_operation(oas3: OpenAPIValidator) -> None:
    op = oas3.validate_request(get("https://api.example.com/v1/items/42"))
    assert op == Operation(
        method="GET", path="/items/{item_id}", operation_id="items/get", path_params={"item_id": "42"}
    )
    assert oas3.validate_request(httpx.Request("DELETE", "https://api.example.com/v1/items/42")).deprecated


def test_unknown_endpoint(oas3: OpenAPIValidator) -> None:
    message = violation(oas3, get("https://api.example.com/v1/nothing/here"))
    assert "no operation in the description items.json matches GET /v1/nothing/here" in message
    message = violation(oas3, httpx.Request("PATCH", "https://api.example.com/v1/items/1"))
    assert "matches PATCH /v1/items/1 (the path is described for GET, DELETE)" in message


def test_server_path_prefix_is_required(oas3: OpenAPIValidator) -> None:
    message = violation(oas3, get("https://api.example.com/items/1"))
    assert "does not start with the base path (/v1)" in message


def test_literal_segments_win_over_templates(oas3: OpenAPIValidator) -> None:
    op = oas3.validate_request(get("https://api.example.com/v1/items/search?q=x"))
    assert op.operation_id == "items/search"


def test_base_path_prefix_with_placeholder(oas3: OpenAPIValidator) -> None:
    op = oas3.validate_request(
        get("https://gw.example.com/ex/items/abc-123/items/7"), base_path_prefix="/ex/items/{site}"
    )
    assert op.operation_id == "items/get" and op.path_params == {"item_id": "7"}


def test_last_path_parameter_may_hold_slashes(oas3: OpenAPIValidator) -> None:
    op = oas3.validate_request(get("https://api.example.com/v1/files/ann/src/lib/main.py"))
    assert op.path_params == {"owner": "ann", "path": "src/lib/main.py"}
    encoded = oas3.validate_request(get("https://api.example.com/v1/files/ann/src%2Fmain.py"))
    assert encoded.path_params == {"owner": "ann", "path": "src/main.py"}


# -- path and query parameters ---------------------------------------------------------------


def test_bad_path_parameters(oas3: OpenAPIValidator) -> None:
    message = violation(oas3, get("https://api.example.com/v1/items/abc"))
    assert "GET /v1/items/abc (items/get, GET /items/{item_id})" in message
    assert "path parameter 'item_id': 'abc' is not of type 'integer'" in message
    assert "0 is less than the minimum of 1" in violation(oas3, get("https://api.example.com/v1/items/0"))
    message = violation(oas3, get("https://api.example.com/v1/files/Ann/x"))
    assert "path parameter 'owner': 'Ann' does not match '^[a-z]+$'" in message


def test_query_parameters_are_coerced_and_checked(oas3: OpenAPIValidator) -> None:
    oas3.validate_request(
        get("https://api.example.com/v1/items", params={"limit": 50, "state": "open", "archived": True})
    )
    oas3.validate_request(get("https://api.example.com/v1/items?tags=1,2,3"))
    oas3.validate_request(get("https://api.example.com/v1/items?tags=1&tags=2"))
    oas3.validate_request(get("https://api.example.com/v1/items?api_key=k"))  # a security scheme's parameter


def test_unknown_query_parameter(oas3: OpenAPIValidator) -> None:
    message = violation(oas3, get("https://api.example.com/v1/items?per_page=10"))
    assert "unknown query parameter 'per_page'; the operation takes: archived, limit, state, tags" in message


def test_wrong_enum_value_and_types(oas3: OpenAPIValidator) -> None:
    message = violation(oas3, get("https://api.example.com/v1/items?state=bogus&limit=500&archived=True&tags=1,x"))
    assert "query parameter 'state': 'bogus' is not one of ['open', 'closed']" in message
    assert "query parameter 'limit': 500 is greater than the maximum of 100" in message
    assert "query parameter 'archived': 'True' is not of type 'boolean'" in message
    assert "query parameter 'tags'/1: 'x' is not of type 'integer'" in message
    assert "items/list" in message


def test_repeated_scalar_and_missing_required_query(oas3: OpenAPIValidator) -> None:
    assert "given 2 times" in violation(oas3, get("https://api.example.com/v1/items?state=open&state=closed"))
    assert "missing required query parameter 'q'" in violation(oas3, get("https://api.example.com/v1/items/search"))


# -- bodies ------------------------------------------------------------------------------------


def create(body: Any) -> httpx.Request:
    return httpx.Request("POST", "https://api.example.com/v1/items", json=body)


def test_valid_json_body_with_nullable_recursive_and_read_only(oas3: OpenAPIValidator) -> None:
    body = {
        "title": "x",
        "due": None,
        "owner": None,
        "priority": 1,
        "tree": {"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]},
    }
    assert oas3.validate_request(create(body)).operation_id == "items/create"  # `id` is readOnly: not required


def test_missing_required_body_field(oas3: OpenAPIValidator) -> None:
    message = violation(oas3, create({"due": "2024-01-01"}))
    assert "POST /v1/items (items/create, POST /items)" in message
    assert "body: 'title' is a required property" in message


def test_wrong_body_types(oas3: OpenAPIValidator) -> None:
    body = {"title": 5, "owner": {"login": 7}, "priority": 0, "extra": 1, "tree": {"name": "a", "children": [{"x": 1}]}}
    message = violation(oas3, create(body))
    assert "body/title: 5 is not of type 'string'" in message
    assert "body/owner/login: 7 is not of type 'string'" in message
    assert "body/priority: 0 is less than or equal to the minimum of 0" in message
    assert "body: Additional properties are not allowed ('extra' was unexpected)" in message
    assert "body/tree/children/0: 'name' is a required property" in message


def test_body_presence_and_content_type(oas3: OpenAPIValidator) -> None:
    empty = httpx.Request("POST", "https://api.example.com/v1/items")
    assert "the request body is required but none was sent" in violation(oas3, empty)
    form = httpx.Request("POST", "https://api.example.com/v1/items", data={"title": "x"})
    assert "Content-Type 'application/x-www-form-urlencoded' is not accepted" in violation(oas3, form)
    assert "the body is not valid JSON" in violation(
        oas3,
        httpx.Request(
            "POST", "https://api.example.com/v1/items", content=b"{", headers={"content-type": "application/json"}
        ),
    )
    assert "sends a body (2 bytes) but the operation takes none" in violation(
        oas3, httpx.Request("GET", "https://api.example.com/v1/items/1", content=b"{}")
    )


def test_oas3_form_body(oas3: OpenAPIValidator) -> None:
    url = "https://api.example.com/v1/token"
    oas3.validate_request(httpx.Request("POST", url, data={"grant_type": "refresh_token", "expires_in": "60"}))
    message = violation(oas3, httpx.Request("POST", url, data={"grant_type": "password", "expires_in": "soon"}))
    assert "form body/grant_type: 'password' is not one of" in message
    assert "form body/expires_in: 'soon' is not of type 'integer'" in message


# -- Swagger 2 -----------------------------------------------------------------------------------


def test_swagger_form_body(swagger: OpenAPIValidator) -> None:
    url = "https://chat.example.com/api/chat.post"
    op = swagger.validate_request(httpx.Request("POST", url, data={"channel": "C1", "text": "hi", "mrkdwn": "true"}))
    assert op.operation_id == "chat_post" and op.path == "/chat.post"
    message = violation(swagger, httpx.Request("POST", url, data={"text": "hi", "mrkdwn": "yes", "color": "red"}))
    assert "unknown form field 'color'; the operation takes: channel, mrkdwn, text" in message
    assert "missing required form field 'channel'" in message
    assert "form field 'mrkdwn': 'yes' is not of type 'boolean'" in message


def test_swagger_form_fields_as_json(swagger: OpenAPIValidator) -> None:
    url = "https://chat.example.com/api/chat.post"
    swagger.validate_request(httpx.Request("POST", url, json={"channel": "C1", "text": ["blocks"], "mrkdwn": False}))
    assert "form field 'mrkdwn': 'no' is not of type 'boolean'" in violation(
        swagger, httpx.Request("POST", url, json={"channel": "C1", "mrkdwn": "no"})
    )


def test_swagger_query_and_path(swagger: OpenAPIValidator) -> None:
    swagger.validate_request(get("https://chat.example.com/api/history?channel=C1&limit=10&types=a,b"))
    message = violation(swagger, get("https://chat.example.com/api/history?limit=x&types=a,c&cursor=1"))
    assert "missing required query parameter 'channel'" in message
    assert "query parameter 'limit': 'x' is not of type 'integer'" in message
    assert "query parameter 'types'/1: 'c' is not one of ['a', 'b']" in message
    assert "unknown query parameter 'cursor'" in message
    assert "no operation in the description chat.json matches GET /api/nope" in violation(
        swagger, get("https://chat.example.com/api/nope")
    )


def test_swagger_body_parameter(swagger: OpenAPIValidator) -> None:
    url = "https://chat.example.com/api/things/T1"
    thing = {"name": "a", "size": None, "parent": {"name": "b"}, "tags": ["x", 2]}
    swagger.validate_request(httpx.Request("PUT", url, json=thing))
    assert "body/tags/1: True is not of type" in violation(
        swagger, httpx.Request("PUT", url, json={"name": "a", "tags": ["x", True]})
    )
    message = violation(
        swagger, httpx.Request("PUT", "https://chat.example.com/api/things/X1", json={"parent": {"name": 3}})
    )
    assert "path parameter 'id': 'X1' does not match '^T[0-9]+$'" in message
    assert "body: 'name' is a required property" in message
    assert "body/parent/name: 3 is not of type 'string'" in message
    assert "body ('body') is required" in violation(swagger, httpx.Request("PUT", url))


# -- files -------------------------------------------------------------------------------------------


def test_from_file_formats_and_cache(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps(OAS3))
    (tmp_path / "b.json.gz").write_bytes(gzip.compress(json.dumps(SWAGGER2).encode()))
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(OAS3))
    a = OpenAPIValidator.from_file(tmp_path / "a.json")
    assert OpenAPIValidator.from_file(str(tmp_path / "a.json")) is a  # loaded once per process
    assert len(a) == 7 and a.version == "3.0.3"
    assert OpenAPIValidator.from_file(tmp_path / "b.json.gz").swagger2
    c = OpenAPIValidator.from_file(tmp_path / "c.yaml")
    assert c.validate_request(get("https://api.example.com/v1/items/3")).operation_id == "items/get"
    (tmp_path / "d.json").write_text(json.dumps({"discoveryVersion": "v1"}))
    with pytest.raises(ValueError, match="Google discovery"):
        OpenAPIValidator.from_file(tmp_path / "d.json")


def test_load_description_reads_a_gzipped_file_by_its_json_name(tmp_path: Path) -> None:
    (tmp_path / "packed.json.gz").write_bytes(gzip.compress(json.dumps(OAS3).encode()))
    (tmp_path / "plain.json").write_text(json.dumps(SWAGGER2))
    (tmp_path / "plain.json.gz").write_bytes(gzip.compress(json.dumps(OAS3).encode()))
    document = load_description(tmp_path / "packed.json")
    assert document == OAS3
    document["paths"].clear()  # each call parses anew: changing one copy changes no other
    assert load_description(str(tmp_path / "packed.json")) == OAS3
    assert load_description(tmp_path / "plain.json") == SWAGGER2  # the plain file wins when both exist
    validator = OpenAPIValidator.from_file(tmp_path / "packed.json")
    assert validator.source == "packed.json.gz" and len(validator) == 7
    with pytest.raises(FileNotFoundError, match=r"missing\.json \(nor missing\.json\.gz beside it\)"):
        load_description(tmp_path / "missing.json")
    with pytest.raises(FileNotFoundError, match=r"missing\.json\.gz beside it"):
        OpenAPIValidator.from_file(tmp_path / "missing.json")


SPECS = Path(__file__).resolve().parents[2] / "specs"
"""The repository's API descriptions (see specs/README.md)."""


def test_github_connector_subset() -> None:
    # Stored as .json.gz: the .json name must find it.
    github = OpenAPIValidator.from_file(SPECS / "github" / "api.github.com.connector-subset.json")
    op = github.validate_request(get("https://api.github.com/repos/o/r/issues?state=open&per_page=30"))
    assert op.operation_id == "issues/list-for-repo" and op.path_params == {"owner": "o", "repo": "r"}
    message = violation(github, get("https://api.github.com/repos/o/r/issues?state=bogus"))
    assert "query parameter 'state': 'bogus' is not one of ['open', 'closed', 'all']" in message
    assert "unknown query parameter 'limit'" in violation(
        github, get("https://api.github.com/repos/o/r/issues?limit=5")
    )
    create_issue = httpx.Request(
        "POST", "https://api.github.com/repos/o/r/issues", json={"title": "t", "labels": ["bug"]}
    )
    assert github.validate_request(create_issue).operation_id == "issues/create"
    assert "body: 'title' is a required property" in violation(
        github, httpx.Request("POST", "https://api.github.com/repos/o/r/issues", json={"body": "no title"})
    )
    contents = github.validate_request(get("https://api.github.com/repos/o/r/contents/docs/index.md?ref=main"))
    assert contents.operation_id == "repos/get-content" and contents.path_params["path"] == "docs/index.md"


def test_only_named_parameters_may_span_segments() -> None:
    doc = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/repos/{owner}/{repo}": {"get": {"operationId": "repo", "responses": {"200": {"description": "ok"}}}},
            "/repos/{owner}/{repo}/contents/{path}": {
                "get": {"operationId": "contents", "responses": {"200": {"description": "ok"}}}
            },
        },
    }
    validator = OpenAPIValidator(doc)
    assert validator.find_operation("GET", "/repos/o/r/anything") is None
    found = validator.find_operation("GET", "/repos/o/r/contents/a/b/c.txt")
    assert found is not None and found.path_params["path"] == "a/b/c.txt"
    branches = OpenAPIValidator(doc, multi_segment_params=("repo",))
    assert branches.find_operation("GET", "/repos/o/r/anything") is not None
