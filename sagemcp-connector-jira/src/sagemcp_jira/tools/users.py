"""`users` tools: who the connected account is, finding people (their account ids, for assignment and
mentions), and looking someone up by e-mail where the site shows e-mail addresses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from sagemcp import Cursor, Limit, ToolContext, tool
from sagemcp.errors import InvalidArguments

from .._api import JiraApi
from .._pages import next_offset_cursor, start_at
from .._scopes import READ_USER
from ..models import User, UserList
from ._common import AccountId, IssueKey, ProjectKey

if TYPE_CHECKING:
    from ..connector import JiraConfig

__all__ = ["UsersTools"]

PeopleQuery = Annotated[
    str, Field(min_length=1, max_length=200, description="Part of a name or e-mail address (or a user name).")
]


def _page(api: JiraApi, raw: list[dict[str, Any]], start: int, limit: int, bind: dict[str, Any]) -> UserList:
    # These endpoints answer with a bare list: a full page means there may be more.
    next_cursor = next_offset_cursor({"maxResults": limit}, start, len(raw), bind) if len(raw) >= limit else None
    return UserList(items=[User.from_api(u) for u in raw[:limit]], next_cursor=next_cursor)


class UsersTools:
    """The `users` group."""

    @tool(read_only=True, group="users", scopes=READ_USER)
    async def get_current_user(self, ctx: ToolContext[JiraConfig]) -> User:
        """Who the connected account is: account id, name, e-mail (when visible) and time zone."""
        api = JiraApi(ctx)
        response = await api.get(api.api("/myself"))
        return User.from_api(response.json_object())

    @tool(read_only=True, group="users", scopes=READ_USER)
    async def search_users(
        self,
        ctx: ToolContext[JiraConfig],
        query: PeopleQuery,
        limit: Annotated[int, Limit(maximum=50, what="Users")] = 10,
        cursor: Cursor = None,
    ) -> UserList:
        """Find people by name or e-mail: their account ids (for assigning, mentioning, watchers) and names."""
        api = JiraApi(ctx)
        bind = {"query": query}
        start = start_at(cursor, bind)
        params = {"startAt": start, "maxResults": limit, "query" if api.cloud else "username": query}
        response = await api.get(api.api("/user/search"), params=params)
        return _page(api, response.json_list(of=dict), start, limit, bind)

    @tool(read_only=True, group="users", scopes=READ_USER)
    async def find_assignable_users(
        self,
        ctx: ToolContext[JiraConfig],
        issue: Annotated[IssueKey | None, Field(description="Who can be assigned this issue.")] = None,
        project: Annotated[ProjectKey | None, Field(description="Who can be assigned issues of this project.")] = None,
        query: Annotated[str | None, Field(max_length=200, description="Part of a name or e-mail address.")] = None,
        limit: Annotated[int, Limit(maximum=50, what="Users")] = 10,
        cursor: Cursor = None,
    ) -> UserList:
        """Find people who can be assigned an issue (or issues of a project), for jira_assign_issue."""
        if issue is None and project is None:
            raise InvalidArguments("give an issue or a project", [("issue", "issue or project required")])
        api = JiraApi(ctx)
        bind = {"issue": issue, "project": project, "query": query}
        start = start_at(cursor, bind)
        params: dict[str, Any] = {"startAt": start, "maxResults": limit, "issueKey": issue, "project": project}
        if query:
            params["query" if api.cloud else "username"] = query
        response = await api.get(api.api("/user/assignable/search"), params=params)
        return _page(api, response.json_list(of=dict), start, limit, bind)

    @tool(read_only=True, group="users", scopes=READ_USER)
    async def get_user(self, ctx: ToolContext[JiraConfig], user: AccountId) -> User:
        """Read one person by account id (user name on Data Center)."""
        api = JiraApi(ctx)
        response = await api.get(api.api("/user"), params={api.user_param: user})
        return User.from_api(response.json_object())

    @tool(read_only=True, group="users", scopes=READ_USER)
    async def find_user_by_email(
        self,
        ctx: ToolContext[JiraConfig],
        email: Annotated[str, Field(pattern=r"^[^@\s]{1,64}@[^@\s]{1,255}$", description="The e-mail address.")],
    ) -> UserList:
        """Look up the account behind an email address (where the profile's visibility shows it)."""
        api = JiraApi(ctx)
        params = {"query" if api.cloud else "username": email, "maxResults": 10}
        response = await api.get(api.api("/user/search"), params=params)
        users = [User.from_api(u) for u in response.json_list(of=dict)]
        exact = [u for u in users if (u.email or "").lower() == email.lower()]
        if exact:
            return UserList(items=exact)
        if not users:
            return UserList(items=[], note=f"No Jira user matches {email}.")
        return UserList(
            items=users,
            note=f"No listed user shows the e-mail address {email}: the site hides e-mail addresses (profile "
            "visibility), so these are the accounts Jira matched to it. Confirm with the person before relying on one.",
        )
