"""Slack's `ok: false` answers as sagemcp upstream errors.

Slack answers almost every failure with HTTP 200 and `{"ok": false, "error": "<code>"}`
(`missing_scope` adds `needed` and `provided`). `slack_error` is the connector's
`check_response`: core's upstream client consults it for every response, so the code
becomes the matching `UpstreamError` subclass with a message that says what to do.
HTTP 429 becomes `UpstreamRateLimited` with Slack's `Retry-After`, which core honours
when it retries a read.
"""

from __future__ import annotations

import json
from typing import Any

from sagemcp import UpstreamResponse, parse_retry_after
from sagemcp.errors import (
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamConflict,
    UpstreamError,
    UpstreamForbidden,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamServerError,
)

__all__ = ["ERRORS", "slack_error"]

_RECONNECT = "reconnect Slack for this tenant (or store a new token)"

# code -> (error class, what it means and what to do). Codes not listed fall back to a bad request.
ERRORS: dict[str, tuple[type[UpstreamError], str]] = {
    # credentials
    "not_authed": (UpstreamAuthError, f"no token was sent; {_RECONNECT}"),
    "invalid_auth": (UpstreamAuthError, f"the token is invalid; {_RECONNECT}"),
    "account_inactive": (UpstreamAuthError, f"the token's user or bot was deactivated; {_RECONNECT}"),
    "token_revoked": (UpstreamAuthError, f"the token was revoked (the app was uninstalled?); {_RECONNECT}"),
    "token_expired": (UpstreamAuthError, f"the token expired and was not refreshed; {_RECONNECT}"),
    "no_permission": (
        UpstreamForbidden,
        "the token's workspace has not granted this permission; ask a Slack admin to approve the app",
    ),
    "not_allowed_token_type": (
        UpstreamForbidden,
        "this method does not accept this kind of token; search.messages needs a user token (xoxp-) with the "
        "search:read scope: reconnect Slack with the search tools enabled, or store a user token as the "
        "tenant's slack:user credential",
    ),
    "team_access_not_granted": (UpstreamForbidden, "the token has no access to that workspace"),
    "ekm_access_denied": (UpstreamForbidden, "Slack administrators have suspended access to this content"),
    "access_denied": (UpstreamForbidden, "access to this resource was denied"),
    "restricted_action": (
        UpstreamForbidden,
        "a workspace preference prevents this (posting may be restricted to admins in this channel)",
    ),
    "restricted_action_read_only_channel": (UpstreamForbidden, "the channel is read-only for this token"),
    "restricted_action_thread_only_channel": (UpstreamForbidden, "the channel accepts only replies in threads"),
    "restricted_action_non_threadable_channel": (UpstreamForbidden, "the channel does not accept threaded replies"),
    "not_in_channel": (
        UpstreamForbidden,
        "the app is not a member of this channel: invite it in Slack with `/invite @<app name>` and try again",
    ),
    "cant_update_message": (UpstreamForbidden, "only messages posted by this token's user or bot can be edited"),
    "cant_delete_message": (UpstreamForbidden, "only messages posted by this token's user or bot can be deleted"),
    "cant_delete_file": (UpstreamForbidden, "this token may not delete that file"),
    "not_pinnable": (UpstreamForbidden, "this item cannot be pinned"),
    "permission_denied": (UpstreamForbidden, "the token may not do this"),
    # things that do not exist (or that the token cannot see)
    "channel_not_found": (
        UpstreamNotFound,
        "no such channel, or the token cannot see it (private channels need the app to be a member); "
        "check the id or find it with slack_find_channels",
    ),
    "user_not_found": (UpstreamNotFound, "no such user (check the id, or look the user up by email or @handle)"),
    "users_not_found": (UpstreamNotFound, "no user has that email address (or the token lacks users:read.email)"),
    "message_not_found": (UpstreamNotFound, "no message with that timestamp in this channel"),
    "thread_not_found": (UpstreamNotFound, "no thread starts at that timestamp in this channel"),
    "file_not_found": (UpstreamNotFound, "no such file, or the token cannot see it"),
    "canvas_not_found": (UpstreamNotFound, "no such canvas, or the token cannot see it"),
    "no_item_specified": (UpstreamBadRequest, "say which message the action is about (channel and timestamp)"),
    "no_pin": (UpstreamNotFound, "that message is not pinned in this channel"),
    "no_reaction": (UpstreamNotFound, "that reaction is not on this message (from this token's user or bot)"),
    "invalid_name": (UpstreamBadRequest, "that emoji name is not valid: use its name without colons, e.g. thumbsup"),
    "bookmark_not_found": (UpstreamNotFound, "no bookmark with that id in this channel"),
    "no_such_subteam": (UpstreamNotFound, "no user group with that id"),
    "invalid_scheduled_message_id": (UpstreamNotFound, "no scheduled message with that id (already sent?)"),
    # states that conflict with the request
    "is_archived": (UpstreamConflict, "the channel is archived; unarchive it in Slack first"),
    "already_reacted": (UpstreamConflict, "this reaction is already on the message"),
    "already_pinned": (UpstreamConflict, "the message is already pinned"),
    "too_many_reactions": (UpstreamConflict, "the message has the maximum number of reactions"),
    "too_many_pins": (UpstreamConflict, "the channel has the maximum number of pins"),
    "edit_window_closed": (UpstreamConflict, "the workspace no longer allows editing this message"),
    "compliance_exports_prevent_deletion": (UpstreamConflict, "compliance exports prevent deleting this message"),
    "channel_canvas_already_exists": (
        UpstreamConflict,
        "the channel already has a canvas; create a standalone canvas instead (leave out the channel)",
    ),
    "duplicate_channel_not_found": (UpstreamNotFound, "no such channel"),
    # bad requests
    "msg_too_long": (UpstreamBadRequest, "the message is too long (Slack truncates text over 40,000 characters)"),
    "no_text": (UpstreamBadRequest, "the message has no text"),
    "time_in_past": (UpstreamBadRequest, "post_at is in the past; choose a time in the future"),
    "time_too_far": (UpstreamBadRequest, "post_at is more than 120 days ahead"),
    "invalid_time": (UpstreamBadRequest, "post_at is not a valid time"),
    "invalid_cursor": (UpstreamBadRequest, "the page cursor expired or is invalid: start again without a cursor"),
    "invalid_ts_latest": (UpstreamBadRequest, "latest is not a valid time"),
    "invalid_ts_oldest": (UpstreamBadRequest, "oldest is not a valid time"),
    "invalid_types": (UpstreamBadRequest, "types holds an unknown conversation type"),
    "invalid_limit": (UpstreamBadRequest, "limit is out of range"),
    "invalid_arguments": (UpstreamBadRequest, "Slack rejected the arguments"),
    "invalid_arg_name": (UpstreamBadRequest, "Slack rejected an argument name"),
    "invalid_array_arg": (UpstreamBadRequest, "Slack rejected an array argument"),
    "invalid_charset": (UpstreamBadRequest, "the request's character set is not accepted"),
    "invalid_form_data": (UpstreamBadRequest, "the request body is not valid form data"),
    "invalid_json": (UpstreamBadRequest, "the request body is not valid JSON"),
    "json_not_object": (UpstreamBadRequest, "the JSON body must be an object"),
    "invalid_post_type": (UpstreamBadRequest, "the request's content type is not accepted"),
    "missing_post_type": (UpstreamBadRequest, "the request has no content type"),
    "invalid_blocks": (UpstreamBadRequest, "the message blocks are not valid"),
    "invalid_email": (UpstreamBadRequest, "that is not a valid email address"),
    "method_not_supported_for_channel_type": (
        UpstreamBadRequest,
        "this method does not work on this kind of conversation (e.g. a DM or a shared channel)",
    ),
    "unknown_method": (UpstreamNotFound, "Slack does not know this method at this API URL (check api_url)"),
    "method_deprecated": (UpstreamBadRequest, "Slack retired this method"),
    "deprecated_endpoint": (UpstreamBadRequest, "Slack retired this method"),
    "upgrade_required": (UpstreamForbidden, "this needs a paid Slack plan"),
    "paid_only": (UpstreamForbidden, "this needs a paid Slack plan"),
    "free_team_not_allowed": (UpstreamForbidden, "this needs a paid Slack plan"),
    # Slack's side
    "ratelimited": (UpstreamRateLimited, "Slack's rate limit for this method was reached"),
    "rate_limited": (UpstreamRateLimited, "Slack's rate limit for this method was reached"),
    "fatal_error": (UpstreamServerError, "Slack failed; try again later"),
    "internal_error": (UpstreamServerError, "Slack failed; try again later"),
    "service_unavailable": (UpstreamServerError, "Slack is unavailable; try again later"),
    "request_timeout": (UpstreamServerError, "Slack timed out; try again later"),
    "team_added_to_org": (UpstreamServerError, "the workspace is being migrated; try again later"),
}


