"""The authorization server's endpoints at the root of the server, built on the MCP SDK's handlers.

- `GET /.well-known/oauth-authorization-server`: RFC 8414 metadata, issuer = the public base
  URL, with `client_id_metadata_document_supported` and `authorization_response_iss_parameter_supported`;
- `GET|POST /authorize` (the SDK's handler: PKCE S256 only); every redirect back to the
  client carries `iss` (RFC 9207);
- `POST /token` (the SDK's handler: authorization code with PKCE, refresh token);
- `POST /register` (the SDK's RFC 7591 handler), bounded per address and in total;
- `POST /revoke` (RFC 7009; any token of a grant revokes the grant);
- `GET|POST /oauth/consent`: the consent page (`authz.consent`).

No OpenID Connect discovery document is served: this server issues access tokens for its
MCP endpoints, never ID tokens, so `/.well-known/openid-configuration` would promise
what it does not do. Clients find the RFC 8414 document first.

Request bodies of these endpoints are capped at 64 KiB.
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from mcp.server.auth.handlers.authorize import AuthorizationHandler
from mcp.server.auth.handlers.metadata import MetadataHandler
from mcp.server.auth.handlers.register import RegistrationHandler
from mcp.server.auth.handlers.token import TokenHandler
from mcp.server.auth.middleware.client_auth import AuthenticationError
from mcp.server.auth.provider import construct_redirect_uri
from mcp.server.auth.routes import build_metadata
from mcp.server.auth.settings import ClientRegistrationOptions, RevocationOptions
from mcp.server.transport_security import RequestBodyLimitMiddleware
from mcp.shared.auth import OAuthMetadata
from pydantic import AnyHttpUrl
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, request_response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sagemcp.errors import StoreError

from . import tokens
from .client_auth import DigestClientAuthenticator
from .consent import ConsentPage
from .provider import CONSENT_PATH, AuthorizationProvider, registering_address
from .store import RegistrationLimitReached

if TYPE_CHECKING:
    from ..services import Services

__all__ = ["MAX_BODY_BYTES", "METADATA_PATH", "authorization_server_metadata", "authorization_server_routes"]

logger = logging.getLogger("sagemcp_server.authz")

METADATA_PATH = "/.well-known/oauth-authorization-server"
MAX_BODY_BYTES = 64 * 1024
AUTH_METHODS = ["none", "client_secret_post", "client_secret_basic"]
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def authorization_server_metadata(issuer: str, scopes: list[str]) -> OAuthMetadata:
    """The RFC 8414 document: the SDK's, plus what it does not say on its own."""
    built = build_metadata(
        AnyHttpUrl(issuer),
        None,
        ClientRegistrationOptions(enabled=True, valid_scopes=scopes, default_scopes=["mcp"]),
        RevocationOptions(enabled=True),
    )
    data = built.model_dump(mode="json", exclude_none=True)
    data.update(
        issuer=issuer,  # exactly the public base URL, no trailing slash: clients compare issuers as strings
        token_endpoint_auth_methods_supported=AUTH_METHODS,
        revocation_endpoint_auth_methods_supported=AUTH_METHODS,
        client_id_metadata_document_supported=True,
        authorization_response_iss_parameter_supported=True,
    )
    return OAuthMetadata.model_validate(data)


def _cors(app: ASGIApp, methods: list[str]) -> ASGIApp:
    # Browser-based clients (inspectors) call these endpoints from other origins; they carry no cookies.
    return CORSMiddleware(app, allow_origins=["*"], allow_methods=methods, allow_headers=["*"])


def _limited(app: ASGIApp) -> ASGIApp:
    return RequestBodyLimitMiddleware(app, MAX_BODY_BYTES)


