"""The connector passes core's contract checks, and every tool's requests match Google's discovery documents.

Each tool is called with the arguments of `google_cases.CASES`; every request it sends (method, host,
path, query string, headers, JSON or multipart body) must match a method of `specs/google/`, the
tool's declared scopes must include one the method accepts, and the tool must turn the fixture
answer into a successful result.
"""

from __future__ import annotations

import importlib.util
import json

import httpx
import pytest
from google_cases import CASES
from google_support import FIXTURES, FakeGoogle, load_fixture

from sagemcp.platform import ConnectorRegistry, ToolPolicy
from sagemcp.testing import ContractViolation, DiscoveryValidator, assert_connector_valid, call_tool
from sagemcp_google import GoogleConnector

_spec = importlib.util.spec_from_file_location("google_fixture_builder", FIXTURES / "_build.py")
assert _spec is not None and _spec.loader is not None
_builder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_builder)

CASE_IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CASES)]


def test_the_connector_passes_the_contract_checks() -> None:
    assert_connector_valid(GoogleConnector)


def test_the_entry_point_loads_the_connector_class() -> None:
    registry = ConnectorRegistry.from_entry_points(["google"])
    assert registry.failures == []
    assert registry.get("google") is GoogleConnector


def test_every_tool_has_a_contract_case() -> None:
    covered = {name for name, _ in CASES}
    assert covered == set(GoogleConnector.tools), (
        f"tools without a case: {sorted(set(GoogleConnector.tools) - covered)}; "
        f"cases for unknown tools: {sorted(covered - set(GoogleConnector.tools))}"
    )


def test_tool_count_and_default_groups() -> None:
    assert len(GoogleConnector.tools) >= 55
    defaults = GoogleConnector.enabled_tools(ToolPolicy())
    assert {s.group for s in defaults} == {"drive", "docs", "sheets"}
    assert len(defaults) <= 25, sorted(s.name for s in defaults)
    off = ("drive_trash", "sheets_delete", "calendar_delete", "gmail_send", "docs_structure", "sheets_layout")
    for spec in GoogleConnector.tools.values():
        if spec.group in off:
            assert spec not in defaults
    assert all(not s.annotations.destructive or s.group in ("drive", "docs", "sheets") for s in defaults)


@pytest.mark.parametrize(("tool_name", "arguments"), CASES, ids=CASE_IDS)
async def test_tool_requests_match_the_description(tool_name: str, arguments: dict[str, object]) -> None:
    fake = FakeGoogle()
    result = await call_tool(GoogleConnector, tool_name, arguments, handler=fake)
    assert not result.is_error, result.text
    assert result.requests, f"{tool_name} sent no request"
    assert len(fake.methods) == len(result.requests)
    assert result.structured is not None
    declared = set(GoogleConnector.tools[tool_name].scopes)
    for method in fake.methods:
        accepted = set(method.scopes)
        assert declared & accepted, f"{tool_name} declares {sorted(declared)}; {method.id} accepts {sorted(accepted)}"


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "https://www.googleapis.com/drive/v3/no/such/thing"),
        ("DELETE", "https://sheets.googleapis.com/v4/spreadsheets/abc"),
        ("GET", "https://docs.googleapis.com/v2/documents/abc"),
        ("GET", "https://evil.example.com/drive/v3/files"),
    ],
)
def test_an_undescribed_endpoint_fails_the_contract(
    google_description: DiscoveryValidator, method: str, url: str
) -> None:
    with pytest.raises(ContractViolation, match="no method"):
        google_description.validate_request(httpx.Request(method, url, headers={"Authorization": "Bearer t"}))


def test_an_unknown_query_parameter_fails(google_description: DiscoveryValidator) -> None:
    request = httpx.Request(
        "GET",
        "https://www.googleapis.com/drive/v3/files",
        params={"colour": "red"},
        headers={"Authorization": "Bearer t"},
    )
    with pytest.raises(ContractViolation, match="colour"):
        google_description.validate_request(request)


def test_a_wrongly_typed_or_repeated_parameter_fails(google_description: DiscoveryValidator) -> None:
    request = httpx.Request(
        "GET",
        "https://www.googleapis.com/drive/v3/files?pageSize=ten&q=a&q=b",
        headers={"Authorization": "Bearer t"},
    )
    with pytest.raises(ContractViolation) as failure:
        google_description.validate_request(request)
    assert "pageSize" in str(failure.value) and "'q' is not repeated" in str(failure.value)


def test_an_unknown_body_field_fails(google_description: DiscoveryValidator) -> None:
    request = httpx.Request(
        "POST",
        "https://docs.googleapis.com/v1/documents/abc:batchUpdate",
        json={"requests": [{"insertText": {"location": {"index": 1}, "text": "x", "colour": "red"}}]},
        headers={"Authorization": "Bearer t"},
    )
    with pytest.raises(ContractViolation, match="colour"):
        google_description.validate_request(request)


def test_a_missing_credential_or_required_parameter_fails(google_description: DiscoveryValidator) -> None:
    request = httpx.Request("GET", "https://www.googleapis.com/drive/v3/files/abc/export")
    with pytest.raises(ContractViolation) as failure:
        google_description.validate_request(request)
    assert "mimeType" in str(failure.value) and "Authorization" in str(failure.value)


def test_an_upload_must_be_multipart_related(google_description: DiscoveryValidator) -> None:
    request = httpx.Request(
        "POST",
        "https://www.googleapis.com/upload/drive/v3/files?uploadType=multipart",
        content=b"{}",
        headers={"Authorization": "Bearer t", "Content-Type": "application/json"},
    )
    with pytest.raises(ContractViolation, match="multipart/related"):
        google_description.validate_request(request)


def test_the_fixtures_are_current_and_valid(google_description: DiscoveryValidator) -> None:
    """The fixtures are what `_build.py` writes, labelled, and each validates against its response schema."""
    expected = _builder.build()
    on_disk = {path.name: path.read_text(encoding="utf-8") for path in FIXTURES.glob("*.json")}
    assert sorted(on_disk) == sorted(expected), "run: python tests/fixtures/_build.py"
    for name, text in expected.items():
        assert on_disk[name] == text, f"{name} is out of date: run python tests/fixtures/_build.py"
        fixture = json.loads(text)
        assert fixture["source"] == "derived" and fixture["notes"] and fixture["from"].startswith("specs/google/")
        if fixture["schema"] is None:
            continue
        api = fixture["method"].split(".", 1)[0]
        errors = list(google_description.schema_validator(api, fixture["schema"]).iter_errors(fixture["body"]))
        assert not errors, f"{name}: {errors[0].message} at {list(errors[0].absolute_path)}"


def test_every_fixture_belongs_to_a_described_method(google_description: DiscoveryValidator) -> None:
    ids = google_description.method_ids
    for path in FIXTURES.glob("*.json"):
        assert load_fixture(path.stem)["method"] in ids, path.name
