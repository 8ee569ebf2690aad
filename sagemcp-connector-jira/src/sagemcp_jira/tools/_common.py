"""Argument types shared by the tool groups, and helpers for issue lists.

Every identifier that goes into a URL path has a pattern that keeps `/`, `..` and spaces out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import Field

from .._api import JiraApi
from .._fields import FieldCatalog, looks_like_field_id
from ..models import IssueList, IssueSummary

__all__ = [
    "DEFAULT_ISSUE_FIELDS",
    "AccountId",
    "BoardId",
    "CommentId",
    "Fields",
    "IssueKey",
    "IssueKeys",
    "Jql",
    "Markdown",
    "ProjectKey",
    "SprintId",
    "issue_fields",
    "issue_page",
]

IssueKey = Annotated[
    str,
    Field(
        pattern=r"^(?:[A-Za-z][A-Za-z0-9_]*-[1-9][0-9]*|[1-9][0-9]*)$",
        max_length=100,
        description="Key (EX-123) or id.",
    ),
]
IssueKeys = Annotated[list[IssueKey], Field(min_length=1, max_length=50, description="Issue keys (EX-1) or ids.")]
ProjectKey = Annotated[
    str,
    Field(
        pattern=r"^(?:[A-Za-z][A-Za-z0-9_]{0,99}|[1-9][0-9]*)$",
        description="Key (EX) or id.",
    ),
]
AccountId = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9:_.@+-]{1,128}$",
        description="Account id (jira_search_users); user name on Data Center.",
    ),
]
CommentId = Annotated[str, Field(pattern=r"^[1-9][0-9]{0,18}$", description="The comment id.")]
BoardId = Annotated[int, Field(ge=1, description="From jira_list_boards.")]
SprintId = Annotated[int, Field(ge=1, description="From jira_list_sprints.")]
Jql = Annotated[
    str,
    Field(
        min_length=1,
        max_length=10_000,
        description="JQL, e.g. `project = EX AND status != Done ORDER BY updated DESC`.",
    ),
]
Markdown = Annotated[str, Field(min_length=1, max_length=100_000, description="Markdown text.")]
Fields = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=200)]] | None,
    Field(
        max_length=50,
        description="Extra fields by id or name (`duedate`, `customfield_10016`, `Story Points`).",
    ),
]

DEFAULT_ISSUE_FIELDS = ("summary", "status", "issuetype", "priority", "assignee", "updated")
"""What every issue row shows; `fields` adds to it."""


async def issue_fields(api: JiraApi, extra: Sequence[str] | None) -> tuple[list[str], list[str]]:
    """The `fields` to request (defaults plus `extra`, names resolved to ids) and the extra ids to show."""
    if not extra:
        return list(DEFAULT_ISSUE_FIELDS), []
    catalog: FieldCatalog | None = None
    ids: list[str] = []
    for name in extra:
        if looks_like_field_id(name):
            ids.append(name)
            continue
        if catalog is None:
            catalog = await FieldCatalog.load(api)
        ids.append(str(catalog.resolve(name).get("id")))
    shown = [i for i in dict.fromkeys(ids) if i not in DEFAULT_ISSUE_FIELDS]
    return [*DEFAULT_ISSUE_FIELDS, *shown], shown


def issue_page(
    api: JiraApi,
    issues: Sequence[Any],
    extra: Sequence[str],
    *,
    next_cursor: str | None,
    total: Any = None,
) -> IssueList:
    """An `IssueList` from the issues of a search or an agile listing."""
    items = [IssueSummary.from_api(i, api, extra) for i in issues if isinstance(i, Mapping)]
    count = total if isinstance(total, int) and not isinstance(total, bool) else None
    return IssueList(items=items, next_cursor=next_cursor, total=count)
