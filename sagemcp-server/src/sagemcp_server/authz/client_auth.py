"""Client authentication at the token and revocation endpoints (RFC 6749 §2.3.1), against stored digests.

The SDK's own `ClientAuthenticator` compares the presented secret with a plaintext secret
on the client record; this server keeps only the SHA-256 of each client secret, so this
subclass compares digests instead (in constant time). Public clients (`none`: metadata
documents and registrations that asked for it) present no secret.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING
from urllib.parse import unquote

from mcp.server.auth.middleware.client_auth import AuthenticationError, ClientAuthenticator
from mcp.shared.auth import OAuthClientInformationFull
from starlette.requests import Request

from . import tokens

if TYPE_CHECKING:
    from .provider import AuthorizationProvider

__all__ = ["DigestClientAuthenticator"]

_MAX_SECRET_CHARS = 256


class DigestClientAuthenticator(ClientAuthenticator):
    """Authenticates the client of a token or revocation request; `AuthenticationError` says why not."""

    def __init__(self, provider: AuthorizationProvider) -> None:
        super().__init__(provider)
        self.authz = provider

    async def authenticate_request(self, request: Request) -> OAuthClientInformationFull:
        form = await request.form()
        client_id = form.get("client_id")
        header = request.headers.get("authorization", "")
        basic: tuple[str, str] | None = None
        if header[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise AuthenticationError("Invalid Basic authentication header") from None
            if ":" not in decoded:
                raise AuthenticationError("Invalid Basic authentication header")
            name, _, secret = decoded.partition(":")
            basic = unquote(name), unquote(secret)
        if not isinstance(client_id, str) or not client_id:
            if basic is None:
                raise AuthenticationError("Missing client_id")
            client_id = basic[0]
        if basic is not None and basic[0] != client_id:
            raise AuthenticationError("Client ID mismatch in Basic auth")
        client = await self.authz.get_client(client_id)
        if client is None:
            raise AuthenticationError("Invalid client_id")
        method = client.token_endpoint_auth_method or "client_secret_post"
        if method == "none":
            return client
        if method == "client_secret_basic":
            if basic is None:
                raise AuthenticationError("This client authenticates with HTTP Basic (client_secret_basic)")
            presented: str | None = basic[1]
        elif method == "client_secret_post":
            value = form.get("client_secret")
            presented = value if isinstance(value, str) else None
            if presented is None and basic is not None:
                presented = basic[1]
        else:
            raise AuthenticationError(f"Unsupported client authentication method {method!r}")
        if not presented or len(presented) > _MAX_SECRET_CHARS:
            raise AuthenticationError("Client secret is required")
        stored = await self.authz.client_secret_digest(client.client_id)
        if stored is None or not tokens.matches(presented, stored):
            raise AuthenticationError("Invalid client_secret")
        return client
