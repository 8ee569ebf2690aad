"""`context` tools: who the token acts as, what it may do, and how much rate limit is left."""

from __future__ import annotations

from sagemcp.context import ToolContext
from sagemcp.tools import tool

from .._scopes import USER_READ
from ..models import RateLimits, RateLimitStatus, TokenInfo, User

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
    async def check_token_scopes(self, ctx: ToolContext) -> TokenInfo:
        """Check the connected token: the account it acts as, its kind, its OAuth scopes and remaining rate limit.

        Use it when a call fails with 403 or 404 to see whether the token lacks a scope, or to
        learn what the connection can do. Classic tokens report scopes (e.g. `repo`, `read:org`);
        fine-grained tokens and GitHub Apps use permissions, which GitHub does not report here.
        """
        credential = ctx.credential
        if credential is not None and credential.kind == "github_app":
            response = await ctx.http.get("/rate_limit")
            core = response.json_object().get("resources", {}).get("core", {})
            permissions = credential.extra.get("permissions")
            extra = credential.extra
            return TokenInfo(
                login=f"GitHub App {extra.get('app_id')} (installation {extra.get('installation_id')})",
                token_type="github_app_installation",
                permissions={str(k): str(v) for k, v in permissions.items()} if isinstance(permissions, dict) else None,
                rate_limit=core.get("limit"),
                rate_remaining=core.get("remaining"),
                rate_reset_at=core.get("reset"),
                note="Installation tokens carry the permissions granted to the app installation, not OAuth scopes.",
            )
        response = await ctx.http.get("/user")
        user = response.json_object()
        header = response.headers.get("x-oauth-scopes")
        limits = response.rate_limit
        if header is not None:
            scopes: list[str] | None = [s.strip() for s in header.split(",") if s.strip()]
            token_type = "classic"
            note = None if scopes else "The token has no scopes: it can read public data only."
        else:
            scopes = None
            token_type = "fine_grained"
            note = (
                "GitHub reports no OAuth scopes for this token: it is a fine-grained personal access token or a "
                "GitHub App user token, whose repository and organization permissions are set where it was created."
            )
        return TokenInfo(
            login=user.get("login") or "",
            token_type=token_type,
            scopes=scopes,
            rate_limit=limits.limit if limits else None,
            rate_remaining=limits.remaining if limits else None,
            rate_reset_at=limits.reset_at if limits else None,
            note=note,
        )

    @tool(read_only=True, group="context")
    async def get_rate_limit(self, ctx: ToolContext) -> RateLimits:
        """Get the token's remaining GitHub API rate limits per bucket (core REST, search, code search, GraphQL).

        Use it before many calls or after a rate-limit error to see when each bucket refills
        (`reset_at`, unix time). Checking the rate limit does not count against it.
        """
        response = await ctx.http.get("/rate_limit")
        resources = response.json_object().get("resources") or {}
        return RateLimits(
            resources=[
                RateLimitStatus(
                    resource=name,
                    limit=bucket.get("limit", 0),
                    remaining=bucket.get("remaining", 0),
                    used=bucket.get("used"),
                    reset_at=bucket.get("reset"),
                )
                for name, bucket in sorted(resources.items())
                if isinstance(bucket, dict)
            ]
        )
