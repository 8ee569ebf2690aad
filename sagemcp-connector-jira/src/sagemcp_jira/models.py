"""What the Jira tools return: trimmed shapes converted from Jira's JSON by `from_api`.

Each model keeps what a person or a model needs to answer and to make the next call (keys, ids,
names, statuses, people with their account ids, dates as Jira sends them, web URLs) and renders
itself as compact Markdown (`to_markdown`), the text the model reads beside `structuredContent`.
Rich text (ADF on Cloud, wiki markup on Data Center) arrives as Markdown; long bodies are cut with
core's truncation marker, which says how to read the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from sagemcp import Page, clip
from sagemcp.markdown import Column, bullets, page_footer, page_table, table

from ._values import as_int, field_value, name_of, obj, short_time, text, user_id, user_name

if TYPE_CHECKING:
    from ._api import JiraApi

__all__ = [
    "Attachment",
    "AttachmentContent",
    "AttachmentList",
    "Board",
    "BoardColumn",
    "BoardConfiguration",
    "BoardList",
    "ChangeItem",
    "Changelog",
    "ChangelogEntry",
    "Comment",
    "CommentList",
    "Component",
    "ComponentList",
    "CreateMetadata",
    "Done",
    "EditMetadata",
    "Epic",
    "EpicList",
    "FieldList",
    "FieldMeta",
    "Issue",
    "IssueCount",
    "IssueLink",
    "IssueLinkList",
    "IssueList",
    "IssueRef",
    "IssueSummary",
    "IssueType",
    "IssueTypeList",
    "IssueTypeStatuses",
    "JiraField",
    "LinkType",
    "LinkTypeList",
    "Project",
    "ProjectList",
    "RemoteLink",
    "RemoteLinkList",
    "Sprint",
    "SprintList",
    "StatusList",
    "Transition",
    "TransitionList",
    "User",
    "UserList",
    "Version",
    "VersionList",
    "Watchers",
    "Worklog",
    "WorklogList",
]

DESCRIPTION_LIMIT = 12_000
"""Characters of an issue description shown by jira_get_issue."""
COMMENT_LIMIT = 3_000
"""Characters of one comment body shown."""
ALLOWED_VALUES_SHOWN = 25
"""Allowed values listed per field in create / edit / transition metadata."""


def _join(*parts: str) -> str:
    return "\n\n".join(p for p in parts if p)


def _facts(pairs: Iterable[tuple[str, Any]]) -> str:
    """`**Label:** value` pairs on one line each, leaving out empty values."""
    return "\n".join(f"**{label}:** {value}" for label, value in pairs if value not in (None, "", []))


def _who(name: str | None, ident: str | None) -> str | None:
    if not name:
        return ident
    return f"{name} ({ident})" if ident and ident != name else name


# -- users ----------------------------------------------------------------------------------------


class User(BaseModel):
    """A Jira user; `id` is what assignment and mentions take (the account id; the user name on Data Center)."""

    id: str
    display_name: str | None = None
    email: str | None = Field(default=None, description="Shown only when the user's privacy settings allow it.")
    active: bool | None = None
    time_zone: str | None = None
    account_type: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> User:
        return cls(
            id=user_id(data) or "",
            display_name=text(data.get("displayName")),
            email=text(data.get("emailAddress")),
            active=data.get("active") if isinstance(data.get("active"), bool) else None,
            time_zone=text(data.get("timeZone")),
            account_type=text(data.get("accountType")),
        )

    def to_markdown(self) -> str:
        head = f"**{self.display_name or self.id}** (id `{self.id}`)"
        facts = _facts(
            [
                ("E-mail", self.email),
                ("Active", None if self.active is None else ("yes" if self.active else "no")),
                ("Time zone", self.time_zone),
                ("Account type", self.account_type),
            ]
        )
        return _join(head, facts)


class UserList(Page[User]):
    """A page of users; pass `next_cursor` back as `cursor` for more."""

    note: str | None = None

    def to_markdown(self) -> str:
        body = page_table(self, [("id", "id"), ("name", "display_name"), "email", "active"], title="Users")
        return _join(body, f"_{self.note}_" if self.note else "")


# -- issues ---------------------------------------------------------------------------------------


class IssueRef(BaseModel):
    """Another issue named by this one (parent, sub-task, linked issue)."""

    key: str
    summary: str | None = None
    status: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> IssueRef:
        fields = obj(data, "fields")
        return cls(
            key=text(data.get("key")) or text(data.get("id")) or "",
            summary=text(fields.get("summary")),
            status=name_of(fields.get("status")),
        )

    def label(self) -> str:
        extra = ", ".join(p for p in (self.status, self.summary) if p)
        return f"{self.key} ({extra})" if extra else self.key


class IssueSummary(BaseModel):
    """One issue of a search or list: key, summary, status, people, dates, and the extra fields asked for."""

    key: str
    id: str | None = None
    summary: str | None = None
    status: str | None = None
    status_category: str | None = Field(default=None, description="To Do, In Progress or Done.")
    issue_type: str | None = None
    priority: str | None = None
    assignee: str | None = None
    assignee_id: str | None = None
    updated: str | None = None
    url: str | None = None
    fields: dict[str, str] = Field(
        default_factory=dict, description="Other requested fields by id, as short text (rich text as plain text)."
    )

    @classmethod
    def from_api(cls, data: Mapping[str, Any], api: JiraApi | None = None, extra: Sequence[str] = ()) -> IssueSummary:
        fields = obj(data, "fields")
        status = fields.get("status")
        category = status.get("statusCategory") if isinstance(status, Mapping) else None
        key = text(data.get("key")) or text(data.get("id")) or ""
        shown = {}
        for name in extra:
            value = field_value(fields.get(name))
            if value is not None:
                shown[name] = value
        return cls(
            key=key,
            id=text(data.get("id")),
            summary=text(fields.get("summary")),
            status=name_of(status),
            status_category=name_of(category),
            issue_type=name_of(fields.get("issuetype")),
            priority=name_of(fields.get("priority")),
            assignee=user_name(fields.get("assignee")),
            assignee_id=user_id(fields.get("assignee")),
            updated=text(fields.get("updated")),
            url=api.browse_url(key) if api is not None else None,
            fields=shown,
        )


_ISSUE_COLUMNS: list[Column] = [
    "key",
    "summary",
    "status",
    ("type", "issue_type"),
    "priority",
    "assignee",
    ("updated", lambda issue: short_time(issue.updated)),
]


class IssueList(Page[IssueSummary]):
    """A page of issues; pass `next_cursor` back as `cursor` for the next page."""

    total: int | None = Field(default=None, description="How many issues match, when Jira says.")
    not_found: list[str] = Field(default_factory=list, description="Requested issues Jira did not return.")

    def to_markdown(self) -> str:
        extra = sorted({name for issue in self.items for name in issue.fields})
        columns = list(_ISSUE_COLUMNS) + [(name, _field_getter(name)) for name in extra]
        title = "Issues" if self.total is None else f"Issues of {self.total}"
        missing = f"_Not found, or not visible to the connected account: {', '.join(self.not_found)}._"
        return _join(page_table(self, columns, title=title, max_cell=80), missing if self.not_found else "")


def _field_getter(name: str) -> Any:
    return lambda issue: issue.fields.get(name)


class IssueCount(BaseModel):
    """How many issues a JQL query matches."""

    jql: str
    count: int
    approximate: bool = True

    def to_markdown(self) -> str:
        about = "about " if self.approximate else ""
        return f"{about}{self.count:,} issues match `{self.jql}`"


class ChangeItem(BaseModel):
    """One field changed in a changelog entry."""

    field: str
    from_value: str | None = None
    to_value: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> ChangeItem:
        return cls(
            field=text(data.get("field")) or text(data.get("fieldId")) or "?",
            from_value=_clip_line(text(data.get("fromString")) or text(data.get("from"))),
            to_value=_clip_line(text(data.get("toString")) or text(data.get("to"))),
        )

    def label(self) -> str:
        return f"{self.field}: {self.from_value or '∅'} → {self.to_value or '∅'}"


def _clip_line(value: str | None, limit: int = 200) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


class ChangelogEntry(BaseModel):
    """Who changed what, when."""

    id: str
    author: str | None = None
    created: str | None = None
    items: list[ChangeItem] = Field(default_factory=list)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> ChangelogEntry:
        items = data.get("items")
        return cls(
            id=text(data.get("id")) or "",
            author=user_name(data.get("author")),
            created=text(data.get("created")),
            items=[ChangeItem.from_api(i) for i in items if isinstance(i, Mapping)] if isinstance(items, list) else [],
        )

    def label(self) -> str:
        changes = "; ".join(item.label() for item in self.items)
        return f"{short_time(self.created)} {self.author or 'someone'}: {changes}"


class Changelog(Page[ChangelogEntry]):
    """A page of an issue's change history, oldest first."""

    key: str
    total: int | None = None

    def to_markdown(self) -> str:
        head = f"**Changelog of {self.key}** ({len(self.items)}" + (f" of {self.total})" if self.total else ")")
        return (
            head
            + "\n\n"
            + bullets((e.label() for e in self.items), empty="No changes.")
            + page_footer(self.next_cursor, self.truncated)
        )


