"""`SlackConnector`: Slack's Web API as MCP tools, for many tenants at once.

The class holds no state: each call gets its tenant's configuration (`SlackConfig`),
credential and a client bound to the configured API URL in its `ToolContext`.

Authentication: Slack's OAuth v2 (the bot scopes of the enabled tools, and the
user scopes search needs, whose user token is kept as the linked `slack:user`
credential; token rotation is followed when the Slack app enables it), or a bot token
(`xoxb-`) and/or a user token (`xoxp-`) stored directly. Slack answers failures with HTTP 200 and `ok: false`:
`check_response` maps them (see `_errors`).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel

from sagemcp import AuthScheme, BearerToken, Connector, ConnectorInfo, Credential, LinkedToken, OAuth2, UpstreamResponse
from sagemcp.errors import UpstreamError

from . import __version__
from ._config import DEFAULT_API_URL, SlackConfig
from ._errors import slack_error
from ._files import FILES_ORIGIN
from ._oauth import slack_token_response
from .tools import (
    BookmarkTools,
    BookmarkWriteTools,
    CanvasTools,
    CanvasWriteTools,
    ConversationTools,
    FileWriteTools,
    MessageTools,
    MessageWriteTools,
    PinTools,
    PinWriteTools,
    SearchTools,
    UserTools,
    WorkspaceTools,
)

__all__ = ["ALWAYS_SCOPES", "DEFAULT_GROUPS", "WRITE_GROUPS", "SlackConfig", "SlackConnector"]

ALWAYS_SCOPES = ("users:read",)
"""Requested whatever the groups: names of authors and mentions are resolved with users.info. The
other scopes are those of the enabled tools (`@tool(scopes=...)`; shared ones in `_scopes`)."""

DEFAULT_GROUPS = ("conversations", "messages", "users", "search", "pins", "bookmarks", "canvases", "workspace")
"""The read-only groups, on for a new tenant."""

WRITE_GROUPS = ("messages_write", "pins_write", "bookmarks_write", "files_write", "canvases_write")
"""Off until a tenant enables them, for safety: each lets the assistant post, react, pin, bookmark, share a file
or create a canvas in front of the workspace's people, so an operator opts in to each kind of change."""


class SlackConnector(
    ConversationTools,
    MessageTools,
    SearchTools,
    UserTools,
    PinTools,
    BookmarkTools,
    CanvasTools,
    WorkspaceTools,
    MessageWriteTools,
    PinWriteTools,
    BookmarkWriteTools,
    FileWriteTools,
    CanvasWriteTools,
    Connector,
):
    """Slack: channels, history and threads, search, messages, DMs, reactions, users, pins, bookmarks,
    canvases and file uploads."""

    info = ConnectorInfo(
        id="slack",
        title="Slack",
        description=(
            "Read channels, threads and DMs, search messages, look people and user groups up, and (when enabled) "
            "post, reply, edit, schedule, react, pin, bookmark, create canvases and upload files in a Slack workspace."
        ),
        homepage="https://api.slack.com/web",
        version=__version__,
        default_groups=DEFAULT_GROUPS,
    )
    auth: ClassVar[tuple[AuthScheme, ...]] = (
        OAuth2(
            description=(
                "Slack OAuth v2: installs the Slack app in the workspace with the bot scopes of the enabled tool "
                "groups, and asks the installing user for the user scopes search needs (their user token is kept "
                "as the linked slack:user credential). Token rotation is followed when the app enables it."
            ),
            authorize_url="https://slack.com/oauth/v2/authorize",
            token_url="https://slack.com/api/oauth.v2.access",
            revoke_url="https://slack.com/api/auth.revoke",
            # auth.revoke revokes the token that authenticates the call.
            revocation="bearer",
            scopes=ALWAYS_SCOPES,
            # Slack documents a confidential-client flow for oauth.v2.access (client secret, preferably
            # with HTTP Basic); PKCE is not part of it.
            pkce=False,
            token_auth_method="client_secret_basic",
            scope_separator=",",
            scope_param="scope",
            token_response_hook=slack_token_response,
            linked_tokens=(
                LinkedToken(
                    name="user",
                    scope_param="user_scope",
                    description="The installing user's token (xoxp-), for search.",
                ),
            ),
        ),
        BearerToken(
            description=(
                "A Slack bot token (xoxb-...) or user token (xoxp-...) from the app's OAuth & Permissions page. "
                "Search needs a user token with search:read: store it as the slack:user credential next to a "
                "bot token, or as the only credential."
            )
        ),
    )
    Config = SlackConfig
    base_url = DEFAULT_API_URL
    extra_origins = (FILES_ORIGIN,)
    """Uploads and canvas downloads go to Slack's file host with the token, through `ctx.http`."""

    @classmethod
    def api_base_url(cls, config: BaseModel, credential: Credential | None) -> str:
        """The tenant's `api_url` (Slack's own by default; a local fake Slack in development)."""
        return config.api_url if isinstance(config, SlackConfig) else DEFAULT_API_URL

    def check_response(self, response: UpstreamResponse) -> UpstreamError | None:
        """Slack's `ok: false` (HTTP 200) and 429 answers as upstream errors."""
        return slack_error(response)
