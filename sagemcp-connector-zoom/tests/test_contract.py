"""The connector passes core's contract checks, and every tool's requests match the API description.

Each tool is called with the arguments of `zoom_cases.CASES`; every request it sends (method, path,
query string, JSON body) must match an operation of the description, and the tool must turn that
operation's example answer into a successful result.
"""

from __future__ import annotations

import httpx
import pytest
from zoom_cases import CASES
from zoom_support import FakeZoom

from sagemcp import ConnectorRegistry
from sagemcp.testing import ContractViolation, OpenAPIValidator, assert_connector_valid, call_tool
from sagemcp_zoom import ZoomConnector
from sagemcp_zoom.connector import DEFAULT_API_URL

CASE_IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CASES)]


def test_the_connector_passes_the_contract_checks() -> None:
    assert_connector_valid(ZoomConnector)


def test_the_entry_point_loads_the_connector_class() -> None:
    registry = ConnectorRegistry.from_entry_points(["zoom"])
    assert registry.failures == []
    assert registry.get("zoom") is ZoomConnector


def test_every_tool_has_a_contract_case() -> None:
    covered = {name for name, _ in CASES}
    assert covered == set(ZoomConnector.tools), (
        f"tools without a case in zoom_cases.py: {sorted(set(ZoomConnector.tools) - covered)}; "
        f"cases for unknown tools: {sorted(covered - set(ZoomConnector.tools))}"
    )


@pytest.mark.parametrize(("tool_name", "arguments"), CASES, ids=CASE_IDS)
async def test_tool_requests_match_the_description(
    tool_name: str, arguments: dict[str, object], zoom_description: OpenAPIValidator
) -> None:
    fake = FakeZoom(zoom_description)
    result = await call_tool(ZoomConnector, tool_name, arguments, handler=fake)
    assert not result.is_error, result.text
    assert result.requests, f"{tool_name} sent no request"
    assert len(fake.operations) == len(result.requests)
    assert result.structured is not None


def test_an_undescribed_request_fails_the_contract(zoom_description: OpenAPIValidator) -> None:
    """The harness itself: a request the description lacks is a failure, not an answer."""
    with pytest.raises(ContractViolation):
        zoom_description.validate_request(httpx.Request("GET", f"{DEFAULT_API_URL}/no/such/endpoint"))