class Comment(BaseModel):
    """A comment, its body as Markdown."""

    id: str
    author: str | None = None
    author_id: str | None = None
    created: str | None = None
    updated: str | None = None
    body: str = ""
    visibility: str | None = Field(default=None, description="Who may see it, when restricted (a role or group).")

    @classmethod
    def from_api(cls, data: Mapping[str, Any], api: JiraApi, limit: int = COMMENT_LIMIT, issue: str = "") -> Comment:
        body = api.markdown(data.get("body"))
        comment_id = text(data.get("id")) or ""
        hint = f"jira_list_comments for {issue} shows up to {COMMENT_LIMIT:,} characters" if issue else ""
        clipped, _ = clip(body, limit, hint)
        visibility = data.get("visibility")
        return cls(
            id=comment_id,
            author=user_name(data.get("author")),
            author_id=user_id(data.get("author")),
            created=text(data.get("created")),
            updated=text(data.get("updated")) if data.get("updated") != data.get("created") else None,
            body=clipped,
            visibility=name_of(visibility) if isinstance(visibility, Mapping) else None,
        )

    def to_markdown(self) -> str:
        when = short_time(self.created) + (f", edited {short_time(self.updated)}" if self.updated else "")
        restricted = f", visible to {self.visibility}" if self.visibility else ""
        return f"**{self.author or 'someone'}** ({when}{restricted}; comment id `{self.id}`)\n\n{self.body}"


