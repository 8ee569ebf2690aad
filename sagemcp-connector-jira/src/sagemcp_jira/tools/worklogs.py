"""`worklogs` tools: time logged on an issue, and logging more."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from sagemcp import Cursor, Limit, ToolContext, tool

from .._api import JiraApi, segment
from .._pages import next_offset_cursor, start_at
from .._scopes import READ_WORK, WRITE_WORK
from ..models import Worklog, WorklogList
from ._common import IssueKey

if TYPE_CHECKING:
    from ..connector import JiraConfig

__all__ = ["WorklogsTools"]

_STARTED = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}$"


class WorklogsTools:
    """The `worklogs` group."""

    @tool(read_only=True, group="worklogs", scopes=READ_WORK)
    async def list_worklogs(
        self,
        ctx: ToolContext[JiraConfig],
        issue: IssueKey,
        limit: Annotated[int, Limit(maximum=100, what="Worklogs")] = 20,
        cursor: Cursor = None,
    ) -> WorklogList:
        """List the time logged on an issue: who, when, how long, and the worklog comment."""
        api = JiraApi(ctx)
        bind = {"issue": issue}
        start = start_at(cursor, bind)
        response = await api.get(
            api.api(f"/issue/{segment(issue)}/worklog"), params={"startAt": start, "maxResults": limit}
        )
        data = response.json_object()
        raw = response.json_list("worklogs", of=dict)[:limit]  # Data Center may answer with every worklog
        items = [Worklog.from_api(w, api) for w in raw]
        total = data.get("total")
        return WorklogList(
            key=issue,
            items=items,
            total=total if isinstance(total, int) else None,
            total_seconds=sum(w.seconds or 0 for w in items),
            next_cursor=next_offset_cursor(data, start, len(raw), bind),
        )

    @tool(read_only=False, group="worklogs", destructive=False, idempotent=False, scopes=WRITE_WORK)
    async def add_worklog(
        self,
        ctx: ToolContext[JiraConfig],
        issue: IssueKey,
        time_spent: Annotated[
            str,
            Field(pattern=r"^\s*(\d+(\.\d+)?\s*[wdhm]\s*)+$", description="Time spent in Jira's notation: 3h 20m, 1d."),
        ],
        started: Annotated[
            str | None,
            Field(
                pattern=_STARTED,
                description="When the work started, e.g. 2024-05-01T09:00:00.000+0000 (now if left out).",
            ),
        ] = None,
        comment: Annotated[str | None, Field(max_length=100_000, description="What was done, Markdown.")] = None,
        adjust_estimate: Annotated[
            Literal["auto", "leave"], Field(description="auto reduces the remaining estimate; leave keeps it.")
        ] = "auto",
    ) -> Worklog:
        """Log time spent on an issue."""
        api = JiraApi(ctx)
        body: dict[str, Any] = {"timeSpent": " ".join(time_spent.split())}
        if started:
            body["started"] = started
        if comment:
            body["comment"] = api.rich_text(comment)
        response = await api.post(
            api.api(f"/issue/{segment(issue)}/worklog"), json=body, params={"adjustEstimate": adjust_estimate}
        )
        return Worklog.from_api(response.json_object(), api)
