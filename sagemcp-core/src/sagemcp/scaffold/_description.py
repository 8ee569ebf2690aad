"""The example API description generated into a new connector's tests when the repository has none for it."""

from __future__ import annotations

from typing import Any

from ._plan import ConnectorPlan

__all__ = ["example_description"]


def example_description(made: ConnectorPlan) -> dict[str, Any]:
    """A small OpenAPI 3.1 description of the example tools' two operations, with examples to answer from."""
    item = {
        "id": "itm_1",
        "name": "Widget",
        "state": "active",
        "updated_at": "2026-01-02T03:04:05Z",
        "html_url": "https://www.example.com/items/itm_1",
    }
    item_schema = {
        "type": "object",
        "required": ["id", "name"],
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "state": {"type": "string", "enum": ["active", "archived"]},
            "updated_at": {"type": "string", "format": "date-time"},
            "html_url": {"type": "string", "format": "uri"},
        },
    }
    page_schema = {
        "type": "object",
        "required": ["items"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
            "next_page_token": {"type": "string"},
        },
    }

    def answer(what: str, schema: str, example: Any) -> dict[str, Any]:
        media = {"schema": {"$ref": f"#/components/schemas/{schema}"}, "example": example}
        return {"description": what, "content": {"application/json": media}}

    not_found = {"description": "No such item.", "content": {"application/json": {"example": {"message": "Not Found"}}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{made.title} API (example)",
            "version": "0",
            "description": "An example made by `python -m sagemcp.scaffold` for the example tools; replace it "
            "with the vendor's description.",
        },
        "servers": [{"url": made.base_url}],
        "paths": {
            "/items": {
                "get": {
                    "operationId": "listItems",
                    "summary": "List items, a page at a time",
                    "parameters": [
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                        },
                        {"name": "page_token", "in": "query", "schema": {"type": "string", "minLength": 1}},
                    ],
                    "responses": {
                        "200": answer(
                            "A page of items.",
                            "ItemPage",
                            {"items": [item, {**item, "id": "itm_2", "name": "Gadget"}], "next_page_token": "p2"},
                        )
                    },
                }
            },
            "/items/{item_id}": {
                "get": {
                    "operationId": "getItem",
                    "summary": "Get one item",
                    "parameters": [
                        {
                            "name": "item_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"},
                        }
                    ],
                    "responses": {"200": answer("The item.", "Item", item), "404": not_found},
                }
            },
        },
        "components": {"schemas": {"Item": item_schema, "ItemPage": page_schema}},
    }