class CommentList(Page[Comment]):
    """A page of an issue's comments."""

    key: str
    total: int | None = None

    def to_markdown(self) -> str:
        count = f"{len(self.items)}" + (f" of {self.total}" if self.total is not None else "")
        body = "\n\n---\n\n".join(c.to_markdown() for c in self.items) or "No comments."
        return f"**Comments on {self.key}** ({count})\n\n{body}" + page_footer(self.next_cursor, self.truncated)


class IssueLink(BaseModel):
    """A link between this issue and another, read in this issue's direction."""

    id: str
    type: str | None = None
    relation: str = Field(description="How this issue relates to the other, e.g. 'blocks' or 'is blocked by'.")
    issue: IssueRef

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> IssueLink | None:
        link_type = obj(data, "type")
        for key, direction in (("outwardIssue", "outward"), ("inwardIssue", "inward")):
            other = data.get(key)
            if isinstance(other, Mapping):
                return cls(
                    id=text(data.get("id")) or "",
                    type=text(link_type.get("name")),
                    relation=text(link_type.get(direction)) or direction,
                    issue=IssueRef.from_api(other),
                )
        return None

    def label(self) -> str:
        return f"{self.relation} {self.issue.label()} (link id `{self.id}`)"


class Issue(BaseModel):
    """One issue in full: fields, description as Markdown, recent comments and changes, links, sub-tasks."""

    key: str
    id: str | None = None
    url: str | None = None
    summary: str | None = None
    status: str | None = None
    status_category: str | None = None
    issue_type: str | None = None
    priority: str | None = None
    resolution: str | None = None
    project: str | None = None
    assignee: str | None = None
    assignee_id: str | None = None
    reporter: str | None = None
    reporter_id: str | None = None
    created: str | None = None
    updated: str | None = None
    due_date: str | None = None
    labels: list[str] = Field(default_factory=list)
    components: list[str] = Field(default_factory=list)
    fix_versions: list[str] = Field(default_factory=list)
    parent: IssueRef | None = None
    subtasks: list[IssueRef] = Field(default_factory=list)
    links: list[IssueLink] = Field(default_factory=list)
    attachments: int = 0
    description: str = ""
    fields: dict[str, str] = Field(default_factory=dict, description="Other fields, by name, as short text.")
    comments: list[Comment] = Field(default_factory=list, description="The most recent comments.")
    comment_total: int = 0
    changes: list[ChangelogEntry] = Field(default_factory=list, description="The most recent changes.")
    change_total: int = 0

    @classmethod
    def from_api(
        cls,
        data: Mapping[str, Any],
        api: JiraApi,
        *,
        comments: int = 5,
        changes: int = 10,
        names: Mapping[str, str] | None = None,
        skip: Iterable[str] = (),
    ) -> Issue:
        fields = obj(data, "fields")
        key = text(data.get("key")) or ""
        summary = IssueSummary.from_api(data, api)
        rendered = obj(data, "renderedFields")
        description_source = fields.get("description")
        if description_source is None and isinstance(rendered.get("description"), str):
            description_source = None  # rendered HTML is not Markdown; the raw field is the source of truth
        description, _ = clip(
            api.markdown(description_source),
            DESCRIPTION_LIMIT,
            f"the description is longer: read it in Jira ({api.browse_url(key) or key})",
        )
        comment_block = fields.get("comment")
        raw_comments: list[Any] = []
        comment_total = 0
        if isinstance(comment_block, Mapping):
            raw_comments = [c for c in comment_block.get("comments") or [] if isinstance(c, Mapping)]
            comment_total = as_int(comment_block.get("total")) or len(raw_comments)
        elif isinstance(comment_block, list):
            raw_comments = [c for c in comment_block if isinstance(c, Mapping)]
            comment_total = len(raw_comments)
        changelog = obj(data, "changelog")
        histories = [h for h in changelog.get("histories") or [] if isinstance(h, Mapping)]
        links = [IssueLink.from_api(link) for link in fields.get("issuelinks") or [] if isinstance(link, Mapping)]
        subtasks = [IssueRef.from_api(s) for s in fields.get("subtasks") or [] if isinstance(s, Mapping)]
        parent = fields.get("parent")
        known = set(_ISSUE_FIELDS) | set(skip)
        names = names or {}
        extra: dict[str, str] = {}
        for field_id, value in fields.items():
            if field_id in known:
                continue
            shown = field_value(value)
            if shown is not None:
                extra[names.get(field_id, field_id)] = shown
        return cls(
            key=key,
            id=summary.id,
            url=summary.url,
            summary=summary.summary,
            status=summary.status,
            status_category=summary.status_category,
            issue_type=summary.issue_type,
            priority=summary.priority,
            resolution=name_of(fields.get("resolution")),
            project=name_of(fields.get("project")),
            assignee=summary.assignee,
            assignee_id=summary.assignee_id,
            reporter=user_name(fields.get("reporter")),
            reporter_id=user_id(fields.get("reporter")),
            created=text(fields.get("created")),
            updated=text(fields.get("updated")),
            due_date=text(fields.get("duedate")),
            labels=[label for label in fields.get("labels") or [] if isinstance(label, str)],
            components=[n for n in (name_of(c) for c in fields.get("components") or []) if n],
            fix_versions=[n for n in (name_of(v) for v in fields.get("fixVersions") or []) if n],
            parent=IssueRef.from_api(parent) if isinstance(parent, Mapping) else None,
            subtasks=subtasks,
            links=[link for link in links if link is not None],
            attachments=len(fields.get("attachment") or []) if isinstance(fields.get("attachment"), list) else 0,
            description=description,
            fields=extra,
            comments=[Comment.from_api(c, api, issue=key) for c in raw_comments[-comments:]] if comments else [],
            comment_total=comment_total,
            changes=[ChangelogEntry.from_api(h) for h in histories[-changes:]] if changes else [],
            change_total=as_int(changelog.get("total")) or len(histories),
        )

    def to_markdown(self) -> str:
        head = f"## {self.key}: {self.summary or '(no summary)'}"
        facts = _facts(
            [
                ("Status", self.status + (f" ({self.status_category})" if self.status_category else ""))
                if self.status
                else ("Status", None),
                ("Type", self.issue_type),
                ("Priority", self.priority),
                ("Resolution", self.resolution),
                ("Project", self.project),
                ("Assignee", _who(self.assignee, self.assignee_id) or "unassigned"),
                ("Reporter", _who(self.reporter, self.reporter_id)),
                ("Created", short_time(self.created)),
                ("Updated", short_time(self.updated)),
                ("Due", self.due_date),
                ("Labels", ", ".join(self.labels)),
                ("Components", ", ".join(self.components)),
                ("Fix versions", ", ".join(self.fix_versions)),
                ("Parent", self.parent.label() if self.parent else None),
                ("Attachments", self.attachments or None),
                ("URL", self.url),
            ]
        )
        parts = [head, facts]
        if self.fields:
            parts.append("**Other fields**\n\n" + bullets(f"{name}: {value}" for name, value in self.fields.items()))
        parts.append("### Description\n\n" + (self.description or "_No description._"))
        if self.subtasks:
            parts.append("### Sub-tasks\n\n" + bullets(s.label() for s in self.subtasks))
        if self.links:
            parts.append("### Links\n\n" + bullets(link.label() for link in self.links))
        if self.comment_total:
            shown = len(self.comments)
            more = (
                f" (latest {shown} of {self.comment_total}; jira_list_comments shows all)"
                if shown < self.comment_total
                else ""
            )
            parts.append(f"### Comments{more}\n\n" + "\n\n".join(c.to_markdown() for c in self.comments))
        if self.changes:
            more = (
                f" (latest {len(self.changes)} of {self.change_total}; jira_list_issue_changelog shows all)"
                if len(self.changes) < self.change_total
                else ""
            )
            parts.append(f"### Recent changes{more}\n\n" + bullets(e.label() for e in self.changes))
        return _join(*parts)


