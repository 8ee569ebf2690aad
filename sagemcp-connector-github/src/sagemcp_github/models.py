"""The trimmed shapes the GitHub tools return: what a person or a model needs, not raw API JSON.

Each model keeps identifiers, numbers, titles, states, logins, labels, dates (ISO 8601
strings as GitHub sends them), web URLs and Markdown bodies, and has a `from_api`
constructor that reads GitHub's JSON, so no tool function picks fields out of it. Long
text is cut with core's truncation marker (`sagemcp._text.clip`); list results are `Page`s
with `next_cursor`.

Every list result, and every result with a body (an issue, a file, a diff, a log),
renders itself as compact Markdown (`to_markdown()`), which is the text the model reads
beside `structuredContent`: a table or a heading with one line of facts, the body, and
the cursor for the next page.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import BaseModel, Field

from sagemcp import Page, clip
from sagemcp.markdown import Column, bullets, page_footer, table

from ._markdown import at, facts, fence, join, language, result_page

__all__ = [
    "ActionResult",
    "Branch",
    "BranchList",
    "CheckRun",
    "CheckStatus",
    "CodeScanningAlert",
    "CodeScanningAlertList",
    "CodeSearchHit",
    "CodeSearchResult",
    "Comment",
    "CommentList",
    "Commit",
    "CommitDetail",
    "CommitList",
    "CommitSearchResult",
    "Comparison",
    "Contributor",
    "ContributorList",
    "DependabotAlert",
    "DependabotAlertList",
    "Diff",
    "DirEntry",
    "Event",
    "EventList",
    "FileChange",
    "FileChangeList",
    "FileCommit",
    "FileContent",
    "Issue",
    "IssueLabels",
    "IssueList",
    "IssueSearchResult",
    "Job",
    "JobList",
    "JobLogs",
    "Label",
    "LabelList",
    "MergeResult",
    "Notification",
    "NotificationList",
    "Organization",
    "OrganizationList",
    "PullRequest",
    "PullRequestList",
    "RateLimitStatus",
    "RateLimits",
    "Release",
    "ReleaseAsset",
    "ReleaseList",
    "Repo",
    "RepoList",
    "RepoSearchResult",
    "RepoStats",
    "Review",
    "ReviewComment",
    "ReviewCommentList",
    "ReviewList",
    "ReviewersResult",
    "StatusContext",
    "Step",
    "Tag",
    "TagList",
    "TokenInfo",
    "TreeEntry",
    "TreePage",
    "User",
    "UserList",
    "UserSearchResult",
    "UserStats",
    "Workflow",
    "WorkflowList",
    "WorkflowRun",
    "WorkflowRunList",
]

BODY_LIMIT = 20_000
"""Characters of a Markdown body shown by a `get_*` tool."""
LIST_BODY_LIMIT = 400
"""Characters of a body shown per item of a list: enough to tell items apart."""
PATCH_LIMIT = 4_000
"""Characters of one file's patch inside a commit, comparison or pull-request file list."""
SHORT_TEXT_LIMIT = 350
"""Characters of a description or bio (GitHub allows 350 for a repository description)."""
PAGE_BODY_BUDGET = 30_000
"""Characters of comment and review bodies in one page, shared among its items."""


