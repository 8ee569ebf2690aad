"""`notifications` tools: the authenticated user's GitHub inbox."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from sagemcp import Cursor, Limit, ToolContext, tool
from sagemcp.errors import InvalidArguments

from .._pagination import next_cursor, page_params
from .._params import segment
from .._scopes import NOTIFICATIONS
from ..models import ActionResult, Notification, NotificationList

__all__ = ["NotificationsTools"]

_SCOPES = NOTIFICATIONS

OptionalOwner = Annotated[
    str | None,
    Field(max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="With `repo`: only this repository's."),
]
OptionalRepo = Annotated[
    str | None, Field(max_length=100, pattern=r"^[A-Za-z0-9_.-]+$", description="With `owner`: the repository name.")
]


def _scope_path(owner: str | None, repo: str | None) -> str:
    if bool(owner) != bool(repo):
        raise InvalidArguments("give both owner and repo, or neither", errors=[("repo", "owner and repo go together")])
    if owner and repo:
        return f"/repos/{segment(owner, 'owner')}/{segment(repo, 'repo')}/notifications"
    return "/notifications"


class NotificationsTools:
    """Tools for notifications."""

    @tool(read_only=True, group="notifications", scopes=_SCOPES)
    async def list_notifications(
        self,
        ctx: ToolContext,
        include_read: Annotated[bool, Field(description="Also show notifications already marked as read.")] = False,
        participating: Annotated[
            bool, Field(description="Only those where you participate or are mentioned directly.")
        ] = False,
        since: Annotated[
            str | None, Field(max_length=40, description="Only those updated after this ISO 8601 time.")
        ] = None,
        owner: OptionalOwner = None,
        repo: OptionalRepo = None,
        limit: Annotated[int, Limit(maximum=50, what="Notifications")] = 20,
        cursor: Cursor = None,
    ) -> NotificationList:
        """List your GitHub notifications, newest first: reason, title, type, repository, URL.

        An item's `id` is the thread id for github_mark_notification_read.
        """
        params: dict[str, Any] = {
            "all": "true" if include_read else None,
            "participating": "true" if participating else None,
            "since": since,
            **page_params(limit, cursor, maximum=50),
        }
        response = await ctx.http.get(_scope_path(owner, repo), params=params)
        return NotificationList(
            items=[Notification.from_api(n) for n in response.json_list(of=dict)], next_cursor=next_cursor(response)
        )

    @tool(read_only=False, group="notifications", destructive=False, idempotent=True, scopes=_SCOPES)
    async def mark_notification_read(
        self,
        ctx: ToolContext,
        thread_id: Annotated[
            str, Field(min_length=1, max_length=32, pattern=r"^[0-9]+$", description="The notification `id`.")
        ],
    ) -> ActionResult:
        """Mark one notification thread as read."""
        await ctx.http.patch(f"/notifications/threads/{segment(thread_id, 'thread_id')}")
        return ActionResult(accepted=True, message=f"Notification {thread_id} marked as read.")

    @tool(read_only=False, group="notifications", destructive=False, idempotent=True, scopes=_SCOPES)
    async def mark_notifications_read(
        self,
        ctx: ToolContext,
        last_read_at: Annotated[
            str | None,
            Field(max_length=40, description="Only notifications updated before this ISO 8601 time (default: now)."),
        ] = None,
        owner: OptionalOwner = None,
        repo: OptionalRepo = None,
    ) -> ActionResult:
        """Mark all your notifications (or one repository's) as read, up to `last_read_at`."""
        payload: dict[str, Any] = {"read": True} if not (owner or repo) else {}
        if last_read_at:
            payload["last_read_at"] = last_read_at
        response = await ctx.http.put(_scope_path(owner, repo), json=payload)
        if response.status == 202:
            return ActionResult(accepted=True, message="GitHub is marking the notifications as read in the background.")
        return ActionResult(accepted=True, message="Notifications marked as read.")
