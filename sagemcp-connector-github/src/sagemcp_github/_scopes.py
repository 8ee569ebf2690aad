"""The classic OAuth scopes the tools declare (`@tool(scopes=...)`), named once with the reason for each.

The OAuth App flow requests the scopes of the enabled tools (`Connector.oauth_scopes`).
Fine-grained personal access tokens and GitHub Apps use repository and organization
permissions instead of scopes; the README lists those too.
"""

from __future__ import annotations

__all__ = ["NOTIFICATIONS", "ORG_READ", "REPO", "SECURITY_EVENTS", "USER_READ"]

REPO = ("repo",)
"""Private repositories and everything in them (public ones need no scope to read): GitHub has no narrower one."""
USER_READ = ("read:user",)
"""The connected account's profile (github_get_me, token checks)."""
ORG_READ = ("read:user", "read:org")
"""Profiles, and organization memberships including private ones."""
SECURITY_EVENTS = ("security_events",)
"""Code-scanning and Dependabot alerts."""
NOTIFICATIONS = ("notifications",)
"""The notifications inbox."""
