"""`actions` tools: GitHub Actions workflows, runs, jobs and logs; re-running, dispatching and cancelling."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import httpx
from pydantic import Field

from sagemcp import Cursor, Limit, ToolContext, UpstreamResponse, clip, tool, truncation_marker, validate_api_url
from sagemcp.errors import UpstreamError

from .._pagination import next_cursor, page_params
from .._params import Owner, PageLimit, Repo, repo_path, segment
from .._scopes import REPO
from ..models import ActionResult, Job, JobList, JobLogs, Workflow, WorkflowList, WorkflowRun, WorkflowRunList

__all__ = ["ActionsTools"]

_SCOPES = REPO

RunId = Annotated[int, Field(ge=1, description="The workflow run id (from github_list_workflow_runs).")]
WorkflowRef = Annotated[
    str,
    Field(
        min_length=1,
        max_length=255,
        description="The workflow's numeric id or its file name, e.g. `ci.yml`.",
    ),
]


class ActionsTools:
    """Tools for GitHub Actions."""

    @tool(read_only=True, group="actions", scopes=_SCOPES)
    async def list_workflows(
        self, ctx: ToolContext, owner: Owner, repo: Repo, limit: PageLimit = 20, cursor: Cursor = None
    ) -> WorkflowList:
        """List a repository's GitHub Actions workflows: id, name, file path and state (active or disabled)."""
        response = await ctx.http.get(repo_path(owner, repo, "actions", "workflows"), params=page_params(limit, cursor))
        items = [Workflow.from_api(w) for w in response.json_list("workflows", of=dict)]
        return WorkflowList(items=items, next_cursor=next_cursor(response), total_count=_total(response))

    @tool(read_only=True, group="actions", scopes=_SCOPES)
    async def list_workflow_runs(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        workflow: Annotated[
            str | None,
            Field(max_length=255, description="Only runs of this workflow (numeric id or file name, e.g. `ci.yml`)."),
        ] = None,
        branch: Annotated[str | None, Field(max_length=255, description="Only runs for this branch.")] = None,
        status: Annotated[
            Literal[
                "completed",
                "in_progress",
                "queued",
                "requested",
                "waiting",
                "pending",
                "success",
                "failure",
                "cancelled",
                "skipped",
                "timed_out",
                "action_required",
            ]
            | None,
            Field(description="Only runs with this status or conclusion."),
        ] = None,
        event: Annotated[
            str | None, Field(max_length=100, description="Only runs triggered by this event, e.g. `push`.")
        ] = None,
        actor: Annotated[str | None, Field(max_length=100, description="Only runs started by this login.")] = None,
        limit: PageLimit = 20,
        cursor: Cursor = None,
    ) -> WorkflowRunList:
        """List a repository's (or one workflow's) CI runs, newest first, with status and conclusion.

        Then github_list_workflow_jobs and github_get_job_logs show what failed.
        """
        if workflow:
            path = repo_path(owner, repo, "actions", "workflows", segment(workflow, "workflow"), "runs")
        else:
            path = repo_path(owner, repo, "actions", "runs")
        params = {"branch": branch, "status": status, "event": event, "actor": actor, **page_params(limit, cursor)}
        response = await ctx.http.get(path, params=params)
        return WorkflowRunList(
            items=[WorkflowRun.from_api(r) for r in response.json_list("workflow_runs", of=dict)],
            next_cursor=next_cursor(response),
            total_count=_total(response),
        )

    @tool(read_only=True, group="actions", scopes=_SCOPES)
    async def get_workflow_run(self, ctx: ToolContext, owner: Owner, repo: Repo, run_id: RunId) -> WorkflowRun:
        """Get one workflow run: workflow, trigger event, branch, commit, status, conclusion, attempt and dates."""
        response = await ctx.http.get(repo_path(owner, repo, "actions", "runs", run_id))
        return WorkflowRun.from_api(response.json_object())

    @tool(read_only=True, group="actions", scopes=_SCOPES)
    async def list_workflow_jobs(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        run_id: RunId,
        filter: Annotated[
            Literal["latest", "all"], Field(description="Jobs of the latest attempt only, or of every attempt.")
        ] = "latest",
        limit: Annotated[int, Limit(maximum=30, what="Jobs")] = 10,
        cursor: Cursor = None,
    ) -> JobList:
        """List a workflow run's jobs with status, conclusion and steps, to see which one failed."""
        response = await ctx.http.get(
            repo_path(owner, repo, "actions", "runs", run_id, "jobs"),
            params={"filter": filter, **page_params(limit, cursor, maximum=30)},
        )
        return JobList(
            items=[Job.from_api(j) for j in response.json_list("jobs", of=dict)],
            next_cursor=next_cursor(response),
            total_count=_total(response),
        )

    @tool(read_only=True, group="actions", scopes=_SCOPES)
    async def get_job_logs(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        job_id: Annotated[int, Field(ge=1, description="The job id (from github_list_workflow_jobs).")],
    ) -> JobLogs:
        """Get the failed steps of a workflow job and the end of its log, to see why it failed.

        `log_tail` holds the last ~20,000 characters; `log_url` links the whole log (expires in about a minute).
        """
        job = (await ctx.http.get(repo_path(owner, repo, "actions", "jobs", job_id))).json_object()
        details = Job.from_api(job)
        # GitHub answers 302 with a pre-signed URL on a storage host. The redirect is not followed with the
        # bound client (it sends the tenant's token only to the API host); the tail is fetched from the
        # storage host without any credential, after the URL passes the same checks as a configured base
        # URL (https, a public address), since on Enterprise Server the tenant controls the upstream.
        response = await ctx.http.get(
            repo_path(owner, repo, "actions", "jobs", job_id, "logs"), allow_error_status=(302, 410)
        )
        location = response.headers.get("location") if response.status == 302 else None
        log_url: str | None = None
        if location:
            try:
                target = httpx.URL(response.url).join(location)
            except httpx.InvalidURL:
                target = None
            if target is not None and target.scheme == "https":
                log_url = str(target)
        failed = details.failed_steps()
        log_tail, cut = await _log_tail(ctx, log_url) if log_url else (None, False)
        if log_tail is not None:
            note = "log_tail is the end of the log" + (", cut at the front" if cut else "") + "; log_url expires soon."
        elif log_url:
            note = "The log could not be read here; download log_url within a minute (it expires)."
        elif response.status == 410:
            note = "GitHub no longer has this job's log: it expired after the retention period or was deleted."
        else:
            note = "GitHub did not return an https log location; open the job's url to read the log."
        return JobLogs(
            job_id=job_id,
            name=details.name,
            status=details.status,
            conclusion=details.conclusion,
            failed_steps=failed,
            log_tail=log_tail,
            log_tail_truncated=cut,
            log_url=log_url,
            note=note,
            url=details.url,
        )

    @tool(read_only=False, group="actions", destructive=False, idempotent=False, scopes=_SCOPES)
    async def rerun_workflow_run(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        run_id: RunId,
        failed_only: Annotated[
            bool, Field(description="Re-run only the failed jobs (and what depends on them).")
        ] = False,
        enable_debug_logging: Annotated[bool, Field(description="Turn on step debug logging.")] = False,
    ) -> ActionResult:
        """Re-run a completed workflow run, all of it or only its failed jobs, as a new attempt."""
        action = "rerun-failed-jobs" if failed_only else "rerun"
        await ctx.http.post(
            repo_path(owner, repo, "actions", "runs", run_id, action),
            json={"enable_debug_logging": enable_debug_logging},
        )
        what = "failed jobs of run" if failed_only else "run"
        return ActionResult(accepted=True, message=f"Re-run of the {what} {run_id} requested.")

    @tool(read_only=False, group="actions", destructive=False, idempotent=False, scopes=_SCOPES)
    async def run_workflow(
        self,
        ctx: ToolContext,
        owner: Owner,
        repo: Repo,
        workflow: WorkflowRef,
        ref: Annotated[str, Field(min_length=1, max_length=255, description="Branch or tag to run it on.")],
        inputs: Annotated[
            dict[str, str | int | bool] | None,
            Field(max_length=25, description="Values for the workflow's `workflow_dispatch` inputs."),
        ] = None,
    ) -> ActionResult:
        """Start a run of a workflow with a `workflow_dispatch` trigger, on a branch or tag.

        Each call starts a new run; find it with github_list_workflow_runs.
        """
        payload: dict[str, Any] = {"ref": ref}
        if inputs:
            payload["inputs"] = inputs
        response = await ctx.http.post(
            repo_path(owner, repo, "actions", "workflows", segment(workflow, "workflow"), "dispatches"), json=payload
        )
        # GitHub answers 204 without a body, or (when asked for details) 200 with the new run's id.
        data: Any = response.json() if response.content.strip() else {}
        return ActionResult.from_dispatch(data if isinstance(data, dict) else {}, workflow, ref)

    @tool(read_only=False, group="actions", destructive=True, idempotent=True, scopes=_SCOPES)
    async def cancel_workflow_run(self, ctx: ToolContext, owner: Owner, repo: Repo, run_id: RunId) -> ActionResult:
        """Cancel a queued or running workflow run; its unfinished jobs stop."""
        await ctx.http.post(repo_path(owner, repo, "actions", "runs", run_id, "cancel"))
        return ActionResult(accepted=True, message=f"Cancellation of run {run_id} requested.")


