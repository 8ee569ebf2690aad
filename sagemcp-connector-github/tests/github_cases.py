"""Representative arguments for every tool, used by the contract tests (every tool at least once, enforced).

Each case uses most of the tool's optional parameters, so that the request it sends
exercises the query string and body the connector builds, not only the happy path.
"""

from __future__ import annotations

from typing import Any

SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
REPO: dict[str, Any] = {"owner": "octocat", "repo": "Hello-World"}

_MAIN: dict[str, dict[str, Any]] = {
    # context
    "github_get_me": {},
    "github_get_token_scopes": {},
    "github_get_rate_limit": {},
    # repos
    "github_list_repositories": {"sort": "pushed", "limit": 5},
    "github_get_repository": {**REPO},
    "github_get_repository_stats": {**REPO},
    "github_list_contributors": {**REPO, "limit": 10},
    "github_get_file_content": {**REPO, "path": "docs/README.md", "ref": "main"},
    "github_get_repository_tree": {**REPO, "ref": "main", "path_prefix": "src", "limit": 50},
    "github_create_file": {
        **REPO,
        "path": "docs/notes.md",
        "content": "# Notes\n",
        "message": "Add notes",
        "branch": "docs",
    },
    "github_update_file": {
        **REPO,
        "path": "docs/notes.md",
        "content": "# Notes\n",
        "message": "Edit notes",
        "branch": "docs",
        "sha": SHA,
    },
    "github_delete_file": {**REPO, "path": "docs/old.md", "message": "Remove old notes", "sha": SHA, "branch": "docs"},
    "github_list_branches": {**REPO, "protected": True, "limit": 10},
    "github_get_branch": {**REPO, "branch": "feature/login"},
    "github_create_branch": {**REPO, "branch": "fix/typo", "from_ref": "main"},
    "github_list_commits": {
        **REPO,
        "ref": "main",
        "path": "src/app.py",
        "author": "octocat",
        "since": "2024-01-01T00:00:00Z",
        "until": "2024-12-31T00:00:00Z",
        "limit": 5,
    },
    "github_get_commit": {**REPO, "ref": SHA},
    "github_compare_commits": {**REPO, "base": "main", "head": "feature/login"},
    "github_list_tags": {**REPO, "limit": 5},
    "github_list_releases": {**REPO, "limit": 5},
    "github_get_release": {**REPO, "tag": "v1.0.0"},
    "github_create_release": {
        **REPO,
        "tag_name": "v1.1.0",
        "name": "v1.1.0",
        "body": "Bug fixes.",
        "target_commitish": "main",
        "draft": True,
        "prerelease": False,
        "generate_release_notes": True,
    },
    "github_create_fork": {**REPO, "organization": "octo-org", "name": "Hello-Fork", "default_branch_only": True},
    "github_create_repository": {"name": "new-repo", "org": "octo-org", "description": "A new repository."},
    # issues
    "github_list_issues": {
        **REPO,
        "state": "all",
        "labels": ["bug", "ui"],
        "assignee": "octocat",
        "creator": "hubot",
        "mentioned": "monalisa",
        "since": "2024-01-01T00:00:00Z",
        "sort": "updated",
        "direction": "asc",
        "limit": 30,
    },
    "github_get_issue": {**REPO, "issue_number": 1347},
    "github_create_issue": {
        **REPO,
        "title": "Found a bug",
        "body": "I'm having a problem with this.",
        "labels": ["bug"],
        "assignees": ["octocat"],
        "milestone": 1,
    },
    "github_update_issue": {
        **REPO,
        "issue_number": 1347,
        "title": "Found a bug (confirmed)",
        "state": "closed",
        "state_reason": "completed",
        "labels": ["bug"],
        "assignees": [],
        "milestone": 0,
    },
    "github_list_issue_comments": {**REPO, "issue_number": 1347, "since": "2024-01-01T00:00:00Z", "limit": 10},
    "github_add_issue_comment": {**REPO, "issue_number": 1347, "body": "Me too"},
    "github_list_labels": {**REPO, "limit": 50},
    "github_add_issue_labels": {**REPO, "issue_number": 1347, "labels": ["bug", "enhancement"]},
    "github_remove_issue_label": {**REPO, "issue_number": 1347, "label": "help wanted"},
    # pull requests
    "github_list_pull_requests": {
        **REPO,
        "state": "open",
        "head": "octocat:new-topic",
        "base": "main",
        "sort": "updated",
        "direction": "desc",
        "limit": 10,
    },
    "github_get_pull_request": {**REPO, "pull_number": 1347},
    "github_get_pull_request_diff": {**REPO, "pull_number": 1347},
    "github_list_pull_request_files": {**REPO, "pull_number": 1347, "limit": 10},
    "github_list_pull_request_reviews": {**REPO, "pull_number": 1347},
    "github_list_pull_request_review_comments": {**REPO, "pull_number": 1347},
    "github_get_pull_request_status": {**REPO, "pull_number": 1347},
    "github_create_pull_request": {
        **REPO,
        "title": "Amazing new feature",
        "head": "octocat:new-feature",
        "base": "main",
        "body": "Please pull these awesome changes in!",
        "draft": True,
    },
    "github_update_pull_request": {
        **REPO,
        "pull_number": 1347,
        "title": "new title",
        "body": "updated body",
        "state": "open",
        "base": "main",
        "maintainer_can_modify": True,
    },
    "github_merge_pull_request": {
        **REPO,
        "pull_number": 1347,
        "merge_method": "squash",
        "commit_title": "Expand enum",
        "commit_message": "Add a new value to the merge_method enum",
        "sha": SHA,
    },
    "github_create_pull_request_review": {
        **REPO,
        "pull_number": 12,
        "event": "REQUEST_CHANGES",
        "body": "This is close to perfect! Please address the suggested inline change.",
        "commit_id": SHA,
        "comments": [
            {"path": "file.md", "line": 6, "body": "Please add more information here."},
            {"path": "file.md", "line": 10, "start_line": 8, "side": "RIGHT", "start_side": "RIGHT", "body": "Nit"},
        ],
    },
    "github_add_pull_request_reviewers": {
        **REPO,
        "pull_number": 1347,
        "reviewers": ["octocat"],
        "team_reviewers": ["justice-league"],
    },
    # search
    "github_search_repositories": {"query": "tetris language:assembly", "sort": "stars", "order": "desc", "limit": 5},
    "github_search_code": {"query": "addClass in:file language:js repo:jquery/jquery", "limit": 5},
    "github_search_issues": {
        "query": "windows label:bug language:python state:open",
        "sort": "created",
        "order": "asc",
    },
    "github_search_commits": {"query": "repo:octocat/Spoon-Knife css", "sort": "author-date", "order": "desc"},
    "github_search_users": {"query": "tom repos:>42 followers:>1000", "sort": "followers"},
    # actions
    "github_list_workflows": {**REPO, "limit": 10},
    "github_list_workflow_runs": {
        **REPO,
        "workflow": "ci.yml",
        "branch": "main",
        "status": "failure",
        "event": "push",
        "actor": "octocat",
        "limit": 10,
    },
    "github_get_workflow_run": {**REPO, "run_id": 30433642},
    "github_list_workflow_jobs": {**REPO, "run_id": 30433642, "filter": "all", "limit": 10},
    "github_get_job_logs": {**REPO, "job_id": 399444496},
    "github_rerun_workflow_run": {**REPO, "run_id": 30433642, "failed_only": True, "enable_debug_logging": True},
    "github_run_workflow": {**REPO, "workflow": "deploy.yml", "ref": "main", "inputs": {"environment": "staging"}},
    "github_cancel_workflow_run": {**REPO, "run_id": 30433642},
    # notifications
    "github_list_notifications": {
        "include_read": True,
        "participating": True,
        "since": "2024-01-01T00:00:00Z",
        "limit": 10,
    },
    "github_mark_notification_read": {"thread_id": "1"},
    "github_mark_notifications_read": {"last_read_at": "2024-01-01T00:00:00Z"},
    # security
    "github_list_code_scanning_alerts": {
        **REPO,
        "state": "open",
        "ref": "refs/heads/main",
        "tool_name": "CodeQL",
        "limit": 10,
    },
    "github_get_code_scanning_alert": {**REPO, "alert_number": 42},
    "github_list_dependabot_alerts": {
        **REPO,
        "state": "open",
        "severity": "high",
        "ecosystem": "pip",
        "scope": "runtime",
        "limit": 10,
    },
    "github_get_dependabot_alert": {**REPO, "alert_number": 2},
    # users
    "github_get_user": {"username": "octocat"},
    "github_find_users_by_email": {"email": "octocat@github.com"},
    "github_list_organizations": {"username": "octocat", "limit": 10},
    "github_get_organization": {"org": "github"},
    "github_list_user_events": {"username": "octocat", "limit": 10},
    "github_get_user_stats": {"username": "octocat"},
}

