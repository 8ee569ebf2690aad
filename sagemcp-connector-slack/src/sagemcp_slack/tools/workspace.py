"""Group `workspace`: who the token is, what it may do, and the workspace itself (read-only)."""

from __future__ import annotations

from sagemcp import ToolContext, tool

from .. import _api
from .._api import obj
from ..models import AuthInfo, Team

__all__ = ["WorkspaceTools"]


class WorkspaceTools:
    """Token and workspace information."""

    @tool(read_only=True, group="workspace")
    async def get_auth_info(self, ctx: ToolContext) -> AuthInfo:
        """Check the Slack connection: workspace, the user or bot the token acts as, token type, scopes."""
        data, response = await _api.read_response(ctx, "auth.test")
        return AuthInfo.from_api(data, response.headers.get("x-oauth-scopes", ""))

    @tool(read_only=True, group="workspace", scopes=("team:read",))
    async def get_workspace(self, ctx: ToolContext) -> Team:
        """Get the workspace's name, domain (https://DOMAIN.slack.com) and email domain."""
        data = await _api.read(ctx, "team.info")
        return Team.from_api(obj(data.get("team")))