def _total(response: UpstreamResponse) -> int:
    """GitHub's `total_count` beside a list (0 when absent)."""
    total = response.json_object().get("total_count")
    return total if isinstance(total, int) else 0


LOG_TAIL_BYTES = 20_000
_CONTENT_RANGE_TOTAL = re.compile(r"/\s*(\d+)\s*$")


async def _log_tail(ctx: ToolContext, url: str) -> tuple[str | None, bool]:
    """The last `LOG_TAIL_BYTES` of a job log on GitHub's storage host, and whether the front was cut."""
    try:
        validate_api_url(url.split("?", 1)[0], example="https://pipelines.actions.githubusercontent.com/...")
    except ValueError:
        return None, False
    target = httpx.URL(url)
    storage = ctx.http.for_origin(f"{target.scheme}://{target.netloc.decode('ascii')}/")
    try:
        response = await storage.get(url, headers={"Range": f"bytes=-{LOG_TAIL_BYTES}"})
    except UpstreamError:
        return None, False
    text = response.content.decode("utf-8", errors="replace")
    hint = "log_url has the whole log for about a minute"
    if response.status != 206:  # the whole log came back: cut it here
        return clip(text, LOG_TAIL_BYTES, hint, unit="bytes", keep="end")
    if "\n" in text:
        text = text.split("\n", 1)[1]  # the range starts mid-line: begin at a whole one
    total = _CONTENT_RANGE_TOTAL.search(response.headers.get("content-range", ""))
    marker = truncation_marker(
        len(text.encode("utf-8")), int(total.group(1)) if total else None, "bytes", hint, part="last"
    )
    return f"{marker}\n{text}", True
