"""`versions` tools: a project's versions (releases): list, read, create."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from sagemcp import Cursor, Limit, ToolContext, tool

from .._api import JiraApi, segment
from .._pages import next_offset_cursor, start_at
from .._scopes import MANAGE_PROJECT, READ_WORK
from ..models import Version, VersionList
from ._common import ProjectKey

if TYPE_CHECKING:
    from ..connector import JiraConfig

__all__ = ["VersionsTools"]

VersionId = Annotated[str, Field(pattern=r"^[1-9][0-9]{0,18}$", description="The version id (jira_list_versions).")]
Day = Annotated[str | None, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD.")]


class VersionsTools:
    """The `versions` group."""

    @tool(read_only=True, group="versions", scopes=READ_WORK)
    async def list_versions(
        self,
        ctx: ToolContext[JiraConfig],
        project: ProjectKey,
        status: Annotated[
            Literal["released", "unreleased", "archived"] | None, Field(description="Only versions in this state.")
        ] = None,
        query: Annotated[
            str | None, Field(max_length=200, description="Only versions whose name contains this.")
        ] = None,
        limit: Annotated[int, Limit(maximum=100, what="Versions")] = 50,
        cursor: Cursor = None,
    ) -> VersionList:
        """List a project's versions, newest release date first: id, name, released, dates."""
        api = JiraApi(ctx)
        bind = {"project": project, "status": status, "query": query}
        start = start_at(cursor, bind)
        params = {"startAt": start, "maxResults": limit, "orderBy": "-releaseDate", "status": status, "query": query}
        response = await api.get(api.api(f"/project/{segment(project)}/version"), params=params)
        data = response.json_object()
        raw = response.json_list("values", of=dict)
        return VersionList(
            items=[Version.from_api(v) for v in raw], next_cursor=next_offset_cursor(data, start, len(raw), bind)
        )

    @tool(read_only=True, group="versions", scopes=READ_WORK)
    async def get_version(self, ctx: ToolContext[JiraConfig], version_id: VersionId) -> Version:
        """Read a version: name, state, start and release dates, description."""
        api = JiraApi(ctx)
        response = await api.get(api.api(f"/version/{segment(version_id)}"))
        return Version.from_api(response.json_object())

    @tool(read_only=False, group="versions", destructive=False, idempotent=False, scopes=(*MANAGE_PROJECT, *READ_WORK))
    async def create_version(
        self,
        ctx: ToolContext[JiraConfig],
        project: ProjectKey,
        name: Annotated[str, Field(min_length=1, max_length=255, description="The version's name, e.g. 2.4.0.")],
        description: Annotated[str | None, Field(max_length=1000, description="What it is.")] = None,
        start_date: Day = None,
        release_date: Day = None,
        released: Annotated[bool, Field(description="Mark it released already.")] = False,
    ) -> Version:
        """Create a version (release) in a project; it needs the Administer projects permission."""
        api = JiraApi(ctx)
        body: dict[str, Any] = {"name": name, "released": released}
        if project.isdigit():
            body["projectId"] = int(project)
        else:
            found = await api.get(api.api(f"/project/{segment(project)}"))
            project_id = found.json_object().get("id")
            body["projectId"] = (
                int(project_id) if isinstance(project_id, str | int) and str(project_id).isdigit() else 0
            )
        if description:
            body["description"] = description
        if start_date:
            body["startDate"] = start_date
        if release_date:
            body["releaseDate"] = release_date
        response = await api.post(api.api("/version"), json=body)
        return Version.from_api(response.json_object())
