"""Notion's error envelope as sagemcp upstream errors.

Notion answers failures with an HTTP status and

```json
{"object": "error", "status": 404, "code": "object_not_found", "message": "Could not find page with ID: …",
 "request_id": "…"}
```

`notion_error` is the connector's `check_response`: the code becomes the matching
`UpstreamError` subclass with a message that says what to do. Two codes need more than
Notion says: `object_not_found` also means the page was never shared with the integration,
and `restricted_resource` means the integration lacks a capability; the message names the
capability the request needs (Notion has no OAuth scopes: capabilities are set on the
integration), and `missing_scopes` carries it. 429 `rate_limited` (and 529
`service_overload`) keep Notion's `Retry-After`, which core honours when it retries a read.
"""

from __future__ import annotations

import json
from typing import Any

from sagemcp import (
    UpstreamResponse,
    parse_retry_after,  # not exported from `sagemcp` yet
)
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

__all__ = ["SHARE_HINT", "capability_for", "notion_error"]

SHARE_HINT = (
    "if it exists, share it with the integration: in Notion, open the page (or its parent), choose ••• → "
    "Connections, and add the integration"
)

_SERVER_CODES = frozenset(
    {
        "internal_server_error",
        "service_unavailable",
        "database_connection_unavailable",
        "gateway_timeout",
        "bad_gateway",
    }
)


def capability_for(method: str, path: str) -> str:
    """The integration capability a request needs, as Notion's integration settings name it."""
    parts = [part for part in path.split("/") if part]
    resource = parts[1] if len(parts) > 1 else ""
    if resource == "comments":
        return "Read comments" if method == "GET" else "Insert comments"
    if resource == "users":
        return "Read user information"
    if method == "GET" or (method == "POST" and (path.endswith("/query") or resource == "search")):
        return "Read content"
    if method == "POST" and resource in ("pages", "databases", "data_sources") and not path.endswith("/move"):
        return "Insert content"
    if method == "PATCH" and path.endswith("/children"):
        return "Insert content"
    return "Update content"


def _body(response: UpstreamResponse) -> dict[str, Any] | None:
    if not response.content.lstrip().startswith(b"{"):
        return None
    try:
        data = json.loads(response.content)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def notion_error(response: UpstreamResponse) -> UpstreamError | None:
    """The error a Notion answer stands for, or None for a success (or a failure core maps by status)."""
    if response.ok:
        return None
    body = _body(response) or {}
    raw_code, raw_message = body.get("code"), body.get("message")
    code = raw_code if isinstance(raw_code, str) else None
    said = " ".join(raw_message.split())[:400] if isinstance(raw_message, str) else ""
    where = f"{response.method} {response.path}"
    detail = f": {said}" if said else ""
    common: dict[str, Any] = {"status": response.status, "provider": "notion", "upstream_code": code}
    status = response.status
    if status in (429, 529) or code in ("rate_limited", "service_overload"):
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        when = "" if retry_after is not None else "; wait a little, then retry"
        return UpstreamRateLimited(
            f"Notion's rate limit was reached ({status} {code or 'rate_limited'}) on {where}{when}.",
            retry_after=retry_after,
            **common,
        )
    if status == 401 or code == "unauthorized":
        return UpstreamAuthError(
            f"Notion rejected the credential (401){detail}; the token is invalid or the integration was removed "
            "from the workspace: reconnect Notion for this tenant (or store a new integration token).",
            **common,
        )
    if status == 403 or code == "restricted_resource":
        capability = capability_for(response.method, response.path)
        return UpstreamForbidden(
            f"Notion refused {where} (403 restricted_resource){detail}; the integration lacks the capability "
            f"`{capability}` for this: turn it on in the integration's settings (Capabilities) and reconnect, "
            "or share the page with an integration that has it.",
            missing_scopes=[capability],
            **common,
        )
    if status == 404 or code == "object_not_found":
        return UpstreamNotFound(
            f"Notion found nothing at {where} (404 object_not_found){detail}; check the id, and {SHARE_HINT}.",
            **common,
        )
    if status == 409 or code == "conflict_error":
        return UpstreamConflict(
            f"Notion reported a conflict on {where} (409){detail}; the page changed at the same time: read it "
            "again and retry the change.",
            **common,
        )
    if code == "validation_error" or status == 422:
        return UpstreamBadRequest(
            f"Notion rejected {where} (validation_error){detail}; fix the named field or property and try again.",
            **common,
        )
    if code == "missing_version":
        return UpstreamBadRequest(f"Notion refused {where}: the Notion-Version header is missing{detail}.", **common)
    if status >= 500 or code in _SERVER_CODES:
        return UpstreamServerError(
            f"Notion failed on {where} ({status} {code or 'server error'}){detail}; the problem is on Notion's side: "
            "try again later.",
            **common,
        )
    if 400 <= status < 500:
        return UpstreamBadRequest(
            f"Notion rejected {where} ({status} {code or 'bad request'}){detail}; check the arguments.", **common
        )
    return None
