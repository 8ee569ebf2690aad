"""`transitions` tools: the workflow transitions an issue can take, with the fields their screens need, and
taking one (with those fields, a resolution and a comment)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from sagemcp import Cursor, Limit, ToolContext, tool
from sagemcp.errors import InvalidArguments, UpstreamBadRequest

from .._api import JiraApi, segment
from .._pages import local_page
from .._scopes import READ_WORK, READ_WRITE_WORK
from ..models import Done, Transition, TransitionList
from ._common import IssueKey
from .issues import FieldValues, apply_fields

if TYPE_CHECKING:
    from ..connector import JiraConfig

__all__ = ["TransitionsTools"]


async def _transitions(api: JiraApi, issue: str) -> list[Transition]:
    path = api.api(f"/issue/{segment(issue)}/transitions")
    response = await api.get(path, params={"expand": "transitions.fields"})
    return [Transition.from_api(t) for t in response.json_list("transitions", of=dict)]


class TransitionsTools:
    """The `transitions` group."""

    @tool(read_only=True, group="transitions", scopes=READ_WORK)
    async def list_transitions(
        self,
        ctx: ToolContext[JiraConfig],
        issue: IssueKey,
        limit: Annotated[int, Limit(maximum=50, what="Transitions")] = 25,
        cursor: Cursor = None,
    ) -> TransitionList:
        """List the transitions an issue can take now: id, name, target status, and the fields each needs."""
        api = JiraApi(ctx)
        window, next_cursor = local_page(await _transitions(api, issue), cursor, limit, {"issue": issue})
        return TransitionList(key=issue, transitions=window, next_cursor=next_cursor)

    @tool(read_only=False, group="transitions", destructive=False, idempotent=False, scopes=READ_WRITE_WORK)
    async def transition_issue(
        self,
        ctx: ToolContext[JiraConfig],
        issue: IssueKey,
        transition: Annotated[
            str,
            Field(
                min_length=1,
                max_length=255,
                description="The transition's id or name (e.g. Done, In Progress), or the target status's name.",
            ),
        ],
        resolution: Annotated[str | None, Field(max_length=100, description="Resolution name, e.g. Fixed.")] = None,
        comment: Annotated[str | None, Field(max_length=100_000, description="A comment to add, Markdown.")] = None,
        fields: FieldValues = None,
    ) -> Done:
        """Move an issue through its workflow (change its status), with the fields the transition needs."""
        api = JiraApi(ctx)
        available = await _transitions(api, issue)
        wanted = transition.strip().lower()
        chosen = next((t for t in available if t.id == transition.strip()), None) or next(
            (t for t in available if t.name.lower() == wanted or (t.to_status or "").lower() == wanted), None
        )
        if chosen is None:
            names = ", ".join(f"{t.name} (id {t.id}, to {t.to_status})" for t in available) or "none"
            raise InvalidArguments(
                f"{issue} has no transition {transition!r} now; available: {names}",
                [("transition", f"not available: {transition!r}")],
            )
        values: dict[str, Any] = {}
        if resolution:
            values["resolution"] = {"name": resolution}
        catalog = await apply_fields(api, values, fields)
        missing = [f for f in chosen.fields if f.required and not f.has_default and f.id not in values]
        if missing:
            needed = "; ".join(f.label() for f in missing)
            raise InvalidArguments(
                f"the transition {chosen.name} of {issue} needs these fields: {needed}. Give them in fields "
                "(or resolution)",
                [("fields", f"missing {', '.join(f.id for f in missing)}")],
            )
        body: dict[str, Any] = {"transition": {"id": chosen.id}}
        if values:
            body["fields"] = values
        if comment:
            body["update"] = {"comment": [{"add": {"body": api.rich_text(comment)}}]}
        try:
            await api.post(api.api(f"/issue/{segment(issue)}/transitions"), json=body)
        except UpstreamBadRequest as exc:
            if catalog is not None:
                exc.message = catalog.rename_errors(exc.message)
                exc.args = (exc.message,)
            raise
        target = f" to {chosen.to_status}" if chosen.to_status else ""
        return Done(message=f"Moved {issue}{target} ({chosen.name}).", key=issue, url=api.browse_url(issue))
