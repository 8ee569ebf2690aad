"""The connector passes core's contract checks, and every tool's requests match Notion's API description.

Each tool is called with the arguments of `notion_cases.CASES`; every request it sends (method, path,
query string, JSON body, and the Notion-Version header) must match an operation of the description
(with the hand-written schemas of `tests/schemas/` where it lacks one), and the tool must turn the
fixture answers into a successful result.
"""

from __future__ import annotations

import json

import httpx
import pytest
from notion_cases import CASES
from notion_support import DESCRIPTION, SCHEMAS, FakeNotion, description_document

from sagemcp.platform import ConnectorRegistry
from sagemcp.testing import ContractViolation, OpenAPIValidator, assert_connector_valid, call_tool
from sagemcp_notion import NotionConnector
from sagemcp_notion.connector import DEFAULT_API_URL

CASE_IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CASES)]


def test_the_connector_passes_the_contract_checks() -> None:
    assert_connector_valid(NotionConnector)


def test_the_entry_point_loads_the_connector_class() -> None:
    registry = ConnectorRegistry.from_entry_points(["notion"])
    assert registry.failures == []
    assert registry.get("notion") is NotionConnector


def test_every_tool_has_a_contract_case() -> None:
    covered = {name for name, _ in CASES}
    assert covered == set(NotionConnector.tools), (
        f"tools without a case in notion_cases.py: {sorted(set(NotionConnector.tools) - covered)}; "
        f"cases for unknown tools: {sorted(covered - set(NotionConnector.tools))}"
    )


@pytest.mark.parametrize(("tool_name", "arguments"), CASES, ids=CASE_IDS)
async def test_tool_requests_match_the_description(
    tool_name: str, arguments: dict[str, object], notion_description: OpenAPIValidator
) -> None:
    fake = FakeNotion(notion_description)
    result = await call_tool(NotionConnector, tool_name, arguments, handler=fake)
    assert not result.is_error, result.text
    assert result.requests, f"{tool_name} sent no request"
    assert len(fake.operations) == len(result.requests)
    assert result.structured is not None
    assert result.text


def test_an_undescribed_request_fails_the_contract(notion_description: OpenAPIValidator) -> None:
    """The harness itself: a request the description lacks is a failure, not an answer."""
    with pytest.raises(ContractViolation):
        notion_description.validate_request(httpx.Request("GET", f"{DEFAULT_API_URL}/v1/no/such/endpoint"))


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("POST", "/v1/search", {"query": "x", "unknown_field": 1}),
        ("PATCH", "/v1/blocks/393abc1e-edcd-8182-aa10-e3ab78a2475f/children", {"children": [{"heading_9": {}}]}),
        ("PATCH", "/v1/blocks/393abc1e-edcd-8182-aa10-e3ab78a2475f/children", {"children": [], "position": "end"}),
        ("POST", "/v1/pages", {"parent": {"page_id": "x"}, "properties": {}}),
        ("POST", "/v1/comments", {"rich_text": [{"text": {"content": "hi", "colour": "red"}}]}),
        (
            "POST",
            "/v1/databases",
            {"parent": {"type": "page_id", "page_id": "393abc1eedcd8182aa10e3ab78a2475f"}, "x": 1},
        ),
    ],
)
def test_an_unknown_body_field_fails_the_contract(
    method: str, path: str, payload: dict[str, object], notion_description: OpenAPIValidator
) -> None:
    request = httpx.Request(method, f"{DEFAULT_API_URL}{path}", json=payload)
    with pytest.raises(ContractViolation):
        notion_description.validate_request(request)


def test_an_unknown_query_parameter_fails_the_contract(notion_description: OpenAPIValidator) -> None:
    request = httpx.Request("GET", f"{DEFAULT_API_URL}/v1/users", params={"page_size": 5, "sort": "name"})
    with pytest.raises(ContractViolation):
        notion_description.validate_request(request)


def test_every_hand_written_schema_is_labelled_and_used() -> None:
    document = json.dumps(description_document())
    for path in SCHEMAS.glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["x-source"].startswith("Hand-written from Notion's API reference (https://developers.notion.com/")
        assert data["x-why"], path.name
        assert json.dumps(data["schema"]) in document, f"{path.name} is not used by load_description()"
    assert DESCRIPTION.exists()