_ISSUE_FIELDS = (
    "summary",
    "status",
    "issuetype",
    "priority",
    "resolution",
    "project",
    "assignee",
    "reporter",
    "creator",
    "created",
    "updated",
    "duedate",
    "labels",
    "components",
    "fixVersions",
    "parent",
    "subtasks",
    "issuelinks",
    "attachment",
    "description",
    "comment",
    "worklog",
    "watches",
    "votes",
    "lastViewed",
    "statuscategorychangedate",
    "resolutiondate",
    "workratio",
    "progress",
    "aggregateprogress",
    "timetracking",
    "environment",
    "versions",
    "security",
    "thumbnail",
)
"""Fields `Issue` shows in its own attributes (or leaves out as noise); the rest go to `Issue.fields`."""


# -- metadata for creating, editing and transitioning ----------------------------------------------


class FieldMeta(BaseModel):
    """A field on a create, edit or transition screen: whether it is required and what it takes."""

    id: str
    name: str
    required: bool = False
    type: str | None = Field(default=None, description="Jira's schema type (string, number, array of option...).")
    allowed_values: list[str] = Field(default_factory=list, description="Names (or ids) of the allowed values.")
    more_values: int = Field(default=0, description="Allowed values left out of the list.")
    has_default: bool = False

    @classmethod
    def from_api(cls, field_id: str, data: Mapping[str, Any], *, keyed: bool = False) -> FieldMeta:
        """A field's metadata; `keyed` when `field_id` is the key of a map by field id (then it wins)."""
        schema = obj(data, "schema")
        kind = text(schema.get("type"))
        if kind == "array" and text(schema.get("items")):
            kind = f"array of {schema['items']}"
        allowed = [v for v in data.get("allowedValues") or [] if isinstance(v, Mapping)]
        names = [n for n in (name_of(v) or text(v.get("id")) for v in allowed) if n]
        return cls(
            id=field_id if keyed and field_id else (text(data.get("fieldId")) or text(data.get("key")) or field_id),
            name=text(data.get("name")) or field_id,
            required=data.get("required") is True,
            type=kind,
            allowed_values=names[:ALLOWED_VALUES_SHOWN],
            more_values=max(0, len(names) - ALLOWED_VALUES_SHOWN),
            has_default=data.get("hasDefaultValue") is True,
        )

    def label(self) -> str:
        values = ", ".join(self.allowed_values) + (f", … {self.more_values} more" if self.more_values else "")
        parts = [f"`{self.id}` {self.name}", self.type or "", f"one of: {values}" if values else ""]
        if self.has_default:
            parts.append("has a default")
        return " — ".join(p for p in parts if p)


