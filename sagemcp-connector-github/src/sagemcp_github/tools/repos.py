"""`repos` tools: repositories, file contents and trees, branches, commits, tags, releases, and their search."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any, Literal

from pydantic import Field

from sagemcp import Cursor, Limit, ToolContext, clip, tool, truncation_marker
from sagemcp.errors import InvalidArguments, UpstreamBadResponse

from .._pagination import next_cursor, offset_cursor, page_params, read_offset
from .._params import SMALL_PAGE, Owner, PageLimit, Ref, Repo, SmallPageLimit, file_path, repo_path, segment
from .._scopes import REPO
from .._text import decode_text
from ..models import (
    LIST_BODY_LIMIT,
    Branch,
    BranchList,
    CodeSearchHit,
    CodeSearchResult,
    Commit,
    CommitDetail,
    CommitList,
    CommitSearchResult,
    Comparison,
    Contributor,
    ContributorList,
    DirEntry,
    FileCommit,
    FileContent,
    Release,
    ReleaseList,
    RepoList,
    RepoSearchResult,
    RepoStats,
    Tag,
    TagList,
    TreePage,
)
from ..models import Repo as RepoModel
from ._common import Order, Query, bounded_files, search_params, search_result

__all__ = ["ReposTools"]

_SCOPES = REPO
_SHA_RE = re.compile(r"^[0-9a-f]{40}$")
_GET_FILE = "github_get_file_content"

FILE_CHAR_LIMIT = 40_000
"""Characters of a file shown by one `get_file_content` call (about 10,000 tokens)."""
RAW_FETCH_LIMIT = 5 * 1024 * 1024
"""Files over 1 MB come without content; up to this size they are fetched raw, beyond it only described."""
DIR_ENTRY_LIMIT = 300
COMMIT_FILE_LIMIT = 50
COMPARE_COMMIT_LIMIT = 50

Path = Annotated[
    str,
    Field(min_length=1, max_length=1024, description="Path of the file in the repository, e.g. `src/app.py`."),
]
OptionalRef = Annotated[
    str | None,
    Field(max_length=255, description="Branch, tag or commit SHA; omit for the default branch."),
]
Branchname = Annotated[
    str | None, Field(max_length=255, description="Branch to commit to; omit for the default branch.")
]
Message = Annotated[str, Field(min_length=1, max_length=10_000, description="The commit message.")]
FileText = Annotated[str, Field(max_length=1_000_000, description="The complete text of the file.")]


class ReposTools:
    """Tools for repositories and their contents."""

    # -- repositories --------------------------------------------------------------------

    @tool(read_only=True, group="repos", scopes=_SCOPES)
    async def list_repositories(
        self,
        ctx: ToolContext,
        org: Annotated[
            str | None, Field(max_length=100, description="List this organization's repositories instead.")
        ] = None,
        username: Annotated[
            str | None, Field(max_length=100, description="List this user's public repositories instead.")
        ] = None,
        sort: Annotated[
            Literal["created", "updated", "pushed", "full_name"],
            Field(description="Order: recently created, updated or pushed first, or by name."),
        ] = "updated",
        limit: SmallPageLimit = 20,
        cursor: Cursor = None,
    ) -> RepoList:
        """List the repositories you can access, or those of one organization or user.

        Finds a repository's exact `owner` and `name`; by topic or text use github_search_repositories.
        """
        if org and username:
            raise InvalidArguments("give org or username, not both", errors=[("org", "conflicts with username")])
        params: dict[str, Any] = {"sort": sort, **page_params(limit, cursor, maximum=SMALL_PAGE)}
        if org:
            path = f"/orgs/{segment(org, 'org')}/repos"
        elif username:
            path = f"/users/{segment(username, 'username')}/repos"
        else:
            path = "/user/repos"
        response = await ctx.http.get(path, params=params)
        return RepoList(
            items=[RepoModel.from_api(r) for r in response.json_list(of=dict)], next_cursor=next_cursor(response)
        )

    @tool(read_only=True, group="repos", scopes=_SCOPES)
    async def get_repository(self, ctx: ToolContext, owner: Owner, repo: Repo) -> RepoModel:
        """Get one repository: description, visibility, default branch, language, topics, license, counts."""
        response = await ctx.http.get(repo_path(owner, repo))
        return RepoModel.from_api(response.json_object())

    @tool(read_only=True, group="repos", scopes=_SCOPES)
    async def get_repository_stats(self, ctx: ToolContext, owner: Owner, repo: Repo) -> RepoStats:
        """Get a repository's stars, forks, watchers, open issues, languages and commit activity (4 and 52 weeks).

        If `note` says statistics are being computed, call again a few seconds later.
        """
        info = (await ctx.http.get(repo_path(owner, repo))).json_object()
        languages = (await ctx.http.get(repo_path(owner, repo, "languages"))).json_object()
        participation = await ctx.http.get(repo_path(owner, repo, "stats", "participation"))
        # 202 (or an empty body) while GitHub computes the statistics; the model says so in `note`.
        computed = participation.status == 200 and participation.content.strip()
        stats = RepoStats.from_api(info, languages, participation.json_object() if computed else None)
        return stats if stats.full_name else stats.model_copy(update={"full_name": f"{owner}/{repo}"})

    @tool(read_only=True, group="repos", scopes=_SCOPES)
    async def list_contributors(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        limit: PageLimit = 20,
        cursor: Cursor = None,
    ) -> ContributorList:
        """List a repository's contributors with their commit counts, most commits first."""
        response = await ctx.http.get(repo_path(owner, repo, "contributors"), params=page_params(limit, cursor))
        if response.status == 204 or not response.content.strip():
            return ContributorList(items=[])
        items = [Contributor.from_api(c) for c in response.json_list(of=dict)]
        return ContributorList(items=items, next_cursor=next_cursor(response))

    # -- contents --------------------------------------------------------------------------

    @tool(read_only=True, group="repos", scopes=_SCOPES)
    async def get_file_content(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        path: Annotated[
            str,
            Field(
                min_length=1,
                max_length=1024,
                description="File or directory path in the repository, e.g. `src/app.py` or `docs`.",
            ),
        ],
        ref: OptionalRef = None,
        start_line: Annotated[
            int, Field(ge=1, description="First line to show (1-based), to continue a file that was cut.")
        ] = 1,
    ) -> FileContent:
        """Read a file from a repository as text (the README, code...), or list a directory.

        Long text is cut with a marker naming the `start_line` to continue from; binary files are only
        described. Returns the blob `sha` needed to update or delete the file.
        """
        where = repo_path(owner, repo, "contents", file_path(path))
        response = await ctx.http.get(where, params={"ref": ref})
        data = response.json()
        if isinstance(data, list):
            return _directory(path, data)
        if not isinstance(data, dict):
            data = response.json_object()
        described = FileContent.from_api(data, path)
        if described.type in ("symlink", "submodule"):
            return described
        raw = await _file_bytes(ctx, where, ref, data)
        if raw is None:
            return described.model_copy(
                update={
                    "encoding": data.get("encoding"),
                    "truncated": True,
                    "note": f"The file is {described.size or 0:,} bytes, too large to show here; download it from "
                    "download_url, or search inside it with github_search_code.",
                }
            )
        text = decode_text(raw)
        if text is None:
            note = f"Binary file ({len(raw):,} bytes); its content is not shown. Download it from download_url."
            return described.model_copy(update={"binary": True, "note": note})
        return _text_window(described, text, start_line)

    @tool(read_only=True, group="repos", scopes=_SCOPES)
    async def get_repository_tree(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        ref: OptionalRef = None,
        path_prefix: Annotated[
            str | None,
            Field(max_length=1024, description="Only entries under this directory, e.g. `src/`."),
        ] = None,
        recursive: Annotated[bool, Field(description="Include every level (true) or only the top level.")] = True,
        limit: Annotated[int, Limit(maximum=500, what="Entries")] = 200,
        cursor: Cursor = None,
    ) -> TreePage:
        """List a repository's files and directories (the Git tree) at a branch, tag or commit.

        Shows the layout or finds a path for github_get_file_content; narrow with `path_prefix`.
        """
        offset = read_offset(cursor)
        tree_ref = segment(ref or "HEAD", "ref")
        # Without `recursive` GitHub lists only the repository's top level, so a sub-directory's
        # entries come from the recursive tree, cut to that directory's direct children.
        under_prefix = bool((path_prefix or "").strip("/"))
        response = await ctx.http.get(
            repo_path(owner, repo, "git", "trees", tree_ref),
            params={"recursive": "1" if recursive or under_prefix else None},
        )
        tree = TreePage.from_api(response.json_object(), path_prefix=path_prefix, top_level_only=not recursive)
        return tree.model_copy(
            update={
                "items": tree.items[offset : offset + limit],
                "next_cursor": offset_cursor(offset + limit, tree.total_entries),
            }
        )

    @tool(read_only=False, group="repos", destructive=False, idempotent=False, scopes=_SCOPES)
    async def create_file(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        path: Path,
        content: FileText,
        message: Message,
        branch: Branchname = None,
    ) -> FileCommit:
        """Create a new file in one commit (fails if it exists: use github_update_file).

        Files under `.github/workflows` need the `workflow` scope.
        """
        return await _put_file(ctx, owner, repo, path, content, message, branch, None)

    @tool(read_only=False, group="repos", destructive=True, idempotent=False, scopes=_SCOPES)
    async def update_file(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        path: Path,
        content: FileText,
        message: Message,
        sha: Annotated[
            str,
            Field(
                pattern=r"^[0-9a-f]{40}$",
                description="Blob SHA of the file being replaced (from github_get_file_content).",
            ),
        ],
        branch: Branchname = None,
    ) -> FileCommit:
        """Replace an existing file's content in one commit.

        Needs the current blob `sha` from github_get_file_content (a stale one fails, 409); files under
        `.github/workflows` need the `workflow` scope.
        """
        return await _put_file(ctx, owner, repo, path, content, message, branch, sha)

    @tool(read_only=False, group="repos", destructive=True, idempotent=False, scopes=_SCOPES)
    async def delete_file(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        path: Path,
        message: Message,
        sha: Annotated[
            str,
            Field(pattern=r"^[0-9a-f]{40}$", description="Blob SHA of the file (from github_get_file_content)."),
        ],
        branch: Branchname = None,
    ) -> FileCommit:
        """Delete a file in one commit; needs its current blob `sha` (github_get_file_content)."""
        payload: dict[str, Any] = {"message": message, "sha": sha}
        if branch:
            payload["branch"] = branch
        response = await ctx.http.delete(
            repo_path(owner, repo, "contents", file_path(path)), json=payload, idempotent=False
        )
        result = FileCommit.from_api(response.json_object(), path)
        return result.model_copy(update={"sha": None, "url": None})

    # -- branches -----------------------------------------------------------------------

    @tool(read_only=True, group="repos", scopes=_SCOPES)
    async def list_branches(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        protected: Annotated[
            bool | None, Field(description="Only protected (true) or unprotected (false) branches.")
        ] = None,
        limit: PageLimit = 20,
        cursor: Cursor = None,
    ) -> BranchList:
        """List a repository's branches with their head commit SHA and protection."""
        params: dict[str, Any] = {**page_params(limit, cursor)}
        if protected is not None:
            params["protected"] = "true" if protected else "false"
        response = await ctx.http.get(repo_path(owner, repo, "branches"), params=params)
        return BranchList(
            items=[Branch.from_api(b) for b in response.json_list(of=dict)], next_cursor=next_cursor(response)
        )

    @tool(read_only=True, group="repos", scopes=_SCOPES)
    async def get_branch(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        branch: Annotated[str, Field(min_length=1, max_length=255, description="The branch name, e.g. `main`.")],
    ) -> Branch:
        """Get one branch: its head commit (SHA, first line of the message, author, date) and protection."""
        response = await ctx.http.get(repo_path(owner, repo, "branches", segment(branch, "branch")))
        return Branch.from_api(response.json_object())

    @tool(read_only=False, group="repos", destructive=False, idempotent=False, scopes=_SCOPES)
    async def create_branch(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        branch: Annotated[
            str, Field(min_length=1, max_length=255, description="Name of the new branch, e.g. `fix/login-bug`.")
        ],
        from_ref: Annotated[
            str | None,
            Field(max_length=255, description="Branch, tag or commit SHA to start from; omit for the default branch."),
        ] = None,
    ) -> Branch:
        """Create a branch from another branch, tag or commit (default: the default branch)."""
        if from_ref and _SHA_RE.match(from_ref):
            sha = from_ref
        else:
            found = await ctx.http.get(
                repo_path(owner, repo, "commits", segment(from_ref or "HEAD", "from_ref")),
                headers={"Accept": "application/vnd.github.sha"},
            )
            sha = found.text.strip()
            if sha.startswith("{"):  # a full commit object, if the media type was not honoured
                sha = str(found.json_object().get("sha") or "")
            if not _SHA_RE.match(sha):
                raise InvalidArguments(
                    f"could not resolve {from_ref or 'the default branch'!r} to a commit",
                    errors=[("from_ref", "unknown")],
                )
        name = branch.removeprefix("refs/heads/")
        response = await ctx.http.post(
            repo_path(owner, repo, "git", "refs"), json={"ref": f"refs/heads/{name}", "sha": sha}
        )
        return Branch.from_ref(name, response.json_object(), sha)

    # -- commits ------------------------------------------------------------------------

    @tool(read_only=True, group="repos", scopes=_SCOPES)
    async def list_commits(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        ref: OptionalRef = None,
        path: Annotated[str | None, Field(max_length=1024, description="Only commits touching this path.")] = None,
        author: Annotated[
            str | None, Field(max_length=255, description="Only commits by this GitHub login or email address.")
        ] = None,
        since: Annotated[
            str | None,
            Field(max_length=40, description="Only commits after this ISO 8601 time, e.g. 2024-01-31T00:00:00Z."),
        ] = None,
        until: Annotated[
            str | None, Field(max_length=40, description="Only commits before this ISO 8601 time.")
        ] = None,
        limit: PageLimit = 20,
        cursor: Cursor = None,
    ) -> CommitList:
        """List a branch's commits, newest first: SHA, first message line, author, date.

        Full message and diff: github_get_commit.
        """
        params = {
            "sha": ref,
            "path": path,
            "author": author,
            "since": since,
            "until": until,
            **page_params(limit, cursor),
        }
        response = await ctx.http.get(repo_path(owner, repo, "commits"), params=params)
        return CommitList(
            items=[Commit.from_api(c) for c in response.json_list(of=dict)], next_cursor=next_cursor(response)
        )

    @tool(read_only=True, group="repos", scopes=_SCOPES)
    async def get_commit(self, ctx: ToolContext, owner: Owner, repo: Repo, ref: Ref) -> CommitDetail:
        """Get one commit: full message, author, parents and changed files with bounded diffs."""
        response = await ctx.http.get(repo_path(owner, repo, "commits", segment(ref, "ref")))
        data = response.json_object()
        files, omitted = bounded_files(
            [f for f in data.get("files") or [] if isinstance(f, dict)], max_files=COMMIT_FILE_LIMIT
        )
        return CommitDetail.from_api(data, files, omitted)

    @tool(read_only=True, group="repos", scopes=_SCOPES)
    async def compare_commits(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        base: Annotated[str, Field(min_length=1, max_length=255, description="The base branch, tag or SHA.")],
        head: Annotated[
            str,
            Field(min_length=1, max_length=255, description="The head branch, tag or SHA (`user:branch` for a fork)."),
        ],
    ) -> Comparison:
        """Compare two branches, tags or commits: ahead/behind, the commits between and changed files.

        Use it to see what a branch would bring into another.
        """
        basehead = f"{segment(base, 'base')}...{segment(head, 'head')}"
        response = await ctx.http.get(repo_path(owner, repo, "compare", basehead))
        data = response.json_object()
        files, omitted = bounded_files(
            [f for f in data.get("files") or [] if isinstance(f, dict)], max_files=COMMIT_FILE_LIMIT
        )
        return Comparison.from_api(
            data, base, head, max_commits=COMPARE_COMMIT_LIMIT, files=files, files_omitted=omitted
        )

    # -- tags and releases -----------------------------------------------------------------

    @tool(read_only=True, group="repos", scopes=_SCOPES)
    async def list_tags(
        self, ctx: ToolContext, owner: Owner, repo: Repo, limit: PageLimit = 20, cursor: Cursor = None
    ) -> TagList:
        """List a repository's Git tags, newest first, with the commit SHA each points to."""
        response = await ctx.http.get(repo_path(owner, repo, "tags"), params=page_params(limit, cursor))
        return TagList(items=[Tag.from_api(t) for t in response.json_list(of=dict)], next_cursor=next_cursor(response))

    @tool(read_only=True, group="repos", scopes=_SCOPES)
    async def list_releases(
        self, ctx: ToolContext, owner: Owner, repo: Repo, limit: SmallPageLimit = 10, cursor: Cursor = None
    ) -> ReleaseList:
        """List a repository's releases, newest first: tag, name, flags, dates, assets, start of the notes."""
        response = await ctx.http.get(
            repo_path(owner, repo, "releases"), params=page_params(limit, cursor, maximum=SMALL_PAGE)
        )
        return ReleaseList(
            items=[Release.from_api(r, body_limit=LIST_BODY_LIMIT) for r in response.json_list(of=dict)],
            next_cursor=next_cursor(response),
        )

    @tool(read_only=True, group="repos", scopes=_SCOPES)
    async def get_release(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        tag: Annotated[str | None, Field(max_length=255, description="The release's tag, e.g. `v1.2.0`.")] = None,
        release_id: Annotated[int | None, Field(ge=1, description="The release's numeric id.")] = None,
    ) -> Release:
        """Get one release's full notes and assets, by tag or id, or the latest published one."""
        if tag and release_id:
            raise InvalidArguments("give tag or release_id, not both", errors=[("tag", "conflicts with release_id")])
        if tag:
            path = repo_path(owner, repo, "releases", "tags", segment(tag, "tag"))
        elif release_id:
            path = repo_path(owner, repo, "releases", release_id)
        else:
            path = repo_path(owner, repo, "releases", "latest")
        return Release.from_api((await ctx.http.get(path)).json_object())

    @tool(read_only=False, group="repos", destructive=False, idempotent=False, scopes=_SCOPES)
    async def create_release(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        tag_name: Annotated[str, Field(min_length=1, max_length=255, description="Tag to release, e.g. `v1.2.0`.")],
        name: Annotated[str | None, Field(max_length=1000, description="Release title; defaults to the tag.")] = None,
        body: Annotated[str | None, Field(max_length=125_000, description="Release notes in Markdown.")] = None,
        target_commitish: Annotated[
            str | None,
            Field(max_length=255, description="Branch or SHA to tag if the tag does not exist yet (default branch)."),
        ] = None,
        draft: Annotated[bool, Field(description="Create an unpublished draft.")] = False,
        prerelease: Annotated[bool, Field(description="Mark it as a prerelease.")] = False,
        generate_release_notes: Annotated[
            bool, Field(description="Let GitHub write notes from the merged pull requests (added after `body`).")
        ] = False,
    ) -> Release:
        """Create a release (and its tag if new) with Markdown notes; publishing notifies watchers."""
        payload: dict[str, Any] = {
            "tag_name": tag_name,
            "draft": draft,
            "prerelease": prerelease,
            "generate_release_notes": generate_release_notes,
        }
        for key, value in (("name", name), ("body", body), ("target_commitish", target_commitish)):
            if value is not None:
                payload[key] = value
        response = await ctx.http.post(repo_path(owner, repo, "releases"), json=payload)
        return Release.from_api(response.json_object())

    # -- creating repositories -------------------------------------------------------------

    @tool(read_only=False, group="repos", destructive=False, idempotent=True, scopes=_SCOPES)
    async def create_fork(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        organization: Annotated[
            str | None, Field(max_length=100, description="Fork into this organization instead of your account.")
        ] = None,
        name: Annotated[str | None, Field(max_length=100, description="Name of the fork (default: the same).")] = None,
        default_branch_only: Annotated[bool, Field(description="Copy only the default branch.")] = False,
    ) -> RepoModel:
        """Fork a repository into your account or an organization (returns an existing fork).

        The fork may take a few seconds to be ready.
        """
        payload: dict[str, Any] = {"default_branch_only": default_branch_only}
        if organization:
            payload["organization"] = organization
        if name:
            payload["name"] = name
        response = await ctx.http.post(repo_path(owner, repo, "forks"), json=payload, idempotent=True)
        return RepoModel.from_api(response.json_object())

    @tool(read_only=False, group="repos", destructive=False, idempotent=False, scopes=_SCOPES)
    async def create_repository(
        self,
        ctx: ToolContext,
        name: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$", description="Name.")],
        org: Annotated[
            str | None, Field(max_length=100, description="Create it in this organization instead of your account.")
        ] = None,
        description: Annotated[str | None, Field(max_length=350, description="Short description.")] = None,
        private: Annotated[bool, Field(description="Make it private.")] = True,
        auto_init: Annotated[bool, Field(description="Create an initial commit with a README.")] = True,
    ) -> RepoModel:
        """Create a new repository in your account or in an organization (private by default).

        Returns the new repository with its URL and default branch.
        """
        payload: dict[str, Any] = {"name": name, "private": private, "auto_init": auto_init}
        if description:
            payload["description"] = description
        path = f"/orgs/{segment(org, 'org')}/repos" if org else "/user/repos"
        response = await ctx.http.post(path, json=payload)
        return RepoModel.from_api(response.json_object())

    # -- search ----------------------------------------------------------------------------

    @tool(read_only=True, group="repos", scopes=_SCOPES)
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
        """Search repositories by name, topic, language, stars (GitHub search syntax).

        Returns description, language, stars, URL and the total count.
        """
        response = await ctx.http.get(
            "/search/repositories", params=search_params(query, sort, order, limit, cursor, maximum=SMALL_PAGE)
        )
        return search_result(RepoSearchResult, response, RepoModel.from_api)

    @tool(read_only=True, group="repos", scopes=_SCOPES)
    async def search_code(
        self,
        ctx: ToolContext,
        query: Annotated[str, Query("addClass repo:jquery/jquery language:js")],
        limit: PageLimit = 20,
        cursor: Cursor = None,
    ) -> CodeSearchResult:
        """Search code on default branches (qualifiers `repo:`, `path:`, `language:`): paths and snippets.

        Read a hit with github_get_file_content; about 10 searches a minute.
        """
        response = await ctx.http.get(
            "/search/code",
            params=search_params(query, None, "desc", limit, cursor),
            headers={"Accept": "application/vnd.github.text-match+json"},
        )
        return search_result(CodeSearchResult, response, CodeSearchHit.from_api)

    @tool(read_only=True, group="repos", scopes=_SCOPES)
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
        """Search commits on default branches by message and qualifiers (`repo:`, `author:`)."""
        response = await ctx.http.get("/search/commits", params=search_params(query, sort, order, limit, cursor))
        return search_result(CommitSearchResult, response, Commit.from_api)


