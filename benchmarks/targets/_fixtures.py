"""Shared constants of the benchmark: the URL path every target serves, and the fake GitHub issue.

Every target answers on the same path, so the wrk scripts differ only in host and port.
The issue is a realistic GitHub REST API issue object (about 5 KB), the same bytes for
every target's upstream call.
"""

from __future__ import annotations

import json
from typing import Any

TENANT = "bench"
CONNECTOR = "github"
MCP_PATH = f"/api/v1/{TENANT}/connectors/{CONNECTOR}/mcp"
OWNER, REPO, ISSUE_NUMBER = "octo-org", "hello-world", 1347
UPSTREAM_TOKEN = "ghp_benchmarkbenchmarkbenchmarkbench01"
SERVER_INFO = {"name": "bench", "version": "1.0"}

# The echo cells: a trivial tool making no upstream call (the reference server's `demo` connector's
# `demo_echo`; the SDK and floor targets answer the same tool on the same path).
ECHO_CONNECTOR = "demo"
ECHO_PATH = f"/api/v1/{TENANT}/connectors/{ECHO_CONNECTOR}/mcp"
ECHO_TOOL = "demo_echo"
ECHO_TEXT = "sagemcp benchmark echo"


def _user(login: str, uid: int) -> dict[str, Any]:
    base = f"https://api.github.com/users/{login}"
    return {
        "login": login,
        "id": uid,
        "node_id": f"MDQ6VXNlcj{uid}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
        "gravatar_id": "",
        "url": base,
        "html_url": f"https://github.com/{login}",
        "followers_url": f"{base}/followers",
        "following_url": f"{base}/following{{/other_user}}",
        "gists_url": f"{base}/gists{{/gist_id}}",
        "starred_url": f"{base}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{base}/subscriptions",
        "organizations_url": f"{base}/orgs",
        "repos_url": f"{base}/repos",
        "events_url": f"{base}/events{{/privacy}}",
        "received_events_url": f"{base}/received_events",
        "type": "User",
        "site_admin": False,
    }


def issue() -> dict[str, Any]:
    """GET /repos/octo-org/hello-world/issues/1347, as GitHub answers it."""
    repo_url = f"https://api.github.com/repos/{OWNER}/{REPO}"
    url = f"{repo_url}/issues/{ISSUE_NUMBER}"
    body = (
        "### Steps to reproduce\n\n1. Start the server with `--workers 1`.\n2. Send 32 concurrent "
        "`tools/call` requests.\n3. Watch the p99 latency climb after a few minutes.\n\n"
        "### Expected\n\nLatency stays flat.\n\n### Actual\n\n```\n"
        + "\n".join(f"12:00:{i:02d} p99={40 + i} ms rss={180 + i} MB" for i in range(12))
        + "\n```\n\n### Environment\n\n- OS: Debian 12\n- Python 3.11.7\n- sagemcp 0.1.0\n\n"
        + "Happy to test a fix. " * 20
    )
    return {
        "url": url,
        "repository_url": repo_url,
        "labels_url": f"{url}/labels{{/name}}",
        "comments_url": f"{url}/comments",
        "events_url": f"{url}/events",
        "html_url": f"https://github.com/{OWNER}/{REPO}/issues/{ISSUE_NUMBER}",
        "id": 1_987_654_321,
        "node_id": "I_kwDOBenchmark0001",
        "number": ISSUE_NUMBER,
        "title": "p99 latency grows under sustained concurrent tool calls",
        "user": _user("octocat", 583231),
        "labels": [
            {
                "id": 208045946,
                "node_id": "MDU6TGFiZWwyMDgwNDU5NDY=",
                "url": f"{repo_url}/labels/bug",
                "name": "bug",
                "description": "Something isn't working",
                "color": "f29513",
                "default": True,
            },
            {
                "id": 208045947,
                "node_id": "MDU6TGFiZWwyMDgwNDU5NDc=",
                "url": f"{repo_url}/labels/performance",
                "name": "performance",
                "description": "Speed and memory",
                "color": "0e8a16",
                "default": False,
            },
        ],
        "state": "open",
        "locked": False,
        "assignee": _user("hubot", 2),
        "assignees": [_user("hubot", 2), _user("monalisa", 3)],
        "milestone": {
            "url": f"{repo_url}/milestones/7",
            "html_url": f"https://github.com/{OWNER}/{REPO}/milestone/7",
            "id": 1002604,
            "number": 7,
            "state": "open",
            "title": "v1.0",
            "description": "Tracking milestone for version 1.0",
            "creator": _user("octocat", 583231),
            "open_issues": 4,
            "closed_issues": 8,
            "created_at": "2026-01-10T02:08:49Z",
            "updated_at": "2026-03-14T17:42:02Z",
            "closed_at": None,
            "due_on": "2026-12-01T07:00:00Z",
        },
        "comments": 12,
        "created_at": "2026-02-21T09:15:31Z",
        "updated_at": "2026-03-02T11:02:43Z",
        "closed_at": None,
        "author_association": "CONTRIBUTOR",
        "active_lock_reason": None,
        "state_reason": None,
        "body": body,
        "closed_by": None,
        "reactions": {
            "url": f"{url}/reactions",
            "total_count": 3,
            "+1": 3,
            "-1": 0,
            "laugh": 0,
            "hooray": 0,
            "confused": 0,
            "heart": 0,
            "rocket": 0,
            "eyes": 0,
        },
        "timeline_url": f"{url}/timeline",
        "performed_via_github_app": None,
    }


def issue_bytes() -> bytes:
    return json.dumps(issue(), separators=(",", ":")).encode()


def issue_text(data: dict[str, Any]) -> str:
    """The text block the GitHub connector returns for an issue: its Markdown rendering.

    The SDK and floor targets answer the same text, made by the connector's own model, so
    every target sends the same bytes (the benchmark measures serving, not rendering choices).
    """
    from sagemcp_github.models import Issue  # the benchmarked connector; see _connector.connector_class

    return Issue.from_api(data).to_markdown()


def trimmed_issue(data: dict[str, Any]) -> dict[str, Any]:
    """The trimmed shape the GitHub connector returns (what the SDK and floor targets answer too)."""
    milestone = data.get("milestone")
    return {
        "number": data.get("number") or 0,
        "title": data.get("title") or "",
        "state": data.get("state") or "",
        "author": (data.get("user") or {}).get("login"),
        "labels": [label["name"] for label in data.get("labels") or () if isinstance(label, dict)],
        "assignees": [u["login"] for u in data.get("assignees") or () if isinstance(u, dict)],
        "milestone": milestone.get("title") if isinstance(milestone, dict) else None,
        "comments": data.get("comments"),
        "is_pull_request": "pull_request" in data,
        "created_at": data.get("created_at"),
        "updated_at": data.get("updated_at"),
        "url": data.get("html_url"),
        "body": data.get("body"),
        "body_truncated": False,
    }