def fields_from_api(data: Any) -> list[FieldMeta]:
    """Field metadata from either shape Jira uses: a map by field id, or a list with `fieldId`."""
    if isinstance(data, Mapping):
        return [FieldMeta.from_api(str(k), v, keyed=True) for k, v in data.items() if isinstance(v, Mapping)]
    if isinstance(data, list):
        return [
            FieldMeta.from_api(str(v.get("fieldId") or v.get("key") or ""), v) for v in data if isinstance(v, Mapping)
        ]
    return []


def _fields_markdown(fields: Sequence[FieldMeta]) -> str:
    required = [f for f in fields if f.required]
    optional = [f for f in fields if not f.required]
    parts = []
    if required:
        parts.append("**Required**\n\n" + bullets(f.label() for f in required))
    if optional:
        parts.append("**Optional**\n\n" + bullets(f.label() for f in optional))
    return _join(*parts) or "No fields."


class IssueType(BaseModel):
    """An issue type."""

    id: str
    name: str
    subtask: bool = False
    hierarchy_level: int | None = Field(default=None, description="-1 sub-task, 0 standard, 1 epic, higher above.")
    description: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> IssueType:
        level = data.get("hierarchyLevel")
        return cls(
            id=text(data.get("id")) or "",
            name=text(data.get("name")) or "",
            subtask=data.get("subtask") is True,
            hierarchy_level=level if isinstance(level, int) and not isinstance(level, bool) else None,
            description=_clip_line(text(data.get("description")), 120),
        )


class IssueTypeList(Page[IssueType]):
    """Issue types (of a project, or of the site)."""

    def to_markdown(self) -> str:
        columns: list[Column] = ["id", "name", "subtask", ("level", "hierarchy_level"), "description"]
        return page_table(self, columns, title="Issue types")


class CreateMetadata(BaseModel):
    """What creating an issue in a project takes: its issue types, or one type's fields with the required ones."""

    project: str
    issue_types: list[IssueType] = Field(default_factory=list)
    issue_type: str | None = None
    fields: list[FieldMeta] = Field(default_factory=list)
    next_cursor: str | None = None

    def to_markdown(self) -> str:
        if self.issue_type is None:
            rows = table(self.issue_types, ["id", "name", "subtask", ("level", "hierarchy_level")])
            return _join(
                f"**Issue types of {self.project}** ({len(self.issue_types)})",
                rows,
                "_Call jira_get_create_metadata again with issue_type to see its fields._",
            ) + page_footer(self.next_cursor)
        head = f"**Fields to create a {self.issue_type} in {self.project}** ({len(self.fields)})"
        return _join(head, _fields_markdown(self.fields)) + page_footer(self.next_cursor)


class EditMetadata(BaseModel):
    """The fields that can be edited on one issue, and what each takes."""

    key: str
    fields: list[FieldMeta] = Field(default_factory=list)

    def to_markdown(self) -> str:
        return _join(f"**Editable fields of {self.key}** ({len(self.fields)})", _fields_markdown(self.fields))


class Transition(BaseModel):
    """A workflow transition available on an issue, with the fields its screen asks for."""

    id: str
    name: str
    to_status: str | None = None
    to_category: str | None = None
    available: bool = True
    fields: list[FieldMeta] = Field(default_factory=list)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Transition:
        target = obj(data, "to")
        category = target.get("statusCategory")
        return cls(
            id=text(data.get("id")) or "",
            name=text(data.get("name")) or "",
            to_status=name_of(target),
            to_category=name_of(category),
            available=data.get("isAvailable") is not False,
            fields=fields_from_api(data.get("fields")),
        )

    def label(self) -> str:
        target = f" → {self.to_status}" if self.to_status else ""
        unavailable = " (not available now)" if not self.available else ""
        line = f"`{self.id}` **{self.name}**{target}{unavailable}"
        required = [f for f in self.fields if f.required]
        if required:
            line += "\n" + bullets(f"required: {f.label()}" for f in required)
        optional = [f for f in self.fields if not f.required]
        if optional:
            line += f"\n  (also on its screen: {', '.join(f.id for f in optional)})"
        return line


class TransitionList(BaseModel):
    """The transitions an issue can take now."""

    key: str
    transitions: list[Transition] = Field(default_factory=list)
    next_cursor: str | None = None

    def to_markdown(self) -> str:
        body = bullets((t.label() for t in self.transitions), empty="No transitions available.")
        return f"**Transitions of {self.key}** ({len(self.transitions)})\n\n{body}" + page_footer(self.next_cursor)