def page_body_limit(count: int) -> int:
    """Characters each of `count` comment bodies may keep: the page budget shared out, 300 to 4,000 each."""
    return max(300, min(4_000, PAGE_BODY_BUDGET // max(count, 1)))


def login(user: Any) -> str | None:
    """The login of a GitHub user object, or None."""
    return user.get("login") if isinstance(user, dict) else None


def logins(users: Any) -> list[str]:
    return [name for name in (login(u) for u in users or ()) if name]


def label_names(labels: Any) -> list[str]:
    names = []
    for label in labels or ():
        if isinstance(label, dict) and label.get("name"):
            names.append(str(label["name"]))
        elif isinstance(label, str):
            names.append(label)
    return names


def repo_full_name(api_url: Any) -> str | None:
    """`owner/name` from a `https://api.github.com/repos/owner/name` URL (GHES paths included)."""
    if not isinstance(api_url, str) or "/repos/" not in api_url:
        return None
    parts = api_url.split("/repos/", 1)[1].split("/")
    return "/".join(parts[:2]) if len(parts) >= 2 else None


def body(text: Any, limit: int, hint: str = "") -> tuple[str | None, bool]:
    """A text field of GitHub's JSON (None when absent) cut to `limit` characters, and whether it was cut."""
    return clip(text, limit, hint) if isinstance(text, str) else (None, False)


def short(text: Any) -> str | None:
    """A description, bio or similar one-liner, empty as None and bounded."""
    if not isinstance(text, str) or not text:
        return None
    return clip(text, SHORT_TEXT_LIMIT)[0]


# -- users and organizations --------------------------------------------------------------


class User(BaseModel):
    """A GitHub user or organization account."""

    login: str
    id: int | None = None
    type: str | None = Field(default=None, description="User, Organization or Bot.")
    name: str | None = None
    company: str | None = None
    location: str | None = None
    email: str | None = None
    bio: str | None = None
    blog: str | None = None
    public_repos: int | None = None
    followers: int | None = None
    following: int | None = None
    created_at: str | None = None
    url: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> User:
        return cls(
            login=data.get("login") or "",
            id=data.get("id"),
            type=data.get("type"),
            name=data.get("name") or None,
            company=data.get("company") or None,
            location=data.get("location") or None,
            email=data.get("email") or None,
            bio=short(data.get("bio")),
            blog=data.get("blog") or None,
            public_repos=data.get("public_repos"),
            followers=data.get("followers"),
            following=data.get("following"),
            created_at=data.get("created_at"),
            url=data.get("html_url"),
        )


_USER_COLUMNS: list[Column] = [("login", "login"), "type", "name", "url"]


class UserList(Page[User]):
    """A page of users."""

    def to_markdown(self) -> str:
        return result_page(self, _USER_COLUMNS, "Users")


class UserSearchResult(Page[User]):
    """A page of user search results."""

    total_count: int = 0
    incomplete_results: bool = False

    def to_markdown(self) -> str:
        return result_page(self, _USER_COLUMNS, "Users", total=self.total_count, incomplete=self.incomplete_results)


class UserStats(BaseModel):
    """Counts about one user, with stars and forks summed over their most recently pushed repositories."""

    login: str
    name: str | None = None
    public_repos: int | None = None
    followers: int | None = None
    following: int | None = None
    created_at: str | None = None
    repos_counted: int = 0
    total_stars: int = 0
    total_forks: int = 0
    top_languages: dict[str, int] = Field(default_factory=dict, description="Language -> number of repositories.")
    most_starred: list[str] = Field(default_factory=list, description="Up to five `owner/name` with the most stars.")
    note: str | None = None
    url: str | None = None

    @classmethod
    def from_api(cls, user: dict[str, Any], repos: list[dict[str, Any]], *, sample: int) -> UserStats:
        """Statistics from the user object and up to `sample` of their repositories (forks are left out)."""
        own = [r for r in repos if not r.get("fork")]
        languages = Counter(str(r["language"]) for r in own if r.get("language"))
        ranked = sorted(own, key=lambda r: -(r.get("stargazers_count") or 0))
        public = user.get("public_repos")
        note = None
        if isinstance(public, int) and public > sample:
            note = f"Counted over the {sample} most recently pushed of {public} public repositories."
        return cls(
            login=user.get("login") or "",
            name=user.get("name") or None,
            public_repos=public,
            followers=user.get("followers"),
            following=user.get("following"),
            created_at=user.get("created_at"),
            repos_counted=len(own),
            total_stars=sum(r.get("stargazers_count") or 0 for r in own),
            total_forks=sum(r.get("forks_count") or 0 for r in own),
            top_languages=dict(languages.most_common(5)),
            most_starred=[r.get("full_name") or "" for r in ranked[:5]],
            note=note,
            url=user.get("html_url"),
        )


class Organization(BaseModel):
    """A GitHub organization."""

    login: str
    id: int | None = None
    name: str | None = None
    description: str | None = None
    location: str | None = None
    blog: str | None = None
    public_repos: int | None = None
    created_at: str | None = None
    url: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Organization:
        """An organization from its full object or from the short form in membership lists."""
        org_login = data.get("login") or ""
        return cls(
            login=org_login,
            id=data.get("id"),
            name=data.get("name") or None,
            description=short(data.get("description")),
            location=data.get("location") or None,
            blog=data.get("blog") or None,
            public_repos=data.get("public_repos"),
            created_at=data.get("created_at"),
            url=data.get("html_url") or (f"https://github.com/{org_login}" if org_login else None),
        )


class OrganizationList(Page[Organization]):
    """A page of organizations."""

    def to_markdown(self) -> str:
        return result_page(self, ["login", "name", "description"], "Organizations")


class Event(BaseModel):
    """One entry of a user's activity feed."""

    id: str
    type: str | None = None
    repo: str | None = None
    created_at: str | None = None
    summary: str | None = Field(default=None, description="What happened, in a few words.")

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Event:
        payload = data.get("payload") or {}
        kind = data.get("type") or ""
        summary = None
        if kind == "PushEvent":
            summary = (
                f"pushed {payload.get('size', len(payload.get('commits') or []))} commit(s) to {payload.get('ref')}"
            )
        elif kind in ("IssuesEvent", "PullRequestEvent"):
            item = payload.get("issue") or payload.get("pull_request") or {}
            summary = f"{payload.get('action')} #{item.get('number')}: {item.get('title')}"
        elif kind == "IssueCommentEvent":
            item = payload.get("issue") or {}
            summary = f"commented on #{item.get('number')}: {item.get('title')}"
        elif kind in ("CreateEvent", "DeleteEvent"):
            verb = "created" if kind == "CreateEvent" else "deleted"
            summary = f"{verb} {payload.get('ref_type')} {payload.get('ref') or ''}".strip()
        elif payload.get("action"):
            summary = str(payload.get("action"))
        repo = data.get("repo") or {}
        return cls(
            id=str(data.get("id", "")),
            type=kind or None,
            repo=repo.get("name"),
            created_at=data.get("created_at"),
            summary=summary,
        )


class EventList(Page[Event]):
    """A page of activity events, newest first."""

    def to_markdown(self) -> str:
        return result_page(self, [("when", "created_at"), "type", "repo", "summary"], "Events")


# -- context ----------------------------------------------------------------------------


class RateLimitStatus(BaseModel):
    """One rate-limit bucket."""

    resource: str
    limit: int
    remaining: int
    used: int | None = None
    reset_at: int | None = Field(default=None, description="Unix time when the bucket refills.")


class RateLimits(BaseModel):
    """The token's rate-limit buckets (core API, search, GraphQL, ...)."""

    resources: list[RateLimitStatus]

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> RateLimits:
        """The buckets of a `GET /rate_limit` answer, by name."""
        buckets = data.get("resources") or {}
        return cls(
            resources=[
                RateLimitStatus(
                    resource=name,
                    limit=bucket.get("limit", 0),
                    remaining=bucket.get("remaining", 0),
                    used=bucket.get("used"),
                    reset_at=bucket.get("reset"),
                )
                for name, bucket in sorted(buckets.items())
                if isinstance(bucket, dict)
            ]
        )

    def to_markdown(self) -> str:
        columns: list[Column] = ["resource", "remaining", "limit", "used", ("resets at (unix time)", "reset_at")]
        return join("**Rate limits**", table(self.resources, columns))


class TokenInfo(BaseModel):
    """Who the token acts as, what it may do, and how much of the rate limit is left."""

    login: str
    token_type: str = Field(
        description="classic (classic personal access or OAuth App token: has scopes), fine_grained (fine-grained "
        "personal access token or GitHub App user token: permissions instead of scopes), or github_app_installation."
    )
    scopes: list[str] | None = Field(
        default=None, description="Classic OAuth scopes granted (X-OAuth-Scopes); None when GitHub did not say."
    )
    permissions: dict[str, str] | None = Field(
        default=None, description="A GitHub App installation's permissions (resource -> read/write)."
    )
    rate_limit: int | None = None
    rate_remaining: int | None = None
    rate_reset_at: float | None = None
    note: str | None = None

    @classmethod
    def from_user(
        cls, user: dict[str, Any], scopes_header: str | None, rate: tuple[int | None, int | None, float | None]
    ) -> TokenInfo:
        """A user token from `GET /user`: its `X-OAuth-Scopes` header (absent for fine-grained tokens) and limits."""
        if scopes_header is not None:
            scopes: list[str] | None = [s.strip() for s in scopes_header.split(",") if s.strip()]
            token_type = "classic"
            note = None if scopes else "The token has no scopes: it can read public data only."
        else:
            scopes = None
            token_type = "fine_grained"
            note = (
                "GitHub reports no OAuth scopes for this token: it is a fine-grained personal access token or a "
                "GitHub App user token, whose repository and organization permissions are set where it was created."
            )
        limit, remaining, reset_at = rate
        return cls(
            login=user.get("login") or "",
            token_type=token_type,
            scopes=scopes,
            rate_limit=limit,
            rate_remaining=remaining,
            rate_reset_at=reset_at,
            note=note,
        )

    @classmethod
    def for_installation(cls, extra: dict[str, Any], rate_limit: dict[str, Any]) -> TokenInfo:
        """A GitHub App installation token: the credential's app and installation, and `GET /rate_limit`."""
        permissions = extra.get("permissions")
        core = (rate_limit.get("resources") or {}).get("core") or {}
        return cls(
            login=f"GitHub App {extra.get('app_id')} (installation {extra.get('installation_id')})",
            token_type="github_app_installation",
            permissions={str(k): str(v) for k, v in permissions.items()} if isinstance(permissions, dict) else None,
            rate_limit=core.get("limit"),
            rate_remaining=core.get("remaining"),
            rate_reset_at=core.get("reset"),
            note="Installation tokens carry the permissions granted to the app installation, not OAuth scopes.",
        )


# -- repositories ---------------------------------------------------------------------------


class Repo(BaseModel):
    """A repository."""

    full_name: str
    id: int | None = None
    description: str | None = None
    private: bool | None = None
    visibility: str | None = None
    fork: bool | None = None
    archived: bool | None = None
    default_branch: str | None = None
    language: str | None = None
    topics: list[str] = Field(default_factory=list)
    stars: int | None = None
    forks: int | None = None
    open_issues: int | None = Field(default=None, description="Open issues plus open pull requests.")
    license: str | None = None
    homepage: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    pushed_at: str | None = None
    url: str | None = None
    clone_url: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Repo:
        lic = data.get("license")
        return cls(
            full_name=data.get("full_name") or "",
            id=data.get("id"),
            description=short(data.get("description")),
            private=data.get("private"),
            visibility=data.get("visibility"),
            fork=data.get("fork"),
            archived=data.get("archived"),
            default_branch=data.get("default_branch"),
            language=data.get("language"),
            topics=list(data.get("topics") or []),
            stars=data.get("stargazers_count"),
            forks=data.get("forks_count"),
            open_issues=data.get("open_issues_count"),
            license=(lic.get("spdx_id") or lic.get("name")) if isinstance(lic, dict) else None,
            homepage=data.get("homepage") or None,
            created_at=data.get("created_at"),
            updated_at=data.get("updated_at"),
            pushed_at=data.get("pushed_at"),
            url=data.get("html_url"),
            clone_url=data.get("clone_url"),
        )


def _visibility(repo: Repo) -> str | None:
    flags = [repo.visibility or ("private" if repo.private else None), "archived" if repo.archived else None]
    flags.append("fork" if repo.fork else None)
    return ", ".join(f for f in flags if f) or None


_REPO_COLUMNS: list[Column] = [
    ("repository", "full_name"),
    "description",
    ("visibility", _visibility),
    "language",
    "stars",
    ("updated", "updated_at"),
]


class RepoList(Page[Repo]):
    """A page of repositories."""

    def to_markdown(self) -> str:
        return result_page(self, _REPO_COLUMNS, "Repositories")


class RepoSearchResult(Page[Repo]):
    """A page of repository search results, best match first."""

    total_count: int = 0
    incomplete_results: bool = False

    def to_markdown(self) -> str:
        return result_page(
            self, _REPO_COLUMNS, "Repositories", total=self.total_count, incomplete=self.incomplete_results
        )


class RepoStats(BaseModel):
    """Popularity, size, languages and recent commit activity of a repository."""

    full_name: str
    stars: int | None = None
    forks: int | None = None
    watchers: int | None = None
    open_issues: int | None = None
    size_kb: int | None = None
    languages: dict[str, float] = Field(default_factory=dict, description="Language -> share of the code in percent.")
    commits_last_52_weeks: int | None = None
    commits_last_4_weeks: int | None = None
    note: str | None = None
    url: str | None = None

    @classmethod
    def from_api(
        cls, repo: dict[str, Any], languages: dict[str, Any], participation: dict[str, Any] | None
    ) -> RepoStats:
        """Statistics from the repository, its languages (bytes per language) and weekly commit counts.

        `participation` is `GET .../stats/participation`, or None while GitHub computes it.
        """
        raw = participation.get("all") if participation is not None else None
        weekly: list[int] | None = raw if isinstance(raw, list) and all(isinstance(n, int) for n in raw) else None
        sizes = {name: size for name, size in languages.items() if isinstance(size, int)}
        total = sum(sizes.values()) or 1
        shares = {name: round(100 * size / total, 1) for name, size in sorted(sizes.items(), key=lambda kv: -kv[1])}
        return cls(
            full_name=repo.get("full_name") or "",
            stars=repo.get("stargazers_count"),
            forks=repo.get("forks_count"),
            watchers=repo.get("subscribers_count"),
            open_issues=repo.get("open_issues_count"),
            size_kb=repo.get("size"),
            languages=shares,
            commits_last_52_weeks=sum(weekly) if weekly is not None else None,
            commits_last_4_weeks=sum(weekly[-4:]) if weekly is not None else None,
            note=None
            if weekly is not None
            else "GitHub is still computing commit statistics for this repository; call again in a few seconds.",
            url=repo.get("html_url"),
        )


class Contributor(BaseModel):
    login: str
    contributions: int
    type: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Contributor:
        return cls(login=data.get("login") or "", contributions=data.get("contributions") or 0, type=data.get("type"))


class ContributorList(Page[Contributor]):
    """A page of contributors, most commits first."""

    def to_markdown(self) -> str:
        return result_page(self, ["login", ("commits", "contributions"), "type"], "Contributors")


class DirEntry(BaseModel):
    name: str
    path: str
    type: str = Field(description="file, dir, symlink or submodule.")
    size: int | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> DirEntry:
        return cls(
            name=data.get("name") or "", path=data.get("path") or "", type=data.get("type") or "", size=data.get("size")
        )


class FileContent(BaseModel):
    """A file's decoded text (or, for a directory, its entries).

    Binary files are detected and not dumped; long files are cut with a marker
    saying which line to continue from.
    """

    path: str
    type: str = Field(description="file, dir, symlink or submodule.")
    sha: str | None = Field(default=None, description="Blob SHA: pass it to update or delete the file.")
    size: int | None = None
    encoding: str | None = None
    binary: bool = False
    content: str | None = None
    start_line: int | None = None
    end_line: int | None = None
    total_lines: int | None = None
    truncated: bool = False
    entries: list[DirEntry] | None = None
    target: str | None = Field(default=None, description="Where a symlink points, or a submodule's URL.")
    url: str | None = None
    download_url: str | None = None
    note: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any], path: str) -> FileContent:
        """The description of a file, symlink or submodule from the contents API, without its text yet."""
        kind = data.get("type") or "file"
        target = data.get("target") if kind == "symlink" else data.get("submodule_git_url")
        return cls(
            path=data.get("path") or path,
            type=kind,
            sha=data.get("sha"),
            size=data.get("size"),
            target=target if kind in ("symlink", "submodule") else None,
            url=data.get("html_url"),
            download_url=data.get("download_url"),
        )

    def to_markdown(self) -> str:
        head = f"**{self.path}** ({self.type})"
        line = facts(
            ("sha", self.sha),
            ("size", f"{self.size:,} bytes" if self.size is not None else None),
            ("lines", f"{self.start_line}-{self.end_line} of {self.total_lines}" if self.end_line else None),
            ("target", self.target),
            ("url", self.url),
        )
        listing = None
        if self.entries is not None:
            listing = table(self.entries, ["name", "type", "size"], empty="Empty directory.")
        text = fence(self.content, language(self.path)) if self.content is not None else None
        return join(head, line, listing, text, f"_{self.note}_" if self.note else None)


