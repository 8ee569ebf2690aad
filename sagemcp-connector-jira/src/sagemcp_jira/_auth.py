"""How a Jira credential reaches its Jira: the API-token scheme, OAuth site discovery, and site selection.

- `basic` (`JiraApiToken`): an Atlassian account's e-mail and an API token. A classic token calls
  the site (`https://SITE.atlassian.net`); a scoped token (`scoped: true`) works only through
  Atlassian's gateway, `https://api.atlassian.com/ex/jira/{cloudId}`, like OAuth, so the connector
  configuration must give the site's `cloud_id`. On Data Center / Server the same scheme is a user
  name and password.
- `oauth2`: Atlassian's OAuth 2.0 (3LO). Right after the code exchange `accessible_sites` asks
  `accessible-resources` which sites the grant reaches; the answer is kept with the credential, and
  `gateway_site` picks the one the configuration names (by cloud id or site URL), or the only one.
- `bearer`: a Data Center / Server personal access token.

`Site` is where one tenant's calls go: the path prefix under the base URL (`/ex/jira/{cloudId}` on
the gateway, empty on a site) and the web URL people open (`https://acme.atlassian.net/browse/KEY`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx
from pydantic import Field

from sagemcp import POST_AUTHORIZE_KEY, BasicAuth, BasicAuthFields, Credential, CredentialFields
from sagemcp.errors import CredentialError, OAuthError

from ._config import GATEWAY_URL, JiraConfig

__all__ = [
    "ACCESSIBLE_RESOURCES_URL",
    "JiraApiToken",
    "JiraApiTokenFields",
    "JiraSiteError",
    "Site",
    "accessible_sites",
    "gateway_site",
    "resolve_site",
    "uses_gateway",
]

ACCESSIBLE_RESOURCES_URL = f"{GATEWAY_URL}/oauth/token/accessible-resources"
_SITE_LIMIT = 50
"""Sites kept from `accessible-resources` (the post-authorization data has a size cap)."""


class JiraSiteError(CredentialError, ValueError):
    """The credential and the configuration do not name one Jira site to call; the message says what to set.

    Also a `ValueError`, so that binding a new credential to the hosts of a connector whose site is not
    chosen yet skips that connector instead of failing.
    """

    code = "jira_site"


class JiraApiTokenFields(BasicAuthFields):
    """An Atlassian account's e-mail and API token (or a Data Center user name and password)."""

    scoped: bool = Field(
        default=False,
        description="True for a scoped API token (created with scopes): it works only through "
        "https://api.atlassian.com/ex/jira/{cloudId}, so set cloud_id in the connector configuration.",
    )


@dataclass(frozen=True)
class JiraApiToken(BasicAuth):
    """HTTP Basic with the account's e-mail as user and the API token as password."""

    Fields: ClassVar[type[CredentialFields]] = JiraApiTokenFields
    description: str = (
        "Jira Cloud: an Atlassian account's e-mail and an API token (id.atlassian.com, Security, API tokens); "
        "set scoped=true for a scoped token. Data Center / Server: a user name and password."
    )


async def accessible_sites(credential: Credential, http: httpx.AsyncClient) -> Mapping[str, Any]:
    """The Jira sites a new OAuth grant reaches, asked once after the code exchange and kept with the credential."""
    response = await http.get(ACCESSIBLE_RESOURCES_URL)
    response.raise_for_status()
    resources = response.json()
    if not isinstance(resources, list):
        raise OAuthError("Atlassian's accessible-resources answer is not a list of sites; connect Jira again")
    sites = []
    for resource in resources:
        if not isinstance(resource, Mapping) or not isinstance(resource.get("id"), str):
            continue
        scopes = [s for s in resource.get("scopes") or () if isinstance(s, str)]
        if scopes and not any("jira" in scope for scope in scopes):
            continue  # a Confluence-only grant on this site
        sites.append({"cloud_id": resource["id"], "url": str(resource.get("url") or ""), "name": resource.get("name")})
    if not sites:
        raise OAuthError(
            "the Atlassian authorization reaches no Jira site: sign in with an account that has access to Jira, "
            "and grant the app access to a Jira site on the consent screen"
        )
    return {"sites": sites[:_SITE_LIMIT]}


@dataclass(frozen=True)
class Site:
    """Where one tenant's Jira calls go."""

    prefix: str
    """Path under the base URL before `/rest/...`: `/ex/jira/{cloudId}` on the gateway, else empty."""
    web_url: str | None
    """The site people open (`https://acme.atlassian.net`), for issue links; None when unknown."""
    cloud_id: str | None = None


