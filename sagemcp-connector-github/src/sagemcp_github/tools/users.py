"""`users` tools: people and organizations on GitHub, their activity and statistics."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from pydantic import Field

from sagemcp.context import ToolContext
from sagemcp.pagination import Cursor, Limit
from sagemcp.tools import tool

from .._pagination import next_cursor, page_params
from .._params import PageLimit, Username, segment
from .._scopes import ORG_READ
from ..models import Event, EventList, Organization, OrganizationList, User, UserSearchResult, UserStats
from ._common import search_result
from .search import search_params

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
        """Get a user's or organization's public profile: name, company, location, bio, counts and dates.

        For the connected account itself use github_get_me.
        """
        response = await ctx.http.get(f"/users/{segment(username, 'username')}")
        return User.from_api(response.json_object())

    @tool(read_only=True, group="users", scopes=_SCOPES)
    async def search_users_by_email(
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
        """Find GitHub accounts by email address.

        Only finds people whose email is public on their profile; an empty result does not prove
        that nobody uses the address.
        """
        response = await ctx.http.get(
            "/search/users", params=search_params(f"{email} in:email", None, "desc", limit, cursor)
        )
        return search_result(UserSearchResult, response, User.from_api)

    @tool(read_only=True, group="users", scopes=_SCOPES)
    async def list_organizations(
        self, ctx: ToolContext, username: OptionalUsername = None, limit: PageLimit = 30, cursor: Cursor = None
    ) -> OrganizationList:
        """List the organizations you belong to, or a user's public organization memberships.

        Your own list needs the `read:org` scope to include private memberships.
        """
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
        data = response.json_object()
        result = Organization.from_api(data)
        return result.model_copy(
            update={
                "location": data.get("location") or None,
                "blog": data.get("blog") or None,
                "public_repos": data.get("public_repos"),
                "created_at": data.get("created_at"),
            }
        )

    @tool(read_only=True, group="users", scopes=_SCOPES)
    async def get_user_activity(
        self, ctx: ToolContext, username: OptionalUsername = None, limit: PageLimit = 30, cursor: Cursor = None
    ) -> EventList:
        """List a user's recent activity, newest first: pushes, issues and pull requests opened or closed, comments.

        For yourself it includes private activity the token can see. GitHub keeps 90 days and at
        most 300 events.
        """
        if username is None:
            username = (await ctx.http.get("/user")).json_object().get("login") or ""
        response = await ctx.http.get(
            f"/users/{segment(username, 'username')}/events", params=page_params(limit, cursor)
        )
        return EventList(
            items=[Event.from_api(e) for e in response.json_list(of=dict)], next_cursor=next_cursor(response)
        )

    @tool(read_only=True, group="users", scopes=_SCOPES)
    async def get_user_stats(self, ctx: ToolContext, username: Username) -> UserStats:
        """Get statistics for a user: followers, public repositories, total stars and forks, top languages.

        Stars, forks and languages are summed over the 100 public repositories they own that were
        pushed to most recently, forks left out (`repos_counted` says how many were counted).
        """
        user = (await ctx.http.get(f"/users/{segment(username, 'username')}")).json_object()
        response = await ctx.http.get(
            f"/users/{segment(username, 'username')}/repos",
            params={"type": "owner", "sort": "pushed", "per_page": _STATS_REPOS},
        )
        repos = [r for r in response.json_list(of=dict) if not r.get("fork")]
        languages = Counter(str(r["language"]) for r in repos if r.get("language"))
        ranked = sorted(repos, key=lambda r: -(r.get("stargazers_count") or 0))
        public = user.get("public_repos")
        note = None
        if isinstance(public, int) and public > _STATS_REPOS:
            note = f"Counted over the {_STATS_REPOS} most recently pushed of {public} public repositories."
        return UserStats(
            login=user.get("login") or username,
            name=user.get("name") or None,
            public_repos=public,
            followers=user.get("followers"),
            following=user.get("following"),
            created_at=user.get("created_at"),
            repos_counted=len(repos),
            total_stars=sum(r.get("stargazers_count") or 0 for r in repos),
            total_forks=sum(r.get("forks_count") or 0 for r in repos),
            top_languages=dict(languages.most_common(5)),
            most_starred=[r.get("full_name") or "" for r in ranked[:5]],
            note=note,
            url=user.get("html_url"),
        )