class TreeEntry(BaseModel):
    path: str
    type: str = Field(description="blob (file), tree (directory) or commit (submodule).")
    size: int | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> TreeEntry:
        return cls(path=data.get("path") or "", type=data.get("type") or "", size=data.get("size"))


class TreePage(Page[TreeEntry]):
    """A page of a repository's file tree."""

    sha: str | None = None
    total_entries: int = 0
    truncated_by_github: bool = Field(
        default=False, description="GitHub cut the tree (over 100,000 entries or 7 MB): ask for a sub-path."
    )

    @classmethod
    def from_api(
        cls, data: dict[str, Any], *, path_prefix: str | None = None, top_level_only: bool = False
    ) -> TreePage:
        """Every entry of a recursive `GET .../git/trees/{ref}` under `path_prefix` (when given), without a
        cursor yet; with `top_level_only`, only the direct children of `path_prefix`."""
        entries = [TreeEntry.from_api(e) for e in data.get("tree") or [] if isinstance(e, dict)]
        prefix = (path_prefix or "").strip("/")
        if prefix:
            entries = [e for e in entries if e.path == prefix or e.path.startswith(prefix + "/")]
        if top_level_only:
            depth = prefix.count("/") + 1 if prefix else 0
            entries = [e for e in entries if e.path.count("/") == depth and e.path != prefix]
        return cls(
            items=entries,
            sha=data.get("sha"),
            total_entries=len(entries),
            truncated_by_github=bool(data.get("truncated")),
        )

    def to_markdown(self) -> str:
        note = (
            "GitHub cut this tree (over 100,000 entries or 7 MB): ask for a sub-path."
            if self.truncated_by_github
            else None
        )
        return result_page(
            self, ["path", "type", "size"], f"Tree {self.sha or ''}".strip(), total=self.total_entries, note=note
        )


class FileCommit(BaseModel):
    """The result of writing or deleting a file: the new blob and the commit made."""

    path: str
    sha: str | None = Field(default=None, description="The file's new blob SHA (None after a delete).")
    commit_sha: str | None = None
    commit_message: str | None = None
    commit_url: str | None = None
    url: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any], path: str) -> FileCommit:
        """The answer of `PUT` or `DELETE .../contents/{path}` (after a delete `content` is null)."""
        content = data.get("content") or {}
        commit = data.get("commit") or {}
        message = commit.get("message")
        return cls(
            path=content.get("path") or path.strip("/"),
            sha=content.get("sha"),
            commit_sha=commit.get("sha"),
            commit_message=message.split("\n", 1)[0] if isinstance(message, str) else None,
            commit_url=commit.get("html_url"),
            url=content.get("html_url"),
        )


class Branch(BaseModel):
    name: str
    sha: str | None = None
    protected: bool | None = None
    message: str | None = Field(default=None, description="Message of the head commit (get_branch only).")
    author: str | None = None
    date: str | None = None
    url: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Branch:
        commit = data.get("commit") or {}
        inner = commit.get("commit") or {}
        author = inner.get("author") or {}
        links = data.get("_links") or {}
        message = inner.get("message")
        return cls(
            name=data.get("name") or "",
            sha=commit.get("sha"),
            protected=data.get("protected"),
            message=message.split("\n", 1)[0] if isinstance(message, str) else None,
            author=login(commit.get("author")) or author.get("name"),
            date=author.get("date"),
            url=links.get("html") if isinstance(links, dict) else None,
        )

    @classmethod
    def from_ref(cls, name: str, data: dict[str, Any], sha: str) -> Branch:
        """A branch just made by `POST .../git/refs` (its answer is the Git reference)."""
        return cls(name=name, sha=(data.get("object") or {}).get("sha") or sha, protected=False)


