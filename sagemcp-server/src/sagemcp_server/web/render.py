"""`render(request, template, **context)`: one Jinja2 environment for every HTML page of the server.

Autoescaping is on for every template. Pages get `csrf_token` (the signed-in person's, once
`current_user` was awaited, or the sign-in form's) and `signed_in`, and are sent with headers
that keep them out of caches and frames and forbid any script: the pages work without JavaScript.
A variable a template uses but the caller did not pass is an error (`StrictUndefined`), not an
empty string: test with `{% if x is defined %}` where a variable is optional.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from .session import form_csrf_token, set_pending_cookies

__all__ = ["PAGE_HEADERS", "allow_form_redirect", "render", "stylesheet"]

_HERE = Path(__file__).parent
_ENV = Environment(
    loader=FileSystemLoader(_HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_CSS = (_HERE / "static" / "style.css").read_text(encoding="utf-8")
_ENV.globals["stylesheet"] = _CSS

PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}
"""Headers of every page: not cached, not framed, no scripts; forms post to this server only."""


def stylesheet() -> str:
    """The pages' CSS (inlined into `base.html`, so there is no asset to serve or cache)."""
    return _CSS


def render(request: Request, template_name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """The named template under `web/templates/` rendered as a page, with the standard page headers."""
    context.setdefault("csrf_token", form_csrf_token(request))
    context.setdefault("signed_in", getattr(request.state, "signed_in_user", None))
    context.setdefault("title", "sagemcp")
    context["request"] = request
    html = _ENV.get_template(template_name).render(**context)
    response = HTMLResponse(html, status_code=status_code, headers=dict(PAGE_HEADERS))
    set_pending_cookies(request, response)
    return response


def allow_form_redirect(response: Response, url: str) -> Response:
    """Let the page's forms lead to `url`'s origin (or, for a custom scheme such as `cursor://`, that scheme)
    as well as to this server.

    Browsers apply CSP `form-action` to the redirects that follow a form submission too: a POST answered
    with a redirect to another site (the provider's authorization page after Connect, an MCP client's
    redirect URI after Allow) is blocked by a bare `form-action 'self'` (Chromium stays on the page).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if not scheme or not scheme.isascii() or not all(c.isalnum() or c in "+-." for c in scheme):
        return response
    if scheme in ("http", "https"):
        host = parts.netloc.rpartition("@")[2]  # a host-source has no user information
        if not host or any(c in host for c in " ;,'\"\\"):
            return response
        source = f"{scheme}://{host}"
    else:
        source = f"{scheme}:"
    policy = response.headers.get("content-security-policy", "")
    if "form-action 'self'" in policy:
        response.headers["content-security-policy"] = policy.replace(
            "form-action 'self'", f"form-action 'self' {source}", 1
        )
    return response
