"""The connector passes core's contract checks, and every tool's requests match Atlassian's descriptions.

Each tool is called with the arguments of `jira_cases.CASES` on three deployments: Jira Cloud with an
API token (the site), Jira Cloud with OAuth (the gateway, `/ex/jira/{cloudId}`), and Jira Data Center
with a personal access token (REST API v2, checked against the hand-written description). Every request
must go to the deployment's origin with its credential, and match an operation of its API's description
(method, path, query string, JSON body); the tool must turn the fixture answer into a successful result.
"""

from __future__ import annotations

import importlib.util
import json

import httpx
import pytest
from jira_cases import CASES
from jira_support import (
    AGILE_CORRECTIONS,
    AGILE_FILE,
    CLOUD,
    DEPLOYMENTS,
    FIXTURES,
    SITE,
    Deployment,
    Descriptions,
    FakeJira,
)

from sagemcp.platform import ConnectorRegistry
from sagemcp.testing import ContractViolation, assert_connector_valid, call_tool, load_description
from sagemcp_jira import JiraConnector

_spec = importlib.util.spec_from_file_location("jira_fixture_builder", FIXTURES / "_build.py")
assert _spec is not None and _spec.loader is not None
_builder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_builder)

CASE_IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CASES)]


def test_the_connector_passes_the_contract_checks() -> None:
    assert_connector_valid(JiraConnector)


def test_the_entry_point_loads_the_connector_class() -> None:
    registry = ConnectorRegistry.from_entry_points(["jira"])
    assert registry.failures == []
    assert registry.get("jira") is JiraConnector


def test_every_tool_has_a_contract_case() -> None:
    covered = {name for name, _ in CASES}
    assert covered == set(JiraConnector.tools), (
        f"tools without a case in jira_cases.py: {sorted(set(JiraConnector.tools) - covered)}; "
        f"cases for unknown tools: {sorted(covered - set(JiraConnector.tools))}"
    )


def test_there_are_at_least_forty_tools_and_a_small_default_set() -> None:
    from sagemcp.platform import ToolPolicy

    assert len(JiraConnector.tools) >= 40
    assert len(JiraConnector.enabled_tools(ToolPolicy())) <= 27
    assert "jira_delete_issue" not in {s.name for s in JiraConnector.enabled_tools(ToolPolicy())}


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=[d.name for d in DEPLOYMENTS])
@pytest.mark.parametrize(("tool_name", "arguments"), CASES, ids=CASE_IDS)
async def test_tool_requests_match_the_description(
    tool_name: str, arguments: dict[str, object], deployment: Deployment, jira_descriptions: Descriptions
) -> None:
    fake = FakeJira(jira_descriptions, deployment)
    result = await call_tool(
        JiraConnector, tool_name, arguments, handler=fake, config=deployment.config, credential=deployment.credential
    )
    assert not result.is_error, result.text
    assert result.requests, f"{tool_name} sent no request"
    assert len(fake.operations) == len(result.requests)
    assert result.structured is not None
    assert result.text


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", f"{SITE}/rest/api/3/issue/EX-1/no-such-thing"),
        ("GET", f"{SITE}/rest/api/3/search"),  # deprecated ("being removed"), and never called
        ("PATCH", f"{SITE}/rest/api/3/issue/EX-1"),
        ("GET", f"{SITE}/rest/agile/1.0/board/1/nothing"),
    ],
)
def test_an_undescribed_or_deprecated_endpoint_fails_the_contract(
    jira_descriptions: Descriptions, method: str, url: str
) -> None:
    fake = FakeJira(jira_descriptions, CLOUD)
    request = httpx.Request(method, url, headers={"Authorization": CLOUD.auth_header, "Accept": "application/json"})
    if url.endswith("/rest/api/3/search"):
        operation = jira_descriptions.platform.validate_request(request)
        assert operation.deprecated  # described, but Atlassian is removing it: the connector uses /search/jql
        return
    with pytest.raises(ContractViolation):
        fake(request)


