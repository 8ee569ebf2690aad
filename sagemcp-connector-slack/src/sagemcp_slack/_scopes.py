"""Slack scopes the tools share, named once with the reason for each (`@tool(scopes=...)` is the one source).

The OAuth flow asks for `SlackConnector`'s always-requested scopes plus the scopes of the
enabled tools (`Connector.oauth_scopes`); the user-token scopes of tools declared with
`token="user"` go to `user_scope` (`Connector.linked_oauth_scopes`).
"""

from __future__ import annotations

__all__ = ["CONVERSATION_READ", "HISTORY_READ"]

CONVERSATION_READ = ("channels:read", "groups:read", "im:read", "mpim:read")
"""Channel details and lists of every kind: resolving `#name`s, and the `allowed_channels` check of the
write tools, which read their target channel (conversations.info) before writing."""
HISTORY_READ = ("channels:history", "groups:history", "im:history", "mpim:history")
"""Messages and threads of every kind of conversation."""
