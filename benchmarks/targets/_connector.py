"""The connector the sagemcp targets serve: the GitHub connector when installed, else a small stand-in.

`BenchGitHubConnector` mirrors the GitHub connector's `get_issue` (same name
`github_get_issue`, same argument constraints, same trimmed `Issue` output, same
upstream GET with a bearer token and GitHub's API-version header) so the harness
works before `sagemcp-connector-github` is installed. Results name the class used.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from sagemcp import BearerToken, Connector, ConnectorInfo, ConnectorSettings, ToolContext, tool
from sagemcp.connector import Connector as _ConnectorBase

Owner = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="Login of the user or organization that owns the repository, e.g. `octocat`.",
    ),
]
Repo = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="Repository name without the owner, e.g. `Hello-World`.",
    ),
]
IssueNumber = Annotated[int, Field(ge=1, description="The issue number (as shown after `#`).")]


class Issue(BaseModel):
    """An issue, trimmed the way the GitHub connector trims it."""

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
    created_at: str | None = None
    updated_at: str | None = None
    closed_at: str | None = None
    url: str | None = None
    body: str | None = None
    body_truncated: bool = False

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Issue:
        milestone = data.get("milestone")
        user = data.get("user")
        return cls(
            number=data.get("number") or 0,
            title=data.get("title") or "",
            state=data.get("state") or "",
            state_reason=data.get("state_reason"),
            author=user.get("login") if isinstance(user, dict) else None,
            labels=[str(x["name"]) for x in data.get("labels") or () if isinstance(x, dict) and x.get("name")],
            assignees=[u["login"] for u in data.get("assignees") or () if isinstance(u, dict) and u.get("login")],
            milestone=milestone.get("title") if isinstance(milestone, dict) else None,
            comments=data.get("comments"),
            locked=data.get("locked") or None,
            is_pull_request="pull_request" in data,
            created_at=data.get("created_at"),
            updated_at=data.get("updated_at"),
            closed_at=data.get("closed_at"),
            url=data.get("html_url"),
            body=data.get("body"),
        )


class BenchGitHubConfig(ConnectorSettings):
    api_url: str = "https://api.github.com"


class BenchGitHubConnector(Connector):
    """A stand-in for the GitHub connector: one issue tool calling the (fake) GitHub REST API."""

    info = ConnectorInfo(id="github", title="GitHub (benchmark stand-in)", description="GitHub issues.")
    auth = (BearerToken(),)
    Config = BenchGitHubConfig

    @classmethod
    def api_base_url(cls, config: BaseModel) -> str:
        return str(getattr(config, "api_url", "https://api.github.com"))

    def upstream_headers(self, config: BaseModel, credential: Any) -> dict[str, str]:
        return {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}

    @tool(read_only=True, group="issues")
    async def get_issue(self, ctx: ToolContext, owner: Owner, repo: Repo, issue_number: IssueNumber) -> Issue:
        """Get one issue with its full Markdown body, labels, assignees, milestone, state and dates."""
        response = await ctx.http.get(f"repos/{owner}/{repo}/issues/{issue_number}")
        data = response.json()
        return Issue.from_api(data)


def connector_class() -> tuple[type[_ConnectorBase], str]:
    """The connector to benchmark and a label saying which one it is."""
    try:
        from sagemcp_github.connector import GitHubConnector  # type: ignore[import-not-found]
    except Exception:
        return BenchGitHubConnector, "benchmarks.targets._connector.BenchGitHubConnector (stand-in)"
    return GitHubConnector, "sagemcp_github.GitHubConnector"


def connector_configuration(upstream_url: str) -> dict[str, Any]:
    """The per-tenant configuration pointing the connector at the fake upstream."""
    return {"api_url": upstream_url}


def tool_catalog(cls: type[_ConnectorBase]) -> list[dict[str, Any]]:
    """The tools a default connector serves, as `tools/list` JSON: the SDK and floor targets serve these too."""
    from sagemcp.mcp._convert import tool_to_mcp  # the adapter's own conversion, so the lists are identical
    from sagemcp.models import ToolPolicy

    return [
        tool_to_mcp(spec, spec.name).model_dump(mode="json", by_alias=True, exclude_none=True)
        for spec in cls.enabled_tools(ToolPolicy())
    ]
