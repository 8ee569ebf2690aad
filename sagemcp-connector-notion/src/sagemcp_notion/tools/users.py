"""`users` tools: the workspace's people and bots, one user, and the integration's own bot user."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from sagemcp import Cursor, Limit, ToolContext, decode_cursor, encode_cursor, tool

from .._ids import UserId
from ..models import BotUser, User, UserList

if TYPE_CHECKING:
    from ..connector import NotionConfig

__all__ = ["UserTools"]


class UserTools:
    """The `users` group (the integration needs the "Read user information" capability)."""

    @tool(read_only=True, group="users")
    async def list_users(
        self,
        ctx: ToolContext[NotionConfig],
        limit: Annotated[int, Limit(maximum=100)] = 50,
        cursor: Cursor = None,
    ) -> UserList:
        """List the workspace's people and bots with their ids (for people properties and mentions)."""
        params: dict[str, Any] = {"page_size": limit}
        if cursor is not None:
            params["start_cursor"] = str(decode_cursor(cursor).get("start_cursor", ""))
        response = await ctx.http.get("/v1/users", params=params)
        data = response.json_object()
        users = [User.from_api(item) for item in response.json_list("results", of=dict)]
        token = data.get("next_cursor") if data.get("has_more") is True else None
        return UserList(
            items=users,
            next_cursor=encode_cursor({"start_cursor": token}) if isinstance(token, str) and token else None,
        )

    @tool(read_only=True, group="users")
    async def get_user(self, ctx: ToolContext[NotionConfig], user_id: UserId) -> User:
        """Get one user: name, person or bot, and email when the integration may read emails."""
        return User.from_api((await ctx.http.get(f"/v1/users/{user_id}")).json_object())

    @tool(read_only=True, group="users")
    async def get_bot_user(self, ctx: ToolContext[NotionConfig]) -> BotUser:
        """Get the integration's own bot user and the workspace its token reaches (a cheap connection check)."""
        return BotUser.from_api((await ctx.http.get("/v1/users/me")).json_object())
