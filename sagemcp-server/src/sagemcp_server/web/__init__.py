"""The server's pages for people: sign-in, invitations and the account page (server-rendered, no JavaScript)."""

from __future__ import annotations

from starlette.routing import BaseRoute

__all__ = ["web_routes"]


def web_routes() -> list[BaseRoute]:
    """The sign-in, sign-out, account, invitation and OpenID Connect routes."""
    from .oidc import oidc_routes
    from .pages import page_routes

    return [*page_routes(), *oidc_routes()]
