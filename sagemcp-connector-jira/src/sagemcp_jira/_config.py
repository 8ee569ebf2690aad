"""`JiraConfig`: which Jira a tenant's connector calls (a Cloud site, or a Data Center / Server base URL).

Jira Cloud is reached two ways. E-mail + classic API token (HTTP Basic) calls the site itself,
`https://SITE.atlassian.net`. OAuth 2.0 (3LO) tokens and scoped API tokens call Atlassian's gateway,
`https://api.atlassian.com/ex/jira/{cloudId}`: an authorization may reach several sites, and the
configuration chooses one by `cloud_id` or `site_url` (never "the first one").

Jira Data Center / Server is called at `site_url` (its base URL, with any context path such as
`/jira`), with REST API v2, validated like any configured upstream URL (https, no credentials in it,
public addresses unless the operator allows a private network).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from sagemcp import ConnectorSettings, loopback_allowed, validate_api_url

__all__ = ["CLOUD_ID_RE", "GATEWAY_URL", "JiraConfig", "cloud_site_url"]

GATEWAY_URL = "https://api.atlassian.com"
"""Atlassian's API gateway: OAuth 2.0 tokens and scoped API tokens call `{GATEWAY_URL}/ex/jira/{cloudId}`."""

CLOUD_ID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_CLOUD_HOST_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.(?:atlassian\.net|jira\.com|jira-dev\.com)$")
_CLOUD_EXAMPLE = "https://your-site.atlassian.net"
_DC_EXAMPLE = "https://jira.example.com or https://example.com/jira"


def cloud_site_url(value: str) -> str:
    """A Jira Cloud site URL normalised (`https://acme.atlassian.net`), or `ValueError` saying what is wrong.

    A bare site name (`acme`) means `https://acme.atlassian.net`. With loopback upstreams allowed
    (development against a local fake), a loopback URL is accepted too.
    """
    text = value.strip()
    if re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", text):
        text = f"https://{text}.atlassian.net"
    url = validate_api_url(text, example=_CLOUD_EXAMPLE, field="site_url")
    host = url.split("://", 1)[1].split("/", 1)[0].split(":", 1)[0]
    if loopback_allowed() and host in ("127.0.0.1", "localhost", "[::1]"):
        return url
    if not _CLOUD_HOST_RE.match(host) or "/" in url.split("://", 1)[1]:
        raise ValueError(
            f"site_url {value!r} is not a Jira Cloud site: use {_CLOUD_EXAMPLE} (no path); for Jira Data Center or "
            'Server set deployment to "data_center"'
        )
    return url


class JiraConfig(ConnectorSettings):
    """Per-tenant configuration of the Jira connector."""

    deployment: Literal["cloud", "data_center"] = Field(
        default="cloud",
        description='"cloud" for Jira Cloud (REST API v3, Atlassian Document Format), "data_center" for Jira Data '
        "Center or Server (REST API v2, wiki markup).",
    )
    site_url: str | None = Field(
        default=None,
        max_length=2048,
        description=f"Jira Cloud: the site, {_CLOUD_EXAMPLE} (or its name, `your-site`); chooses the site when an "
        f"OAuth authorization reaches several. Data Center / Server: the base URL, {_DC_EXAMPLE}.",
    )
    cloud_id: str | None = Field(
        default=None,
        description="Jira Cloud: the site's cloud id (a UUID; `https://SITE.atlassian.net/_edge/tenant_info` shows "
        "it). Chooses the site of an OAuth authorization; needed for scoped API tokens, which call the gateway.",
    )

    @field_validator("cloud_id")
    @classmethod
    def _cloud_id(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not CLOUD_ID_RE.match(value):
            raise ValueError(
                "cloud_id must be the site's cloud id, a UUID such as 1324a887-45db-1bf4-1e99-ef0ff456d421 "
                "(https://SITE.atlassian.net/_edge/tenant_info shows it)"
            )
        return value.lower()

    @field_validator("site_url")
    @classmethod
    def _site_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if info.data.get("deployment") == "data_center":
            return validate_api_url(
                value, example=_DC_EXAMPLE, field="site_url", private_hint=": use the Jira server's host name"
            )
        return cloud_site_url(value)

    @model_validator(mode="after")
    def _data_center(self) -> JiraConfig:
        if self.deployment == "data_center":
            if self.site_url is None:
                raise ValueError(f"a data_center deployment needs site_url, the Jira base URL ({_DC_EXAMPLE})")
            if self.cloud_id is not None:
                raise ValueError("cloud_id is for Jira Cloud; leave it out for a data_center deployment")
        return self

    @property
    def cloud(self) -> bool:
        return self.deployment == "cloud"
