"""`watchers` tools: who watches an issue, and starting or stopping someone's watch."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from sagemcp import Cursor, Limit, ToolContext, tool
from sagemcp.errors import UpstreamBadResponse

from .._api import JiraApi, segment
from .._pages import local_page
from .._scopes import READ_USER, READ_WORK, WRITE_WORK
from ..models import Done, User, Watchers
from ._common import AccountId, IssueKey

if TYPE_CHECKING:
    from ..connector import JiraConfig

__all__ = ["WatchersTools"]


class WatchersTools:
    """The `watchers` group."""

    @tool(read_only=True, group="watchers", scopes=READ_WORK)
    async def list_watchers(
        self,
        ctx: ToolContext[JiraConfig],
        issue: IssueKey,
        limit: Annotated[int, Limit(maximum=100, what="Watchers")] = 50,
        cursor: Cursor = None,
    ) -> Watchers:
        """List who watches an issue (and whether the connected account does)."""
        api = JiraApi(ctx)
        response = await api.get(api.api(f"/issue/{segment(issue)}/watchers"))
        data = response.json_object()
        people = [User.from_api(u) for u in response.json_list("watchers", of=dict)]
        count = data.get("watchCount")
        people, next_cursor = local_page(people, cursor, limit, {"issue": issue})
        return Watchers(
            next_cursor=next_cursor,
            key=issue,
            count=count if isinstance(count, int) else len(people),
            watching=data.get("isWatching") is True,
            watchers=people,
        )

    @tool(read_only=False, group="watchers", destructive=False, idempotent=True, scopes=(*WRITE_WORK, *READ_USER))
    async def add_watcher(
        self,
        ctx: ToolContext[JiraConfig],
        issue: IssueKey,
        user: Annotated[AccountId | None, Field(description="The account id to add; leave out for yourself.")] = None,
    ) -> Done:
        """Make someone (or the connected account) watch an issue, so they are notified of changes."""
        api = JiraApi(ctx)
        path = api.api(f"/issue/{segment(issue)}/watchers")
        who = user
        if who is None:
            me = (await api.get(api.api("/myself"))).json_object()
            who = me.get(api.user_key) if isinstance(me.get(api.user_key), str) else None
            if not who:
                raise UpstreamBadResponse(
                    "Jira did not say who the connected account is (GET /myself)", provider="jira"
                )
        # The body is the account id (the user name on Data Center) as a JSON string.
        body = json.dumps(who).encode()
        await api.post(path, content=body, headers={"Content-Type": "application/json"}, idempotent=True)
        return Done(message=f"{user or 'You'} now watch{'es' if user else ''} {issue}.", key=issue)

    @tool(read_only=False, group="watchers", destructive=False, idempotent=True, scopes=WRITE_WORK)
    async def remove_watcher(self, ctx: ToolContext[JiraConfig], issue: IssueKey, user: AccountId) -> Done:
        """Stop someone watching an issue."""
        api = JiraApi(ctx)
        await api.delete(api.api(f"/issue/{segment(issue)}/watchers"), params={api.user_param: user}, idempotent=True)
        return Done(message=f"{user} no longer watches {issue}.", key=issue)