_VARIANTS: list[tuple[str, dict[str, Any]]] = [
    ("github_list_repositories", {"org": "octo-org", "sort": "full_name"}),
    ("github_list_repositories", {"username": "octocat"}),
    ("github_get_file_content", {**REPO, "path": "docs"}),
    ("github_create_branch", {**REPO, "branch": "fix/typo", "from_ref": SHA}),
    ("github_create_branch", {**REPO, "branch": "fix/typo"}),
    ("github_get_release", {**REPO, "release_id": 1}),
    ("github_get_release", {**REPO}),
    ("github_create_repository", {"name": "new-repo", "private": False, "auto_init": False}),
    ("github_list_workflow_runs", {**REPO, "branch": "main"}),
    ("github_rerun_workflow_run", {**REPO, "run_id": 30433642}),
    ("github_run_workflow", {**REPO, "workflow": "1234", "ref": "v1.0.0"}),
    ("github_list_notifications", {**REPO}),
    ("github_mark_notifications_read", {**REPO}),
    ("github_list_organizations", {}),
    ("github_list_user_events", {}),
]

CASES: list[tuple[str, dict[str, Any]]] = [*_MAIN.items(), *_VARIANTS]
"""(tool name, arguments) pairs: every tool's main case, then variants reaching its other endpoints."""