class BranchList(Page[Branch]):
    """A page of branches."""

    def to_markdown(self) -> str:
        return result_page(self, ["name", ("head commit", "sha"), "protected"], "Branches")


class Tag(BaseModel):
    name: str
    sha: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Tag:
        return cls(name=data.get("name") or "", sha=(data.get("commit") or {}).get("sha"))


class TagList(Page[Tag]):
    """A page of tags, newest first."""

    def to_markdown(self) -> str:
        return result_page(self, ["name", ("commit", "sha")], "Tags")


class Commit(BaseModel):
    """A commit in a list: SHA, first line of the message, author, date."""

    sha: str
    message: str | None = None
    author: str | None = Field(default=None, description="GitHub login when known, else the Git author name.")
    date: str | None = None
    repository: str | None = None
    url: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Commit:
        inner = data.get("commit") or {}
        author = inner.get("author") or {}
        message = inner.get("message")
        repo = data.get("repository")
        return cls(
            sha=data.get("sha") or "",
            message=message.split("\n", 1)[0] if isinstance(message, str) else None,
            author=login(data.get("author")) or author.get("name"),
            date=author.get("date"),
            repository=repo.get("full_name") if isinstance(repo, dict) else None,
            url=data.get("html_url"),
        )


_COMMIT_COLUMNS: list[Column] = ["sha", "message", "author", "date"]


class CommitList(Page[Commit]):
    """A page of commits, newest first."""

    def to_markdown(self) -> str:
        return result_page(self, _COMMIT_COLUMNS, "Commits")


class CommitSearchResult(Page[Commit]):
    """A page of commit search results."""

    total_count: int = 0
    incomplete_results: bool = False

    def to_markdown(self) -> str:
        columns = ["repository", *_COMMIT_COLUMNS]
        return result_page(self, columns, "Commits", total=self.total_count, incomplete=self.incomplete_results)


class FileChange(BaseModel):
    """One changed file of a commit, comparison or pull request, with its patch (bounded)."""

    filename: str
    status: str | None = Field(default=None, description="added, removed, modified, renamed, copied, changed.")
    additions: int = 0
    deletions: int = 0
    previous_filename: str | None = None
    patch: str | None = Field(default=None, description="Unified diff of the file; absent for binary or huge files.")
    patch_truncated: bool = False

    @classmethod
    def from_api(cls, data: dict[str, Any], patch_limit: int = PATCH_LIMIT) -> FileChange:
        patch, cut = body(data.get("patch"), patch_limit, "the full diff is in the file's blob URL or the PR diff")
        return cls(
            filename=data.get("filename") or "",
            status=data.get("status"),
            additions=data.get("additions") or 0,
            deletions=data.get("deletions") or 0,
            previous_filename=data.get("previous_filename"),
            patch=patch,
            patch_truncated=cut,
        )

    def to_markdown(self) -> str:
        renamed = f" (from {self.previous_filename})" if self.previous_filename else ""
        head = f"**{self.filename}**{renamed}: {self.status or 'changed'}, +{self.additions} -{self.deletions}"
        if self.patch is not None:
            return join(head, fence(self.patch, "diff"))
        if self.patch_truncated:
            return f"{head} (patch left out: this result's patch budget is spent)"
        return head


def _files_markdown(files: list[FileChange], omitted: int = 0) -> str | None:
    if not files:
        return None
    more = f"\n\n_{omitted} more changed files are not shown._" if omitted else ""
    return "\n\n".join(f.to_markdown() for f in files) + more


class FileChangeList(Page[FileChange]):
    """A page of changed files."""

    def to_markdown(self) -> str:
        head = f"**Changed files** ({len(self.items)})"
        return join(head, _files_markdown(self.items) or "No results.") + page_footer(self.next_cursor, self.truncated)


class CommitDetail(BaseModel):
    """A commit with its full message, stats and changed files (patches bounded)."""

    sha: str
    message: str | None = None
    author: str | None = None
    author_email: str | None = None
    date: str | None = None
    committer: str | None = None
    parents: list[str] = Field(default_factory=list)
    additions: int | None = None
    deletions: int | None = None
    files: list[FileChange] = Field(default_factory=list)
    files_omitted: int = Field(default=0, description="Changed files not shown (over the file cap).")
    url: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any], files: list[FileChange], files_omitted: int) -> CommitDetail:
        """A commit from `GET .../commits/{ref}`, with its changed files already bounded by the caller."""
        inner = data.get("commit") or {}
        author = inner.get("author") or {}
        stats = data.get("stats") or {}
        message, _ = body(inner.get("message"), 10_000, "open the commit URL for the whole message")
        return cls(
            sha=data.get("sha") or "",
            message=message,
            author=login(data.get("author")) or author.get("name"),
            author_email=author.get("email"),
            date=author.get("date"),
            committer=login(data.get("committer")) or (inner.get("committer") or {}).get("name"),
            parents=[p.get("sha") for p in data.get("parents") or [] if isinstance(p, dict) and p.get("sha")],
            additions=stats.get("additions"),
            deletions=stats.get("deletions"),
            files=files,
            files_omitted=files_omitted,
            url=data.get("html_url"),
        )

    def to_markdown(self) -> str:
        line = facts(
            ("author", self.author),
            ("date", self.date),
            ("parents", self.parents),
            ("lines", f"+{self.additions or 0} -{self.deletions or 0}"),
            ("url", self.url),
        )
        message = fence(self.message) if self.message else None
        return join(f"**Commit {self.sha}**", line, message, _files_markdown(self.files, self.files_omitted))


class Comparison(BaseModel):
    """How `head` differs from `base`: ahead/behind counts, commits and changed files (bounded)."""

    base: str
    head: str
    status: str | None = Field(default=None, description="ahead, behind, identical or diverged.")
    ahead_by: int | None = None
    behind_by: int | None = None
    total_commits: int | None = None
    commits: list[Commit] = Field(default_factory=list)
    commits_omitted: int = 0
    files: list[FileChange] = Field(default_factory=list)
    files_omitted: int = 0
    url: str | None = None

    @classmethod
    def from_api(
        cls,
        data: dict[str, Any],
        base: str,
        head: str,
        *,
        max_commits: int,
        files: list[FileChange],
        files_omitted: int,
    ) -> Comparison:
        """A comparison from `GET .../compare/{base}...{head}`: the newest `max_commits` commits, bounded files."""
        commits = [c for c in data.get("commits") or [] if isinstance(c, dict)]
        total = data.get("total_commits")
        shown = commits[-max_commits:]  # the newest ones
        return cls(
            base=base,
            head=head,
            status=data.get("status"),
            ahead_by=data.get("ahead_by"),
            behind_by=data.get("behind_by"),
            total_commits=total,
            commits=[Commit.from_api(c) for c in shown],
            commits_omitted=(total if isinstance(total, int) else len(commits)) - len(shown),
            files=files,
            files_omitted=files_omitted,
            url=data.get("html_url"),
        )

    def to_markdown(self) -> str:
        line = facts(
            ("status", self.status),
            ("ahead by", self.ahead_by),
            ("behind by", self.behind_by),
            ("commits", self.total_commits),
            ("url", self.url),
        )
        more = f"_{self.commits_omitted} older commits are not shown._" if self.commits_omitted > 0 else None
        commits = table(self.commits, _COMMIT_COLUMNS, empty="No commits between them.")
        return join(
            f"**Compare {self.base}...{self.head}**",
            line,
            commits,
            more,
            _files_markdown(self.files, self.files_omitted),
        )


class ReleaseAsset(BaseModel):
    name: str
    size: int | None = None
    download_count: int | None = None
    url: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ReleaseAsset:
        return cls(
            name=data.get("name") or "",
            size=data.get("size"),
            download_count=data.get("download_count"),
            url=data.get("browser_download_url"),
        )


