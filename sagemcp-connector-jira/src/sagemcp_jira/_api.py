"""`JiraApi`: one tool call's view of its Jira — the paths, the rich-text format and how users are named.

Jira Cloud and Data Center differ in what every tool depends on, and only here:

| | Cloud | Data Center / Server |
|---|---|---|
| platform paths | `/rest/api/3/...` (under `/ex/jira/{cloudId}` on the gateway) | `/rest/api/2/...` |
| rich text | Atlassian Document Format | wiki markup |
| a user | `accountId` | `name` (the user name) |

Agile paths (`/rest/agile/1.0/...`) are the same on both.
"""

from __future__ import annotations

from typing import Any, Unpack
from urllib.parse import quote

from sagemcp import RequestOptions, ToolContext, UpstreamResponse

from ._adf import adf_to_markdown, is_adf, markdown_to_adf, plain_text
from ._auth import resolve_site
from ._config import JiraConfig
from ._wiki import markdown_to_wiki, wiki_to_markdown

__all__ = ["JiraApi", "segment"]


def segment(value: str | int) -> str:
    """One path segment, percent-encoded (the tools' patterns already keep `/` and `..` out)."""
    return quote(str(value), safe="")


class JiraApi:
    """The Jira of one tool call: build paths, send requests, convert rich text and user references."""

    def __init__(self, ctx: ToolContext[JiraConfig]) -> None:
        self.http = ctx.http
        self.config = ctx.config
        site = resolve_site(ctx.config, ctx.credential)
        self.cloud = ctx.config.cloud
        self.prefix = site.prefix
        self.web_url = site.web_url
        self.version = "3" if self.cloud else "2"

    # -- paths -------------------------------------------------------------------------------------

    def api(self, path: str) -> str:
        """A platform REST path (`/issue/EX-1` -> `/rest/api/3/issue/EX-1`)."""
        return f"{self.prefix}/rest/api/{self.version}{path}"

    def agile(self, path: str) -> str:
        """A Jira Software REST path (`/board` -> `/rest/agile/1.0/board`)."""
        return f"{self.prefix}/rest/agile/1.0{path}"

    def browse_url(self, key: str | None) -> str | None:
        """The issue's web page, when the site's address is known."""
        return f"{self.web_url}/browse/{key}" if self.web_url and key else None

    # -- requests ----------------------------------------------------------------------------------

    async def get(self, path: str, **options: Unpack[RequestOptions]) -> UpstreamResponse:
        return await self.http.get(path, **options)

    async def post(self, path: str, **options: Unpack[RequestOptions]) -> UpstreamResponse:
        return await self.http.post(path, **options)

    async def put(self, path: str, **options: Unpack[RequestOptions]) -> UpstreamResponse:
        return await self.http.put(path, **options)

    async def delete(self, path: str, **options: Unpack[RequestOptions]) -> UpstreamResponse:
        return await self.http.delete(path, **options)

    # -- rich text ---------------------------------------------------------------------------------

    def rich_text(self, markdown: str) -> Any:
        """Markdown as the body Jira takes: an ADF document on Cloud, wiki markup on Data Center."""
        return markdown_to_adf(markdown) if self.cloud else markdown_to_wiki(markdown)

    def markdown(self, value: Any) -> str:
        """A rich-text field (ADF, wiki markup, or plain text) as Markdown."""
        if is_adf(value):
            return adf_to_markdown(value)
        if isinstance(value, str):
            return value if self.cloud else wiki_to_markdown(value)
        return ""

    @staticmethod
    def plain(value: Any) -> str:
        """A rich-text field as one line of plain text."""
        return plain_text(value) if is_adf(value) else " ".join(str(value or "").split())

    # -- users ------------------------------------------------------------------------------------

    @property
    def user_key(self) -> str:
        """How this Jira names a user in bodies: `accountId` on Cloud, `name` on Data Center."""
        return "accountId" if self.cloud else "name"

    @property
    def user_param(self) -> str:
        """How this Jira names a user in query strings: `accountId` on Cloud, `username` on Data Center."""
        return "accountId" if self.cloud else "username"

    def user(self, user_id: str | None) -> dict[str, Any]:
        """A user reference for a body (`{"accountId": ...}`); None unassigns (`{"accountId": null}`)."""
        return {self.user_key: user_id}