# -- helpers --------------------------------------------------------------------------------


def _directory(path: str, data: list[Any]) -> FileContent:
    entries = [DirEntry.from_api(e) for e in data if isinstance(e, dict)]
    shown = entries[:DIR_ENTRY_LIMIT]
    note = None
    if len(entries) > len(shown):
        note = truncation_marker(
            len(shown),
            len(entries),
            "entries",
            "page through them with github_get_repository_tree and path_prefix",
        )
    return FileContent(path=path.strip("/"), type="dir", entries=shown, truncated=note is not None, note=note)


async def _file_bytes(ctx: ToolContext, where: str, ref: str | None, data: dict[str, Any]) -> bytes | None:
    """The file's bytes: decoded from the JSON answer, fetched raw for 1-5 MB files, None when too large."""
    content = data.get("content")
    if data.get("encoding") == "base64" and isinstance(content, str):
        try:
            return base64.b64decode(content)
        except binascii.Error:
            raise UpstreamBadResponse(
                f"GitHub returned the content of {data.get('path')!r} as invalid base64; try again later",
                provider="github",
            ) from None
    size = data.get("size") or 0
    if size == 0:
        return b""
    if size > RAW_FETCH_LIMIT:
        return None
    raw = await ctx.http.get(where, params={"ref": ref}, headers={"Accept": "application/vnd.github.raw+json"})
    return raw.content


