"""The OAuth 2.0 (3LO) scopes the tools declare, and which scope a failed request needed.

Platform tools use Atlassian's classic scopes (`read:jira-work`, `write:jira-work`,
`read:jira-user`, `manage:jira-project`); the agile tools (boards, sprints, backlog, epics) use the
granular Jira Software scopes that Atlassian's agile API description lists per operation. An
authorization asks for `offline_access` (a rotating refresh token) plus the scopes of the enabled
tools (`Connector.oauth_scopes`).
"""

from __future__ import annotations

import re

__all__ = [
    "ALWAYS",
    "BACKLOG_READ",
    "BACKLOG_WRITE",
    "BOARDS_READ",
    "BOARD_CONFIG_READ",
    "BOARD_READ",
    "EPICS_READ",
    "EPIC_ISSUES_READ",
    "MANAGE_PROJECT",
    "READ_USER",
    "READ_WORK",
    "READ_WRITE_WORK",
    "SPRINT_ISSUES_READ",
    "SPRINT_READ",
    "SPRINT_WRITE",
    "WRITE_WORK",
    "scopes_for",
]

ALWAYS = ("offline_access",)
READ_WORK = ("read:jira-work",)
WRITE_WORK = ("write:jira-work",)
READ_USER = ("read:jira-user",)
MANAGE_PROJECT = ("manage:jira-project",)
READ_WRITE_WORK = (*READ_WORK, *WRITE_WORK)
"""Writes that read first (the site's fields, the issue's transitions)."""

BOARDS_READ = ("read:board-scope:jira-software", "read:project:jira")
BOARD_READ = ("read:board-scope:jira-software", "read:issue-details:jira")
BOARD_CONFIG_READ = ("read:board-scope.admin:jira-software", "read:project:jira")
SPRINT_READ = ("read:sprint:jira-software",)
SPRINT_WRITE = ("write:sprint:jira-software",)
SPRINT_ISSUES_READ = ("read:sprint:jira-software", "read:issue-details:jira", "read:jql:jira")
BACKLOG_READ = ("read:board-scope:jira-software", "read:issue-details:jira")
BACKLOG_WRITE = ("write:board-scope:jira-software",)
EPICS_READ = ("read:epic:jira-software",)
EPIC_ISSUES_READ = ("read:epic:jira-software", "read:issue-details:jira", "read:jql:jira")

_AGILE: list[tuple[str, re.Pattern[str], tuple[str, ...]]] = [
    ("GET", re.compile(r"/board$"), BOARDS_READ),
    ("GET", re.compile(r"/board/\d+$"), BOARD_READ),
    ("GET", re.compile(r"/board/\d+/configuration$"), BOARD_CONFIG_READ),
    ("GET", re.compile(r"/board/\d+/sprint$"), SPRINT_READ),
    ("GET", re.compile(r"/board/\d+/backlog$"), BACKLOG_READ),
    ("GET", re.compile(r"/board/\d+/epic$"), EPICS_READ),
    ("GET", re.compile(r"/sprint/\d+$"), SPRINT_READ),
    ("GET", re.compile(r"/sprint/\d+/issue$"), SPRINT_ISSUES_READ),
    ("POST", re.compile(r"/sprint(/\d+)?(/issue)?$"), SPRINT_WRITE),
    ("POST", re.compile(r"/backlog/issue$"), BACKLOG_WRITE),
    ("GET", re.compile(r"/epic/[^/]+/issue$"), EPIC_ISSUES_READ),
]


def scopes_for(method: str, path: str) -> tuple[str, ...]:
    """The scopes a request to `path` needs, as the tools declare them (for naming a missing one)."""
    if "/rest/agile/" in path:
        tail = path.split("/rest/agile/1.0", 1)[-1]
        for verb, pattern, scopes in _AGILE:
            if verb == method and pattern.search(tail):
                return scopes
        return ()
    if re.search(r"/rest/api/\d/(myself|user)(/|$)", path):
        return READ_USER
    if method in ("POST", "PUT") and re.search(r"/rest/api/\d/version(/|$)", path):
        return MANAGE_PROJECT
    if method == "GET" or path.endswith(("/search/jql", "/search/approximate-count", "/issue/bulkfetch")):
        return READ_WORK
    return WRITE_WORK
