"""`projects` tools: projects, their components, issue types and statuses, and the site's fields.

Jira Cloud pages projects and components (`/project/search`, `/project/{key}/component`); Data
Center answers with whole lists (`/project`, `/project/{key}/components`), paged here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from sagemcp import Cursor, Limit, ToolContext, tool

from .._api import JiraApi, segment
from .._pages import local_page, next_offset_cursor, start_at
from .._scopes import READ_WORK
from ..models import (
    Component,
    ComponentList,
    FieldList,
    IssueType,
    IssueTypeList,
    IssueTypeStatuses,
    JiraField,
    Project,
    ProjectList,
    StatusList,
)
from ._common import ProjectKey

if TYPE_CHECKING:
    from ..connector import JiraConfig

__all__ = ["ProjectsTools"]

Query = Annotated[str | None, Field(max_length=200, description="Only those whose name (or key) contains this.")]


def _matches(query: str | None, *values: Any) -> bool:
    if not query:
        return True
    wanted = query.strip().lower()
    return any(isinstance(v, str) and wanted in v.lower() for v in values)


class ProjectsTools:
    """The `projects` group."""

    @tool(read_only=True, group="projects", scopes=READ_WORK)
    async def list_projects(
        self,
        ctx: ToolContext[JiraConfig],
        query: Query = None,
        limit: Annotated[int, Limit(maximum=100, what="Projects")] = 50,
        cursor: Cursor = None,
    ) -> ProjectList:
        """List the projects the account can see: key, name, id, type and lead."""
        api = JiraApi(ctx)
        bind = {"query": query}
        if api.cloud:
            start = start_at(cursor, bind)
            params = {"startAt": start, "maxResults": limit, "query": query, "orderBy": "key"}
            response = await api.get(api.api("/project/search"), params=params)
            data = response.json_object()
            raw = response.json_list("values", of=dict)
            return ProjectList(
                items=[Project.from_api(p, api) for p in raw],
                next_cursor=next_offset_cursor(data, start, len(raw), bind),
            )
        response = await api.get(api.api("/project"))
        every = [p for p in response.json_list(of=dict) if _matches(query, p.get("name"), p.get("key"))]
        window, next_cursor = local_page(every, cursor, limit, bind)
        return ProjectList(items=[Project.from_api(p, api) for p in window], next_cursor=next_cursor)

    @tool(read_only=True, group="projects", scopes=READ_WORK)
    async def get_project(self, ctx: ToolContext[JiraConfig], project: ProjectKey) -> Project:
        """Read a project: key, name, type, lead, description and its issue types."""
        api = JiraApi(ctx)
        response = await api.get(api.api(f"/project/{segment(project)}"))
        return Project.from_api(response.json_object(), api)

    @tool(read_only=True, group="projects", scopes=READ_WORK)
    async def list_components(
        self,
        ctx: ToolContext[JiraConfig],
        project: ProjectKey,
        query: Query = None,
        limit: Annotated[int, Limit(maximum=100, what="Components")] = 50,
        cursor: Cursor = None,
    ) -> ComponentList:
        """List a project's components (their names go in jira_create_issue's `components`)."""
        api = JiraApi(ctx)
        bind = {"project": project, "query": query}
        if api.cloud:
            start = start_at(cursor, bind)
            params = {"startAt": start, "maxResults": limit, "query": query}
            response = await api.get(api.api(f"/project/{segment(project)}/component"), params=params)
            data = response.json_object()
            raw = response.json_list("values", of=dict)
            return ComponentList(
                items=[Component.from_api(c) for c in raw], next_cursor=next_offset_cursor(data, start, len(raw), bind)
            )
        response = await api.get(api.api(f"/project/{segment(project)}/components"))
        every = [c for c in response.json_list(of=dict) if _matches(query, c.get("name"))]
        window, next_cursor = local_page(every, cursor, limit, bind)
        return ComponentList(items=[Component.from_api(c) for c in window], next_cursor=next_cursor)

    @tool(read_only=True, group="projects", scopes=READ_WORK)
    async def list_issue_types(
        self,
        ctx: ToolContext[JiraConfig],
        project: Annotated[ProjectKey | None, Field(description="A project key: its issue types only.")] = None,
        limit: Annotated[int, Limit(maximum=100, what="Issue types")] = 50,
        cursor: Cursor = None,
    ) -> IssueTypeList:
        """List issue types (of a project or the site): id, name, and whether it is a sub-task."""
        api = JiraApi(ctx)
        if project is not None:
            response = await api.get(api.api(f"/project/{segment(project)}"))
            raw = response.json_object().get("issueTypes") or []
        else:
            response = await api.get(api.api("/issuetype"))
            raw = response.json_list(of=dict)
        every = [IssueType.from_api(t) for t in raw if isinstance(t, dict)]
        window, next_cursor = local_page(every, cursor, limit, {"project": project})
        return IssueTypeList(items=window, next_cursor=next_cursor)

    @tool(read_only=True, group="projects", scopes=READ_WORK)
    async def list_statuses(
        self,
        ctx: ToolContext[JiraConfig],
        project: ProjectKey,
        limit: Annotated[int, Limit(maximum=50, what="Issue types")] = 20,
        cursor: Cursor = None,
    ) -> StatusList:
        """List a project's statuses by issue type, with their categories (To Do, In Progress, Done)."""
        api = JiraApi(ctx)
        response = await api.get(api.api(f"/project/{segment(project)}/statuses"))
        types = []
        for entry in response.json_list(of=dict):
            statuses = []
            for status in entry.get("statuses") or []:
                if not isinstance(status, dict):
                    continue
                category = status.get("statusCategory")
                label = str(status.get("name") or "")
                if isinstance(category, dict) and category.get("name"):
                    label += f" ({category['name']})"
                statuses.append(label)
            types.append(
                IssueTypeStatuses(issue_type=str(entry.get("name") or entry.get("id") or ""), statuses=statuses)
            )
        window, next_cursor = local_page(types, cursor, limit, {"project": project})
        return StatusList(project=project, issue_types=window, next_cursor=next_cursor)

    @tool(read_only=True, group="projects", scopes=READ_WORK)
    async def list_fields(
        self,
        ctx: ToolContext[JiraConfig],
        query: Annotated[
            str | None,
            Field(max_length=200, description="Only fields whose name or id contains this, e.g. Story Points."),
        ] = None,
        custom_only: Annotated[bool, Field(description="Only custom fields.")] = False,
        limit: Annotated[int, Limit(maximum=200, what="Fields")] = 50,
        cursor: Cursor = None,
    ) -> FieldList:
        """Find fields by name and get their ids ("Story Points" is often `customfield_10016`)."""
        api = JiraApi(ctx)
        response = await api.get(api.api("/field"))
        every = [
            JiraField.from_api(f)
            for f in response.json_list(of=dict)
            if _matches(query, f.get("name"), f.get("id")) and (f.get("custom") is True or not custom_only)
        ]
        every.sort(
            key=lambda f: (query is not None and f.name.lower() != (query or "").strip().lower(), f.name.lower())
        )
        window, next_cursor = local_page(every, cursor, limit, {"query": query, "custom_only": custom_only})
        return FieldList(items=window, next_cursor=next_cursor)
