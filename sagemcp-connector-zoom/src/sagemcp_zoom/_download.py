"""Downloading a recording file (a transcript) from Zoom's download host.

A file's `download_url` (`https://us06web.zoom.us/rec/download/...`) needs the tenant's
OAuth token, so its origin must be one of the connector's credential origins (the tenant's
`download_origins`, or the API's own origin): `ctx.http` then sends the token there, as it
does to the API, and refuses any other origin before anything is sent. Zoom may answer with
a redirect to a pre-signed URL on its storage host; that one is fetched with
`ctx.http.for_origin(...)`, which never carries the token, after the same address checks as
a configured URL (https, public hosts; loopback only in development).
"""

from __future__ import annotations

import httpx

from sagemcp import ToolContext, UpstreamResponse, validate_api_url
from sagemcp.errors import UpstreamBadResponse

__all__ = ["MAX_REDIRECTS", "download_text"]

MAX_REDIRECTS = 3
_REDIRECTS = (301, 302, 303, 307, 308)
_ACCEPT = {"Accept": "text/vtt, text/plain;q=0.9, */*;q=0.1"}


def _absolute(url: object) -> httpx.URL:
    try:
        target = httpx.URL(url) if isinstance(url, str) else None
    except httpx.InvalidURL:
        target = None
    if target is None or not target.is_absolute_url:
        raise UpstreamBadResponse("Zoom returned an invalid download URL; nothing was downloaded.", provider="zoom")
    return target


def _origin(url: httpx.URL) -> str:
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{url.host}{port}"


async def download_text(ctx: ToolContext, url: object, *, what: str) -> str:
    """The text of the file at Zoom's `url` (UTF-8), following Zoom's redirects to its storage host."""
    target = _absolute(url)
    if not ctx.http.sends_credentials_to(str(target)):
        raise UpstreamBadResponse(
            f"Zoom's download URL for the {what} is on {_origin(target)}, which is not one of this tenant's Zoom "
            f"download origins ({', '.join(ctx.http.origins)}); nothing was sent. If it is a Zoom host (such as the "
            f"account's vanity host), add {_origin(target)} to the zoom connector's `download_origins` "
            "configuration.",
            provider="zoom",
        )
    response = await ctx.http.get(str(target), headers=_ACCEPT, allow_error_status=_REDIRECTS)
    for _ in range(MAX_REDIRECTS):
        if response.status not in _REDIRECTS:
            return _decode(response)
        target = _redirect(response)
        if ctx.http.sends_credentials_to(str(target)):
            response = await ctx.http.get(str(target), headers=_ACCEPT, allow_error_status=_REDIRECTS)
        else:
            # A pre-signed storage URL: it authorises itself and must not see the token.
            storage = ctx.http.for_origin(_origin(target))
            response = await storage.get(str(target), headers=_ACCEPT, allow_error_status=_REDIRECTS)
    if response.status in _REDIRECTS:
        raise UpstreamBadResponse(
            f"Zoom redirected the {what} download more than {MAX_REDIRECTS} times; try again later.", provider="zoom"
        )
    return _decode(response)


def _redirect(response: UpstreamResponse) -> httpx.URL:
    location = response.headers.get("location")
    if not location:
        raise UpstreamBadResponse("Zoom redirected the download without a location; try again later.", provider="zoom")
    target = _absolute(str(httpx.URL(response.url).join(location)))
    try:
        validate_api_url(str(target.copy_with(query=None, fragment=None)), example="https://zoom.us", field="redirect")
    except ValueError as exc:
        raise UpstreamBadResponse(
            f"Zoom redirected the download to a URL that is not allowed ({exc}); nothing was fetched from it.",
            provider="zoom",
        ) from None
    return target


def _decode(response: UpstreamResponse) -> str:
    return response.content.decode("utf-8", errors="replace")
