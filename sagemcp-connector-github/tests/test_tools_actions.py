"""GitHub Actions: runs, jobs, the job-log link (never followed with the token), re-run, dispatch, cancel."""

from __future__ import annotations

import json

import httpx
from github_support import fixture_response

from sagemcp.testing import call_tool
from sagemcp_github import GitHubConnector

REPO = {"owner": "octocat", "repo": "Hello-World"}
STORAGE = "https://pipelines.actions.githubusercontent.com/ab1f3cCFPB34Nd6imvFxpGZH5hNlDp2wijMwl2gDoO0bcrrlJj"


def logs_handler(location: str | None, conclusion: str = "failure") -> object:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/logs"):
            headers = {"Location": location} if location else {}
            return httpx.Response(302, headers=headers)
        job = fixture_response("actions/get-job-for-workflow-run").json()
        job["conclusion"] = conclusion
        job["steps"][1]["conclusion"] = conclusion
        return httpx.Response(200, json=job)

    return handler


async def test_job_logs_return_the_signed_link_and_failed_steps() -> None:
    result = await call_tool(
        GitHubConnector,
        "github_get_job_logs",
        {**REPO, "job_id": 399444496},
        handler=lambda request: fixture_response(
            "actions/download-job-logs-for-workflow-run"
            if request.url.path.endswith("/logs")
            else "actions/get-job-for-workflow-run"
        ),
    )
    data = result.structured
    assert data is not None
    assert data["log_url"].startswith(STORAGE)
    assert data["name"] == "build" and data["conclusion"] == "success"
    assert data["failed_steps"] == []
    # Only the API host was contacted: the token never goes to the storage host.
    assert {r.url.host for r in result.requests} == {"api.github.com"}
    assert [r.url.path for r in result.requests] == [
        "/repos/octocat/Hello-World/actions/jobs/399444496",
        "/repos/octocat/Hello-World/actions/jobs/399444496/logs",
    ]


async def test_failed_steps_are_named() -> None:
    result = await call_tool(
        GitHubConnector, "github_get_job_logs", {**REPO, "job_id": 1}, handler=logs_handler(STORAGE + "/log")
    )
    data = result.structured
    assert data is not None
    assert data["failed_steps"] == ["Run actions/checkout@v2"] and data["conclusion"] == "failure"


async def test_plain_http_log_locations_are_not_passed_on() -> None:
    result = await call_tool(
        GitHubConnector,
        "github_get_job_logs",
        {**REPO, "job_id": 1},
        handler=logs_handler("http://insecure.example/log"),
    )
    data = result.structured
    assert data is not None and "log_url" not in data
    assert "did not return an https log location" in data["note"]


async def test_expired_logs_are_explained() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/logs"):
            return httpx.Response(410, json={"message": "Gone"})
        return fixture_response("actions/get-job-for-workflow-run")

    result = await call_tool(GitHubConnector, "github_get_job_logs", {**REPO, "job_id": 1}, handler=handler)
    assert not result.is_error
    assert "no longer has this job's log" in result.structured["note"]  # type: ignore[index]


async def test_runs_and_jobs() -> None:
    runs = await call_tool(
        GitHubConnector,
        "github_list_workflow_runs",
        {**REPO, "status": "failure"},
        handler=lambda r: fixture_response("actions/list-workflow-runs-for-repo"),
    )
    assert runs.request.url.path == "/repos/octocat/Hello-World/actions/runs"
    run = runs.structured["items"][0]  # type: ignore[index]
    assert run["id"] == 30433642 and run["status"] == "queued" and run["branch"] == "master"
    assert run["actor"] == "octocat" and run["event"] == "push"
    jobs = await call_tool(
        GitHubConnector,
        "github_list_workflow_jobs",
        {**REPO, "run_id": 29679449},
        handler=lambda r: fixture_response("actions/list-jobs-for-workflow-run"),
    )
    assert jobs.request.url.params["filter"] == "latest"
    job = jobs.structured["items"][0]  # type: ignore[index]
    assert job["name"] == "build" and [s["name"] for s in job["steps"]][:2] == ["Set up job", "Run actions/checkout@v2"]


async def test_rerun_dispatch_cancel() -> None:
    rerun = await call_tool(
        GitHubConnector,
        "github_rerun_workflow_run",
        {**REPO, "run_id": 5, "failed_only": True},
        handler=lambda r: httpx.Response(201, json={}),
    )
    assert rerun.request.url.path == "/repos/octocat/Hello-World/actions/runs/5/rerun-failed-jobs"
    assert json.loads(rerun.request.content) == {"enable_debug_logging": False}
    assert rerun.structured["accepted"] is True  # type: ignore[index]

    dispatched = await call_tool(
        GitHubConnector,
        "github_run_workflow",
        {**REPO, "workflow": "deploy.yml", "ref": "main", "inputs": {"env": "prod", "dry_run": True}},
        handler=lambda r: httpx.Response(204),
    )
    assert dispatched.request.url.path == "/repos/octocat/Hello-World/actions/workflows/deploy.yml/dispatches"
    assert json.loads(dispatched.request.content) == {"ref": "main", "inputs": {"env": "prod", "dry_run": True}}
    assert dispatched.structured["message"] == "Workflow deploy.yml dispatched on main."  # type: ignore[index]

    with_details = await call_tool(
        GitHubConnector,
        "github_run_workflow",
        {**REPO, "workflow": "deploy.yml", "ref": "main"},
        handler=lambda r: fixture_response("actions/create-workflow-dispatch"),
    )
    assert "as run" in with_details.structured["message"]  # type: ignore[index]

    cancelled = await call_tool(
        GitHubConnector,
        "github_cancel_workflow_run",
        {**REPO, "run_id": 5},
        handler=lambda r: httpx.Response(202, json={}),
    )
    assert cancelled.request.method == "POST" and cancelled.request.url.path.endswith("/runs/5/cancel")


async def test_dispatch_is_never_retried() -> None:
    result = await call_tool(
        GitHubConnector,
        "github_run_workflow",
        {**REPO, "workflow": "deploy.yml", "ref": "main"},
        handler=lambda r: httpx.Response(503),
    )
    assert result.is_error and len(result.requests) == 1
