"""The `context` group: who the token acts as, its kind and scopes, and the rate limit."""

from __future__ import annotations

import httpx
from github_support import fixture_response

from sagemcp import Credential
from sagemcp.testing import call_tool
from sagemcp_github import GitHubConnector


async def test_get_me() -> None:
    me = await call_tool(
        GitHubConnector, "github_get_me", {}, handler=lambda r: fixture_response("users/get-authenticated")
    )
    assert me.request.url.path == "/user" and me.structured["login"] == "octocat"  # type: ignore[index]


async def test_token_scopes_of_a_classic_token() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"X-OAuth-Scopes": "repo, read:org", "X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4990"}
        return fixture_response("users/get-authenticated", headers=headers)

    result = await call_tool(GitHubConnector, "github_get_token_scopes", {}, handler=handler)
    data = result.structured
    assert data is not None
    assert data["token_type"] == "classic" and data["scopes"] == ["repo", "read:org"]
    assert data["rate_limit"] == 5000 and data["rate_remaining"] == 4990


async def test_token_scopes_of_a_fine_grained_token() -> None:
    result = await call_tool(
        GitHubConnector, "github_get_token_scopes", {}, handler=lambda r: fixture_response("users/get-authenticated")
    )
    data = result.structured
    assert data is not None and data["token_type"] == "fine_grained" and "scopes" not in data
    assert "fine-grained" in data["note"]


async def test_token_info_of_a_github_app_installation() -> None:
    credential = Credential(
        tenant_id="test",
        provider="github",
        kind="github_app",
        access_token="ghs_x",
        extra={"app_id": 1, "installation_id": 2, "permissions": {"issues": "write"}},
    )
    result = await call_tool(
        GitHubConnector,
        "github_get_token_scopes",
        {},
        handler=lambda r: fixture_response("rate-limit/get"),
        credential=credential,
    )
    assert result.request.url.path == "/rate_limit"
    data = result.structured
    assert data is not None and data["token_type"] == "github_app_installation"
    assert data["permissions"] == {"issues": "write"} and data["rate_limit"] == 5000


async def test_rate_limit() -> None:
    result = await call_tool(
        GitHubConnector, "github_get_rate_limit", {}, handler=lambda r: fixture_response("rate-limit/get")
    )
    buckets = {b["resource"]: b for b in result.structured["resources"]}  # type: ignore[index]
    assert buckets["core"]["limit"] == 5000 and buckets["search"]["limit"] == 30
