"""`users_admin`: listing the account's users. Off by default: it needs an admin scope."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from sagemcp import Cursor, ToolContext, tool

from .._pages import DEFAULT_LIMIT, LimitArg, next_cursor, page_params
from ..models import User, UserList

if TYPE_CHECKING:
    from ..connector import ZoomConfig

__all__ = ["UsersAdminTools"]


class UsersAdminTools:
    """The `users_admin` group."""

    @tool(read_only=True, group="users_admin", scopes=("user:read:list_users:admin",))
    async def list_users(
        self,
        ctx: ToolContext[ZoomConfig],
        status: Annotated[
            Literal["active", "inactive", "pending"], Field(description="Active, deactivated, or invited users.")
        ] = "active",
        limit: LimitArg = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> UserList:
        """List the account's users: id, name, email, license type, time zone.

        Needs an admin's or a Server-to-Server credential.
        """
        bind = {"status": status}
        response = await ctx.http.get("/users", params={"status": status, **page_params(limit, cursor, bind)})
        data = response.json_object()
        return UserList(
            items=[User.from_api(u) for u in response.json_list("users", of=dict)],
            next_cursor=next_cursor(data, bind),
            status=status,
            total_records=data.get("total_records") if isinstance(data.get("total_records"), int) else None,
        )