class Done(BaseModel):
    """What a write did."""

    message: str
    key: str | None = None
    id: str | None = None
    url: str | None = None

    def to_markdown(self) -> str:
        tail = f" {self.url}" if self.url else ""
        return self.message + tail


# -- links ----------------------------------------------------------------------------------------


class LinkType(BaseModel):
    """An issue link type: its name and how it reads each way."""

    id: str
    name: str
    inward: str | None = None
    outward: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> LinkType:
        return cls(
            id=text(data.get("id")) or "",
            name=text(data.get("name")) or "",
            inward=text(data.get("inward")),
            outward=text(data.get("outward")),
        )


class LinkTypeList(Page[LinkType]):
    """The site's issue link types."""

    def to_markdown(self) -> str:
        return page_table(self, ["id", "name", "outward", "inward"], title="Issue link types")


class IssueLinkList(BaseModel):
    """The links of one issue, to other issues."""

    key: str
    links: list[IssueLink] = Field(default_factory=list)
    next_cursor: str | None = None

    def to_markdown(self) -> str:
        body = bullets((link.label() for link in self.links), empty="No issue links.")
        return f"**Links of {self.key}** ({len(self.links)})\n\n{body}" + page_footer(self.next_cursor)


class RemoteLink(BaseModel):
    """A link from an issue to a web page or another system."""

    id: str
    title: str | None = None
    url: str | None = None
    relationship: str | None = None
    application: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> RemoteLink:
        target = obj(data, "object")
        application = obj(data, "application")
        return cls(
            id=text(data.get("id")) or "",
            title=text(target.get("title")),
            url=text(target.get("url")),
            relationship=text(data.get("relationship")),
            application=text(application.get("name")),
        )


class RemoteLinkList(Page[RemoteLink]):
    """An issue's remote links."""

    def to_markdown(self) -> str:
        return page_table(self, ["id", "title", "url", "relationship", "application"], title="Remote links")


# -- worklogs, attachments, watchers --------------------------------------------------------------


class Worklog(BaseModel):
    """Time logged on an issue."""

    id: str
    author: str | None = None
    started: str | None = None
    time_spent: str | None = None
    seconds: int | None = None
    comment: str = ""

    @classmethod
    def from_api(cls, data: Mapping[str, Any], api: JiraApi) -> Worklog:
        comment, _ = clip(api.markdown(data.get("comment")), 500)
        return cls(
            id=text(data.get("id")) or "",
            author=user_name(data.get("author")),
            started=text(data.get("started")),
            time_spent=text(data.get("timeSpent")),
            seconds=as_int(data.get("timeSpentSeconds")),
            comment=comment,
        )

    def to_markdown(self) -> str:
        return f"Logged {self.time_spent} on {short_time(self.started)} (worklog id `{self.id}`)"


class WorklogList(Page[Worklog]):
    """A page of an issue's worklogs."""

    key: str
    total: int | None = None
    total_seconds: int = Field(default=0, description="Time logged in the worklogs of this page.")

    def to_markdown(self) -> str:
        columns: list[Column] = [
            "id",
            ("started", lambda w: short_time(w.started)),
            "author",
            ("spent", "time_spent"),
            "comment",
        ]
        hours = self.total_seconds / 3600
        title = f"Worklogs of {self.key} ({hours:.2f} h on this page)"
        return page_table(self, columns, title=title)


class Attachment(BaseModel):
    """An attachment's metadata."""

    id: str
    filename: str
    mime_type: str | None = None
    size: int | None = Field(default=None, description="Bytes.")
    author: str | None = None
    created: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Attachment:
        return cls(
            id=text(data.get("id")) or "",
            filename=text(data.get("filename")) or "",
            mime_type=text(data.get("mimeType")),
            size=as_int(data.get("size")),
            author=user_name(data.get("author")),
            created=text(data.get("created")),
        )


class AttachmentList(Page[Attachment]):
    """An issue's attachments."""

    key: str

    def to_markdown(self) -> str:
        columns: list[Column] = [
            "id",
            "filename",
            ("type", "mime_type"),
            ("bytes", "size"),
            "author",
            ("created", lambda a: short_time(a.created)),
        ]
        return page_table(self, columns, title=f"Attachments of {self.key}")


class AttachmentContent(BaseModel):
    """The text of a small text attachment."""

    id: str
    filename: str
    mime_type: str | None = None
    size: int | None = None
    text: str
    truncated: bool = False

    def to_markdown(self) -> str:
        fence = "````" if "```" in self.text else "```"
        head = f"**{self.filename}** ({self.mime_type or 'text'}, {self.size or 0:,} bytes)"
        return f"{head}\n\n{fence}\n{self.text}\n{fence}"


class Watchers(BaseModel):
    """Who watches an issue."""

    key: str
    count: int = 0
    watching: bool = Field(default=False, description="Whether the connected account watches it.")
    watchers: list[User] = Field(default_factory=list)
    next_cursor: str | None = None

    def to_markdown(self) -> str:
        rows = table(self.watchers, [("id", "id"), ("name", "display_name")], empty="No watchers listed.")
        you = " (including you)" if self.watching else ""
        return f"**Watchers of {self.key}**: {self.count}{you}\n\n{rows}" + page_footer(self.next_cursor)


# -- projects -------------------------------------------------------------------------------------


