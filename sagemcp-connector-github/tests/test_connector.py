"""The connector class: contract checks, registration, tool groups and hints, configuration, headers, auth."""

from __future__ import annotations

from collections import Counter
from importlib.metadata import entry_points

import httpx
import pytest
from github_support import fixture_response
from pydantic import ValidationError

from sagemcp import BearerToken, Credential, OAuth2
from sagemcp.platform import ConnectorRegistry, ToolPolicy
from sagemcp.testing import assert_connector_valid, call_tool, check_connector
from sagemcp_github import GitHubAppAuth, GitHubConfig, GitHubConnector
from sagemcp_github.connector import API_VERSION, DEFAULT_GROUPS

REPO = {"owner": "octocat", "repo": "Hello-World"}


def test_passes_the_sagemcp_contract_checks() -> None:
    assert check_connector(GitHubConnector) == []
    assert_connector_valid(GitHubConnector)


def test_is_registered_under_the_github_entry_point() -> None:
    (entry,) = [e for e in entry_points(group="sagemcp.connectors") if e.name == "github"]
    assert entry.value == "sagemcp_github.connector:GitHubConnector"
    registry = ConnectorRegistry.from_entry_points(["github"])
    assert registry.failures == []
    assert registry.get("github") is GitHubConnector


def test_tool_count_and_groups() -> None:
    groups = Counter(spec.group for spec in GitHubConnector.tools.values())
    assert len(GitHubConnector.tools) >= 45
    assert set(groups) == {
        "context",
        "repos",
        "issues",
        "pull_requests",
        "actions",
        "security",
        "notifications",
        "users",
    }
    assert all(name.startswith("github_") for name in GitHubConnector.tools)


# The baseline capabilities, by today's names (the original names in comments where they differ).
BASELINE = [
    "list_repositories",
    "get_repository",
    "list_issues",
    "get_issue",
    "create_issue",
    "update_issue",
    "get_file_content",
    "list_pull_requests",
    "search_repositories",
    "get_token_scopes",  # check_token_scopes
    "list_organizations",
    "get_user",  # get_user_info
    "find_users_by_email",  # search_users_by_email
    "list_commits",
    "get_commit",
    "compare_commits",
    "list_branches",
    "get_branch",
    "list_user_events",  # get_user_activity
    "get_user_stats",
    "list_contributors",
    "get_repository_stats",  # get_repo_stats
    "list_workflows",
    "list_workflow_runs",
    "get_workflow_run",
    "list_releases",
    "get_release",
]


@pytest.mark.parametrize("action", BASELINE)
def test_covers_the_baseline(action: str) -> None:
    assert f"github_{action}" in GitHubConnector.tools


def test_default_groups_leave_out_the_groups_needing_extra_scopes() -> None:
    assert GitHubConnector.info.default_groups == DEFAULT_GROUPS
    enabled = {spec.group for spec in GitHubConnector.enabled_tools(ToolPolicy())}
    assert enabled == set(DEFAULT_GROUPS)
    assert "security" not in enabled and "notifications" not in enabled


# Write tools and their hints: (destructive, idempotent). A change here must be a deliberate decision.
WRITE_HINTS = {
    "github_create_file": (False, False),
    "github_update_file": (True, False),
    "github_delete_file": (True, False),
    "github_create_branch": (False, False),
    "github_create_release": (False, False),
    "github_create_fork": (False, True),
    "github_create_repository": (False, False),
    "github_create_issue": (False, False),
    "github_update_issue": (True, True),
    "github_add_issue_comment": (False, False),
    "github_add_issue_labels": (False, True),
    "github_remove_issue_label": (True, True),
    "github_create_pull_request": (False, False),
    "github_update_pull_request": (True, True),
    "github_merge_pull_request": (False, False),
    "github_create_pull_request_review": (False, False),
    "github_add_pull_request_reviewers": (False, True),
    "github_rerun_workflow_run": (False, False),
    "github_run_workflow": (False, False),
    "github_cancel_workflow_run": (True, True),
    "github_mark_notification_read": (False, True),
    "github_mark_notifications_read": (False, True),
}


def test_annotations_are_truthful() -> None:
    writes = {name for name, spec in GitHubConnector.tools.items() if not spec.read_only}
    assert writes == set(WRITE_HINTS)
    for name, (destructive, idempotent) in WRITE_HINTS.items():
        hints = GitHubConnector.tools[name].annotations
        assert (hints.destructive, hints.idempotent) == (destructive, idempotent), name
    for name, spec in GitHubConnector.tools.items():
        if spec.read_only:
            assert not spec.annotations.destructive and spec.annotations.idempotent, name
            assert name.split("_", 2)[1] in READ_VERBS, name
        else:
            assert name.split("_", 2)[1] in WRITE_VERBS, name


READ_VERBS = {"get", "list", "search", "find", "compare"}
WRITE_VERBS = {"create", "update", "delete", "add", "remove", "merge", "run", "rerun", "cancel", "mark"}


def test_names_are_connector_verb_object() -> None:
    for name in GitHubConnector.tools:
        connector, verb, obj = name.split("_", 2)
        assert connector == "github" and verb in READ_VERBS | WRITE_VERBS and obj, name
        assert not obj.startswith(("repo_", "all_")), name  # `repository`, and plural objects instead of `all_`


def test_read_only_policy_hides_every_write_tool() -> None:
    enabled = GitHubConnector.enabled_tools(ToolPolicy(groups=GitHubConnector.groups(), read_only=True))
    assert enabled and all(spec.read_only for spec in enabled)


