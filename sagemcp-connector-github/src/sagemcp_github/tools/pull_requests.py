"""`pull_requests` tools: reading, reviewing, creating, updating and merging pull requests."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sagemcp import Cursor, Limit, ToolContext, clip, tool
from sagemcp.errors import InvalidArguments

from .._pagination import next_cursor, page_params
from .._params import SMALL_PAGE, Owner, PullNumber, Repo, SmallPageLimit, repo_path
from .._scopes import REPO
from ..models import (
    LIST_BODY_LIMIT,
    CheckStatus,
    Diff,
    FileChangeList,
    MergeResult,
    PullRequest,
    PullRequestList,
    Review,
    ReviewComment,
    ReviewCommentList,
    ReviewersResult,
    ReviewList,
    page_body_limit,
)
from ._common import bounded_files

__all__ = ["InlineComment", "PullRequestsTools"]

_SCOPES = REPO

DIFF_CHAR_LIMIT = 60_000
"""Characters of a pull request's diff shown (about 15,000 tokens)."""


class InlineComment(BaseModel):
    """A review comment on one line (or a range of lines) of the pull request's diff."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, max_length=1024, description="File path, as in the diff.")
    body: str = Field(min_length=1, max_length=65_536, description="The comment in Markdown.")
    line: int = Field(ge=1, description="Line number in the file (the last line, for a range).")
    side: Literal["LEFT", "RIGHT"] = Field(
        default="RIGHT", description="RIGHT for the new version (added or unchanged lines), LEFT for deleted lines."
    )
    start_line: int | None = Field(default=None, ge=1, description="First line of a multi-line comment.")
    start_side: Literal["LEFT", "RIGHT"] | None = Field(default=None, description="Side of `start_line`.")


class PullRequestsTools:
    """Tools for pull requests."""

    @tool(read_only=True, group="pull_requests", scopes=_SCOPES)
    async def list_pull_requests(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        state: Annotated[
            Literal["open", "closed", "all"], Field(description="Which pull requests, by state.")
        ] = "open",
        head: Annotated[
            str | None, Field(max_length=255, description="Only from this head, as `user:branch` or `org:branch`.")
        ] = None,
        base: Annotated[str | None, Field(max_length=255, description="Only into this base branch.")] = None,
        sort: Annotated[
            Literal["created", "updated", "popularity", "long-running"], Field(description="Sort key.")
        ] = "created",
        direction: Annotated[Literal["asc", "desc"], Field(description="Sort direction.")] = "desc",
        limit: SmallPageLimit = 20,
        cursor: Cursor = None,
    ) -> PullRequestList:
        """List a repository's pull requests: number, title, state, draft, author, branches, reviewers, dates.

        Details, diff and CI: github_get_pull_request, github_get_pull_request_diff,
        github_get_pull_request_status.
        """
        params = {"state": state, "head": head, "base": base, "sort": sort, "direction": direction}
        response = await ctx.http.get(
            repo_path(owner, repo, "pulls"), params={**params, **page_params(limit, cursor, maximum=SMALL_PAGE)}
        )
        items = [PullRequest.from_api(p, body_limit=LIST_BODY_LIMIT) for p in response.json_list(of=dict)]
        return PullRequestList(items=items, next_cursor=next_cursor(response))

    @tool(read_only=True, group="pull_requests", scopes=_SCOPES)
    async def get_pull_request(
        self, ctx: ToolContext, owner: Owner, repo: Repo, pull_number: PullNumber
    ) -> PullRequest:
        """Get one pull request: description, branches, head SHA, merge state, mergeability, reviewers, size.

        `mergeable` may be null while GitHub computes it; ask again shortly.
        """
        response = await ctx.http.get(repo_path(owner, repo, "pulls", pull_number))
        return PullRequest.from_api(response.json_object())

    @tool(read_only=True, group="pull_requests", scopes=_SCOPES)
    async def get_pull_request_diff(self, ctx: ToolContext, owner: Owner, repo: Repo, pull_number: PullNumber) -> Diff:
        """Get a pull request's changes as one unified diff (cut at ~60,000 characters).

        For a large one, github_list_pull_request_files pages file by file.
        """
        response = await ctx.http.get(
            repo_path(owner, repo, "pulls", pull_number), headers={"Accept": "application/vnd.github.diff"}
        )
        text = response.text
        shown, cut = clip(text, DIFF_CHAR_LIMIT, "use github_list_pull_request_files to read the rest file by file")
        return Diff(
            text=shown or "",
            truncated=cut,
            total_chars=len(text),
            note="The diff was cut; github_list_pull_request_files pages through every file's patch." if cut else None,
        )

    @tool(read_only=True, group="pull_requests", scopes=_SCOPES)
    async def list_pull_request_files(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        pull_number: PullNumber,
        limit: Annotated[int, Limit(maximum=100, what="Files")] = 20,
        cursor: Cursor = None,
    ) -> FileChangeList:
        """List the files a pull request changes, with status, line counts and bounded patches."""
        response = await ctx.http.get(
            repo_path(owner, repo, "pulls", pull_number, "files"), params=page_params(limit, cursor)
        )
        files, _ = bounded_files(response.json_list(of=dict))
        return FileChangeList(items=files, next_cursor=next_cursor(response))

    @tool(read_only=True, group="pull_requests", scopes=_SCOPES)
    async def list_pull_request_reviews(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        pull_number: PullNumber,
        limit: SmallPageLimit = 20,
        cursor: Cursor = None,
    ) -> ReviewList:
        """List a pull request's reviews, oldest first: reviewer, verdict, summary, date.

        Inline comments: github_list_pull_request_review_comments.
        """
        response = await ctx.http.get(
            repo_path(owner, repo, "pulls", pull_number, "reviews"),
            params=page_params(limit, cursor, maximum=SMALL_PAGE),
        )
        reviews = response.json_list(of=dict)
        limit_each = page_body_limit(len(reviews))
        return ReviewList(
            items=[Review.from_api(r, body_limit=limit_each) for r in reviews], next_cursor=next_cursor(response)
        )

    @tool(read_only=True, group="pull_requests", scopes=_SCOPES)
    async def list_pull_request_review_comments(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        pull_number: PullNumber,
        limit: SmallPageLimit = 20,
        cursor: Cursor = None,
    ) -> ReviewCommentList:
        """List a pull request's inline review comments (on diff lines), oldest first.

        The general conversation: github_list_issue_comments.
        """
        response = await ctx.http.get(
            repo_path(owner, repo, "pulls", pull_number, "comments"),
            params=page_params(limit, cursor, maximum=SMALL_PAGE),
        )
        comments = response.json_list(of=dict)
        limit_each = page_body_limit(len(comments))
        return ReviewCommentList(
            items=[ReviewComment.from_api(c, body_limit=limit_each) for c in comments],
            next_cursor=next_cursor(response),
        )

    @tool(read_only=True, group="pull_requests", scopes=_SCOPES)
    async def get_pull_request_status(
        self, ctx: ToolContext, owner: Owner, repo: Repo, pull_number: PullNumber
    ) -> CheckStatus:
        """Get a pull request's CI status: overall verdict, failing checks, every check run and status.

        Use it before merging or to find the failing check (then github_get_job_logs).
        """
        pull = PullRequest.from_api((await ctx.http.get(repo_path(owner, repo, "pulls", pull_number))).json_object())
        sha = pull.head_sha
        if not sha:
            raise InvalidArguments(
                f"pull request #{pull_number} has no head commit", errors=[("pull_number", "no head")]
            )
        checks = await ctx.http.get(repo_path(owner, repo, "commits", sha, "check-runs"), params={"per_page": 100})
        statuses = await ctx.http.get(repo_path(owner, repo, "commits", sha, "status"))
        return CheckStatus.from_api(pull_number, sha, checks.json_object(), statuses.json_object())

    @tool(read_only=False, group="pull_requests", destructive=False, idempotent=False, scopes=_SCOPES)
    async def create_pull_request(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        title: Annotated[str, Field(min_length=1, max_length=256, description="The pull request title.")],
        head: Annotated[
            str,
            Field(min_length=1, max_length=255, description="Branch with the changes (`user:branch` from a fork)."),
        ],
        base: Annotated[str, Field(min_length=1, max_length=255, description="Branch to merge into, e.g. `main`.")],
        body: Annotated[str | None, Field(max_length=65_536, description="Description in Markdown.")] = None,
        draft: Annotated[bool, Field(description="Open it as a draft.")] = False,
        maintainer_can_modify: Annotated[
            bool, Field(description="Let maintainers push to the head branch (fork pull requests).")
        ] = True,
    ) -> PullRequest:
        """Open a pull request from `head` into `base`; returns its number and URL.

        The head branch must exist and differ from the base.
        """
        payload: dict[str, Any] = {
            "title": title,
            "head": head,
            "base": base,
            "draft": draft,
            "maintainer_can_modify": maintainer_can_modify,
        }
        if body is not None:
            payload["body"] = body
        response = await ctx.http.post(repo_path(owner, repo, "pulls"), json=payload)
        return PullRequest.from_api(response.json_object())

    @tool(read_only=False, group="pull_requests", destructive=True, idempotent=True, scopes=_SCOPES)
    async def update_pull_request(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        pull_number: PullNumber,
        title: Annotated[str | None, Field(min_length=1, max_length=256, description="New title.")] = None,
        body: Annotated[str | None, Field(max_length=65_536, description="New description (replaces it).")] = None,
        state: Annotated[Literal["open", "closed"] | None, Field(description="Close or reopen it.")] = None,
        base: Annotated[str | None, Field(max_length=255, description="New base branch.")] = None,
        maintainer_can_modify: Annotated[
            bool | None, Field(description="Let maintainers push to the head branch.")
        ] = None,
    ) -> PullRequest:
        """Change a pull request's title, description, base or state (close/reopen without merging)."""
        payload = {
            key: value
            for key, value in (
                ("title", title),
                ("body", body),
                ("state", state),
                ("base", base),
                ("maintainer_can_modify", maintainer_can_modify),
            )
            if value is not None
        }
        if not payload:
            raise InvalidArguments(
                "nothing to change: give at least one field to update", errors=[("title", "missing")]
            )
        response = await ctx.http.patch(repo_path(owner, repo, "pulls", pull_number), json=payload)
        return PullRequest.from_api(response.json_object())

    @tool(read_only=False, group="pull_requests", destructive=False, idempotent=False, scopes=_SCOPES)
    async def merge_pull_request(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        pull_number: PullNumber,
        merge_method: Annotated[
            Literal["merge", "squash", "rebase"], Field(description="Merge commit, squash, or rebase.")
        ] = "merge",
        commit_title: Annotated[str | None, Field(max_length=256, description="Title of the merge commit.")] = None,
        commit_message: Annotated[
            str | None, Field(max_length=65_536, description="Extra detail for the merge commit message.")
        ] = None,
        sha: Annotated[
            str | None,
            Field(
                pattern=r"^[0-9a-f]{40}$",
                description="Merge only if the head is still this SHA (protects against new pushes).",
            ),
        ] = None,
    ) -> MergeResult:
        """Merge a pull request (merge commit, squash or rebase); returns the merge commit SHA.

        Fails (405/409) if not mergeable; check with github_get_pull_request_status.
        """
        payload = {
            key: value
            for key, value in (
                ("merge_method", merge_method),
                ("commit_title", commit_title),
                ("commit_message", commit_message),
                ("sha", sha),
            )
            if value is not None
        }
        response = await ctx.http.put(
            repo_path(owner, repo, "pulls", pull_number, "merge"), json=payload, idempotent=False
        )
        return MergeResult.from_api(response.json_object())

    @tool(read_only=False, group="pull_requests", destructive=False, idempotent=False, scopes=_SCOPES)
    async def create_pull_request_review(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        pull_number: PullNumber,
        event: Annotated[
            Literal["APPROVE", "REQUEST_CHANGES", "COMMENT"] | None,
            Field(description="The verdict; omit to leave the review pending (a draft only you can see)."),
        ] = None,
        body: Annotated[
            str | None, Field(max_length=65_536, description="Summary comment (required for REQUEST_CHANGES, COMMENT).")
        ] = None,
        comments: Annotated[
            list[InlineComment] | None,
            Field(max_length=50, description="Inline comments on lines of the diff."),
        ] = None,
        commit_id: Annotated[
            str | None,
            Field(pattern=r"^[0-9a-f]{40}$", description="Commit to review; defaults to the latest head commit."),
        ] = None,
    ) -> Review:
        """Review a pull request: approve, request changes or comment, with a summary and inline line comments.

        You cannot approve your own pull request.
        """
        if event in ("REQUEST_CHANGES", "COMMENT") and not body and not comments:
            raise InvalidArguments(f"a {event} review needs a body or inline comments", errors=[("body", "missing")])
        payload: dict[str, Any] = {}
        if event:
            payload["event"] = event
        if body is not None:
            payload["body"] = body
        if commit_id:
            payload["commit_id"] = commit_id
        if comments:
            payload["comments"] = [c.model_dump(exclude_none=True) for c in comments]
        response = await ctx.http.post(repo_path(owner, repo, "pulls", pull_number, "reviews"), json=payload)
        return Review.from_api(response.json_object())

    @tool(read_only=False, group="pull_requests", destructive=False, idempotent=True, scopes=_SCOPES)
    async def add_pull_request_reviewers(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        pull_number: PullNumber,
        reviewers: Annotated[
            list[Annotated[str, Field(min_length=1, max_length=100)]] | None,
            Field(max_length=15, description="Logins of people to ask for a review."),
        ] = None,
        team_reviewers: Annotated[
            list[Annotated[str, Field(min_length=1, max_length=100)]] | None,
            Field(max_length=15, description="Slugs of teams (of the repository's organization) to ask."),
        ] = None,
    ) -> ReviewersResult:
        """Request reviews of a pull request from people or teams; those already asked stay asked.

        Returns everyone whose review is now requested.
        """
        if not reviewers and not team_reviewers:
            raise InvalidArguments("give reviewers or team_reviewers", errors=[("reviewers", "missing")])
        payload: dict[str, Any] = {}
        if reviewers:
            payload["reviewers"] = reviewers
        if team_reviewers:
            payload["team_reviewers"] = team_reviewers
        response = await ctx.http.post(
            repo_path(owner, repo, "pulls", pull_number, "requested_reviewers"), json=payload, idempotent=True
        )
        return ReviewersResult.from_api(response.json_object(), pull_number)