class Release(BaseModel):
    """A release: tag, name, state, notes (Markdown, bounded) and assets."""

    id: int
    tag_name: str
    name: str | None = None
    draft: bool | None = None
    prerelease: bool | None = None
    author: str | None = None
    target_commitish: str | None = None
    created_at: str | None = None
    published_at: str | None = None
    body: str | None = None
    body_truncated: bool = False
    assets: list[ReleaseAsset] = Field(default_factory=list)
    url: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any], body_limit: int = BODY_LIMIT) -> Release:
        text, cut = body(data.get("body"), body_limit, "use github_get_release for the full notes")
        return cls(
            id=data.get("id") or 0,
            tag_name=data.get("tag_name") or "",
            name=data.get("name") or None,
            draft=data.get("draft"),
            prerelease=data.get("prerelease"),
            author=login(data.get("author")),
            target_commitish=data.get("target_commitish"),
            created_at=data.get("created_at"),
            published_at=data.get("published_at"),
            body=text,
            body_truncated=cut,
            assets=[ReleaseAsset.from_api(a) for a in data.get("assets") or [] if isinstance(a, dict)],
            url=data.get("html_url"),
        )

    def _flags(self) -> str | None:
        return ", ".join(f for f, on in (("draft", self.draft), ("prerelease", self.prerelease)) if on) or None

    def to_markdown(self) -> str:
        line = facts(
            ("id", self.id),
            ("", self._flags()),
            ("author", at(self.author)),
            ("target", self.target_commitish),
            ("published", self.published_at or self.created_at),
            ("url", self.url),
        )
        assets = None
        if self.assets:
            assets = "Assets:\n" + bullets(f"[{a.name}]({a.url}) ({a.size or 0:,} bytes)" for a in self.assets)
        title = f"**Release {self.tag_name}**" + (f": {self.name}" if self.name and self.name != self.tag_name else "")
        return join(title, line, self.body, assets)


class ReleaseList(Page[Release]):
    """A page of releases, newest first."""

    def to_markdown(self) -> str:
        columns: list[Column] = [
            ("tag", "tag_name"),
            "name",
            ("flags", Release._flags),
            ("published", "published_at"),
            ("assets", lambda r: len(r.assets)),
            ("notes", "body"),
        ]
        return result_page(self, columns, "Releases")


# -- issues -------------------------------------------------------------------------------


class Label(BaseModel):
    name: str
    color: str | None = None
    description: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Label:
        return cls(name=data.get("name") or "", color=data.get("color"), description=short(data.get("description")))


class LabelList(Page[Label]):
    """A page of a repository's labels."""

    def to_markdown(self) -> str:
        return result_page(self, ["name", "color", "description"], "Labels")


class IssueLabels(BaseModel):
    """The labels an issue or pull request has after the change."""

    number: int
    labels: list[str]


class Issue(BaseModel):
    """An issue (or, in search results, possibly a pull request)."""

    number: int
    title: str
    state: str
    state_reason: str | None = None
    author: str | None = None
    labels: list[str] = Field(default_factory=list)
    assignees: list[str] = Field(default_factory=list)
    milestone: str | None = None
    comments: int | None = None
    locked: bool | None = None
    is_pull_request: bool = False
    repository: str | None = Field(default=None, description="`owner/name`, in search results.")
    created_at: str | None = None
    updated_at: str | None = None
    closed_at: str | None = None
    url: str | None = None
    body: str | None = Field(default=None, description="Markdown; cut with a …[truncated: ...] marker when long.")
    body_truncated: bool = False

    @classmethod
    def from_api(cls, data: dict[str, Any], body_limit: int = BODY_LIMIT, with_repository: bool = False) -> Issue:
        text, cut = body(data.get("body"), body_limit, "use github_get_issue for the full text")
        milestone = data.get("milestone")
        return cls(
            number=data.get("number") or 0,
            title=data.get("title") or "",
            state=data.get("state") or "",
            state_reason=data.get("state_reason"),
            author=login(data.get("user")),
            labels=label_names(data.get("labels")),
            assignees=logins(data.get("assignees")),
            milestone=milestone.get("title") if isinstance(milestone, dict) else None,
            comments=data.get("comments"),
            locked=data.get("locked") or None,
            is_pull_request="pull_request" in data,
            repository=repo_full_name(data.get("repository_url")) if with_repository else None,
            created_at=data.get("created_at"),
            updated_at=data.get("updated_at"),
            closed_at=data.get("closed_at"),
            url=data.get("html_url"),
            body=text,
            body_truncated=cut,
        )

    def to_markdown(self) -> str:
        kind = "Pull request" if self.is_pull_request else "Issue"
        where = f"{self.repository}" if self.repository else ""
        state = self.state + (f" ({self.state_reason})" if self.state_reason else "")
        line = facts(
            ("", state),
            ("author", at(self.author)),
            ("labels", self.labels),
            ("assignees", self.assignees),
            ("milestone", self.milestone),
            ("comments", self.comments),
            ("locked", self.locked),
            ("created", self.created_at),
            ("updated", self.updated_at),
            ("closed", self.closed_at),
            ("url", self.url),
        )
        return join(f"**{kind} {where}#{self.number}: {self.title}**", line, self.body)


def _issue_state(issue: Issue) -> str:
    return issue.state + (" (pull request)" if issue.is_pull_request else "")


_ISSUE_COLUMNS: list[Column] = [
    ("#", "number"),
    "title",
    ("state", _issue_state),
    "author",
    "labels",
    "comments",
    ("updated", "updated_at"),
    ("start of body", lambda i: i.body and i.body[:100]),
]


class IssueList(Page[Issue]):
    """A page of issues (pull requests left out), with `next_cursor` for the next page."""

    def to_markdown(self) -> str:
        return result_page(self, _ISSUE_COLUMNS, "Issues")


class IssueSearchResult(Page[Issue]):
    """A page of issue and pull-request search results."""

    total_count: int = 0
    incomplete_results: bool = False

    def to_markdown(self) -> str:
        columns = [("repository", "repository"), *_ISSUE_COLUMNS]
        return result_page(
            self, columns, "Issues and pull requests", total=self.total_count, incomplete=self.incomplete_results
        )


class Comment(BaseModel):
    """A comment on an issue or pull request."""

    id: int
    author: str | None = None
    body: str | None = None
    body_truncated: bool = False
    created_at: str | None = None
    updated_at: str | None = None
    url: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any], body_limit: int = BODY_LIMIT) -> Comment:
        text, cut = body(data.get("body"), body_limit, "open the comment URL for the full text")
        return cls(
            id=data.get("id") or 0,
            author=login(data.get("user")),
            body=text,
            body_truncated=cut,
            created_at=data.get("created_at"),
            updated_at=data.get("updated_at"),
            url=data.get("html_url"),
        )

    def heading(self) -> str:
        return facts(("", at(self.author) or "someone"), ("", self.created_at), ("id", self.id), ("", self.url))

    def to_markdown(self) -> str:
        return join(f"**Comment** {self.heading()}", self.body)


class CommentList(Page[Comment]):
    """A page of comments, oldest first."""

    def to_markdown(self) -> str:
        items = bullets((join(c.heading(), c.body) for c in self.items), empty="No comments.")
        return join(f"**Comments** ({len(self.items)})", items) + page_footer(self.next_cursor, self.truncated)


# -- pull requests -----------------------------------------------------------------------