def _text_window(result: FileContent, text: str, start_line: int) -> FileContent:
    lines = text.splitlines(keepends=True)
    total = len(lines)
    if total and start_line > total:
        raise InvalidArguments(
            f"start_line {start_line} is past the end of the file ({total} lines)",
            errors=[("start_line", f"the file has {total} lines")],
        )
    begin = start_line - 1
    used = 0
    end = begin
    while end < total and (used + len(lines[end]) <= FILE_CHAR_LIMIT or end == begin):
        used += len(lines[end])
        end += 1
    shown = "".join(lines[begin:end])
    truncated = end < total
    if len(shown) > FILE_CHAR_LIMIT:  # one enormous line (minified code, data)
        after = f"; call {_GET_FILE} with start_line={end + 1} for the next line" if end < total else ""
        shown, truncated = clip(
            shown, FILE_CHAR_LIMIT, f"the rest of line {start_line} is only in the file at download_url{after}"
        )
    elif truncated:
        hint = f"these are lines {start_line}-{end}; call {_GET_FILE} with start_line={end + 1} for more"
        shown = shown.rstrip("\n") + "\n" + truncation_marker(end - begin, total, "lines", hint)
    return result.model_copy(
        update={
            "encoding": "utf-8",
            "content": shown,
            "start_line": start_line if total else None,
            "end_line": end if total else None,
            "total_lines": total,
            "truncated": truncated,
        }
    )


async def _put_file(
    ctx: ToolContext,
    owner: str,
    repo: str,
    path: str,
    content: str,
    message: str,
    branch: str | None,
    sha: str | None,
) -> FileCommit:
    """`PUT .../contents/{path}`: a create without `sha`, a replace of that blob with it."""
    payload: dict[str, Any] = {"message": message, "content": base64.b64encode(content.encode("utf-8")).decode("ascii")}
    if branch:
        payload["branch"] = branch
    if sha:
        payload["sha"] = sha
    response = await ctx.http.put(repo_path(owner, repo, "contents", file_path(path)), json=payload, idempotent=False)
    return FileCommit.from_api(response.json_object(), path)
