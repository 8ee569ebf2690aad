"""`JiraConnector`: Jira Cloud and Jira Data Center / Server as MCP tools.

Authentication (a tenant's credential names its scheme by its `kind`):

- `oauth2`: Atlassian OAuth 2.0 (3LO) with `offline_access`, so the grant has a refresh token,
  which Atlassian rotates on every refresh (core's credential store keeps the newest with a
  compare-and-swap). After the code exchange the post-authorization hook reads
  `accessible-resources`; calls go to `https://api.atlassian.com/ex/jira/{cloudId}` of the site
  the configuration chooses (see `sagemcp_jira._auth`). The scopes asked for follow the enabled
  tool groups: classic scopes (`read:jira-work`, `write:jira-work`, `read:jira-user`,
  `manage:jira-project`) and the granular Jira Software scopes for the agile group.
- `basic`: an Atlassian account's e-mail and API token, calling the site
  (`https://SITE.atlassian.net`); a scoped API token (`scoped: true`) calls the gateway like OAuth.
  On Data Center / Server, a user name and password.
- `bearer`: a Data Center / Server personal access token.

Errors: Atlassian's envelopes (`errorMessages`, `errors{field}`) become messages naming the field
(core's status mapping reads them); a 401 "scope does not match" names the scope the request needed;
a 429 says how long to wait, from `Retry-After` or Atlassian's `X-RateLimit-Reset`, and core retries
reads within its deadline (writes are never repeated).
"""

from __future__ import annotations

import math
import time
from datetime import datetime

from pydantic import BaseModel

from sagemcp import BearerToken, Connector, ConnectorInfo, Credential, OAuth2, UpstreamResponse
from sagemcp.errors import UpstreamError, UpstreamForbidden, UpstreamRateLimited

from . import __version__
from ._auth import JiraApiToken, JiraSiteError, accessible_sites, uses_gateway
from ._config import GATEWAY_URL, JiraConfig
from ._scopes import ALWAYS, scopes_for
from .tools import (
    AgileTools,
    AttachmentsTools,
    CommentsTools,
    IssueDeletionTools,
    IssuesTools,
    LinksTools,
    ProjectsTools,
    TransitionsTools,
    UsersTools,
    VersionsTools,
    WatchersTools,
    WorklogsTools,
)

__all__ = ["AUTHORIZE_URL", "DEFAULT_GROUPS", "TOKEN_URL", "JiraConfig", "JiraConnector"]

AUTHORIZE_URL = "https://auth.atlassian.com/authorize"
TOKEN_URL = "https://auth.atlassian.com/oauth/token"

DEFAULT_GROUPS = ("issues", "comments", "transitions", "projects", "users")
"""Groups enabled when a tenant's policy names none: reading, searching, creating and editing issues,
comments and transitions, projects and people (27 tools). `agile`, `links`, `worklogs`,
`attachments`, `watchers` and `versions` are one group switch away; `issue_deletion` is off by
default because deleting an issue cannot be undone."""


class JiraConnector(
    IssuesTools,
    CommentsTools,
    TransitionsTools,
    ProjectsTools,
    UsersTools,
    AgileTools,
    LinksTools,
    WorklogsTools,
    AttachmentsTools,
    WatchersTools,
    VersionsTools,
    IssueDeletionTools,
    Connector,
):
    """Jira: issues, JQL search, comments, transitions, links, worklogs, attachments, projects, boards, sprints."""

    info = ConnectorInfo(
        id="jira",
        title="Jira",
        description="Jira Cloud and Data Center: JQL search, issues (create with the required fields, edit, assign, "
        "transition), comments, links, worklogs, attachments, watchers, projects, versions, fields, boards, "
        "sprints, backlog, epics and people.",
        homepage="https://developer.atlassian.com/cloud/jira/platform/rest/v3/",
        version=__version__,
        default_groups=DEFAULT_GROUPS,
    )
    auth = (
        OAuth2(
            description="Atlassian OAuth 2.0 (3LO) with a rotating refresh token; the scopes follow the enabled "
            "groups, and the connector configuration chooses the site when the grant reaches several.",
            authorize_url=AUTHORIZE_URL,
            token_url=TOKEN_URL,
            scopes=ALWAYS,
            pkce=True,
            token_auth_method="client_secret_post",
            extra_authorize_params={"audience": "api.atlassian.com", "prompt": "consent"},
            post_authorize=accessible_sites,
        ),
        JiraApiToken(),
        BearerToken(
            description="Jira Data Center / Server: a personal access token (Profile, Personal Access Tokens)."
        ),
    )
    Config = JiraConfig
    base_url = GATEWAY_URL

    @classmethod
    def api_base_url(cls, config: BaseModel, credential: Credential | None) -> str:
        """The gateway for OAuth and scoped tokens (the site's `/ex/jira/{cloudId}` path is added per call),
        else the configured site or Data Center base URL."""
        assert isinstance(config, JiraConfig)
        if uses_gateway(config, credential):
            return GATEWAY_URL
        if config.site_url is None:
            raise JiraSiteError(
                "the Jira connector has no site: set site_url in its configuration to the Jira Cloud site "
                "(https://your-site.atlassian.net), or connect Jira with OAuth"
            )
        return config.site_url

    def upstream_headers(self, config: BaseModel, credential: Credential | None) -> dict[str, str]:
        return {"Accept": "application/json"}

    def check_response(self, response: UpstreamResponse) -> UpstreamError | None:
        """Atlassian's missing-scope answers and rate limits, explained; everything else is core's mapping."""
        if response.status in (401, 403) and b"scope" in response.content.lower():
            return _missing_scope(response)
        if response.status == 429:
            return _rate_limited(response)
        return None


def _missing_scope(response: UpstreamResponse) -> UpstreamForbidden:
    needed = list(scopes_for(response.method, response.path))
    wanted = ", ".join(f"`{s}`" for s in needed) or "a scope it was not granted"
    said = _said(response)
    return UpstreamForbidden(
        f"Jira refused {response.method} {response.path} ({response.status}{': ' + said if said else ''}): the "
        f"authorization lacks {wanted}. Enable the tool group that needs it and connect Jira again for this "
        "tenant, granting that scope.",
        missing_scopes=needed,
        status=response.status,
        provider="jira",
    )


def _said(response: UpstreamResponse) -> str:
    """Atlassian's own message (`message`, or `errorMessages`), shortened."""
    try:
        body = response.json()
    except UpstreamError:
        return ""
    if not isinstance(body, dict):
        return ""
    parts = [body["message"]] if isinstance(body.get("message"), str) else []
    parts += [m for m in body.get("errorMessages") or [] if isinstance(m, str)]
    text = " ".join("; ".join(parts).split())
    return text if len(text) <= 200 else text[:199] + "…"


def _rate_limited(response: UpstreamResponse) -> UpstreamRateLimited:
    limits = response.rate_limit
    wait = limits.retry_after if limits is not None else None
    if wait is None:
        wait = _reset_in(response.headers.get("x-ratelimit-reset"), response.received_at)
    reason = response.headers.get("ratelimit-reason")
    why = f", {reason}" if reason else ""
    when = f"retry after {math.ceil(wait)} seconds" if wait is not None else "wait a minute, then retry"
    return UpstreamRateLimited(
        f"Jira rate limit reached (429{why}) on {response.method} {response.path}; {when}.",
        retry_after=wait,
        status=429,
        provider="jira",
        upstream_code=reason,
    )


def _reset_in(value: str | None, now: float | None) -> float | None:
    """Seconds until Atlassian's `X-RateLimit-Reset` (an ISO 8601 timestamp), if it is one."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))
