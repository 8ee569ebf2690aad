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
        """Get the authenticated user: the GitHub account the connected token acts as.

        Use it to answer "who am I" or before filtering by your own login (issues assigned to
        you, your pull requests). Returns login, name, profile details, counts and profile URL.
        Does not work with a GitHub App installation token (an app is not a user).
        """
        response = await ctx.http.get("/user")
        return User.from_api(response.json_object())

    @tool(read_only=True, group="context", scopes=_SCOPES)
    async def get_token_scopes(self, ctx: ToolContext) -> TokenInfo:
        """Get what the connected token may do: the account it acts as, its kind, its OAuth scopes and rate limit.

        Use it when a call fails with 403 or 404 to see whether the token lacks a scope, or to
        learn what the connection can do. Classic tokens report scopes (e.g. `repo`, `read:org`);
        fine-grained tokens and GitHub Apps use permissions, which GitHub does not report here
        (a GitHub App installation shows the permissions it was granted instead).
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
        """Get the token's remaining GitHub API rate limits per bucket (core REST, search, code search, GraphQL).

        Use it before many calls or after a rate-limit error to see when each bucket refills
        (`reset_at`, unix time). Checking the rate limit does not count against it.
        """
        response = await ctx.http.get("/rate_limit")
        return RateLimits.from_api(response.json_object())