class PullRequest(BaseModel):
    """A pull request: branches, state, people, counts and description."""

    number: int
    title: str
    state: str
    draft: bool | None = None
    merged: bool | None = None
    mergeable: bool | None = None
    mergeable_state: str | None = None
    author: str | None = None
    head: str | None = Field(default=None, description="Head branch (`owner:branch` for forks).")
    head_sha: str | None = None
    base: str | None = None
    labels: list[str] = Field(default_factory=list)
    assignees: list[str] = Field(default_factory=list)
    requested_reviewers: list[str] = Field(default_factory=list)
    requested_teams: list[str] = Field(default_factory=list)
    comments: int | None = None
    review_comments: int | None = None
    commits: int | None = None
    additions: int | None = None
    deletions: int | None = None
    changed_files: int | None = None
    merged_by: str | None = None
    merge_commit_sha: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    closed_at: str | None = None
    merged_at: str | None = None
    url: str | None = None
    body: str | None = Field(default=None, description="Markdown; cut with a …[truncated: ...] marker when long.")
    body_truncated: bool = False

    @classmethod
    def from_api(cls, data: dict[str, Any], body_limit: int = BODY_LIMIT) -> PullRequest:
        text, cut = body(data.get("body"), body_limit, "use github_get_pull_request for the full text")
        head = data.get("head") or {}
        base = data.get("base") or {}
        head_repo = head.get("repo") or {}
        base_repo = base.get("repo") or {}
        head_label = head.get("ref")
        if head_repo and base_repo and head_repo.get("full_name") != base_repo.get("full_name"):
            head_label = head.get("label") or head_label
        merged = data.get("merged")
        if merged is None and "merged_at" in data:
            merged = data.get("merged_at") is not None
        return cls(
            number=data.get("number") or 0,
            title=data.get("title") or "",
            state=data.get("state") or "",
            draft=data.get("draft"),
            merged=merged,
            mergeable=data.get("mergeable"),
            mergeable_state=data.get("mergeable_state"),
            author=login(data.get("user")),
            head=head_label,
            head_sha=head.get("sha"),
            base=base.get("ref"),
            labels=label_names(data.get("labels")),
            assignees=logins(data.get("assignees")),
            requested_reviewers=logins(data.get("requested_reviewers")),
            requested_teams=[t.get("slug") for t in data.get("requested_teams") or [] if t.get("slug")],
            comments=data.get("comments"),
            review_comments=data.get("review_comments"),
            commits=data.get("commits"),
            additions=data.get("additions"),
            deletions=data.get("deletions"),
            changed_files=data.get("changed_files"),
            merged_by=login(data.get("merged_by")),
            merge_commit_sha=data.get("merge_commit_sha") if merged else None,
            created_at=data.get("created_at"),
            updated_at=data.get("updated_at"),
            closed_at=data.get("closed_at"),
            merged_at=data.get("merged_at"),
            url=data.get("html_url"),
            body=text,
            body_truncated=cut,
        )

    def state_text(self) -> str:
        """`open`, `draft`, `merged` or `closed`."""
        if self.merged:
            return "merged"
        return "draft" if self.draft and self.state == "open" else self.state

    def to_markdown(self) -> str:
        size = None
        if self.changed_files is not None:
            size = f"{self.changed_files} files, +{self.additions or 0} -{self.deletions or 0}, {self.commits} commits"
        line = facts(
            ("", self.state_text()),
            ("author", at(self.author)),
            ("", f"{self.head} → {self.base}" if self.head else None),
            ("head", self.head_sha),
            ("mergeable", self.mergeable_state or self.mergeable),
            ("labels", self.labels),
            ("assignees", self.assignees),
            ("reviewers requested", [*self.requested_reviewers, *self.requested_teams]),
            ("size", size),
            ("merged by", at(self.merged_by)),
            ("merge commit", self.merge_commit_sha),
            ("created", self.created_at),
            ("updated", self.updated_at),
            ("url", self.url),
        )
        return join(f"**Pull request #{self.number}: {self.title}**", line, self.body)


class PullRequestList(Page[PullRequest]):
    """A page of pull requests."""

    def to_markdown(self) -> str:
        columns: list[Column] = [
            ("#", "number"),
            "title",
            ("state", PullRequest.state_text),
            "author",
            ("branches", lambda p: f"{p.head} → {p.base}"),
            ("reviewers requested", lambda p: [*p.requested_reviewers, *p.requested_teams]),
            ("updated", "updated_at"),
            ("start of body", lambda p: p.body and p.body[:100]),
        ]
        return result_page(self, columns, "Pull requests")


class Diff(BaseModel):
    """A unified diff, bounded; when cut, `note` says how to read the rest."""

    text: str
    truncated: bool = False
    total_chars: int
    note: str | None = None

    def to_markdown(self) -> str:
        return join(
            fence(self.text, "diff") if self.text else "The diff is empty.", f"_{self.note}_" if self.note else None
        )


class Review(BaseModel):
    """A pull-request review."""

    id: int
    author: str | None = None
    state: str | None = Field(default=None, description="APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING.")
    body: str | None = None
    body_truncated: bool = False
    commit_id: str | None = None
    submitted_at: str | None = None
    url: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any], body_limit: int = BODY_LIMIT) -> Review:
        text, cut = body(data.get("body"), body_limit, "open the review URL for the full text")
        return cls(
            id=data.get("id") or 0,
            author=login(data.get("user")),
            state=data.get("state"),
            body=text or None,
            body_truncated=cut,
            commit_id=data.get("commit_id"),
            submitted_at=data.get("submitted_at"),
            url=data.get("html_url"),
        )

    def heading(self) -> str:
        return facts(
            ("", at(self.author) or "someone"),
            ("", self.state),
            ("", self.submitted_at),
            ("id", self.id),
            ("", self.url),
        )

    def to_markdown(self) -> str:
        return join(f"**Review** {self.heading()}", self.body)


class ReviewList(Page[Review]):
    """A page of reviews, oldest first."""

    def to_markdown(self) -> str:
        items = bullets((join(r.heading(), r.body) for r in self.items), empty="No reviews.")
        return join(f"**Reviews** ({len(self.items)})", items) + page_footer(self.next_cursor, self.truncated)


class ReviewComment(BaseModel):
    """An inline review comment on a line of a pull request's diff."""

    id: int
    author: str | None = None
    path: str | None = None
    line: int | None = None
    start_line: int | None = None
    side: str | None = None
    body: str | None = None
    body_truncated: bool = False
    in_reply_to: int | None = None
    review_id: int | None = None
    created_at: str | None = None
    url: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any], body_limit: int = BODY_LIMIT) -> ReviewComment:
        text, cut = body(data.get("body"), body_limit, "open the comment URL for the full text")
        return cls(
            id=data.get("id") or 0,
            author=login(data.get("user")),
            path=data.get("path"),
            line=data.get("line") or data.get("original_line"),
            start_line=data.get("start_line"),
            side=data.get("side"),
            body=text,
            body_truncated=cut,
            in_reply_to=data.get("in_reply_to_id"),
            review_id=data.get("pull_request_review_id"),
            created_at=data.get("created_at"),
            url=data.get("html_url"),
        )

    def heading(self) -> str:
        lines = f"{self.start_line}-{self.line}" if self.start_line else self.line
        return facts(
            ("", f"`{self.path}`:{lines}" if self.path else None),
            ("", at(self.author) or "someone"),
            ("", self.created_at),
            ("id", self.id),
            ("in reply to", self.in_reply_to),
            ("", self.url),
        )


class ReviewCommentList(Page[ReviewComment]):
    """A page of inline review comments."""

    def to_markdown(self) -> str:
        items = bullets((join(c.heading(), c.body) for c in self.items), empty="No review comments.")
        return join(f"**Review comments** ({len(self.items)})", items) + page_footer(self.next_cursor, self.truncated)


class CheckRun(BaseModel):
    name: str
    status: str | None = None
    conclusion: str | None = None
    app: str | None = None
    url: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> CheckRun:
        return cls(
            name=data.get("name") or "",
            status=data.get("status"),
            conclusion=data.get("conclusion"),
            app=(data.get("app") or {}).get("name"),
            url=data.get("html_url") or data.get("details_url"),
        )


class StatusContext(BaseModel):
    context: str
    state: str | None = None
    description: str | None = None
    url: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> StatusContext:
        return cls(
            context=data.get("context") or "",
            state=data.get("state"),
            description=data.get("description"),
            url=data.get("target_url"),
        )


_FAILED_CONCLUSIONS = frozenset({"failure", "timed_out", "cancelled", "action_required", "startup_failure", "stale"})


