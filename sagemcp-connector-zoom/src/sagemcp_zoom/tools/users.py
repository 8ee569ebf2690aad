"""`users`: the connected user, and any user of the account by id or email."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sagemcp import ToolContext, tool

from .._ids import UserRef
from .._scopes import USER_READ
from ..models import User
from ._common import user_segment

if TYPE_CHECKING:
    from ..connector import ZoomConfig

__all__ = ["UsersTools"]


class UsersTools:
    """The `users` group."""

    @tool(read_only=True, group="users", scopes=(USER_READ,))
    async def get_me(self, ctx: ToolContext[ZoomConfig]) -> User:
        """Get the connected Zoom user (whom `user_id=me` means): name, email, license, role, time zone."""
        response = await ctx.http.get("/users/me")
        return User.from_api(response.json_object())

    @tool(read_only=True, group="users", scopes=(USER_READ,))
    async def get_user(self, ctx: ToolContext[ZoomConfig], user_id: UserRef) -> User:
        """Get a user of the account by id or email: name, license type, role, status, time zone."""
        response = await ctx.http.get(f"/users/{user_segment(user_id)}")
        return User.from_api(response.json_object())
