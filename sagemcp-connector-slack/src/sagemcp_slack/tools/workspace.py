"""Group `workspace`: who the token is, what it may do, and the workspace itself (read-only)."""

from __future__ import annotations

from sagemcp.context import ToolContext
from sagemcp.tools import tool

from .. import _api
from .._api import obj
from ..models import AuthInfo, Team

__all__ = ["WorkspaceTools"]


def _text(data: dict[str, object], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


class WorkspaceTools:
    """Token and workspace information."""

    @tool(read_only=True, group="workspace")
    async def auth_test(self, ctx: ToolContext) -> AuthInfo:
        """Check the Slack connection: which workspace and user or bot the token acts as, and its scopes.

        Use it first when other tools fail with auth or scope errors, or to learn the
        token's own user id. token_type tells a bot token from a user token (only user
        tokens can search).
        """
        data, response = await _api.read_response(ctx, "auth.test")
        scopes = [s.strip() for s in response.headers.get("x-oauth-scopes", "").split(",") if s.strip()]
        return AuthInfo(
            team=_text(data, "team"),
            team_id=_text(data, "team_id"),
            url=_text(data, "url"),
            user=_text(data, "user"),
            user_id=_text(data, "user_id"),
            bot_id=_text(data, "bot_id"),
            token_type="bot" if data.get("bot_id") else "user",
            enterprise_id=_text(data, "enterprise_id"),
            scopes=scopes,
        )

    @tool(read_only=True, group="workspace", scopes=("team:read",))
    async def team_info(self, ctx: ToolContext) -> Team:
        """Get the workspace's name, domain (https://DOMAIN.slack.com) and email domain."""
        data = await _api.read(ctx, "team.info")
        team = obj(data.get("team"))
        domain = _text(team, "domain")
        return Team(
            id=str(team.get("id") or ""),
            name=_text(team, "name"),
            domain=domain,
            email_domain=_text(team, "email_domain"),
            url=f"https://{domain}.slack.com" if domain else None,
        )
