"""`links` tools: issue link types, an issue's links, linking and unlinking issues, and remote (web) links."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from sagemcp import Cursor, Limit, ToolContext, tool

from .._api import JiraApi, segment
from .._pages import local_page
from .._scopes import READ_WORK, WRITE_WORK
from ..models import Done, IssueLink, IssueLinkList, LinkType, LinkTypeList, RemoteLink, RemoteLinkList
from ._common import IssueKey

if TYPE_CHECKING:
    from ..connector import JiraConfig

__all__ = ["LinksTools"]

LinkId = Annotated[str, Field(pattern=r"^[1-9][0-9]{0,18}$", description="The issue link id (jira_list_issue_links).")]


class LinksTools:
    """The `links` group."""

    @tool(read_only=True, group="links", scopes=READ_WORK)
    async def list_link_types(
        self,
        ctx: ToolContext[JiraConfig],
        limit: Annotated[int, Limit(maximum=100, what="Link types")] = 50,
        cursor: Cursor = None,
    ) -> LinkTypeList:
        """List the site's issue link types (Blocks, Relates, Duplicate...) and how each reads both ways."""
        api = JiraApi(ctx)
        response = await api.get(api.api("/issueLinkType"))
        every = [LinkType.from_api(t) for t in response.json_list("issueLinkTypes", of=dict)]
        window, next_cursor = local_page(every, cursor, limit, {})
        return LinkTypeList(items=window, next_cursor=next_cursor)

    @tool(read_only=True, group="links", scopes=READ_WORK)
    async def list_issue_links(
        self,
        ctx: ToolContext[JiraConfig],
        issue: IssueKey,
        limit: Annotated[int, Limit(maximum=100, what="Links")] = 50,
        cursor: Cursor = None,
    ) -> IssueLinkList:
        """List an issue's links to other issues, read from this issue ("blocks EX-2", "is blocked by EX-3")."""
        api = JiraApi(ctx)
        response = await api.get(api.api(f"/issue/{segment(issue)}"), params={"fields": "issuelinks"})
        fields = response.json_object().get("fields") or {}
        links = [IssueLink.from_api(link) for link in fields.get("issuelinks") or [] if isinstance(link, dict)]
        window, next_cursor = local_page([link for link in links if link is not None], cursor, limit, {"issue": issue})
        return IssueLinkList(key=issue, links=window, next_cursor=next_cursor)

    @tool(read_only=False, group="links", destructive=False, idempotent=False, scopes=WRITE_WORK)
    async def create_issue_link(
        self,
        ctx: ToolContext[JiraConfig],
        issue: IssueKey,
        link_type: Annotated[str, Field(min_length=1, max_length=255, description="Link type name, e.g. Blocks.")],
        other_issue: IssueKey,
        comment: Annotated[str | None, Field(max_length=100_000, description="A comment to add, Markdown.")] = None,
    ) -> Done:
        """Link two issues, read from `issue`: with Blocks, `issue` blocks `other_issue`.

        jira_list_link_types lists the types.
        """
        api = JiraApi(ctx)
        # Jira's inwardIssue is the one the outward description starts from ("EX-1 blocks EX-2": inward EX-1).
        body: dict[str, Any] = {
            "type": {"name": link_type},
            "inwardIssue": {"key": issue},
            "outwardIssue": {"key": other_issue},
        }
        if comment:
            body["comment"] = {"body": api.rich_text(comment)}
        await api.post(api.api("/issueLink"), json=body)
        return Done(message=f"Linked {issue} to {other_issue} ({link_type}).", key=issue, url=api.browse_url(issue))

    @tool(read_only=False, group="links", destructive=True, idempotent=False, scopes=WRITE_WORK)
    async def delete_issue_link(self, ctx: ToolContext[JiraConfig], link_id: LinkId) -> Done:
        """Remove a link between two issues (the link id comes from jira_list_issue_links)."""
        api = JiraApi(ctx)
        await api.delete(api.api(f"/issueLink/{segment(link_id)}"))
        return Done(message=f"Deleted issue link {link_id}.", id=link_id)

    @tool(read_only=True, group="links", scopes=READ_WORK)
    async def list_remote_links(
        self,
        ctx: ToolContext[JiraConfig],
        issue: IssueKey,
        limit: Annotated[int, Limit(maximum=100, what="Links")] = 50,
        cursor: Cursor = None,
    ) -> RemoteLinkList:
        """List an issue's remote links: web pages, pull requests, Confluence pages and the like."""
        api = JiraApi(ctx)
        response = await api.get(api.api(f"/issue/{segment(issue)}/remotelink"))
        every = [RemoteLink.from_api(link) for link in response.json_list(of=dict)]
        window, next_cursor = local_page(every, cursor, limit, {"issue": issue})
        return RemoteLinkList(items=window, next_cursor=next_cursor)

    @tool(read_only=False, group="links", destructive=False, idempotent=False, scopes=WRITE_WORK)
    async def add_remote_link(
        self,
        ctx: ToolContext[JiraConfig],
        issue: IssueKey,
        url: Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2000, description="The page's URL.")],
        title: Annotated[str, Field(min_length=1, max_length=255, description="The link's title.")],
        summary: Annotated[str | None, Field(max_length=1000, description="A line about the page.")] = None,
        relationship: Annotated[
            str | None, Field(max_length=100, description="How it relates, e.g. 'mentioned in'.")
        ] = None,
    ) -> Done:
        """Link an issue to a web page (shown under the issue's links)."""
        api = JiraApi(ctx)
        target: dict[str, Any] = {"url": url, "title": title}
        if summary:
            target["summary"] = summary
        body: dict[str, Any] = {"object": target}
        if relationship:
            body["relationship"] = relationship
        response = await api.post(api.api(f"/issue/{segment(issue)}/remotelink"), json=body)
        link_id = response.json_object().get("id")
        return Done(message=f"Linked {issue} to {url}.", key=issue, id=str(link_id) if link_id is not None else None)
