"""Notion OAuth for public integrations: the token answer, and the workspace kept with the credential.

`POST https://api.notion.com/v1/oauth/token` (HTTP Basic client authentication) answers

```json
{"access_token": "ntn_…", "token_type": "bearer", "refresh_token": "nrt_…", "bot_id": "…",
 "workspace_id": "…", "workspace_name": "Acme", "workspace_icon": "…", "owner": {"type": "user", …},
 "duplicated_template_id": null, "request_id": "…"}
```

`notion_token_response` puts it in the standard shape, keeping the non-secret facts
(workspace id and name, bot id, owner type) in `Credential.extra`; a refresh grant
(`grant_type=refresh_token`) answers the same way. Notion's `scope` is absent: an
integration's capabilities are set in its settings, not per authorization.

`notion_workspace` is the post-authorization hook: it asks `GET /v1/users/me` for the bot
user of the new token, whose `bot` object names the workspace, and returns the workspace
id and name and the bot id; core keeps them in `Credential.extra[POST_AUTHORIZE_KEY]`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from sagemcp import Credential

__all__ = ["API_VERSION", "notion_token_response", "notion_workspace"]

API_VERSION = "2025-09-03"
"""The Notion-Version every request sends: the data-source API the connector is written and tested against."""

USERS_ME = "https://api.notion.com/v1/users/me"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def notion_token_response(raw: dict[str, Any]) -> dict[str, Any]:
    """Notion's token answer as `access_token`, `refresh_token`, `expires_in`, `account` and `extra`."""
    token = _text(raw.get("access_token"))
    if token is None:
        raise ValueError("the Notion token response holds no access_token")
    found = raw.get("owner")
    owner: dict[str, Any] = found if isinstance(found, dict) else {}
    workspace_name = _text(raw.get("workspace_name"))
    extra = {
        "workspace_id": _text(raw.get("workspace_id")),
        "workspace_name": workspace_name,
        "bot_id": _text(raw.get("bot_id")),
        "owner_type": _text(owner.get("type")),
        "duplicated_template_id": _text(raw.get("duplicated_template_id")),
    }
    return {
        "access_token": token,
        "refresh_token": _text(raw.get("refresh_token")),
        "expires_in": raw.get("expires_in"),
        "token_type": "Bearer",
        "account": workspace_name,
        "extra": {key: value for key, value in extra.items() if value is not None},
    }


async def notion_workspace(credential: Credential, http: httpx.AsyncClient) -> Mapping[str, Any]:
    """The workspace and bot user the new authorization reaches, from `GET /v1/users/me`."""
    response = await http.get(USERS_ME, headers={"Notion-Version": API_VERSION})
    response.raise_for_status()
    body = response.json()
    user: dict[str, Any] = body if isinstance(body, dict) else {}
    inner = user.get("bot")
    bot: dict[str, Any] = inner if isinstance(inner, dict) else {}
    found = {
        "bot_id": _text(user.get("id")),
        "bot_name": _text(user.get("name")),
        "workspace_id": _text(bot.get("workspace_id")) or _text(credential.extra.get("workspace_id")),
        "workspace_name": _text(bot.get("workspace_name")) or _text(credential.extra.get("workspace_name")),
    }
    return {key: value for key, value in found.items() if value is not None}