def uses_gateway(config: JiraConfig, credential: Credential | None) -> bool:
    """Whether this credential calls Atlassian's gateway (OAuth, scoped API tokens) rather than the site."""
    if credential is None or not config.cloud:
        return False
    return credential.kind == "oauth2" or (credential.kind == "basic" and credential.extra.get("scoped") is True)


def resolve_site(config: JiraConfig, credential: Credential | None) -> Site:
    """The site a call with `credential` goes to; `JiraSiteError` saying what to configure when none is chosen."""
    kind = credential.kind if credential is not None else None
    if not config.cloud:
        if kind == "oauth2":
            raise JiraSiteError(
                "this connector is configured for Jira Data Center / Server, which it calls with a personal access "
                "token (kind bearer) or a user name and password (kind basic), not with Atlassian OAuth: store one of "
                "those for the tenant, or set deployment to cloud"
            )
        return Site(prefix="", web_url=config.site_url)
    if kind == "bearer":
        raise JiraSiteError(
            "a personal access token (kind bearer) is for Jira Data Center / Server: set deployment to data_center "
            "and site_url to the Jira base URL, or for Jira Cloud store an e-mail and API token (kind basic) or "
            "connect Jira with OAuth"
        )
    if uses_gateway(config, credential):
        assert credential is not None
        if credential.kind == "oauth2":
            return gateway_site(config, credential)
        if config.cloud_id is None:
            raise JiraSiteError(
                "a scoped API token calls https://api.atlassian.com/ex/jira/{cloudId}: set cloud_id in the Jira "
                "connector configuration (https://SITE.atlassian.net/_edge/tenant_info shows the site's cloud id)"
            )
        return Site(prefix=f"/ex/jira/{config.cloud_id}", web_url=config.site_url, cloud_id=config.cloud_id)
    if config.site_url is None:
        raise JiraSiteError(
            "the Jira connector has no site: set site_url in its configuration to the Jira Cloud site, such as "
            "https://your-site.atlassian.net"
        )
    return Site(prefix="", web_url=config.site_url, cloud_id=config.cloud_id)


def gateway_site(config: JiraConfig, credential: Credential) -> Site:
    """The site of an OAuth credential: the one the configuration names, or the only one the grant reaches."""
    sites = _known_sites(credential)
    if config.cloud_id is not None or config.site_url is not None:
        for site in sites:
            if site["cloud_id"].lower() == config.cloud_id or _same_site(site["url"], config.site_url):
                return _gateway(site["cloud_id"], site["url"] or config.site_url)
        if config.cloud_id is not None and not sites:
            return _gateway(config.cloud_id, config.site_url)  # stored without discovery: trust the configuration
        wanted = config.cloud_id or config.site_url
        raise JiraSiteError(
            f"this Atlassian authorization does not reach the configured Jira site {wanted}; it reaches "
            f"{_listing(sites) or 'no site the connector knows of'}. Set cloud_id or site_url in the Jira connector "
            "configuration to one of those, or connect Jira again with an account that can see the site"
        )
    if len(sites) == 1:
        return _gateway(sites[0]["cloud_id"], sites[0]["url"] or None)
    if not sites:
        raise JiraSiteError(
            "the stored Jira OAuth credential does not say which site it reaches: set cloud_id in the Jira connector "
            "configuration, or connect Jira again through the OAuth flow"
        )
    raise JiraSiteError(
        f"this Atlassian authorization reaches {len(sites)} Jira sites: {_listing(sites)}. Choose one by setting "
        "cloud_id or site_url in the Jira connector configuration"
    )


def _gateway(cloud_id: str, web_url: str | None) -> Site:
    return Site(prefix=f"/ex/jira/{cloud_id}", web_url=(web_url or None), cloud_id=cloud_id)


def _known_sites(credential: Credential) -> list[dict[str, str]]:
    found = credential.extra.get(POST_AUTHORIZE_KEY)
    raw = found.get("sites") if isinstance(found, Mapping) else None
    sites = []
    for site in raw if isinstance(raw, list) else ():
        if isinstance(site, Mapping) and isinstance(site.get("cloud_id"), str):
            name = site.get("name")
            sites.append(
                {
                    "cloud_id": site["cloud_id"],
                    "url": str(site.get("url") or "").rstrip("/"),
                    "name": name if isinstance(name, str) else "",
                }
            )
    return sites


def _same_site(url: str, configured: str | None) -> bool:
    return bool(url) and configured is not None and url.rstrip("/").lower() == configured.rstrip("/").lower()


def _listing(sites: list[dict[str, str]]) -> str:
    return "; ".join(f"{site['url'] or site['name'] or 'a site'} (cloud_id {site['cloud_id']})" for site in sites)
