"""OAuth clients of the authorization server: what a client may register, and how redirect URIs match.

Redirect URIs are compared exactly (as URLs: scheme and host case, default ports and an
empty path are normalised the same way on both sides), with one exception from RFC 8252
§7.3: for a loopback redirect URI (`http://127.0.0.1:<port>/...`, `http://[::1]:<port>/...`,
`http://localhost:<port>/...`) the port is not compared, since native apps listen on
whatever port the system gives them. Host, path and query still must match.

What a client may register (RFC 7591, checked before anything is stored):

- redirect URIs: `https://` URLs, `http://` ones only on loopback hosts, or a private-use
  scheme of a native app (`cursor://...`, `com.example.app:/callback`), never a fragment,
  never schemes that run or embed content (`javascript:`, `data:`, `file:`...); at most
  `MAX_REDIRECT_URIS`, each at most `MAX_URI_CHARS` characters;
- grant types `authorization_code` (required) and `refresh_token`, response type `code`;
- token endpoint authentication `none`, `client_secret_post` or `client_secret_basic`;
- names and URLs of bounded length.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from mcp.server.auth.provider import RegistrationErrorCode
from mcp.shared.auth import InvalidRedirectUriError, OAuthClientInformationFull, OAuthClientMetadata
from pydantic import AnyUrl, ValidationError

__all__ = [
    "AUTH_METHODS",
    "MAX_REDIRECT_URIS",
    "MAX_URI_CHARS",
    "McpClient",
    "checked_metadata",
    "display_host",
    "redirect_uri_problem",
    "registration_problem",
]

MAX_REDIRECT_URIS = 10
MAX_URI_CHARS = 512
_MAX_NAME_CHARS = 200
_MAX_CONTACTS = 10
AUTH_METHODS = ("none", "client_secret_post", "client_secret_basic")
_GRANT_TYPES = frozenset({"authorization_code", "refresh_token"})
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
_SCHEME_RE = re.compile(r"^[a-z][a-z0-9+.-]*$")
_FORBIDDEN_SCHEMES = frozenset(
    {"javascript", "data", "file", "vbscript", "about", "blob", "filesystem", "ftp", "ws", "wss", "mailto", "tel"}
)


def _is_loopback(url: AnyUrl) -> bool:
    return url.scheme == "http" and (url.host or "").strip("[]") in _LOOPBACK_HOSTS


def _same_ignoring_port(a: AnyUrl, b: AnyUrl) -> bool:
    return (
        a.scheme == b.scheme
        and (a.host or "").lower() == (b.host or "").lower()
        and (a.path or "/") == (b.path or "/")
        and (a.query or "") == (b.query or "")
        and a.username is None
        and b.username is None
    )


class McpClient(OAuthClientInformationFull):
    """A client as the SDK's handlers see it, with the loopback port rule of RFC 8252 §7.3.

    `kind` says where it came from: `registered` (RFC 7591), `document` (its id is
    the URL of its Client ID Metadata Document) or `preregistered` (by an operator).
    """

    kind: str = "registered"

    def validate_redirect_uri(self, redirect_uri: AnyUrl | None) -> AnyUrl:
        registered = list(self.redirect_uris or [])
        if redirect_uri is None:
            if len(registered) == 1:
                return registered[0]
            raise InvalidRedirectUriError("redirect_uri must be given: the client has several registered")
        if len(str(redirect_uri)) > MAX_URI_CHARS:
            raise InvalidRedirectUriError("redirect_uri is too long")
        for candidate in registered:
            if str(candidate) == str(redirect_uri):
                return redirect_uri
            if _is_loopback(candidate) and _is_loopback(redirect_uri) and _same_ignoring_port(candidate, redirect_uri):
                return redirect_uri
        raise InvalidRedirectUriError(
            "redirect_uri is not one of the client's registered redirect URIs (they are compared exactly; only the "
            "port of a loopback URI may differ)"
        )


def redirect_uri_problem(uri: str) -> str | None:
    """Why `uri` may not be registered as a redirect URI, or None when it may."""
    if len(uri) > MAX_URI_CHARS:
        return f"a redirect URI is longer than {MAX_URI_CHARS} characters"
    if any(ord(c) < 0x21 or c in "\\\x7f" for c in uri):
        return "a redirect URI contains spaces, backslashes or control characters"
    try:
        parts = urlsplit(uri)
    except ValueError:
        return f"{uri!r} is not a valid URL"
    scheme = parts.scheme.lower()
    if not scheme or not _SCHEME_RE.match(scheme):
        return f"{uri!r} has no valid scheme"
    if parts.fragment or "#" in uri:
        return f"{uri!r} has a fragment, which redirect URIs must not have (RFC 6749 §3.1.2)"
    if scheme in _FORBIDDEN_SCHEMES:
        return f"{uri!r} uses the {scheme}: scheme, which cannot receive an authorization response"
    if scheme in ("http", "https"):
        if not parts.hostname:
            return f"{uri!r} has no host"
        if parts.username is not None or parts.password is not None:
            return f"{uri!r} contains a user name or password"
        if scheme == "http" and parts.hostname.lower() not in _LOOPBACK_HOSTS:
            return f"{uri!r} uses http:// on a host other than loopback; use https:// (RFC 8252 §8.3)"
        return None
    # A private-use scheme of a native app (RFC 8252 §7.1), such as cursor://anysphere.cursor-retrieval/...
    if "." not in scheme and not (parts.netloc or parts.path):
        return f"{uri!r} is not a usable redirect URI"
    return None


def registration_problem(
    metadata: OAuthClientMetadata | OAuthClientInformationFull,
) -> tuple[RegistrationErrorCode, str] | None:
    """Why the server will not register a client with this metadata, as an RFC 7591 §3.2.2 error code and a
    description, or None."""
    uris = [str(u) for u in metadata.redirect_uris or []]
    if not uris:
        return "invalid_redirect_uri", "redirect_uris must list at least one redirect URI"
    if len(uris) > MAX_REDIRECT_URIS:
        return "invalid_redirect_uri", f"redirect_uris may list at most {MAX_REDIRECT_URIS} redirect URIs"
    for uri in uris:
        problem = redirect_uri_problem(uri)
        if problem is not None:
            return "invalid_redirect_uri", problem
    problem = _metadata_problem(metadata)
    return ("invalid_client_metadata", problem) if problem is not None else None


def _metadata_problem(metadata: OAuthClientMetadata | OAuthClientInformationFull) -> str | None:
    unsupported = sorted(set(metadata.grant_types) - _GRANT_TYPES)
    if unsupported:
        return f"grant_types {unsupported} are not supported; use authorization_code and refresh_token"
    if "authorization_code" not in metadata.grant_types:
        return "grant_types must include authorization_code"
    if any(t != "code" for t in metadata.response_types):
        return "response_types must be ['code']"
    method = metadata.token_endpoint_auth_method
    if method is not None and method not in AUTH_METHODS:
        return f"token_endpoint_auth_method must be one of {', '.join(AUTH_METHODS)}"
    if metadata.client_name is not None and len(metadata.client_name) > _MAX_NAME_CHARS:
        return f"client_name is longer than {_MAX_NAME_CHARS} characters"
    for field in ("client_uri", "logo_uri", "tos_uri", "policy_uri", "jwks_uri"):
        value = getattr(metadata, field)
        if value is not None and len(str(value)) > MAX_URI_CHARS:
            return f"{field} is longer than {MAX_URI_CHARS} characters"
    if metadata.contacts is not None and (
        len(metadata.contacts) > _MAX_CONTACTS or any(len(c) > 320 for c in metadata.contacts)
    ):
        return f"contacts may list at most {_MAX_CONTACTS} addresses of at most 320 characters"
    if metadata.jwks is not None:
        return "jwks is not supported: this server authenticates clients with a secret or not at all"
    for field in ("software_id", "software_version"):
        value = getattr(metadata, field)
        if value is not None and len(value) > _MAX_NAME_CHARS:
            return f"{field} is longer than {_MAX_NAME_CHARS} characters"
    return None


def checked_metadata(data: dict[str, Any]) -> dict[str, Any]:
    """RFC 7591 client metadata validated by the SDK's model and the rules above, as JSON; `ValueError` saying
    what is wrong (for clients an operator registers)."""
    try:
        metadata = OAuthClientMetadata.model_validate(data)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors(include_input=False)})
        raise ValueError(f"invalid client metadata: {', '.join(fields)}") from None
    problem = registration_problem(metadata)
    if problem is not None:
        raise ValueError(problem[1])
    return metadata.model_dump(mode="json", exclude_none=True)


def display_host(url: Any) -> str | None:
    """The host of a URL for showing to people (`claude.ai`), or None."""
    if url is None:
        return None
    try:
        host = urlsplit(str(url)).hostname
    except ValueError:
        return None
    return host or None
