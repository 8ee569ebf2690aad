"""Security alerts (read only): code scanning and Dependabot."""

from __future__ import annotations

from github_support import fixture_response

from sagemcp.testing import call_tool
from sagemcp_github import GitHubConnector

REPO = {"owner": "octocat", "repo": "Hello-World"}


async def test_code_scanning_alerts() -> None:
    result = await call_tool(
        GitHubConnector,
        "github_list_code_scanning_alerts",
        REPO,
        handler=lambda r: fixture_response("code-scanning/list-alerts-for-repo"),
    )
    assert result.request.url.params["state"] == "open"
    alert = result.structured["items"][0]  # type: ignore[index]
    assert alert["number"] == 4 and alert["rule_id"] == "js/zipslip" and alert["tool"] == "CodeQL"
    assert alert["path"] == "spec-main/api-session-spec.ts" and alert["start_line"] == 917


async def test_dependabot_alerts() -> None:
    result = await call_tool(
        GitHubConnector,
        "github_list_dependabot_alerts",
        {**REPO, "severity": "high"},
        handler=lambda r: fixture_response("dependabot/list-alerts-for-repo"),
    )
    alert = result.structured["items"][0]  # type: ignore[index]
    assert alert["package"] == "django" and alert["ecosystem"] == "pip" and alert["severity"] == "high"
    assert alert["ghsa_id"] == "GHSA-rf4j-j272-fj86" and alert["patched_version"] == "2.0.2"
    assert alert["vulnerable_range"] == ">= 2.0.0, < 2.0.2" and alert["manifest"] == "path/to/requirements.txt"
