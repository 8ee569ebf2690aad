"""Classic OAuth scopes each tool group needs, for the OAuth App flow and the docs.

Fine-grained personal access tokens and GitHub Apps use repository and organization
permissions instead of scopes; the README lists those too.
"""

from __future__ import annotations

__all__ = ["SCOPES_BY_GROUP"]

SCOPES_BY_GROUP: dict[str, tuple[str, ...]] = {
    "context": ("read:user",),
    "repos": ("repo",),
    "issues": ("repo",),
    "pull_requests": ("repo",),
    "actions": ("repo",),
    "search": ("repo",),
    "security": ("security_events",),
    "notifications": ("notifications",),
    "users": ("read:user", "read:org"),
}
"""`repo` covers private repositories (public ones need no scope to read); `security_events` is needed
for code-scanning and Dependabot alerts; `notifications` for the inbox; `read:org` to list organizations."""
