"""The OpenAPI document: OpenAPI 3.1, every operation of the API, every reference resolvable, valid schemas."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from conftest import Server

from sagemcp_server.app import OPERATIONS


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


async def test_document(server: Server) -> None:
    async with server.client() as anonymous:
        r = await anonymous.get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"] == "3.1.0"
    operations = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
    assert operations == {(op.method, op.full_path) for op in OPERATIONS}
    assert len({op.operation_id for op in OPERATIONS}) == len(OPERATIONS)
    schemas = doc["components"]["schemas"]
    for ref in _refs(doc):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
    for name, schema in schemas.items():
        jsonschema.Draft202012Validator.check_schema(schema)
    # write-only secrets are declared as such and never appear in a response schema
    assert schemas["OAuthAppPut"]["properties"]["client_secret"]["anyOf"][0]["writeOnly"] is True
    for op in OPERATIONS:
        if op.response is not None:
            text = json.dumps(doc["paths"][op.full_path][op.method.lower()]["responses"])
            assert "client_secret" not in text and '"token"' not in text


async def test_responses_validate_against_the_document(server: Server) -> None:
    doc = (await server.admin.get("/api/v1/openapi.json")).json()
    await server.tenant("acme")
    connector = await server.connector("acme", "fake")
    samples = {
        ("GET", "/api/v1/admin/tenants"): "/api/v1/admin/tenants",
        (
            "GET",
            "/api/v1/admin/tenants/{slug}/connectors/{connector_id}",
        ): f"/api/v1/admin/tenants/acme/connectors/{connector['id']}",
        ("GET", "/api/v1/admin/connector-types"): "/api/v1/admin/connector-types",
        ("GET", "/api/v1/admin/tenants/{slug}"): "/api/v1/admin/tenants/ghost",
    }
    for (method, template), path in samples.items():
        r = await server.admin.request(method, path)
        spec = doc["paths"][template][method.lower()]["responses"][str(r.status_code)]
        schema = {**spec["content"]["application/json"]["schema"], "components": doc["components"]}
        jsonschema.validate(r.json(), schema, cls=jsonschema.Draft202012Validator)
