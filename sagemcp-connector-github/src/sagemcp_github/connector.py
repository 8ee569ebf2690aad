"""`GitHubConnector`: the GitHub REST API as MCP tools, for github.com, GHE.com and GitHub Enterprise Server.

Authentication (a tenant's credential names one by its `kind`):

- `oauth2`: an OAuth App's authorization-code flow (with PKCE); the scopes requested are
  those the enabled tools declare (named in `sagemcp_github._scopes`).
- `bearer`: a fine-grained or classic personal access token (or any other token).
- `github_app`: a GitHub App installation; see `sagemcp_github.auth.GitHubAppAuth`.

Rate limits (`X-RateLimit-*`, secondary limits answered with 403/429 and `Retry-After`)
and missing OAuth scopes (`X-Accepted-OAuth-Scopes` against `X-OAuth-Scopes`) are handled
by core's upstream client. This class only adds GitHub's headers and explains 404s,
which GitHub also returns for private resources the token cannot see.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, field_validator

from sagemcp import BearerToken, Connector, ConnectorInfo, ConnectorSettings, Credential, OAuth2, UpstreamResponse
from sagemcp.errors import UpstreamError, UpstreamNotFound

from . import __version__
from ._config import DEFAULT_API_URL, validate_api_url
from .auth import GitHubAppAuth
from .tools import (
    ActionsTools,
    ContextTools,
    IssuesTools,
    NotificationsTools,
    PullRequestsTools,
    ReposTools,
    SecurityTools,
    UsersTools,
)

__all__ = ["API_VERSION", "DEFAULT_GROUPS", "GitHubConfig", "GitHubConnector"]

API_VERSION = "2022-11-28"
"""The REST API version every request asks for (`X-GitHub-Api-Version`); the tests are written against it."""

DEFAULT_GROUPS = ("context", "repos", "issues", "pull_requests", "actions", "users")
"""Groups enabled when a tenant's policy names none. Groups are resources; each holds its reads, its
searches and its writes (a tenant that wants no writes sets the policy's `read_only`). `security` and
`notifications` need extra scopes (`security_events`, `notifications`), so they are opt-in."""

_SPLIT = re.compile(r"[\s,]+")


class GitHubConfig(ConnectorSettings):
    """Per-tenant configuration of the GitHub connector."""

    api_url: str = Field(
        default=DEFAULT_API_URL,
        description="REST API base URL: https://api.github.com, https://api.SUBDOMAIN.ghe.com for GHE.com, "
        "or https://HOSTNAME/api/v3 for GitHub Enterprise Server.",
    )

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        return validate_api_url(value)


class GitHubConnector(
    ContextTools,
    ReposTools,
    IssuesTools,
    PullRequestsTools,
    ActionsTools,
    SecurityTools,
    NotificationsTools,
    UsersTools,
    Connector,
):
    """GitHub: repositories, issues, pull requests, Actions, search, security alerts and notifications."""

    info = ConnectorInfo(
        id="github",
        title="GitHub",
        description="Repositories, files, branches, commits, releases, issues, pull requests and reviews, "
        "GitHub Actions, code and issue search, code-scanning and Dependabot alerts, notifications and users.",
        homepage="https://docs.github.com/rest",
        version=__version__,
        default_groups=DEFAULT_GROUPS,
    )
    auth = (
        OAuth2(
            description="GitHub OAuth App (authorization code with PKCE); scopes follow the enabled tools.",
            authorize_url="https://github.com/login/oauth/authorize",
            token_url="https://github.com/login/oauth/access_token",
            scopes=(),
            pkce=True,
            token_auth_method="client_secret_post",
        ),
        BearerToken(
            description="A fine-grained or classic personal access token (github_pat_... or ghp_...), "
            "or any other GitHub token."
        ),
        GitHubAppAuth(),
    )
    Config = GitHubConfig
    base_url = DEFAULT_API_URL

    @classmethod
    def api_base_url(cls, config: BaseModel, credential: Credential | None) -> str:
        """The tenant's API base URL (github.com, GHE.com or a GitHub Enterprise Server), whatever the credential."""
        return config.api_url if isinstance(config, GitHubConfig) else DEFAULT_API_URL

    def upstream_headers(self, config: BaseModel, credential: Credential | None) -> dict[str, str]:
        return {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}

    def check_response(self, response: UpstreamResponse) -> UpstreamError | None:
        """Explain GitHub's 404, which also means "private, and this token cannot see it"."""
        if response.status != 404:
            return None
        missing = _missing_scopes(response)
        hint = f" The token may lack scope {', '.join(f'`{s}`' for s in missing)}." if missing else ""
        return UpstreamNotFound(
            f"GitHub: not found, or the token cannot see it ({response.method} {response.path}, 404). GitHub answers "
            "404 both for things that do not exist and for private ones the connected token has no access to: check "
            "the owner, repository, number or path, and that the token (or GitHub App installation) can access the "
            f"repository.{hint}",
            status=404,
            provider="github",
        )


def _missing_scopes(response: UpstreamResponse) -> list[str]:
    granted = {s for s in _SPLIT.split(response.headers.get("x-oauth-scopes", "")) if s}
    accepted = [s for s in _SPLIT.split(response.headers.get("x-accepted-oauth-scopes", "")) if s]
    if "x-oauth-scopes" not in response.headers or not accepted or set(accepted) & granted:
        return []
    return accepted
