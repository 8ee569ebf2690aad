"""Calling Slack Web API methods with the encoding each one wants.

- Reads go as `GET /<method>?...` (query string): idempotent, so core may retry them
  on 429 (after `Retry-After`) and on dropped connections.
- Writes go as `POST /<method>` with a JSON body, `Content-Type: application/json;
  charset=utf-8` (without the charset Slack adds a `missing_charset` warning) and the
  token in the `Authorization` header (Slack does not read it from JSON bodies). They
  are never retried.
- A few methods only take form fields (`files.getUploadURLExternal`,
  `files.completeUploadExternal`): `write_form` posts `application/x-www-form-urlencoded`.

`ok: false` answers never get here as data: the connector's `check_response` turns them
into `UpstreamError`s first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

from sagemcp import ToolContext, UpstreamResponse

__all__ = ["JSON_CONTENT_TYPE", "obj", "read", "read_list", "read_response", "write", "write_form"]

JSON_CONTENT_TYPE = "application/json; charset=utf-8"

T = TypeVar("T")


def obj(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one (Slack's optional nested objects)."""
    return value if isinstance(value, dict) else {}


def _query(params: Mapping[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, list | tuple):
            out[key] = ",".join(str(item) for item in value)
        else:
            out[key] = value
    return out


async def read(ctx: ToolContext, method: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Call a read method with GET and return its JSON object."""
    response = await ctx.http.get(f"/{method}", params=_query(params))
    return response.json_object()


async def read_list(
    ctx: ToolContext, method: str, key: str, of: type[T], params: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], list[T]]:
    """Call a list method with GET: its JSON object, and the items of type `of` in its `key` list.

    A missing `key` list is an unexpected answer (`UpstreamUnexpectedShape`), not an empty page.
    """
    response = await ctx.http.get(f"/{method}", params=_query(params))
    return response.json_object(), response.json_list(key, of=of)


async def read_response(
    ctx: ToolContext, method: str, params: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], UpstreamResponse]:
    """Like `read`, and the response too (for headers such as `X-OAuth-Scopes`)."""
    response = await ctx.http.get(f"/{method}", params=_query(params))
    return response.json_object(), response


async def write(ctx: ToolContext, method: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """Call a write method with a JSON body (never retried) and return its JSON object."""
    payload = {key: value for key, value in body.items() if value is not None}
    response = await ctx.http.post(
        f"/{method}",
        content=json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
        headers={"Content-Type": JSON_CONTENT_TYPE},
    )
    return response.json_object()


async def write_form(ctx: ToolContext, method: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Call a method that takes form fields only (never retried) and return its JSON object."""
    response = await ctx.http.post(f"/{method}", data=_query(fields))
    return response.json_object()