class CheckStatus(BaseModel):
    """CI state of a pull request's head commit: check runs plus commit statuses, and one overall verdict."""

    number: int | None = None
    sha: str
    overall: str = Field(description="success, failure, pending or none (no checks at all).")
    total_check_runs: int = 0
    failing: list[str] = Field(default_factory=list, description="Names of failed or errored checks and statuses.")
    check_runs: list[CheckRun] = Field(default_factory=list)
    statuses: list[StatusContext] = Field(default_factory=list)
    note: str | None = None

    @classmethod
    def from_api(cls, number: int | None, sha: str, check_runs: dict[str, Any], status: dict[str, Any]) -> CheckStatus:
        """The verdict over a commit's `GET .../check-runs` and `GET .../status` answers."""
        runs = [CheckRun.from_api(c) for c in check_runs.get("check_runs") or [] if isinstance(c, dict)]
        contexts = [StatusContext.from_api(c) for c in status.get("statuses") or [] if isinstance(c, dict)]
        failing = [r.name for r in runs if r.conclusion in _FAILED_CONCLUSIONS]
        failing += [c.context for c in contexts if c.state in ("failure", "error")]
        pending = any(r.status != "completed" for r in runs) or any(c.state == "pending" for c in contexts)
        if failing:
            overall = "failure"
        elif pending:
            overall = "pending"
        else:
            overall = "success" if runs or contexts else "none"
        total = check_runs.get("total_count")
        total = total if isinstance(total, int) and total >= len(runs) else len(runs)
        note = f"Only the first {len(runs)} of {total} check runs are shown." if total > len(runs) else None
        return cls(
            number=number,
            sha=sha,
            overall=overall,
            total_check_runs=total,
            failing=failing,
            check_runs=runs,
            statuses=contexts,
            note=note,
        )

    def to_markdown(self) -> str:
        what = f"pull request #{self.number}" if self.number is not None else "commit"
        head = f"**CI status of {what}: {self.overall}** (head {self.sha})"
        failing = f"Failing: {', '.join(self.failing)}" if self.failing else None
        runs = None
        if self.check_runs:
            runs = table(self.check_runs, [("check", "name"), "status", "conclusion", "app", "url"])
        statuses = None
        if self.statuses:
            statuses = table(self.statuses, [("status", "context"), "state", "description", "url"])
        return join(head, failing, runs, statuses, f"_{self.note}_" if self.note else None)


class MergeResult(BaseModel):
    merged: bool
    sha: str | None = None
    message: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> MergeResult:
        return cls(merged=bool(data.get("merged")), sha=data.get("sha"), message=data.get("message"))


class ReviewersResult(BaseModel):
    """Who is asked to review the pull request after the request."""

    number: int
    requested_reviewers: list[str]
    requested_teams: list[str]
    url: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any], number: int) -> ReviewersResult:
        """From the pull request GitHub returns after the request."""
        return cls(
            number=data.get("number") or number,
            requested_reviewers=logins(data.get("requested_reviewers")),
            requested_teams=[t.get("slug") for t in data.get("requested_teams") or [] if t.get("slug")],
            url=data.get("html_url"),
        )


# -- search -------------------------------------------------------------------------------


_FRAGMENTS = 3
_FRAGMENT_CHARS = 300


class CodeSearchHit(BaseModel):
    path: str
    repository: str | None = None
    sha: str | None = None
    fragments: list[str] = Field(default_factory=list, description="Matching snippets, when GitHub returns them.")
    url: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> CodeSearchHit:
        """A hit of `GET /search/code` asked with the `text-match` media type (up to three snippets)."""
        matches = [m for m in data.get("text_matches") or [] if isinstance(m, dict) and m.get("fragment")]
        return cls(
            path=data.get("path") or "",
            repository=(data.get("repository") or {}).get("full_name"),
            sha=data.get("sha"),
            fragments=[body(m.get("fragment"), _FRAGMENT_CHARS)[0] or "" for m in matches[:_FRAGMENTS]],
            url=data.get("html_url"),
        )


class CodeSearchResult(Page[CodeSearchHit]):
    """A page of code search results."""

    total_count: int = 0
    incomplete_results: bool = False

    def to_markdown(self) -> str:
        head = f"**Code** ({len(self.items)} of {self.total_count:,})"
        if self.incomplete_results:
            head += " (GitHub timed out: the results may be incomplete)"
        hits = [join(f"`{h.path}` in {h.repository}", *(fence(f) for f in h.fragments)) for h in self.items]
        return join(head, bullets(hits)) + page_footer(self.next_cursor, self.truncated)


# -- Actions -------------------------------------------------------------------------------


class Workflow(BaseModel):
    id: int
    name: str
    path: str | None = None
    state: str | None = None
    url: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Workflow:
        return cls(
            id=data.get("id") or 0,
            name=data.get("name") or "",
            path=data.get("path"),
            state=data.get("state"),
            url=data.get("html_url"),
        )


class WorkflowList(Page[Workflow]):
    """A page of workflows."""

    total_count: int = 0

    def to_markdown(self) -> str:
        return result_page(self, ["id", "name", "path", "state"], "Workflows", total=self.total_count)


class WorkflowRun(BaseModel):
    """One run of a workflow."""

    id: int
    name: str | None = None
    workflow_id: int | None = None
    run_number: int | None = None
    run_attempt: int | None = None
    event: str | None = None
    status: str | None = Field(default=None, description="queued, in_progress, completed, ...")
    conclusion: str | None = Field(
        default=None, description="success, failure, cancelled, skipped, ... when completed."
    )
    branch: str | None = None
    head_sha: str | None = None
    title: str | None = Field(default=None, description="The run's display title (often the commit message).")
    actor: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    url: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> WorkflowRun:
        return cls(
            id=data.get("id") or 0,
            name=data.get("name"),
            workflow_id=data.get("workflow_id"),
            run_number=data.get("run_number"),
            run_attempt=data.get("run_attempt"),
            event=data.get("event"),
            status=data.get("status"),
            conclusion=data.get("conclusion"),
            branch=data.get("head_branch"),
            head_sha=data.get("head_sha"),
            title=data.get("display_title"),
            actor=login(data.get("actor")),
            created_at=data.get("created_at"),
            updated_at=data.get("updated_at"),
            url=data.get("html_url"),
        )


class WorkflowRunList(Page[WorkflowRun]):
    """A page of workflow runs, newest first."""

    total_count: int = 0

    def to_markdown(self) -> str:
        columns: list[Column] = [
            "id",
            ("workflow", "name"),
            ("#", "run_number"),
            "title",
            "branch",
            "event",
            "status",
            "conclusion",
            ("created", "created_at"),
        ]
        return result_page(self, columns, "Workflow runs", total=self.total_count)


class Step(BaseModel):
    number: int | None = None
    name: str
    status: str | None = None
    conclusion: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Step:
        return cls(
            number=data.get("number"),
            name=data.get("name") or "",
            status=data.get("status"),
            conclusion=data.get("conclusion"),
        )


_FAILED_STEP = frozenset({"failure", "timed_out", "cancelled"})


class Job(BaseModel):
    """A job of a workflow run, with its steps."""

    id: int
    run_id: int | None = None
    name: str
    status: str | None = None
    conclusion: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    runner: str | None = None
    steps: list[Step] = Field(default_factory=list)
    url: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Job:
        return cls(
            id=data.get("id") or 0,
            run_id=data.get("run_id"),
            name=data.get("name") or "",
            status=data.get("status"),
            conclusion=data.get("conclusion"),
            started_at=data.get("started_at"),
            completed_at=data.get("completed_at"),
            runner=data.get("runner_name"),
            steps=[Step.from_api(s) for s in data.get("steps") or [] if isinstance(s, dict)],
            url=data.get("html_url"),
        )

    def failed_steps(self) -> list[str]:
        """The names of the steps that failed, timed out or were cancelled."""
        return [s.name for s in self.steps if s.conclusion in _FAILED_STEP]


class JobList(Page[Job]):
    """A page of jobs of a workflow run."""

    total_count: int = 0

    def to_markdown(self) -> str:
        columns: list[Column] = ["id", "name", "status", "conclusion", ("failed steps", Job.failed_steps), "runner"]
        return result_page(self, columns, "Jobs", total=self.total_count)


