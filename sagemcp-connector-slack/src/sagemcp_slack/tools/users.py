"""Group `users`: people and user groups (read-only)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field

from sagemcp import Cursor, ToolContext, tool
from sagemcp.errors import InvalidArguments, LookupFailed

from .. import _api
from .._api import obj
from .._pagination import make_cursor, read_cursor, slack_next_cursor
from .._params import DEFAULT_LIMIT, LimitArg, UserArg
from .._resolve import Names
from ..models import Member, MemberPage, User, UserGroup, UserGroupPage, UserPage

__all__ = ["UserTools"]

_USERGROUP_ID_RE = re.compile(r"^S[A-Z0-9]{2,30}$")


def _offset(state: dict[str, object] | None) -> int:
    value = state.get("o") if state else 0
    return value if isinstance(value, int) else 0


class UserTools:
    """Looking people and user groups up."""

    @tool(read_only=True, group="users", scopes=("users:read",))
    async def list_users(
        self,
        ctx: ToolContext,
        include_bots: Annotated[bool, Field(description="Include bot users and apps.")] = False,
        include_deactivated: Annotated[bool, Field(description="Include deactivated accounts.")] = False,
        limit: LimitArg = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> UserPage:
        """List the workspace's people: id, @handle, names, title, email (if permitted)."""
        state = read_cursor(cursor)
        data, members = await _api.read_list(
            ctx, "users.list", "members", dict, {"limit": limit, "cursor": state.get("c") if state else None}
        )
        users = [
            user
            for user in map(User.from_api, members)
            if (include_bots or not (user.is_bot or user.id == "USLACKBOT"))
            and (include_deactivated or not user.deleted)
        ]
        following = slack_next_cursor(data)
        return UserPage(items=users, next_cursor=make_cursor(c=following) if following else None)

    @tool(read_only=True, group="users", scopes=("users:read",))
    async def get_user(self, ctx: ToolContext, user: UserArg) -> User:
        """Get one person's profile by user id, @handle or email: names, title, email, time zone, status."""
        names = Names(ctx)
        user_id = await names.user_id(user)
        if user_id not in names.users:
            data = await _api.read(ctx, "users.info", {"user": user_id})
            names.remember_user(data.get("user"))
        return User.from_api(names.users.get(user_id) or {"id": user_id})

    @tool(read_only=True, group="users", scopes=("users:read", "users:read.email"))
    async def find_user_by_email(
        self,
        ctx: ToolContext,
        email: Annotated[
            str,
            Field(
                pattern=r"^[^\s@<>,]+@[^\s@<>,]+\.[^\s@<>,]+$",
                max_length=254,
                description="The person's email address.",
            ),
        ],
    ) -> User:
        """Find a person by email address (needs the users:read.email scope)."""
        data = await _api.read(ctx, "users.lookupByEmail", {"email": email.strip()})
        user = obj(data.get("user"))
        if not user:
            raise LookupFailed(f"no Slack user has the email address {email}")
        return User.from_api(user)

    @tool(read_only=True, group="users", scopes=("users:read",))
    async def find_user_by_handle(
        self,
        ctx: ToolContext,
        handle: Annotated[
            str,
            Field(
                pattern=r"^@?[^\s,<>|@]{1,80}$",
                description="The @handle (with or without '@'); a display name or full name also matches.",
            ),
        ],
    ) -> User:
        """Find a person by @handle, else display name, else full name (prefer ids when known)."""
        names = Names(ctx)
        return User.from_api(await names.find_user(handle))

    @tool(read_only=True, group="users", scopes=("usergroups:read",))
    async def list_user_groups(
        self,
        ctx: ToolContext,
        include_disabled: Annotated[bool, Field(description="Include disabled user groups.")] = False,
        limit: LimitArg = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> UserGroupPage:
        """List user groups (@team handles): id, handle, name, description and member count."""
        state = read_cursor(cursor)
        start = _offset(state)
        _, raw = await _api.read_list(
            ctx, "usergroups.list", "usergroups", dict, {"include_count": True, "include_disabled": include_disabled}
        )
        groups = [UserGroup.from_api(g) for g in raw]
        page = groups[start : start + limit]
        more = start + limit < len(groups)
        return UserGroupPage(items=page, next_cursor=make_cursor(o=start + limit) if more else None)

    @tool(read_only=True, group="users", scopes=("usergroups:read", "users:read"))
    async def list_user_group_members(
        self,
        ctx: ToolContext,
        usergroup: Annotated[
            str,
            Field(
                pattern=r"^\s*(S[A-Z0-9]{2,30}|@[^\s,<>|@]{1,80})\s*$",
                description="User group id (S0123ABCD) or its @handle.",
            ),
        ],
        limit: LimitArg = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> MemberPage:
        """List the members of a user group, with display names."""
        state = read_cursor(cursor)
        start = _offset(state)
        group_id = usergroup.strip()
        if not _USERGROUP_ID_RE.match(group_id):
            wanted = group_id.lstrip("@").lower()
            _, raw = await _api.read_list(ctx, "usergroups.list", "usergroups", dict, {"include_disabled": False})
            match = next((g for g in map(UserGroup.from_api, raw) if (g.handle or "").lower() == wanted), None)
            if match is None:
                raise LookupFailed(f"no user group has the handle @{wanted}; list them with slack_list_user_groups")
            group_id = match.id
        _, ids = await _api.read_list(ctx, "usergroups.users.list", "users", str, {"usergroup": group_id})
        if start > len(ids):
            raise InvalidArguments("cursor is past the end of the list", errors=[("cursor", "past the end")])
        page = ids[start : start + limit]
        names = Names(ctx)
        await names.resolve_users(page)
        known = names.user_names()
        more = start + limit < len(ids)
        return MemberPage(
            items=[Member(id=i, name=known.get(i)) for i in page],
            next_cursor=make_cursor(o=start + limit) if more else None,
        )
