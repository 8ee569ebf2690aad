"""Every tool's requests against GitHub's official API description.

Each tool is called with representative arguments (`github_cases.CASES`); every request
it sends (method, path, query string, JSON body) must match an operation of
`specs/github/api.github.com.json.gz`, and the tool must turn the recorded
response of that operation (GitHub's own example) into a successful result.
"""

from __future__ import annotations

import importlib.util
import json

import httpx
import pytest
from github_cases import CASES
from github_support import FIXTURES, SPEC_FILE, FakeGitHub

from sagemcp.testing import ContractViolation, OpenAPIValidator, call_tool
from sagemcp_github import GitHubConnector
from sagemcp_github.tools import issues as issues_tools

_spec = importlib.util.spec_from_file_location("github_fixture_builder", FIXTURES / "_build.py")
assert _spec is not None and _spec.loader is not None
_builder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_builder)
build_fixtures = _builder.build

CASE_IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CASES)]


def test_every_tool_has_a_contract_case() -> None:
    covered = {name for name, _ in CASES}
    assert covered == set(GitHubConnector.tools), (
        f"tools without a case in github_cases.py: {sorted(set(GitHubConnector.tools) - covered)}; "
        f"cases for unknown tools: {sorted(covered - set(GitHubConnector.tools))}"
    )


@pytest.mark.parametrize(("tool_name", "arguments"), CASES, ids=CASE_IDS)
async def test_tool_requests_match_the_description(
    tool_name: str, arguments: dict[str, object], github_description: OpenAPIValidator
) -> None:
    fake = FakeGitHub(github_description)
    result = await call_tool(GitHubConnector, tool_name, arguments, handler=fake)
    assert not result.is_error, result.text
    assert result.requests, f"{tool_name} sent no request"
    assert len(fake.operations) == len([r for r in result.requests if not fake.is_storage(r)])
    assert result.structured is not None


async def test_compare_uses_the_official_basehead_operation(github_description: OpenAPIValidator) -> None:
    fake = FakeGitHub(github_description)
    args = {"owner": "octocat", "repo": "Hello-World", "base": "main", "head": "feature/login"}
    result = await call_tool(GitHubConnector, "github_compare_commits", args, handler=fake)
    assert not result.is_error, result.text
    (operation,) = fake.operations
    assert operation.path == "/repos/{owner}/{repo}/compare/{basehead}"
    assert operation.path_params["basehead"] == "main...feature/login"
    assert result.request.url.raw_path == b"/repos/octocat/Hello-World/compare/main...feature%2Flogin"


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "https://api.github.com/repos/o/r/not-an-endpoint"),
        ("DELETE", "https://api.github.com/repos/octocat/Hello-World/issues/1"),
        ("GET", "https://api.github.com/no/such/thing"),
    ],
)
def test_an_undescribed_endpoint_fails_the_contract(
    github_description: OpenAPIValidator, method: str, url: str
) -> None:
    fake = FakeGitHub(github_description)
    with pytest.raises(ContractViolation, match="no operation"):
        fake(httpx.Request(method, url))


def test_an_undescribed_query_parameter_fails_the_contract(github_description: OpenAPIValidator) -> None:
    request = httpx.Request("GET", "https://api.github.com/repos/o/r/issues", params={"colour": "red"})
    with pytest.raises(ContractViolation, match="colour"):
        github_description.validate_request(request)


def test_a_wrong_body_fails_the_contract(github_description: OpenAPIValidator) -> None:
    request = httpx.Request("POST", "https://api.github.com/repos/o/r/issues", json={"body": "no title"})
    with pytest.raises(ContractViolation, match="title"):
        github_description.validate_request(request)


async def test_a_tool_calling_an_undescribed_endpoint_fails(
    github_description: OpenAPIValidator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The harness itself: a tool sending a request the description lacks fails the test; it is not answered."""
    monkeypatch.setattr(issues_tools, "repo_path", lambda *parts: "/repos/octocat/Hello-World/issues/1/undescribed")
    with pytest.raises(ContractViolation, match="undescribed"):
        await call_tool(
            GitHubConnector,
            "github_get_issue",
            {"owner": "octocat", "repo": "Hello-World", "issue_number": 1},
            handler=FakeGitHub(github_description),
        )


async def test_enterprise_server_paths_match_under_the_api_prefix(github_description: OpenAPIValidator) -> None:
    fake = FakeGitHub(github_description, base_path_prefix="/api/v3")
    result = await call_tool(
        GitHubConnector,
        "github_get_issue",
        {"owner": "octocat", "repo": "Hello-World", "issue_number": 1347},
        handler=fake,
        config={"api_url": "https://github.example.com/api/v3/"},
    )
    assert not result.is_error, result.text
    assert str(result.request.url) == "https://github.example.com/api/v3/repos/octocat/Hello-World/issues/1347"
    assert fake.operation_ids == ["issues/get"]


def test_recorded_fixtures_are_current_and_labelled() -> None:
    """The fixtures are exactly what `tests/fixtures/_build.py` makes from the description, and say so."""
    expected = build_fixtures(SPEC_FILE)
    on_disk = {path.name: path.read_text(encoding="utf-8") for path in FIXTURES.glob("*.json")}
    assert sorted(on_disk) == sorted(expected), "run: python tests/fixtures/_build.py"
    for name, text in expected.items():
        assert on_disk[name] == text, f"{name} is out of date: run python tests/fixtures/_build.py"
        fixture = json.loads(text)
        assert fixture["source"] in {"example", "example, adjusted", "derived"}
        assert fixture["from"].startswith("specs/github/api.github.com.json.gz")
        assert fixture["source"] == "example" or fixture.get("notes")
