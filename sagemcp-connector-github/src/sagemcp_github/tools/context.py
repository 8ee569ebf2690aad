"""`context` tools: who the token acts as, what it may do, and how much rate limit is left."""

from __future__ import annotations

from sagemcp import ToolContext, tool

from .._scopes import USER_READ
from ..models import RateLimits, TokenInfo, User

__all__ = ["ContextTools"]

_SCOPES = USER_READ


class ContextTools:
    """Tools about the connected account and token."""

    @tool(read_only=True, group="context", scopes=_SCOPES)
    async def get_me(self, ctx: ToolContext) -> User:
        """Get the GitHub account the token acts as ("who am I"): login, name, profile.

        Not for GitHub App installation tokens.
        """
        response = await ctx.http.get("/user")
        return User.from_api(response.json_object())

    @tool(read_only=True, group="context", scopes=_SCOPES)
    async def get_token_scopes(self, ctx: ToolContext) -> TokenInfo:
        """Get what the connected token may do: account, kind, OAuth scopes, rate limit.

        Use it after a 403 or 404 to see whether a scope is missing.
        """
        credential = ctx.credential
        if credential is not None and credential.kind == "github_app":
            response = await ctx.http.get("/rate_limit")
            return TokenInfo.for_installation(credential.extra, response.json_object())
        response = await ctx.http.get("/user")
        limits = response.rate_limit
        rate = (limits.limit, limits.remaining, limits.reset_at) if limits else (None, None, None)
        return TokenInfo.from_user(response.json_object(), response.headers.get("x-oauth-scopes"), rate)

    @tool(read_only=True, group="context")
    async def get_rate_limit(self, ctx: ToolContext) -> RateLimits:
        """Get the remaining GitHub API rate limits per bucket and when each resets (unix time).

        Does not count against the limit.
        """
        response = await ctx.http.get("/rate_limit")
        return RateLimits.from_api(response.json_object())