class Project(BaseModel):
    """A project."""

    id: str
    key: str
    name: str
    type: str | None = None
    lead: str | None = None
    style: str | None = Field(default=None, description="classic (company-managed) or next-gen (team-managed).")
    category: str | None = None
    description: str | None = None
    issue_types: list[IssueType] = Field(default_factory=list)
    url: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any], api: JiraApi | None = None) -> Project:
        key = text(data.get("key")) or ""
        types = data.get("issueTypes")
        return cls(
            id=text(data.get("id")) or "",
            key=key,
            name=text(data.get("name")) or key,
            type=text(data.get("projectTypeKey")),
            lead=user_name(data.get("lead")),
            style=text(data.get("style")),
            category=name_of(data.get("projectCategory")),
            description=_clip_line(text(data.get("description")), 500),
            issue_types=[IssueType.from_api(t) for t in types if isinstance(t, Mapping)]
            if isinstance(types, list)
            else [],
            url=f"{api.web_url}/browse/{key}" if api is not None and api.web_url and key else None,
        )

    def to_markdown(self) -> str:
        head = f"## {self.name} ({self.key}, id `{self.id}`)"
        facts = _facts(
            [
                ("Type", self.type),
                ("Style", self.style),
                ("Lead", self.lead),
                ("Category", self.category),
                ("URL", self.url),
            ]
        )
        types = ", ".join(f"{t.name} (`{t.id}`)" for t in self.issue_types)
        return _join(head, facts, self.description or "", f"**Issue types:** {types}" if types else "")


class ProjectList(Page[Project]):
    """A page of projects."""

    def to_markdown(self) -> str:
        return page_table(self, ["key", "name", "id", "type", "lead"], title="Projects")


class Component(BaseModel):
    """A project component."""

    id: str
    name: str
    lead: str | None = None
    description: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Component:
        return cls(
            id=text(data.get("id")) or "",
            name=text(data.get("name")) or "",
            lead=user_name(data.get("lead")),
            description=_clip_line(text(data.get("description")), 200),
        )


class ComponentList(Page[Component]):
    """A page of a project's components."""

    def to_markdown(self) -> str:
        return page_table(self, ["id", "name", "lead", "description"], title="Components")


class Version(BaseModel):
    """A project version (release)."""

    id: str
    name: str
    project_id: str | None = None
    released: bool = False
    archived: bool = False
    overdue: bool | None = None
    start_date: str | None = None
    release_date: str | None = None
    description: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Version:
        overdue = data.get("overdue")
        return cls(
            id=text(data.get("id")) or "",
            name=text(data.get("name")) or "",
            project_id=text(data.get("projectId")),
            released=data.get("released") is True,
            archived=data.get("archived") is True,
            overdue=overdue if isinstance(overdue, bool) else None,
            start_date=text(data.get("startDate")),
            release_date=text(data.get("releaseDate")),
            description=_clip_line(text(data.get("description")), 300),
        )

    def to_markdown(self) -> str:
        state = "released" if self.released else "unreleased"
        if self.archived:
            state += ", archived"
        if self.overdue:
            state += ", overdue"
        facts = _facts(
            [
                ("State", state),
                ("Start", self.start_date),
                ("Release", self.release_date),
                ("Project id", self.project_id),
            ]
        )
        return _join(f"**Version {self.name}** (id `{self.id}`)", facts, self.description or "")


class VersionList(Page[Version]):
    """A page of a project's versions."""

    def to_markdown(self) -> str:
        columns: list[Column] = [
            "id",
            "name",
            "released",
            "archived",
            ("start", "start_date"),
            ("release", "release_date"),
            "description",
        ]
        return page_table(self, columns, title="Versions")


class IssueTypeStatuses(BaseModel):
    """The statuses an issue type of a project can be in."""

    issue_type: str
    statuses: list[str] = Field(default_factory=list, description="Status names with their category.")


class StatusList(BaseModel):
    """A project's statuses, by issue type."""

    project: str
    issue_types: list[IssueTypeStatuses] = Field(default_factory=list)
    next_cursor: str | None = None

    def to_markdown(self) -> str:
        lines = [f"{t.issue_type}: {', '.join(t.statuses)}" for t in self.issue_types]
        return (
            f"**Statuses of {self.project}**\n\n" + bullets(lines, empty="No statuses.") + page_footer(self.next_cursor)
        )


class JiraField(BaseModel):
    """A field of the site: its id (what the API takes), name, and type."""

    id: str
    name: str
    custom: bool = False
    type: str | None = None
    clause_names: list[str] = Field(default_factory=list, description="Names JQL accepts for it.")

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> JiraField:
        schema = obj(data, "schema")
        kind = text(schema.get("type"))
        if kind == "array" and text(schema.get("items")):
            kind = f"array of {schema['items']}"
        return cls(
            id=text(data.get("id")) or text(data.get("key")) or "",
            name=text(data.get("name")) or "",
            custom=data.get("custom") is True,
            type=kind,
            clause_names=[c for c in data.get("clauseNames") or [] if isinstance(c, str)][:5],
        )


