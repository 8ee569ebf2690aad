"""`search` tools: GitHub's search across repositories, code, issues and pull requests, commits and users.

The `query` of every search tool is passed to GitHub unchanged as its `q` parameter:
it is GitHub's own query language (`repo:owner/name is:open label:bug`), which the
model writes on purpose. Every other argument is a typed parameter.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from sagemcp.context import ToolContext
from sagemcp.pagination import Cursor
from sagemcp.tools import tool

from .._pagination import next_cursor, page_params
from .._params import SMALL_PAGE, PageLimit, SmallPageLimit
from .._scopes import REPO
from ..models import (
    LIST_BODY_LIMIT,
    CodeSearchHit,
    CodeSearchResult,
    Commit,
    CommitSearchResult,
    Issue,
    IssueSearchResult,
    RepoSearchResult,
    User,
    UserSearchResult,
    body,
)
from ..models import Repo as RepoModel
from ._common import search_result

__all__ = ["SearchTools", "search_params"]

_SCOPES = REPO
_FRAGMENTS = 3
_FRAGMENT_CHARS = 300

Order = Annotated[Literal["desc", "asc"], Field(description="Sort order (with `sort`).")]


def Query(example: str) -> Any:
    return Field(
        min_length=1,
        max_length=256,
        description=f"GitHub search query, passed as is (GitHub's search syntax), e.g. `{example}`.",
    )


def search_params(
    query: str, sort: str | None, order: str, limit: int, cursor: str | None, maximum: int = 100
) -> dict[str, Any]:
    """The query string of a GitHub search request."""
    return {"q": query, "sort": sort, "order": order if sort else None, **page_params(limit, cursor, maximum=maximum)}


class SearchTools:
    """Tools for GitHub search (results are capped by GitHub at 1,000 per query)."""

    @tool(read_only=True, group="search", scopes=_SCOPES)
    async def search_repositories(
        self,
        ctx: ToolContext,
        query: Annotated[str, Query("machine learning language:python stars:>1000")],
        sort: Annotated[
            Literal["stars", "forks", "help-wanted-issues", "updated"] | None,
            Field(description="Sort key; omit for best match."),
        ] = None,
        order: Order = "desc",
        limit: SmallPageLimit = 20,
        cursor: Cursor = None,
    ) -> RepoSearchResult:
        """Search repositories by name, description, topic, language, stars and other qualifiers.

        Use it to discover projects; `org:NAME` or `user:NAME` limits it to one account. Returns
        repositories with description, language, stars and URL, and the total match count.
        """
        response = await ctx.http.get(
            "/search/repositories", params=search_params(query, sort, order, limit, cursor, maximum=SMALL_PAGE)
        )
        return search_result(RepoSearchResult, response, RepoModel.from_api)

    @tool(read_only=True, group="search", scopes=_SCOPES)
    async def search_code(
        self,
        ctx: ToolContext,
        query: Annotated[str, Query("addClass repo:jquery/jquery language:js")],
        limit: PageLimit = 20,
        cursor: Cursor = None,
    ) -> CodeSearchResult:
        """Search code across repositories (default branches only): file paths and matching snippets.

        Qualifiers: `repo:`, `org:`, `path:`, `language:`, `extension:`. Read a hit with
        github_get_file_content. GitHub allows about 10 code searches per minute.
        """
        response = await ctx.http.get(
            "/search/code",
            params=search_params(query, None, "desc", limit, cursor),
            headers={"Accept": "application/vnd.github.text-match+json"},
        )
        data = response.json_object()
        hits = []
        for item in response.json_list("items", of=dict):
            repo = item.get("repository") or {}
            fragments = [
                body(m.get("fragment"), _FRAGMENT_CHARS)[0] or ""
                for m in (item.get("text_matches") or [])[:_FRAGMENTS]
                if isinstance(m, dict) and m.get("fragment")
            ]
            hits.append(
                CodeSearchHit(
                    path=item.get("path") or "",
                    repository=repo.get("full_name"),
                    sha=item.get("sha"),
                    fragments=fragments,
                    url=item.get("html_url"),
                )
            )
        return CodeSearchResult(
            items=hits,
            next_cursor=next_cursor(response),
            total_count=data.get("total_count") or 0,
            incomplete_results=bool(data.get("incomplete_results")),
        )

    @tool(read_only=True, group="search", scopes=_SCOPES)
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
        """Search issues and pull requests across repositories (add `is:issue` or `is:pr` to get one kind).

        Useful qualifiers: `repo:`, `org:`, `author:`, `assignee:`, `mentions:`, `label:`, `is:open`,
        `review-requested:@me`. Returns number, repository, title, state, author, labels, dates and
        the start of each body.
        """
        response = await ctx.http.get(
            "/search/issues", params=search_params(query, sort, order, limit, cursor, maximum=SMALL_PAGE)
        )
        return search_result(
            IssueSearchResult,
            response,
            lambda i: Issue.from_api(i, body_limit=LIST_BODY_LIMIT, with_repository=True),
        )

    @tool(read_only=True, group="search", scopes=_SCOPES)
    async def search_commits(
        self,
        ctx: ToolContext,
        query: Annotated[str, Query("fix memory leak repo:octocat/Hello-World author-date:>2024-01-01")],
        sort: Annotated[
            Literal["author-date", "committer-date"] | None, Field(description="Sort key; omit for best match.")
        ] = None,
        order: Order = "desc",
        limit: PageLimit = 20,
        cursor: Cursor = None,
    ) -> CommitSearchResult:
        """Search commits by message and by qualifiers such as `repo:`, `author:`, `committer-date:`.

        Searches default branches only. Returns SHA, repository, first line of the message, author and date.
        """
        response = await ctx.http.get("/search/commits", params=search_params(query, sort, order, limit, cursor))
        return search_result(CommitSearchResult, response, Commit.from_api)

    @tool(read_only=True, group="search", scopes=_SCOPES)
    async def search_users(
        self,
        ctx: ToolContext,
        query: Annotated[str, Query("tom location:london followers:>100")],
        sort: Annotated[
            Literal["followers", "repositories", "joined"] | None, Field(description="Sort key; omit for best match.")
        ] = None,
        order: Order = "desc",
        limit: PageLimit = 20,
        cursor: Cursor = None,
    ) -> UserSearchResult:
        """Search users and organizations by login, name, location, followers and similar qualifiers.

        Add `type:user` or `type:org` for one kind. Returns logins and profile URLs; get details
        with github_get_user.
        """
        response = await ctx.http.get("/search/users", params=search_params(query, sort, order, limit, cursor))
        return search_result(UserSearchResult, response, User.from_api)
