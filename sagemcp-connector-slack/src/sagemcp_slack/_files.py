"""Slack's file host, `files.slack.com`: where uploads go and canvases are downloaded from.

A file upload has three steps: `files.getUploadURLExternal` returns an `upload_url` on
`files.slack.com`; the bytes are POSTed there; `files.completeUploadExternal` finishes it.
Reading a canvas downloads its `url_private`, also on `files.slack.com`.

The connector declares `FILES_ORIGIN` as a credential origin, so both requests go through
`ctx.http` and core adds the tenant's token to them, as it does for the API (Slack's own
SDKs send the token with the upload too). Any other origin is refused by core before
anything is sent; `check_file_url` refuses it first with a Slack-specific message, so the
model learns that Slack, not the tool, handed out the odd URL.
"""

from __future__ import annotations

import httpx

from sagemcp import ToolContext
from sagemcp.errors import UpstreamBadResponse

__all__ = ["FILES_ORIGIN", "check_file_url"]

FILES_ORIGIN = "https://files.slack.com"
"""Slack's file host (uploads, private downloads): it receives the token like the API."""


def check_file_url(ctx: ToolContext, url: object) -> str:
    """`url` normalised, if `ctx.http` would send it with the token (Slack's file host, or the API's own
    origin for a local fake Slack); `UpstreamBadResponse`, with nothing sent, if not."""
    try:
        target = httpx.URL(url) if isinstance(url, str) else None
    except httpx.InvalidURL:
        target = None
    if target is None or not target.is_absolute_url:
        raise UpstreamBadResponse("Slack returned an invalid file URL; nothing was sent.", provider="slack")
    if not ctx.http.sends_credentials_to(str(target)):
        raise UpstreamBadResponse(
            f"Slack returned a file URL on {target.scheme}://{target.host}, which is not a Slack host; "
            "nothing was sent there.",
            provider="slack",
        )
    return str(target)
