"""Requests to Slack's file host, which is not the API host a call's client is bound to.

A file upload has three steps: `files.getUploadURLExternal` returns an `upload_url` on
`files.slack.com`; the bytes are POSTed there (no token: the URL itself authorizes the
upload); `files.completeUploadExternal` finishes it. Reading a canvas downloads its
`url_private`, also on `files.slack.com`, with the token.

Core's `BoundClient` refuses absolute URLs on any host but its own, so that a token is
never sent elsewhere. `file_client` is the one seam that reaches another host: it
accepts only https URLs on `slack.com` or its subdomains (or, for development, the
origin of the configured `api_url`), and binds a client on the same shared connection
pool to exactly that origin, with the token only when asked (`authenticated=True`).
"""

from __future__ import annotations

import httpx

from sagemcp.context import ToolContext
from sagemcp.errors import UpstreamBadResponse
from sagemcp.upstream import BoundClient

from ._api import config_of

__all__ = ["check_file_url", "file_client"]


def check_file_url(ctx: ToolContext, url: str) -> httpx.URL:
    """`url` parsed, if it is on a Slack file host (or the configured API origin); `UpstreamBadResponse` if not."""
    try:
        target = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise UpstreamBadResponse("Slack returned an invalid file URL; nothing was sent.", provider="slack") from None
    api = httpx.URL(config_of(ctx).api_url)
    host = target.host.lower()
    slack_host = (
        target.scheme == "https"
        and (host == "slack.com" or host.endswith(".slack.com"))
        and target.port in (None, 443)
        and not target.userinfo
    )
    same_origin = (target.scheme, host, target.port) == (api.scheme, api.host.lower(), api.port)
    if not (slack_host or same_origin):
        raise UpstreamBadResponse(
            f"Slack returned a file URL on {target.scheme}://{host}, which is not a Slack host; "
            "nothing was sent there.",
            provider="slack",
        )
    return target


def file_client(ctx: ToolContext, url: str, *, authenticated: bool) -> tuple[BoundClient, str]:
    """A client for the origin of `url` (checked by `check_file_url`), and `url` normalised.

    Without `authenticated` the client sends no credential at all.
    """
    target = check_file_url(ctx, url)
    headers: dict[str, str] = {}
    if authenticated and ctx.credential is not None:
        # Both of the connector's schemes (OAuth2 and BearerToken) send `Authorization: Bearer`.
        headers["Authorization"] = f"Bearer {ctx.credential.access_token.get_secret_value()}"
    origin = f"{target.scheme}://{target.netloc.decode('ascii')}/"
    return ctx.http.for_origin(origin, headers=headers), str(target)
