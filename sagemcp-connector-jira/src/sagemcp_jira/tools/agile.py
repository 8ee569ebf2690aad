"""`agile` tools (Jira Software): boards and their configuration, sprints, the backlog, epics.

The agile REST API (`/rest/agile/1.0`) is the same on Jira Cloud and Data Center. Its lists are
offset-based (`startAt`, `maxResults`, `isLast`); issue lists take a JQL filter and field selection
like jira_search_issues.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from sagemcp import Cursor, Limit, ToolContext, tool
from sagemcp.errors import InvalidArguments

from .._api import JiraApi, segment
from .._pages import next_offset_cursor, start_at
from .._scopes import (
    BACKLOG_READ,
    BACKLOG_WRITE,
    BOARD_CONFIG_READ,
    BOARD_READ,
    BOARDS_READ,
    EPIC_ISSUES_READ,
    EPICS_READ,
    SPRINT_ISSUES_READ,
    SPRINT_READ,
    SPRINT_WRITE,
)
from ..models import Board, BoardConfiguration, BoardList, Done, Epic, EpicList, IssueList, Sprint, SprintList
from ._common import BoardId, Fields, IssueKey, IssueKeys, ProjectKey, SprintId, issue_fields, issue_page

if TYPE_CHECKING:
    from ..connector import JiraConfig

__all__ = ["AgileTools"]

Moment = Annotated[
    str | None,
    Field(
        pattern=r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?)?$",
        description="Date and time, ISO 8601 (2024-05-01T09:00:00.000+02:00, or a date).",
    ),
]
Filter = Annotated[
    str | None, Field(max_length=10_000, description="JQL to narrow the issues, e.g. `assignee = currentUser()`.")
]
SprintName = Annotated[str, Field(min_length=1, max_length=255, description="The sprint's name.")]
Goal = Annotated[str | None, Field(max_length=5000, description="The sprint goal.")]


async def _issues(
    api: JiraApi, path: str, jql: str | None, fields: list[str] | None, limit: int, cursor: str | None, key: Any
) -> IssueList:
    requested, extra = await issue_fields(api, fields)
    bind = {"of": key, "jql": jql, "fields": requested}
    start = start_at(cursor, bind)
    params = {"startAt": start, "maxResults": limit, "jql": jql, "fields": ",".join(requested)}
    response = await api.get(path, params=params)
    data = response.json_object()
    issues = response.json_list("issues", of=dict)
    return issue_page(
        api, issues, extra, next_cursor=next_offset_cursor(data, start, len(issues), bind), total=data.get("total")
    )


async def _values(
    api: JiraApi, path: str, cursor: str | None, limit: int, bind: dict[str, Any], params: dict[str, Any]
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of an agile listing (boards, sprints, epics: `values`, offset-based) and the next page's cursor.

    `bind` ties the cursor to the arguments that shape the listing; `params` are the listing's own filters.
    """
    start = start_at(cursor, bind)
    response = await api.get(path, params={"startAt": start, "maxResults": limit, **params})
    data = response.json_object()
    raw = response.json_list("values", of=dict)
    return raw, next_offset_cursor(data, start, len(raw), bind)


