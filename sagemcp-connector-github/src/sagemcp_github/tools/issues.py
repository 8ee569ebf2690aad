"""`issues` tools: issues, their comments and labels, and the search across issues and pull requests."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from sagemcp import Cursor, ToolContext, tool
from sagemcp.errors import InvalidArguments

from .._pagination import next_cursor, page_params
from .._params import SMALL_PAGE, IssueNumber, Owner, PageLimit, Repo, SmallPageLimit, repo_path, segment
from .._scopes import REPO
from ..models import (
    LIST_BODY_LIMIT,
    Comment,
    CommentList,
    Issue,
    IssueLabels,
    IssueList,
    IssueSearchResult,
    Label,
    LabelList,
    label_names,
    page_body_limit,
)
from ._common import Order, Query, search_params, search_result

__all__ = ["IssuesTools"]

_SCOPES = REPO

Labels = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=100)]],
    Field(max_length=100, description='Label names, e.g. ["bug", "help wanted"].'),
]
Markdown = Annotated[str, Field(max_length=65_536, description="Text in GitHub-flavoured Markdown.")]


class IssuesTools:
    """Tools for issues, comments and labels."""

    @tool(read_only=True, group="issues", scopes=_SCOPES)
    async def list_issues(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        state: Annotated[Literal["open", "closed", "all"], Field(description="Which issues, by state.")] = "open",
        labels: Annotated[
            list[Annotated[str, Field(min_length=1, max_length=100)]] | None,
            Field(max_length=20, description="Only issues with all of these labels."),
        ] = None,
        assignee: Annotated[
            str | None,
            Field(
                max_length=100, description="Only issues assigned to this login; `none` for unassigned, `*` for any."
            ),
        ] = None,
        creator: Annotated[str | None, Field(max_length=100, description="Only issues opened by this login.")] = None,
        mentioned: Annotated[
            str | None, Field(max_length=100, description="Only issues mentioning this login.")
        ] = None,
        since: Annotated[
            str | None, Field(max_length=40, description="Only issues updated after this ISO 8601 time.")
        ] = None,
        sort: Annotated[Literal["created", "updated", "comments"], Field(description="Sort key.")] = "created",
        direction: Annotated[Literal["asc", "desc"], Field(description="Sort direction.")] = "desc",
        limit: SmallPageLimit = 20,
        cursor: Cursor = None,
    ) -> IssueList:
        """List one repository's issues (pull requests left out, so a page may be short).

        Returns number, title, state, author, labels, assignees, dates and the start of each body; full text
        with github_get_issue; across repositories use github_search_issues.
        """
        params: dict[str, Any] = {
            "state": state,
            "labels": ",".join(labels) if labels else None,
            "assignee": assignee,
            "creator": creator,
            "mentioned": mentioned,
            "since": since,
            "sort": sort,
            "direction": direction,
            **page_params(limit, cursor, maximum=SMALL_PAGE),
        }
        response = await ctx.http.get(repo_path(owner, repo, "issues"), params=params)
        items = [
            Issue.from_api(i, body_limit=LIST_BODY_LIMIT)
            for i in response.json_list(of=dict)
            if "pull_request" not in i
        ]
        return IssueList(items=items, next_cursor=next_cursor(response))

    @tool(read_only=True, group="issues", scopes=_SCOPES)
    async def get_issue(self, ctx: ToolContext, owner: Owner, repo: Repo, issue_number: IssueNumber) -> Issue:
        """Get one issue with its full Markdown body, labels, assignees, milestone, state and dates.

        Comments: github_list_issue_comments.
        """
        response = await ctx.http.get(repo_path(owner, repo, "issues", issue_number))
        return Issue.from_api(response.json_object())

    @tool(read_only=False, group="issues", destructive=False, idempotent=False, scopes=_SCOPES)
    async def create_issue(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        title: Annotated[str, Field(min_length=1, max_length=256, description="The issue title.")],
        body: Annotated[str | None, Field(max_length=65_536, description="The description in Markdown.")] = None,
        labels: Annotated[
            list[Annotated[str, Field(min_length=1, max_length=100)]] | None,
            Field(max_length=100, description="Label names to set (only people with push access can set them)."),
        ] = None,
        assignees: Annotated[
            list[Annotated[str, Field(min_length=1, max_length=100)]] | None,
            Field(max_length=10, description="Logins to assign."),
        ] = None,
        milestone: Annotated[int | None, Field(ge=1, description="Milestone number to attach.")] = None,
    ) -> Issue:
        """Open a new issue (bug report, request) in a repository; returns its number and URL."""
        payload: dict[str, Any] = {"title": title}
        for key, value in (("body", body), ("labels", labels), ("assignees", assignees), ("milestone", milestone)):
            if value is not None:
                payload[key] = value
        response = await ctx.http.post(repo_path(owner, repo, "issues"), json=payload)
        return Issue.from_api(response.json_object())

    @tool(read_only=False, group="issues", destructive=True, idempotent=True, scopes=_SCOPES)
    async def update_issue(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        issue_number: IssueNumber,
        title: Annotated[str | None, Field(min_length=1, max_length=256, description="New title.")] = None,
        body: Annotated[str | None, Field(max_length=65_536, description="New body (replaces the old one).")] = None,
        state: Annotated[Literal["open", "closed"] | None, Field(description="Close or reopen the issue.")] = None,
        state_reason: Annotated[
            Literal["completed", "not_planned", "duplicate", "reopened"] | None,
            Field(description="Why the state changed (with `state`)."),
        ] = None,
        labels: Annotated[
            list[Annotated[str, Field(min_length=1, max_length=100)]] | None,
            Field(max_length=100, description="The complete new label set (replaces all labels; [] removes all)."),
        ] = None,
        assignees: Annotated[
            list[Annotated[str, Field(min_length=1, max_length=100)]] | None,
            Field(max_length=10, description="The complete new assignee list (replaces it; [] unassigns all)."),
        ] = None,
        milestone: Annotated[int | None, Field(ge=0, description="Milestone number; 0 removes the milestone.")] = None,
    ) -> Issue:
        """Change an issue's title, body, state, labels, assignees or milestone; returns it.

        `labels` and `assignees` replace the lists; to add labels use github_add_issue_labels.
        """
        payload: dict[str, Any] = {}
        for key, value in (
            ("title", title),
            ("body", body),
            ("state", state),
            ("state_reason", state_reason),
            ("labels", labels),
            ("assignees", assignees),
        ):
            if value is not None:
                payload[key] = value
        if milestone is not None:
            payload["milestone"] = milestone or None
        if not payload:
            raise InvalidArguments(
                "nothing to change: give at least one field to update", errors=[("title", "missing")]
            )
        response = await ctx.http.patch(repo_path(owner, repo, "issues", issue_number), json=payload)
        return Issue.from_api(response.json_object())

    @tool(read_only=True, group="issues", scopes=_SCOPES)
    async def list_issue_comments(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        issue_number: IssueNumber,
        since: Annotated[
            str | None, Field(max_length=40, description="Only comments updated after this ISO 8601 time.")
        ] = None,
        limit: SmallPageLimit = 20,
        cursor: Cursor = None,
    ) -> CommentList:
        """List an issue's or pull request's conversation comments, oldest first (not inline review comments)."""
        response = await ctx.http.get(
            repo_path(owner, repo, "issues", issue_number, "comments"),
            params={"since": since, **page_params(limit, cursor, maximum=SMALL_PAGE)},
        )
        comments = response.json_list(of=dict)
        limit_each = page_body_limit(len(comments))
        return CommentList(
            items=[Comment.from_api(c, body_limit=limit_each) for c in comments], next_cursor=next_cursor(response)
        )

    @tool(read_only=False, group="issues", destructive=False, idempotent=False, scopes=_SCOPES)
    async def add_issue_comment(
        self, ctx: ToolContext, owner: Owner, repo: Repo, issue_number: IssueNumber, body: Markdown
    ) -> Comment:
        """Comment on an issue or a pull request's conversation; returns the comment's URL.

        Line comments: github_create_pull_request_review.
        """
        response = await ctx.http.post(repo_path(owner, repo, "issues", issue_number, "comments"), json={"body": body})
        return Comment.from_api(response.json_object())

    @tool(read_only=True, group="issues", scopes=_SCOPES)
    async def list_labels(
        self, ctx: ToolContext, owner: Owner, repo: Repo, limit: PageLimit = 50, cursor: Cursor = None
    ) -> LabelList:
        """List a repository's labels (name, colour, description), to pick existing names."""
        response = await ctx.http.get(repo_path(owner, repo, "labels"), params=page_params(limit, cursor))
        items = [Label.from_api(label) for label in response.json_list(of=dict)]
        return LabelList(items=items, next_cursor=next_cursor(response))

    @tool(read_only=False, group="issues", destructive=False, idempotent=True, scopes=_SCOPES)
    async def add_issue_labels(
        self, ctx: ToolContext, owner: Owner, repo: Repo, issue_number: IssueNumber, labels: Labels
    ) -> IssueLabels:
        """Add labels to an issue or pull request, keeping existing ones (new names are created)."""
        if not labels:
            raise InvalidArguments("give at least one label", errors=[("labels", "empty")])
        response = await ctx.http.post(
            repo_path(owner, repo, "issues", issue_number, "labels"), json={"labels": labels}
        )
        return IssueLabels(number=issue_number, labels=label_names(response.json_list(of=dict)))

    @tool(read_only=False, group="issues", destructive=True, idempotent=True, scopes=_SCOPES)
    async def remove_issue_label(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        issue_number: IssueNumber,
        label: Annotated[str, Field(min_length=1, max_length=100, description="The label name to remove.")],
    ) -> IssueLabels:
        """Remove one label from an issue or pull request. Returns the labels that remain."""
        response = await ctx.http.delete(
            repo_path(owner, repo, "issues", issue_number, "labels", segment(label, "label"))
        )
        return IssueLabels(number=issue_number, labels=label_names(response.json_list(of=dict)))

    @tool(read_only=True, group="issues", scopes=_SCOPES)
    async def search_issues(
        self,
        ctx: ToolContext,
        query: Annotated[str, Query("repo:octocat/Hello-World is:issue is:open label:bug")],
        sort: Annotated[
            Literal["comments", "reactions", "created", "updated", "interactions"] | None,
            Field(description="Sort key; omit for best match."),
        ] = None,
        order: Order = "desc",
        limit: SmallPageLimit = 20,
        cursor: Cursor = None,
    ) -> IssueSearchResult:
        """Search issues and pull requests across repositories with GitHub search syntax.

        For your own work: PRs awaiting your review (`is:pr is:open review-requested:@me`), issues assigned to
        you (`assignee:@me`); also `repo:`, `author:`, `label:`. Returns number, repository, title, state and
        dates.
        """
        response = await ctx.http.get(
            "/search/issues", params=search_params(query, sort, order, limit, cursor, maximum=SMALL_PAGE)
        )
        return search_result(
            IssueSearchResult,
            response,
            lambda i: Issue.from_api(i, body_limit=LIST_BODY_LIMIT, with_repository=True),
        )