class JobLogs(BaseModel):
    """The end of a job's log, where the whole log is, and which steps failed."""

    job_id: int
    name: str | None = None
    status: str | None = None
    conclusion: str | None = None
    failed_steps: list[str] = Field(default_factory=list)
    log_tail: str | None = Field(default=None, description="The end of the plain-text log (about 20,000 characters).")
    log_tail_truncated: bool = False
    log_url: str | None = Field(
        default=None, description="Short-lived (about a minute), pre-signed download URL of the plain-text log."
    )
    note: str | None = None
    url: str | None = None

    def to_markdown(self) -> str:
        line = facts(
            ("", self.status),
            ("conclusion", self.conclusion),
            ("failed steps", self.failed_steps),
            ("url", self.url),
        )
        log = fence(self.log_tail) if self.log_tail is not None else None
        links = f"Whole log (expires in about a minute): {self.log_url}" if self.log_url else None
        return join(
            f"**Job {self.job_id}: {self.name or ''}**", line, log, links, f"_{self.note}_" if self.note else None
        )


class ActionResult(BaseModel):
    """The outcome of a request GitHub accepts without returning the thing it starts."""

    accepted: bool
    message: str
    url: str | None = None

    @classmethod
    def from_dispatch(cls, data: dict[str, Any], workflow: str, ref: str) -> ActionResult:
        """The answer to a `workflow_dispatch` (empty, or the new run's id and URL)."""
        run_id = data.get("workflow_run_id")
        message = f"Workflow {workflow} dispatched on {ref}" + (f" as run {run_id}." if run_id else ".")
        return cls(accepted=True, message=message, url=data.get("html_url"))


# -- notifications ------------------------------------------------------------------------


class Notification(BaseModel):
    """A notification thread of the authenticated user."""

    id: str
    reason: str | None = Field(default=None, description="Why you got it: mention, review_requested, assign, ...")
    unread: bool | None = None
    title: str | None = None
    type: str | None = Field(default=None, description="Issue, PullRequest, Commit, Release, CheckSuite, ...")
    repository: str | None = None
    updated_at: str | None = None
    url: str | None = Field(default=None, description="Web URL of the subject when it can be derived.")

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Notification:
        subject = data.get("subject") or {}
        repo = data.get("repository") or {}
        return cls(
            id=str(data.get("id", "")),
            reason=data.get("reason"),
            unread=data.get("unread"),
            title=subject.get("title"),
            type=subject.get("type"),
            repository=repo.get("full_name"),
            updated_at=data.get("updated_at"),
            url=_web_url(subject.get("url"), repo.get("html_url")),
        )


def _web_url(api_url: Any, repo_html: Any) -> str | None:
    """The web page of an issue, pull request or commit from its API URL (under the repository's page)."""
    if not isinstance(api_url, str) or not isinstance(repo_html, str) or "/repos/" not in api_url:
        return repo_html if isinstance(repo_html, str) else None
    rest = api_url.split("/repos/", 1)[1].split("/")[2:]
    if len(rest) == 2 and rest[0] in ("issues", "pulls", "commits", "releases"):
        kind = {"pulls": "pull", "commits": "commit"}.get(rest[0], rest[0])
        return f"{repo_html}/{kind}/{rest[1]}"
    return repo_html


class NotificationList(Page[Notification]):
    """A page of notifications, most recently updated first."""

    def to_markdown(self) -> str:
        columns: list[Column] = [
            ("id", "id"),
            "reason",
            "type",
            "title",
            "repository",
            ("unread", lambda n: "yes" if n.unread else "no"),
            ("updated", "updated_at"),
            "url",
        ]
        return result_page(self, columns, "Notifications")


# -- security -----------------------------------------------------------------------------


class CodeScanningAlert(BaseModel):
    """A code-scanning (CodeQL or third-party) alert."""

    number: int
    state: str | None = None
    rule_id: str | None = None
    rule: str | None = Field(default=None, description="What the rule checks.")
    severity: str | None = None
    security_severity: str | None = None
    tool: str | None = None
    path: str | None = None
    start_line: int | None = None
    message: str | None = None
    ref: str | None = None
    created_at: str | None = None
    dismissed_reason: str | None = None
    url: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> CodeScanningAlert:
        rule = data.get("rule") or {}
        instance = data.get("most_recent_instance") or {}
        location = instance.get("location") or {}
        message = (instance.get("message") or {}).get("text")
        return cls(
            number=data.get("number") or 0,
            state=data.get("state"),
            rule_id=rule.get("id"),
            rule=rule.get("description") or rule.get("name"),
            severity=rule.get("severity"),
            security_severity=rule.get("security_severity_level"),
            tool=(data.get("tool") or {}).get("name"),
            path=location.get("path"),
            start_line=location.get("start_line"),
            message=clip(message, 1000, "open the alert URL")[0] if isinstance(message, str) else None,
            ref=instance.get("ref"),
            created_at=data.get("created_at"),
            dismissed_reason=data.get("dismissed_reason"),
            url=data.get("html_url"),
        )

    def location(self) -> str | None:
        return f"{self.path}:{self.start_line}" if self.path and self.start_line else self.path

    def to_markdown(self) -> str:
        line = facts(
            ("", self.state),
            ("severity", self.security_severity or self.severity),
            ("rule", self.rule_id),
            ("tool", self.tool),
            ("at", self.location()),
            ("ref", self.ref),
            ("dismissed", self.dismissed_reason),
            ("created", self.created_at),
            ("url", self.url),
        )
        return join(f"**Code-scanning alert {self.number}: {self.rule or self.rule_id or ''}**", line, self.message)


class CodeScanningAlertList(Page[CodeScanningAlert]):
    """A page of code-scanning alerts."""

    def to_markdown(self) -> str:
        columns: list[Column] = [
            ("#", "number"),
            ("severity", lambda a: a.security_severity or a.severity),
            ("rule", "rule_id"),
            ("at", CodeScanningAlert.location),
            "state",
            "message",
        ]
        return result_page(self, columns, "Code-scanning alerts")


class DependabotAlert(BaseModel):
    """A Dependabot alert: a vulnerable dependency and how to fix it."""

    number: int
    state: str | None = None
    package: str | None = None
    ecosystem: str | None = None
    manifest: str | None = None
    scope: str | None = Field(default=None, description="runtime or development.")
    severity: str | None = None
    summary: str | None = None
    ghsa_id: str | None = None
    cve_id: str | None = None
    vulnerable_range: str | None = None
    patched_version: str | None = None
    created_at: str | None = None
    fixed_at: str | None = None
    dismissed_reason: str | None = None
    url: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> DependabotAlert:
        dep = data.get("dependency") or {}
        pkg = dep.get("package") or {}
        adv = data.get("security_advisory") or {}
        vuln = data.get("security_vulnerability") or {}
        patched = vuln.get("first_patched_version") or {}
        return cls(
            number=data.get("number") or 0,
            state=data.get("state"),
            package=pkg.get("name"),
            ecosystem=pkg.get("ecosystem"),
            manifest=dep.get("manifest_path"),
            scope=dep.get("scope"),
            severity=vuln.get("severity") or adv.get("severity"),
            summary=adv.get("summary"),
            ghsa_id=adv.get("ghsa_id"),
            cve_id=adv.get("cve_id"),
            vulnerable_range=vuln.get("vulnerable_version_range"),
            patched_version=patched.get("identifier") if isinstance(patched, dict) else None,
            created_at=data.get("created_at"),
            fixed_at=data.get("fixed_at"),
            dismissed_reason=data.get("dismissed_reason"),
            url=data.get("html_url"),
        )

    def to_markdown(self) -> str:
        line = facts(
            ("", self.state),
            ("severity", self.severity),
            ("package", f"{self.package} ({self.ecosystem})" if self.ecosystem else self.package),
            ("manifest", self.manifest),
            ("scope", self.scope),
            ("vulnerable", self.vulnerable_range),
            ("fixed in", self.patched_version),
            ("advisory", ", ".join(i for i in (self.ghsa_id, self.cve_id) if i) or None),
            ("dismissed", self.dismissed_reason),
            ("url", self.url),
        )
        return join(f"**Dependabot alert {self.number}: {self.summary or self.package or ''}**", line)


class DependabotAlertList(Page[DependabotAlert]):
    """A page of Dependabot alerts."""

    def to_markdown(self) -> str:
        columns: list[Column] = [
            ("#", "number"),
            "severity",
            "package",
            "ecosystem",
            ("vulnerable", "vulnerable_range"),
            ("fixed in", "patched_version"),
            "state",
            "summary",
        ]
        return result_page(self, columns, "Dependabot alerts")