class AgileTools:
    """The `agile` group."""

    @tool(read_only=True, group="agile", scopes=BOARDS_READ)
    async def list_boards(
        self,
        ctx: ToolContext[JiraConfig],
        project: Annotated[ProjectKey | None, Field(description="Only boards of this project (key or id).")] = None,
        name: Annotated[str | None, Field(max_length=200, description="Only boards whose name contains this.")] = None,
        type: Annotated[
            Literal["scrum", "kanban", "simple"] | None, Field(description="Only boards of this type.")
        ] = None,
        limit: Annotated[int, Limit(maximum=50, what="Boards")] = 25,
        cursor: Cursor = None,
    ) -> BoardList:
        """List Scrum and Kanban boards: id (for the sprint tools), name, type, project."""
        api = JiraApi(ctx)
        bind = {"project": project, "name": name, "type": type}
        params = {"projectKeyOrId": project, "name": name, "type": type}
        raw, following = await _values(api, api.agile("/board"), cursor, limit, bind, params)
        return BoardList(items=[Board.from_api(b) for b in raw], next_cursor=following)

    @tool(read_only=True, group="agile", scopes=BOARD_READ)
    async def get_board(self, ctx: ToolContext[JiraConfig], board_id: BoardId) -> Board:
        """Read a board: name, type and project."""
        api = JiraApi(ctx)
        response = await api.get(api.agile(f"/board/{board_id}"))
        return Board.from_api(response.json_object())

    @tool(read_only=True, group="agile", scopes=BOARD_CONFIG_READ)
    async def get_board_configuration(self, ctx: ToolContext[JiraConfig], board_id: BoardId) -> BoardConfiguration:
        """Read how a board is set up: its filter, columns and their statuses, estimation and rank fields."""
        api = JiraApi(ctx)
        response = await api.get(api.agile(f"/board/{board_id}/configuration"))
        return BoardConfiguration.from_api(response.json_object())

    @tool(read_only=True, group="agile", scopes=SPRINT_READ)
    async def list_sprints(
        self,
        ctx: ToolContext[JiraConfig],
        board_id: BoardId,
        state: Annotated[
            list[Literal["future", "active", "closed"]] | None,
            Field(max_length=3, description="Only sprints in these states (all by default)."),
        ] = None,
        limit: Annotated[int, Limit(maximum=50, what="Sprints")] = 25,
        cursor: Cursor = None,
    ) -> SprintList:
        """List a board's sprints: id, name, state, dates and goal."""
        api = JiraApi(ctx)
        states = ",".join(dict.fromkeys(state)) if state else None
        bind = {"board": board_id, "state": states}
        path = api.agile(f"/board/{board_id}/sprint")
        raw, following = await _values(api, path, cursor, limit, bind, {"state": states})
        return SprintList(items=[Sprint.from_api(s) for s in raw], next_cursor=following)

    @tool(read_only=True, group="agile", scopes=SPRINT_READ)
    async def get_sprint(self, ctx: ToolContext[JiraConfig], sprint_id: SprintId) -> Sprint:
        """Read a sprint: name, state, dates, goal and board."""
        api = JiraApi(ctx)
        response = await api.get(api.agile(f"/sprint/{sprint_id}"))
        return Sprint.from_api(response.json_object())

    @tool(read_only=False, group="agile", destructive=False, idempotent=False, scopes=SPRINT_WRITE)
    async def create_sprint(
        self,
        ctx: ToolContext[JiraConfig],
        board_id: BoardId,
        name: SprintName,
        start_date: Moment = None,
        end_date: Moment = None,
        goal: Goal = None,
    ) -> Sprint:
        """Create a future sprint on a board."""
        api = JiraApi(ctx)
        body: dict[str, Any] = {"name": name, "originBoardId": board_id}
        if start_date:
            body["startDate"] = start_date
        if end_date:
            body["endDate"] = end_date
        if goal:
            body["goal"] = goal
        response = await api.post(api.agile("/sprint"), json=body)
        return Sprint.from_api(response.json_object())

    @tool(read_only=False, group="agile", destructive=False, idempotent=True, scopes=SPRINT_WRITE)
    async def update_sprint(
        self,
        ctx: ToolContext[JiraConfig],
        sprint_id: SprintId,
        name: Annotated[str | None, Field(min_length=1, max_length=255, description="New name.")] = None,
        state: Annotated[
            Literal["active", "closed"] | None,
            Field(description="active starts a future sprint (it needs start and end dates); closed completes it."),
        ] = None,
        start_date: Moment = None,
        end_date: Moment = None,
        goal: Goal = None,
    ) -> Sprint:
        """Change a sprint: rename it, set its dates or goal, start it or complete it."""
        api = JiraApi(ctx)
        body: dict[str, Any] = {}
        for key, value in (
            ("name", name),
            ("state", state),
            ("startDate", start_date),
            ("endDate", end_date),
            ("goal", goal),
        ):
            if value is not None:
                body[key] = value
        if not body:
            raise InvalidArguments(
                "nothing to change: give a name, state, dates or goal", [("sprint_id", "no changes")]
            )
        response = await api.post(api.agile(f"/sprint/{sprint_id}"), json=body)
        return Sprint.from_api(response.json_object())

    @tool(read_only=True, group="agile", scopes=SPRINT_ISSUES_READ)
    async def list_sprint_issues(
        self,
        ctx: ToolContext[JiraConfig],
        sprint_id: SprintId,
        jql: Filter = None,
        fields: Fields = None,
        limit: Annotated[int, Limit(maximum=100, what="Issues")] = 50,
        cursor: Cursor = None,
    ) -> IssueList:
        """List the issues in a sprint (optionally narrowed by JQL): status, assignee, priority.

        The current sprint is the `active` one in jira_list_sprints.
        """
        api = JiraApi(ctx)
        return await _issues(api, api.agile(f"/sprint/{sprint_id}/issue"), jql, fields, limit, cursor, sprint_id)

    @tool(read_only=False, group="agile", destructive=False, idempotent=True, scopes=SPRINT_WRITE)
    async def move_issues_to_sprint(self, ctx: ToolContext[JiraConfig], sprint_id: SprintId, issues: IssueKeys) -> Done:
        """Move up to 50 issues into a sprint (open or future)."""
        api = JiraApi(ctx)
        await api.post(api.agile(f"/sprint/{sprint_id}/issue"), json={"issues": issues}, idempotent=True)
        return Done(message=f"Moved {', '.join(issues)} to sprint {sprint_id}.")

    @tool(read_only=True, group="agile", scopes=BACKLOG_READ)
    async def list_backlog_issues(
        self,
        ctx: ToolContext[JiraConfig],
        board_id: BoardId,
        jql: Filter = None,
        fields: Fields = None,
        limit: Annotated[int, Limit(maximum=100, what="Issues")] = 50,
        cursor: Cursor = None,
    ) -> IssueList:
        """List a board's backlog (issues in no open sprint), in rank order."""
        api = JiraApi(ctx)
        return await _issues(api, api.agile(f"/board/{board_id}/backlog"), jql, fields, limit, cursor, board_id)

    @tool(read_only=False, group="agile", destructive=False, idempotent=True, scopes=BACKLOG_WRITE)
    async def move_issues_to_backlog(self, ctx: ToolContext[JiraConfig], issues: IssueKeys) -> Done:
        """Move up to 50 issues out of their sprints, back to the backlog."""
        api = JiraApi(ctx)
        await api.post(api.agile("/backlog/issue"), json={"issues": issues}, idempotent=True)
        return Done(message=f"Moved {', '.join(issues)} to the backlog.")

    @tool(read_only=True, group="agile", scopes=EPICS_READ)
    async def list_epics(
        self,
        ctx: ToolContext[JiraConfig],
        board_id: BoardId,
        done: Annotated[bool | None, Field(description="Only done (true) or open (false) epics.")] = None,
        limit: Annotated[int, Limit(maximum=50, what="Epics")] = 25,
        cursor: Cursor = None,
    ) -> EpicList:
        """List a board's epics: key, name, summary and whether done."""
        api = JiraApi(ctx)
        bind = {"board": board_id, "done": done}
        params: dict[str, Any] = {}
        if done is not None:
            params["done"] = "true" if done else "false"
        path = api.agile(f"/board/{board_id}/epic")
        raw, following = await _values(api, path, cursor, limit, bind, params)
        return EpicList(items=[Epic.from_api(e) for e in raw], next_cursor=following)

    @tool(read_only=True, group="agile", scopes=EPIC_ISSUES_READ)
    async def list_epic_issues(
        self,
        ctx: ToolContext[JiraConfig],
        epic: Annotated[IssueKey, Field(description="The epic's key or id.")],
        jql: Filter = None,
        fields: Fields = None,
        limit: Annotated[int, Limit(maximum=100, what="Issues")] = 50,
        cursor: Cursor = None,
    ) -> IssueList:
        """List the issues in an epic (optionally narrowed by JQL)."""
        api = JiraApi(ctx)
        return await _issues(api, api.agile(f"/epic/{segment(epic)}/issue"), jql, fields, limit, cursor, epic)