def _method(response: UpstreamResponse) -> str:
    """The Web API method a response answers (`chat.postMessage`), from the request path."""
    return response.path.rstrip("/").rsplit("/", 1)[-1] or response.path


def _body(response: UpstreamResponse) -> dict[str, Any] | None:
    stripped = response.content.lstrip()
    if not stripped.startswith(b"{"):
        return None
    try:
        data = json.loads(response.content)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _scopes(value: Any) -> list[str]:
    if not isinstance(value, str):
        return []
    return [scope.strip() for scope in value.split(",") if scope.strip()]


def slack_error(response: UpstreamResponse) -> UpstreamError | None:
    """The error a Slack answer stands for, or None when it is a success (or not Slack's to judge)."""
    method = _method(response)
    body = _body(response)
    if response.status == 429:
        return _rate_limited(response, method)
    if body is None or body.get("ok") is not False:
        return None  # a success, or a non-Slack failure for core's status mapping
    code = str(body.get("error") or "unknown_error")
    common: dict[str, Any] = {"provider": "slack", "upstream_code": code}
    if code == "missing_scope":
        needed = _scopes(body.get("needed"))
        provided = _scopes(body.get("provided"))
        wanted = ", ".join(f"`{scope}`" for scope in needed) or "a scope it does not have"
        message = f"Slack refused {method} (missing_scope): the token lacks {wanted}"
        if provided:
            message += f" (it has {', '.join(provided)})"
        message += "; add the scope to the Slack app, reinstall it, and reconnect Slack for this tenant."
        return UpstreamForbidden(message, missing_scopes=needed, **common)
    if code in ("ratelimited", "rate_limited"):
        return _rate_limited(response, method)
    cls, advice = ERRORS.get(code, (UpstreamBadRequest, "check the arguments"))
    detail = body.get("detail") or body.get("message")
    said = f" ({detail})" if isinstance(detail, str) and detail else ""
    return cls(f"Slack refused {method} ({code}){said}: {advice}.", **common)


def _rate_limited(response: UpstreamResponse, method: str) -> UpstreamRateLimited:
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    # The adapter appends "Retry after N s." when the wait is known.
    when = "" if retry_after is not None else "; wait a minute, then retry"
    return UpstreamRateLimited(
        f"Slack rate limit reached on {method}{when}.",
        retry_after=retry_after,
        provider="slack",
        upstream_code="ratelimited",
    )
