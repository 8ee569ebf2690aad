"""`users` tools: people and organizations on GitHub, their activity and statistics, and user search."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from sagemcp import Cursor, Limit, ToolContext, tool

from .._pagination import next_cursor, page_params
from .._params import PageLimit, Username, segment
from .._scopes import ORG_READ
from ..models import Event, EventList, Organization, OrganizationList, User, UserSearchResult, UserStats
from ._common import Order, Query, search_params, search_result

__all__ = ["UsersTools"]

_SCOPES = ORG_READ
_STATS_REPOS = 100

OptionalUsername = Annotated[
    str | None,
    Field(
        max_length=100,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="A GitHub login; omit for the authenticated user.",
    ),
]


class UsersTools:
    """Tools for users and organizations."""

    @tool(read_only=True, group="users", scopes=_SCOPES)
    async def get_user(self, ctx: ToolContext, username: Username) -> User:
        """Get a user's or organization's public profile: name, company, location, bio, counts, dates."""
        response = await ctx.http.get(f"/users/{segment(username, 'username')}")
        return User.from_api(response.json_object())

    @tool(read_only=True, group="users", scopes=_SCOPES)
    async def find_users_by_email(
        self,
        ctx: ToolContext,
        email: Annotated[
            str,
            Field(
                min_length=3,
                max_length=254,
                pattern=r"^[^\s@:\"]+@[^\s@:\"]+$",
                description="An email address, e.g. `octocat@github.com`.",
            ),
        ],
        limit: Annotated[int, Limit(maximum=10, what="Users")] = 5,
        cursor: Cursor = None,
    ) -> UserSearchResult:
        """Find GitHub accounts by email address (only public profile emails; no match proves nothing)."""
        response = await ctx.http.get(
            "/search/users", params=search_params(f"{email} in:email", None, "desc", limit, cursor)
        )
        return search_result(UserSearchResult, response, User.from_api)

    @tool(read_only=True, group="users", scopes=_SCOPES)
    async def list_organizations(
        self, ctx: ToolContext, username: OptionalUsername = None, limit: PageLimit = 30, cursor: Cursor = None
    ) -> OrganizationList:
        """List your organizations (private ones need `read:org`), or a user's public ones."""
        path = f"/users/{segment(username, 'username')}/orgs" if username else "/user/orgs"
        response = await ctx.http.get(path, params=page_params(limit, cursor))
        return OrganizationList(
            items=[Organization.from_api(o) for o in response.json_list(of=dict)], next_cursor=next_cursor(response)
        )

    @tool(read_only=True, group="users", scopes=_SCOPES)
    async def get_organization(
        self,
        ctx: ToolContext,
        org: Annotated[
            str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="Org login.")
        ],
    ) -> Organization:
        """Get an organization's profile: name, description, location, blog, public repository count and URL."""
        response = await ctx.http.get(f"/orgs/{segment(org, 'org')}")
        return Organization.from_api(response.json_object())

    @tool(read_only=True, group="users", scopes=_SCOPES)
    async def list_user_events(
        self, ctx: ToolContext, username: OptionalUsername = None, limit: PageLimit = 30, cursor: Cursor = None
    ) -> EventList:
        """List a user's recent activity, newest first: pushes, issues, pull requests, comments.

        Includes your own private activity; GitHub keeps 90 days, 300 events at most.
        """
        if username is None:
            username = User.from_api((await ctx.http.get("/user")).json_object()).login
        response = await ctx.http.get(
            f"/users/{segment(username, 'username')}/events", params=page_params(limit, cursor)
        )
        return EventList(
            items=[Event.from_api(e) for e in response.json_list(of=dict)], next_cursor=next_cursor(response)
        )

    @tool(read_only=True, group="users", scopes=_SCOPES)
    async def get_user_stats(self, ctx: ToolContext, username: Username) -> UserStats:
        """Get a user's followers, public repositories, total stars and forks, and top languages.

        Summed over their 100 most recently pushed public non-fork repositories (`repos_counted`).
        """
        user = (await ctx.http.get(f"/users/{segment(username, 'username')}")).json_object()
        response = await ctx.http.get(
            f"/users/{segment(username, 'username')}/repos",
            params={"type": "owner", "sort": "pushed", "per_page": _STATS_REPOS},
        )
        stats = UserStats.from_api(user, response.json_list(of=dict), sample=_STATS_REPOS)
        return stats if stats.login else stats.model_copy(update={"login": username})

    @tool(read_only=True, group="users", scopes=_SCOPES)
    async def search_users(
        self,
        ctx: ToolContext,
        query: Annotated[str, Query("tom location:london followers:>100")],
        sort: Annotated[
            Literal["followers", "repositories", "joined"] | None, Field(description="Sort key; omit for best match.")
        ] = None,
        order: Order = "desc",
        limit: PageLimit = 20,
        cursor: Cursor = None,
    ) -> UserSearchResult:
        """Search users and organizations (GitHub search syntax, e.g. `location:london type:user`).

        Returns logins and profile URLs; details with github_get_user.
        """
        response = await ctx.http.get("/search/users", params=search_params(query, sort, order, limit, cursor))
        return search_result(UserSearchResult, response, User.from_api)
