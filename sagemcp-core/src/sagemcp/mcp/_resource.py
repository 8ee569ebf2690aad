"""The MCP endpoints as OAuth protected resources: canonical resource URLs, RFC 9728 metadata, challenges.

Every MCP endpoint is its own protected resource. Its canonical resource URL (RFC 8707,
what a token's audience names) is the endpoint's `/mcp` URL; the `.../sse`,
`.../messages/` and `.../ws` transports of the same endpoint share it. Its metadata
lives at the RFC 9728 §3.1 path-aware well-known URL:
`https://host/.well-known/oauth-protected-resource` followed by the endpoint's path.

URLs are built from `McpSettings.public_url` when it is set, otherwise from the ASGI
scope's scheme, server address and root path; never from the `Host` header, which the
caller controls.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

from mcp.server.auth.json_response import PydanticJSONResponse
from mcp.shared.auth import ProtectedResourceMetadata
from pydantic import ValidationError
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, request_response
from starlette.types import Scope

from .._models import SLUG_PATTERN

if TYPE_CHECKING:
    from ._settings import McpSettings

__all__ = [
    "WELL_KNOWN_PATH",
    "canonical_resource",
    "challenge",
    "endpoint_path",
    "protected_resource_routes",
    "resource_metadata_url",
    "same_resource",
    "scope_base_url",
]

WELL_KNOWN_PATH = "/.well-known/oauth-protected-resource"
_SLUG_RE = re.compile(SLUG_PATTERN)
_DEFAULT_PORTS = {"http": 80, "https": 443}


@functools.lru_cache(maxsize=1024)  # every request needs its endpoint's URL; quoting costs more than the look-up
def endpoint_path(tenant: str, connector: str | None = None) -> str:
    """The path of an endpoint inside the MCP app: `/{tenant}/mcp` or `/{tenant}/connectors/{connector}/mcp`."""
    if connector is None:
        return f"/{quote(tenant, safe='')}/mcp"
    return f"/{quote(tenant, safe='')}/connectors/{quote(connector, safe='')}/mcp"


def scope_base_url(scope: Scope) -> str:
    """`scheme://server-address` plus the scope's root path, from the ASGI scope only (no request headers).

    The server address is the socket the request arrived on, so behind a proxy or with
    several host names set `McpSettings.public_url` instead.
    """
    given: str = scope.get("scheme", "http")
    scheme = {"ws": "http", "wss": "https"}.get(given, given)
    server = scope.get("server") or ("localhost", None)
    host: str = server[0]
    port: int | None = server[1]
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    return f"{scheme}://{netloc}{scope.get('root_path', '')}".rstrip("/")


def canonical_resource(url: str) -> str:
    """`url` spelled the one way resource URLs are compared here: scheme and host in lower case, no default
    port, no trailing slash, no fragment. Raises ValueError for anything but an absolute http(s) URL."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"{url!r} is not an absolute http:// or https:// URL")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path.rstrip("/"), parts.query, ""))


def same_resource(a: str, b: str) -> bool:
    """Whether two resource URLs name the same resource (compared canonically; malformed ones never match)."""
    try:
        return canonical_resource(a) == canonical_resource(b)
    except ValueError:
        return False


def resource_metadata_url(resource: str) -> str:
    """The RFC 9728 §3.1 metadata URL of a resource: the well-known path inserted between host and path."""
    parts = urlsplit(resource)
    path = parts.path if parts.path != "/" else ""
    return urlunsplit((parts.scheme, parts.netloc, WELL_KNOWN_PATH + path, parts.query, ""))


def challenge(
    *,
    realm: str,
    scopes: list[str],
    metadata_url: str | None = None,
    error: str | None = None,
    description: str | None = None,
) -> str:
    """A `WWW-Authenticate: Bearer` challenge (RFC 6750 §3, RFC 9728 §5.1)."""
    params = [("realm", realm)]
    if error is not None:
        params.append(("error", error))
    if description is not None:
        params.append(("error_description", description))
    params.append(("scope", " ".join(scopes)))
    if metadata_url is not None:
        params.append(("resource_metadata", metadata_url))
    return "Bearer " + ", ".join(f'{name}="{_quoted(value)}"' for name, value in params)


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def protected_resource_routes(settings: McpSettings, mount_prefix: str = "") -> list[BaseRoute]:
    """Routes serving the RFC 9728 metadata of every MCP endpoint, for the root of the host application.

    `mount_prefix` is where the host mounts the MCP app (the server: `/api/v1`), so the
    tenant-wide endpoint `/api/v1/{tenant}/mcp` has its metadata at
    `/.well-known/oauth-protected-resource/api/v1/{tenant}/mcp`; each transport's path
    (`.../sse`, `.../messages/`, `.../ws`) has the same document. The answer does not depend
    on whether the tenant or connector exists. No routes when `settings.authorization_servers`
    is empty: without an authorization server there is nothing to advertise.
    """
    if not settings.authorization_servers:
        return []
    prefix = mount_prefix.rstrip("/")
    if prefix and not prefix.startswith("/"):
        raise ValueError("mount_prefix must be empty or start with '/'")
    suffixes = ["/mcp"]
    if settings.legacy_sse:
        suffixes += ["/sse", "/messages/"]
    if settings.websocket:
        suffixes.append("/ws")
    endpoint = _cors(request_response(_MetadataEndpoint(settings, prefix)))
    routes: list[BaseRoute] = []
    for base in ("/{tenant}/connectors/{connector}", "/{tenant}"):
        for suffix in suffixes:
            routes.append(Route(WELL_KNOWN_PATH + prefix + base + suffix, endpoint, methods=["GET", "OPTIONS"]))
    return routes


def _cors(app: Any) -> Any:
    # Browser-based clients (inspectors) read the metadata from other origins; it is public.
    return CORSMiddleware(app, allow_origins=["*"], allow_methods=["GET", "OPTIONS"], allow_headers=["*"])


class _MetadataEndpoint:
    def __init__(self, settings: McpSettings, mount_prefix: str) -> None:
        self.settings = settings
        self.mount_prefix = mount_prefix

    async def __call__(self, request: Request) -> Response:
        tenant = request.path_params["tenant"]
        connector = request.path_params.get("connector")
        if not _SLUG_RE.match(tenant) or (connector is not None and not _SLUG_RE.match(connector)):
            return _not_found()
        settings = self.settings
        base = settings.public_url or scope_base_url(request.scope) + self.mount_prefix
        try:
            metadata = ProtectedResourceMetadata(
                resource=base + endpoint_path(tenant, connector),  # type: ignore[arg-type]
                authorization_servers=settings.authorization_servers,  # type: ignore[arg-type]
                scopes_supported=list(settings.resource_scopes),
                bearer_methods_supported=["header"],
                resource_name=settings.resource_name,
                resource_documentation=settings.resource_documentation,  # type: ignore[arg-type]
            )
        except ValidationError:
            return _not_found()
        return PydanticJSONResponse(metadata, headers={"Cache-Control": "public, max-age=300"})


def _not_found() -> Response:
    return JSONResponse({"error": "not_found", "error_description": "No MCP endpoint has this path."}, 404)