def test_an_unknown_query_parameter_or_body_field_fails_the_contract(jira_descriptions: Descriptions) -> None:
    headers = {"Authorization": CLOUD.auth_header, "Accept": "application/json"}
    with pytest.raises(ContractViolation, match="colour"):
        jira_descriptions.platform.validate_request(
            httpx.Request("GET", f"{SITE}/rest/api/3/issue/EX-1", params={"colour": "red"}, headers=headers)
        )
    with pytest.raises(ContractViolation, match="startAt"):
        jira_descriptions.platform.validate_request(
            httpx.Request("POST", f"{SITE}/rest/api/3/search/jql", json={"jql": "x", "startAt": 0}, headers=headers)
        )


def test_a_request_to_another_host_or_without_the_credential_fails(jira_descriptions: Descriptions) -> None:
    fake = FakeJira(jira_descriptions, CLOUD)
    with pytest.raises(ContractViolation, match="went to"):
        fake(
            httpx.Request(
                "GET", "https://other.atlassian.net/rest/api/3/myself", headers={"Accept": "application/json"}
            )
        )
    with pytest.raises(ContractViolation, match="Authorization"):
        fake(httpx.Request("GET", f"{SITE}/rest/api/3/myself", headers={"Accept": "application/json"}))


async def test_search_uses_the_enhanced_jql_endpoint_with_its_page_token(jira_descriptions: Descriptions) -> None:
    def page(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        token = body.get("nextPageToken")
        issues = [{"id": "1", "key": "EX-1" if token is None else "EX-2", "fields": {"summary": "s"}}]
        return httpx.Response(
            200, json={"issues": issues, **({"nextPageToken": "t2"} if token is None else {"isLast": True})}
        )

    fake = FakeJira(jira_descriptions, CLOUD, responses={"searchAndReconsileIssuesUsingJqlPost": page})
    first = await call_tool(
        JiraConnector,
        "jira_search_issues",
        {"jql": "project = EX"},
        handler=fake,
        config=CLOUD.config,
        credential=CLOUD.credential,
    )
    assert fake.operation_ids == ["searchAndReconsileIssuesUsingJqlPost"]
    assert first.structured is not None and first.structured["next_cursor"]
    second = await call_tool(
        JiraConnector,
        "jira_search_issues",
        {"jql": "project = EX", "cursor": first.structured["next_cursor"]},
        handler=fake,
        config=CLOUD.config,
        credential=CLOUD.credential,
    )
    assert json.loads(fake.requests[-1].content)["nextPageToken"] == "t2"
    assert second.structured is not None and "next_cursor" not in second.structured
    assert [i["key"] for i in second.structured["items"]] == ["EX-2"]


def test_fixtures_are_current_and_labelled() -> None:
    """The fixtures are exactly what `tests/fixtures/_build.py` makes from the descriptions, and say so."""
    expected = _builder.build()
    on_disk = {path.name: path.read_text(encoding="utf-8") for path in FIXTURES.glob("*.json")}
    assert sorted(on_disk) == sorted(expected), "run: python tests/fixtures/_build.py"
    for name, text in expected.items():
        assert on_disk[name] == text, f"{name} is out of date: run python tests/fixtures/_build.py"
        fixture = json.loads(text)
        assert fixture["source"] in {"example", "example, adjusted", "derived"}
        assert fixture["from"].startswith("specs/jira/")
        assert fixture["source"] == "example" or fixture.get("notes")


def test_the_data_center_description_is_labelled_hand_written(jira_descriptions: Descriptions) -> None:
    document = jira_descriptions.data_center.document
    assert "HAND-WRITTEN" in document["info"]["description"]
    for item in document["paths"].values():
        for operation in item.values():
            assert operation["externalDocs"]["url"].startswith("https://"), operation["operationId"]


def test_each_agile_correction_fixes_a_parameter_the_description_types_as_an_object() -> None:
    document = load_description(AGILE_FILE)
    found = {}
    for item in document["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters") or [] if isinstance(operation, dict) else []:
                key = (operation.get("operationId"), parameter.get("name"))
                if key in AGILE_CORRECTIONS:
                    found[key] = parameter["schema"]
    assert set(found) == set(AGILE_CORRECTIONS)
    for key, schema in found.items():
        kind = schema.get("items", schema).get("type")
        assert kind == "object", f"{key} is typed {schema} now: drop its correction"