class _IssuerInRedirects:
    """Adds `iss` (RFC 9207) to every redirect of the authorization endpoint back to a client (error
    responses included); the redirect to the consent page, which is this server's own, is left alone."""

    def __init__(self, app: ASGIApp, issuer: str) -> None:
        self.app = app
        self.issuer = issuer
        self.consent = issuer + CONSENT_PATH

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_iss(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (302, 303):
                headers = MutableHeaders(scope=message)
                location = headers.get("location", "")
                if location and not location.startswith(self.consent + "?"):
                    headers["location"] = construct_redirect_uri(location, iss=self.issuer)
            await send(message)

        await self.app(scope, receive, send_with_iss)


class _ClientIdFromBasicAuth:
    """Lets a client that authenticates with HTTP Basic (`client_secret_basic`) leave `client_id` out of the
    token request's form, as RFC 6749 §2.3.1 allows: the SDK's token handler wants it in the form, so it is
    added there from the `Authorization` header. The body is already capped (`RequestBodyLimitMiddleware`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        basic = headers.get("authorization", "")
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if (
            scope["type"] != "http"
            or basic[:6].lower() != "basic "
            or content_type != "application/x-www-form-urlencoded"
        ):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay(b"".join(chunks), message), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        form = parse_qsl(body.decode("latin-1"), keep_blank_values=True)
        if not any(name == "client_id" for name, _ in form):
            try:
                client_id = unquote(base64.b64decode(basic[6:].strip(), validate=True).decode("utf-8").split(":", 1)[0])
            except (binascii.Error, UnicodeDecodeError, ValueError):
                client_id = ""
            if client_id:
                body += (b"&" if body else b"") + urlencode({"client_id": client_id}).encode("ascii")
        await self.app(scope, _replay(body, None), send)


def _replay(body: bytes, then: Message | None) -> Receive:
    """A `receive` that hands over `body` as the whole request, then `then` (a disconnect) if given."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return then or {"type": "http.disconnect"}

    return receive


class _StoreTrouble:
    """Answers a database outage with `503 temporarily_unavailable` (and no traceback), as the admin API does."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except StoreError as exc:
            if started:
                raise
            logger.warning("OAuth request not served: %s", exc.code)
            body = {"error": "temporarily_unavailable", "error_description": "The server cannot reach its database."}
            await JSONResponse(body, status_code=503, headers={**_NO_STORE, "Retry-After": "5"})(scope, receive, send)


class _RegistrationGate:
    """Tells the provider which address registers (for the per-address limit) and answers a reached limit
    with 429 (this address, with `Retry-After`) or 503 (the server's total)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        address = client[0] if client else None
        token = registering_address.set(tokens.digest(f"address:{address}") if address else None)
        try:
            await self.app(scope, receive, send)
        except RegistrationLimitReached as exc:
            headers = dict(_NO_STORE)
            if exc.retry_after is not None:
                headers["Retry-After"] = str(exc.retry_after)
            body = {"error": "temporarily_unavailable", "error_description": exc.message}
            status = 429 if exc.retry_after is not None else 503
            await JSONResponse(body, status_code=status, headers=headers)(scope, receive, send)
        finally:
            registering_address.reset(token)


class _Revocation:
    """RFC 7009: the client authenticates; a token of its own is revoked with its whole grant; the answer is
    200 whether or not the token was known (so it cannot be used to test tokens)."""

    def __init__(self, provider: AuthorizationProvider, authenticator: DigestClientAuthenticator) -> None:
        self.provider = provider
        self.authenticator = authenticator

    async def __call__(self, request: Request) -> Response:
        try:
            client = await self.authenticator.authenticate_request(request)
        except AuthenticationError as exc:
            return JSONResponse(
                {"error": "invalid_client", "error_description": exc.message}, status_code=401, headers=_NO_STORE
            )
        form = await request.form()
        token = form.get("token")
        if not isinstance(token, str) or not token:
            return JSONResponse(
                {"error": "invalid_request", "error_description": "the token parameter is required"},
                status_code=400,
                headers=_NO_STORE,
            )
        record = await self.provider.find_token(token)
        if record is not None and record.client_id == client.client_id and not record.revoked:
            await self.provider.revoke_family(record.family_id)
            logger.info("OAuth grant revoked by its client", extra={"client_id": client.client_id})
        return Response(status_code=200, headers=_NO_STORE)


def authorization_server_routes(services: Services, provider: AuthorizationProvider) -> list[BaseRoute]:
    issuer = provider.config.issuer
    scopes = provider.config.valid_scopes
    metadata = authorization_server_metadata(issuer, scopes)
    authenticator = DigestClientAuthenticator(provider)
    registration = RegistrationHandler(
        provider, options=ClientRegistrationOptions(enabled=True, valid_scopes=scopes, default_scopes=["mcp"])
    )
    metadata_endpoint = _cors(request_response(MetadataHandler(metadata).handle), ["GET", "OPTIONS"])
    routes: list[BaseRoute] = [Route(METADATA_PATH, metadata_endpoint, methods=["GET", "OPTIONS"])]
    issuer_path = urlsplit(issuer).path.rstrip("/")
    if issuer_path:
        # RFC 8414 §3.1: an issuer with a path has its metadata at the well-known path followed by that path.
        routes.append(Route(METADATA_PATH + issuer_path, metadata_endpoint, methods=["GET", "OPTIONS"]))
    authorize: Any = AuthorizationHandler(provider).handle
    consent = ConsentPage(services, provider)
    token = TokenHandler(provider, authenticator).handle
    routes += [
        Route(
            "/authorize",
            _IssuerInRedirects(_StoreTrouble(_limited(request_response(authorize))), issuer),
            methods=["GET", "POST"],
        ),
        Route(
            "/token",
            _cors(_StoreTrouble(_limited(_ClientIdFromBasicAuth(request_response(token)))), ["POST", "OPTIONS"]),
            methods=["POST", "OPTIONS"],
        ),
        Route(
            "/register",
            _cors(
                _StoreTrouble(_RegistrationGate(_limited(request_response(registration.handle)))), ["POST", "OPTIONS"]
            ),
            methods=["POST", "OPTIONS"],
        ),
        Route(
            "/revoke",
            _cors(_StoreTrouble(_limited(request_response(_Revocation(provider, authenticator)))), ["POST", "OPTIONS"]),
            methods=["POST", "OPTIONS"],
        ),
        Route(CONSENT_PATH, consent.handle, methods=["GET", "POST"], name="oauthConsent"),
    ]
    return routes
