"""GitHub Actions: runs, jobs, the job-log tail (fetched from storage without the token), re-run, dispatch, cancel."""

from __future__ import annotations

import json

import httpx
from github_support import fixture_response

from sagemcp.testing import call_tool
from sagemcp_github import GitHubConnector

REPO = {"owner": "octocat", "repo": "Hello-World"}
STORAGE = "https://pipelines.actions.githubusercontent.com/ab1f3cCFPB34Nd6imvFxpGZH5hNlDp2wijMwl2gDoO0bcrrlJj"


LOG_TEXT = "".join(f"2026-11-25T05:00:{i % 60:02d}Z step output line {i}\n" for i in range(2000))


def storage_response(request: httpx.Request) -> httpx.Response:
    """The storage host honours a suffix Range request with 206, as Azure blob storage does."""
    wanted = int(request.headers["range"].removeprefix("bytes=-"))
    total = len(LOG_TEXT.encode())
    headers = {"Content-Type": "text/plain", "Content-Range": f"bytes {total - wanted}-{total - 1}/{total}"}
    return httpx.Response(206, content=LOG_TEXT.encode()[-wanted:], headers=headers)


def logs_handler(location: str | None, conclusion: str = "failure") -> object:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host != "api.github.com":
            return storage_response(request)
        if request.url.path.endswith("/logs"):
            headers = {"Location": location} if location else {}
            return httpx.Response(302, headers=headers)
        job = fixture_response("actions/get-job-for-workflow-run").json()
        job["conclusion"] = conclusion
        job["steps"][1]["conclusion"] = conclusion
        return httpx.Response(200, json=job)

    return handler


async def test_job_logs_return_the_tail_without_sending_the_token_to_storage() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host != "api.github.com":
            return storage_response(request)
        if request.url.path.endswith("/logs"):
            return fixture_response("actions/download-job-logs-for-workflow-run")
        return fixture_response("actions/get-job-for-workflow-run")

    result = await call_tool(GitHubConnector, "github_get_job_logs", {**REPO, "job_id": 399444496}, handler=handler)
    data = result.structured
    assert data is not None
    assert data["log_url"].startswith(STORAGE)
    assert data["name"] == "build" and data["conclusion"] == "success"
    assert data["failed_steps"] == []
    tail = data["log_tail"]
    marker, text = tail.split("\n", 1)
    assert marker == (
        f"…[truncated: the last {len(text.encode()):,} of {len(LOG_TEXT.encode()):,} bytes shown; log_url has the "
        "whole log for about a minute]"
    )
    assert LOG_TEXT.endswith(text) and ("\n" + text) in LOG_TEXT  # whole lines only
    assert text.endswith("step output line 1999\n") and "step output line 0\n" not in tail
    assert len(text.encode()) <= 20_000 and data["log_tail_truncated"] is True
    api, logs, storage = result.requests
    assert [api.url.path, logs.url.path] == [
        "/repos/octocat/Hello-World/actions/jobs/399444496",
        "/repos/octocat/Hello-World/actions/jobs/399444496/logs",
    ]
    assert logs.headers["authorization"] == "Bearer test-token"
    # The storage host gets the pre-signed URL and a Range header, never the tenant's token.
    assert str(storage.url).startswith(STORAGE)
    assert "authorization" not in storage.headers
    assert storage.headers["range"] == "bytes=-20000"


async def test_log_locations_on_non_public_addresses_are_not_fetched() -> None:
    result = await call_tool(
        GitHubConnector,
        "github_get_job_logs",
        {**REPO, "job_id": 1},
        handler=logs_handler("https://169.254.169.254/latest/meta-data"),
    )
    data = result.structured
    assert data is not None and "log_tail" not in data
    assert {r.url.host for r in result.requests} == {"api.github.com"}


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
