"""Slack's OAuth v2 token responses in the standard shape core's OAuth flow expects.

`oauth.v2.access` answers (HTTP 200 even on failure: core reads `error` first):

```json
{"ok": true, "access_token": "xoxb-...", "token_type": "bot", "scope": "chat:write,channels:read",
 "bot_user_id": "U0KRQLJ9H", "app_id": "A0KRD7HC3", "team": {"id": "T9TK3CUKW", "name": "Acme"},
 "enterprise": null, "is_enterprise_install": false,
 "authed_user": {"id": "U1234", "scope": "search:read", "access_token": "xoxp-...", "token_type": "user"}}
```

The bot token is at the top; a user token, when user scopes were requested
(`user_scope`), is nested under `authed_user`. With token rotation enabled each token
also has `refresh_token` and `expires_in` (12 hours), and a refresh
(`grant_type=refresh_token`) answers with the renewed token at the top level whichever
kind it is.

The hook returns the bot token as the main credential and the user token under
`linked["user"]`: core stores it as the tenant's `slack:user` credential, refreshed and
revoked on its own, and the search tools use it. A user-only installation (no bot
token) keeps the user token as the main credential. Non-secret facts (team,
enterprise, app, bot user, installing user, token kind) go to `Credential.extra`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["slack_token_response"]


def obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def slack_token_response(raw: dict[str, Any]) -> dict[str, Any]:
    """Turn an `oauth.v2.access` answer into `access_token`, `refresh_token`, `expires_in`, `scope`, `extra`."""
    user = obj(raw.get("authed_user"))
    if _text(raw.get("access_token")):
        source, kind = raw, _text(raw.get("token_type")) or "bot"
    elif _text(user.get("access_token")):
        source, kind = user, "user"
    else:
        raise ValueError("the Slack token response holds neither a bot nor a user access token")
    team = obj(raw.get("team"))
    enterprise = obj(raw.get("enterprise"))
    extra = {
        "token_type": kind,
        "team_id": _text(team.get("id")),
        "team_name": _text(team.get("name")),
        "enterprise_id": _text(enterprise.get("id")),
        "app_id": _text(raw.get("app_id")),
        "bot_user_id": _text(raw.get("bot_user_id")),
        "authed_user_id": _text(user.get("id")),
        "is_enterprise_install": raw.get("is_enterprise_install")
        if isinstance(raw.get("is_enterprise_install"), bool)
        else None,
    }
    team_name = extra["team_name"]
    extra = {key: value for key, value in extra.items() if value is not None}
    linked: dict[str, Any] = {}
    if source is raw and _text(user.get("access_token")):
        linked["user"] = {
            "access_token": user["access_token"],
            "refresh_token": _text(user.get("refresh_token")),
            "expires_in": user.get("expires_in"),
            "scope": _text(user.get("scope")),
            "account": f"{team_name} (user)" if team_name else None,
            "extra": {**extra, "token_type": "user"},
        }
    return {
        "access_token": source["access_token"],
        "refresh_token": _text(source.get("refresh_token")),
        "expires_in": source.get("expires_in"),
        "scope": _text(source.get("scope")),
        "token_type": "Bearer",
        "account": f"{team_name} ({kind})" if team_name else None,
        "extra": extra,
        "linked": linked,
    }
