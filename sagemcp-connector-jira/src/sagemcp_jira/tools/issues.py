"""`issues` tools: JQL search, reading one or many issues, counting, creating, editing, assigning, history.

Search uses the enhanced JQL endpoint, `POST /rest/api/3/search/jql` with `nextPageToken` (the
older `/search` is being removed from Jira Cloud); Data Center searches with
`POST /rest/api/2/search` and `startAt`. Creating an issue starts from its create metadata (the
issue types of a project, then the fields of one type with the required ones), so a model can fill
every required field; fields can be named as people name them ("Story Points").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from sagemcp import Cursor, Limit, ToolContext, decode_cursor, encode_cursor, tool
from sagemcp.errors import InvalidArguments, UpstreamBadRequest

from .._api import JiraApi, segment
from .._fields import FieldCatalog
from .._pages import next_offset_cursor, start_at
from .._scopes import READ_WORK, READ_WRITE_WORK, WRITE_WORK
from ..models import (
    Changelog,
    ChangelogEntry,
    CreateMetadata,
    Done,
    EditMetadata,
    Issue,
    IssueCount,
    IssueList,
    IssueType,
    fields_from_api,
)
from ._common import Fields, IssueKey, IssueKeys, Jql, ProjectKey, issue_fields, issue_page

if TYPE_CHECKING:
    from ..connector import JiraConfig

__all__ = ["IssueDeletionTools", "IssuesTools", "apply_fields"]

Summary = Annotated[str, Field(min_length=1, max_length=255, description="The issue's one-line summary.")]
Labels = Annotated[
    list[Annotated[str, Field(pattern=r"^\S{1,255}$")]] | None,
    Field(max_length=50, description="Labels (no spaces in a label)."),
]
IssueTypeName = Annotated[
    str, Field(min_length=1, max_length=100, description="The issue type's name (Task, Bug, Story) or id.")
]
FieldValues = Annotated[
    dict[str, Any] | None,
    Field(
        max_length=50,
        description='Other fields by id or name, e.g. {"Story Points": 5, "customfield_10020": 42}, as Jira\'s REST '
        "API takes them (an option by name, a user by account id, rich text as Markdown); "
        "jira_get_create_metadata / jira_get_edit_metadata list them.",
    ),
]
DueDate = Annotated[str | None, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="Due date, YYYY-MM-DD.")]
_RESERVED = frozenset({"project", "issuetype", "summary", "description"})


async def apply_fields(
    api: JiraApi, target: dict[str, Any], fields: dict[str, Any] | None, argument: str = "fields"
) -> FieldCatalog | None:
    """Add `fields` (by id or name) to the `target` field map, values shaped for Jira; the catalog used, if any."""
    if not fields:
        return None
    catalog = await FieldCatalog.load(api)
    for name, value in fields.items():
        field = catalog.resolve(name, argument)
        field_id = str(field.get("id"))
        if field_id in target:
            raise InvalidArguments(
                f"the field {field_id} is given twice (as an argument and in {argument}); give it once",
                [(argument, f"duplicate field {field_id}")],
            )
        target[field_id] = catalog.shape(api, field, value)
    return catalog


def _explained(error: UpstreamBadRequest, catalog: FieldCatalog | None) -> UpstreamBadRequest:
    """Jira's field errors (`customfield_10016: ...`) with the fields' names, as the model named them."""
    if catalog is not None:
        error.message = catalog.rename_errors(error.message)
        error.args = (error.message,)
    return error


class IssuesTools:
    """The `issues` group."""

    @tool(read_only=True, group="issues", scopes=READ_WORK)
    async def search_issues(
        self,
        ctx: ToolContext[JiraConfig],
        jql: Jql,
        fields: Fields = None,
        limit: Annotated[int, Limit(maximum=100, what="Issues")] = 20,
        cursor: Cursor = None,
    ) -> IssueList:
        """Search issues with JQL: key, summary, status, type, priority, assignee, last update.

        For any list of issues, e.g. the open issues assigned to you: `assignee = currentUser() AND resolution =
        Unresolved`. One issue in full: jira_get_issue; just a number: jira_count_issues.
        """
        api = JiraApi(ctx)
        requested, extra = await issue_fields(api, fields)
        bind = {"jql": jql, "fields": requested}
        if api.cloud:
            body: dict[str, Any] = {"jql": jql, "maxResults": limit, "fields": requested}
            if cursor is not None:
                body["nextPageToken"] = str(decode_cursor(cursor, bind=bind).get("token", ""))
            response = await api.post(api.api("/search/jql"), json=body, idempotent=True)
            data = response.json_object()
            token = data.get("nextPageToken")
            more = isinstance(token, str) and token and data.get("isLast") is not True
            next_cursor = encode_cursor({"token": token}, bind=bind) if more else None
            return issue_page(api, response.json_list("issues", of=dict), extra, next_cursor=next_cursor)
        start = start_at(cursor, bind)
        body = {"jql": jql, "startAt": start, "maxResults": limit, "fields": requested}
        response = await api.post(api.api("/search"), json=body, idempotent=True)
        data = response.json_object()
        issues = response.json_list("issues", of=dict)
        return issue_page(
            api,
            issues,
            extra,
            next_cursor=next_offset_cursor(data, start, len(issues), bind),
            total=data.get("total"),
        )

    @tool(read_only=True, group="issues", scopes=READ_WORK)
    async def count_issues(self, ctx: ToolContext[JiraConfig], jql: Jql) -> IssueCount:
        """Count the issues a JQL query matches (approximate for large results on Jira Cloud)."""
        api = JiraApi(ctx)
        if api.cloud:
            response = await api.post(api.api("/search/approximate-count"), json={"jql": jql}, idempotent=True)
            count = response.json_object().get("count")
            return IssueCount(jql=jql, count=count if isinstance(count, int) else 0, approximate=True)
        body = {"jql": jql, "startAt": 0, "maxResults": 0, "fields": ["id"]}
        response = await api.post(api.api("/search"), json=body, idempotent=True)
        total = response.json_object().get("total")
        return IssueCount(jql=jql, count=total if isinstance(total, int) else 0, approximate=False)

    @tool(read_only=True, group="issues", scopes=READ_WORK)
    async def get_issue(
        self,
        ctx: ToolContext[JiraConfig],
        issue: IssueKey,
        comments: Annotated[int, Field(ge=0, le=50, description="Most recent comments to include (0-50).")] = 5,
        changes: Annotated[int, Field(ge=0, le=50, description="Most recent changelog entries (0-50).")] = 10,
    ) -> Issue:
        """Read one issue in full: fields (custom ones by name), Markdown description, links, sub-tasks.

        Also its recent comments and changes.
        """
        api = JiraApi(ctx)
        params = {"fields": "*all", "expand": "names,changelog" if changes else "names"}
        response = await api.get(api.api(f"/issue/{segment(issue)}"), params=params)
        data = response.json_object()
        names = data.get("names") if isinstance(data.get("names"), dict) else {}
        return Issue.from_api(data, api, comments=comments, changes=changes, names=names)

    @tool(read_only=True, group="issues", scopes=READ_WORK)
    async def get_issues(self, ctx: ToolContext[JiraConfig], issues: IssueKeys, fields: Fields = None) -> IssueList:
        """Read up to 50 issues at once by key or id: summary, status, type, priority, assignee, update."""
        api = JiraApi(ctx)
        requested, extra = await issue_fields(api, fields)
        if api.cloud:
            body: dict[str, Any] = {"issueIdsOrKeys": issues, "fields": requested}
            response = await api.post(api.api("/issue/bulkfetch"), json=body, idempotent=True)
            found = response.json_list("issues", of=dict)
        else:
            jql = f"issuekey in ({', '.join(issues)})"
            body = {
                "jql": jql,
                "startAt": 0,
                "maxResults": len(issues),
                "fields": requested,
                "validateQuery": "warn",
            }
            response = await api.post(api.api("/search"), json=body, idempotent=True)
            found = response.json_list("issues", of=dict)
        page = issue_page(api, found, extra, next_cursor=None)
        seen = {i.key.upper() for i in page.items} | {(i.id or "") for i in page.items}
        page.not_found = [key for key in issues if key.upper() not in seen]
        return page

    @tool(read_only=True, group="issues", scopes=READ_WORK)
    async def list_issue_changelog(
        self,
        ctx: ToolContext[JiraConfig],
        issue: IssueKey,
        limit: Annotated[int, Limit(maximum=100, what="Changes")] = 20,
        cursor: Cursor = None,
    ) -> Changelog:
        """List an issue's change history, oldest first: who changed which field from what to what, and when."""
        api = JiraApi(ctx)
        bind = {"issue": issue}
        start = start_at(cursor, bind)
        if api.cloud:
            params = {"startAt": start, "maxResults": limit}
            response = await api.get(api.api(f"/issue/{segment(issue)}/changelog"), params=params)
            data = response.json_object()
            values = response.json_list("values", of=dict)
            entries = [ChangelogEntry.from_api(v) for v in values]
            total = data.get("total") if isinstance(data.get("total"), int) else None
            next_cursor = next_offset_cursor(data, start, len(values), bind)
            return Changelog(key=issue, items=entries, next_cursor=next_cursor, total=total)
        # Data Center has no changelog endpoint: the issue's expanded changelog, paged here.
        params_dc = {"fields": "summary", "expand": "changelog"}
        response = await api.get(api.api(f"/issue/{segment(issue)}"), params=params_dc)
        changelog = response.json_object().get("changelog")
        histories = [h for h in (changelog or {}).get("histories") or [] if isinstance(h, dict)]
        window = histories[start : start + limit]
        following = start + len(window)
        next_cursor = encode_cursor({"start": following}, bind=bind) if following < len(histories) else None
        return Changelog(
            key=issue,
            items=[ChangelogEntry.from_api(h) for h in window],
            next_cursor=next_cursor,
            total=len(histories),
        )

    @tool(read_only=True, group="issues", scopes=READ_WORK)
    async def get_create_metadata(
        self,
        ctx: ToolContext[JiraConfig],
        project: ProjectKey,
        issue_type: Annotated[
            str | None,
            Field(max_length=100, description="An issue type's name or id: list its fields instead of the types."),
        ] = None,
        limit: Annotated[int, Limit(maximum=200, what="Entries")] = 100,
        cursor: Cursor = None,
    ) -> CreateMetadata:
        """What creating an issue takes: a project's issue types, or one type's fields (required first) and values.

        Call it before jira_create_issue.
        """
        api = JiraApi(ctx)
        base = api.api(f"/issue/createmeta/{segment(project)}/issuetypes")
        bind = {"project": project, "issue_type": issue_type}
        start = start_at(cursor, bind)
        params = {"startAt": start, "maxResults": limit}
        if issue_type is None:
            response = await api.get(base, params=params)
            data = response.json_object()
            raw = data.get("issueTypes") if "issueTypes" in data else data.get("values")
            types = [IssueType.from_api(t) for t in raw or [] if isinstance(t, dict)]
            return CreateMetadata(
                project=project, issue_types=types, next_cursor=next_offset_cursor(data, start, len(types), bind)
            )
        type_id, type_name = await _issue_type_id(api, base, issue_type)
        response = await api.get(f"{base}/{segment(type_id)}", params=params)
        data = response.json_object()
        raw_fields = data.get("fields") if "fields" in data else data.get("values")
        fields = sorted(fields_from_api(raw_fields), key=lambda f: (not f.required, f.name.lower()))
        return CreateMetadata(
            project=project,
            issue_type=type_name,
            fields=fields,
            next_cursor=next_offset_cursor(data, start, len(fields), bind),
        )

    @tool(read_only=True, group="issues", scopes=READ_WORK)
    async def get_edit_metadata(self, ctx: ToolContext[JiraConfig], issue: IssueKey) -> EditMetadata:
        """The fields of an issue that can be edited now, with types and allowed values (for jira_update_issue)."""
        api = JiraApi(ctx)
        response = await api.get(api.api(f"/issue/{segment(issue)}/editmeta"))
        fields = sorted(fields_from_api(response.json_object().get("fields")), key=lambda f: f.name.lower())
        return EditMetadata(key=issue, fields=fields)

    @tool(read_only=False, group="issues", destructive=False, idempotent=False, scopes=READ_WRITE_WORK)
    async def create_issue(
        self,
        ctx: ToolContext[JiraConfig],
        project: ProjectKey,
        issue_type: IssueTypeName,
        summary: Summary,
        description: Annotated[str | None, Field(max_length=100_000, description="The description, Markdown.")] = None,
        priority: Annotated[str | None, Field(max_length=100, description="Priority name (High, Medium...).")] = None,
        labels: Labels = None,
        components: Annotated[list[str] | None, Field(max_length=20, description="Component names.")] = None,
        assignee: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9:_.@+-]{1,128}$", description="Account id.")] = None,
        parent: Annotated[IssueKey | None, Field(description="Parent issue (for a sub-task, or an epic).")] = None,
        due_date: DueDate = None,
        fields: FieldValues = None,
    ) -> Done:
        """Create an issue; returns its key and URL.

        Fields without an argument of their own go in `fields` (jira_get_create_metadata lists them).
        """
        api = JiraApi(ctx)
        values: dict[str, Any] = {
            "project": {"id": project} if project.isdigit() else {"key": project},
            "issuetype": {"id": issue_type} if issue_type.isdigit() else {"name": issue_type},
            "summary": summary,
        }
        if description:
            values["description"] = api.rich_text(description)
        if priority:
            values["priority"] = {"name": priority}
        if labels:
            values["labels"] = labels
        if components:
            values["components"] = [{"name": name} for name in components]
        if assignee:
            values["assignee"] = api.user(assignee)
        if parent:
            values["parent"] = {"key": parent} if not parent.isdigit() else {"id": parent}
        if due_date:
            values["duedate"] = due_date
        catalog = await apply_fields(api, values, fields)
        try:
            response = await api.post(api.api("/issue"), json={"fields": values})
        except UpstreamBadRequest as exc:
            raise _explained(exc, catalog) from None
        created = response.json_object()
        key = str(created.get("key") or "")
        return Done(message=f"Created {key}.", key=key, id=str(created.get("id") or ""), url=api.browse_url(key))

    @tool(read_only=False, group="issues", destructive=False, idempotent=True, scopes=READ_WRITE_WORK)
    async def update_issue(
        self,
        ctx: ToolContext[JiraConfig],
        issue: IssueKey,
        summary: Annotated[str | None, Field(min_length=1, max_length=255, description="New summary.")] = None,
        description: Annotated[str | None, Field(max_length=100_000, description="New description, Markdown.")] = None,
        priority: Annotated[str | None, Field(max_length=100, description="New priority name.")] = None,
        labels: Annotated[Labels, Field(description="Replace all labels with these.")] = None,
        add_labels: Labels = None,
        remove_labels: Labels = None,
        due_date: DueDate = None,
        fields: FieldValues = None,
        notify: Annotated[bool, Field(description="Send Jira's notification e-mails to watchers.")] = True,
    ) -> Done:
        """Change an issue's summary, description, priority, labels, due date or other fields.

        Status: jira_transition_issue; assignee: jira_assign_issue.
        """
        api = JiraApi(ctx)
        values: dict[str, Any] = {}
        if summary is not None:
            values["summary"] = summary
        if description is not None:
            values["description"] = api.rich_text(description) if description else None
        if priority is not None:
            values["priority"] = {"name": priority}
        if labels is not None:
            values["labels"] = labels
        if due_date is not None:
            values["duedate"] = due_date
        catalog = await apply_fields(api, values, fields)
        update: dict[str, Any] = {}
        label_ops = [{"add": label} for label in add_labels or []] + [
            {"remove": label} for label in remove_labels or []
        ]
        if label_ops:
            if labels is not None:
                raise InvalidArguments(
                    "give either labels (replace all) or add_labels / remove_labels, not both",
                    [("labels", "conflicts with add_labels / remove_labels")],
                )
            update["labels"] = label_ops
        if not values and not update:
            raise InvalidArguments("nothing to change: give at least one field to update", [("issue", "no changes")])
        body: dict[str, Any] = {}
        if values:
            body["fields"] = values
        if update:
            body["update"] = update
        params = None if notify else {"notifyUsers": "false"}
        try:
            await api.put(api.api(f"/issue/{segment(issue)}"), json=body, params=params)
        except UpstreamBadRequest as exc:
            raise _explained(exc, catalog) from None
        changed = sorted({*values, *update})
        return Done(message=f"Updated {issue}: {', '.join(changed)}.", key=issue, url=api.browse_url(issue))

    @tool(read_only=False, group="issues", destructive=False, idempotent=True, scopes=WRITE_WORK)
    async def assign_issue(
        self,
        ctx: ToolContext[JiraConfig],
        issue: IssueKey,
        assignee: Annotated[
            str | None,
            Field(
                pattern=r"^[A-Za-z0-9:_.@+-]{1,128}$",
                description="The account id to assign (jira_find_assignable_users finds it); leave out to unassign.",
            ),
        ] = None,
    ) -> Done:
        """Assign an issue to a person, or unassign it."""
        api = JiraApi(ctx)
        if assignee is None:
            # The assign operation's schema takes no null account id; an edit clears the field instead.
            await api.put(api.api(f"/issue/{segment(issue)}"), json={"fields": {"assignee": None}})
        else:
            await api.put(api.api(f"/issue/{segment(issue)}/assignee"), json=api.user(assignee))
        message = f"Assigned {issue} to {assignee}." if assignee else f"Unassigned {issue}."
        return Done(message=message, key=issue, url=api.browse_url(issue))


