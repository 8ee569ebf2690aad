"""`ZoomConnector`: the Zoom API as MCP tools.

Authentication (a tenant's credential names its scheme by its `kind`):

- `oauth2`: the OAuth 2.0 authorization-code flow (with PKCE); it asks for the scopes the enabled tools
  declare with `@tool(scopes=...)`.
- `client_credentials`: an app's client id and secret, exchanged at `TOKEN_URL` for short-lived tokens
  (`sagemcp.grants`), renewed by core when due.

Every request goes to `DEFAULT_API_URL`. When the host depends on the tenant's configuration or on
its credential (a site, a region, a cloud id the authorization found), override
`api_base_url(config, credential)`; list further hosts that must receive the credential in
`extra_origins` (see docs/writing-a-connector.md).
"""

from __future__ import annotations

from sagemcp import ClientCredentials, Connector, ConnectorInfo, ConnectorSettings, OAuth2

from . import __version__
from .tools import ItemsTools

__all__ = ["DEFAULT_API_URL", "DEFAULT_GROUPS", "ZoomConfig", "ZoomConnector"]

DEFAULT_API_URL = "https://api.zoom.us/v2"
"""The base URL every tool's request is relative to."""

DEFAULT_GROUPS = ("items",)
"""Groups enabled when a tenant's policy names none; a group that writes belongs here only if it is safe."""

# The provider's OAuth endpoints: check them against its documentation.
AUTHORIZE_URL = "https://api.zoom.us/oauth/authorize"
TOKEN_URL = "https://api.zoom.us/oauth/token"


class ZoomConfig(ConnectorSettings):
    """Per-tenant configuration of the Zoom connector.

    None yet: add what a tenant chooses (a site, a region) as fields with a `description`, and check a
    URL with `sagemcp.urls.validate_api_url`. Tools read it as `ctx.config`, typed by `ToolContext[...]`.
    """


class ZoomConnector(ItemsTools, Connector):
    """Zoom: items, read-only."""

    info = ConnectorInfo(
        id="zoom",
        title="Zoom",
        description="Items in Zoom: read one, or list them a page at a time.",
        homepage="https://api.zoom.us",
        version=__version__,
        default_groups=DEFAULT_GROUPS,
    )
    auth = (
        OAuth2(
            description="OAuth 2.0 authorization code with PKCE; the scopes follow the enabled tools.",
            authorize_url=AUTHORIZE_URL,
            token_url=TOKEN_URL,
            pkce=True,
        ),
        ClientCredentials(
            description="Server to server: an app's client id and secret, exchanged for short-lived tokens.",
            token_url=TOKEN_URL,
        ),
    )
    Config = ZoomConfig
    base_url = DEFAULT_API_URL
