"""`security` tools: code-scanning and Dependabot alerts (read only)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from sagemcp import Cursor, ToolContext, tool

from .._pagination import next_cursor, page_params
from .._params import SMALL_PAGE, Owner, PageLimit, Repo, SmallPageLimit, repo_path
from .._scopes import SECURITY_EVENTS
from ..models import CodeScanningAlert, CodeScanningAlertList, DependabotAlert, DependabotAlertList

__all__ = ["SecurityTools"]

_SCOPES = SECURITY_EVENTS

AlertNumber = Annotated[int, Field(ge=1, description="The alert number.")]


class SecurityTools:
    """Tools for security alerts."""

    @tool(read_only=True, group="security", scopes=_SCOPES)
    async def list_code_scanning_alerts(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        state: Annotated[
            Literal["open", "closed", "dismissed", "fixed"] | None, Field(description="Only alerts in this state.")
        ] = "open",
        ref: Annotated[
            str | None,
            Field(max_length=255, description="Git ref, e.g. `refs/heads/main` (default branch if omitted)."),
        ] = None,
        tool_name: Annotated[
            str | None, Field(max_length=100, description="Only from this tool, e.g. `CodeQL`.")
        ] = None,
        limit: PageLimit = 20,
        cursor: Cursor = None,
    ) -> CodeScanningAlertList:
        """List a repository's code-scanning alerts (CodeQL and others): rule, severity, file and line.

        Needs code scanning enabled and the `security_events` scope.
        """
        params: dict[str, Any] = {
            "state": state,
            "ref": ref,
            "tool_name": tool_name,
            **page_params(limit, cursor),
        }
        response = await ctx.http.get(repo_path(owner, repo, "code-scanning", "alerts"), params=params)
        return CodeScanningAlertList(
            items=[CodeScanningAlert.from_api(a) for a in response.json_list(of=dict)],
            next_cursor=next_cursor(response),
        )

    @tool(read_only=True, group="security", scopes=_SCOPES)
    async def get_code_scanning_alert(
        self, ctx: ToolContext, owner: Owner, repo: Repo, alert_number: AlertNumber
    ) -> CodeScanningAlert:
        """Get one code-scanning alert: rule and its description, severity, location, message and state."""
        response = await ctx.http.get(repo_path(owner, repo, "code-scanning", "alerts", alert_number))
        return CodeScanningAlert.from_api(response.json_object())

    @tool(read_only=True, group="security", scopes=_SCOPES)
    async def list_dependabot_alerts(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        state: Annotated[
            Literal["open", "dismissed", "fixed", "auto_dismissed"] | None,
            Field(description="Only alerts in this state."),
        ] = "open",
        severity: Annotated[
            Literal["low", "medium", "high", "critical"] | None, Field(description="Only alerts of this severity.")
        ] = None,
        ecosystem: Annotated[
            str | None, Field(max_length=50, description="Only this package ecosystem, e.g. `npm`, `pip`.")
        ] = None,
        scope: Annotated[
            Literal["development", "runtime"] | None, Field(description="Only development or runtime dependencies.")
        ] = None,
        limit: SmallPageLimit = 20,
        cursor: Cursor = None,
    ) -> DependabotAlertList:
        """List a repository's Dependabot alerts: vulnerable package, severity, advisory, fixed version.

        Needs Dependabot alerts enabled and the `security_events` scope.
        """
        params: dict[str, Any] = {
            "state": state,
            "severity": severity,
            "ecosystem": ecosystem,
            "scope": scope,
            **page_params(limit, cursor, maximum=SMALL_PAGE),
        }
        response = await ctx.http.get(repo_path(owner, repo, "dependabot", "alerts"), params=params)
        return DependabotAlertList(
            items=[DependabotAlert.from_api(a) for a in response.json_list(of=dict)], next_cursor=next_cursor(response)
        )

    @tool(read_only=True, group="security", scopes=_SCOPES)
    async def get_dependabot_alert(
        self, ctx: ToolContext, owner: Owner, repo: Repo, alert_number: AlertNumber
    ) -> DependabotAlert:
        """Get one Dependabot alert: package, manifest, severity, advisory (GHSA/CVE), vulnerable range and fix."""
        response = await ctx.http.get(repo_path(owner, repo, "dependabot", "alerts", alert_number))
        return DependabotAlert.from_api(response.json_object())
