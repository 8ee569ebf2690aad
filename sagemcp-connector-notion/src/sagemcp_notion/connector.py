"""`NotionConnector`: Notion pages, databases and data sources as MCP tools, Markdown in and out.

Every request sends `Notion-Version: 2025-09-03`, the version in which a database holds one or
more data sources: pages are rows of a data source, queries and schemas are per data source,
and `notion_get_database` lists a database's data sources.

Authentication (a tenant's credential names its scheme by its `kind`):

- `oauth2`: a public integration, through Notion's OAuth (`owner=user`; HTTP Basic client
  authentication at the token endpoint; no PKCE; no scopes: the integration's capabilities are set
  in its settings). The workspace id and name and the bot id are kept with the credential (from the
  token answer and, after the code exchange, from `GET /v1/users/me`); tokens are refreshed when
  Notion issues a refresh token.
- `bearer`: an internal integration token (`ntn_…`, or the older `secret_…`).

Notion's error envelope (`object: error`, `code`, `message`) is mapped by `check_response`
(`_errors.notion_error`), naming the capability a 403 needs and saying to share a page that
Notion cannot find with the integration.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field, field_validator

from sagemcp import (
    AuthScheme,
    BearerToken,
    Connector,
    ConnectorInfo,
    ConnectorSettings,
    Credential,
    OAuth2,
    UpstreamResponse,
    validate_api_url,  # not exported from `sagemcp` yet
)
from sagemcp.errors import UpstreamError

from . import __version__
from ._errors import notion_error
from ._oauth import API_VERSION, notion_token_response, notion_workspace
from .tools import (
    BlockTools,
    CommentTools,
    DatabaseTools,
    PageTools,
    SearchTools,
    TrashTools,
    UserTools,
)

__all__ = [
    "API_VERSION",
    "AUTHORIZE_URL",
    "DEFAULT_API_URL",
    "DEFAULT_GROUPS",
    "TOKEN_URL",
    "NotionConfig",
    "NotionConnector",
]

DEFAULT_API_URL = "https://api.notion.com"
"""Notion's API; every tool's path starts with `/v1`."""

DEFAULT_GROUPS = ("search", "pages", "blocks", "databases", "comments", "users")
"""Groups on for a new tenant. `trash` (archive and restore pages, delete blocks) is off: an operator
opts in to letting the assistant remove content."""

AUTHORIZE_URL = "https://api.notion.com/v1/oauth/authorize"
TOKEN_URL = "https://api.notion.com/v1/oauth/token"


class NotionConfig(ConnectorSettings):
    """Per-tenant configuration of the Notion connector."""

    api_url: str = Field(
        default=DEFAULT_API_URL,
        description="Notion API base URL. Change it only for a proxy, or a local fake Notion in development.",
    )

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        return validate_api_url(value, example=DEFAULT_API_URL)


class NotionConnector(
    SearchTools,
    PageTools,
    BlockTools,
    DatabaseTools,
    CommentTools,
    UserTools,
    TrashTools,
    Connector,
):
    """Notion: search, pages as Markdown, blocks, databases and data sources, comments and users."""

    info = ConnectorInfo(
        id="notion",
        title="Notion",
        description=(
            "Search a Notion workspace, read pages as Markdown with their properties, create and edit pages from "
            "Markdown, query and shape databases (data sources), and read and write comments."
        ),
        homepage="https://developers.notion.com/reference/intro",
        version=__version__,
        default_groups=DEFAULT_GROUPS,
    )
    auth: ClassVar[tuple[AuthScheme, ...]] = (
        OAuth2(
            description=(
                "A public Notion integration, through Notion's OAuth: the person connecting picks the pages the "
                "integration may see. The workspace id and name and the bot id are kept with the credential."
            ),
            authorize_url=AUTHORIZE_URL,
            token_url=TOKEN_URL,
            # Notion documents a confidential-client flow with HTTP Basic at the token endpoint, without PKCE.
            pkce=False,
            token_auth_method="client_secret_basic",
            extra_authorize_params={"owner": "user"},
            token_response_hook=notion_token_response,
            post_authorize=notion_workspace,
        ),
        BearerToken(
            description=(
                "An internal integration token (ntn_… or secret_…) from the integration's settings "
                "(notion.so/profile/integrations); share the pages it should see with the integration."
            )
        ),
    )
    Config = NotionConfig
    base_url = DEFAULT_API_URL

    @classmethod
    def api_base_url(cls, config: BaseModel, credential: Credential | None) -> str:
        """The tenant's `api_url` (Notion's own by default)."""
        return config.api_url if isinstance(config, NotionConfig) else DEFAULT_API_URL

    def upstream_headers(self, config: BaseModel, credential: Credential | None) -> dict[str, str]:
        """`Notion-Version` on every request: the connector speaks the 2025-09-03 data-source API."""
        return {"Notion-Version": API_VERSION}

    def check_response(self, response: UpstreamResponse) -> UpstreamError | None:
        """Notion's error envelope as upstream errors with advice (see `_errors`)."""
        return notion_error(response)