class IssueDeletionTools:
    """The `issue_deletion` group: off by default, deleting issues cannot be undone."""

    @tool(read_only=False, group="issue_deletion", destructive=True, idempotent=False, scopes=WRITE_WORK)
    async def delete_issue(
        self,
        ctx: ToolContext[JiraConfig],
        issue: IssueKey,
        delete_subtasks: Annotated[
            bool, Field(description="Also delete its sub-tasks (Jira refuses to delete an issue that has some).")
        ] = False,
    ) -> Done:
        """Delete an issue for good (and its sub-tasks, when asked). This cannot be undone."""
        api = JiraApi(ctx)
        params = {"deleteSubtasks": "true" if delete_subtasks else "false"}
        await api.delete(api.api(f"/issue/{segment(issue)}"), params=params)
        return Done(message=f"Deleted {issue}" + (" and its sub-tasks." if delete_subtasks else "."), key=issue)


async def _issue_type_id(api: JiraApi, base: str, issue_type: str) -> tuple[str, str]:
    """The id and name of a project's issue type given by id or name (one request for a name)."""
    if issue_type.isdigit():
        return issue_type, issue_type
    response = await api.get(base, params={"startAt": 0, "maxResults": 200})
    data = response.json_object()
    raw = data.get("issueTypes") if "issueTypes" in data else data.get("values")
    types = [IssueType.from_api(t) for t in raw or [] if isinstance(t, dict)]
    for candidate in types:
        if candidate.name.lower() == issue_type.strip().lower():
            return candidate.id, candidate.name
    names = ", ".join(f"{t.name} ({t.id})" for t in types) or "none"
    raise InvalidArguments(
        f"the project has no issue type {issue_type!r}; its issue types: {names}",
        [("issue_type", f"unknown issue type {issue_type!r}")],
    )
