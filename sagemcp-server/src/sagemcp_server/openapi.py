"""The OpenAPI 3.1 document of the HTTP API, generated from the same `Operation`s that build the routes.

Schemas come from the pydantic models (`models_json_schema`, JSON Schema 2020-12, which
OpenAPI 3.1 uses as is); request and response variants of a model get separate names
when they differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from .api.routing import Operation
from .api.schemas import ErrorResponse

__all__ = ["build_openapi"]

_REF = "#/components/schemas/{model}"
_ERRORS = {
    "400": "Malformed request (not JSON).",
    "401": "No valid API key.",
    "403": "The key may not do this.",
    "404": "Not found, or not accessible with this key.",
    "409": "Conflicts with the current state (duplicate name, missing OAuth app).",
    "413": "The request body is too large.",
    "422": "Invalid values; `details` names the fields.",
    "503": "The database is unavailable; retry later.",
}


def build_openapi(operations: Sequence[Operation], *, version: str, server_url: str | None = None) -> dict[str, Any]:
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ErrorResponse, "serialization")]
    for op in operations:
        if op.body is not None:
            wanted.append((op.body, "validation"))
        if op.response is not None:
            wanted.append((op.response, "serialization"))
    keys, defs = models_json_schema(list(dict.fromkeys(wanted)), ref_template=_REF)
    schemas = defs.get("$defs", {})

    def ref(model: type[BaseModel], mode: Literal["validation", "serialization"]) -> dict[str, Any]:
        return keys[(model, mode)]

    error = {"description": "Error", "content": {"application/json": {"schema": ref(ErrorResponse, "serialization")}}}
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        item: dict[str, Any] = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "tags": [op.tag],
        }
        if op.description:
            item["description"] = op.description
        parameters: list[dict[str, Any]] = [
            {"name": name, "in": "path", "required": True, "description": p.description, "schema": p.schema()}
            for name, p in op.params.items()
        ]
        if op.query is not None:
            props = op.query.model_json_schema(ref_template=_REF).get("properties", {})
            for name, schema in props.items():
                field = op.query.model_fields[name]
                param = {"name": name, "in": "query", "required": False, "schema": _query_schema(schema)}
                if field.description:
                    param["description"] = field.description
                parameters.append(param)
        if parameters:
            item["parameters"] = parameters
        if op.body is not None:
            item["requestBody"] = {
                "required": op.body_required,
                "content": {"application/json": {"schema": ref(op.body, "validation")}},
            }
        responses: dict[str, Any] = {}
        if op.response is not None:
            responses[str(op.status)] = {
                "description": "Success",
                "content": {"application/json": {"schema": ref(op.response, "serialization")}},
            }
        else:
            responses[str(op.status)] = {"description": "Done"}
        for status, text in _ERRORS.items():
            if status == "403" and op.access == "public":
                continue
            responses[status] = {**error, "description": text}
        item["responses"] = responses
        if op.access != "public":
            item["security"] = [{"apiKey": []}, {"sessionCookie": []}]
        elif op.tag == "me":
            item["security"] = [{"sessionCookie": []}]
        paths.setdefault(op.full_path, {})[op.method.lower()] = item
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "sagemcp admin API",
            "version": version,
            "description": (
                "Manage tenants, connectors, OAuth apps, credentials and API keys of a sagemcp server. "
                "Authenticate with `Authorization: Bearer <API key>`: the platform admin key, or a tenant key "
                "with scope `admin` (its own tenant only); or a signed-in browser's session cookie, with the "
                "rights of the person's roles. Errors share one body with a machine-readable `code`."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer", "description": "A sagemcp API key."},
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "sagemcp_session",
                    "description": "A signed-in browser's session (see /signin); requests other than GET and HEAD "
                    "also send its CSRF token in X-CSRF-Token (from GET /api/v1/me). Tenant owners and admins "
                    "manage their tenants, platform admins everything, members nothing.",
                },
            },
        },
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc


def _query_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema without `default: null` and titles (noise for clients)."""
    schema = {k: v for k, v in schema.items() if k != "title"}
    if schema.get("default", 0) is None:
        schema.pop("default")
    if "anyOf" in schema:
        options = [o for o in schema["anyOf"] if o.get("type") != "null"]
        if len(options) == 1:
            rest = {k: v for k, v in schema.items() if k != "anyOf"}
            return {**rest, **options[0]}
    return schema