def test_every_tool_names_its_scopes_and_list_tools_page() -> None:
    for name, spec in GitHubConnector.tools.items():
        assert spec.scopes or spec.group == "context", name
        props = spec.input_schema["properties"]
        for param, schema in props.items():
            if param not in ("limit", "cursor"):
                assert schema.get("description") or "$ref" in schema or "anyOf" in schema, (name, param)
        if "_list_" in name or "_search_" in name:
            assert "cursor" in props and "limit" in props, name
            assert "next_cursor" in spec.output_schema["properties"], name


# -- auth --------------------------------------------------------------------------------


def test_auth_schemes() -> None:
    kinds = [scheme.kind for scheme in GitHubConnector.auth]
    assert kinds == ["oauth2", "bearer", "github_app"]
    assert isinstance(GitHubConnector.auth[1], BearerToken)
    assert isinstance(GitHubConnector.auth[2], GitHubAppAuth)


def test_oauth_scopes_follow_the_enabled_tools() -> None:
    oauth = GitHubConnector.oauth2()
    assert isinstance(oauth, OAuth2)
    assert oauth.authorize_url == "https://github.com/login/oauth/authorize"
    assert oauth.token_url == "https://github.com/login/oauth/access_token"
    assert GitHubConnector.oauth_scopes(ToolPolicy()) == ["read:org", "read:user", "repo"]
    assert GitHubConnector.oauth_scopes(ToolPolicy(groups=list(DEFAULT_GROUPS))) == ["read:org", "read:user", "repo"]
    assert GitHubConnector.oauth_scopes(ToolPolicy(groups=["issues"])) == ["repo"]
    assert GitHubConnector.oauth_scopes(ToolPolicy(groups=["security", "notifications"])) == [
        "notifications",
        "security_events",
    ]
    assert GitHubConnector.oauth_scopes(None) == ["notifications", "read:org", "read:user", "repo", "security_events"]
    assert GitHubConnector.linked_oauth_scopes(None) == {}


# -- configuration -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://api.github.com", "https://api.github.com"),
        ("https://api.github.com/", "https://api.github.com"),
        ("https://github.example.com/api/v3/", "https://github.example.com/api/v3"),
        ("https://api.octocorp.ghe.com", "https://api.octocorp.ghe.com"),
        ("https://GitHub.Example.com:8443/api/v3", "https://github.example.com:8443/api/v3"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:9000/api/v3", "http://localhost:9000/api/v3"),
        ("http://[::1]:9000", "http://[::1]:9000"),
        ("https://8.8.8.8/api/v3", "https://8.8.8.8/api/v3"),
    ],
)
def test_config_accepts_https_and_loopback(given: str, expected: str) -> None:
    assert GitHubConfig(api_url=given).api_url == expected
    assert GitHubConnector.api_base_url(GitHubConnector.parse_config({"api_url": given}), None) == expected


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("http://api.github.com", "https"),
        ("ftp://api.github.com", "https URL"),
        ("api.github.com", "https URL"),
        ("https://user:ghp_secret@api.github.com", "user name or password"),
        ("https://api.github.com/?token=x", "query"),
        ("https://api.github.com/#x", "fragment"),
        ("https://10.0.0.5/api/v3", "non-public"),
        ("https://192.168.1.10/api/v3", "non-public"),
        ("https://169.254.169.254/latest", "non-public"),
        ("https://[fe80::1]/api/v3", "non-public"),
        ("https://0.0.0.0", "non-public"),
        ("http://10.0.0.5", "https"),
        ("https://github.example.com/api/../v3", "'..'"),
        ("https://", "https URL"),
    ],
)
def test_config_refuses_unsafe_urls(given: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        GitHubConnector.parse_config({"api_url": given})


def test_config_defaults_to_github_com_and_refuses_unknown_keys() -> None:
    assert GitHubConnector.api_base_url(GitHubConnector.parse_config({}), None) == "https://api.github.com"
    with pytest.raises(ValidationError):
        GitHubConnector.parse_config({"api_url": "https://api.github.com", "token": "ghp_x"})


# -- headers -----------------------------------------------------------------------------


async def test_requests_carry_the_api_version_accept_and_token() -> None:
    credential = Credential(tenant_id="test", provider="github", kind="bearer", access_token="ghp_test_token")
    result = await call_tool(
        GitHubConnector,
        "github_get_issue",
        {**REPO, "issue_number": 1347},
        handler=lambda request: fixture_response("issues/get"),
        credential=credential,
    )
    assert not result.is_error, result.text
    request = result.request
    assert request.headers["X-GitHub-Api-Version"] == API_VERSION == "2022-11-28"
    assert request.headers["Accept"] == "application/vnd.github+json"
    assert request.headers["Authorization"] == "Bearer ghp_test_token"
    assert request.url.host == "api.github.com"


async def test_github_app_credentials_send_the_installation_token() -> None:
    credential = Credential(
        tenant_id="test",
        provider="github",
        kind="github_app",
        access_token="ghs_installation_token",
        secrets={"private_key": "-----BEGIN RSA PRIVATE KEY-----\n..."},
        extra={"app_id": "1", "installation_id": 2},
    )
    result = await call_tool(
        GitHubConnector,
        "github_get_repository",
        REPO,
        handler=lambda request: fixture_response("repos/get"),
        credential=credential,
    )
    assert not result.is_error, result.text
    assert result.request.headers["Authorization"] == "Bearer ghs_installation_token"


async def test_enterprise_server_requests_go_to_the_configured_host() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return fixture_response("repos/get")

    result = await call_tool(
        GitHubConnector,
        "github_get_repository",
        REPO,
        handler=handler,
        config={"api_url": "https://github.example.com/api/v3"},
    )
    assert str(result.request.url) == "https://github.example.com/api/v3/repos/octocat/Hello-World"
