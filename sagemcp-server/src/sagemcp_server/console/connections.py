"""Every member's own pages: their connections per tenant, and the client configuration to paste.

`/console/connections` lists the signed-in person's own connections in every tenant they belong
to (`api.my_connections.my_connections`, the same function `GET /api/v1/me/connections` answers
with). `/console/t/{slug}/connections` shows one tenant: its `per_user` connectors with Connect
or Reconnect (the connect page of `web/connect.py` starts the provider's flow), Disconnect
(`web.connect.disconnect_member`: revoked at the provider, then deleted), and the ready-to-paste
configuration of claude.ai, Claude Desktop, Claude Code, Cursor and VS Code for the tenant-wide
endpoint and for each connector's own endpoint, built from the server's public URL. The copy
buttons are `static/copy.js`; without JavaScript the snippets are still selectable text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from ..api.my_connections import my_connections
from ..web.connect import disconnect_member
from ._shell import ConsoleUser, form, go, nav, page, route, services_of, tenant_page

__all__ = ["Snippet", "client_snippets", "routes"]


@dataclass(frozen=True)
class Snippet:
    """One client's configuration for one endpoint: what to do, and the text to paste (None: only steps)."""

    client: str
    steps: str
    text: str | None
    language: str = "json"


def _json(value: object) -> str:
    return json.dumps(value, indent=2)


def client_snippets(name: str, url: str) -> list[Snippet]:
    """The OAuth configuration of each supported client for the endpoint `url`, named `name` in the client.

    The same content as docs/connecting-clients.md (a test compares them): OAuth needs no secret in any
    file, and the client registers itself with the server's authorization server.
    """
    return [
        Snippet(
            "claude.ai",
            "Settings → Connectors → Add custom connector: give it a name, paste the URL, choose Add, then "
            "Connect and Allow on the consent page.",
            url,
            "text",
        ),
        Snippet(
            "Claude Desktop",
            "Remote connectors are added in Claude Desktop's Settings → Connectors, like on claude.ai (not in "
            "claude_desktop_config.json); the same connector appears in both.",
            url,
            "text",
        ),
        Snippet(
            "Claude Code",
            "Run the command, then /mcp in Claude Code, select the server and choose Authenticate.",
            f"claude mcp add --transport http {name} {url}",
            "shell",
        ),
        Snippet(
            "Cursor",
            "In ~/.cursor/mcp.json (or .cursor/mcp.json in a project); choose the server in Cursor's MCP settings "
            "to sign in.",
            _json({"mcpServers": {name: {"url": url}}}),
        ),
        Snippet(
            "VS Code",
            "In .vscode/mcp.json of your workspace (or your user configuration); start the server from the file "
            "and allow it to sign in.",
            _json({"servers": {name: {"type": "http", "url": url}}}),
        ),
    ]


@dataclass(frozen=True)
class _Endpoint:
    label: str
    name: str
    url: str
    snippets: list[Snippet]


async def all_connections(request: Request, user: ConsoleUser) -> Response:
    """The signed-in person's own connections in every tenant they belong to."""
    mine = await my_connections(services_of(request), user.user.id)
    return page(
        request,
        user,
        "console/my_connections.html",
        title="Your connections",
        items=mine.items,
        connectors=mine.connectors,
    )


async def tenant_connections(request: Request, user: ConsoleUser) -> Response:
    """One tenant: the member's own connections, what they can connect, and the client configuration."""
    tenant = (await tenant_page(request, user, admin=False)).item
    services = services_of(request)
    mine = await my_connections(services, user.user.id)
    items = [i for i in mine.items if i.tenant == tenant.slug]
    connectors = [c for c in mine.connectors if c.tenant == tenant.slug]
    by_provider = {i.provider: i for i in items}
    endpoints = [_Endpoint("Every connector (tenant-wide)", tenant.slug, services.mcp_url(tenant.slug), [])]
    for config in sorted(await services.store.list_connectors(tenant.id), key=lambda c: c.name):
        if config.enabled:
            endpoints.append(
                _Endpoint(
                    f"Connector {config.name}",
                    f"{tenant.slug}-{config.name}",
                    services.mcp_url(tenant.slug, config.name),
                    [],
                )
            )
    endpoints = [_Endpoint(e.label, e.name, e.url, client_snippets(e.name, e.url)) for e in endpoints]
    return page(
        request,
        user,
        "console/connections.html",
        title=f"Connections · {tenant.slug}",
        tenant=tenant,
        items=items,
        connectors=connectors,
        by_provider=by_provider,
        endpoints=endpoints,
    )


async def disconnect(request: Request, user: ConsoleUser) -> Response:
    """Disconnect the member's own account of one provider in this tenant (never anyone else's)."""
    fields = await form(request)
    tenant = (await tenant_page(request, user, admin=False)).item
    provider = fields.get("provider", "")[:64]
    back = f"/console/t/{tenant.slug}/connections"
    if not provider or not await disconnect_member(services_of(request), tenant, provider, user.user.id):
        return go(back, f"You have no {provider or 'such'} connection in {tenant.slug}.")
    return go(back, f"Your {provider} account is disconnected from {tenant.slug}.")


nav("My connections", "/console/connections", "signed_in", order=90)
nav("Connections", "/console/t/{slug}/connections", "tenant_member", order=20)

routes: list[BaseRoute] = [
    route("/connections", all_connections, ["GET"], "console.myConnections"),
    route("/t/{slug}/connections", tenant_connections, ["GET"], "console.tenantConnections"),
    route("/t/{slug}/connections/disconnect", disconnect, ["POST"], "console.disconnect"),
]