class FieldList(Page[JiraField]):
    """A page of fields; a custom field's id (`customfield_10016`) is what create and update take."""

    def to_markdown(self) -> str:
        columns: list[Column] = ["id", "name", "custom", "type", ("JQL names", "clause_names")]
        return page_table(self, columns, title="Fields")


# -- agile ----------------------------------------------------------------------------------------


class Board(BaseModel):
    """A Scrum or Kanban board."""

    id: int
    name: str
    type: str | None = None
    project_key: str | None = None
    project_name: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Board:
        location = obj(data, "location")
        return cls(
            id=as_int(data.get("id")) or 0,
            name=text(data.get("name")) or "",
            type=text(data.get("type")),
            project_key=text(location.get("projectKey")),
            project_name=text(location.get("projectName")) or text(location.get("displayName")),
        )

    def to_markdown(self) -> str:
        facts = _facts([("Type", self.type), ("Project", _who(self.project_name, self.project_key))])
        return _join(f"**Board {self.name}** (id `{self.id}`)", facts)


class BoardList(Page[Board]):
    """A page of boards."""

    def to_markdown(self) -> str:
        return page_table(self, ["id", "name", "type", ("project", "project_key")], title="Boards")


class BoardColumn(BaseModel):
    """A board column and the status ids it holds."""

    name: str
    status_ids: list[str] = Field(default_factory=list)
    min: int | None = None
    max: int | None = None


class BoardConfiguration(BaseModel):
    """How a board is set up: its filter, columns, estimation and ranking fields."""

    id: int
    name: str
    type: str | None = None
    filter_id: str | None = None
    columns: list[BoardColumn] = Field(default_factory=list)
    estimation_field: str | None = None
    ranking_field: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> BoardConfiguration:
        column_config = obj(data, "columnConfig")
        columns = []
        for column in column_config.get("columns") or []:
            if not isinstance(column, Mapping):
                continue
            statuses = [text(s.get("id")) for s in column.get("statuses") or [] if isinstance(s, Mapping)]
            columns.append(
                BoardColumn(
                    name=text(column.get("name")) or "",
                    status_ids=[s for s in statuses if s],
                    min=as_int(column.get("min")),
                    max=as_int(column.get("max")),
                )
            )
        estimation = obj(data, "estimation")
        estimation_field = obj(estimation, "field")
        ranking = obj(data, "ranking")
        filter_ref = obj(data, "filter")
        return cls(
            id=as_int(data.get("id")) or 0,
            name=text(data.get("name")) or "",
            type=text(data.get("type")),
            filter_id=text(filter_ref.get("id")),
            columns=columns,
            estimation_field=_who(text(estimation_field.get("displayName")), text(estimation_field.get("fieldId"))),
            ranking_field=text(ranking.get("rankCustomFieldId")),
        )

    def to_markdown(self) -> str:
        facts = _facts(
            [
                ("Type", self.type),
                ("Filter id", self.filter_id),
                ("Estimation", self.estimation_field),
                ("Rank field id", self.ranking_field),
            ]
        )
        columns = bullets(
            (f"{c.name}: statuses {', '.join(c.status_ids) or 'none'}" for c in self.columns), empty="No columns."
        )
        return _join(f"**Board {self.name} configuration** (id `{self.id}`)", facts, "**Columns**\n\n" + columns)


class Sprint(BaseModel):
    """A sprint."""

    id: int
    name: str
    state: str | None = Field(default=None, description="future, active or closed.")
    start_date: str | None = None
    end_date: str | None = None
    complete_date: str | None = None
    goal: str | None = None
    board_id: int | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Sprint:
        return cls(
            id=as_int(data.get("id")) or 0,
            name=text(data.get("name")) or "",
            state=text(data.get("state")),
            start_date=text(data.get("startDate")),
            end_date=text(data.get("endDate")),
            complete_date=text(data.get("completeDate")),
            goal=_clip_line(text(data.get("goal")), 500),
            board_id=as_int(data.get("originBoardId")),
        )

    def to_markdown(self) -> str:
        facts = _facts(
            [
                ("State", self.state),
                ("Start", short_time(self.start_date)),
                ("End", short_time(self.end_date)),
                ("Completed", short_time(self.complete_date)),
                ("Board", self.board_id),
                ("Goal", self.goal),
            ]
        )
        return _join(f"**Sprint {self.name}** (id `{self.id}`)", facts)


class SprintList(Page[Sprint]):
    """A page of a board's sprints."""

    def to_markdown(self) -> str:
        columns: list[Column] = [
            "id",
            "name",
            "state",
            ("start", lambda s: short_time(s.start_date)),
            ("end", lambda s: short_time(s.end_date)),
            "goal",
        ]
        return page_table(self, columns, title="Sprints")


class Epic(BaseModel):
    """An epic of a board."""

    id: int
    key: str
    name: str | None = None
    summary: str | None = None
    done: bool = False

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Epic:
        return cls(
            id=as_int(data.get("id")) or 0,
            key=text(data.get("key")) or "",
            name=text(data.get("name")),
            summary=text(data.get("summary")),
            done=data.get("done") is True,
        )


class EpicList(Page[Epic]):
    """A page of a board's epics."""

    def to_markdown(self) -> str:
        return page_table(self, ["key", "name", "summary", "done", "id"], title="Epics")
