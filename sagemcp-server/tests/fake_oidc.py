"""A small OpenID Connect provider for tests, served on a real port: discovery, JWKS, authorize and token.

`/authorize` approves at once as `account` (no login form) and redirects back with a code;
`/token` checks the client's credentials, the redirect URI and the PKCE verifier, then
answers with an ID token signed (RS256, joserfc) by `signing_key`. `claims` overrides or
adds ID token claims (a wrong `nonce` or `aud`, `email_verified: false`), and `sign_with`
replaces the signing key (a token the JWKS does not vouch for).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from sagemcp.testing import serve

CLIENT_ID = "sagemcp-test-client"
CLIENT_SECRET = "test-client-secret"


@dataclass
class FakeOidc:
    issuer: str = ""
    account: dict[str, Any] = field(
        default_factory=lambda: {"sub": "user-1", "email": "ada@example.com", "email_verified": True, "name": "Ada"}
    )
    claims: dict[str, Any] = field(default_factory=dict)
    signing_key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    sign_with: RSAKey | None = None
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    jwks_fetches: int = 0
    authorize_requests: list[dict[str, str]] = field(default_factory=list)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/jwks", self.jwks),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
            ]
        )

    async def discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    async def jwks(self, request: Request) -> Response:
        self.jwks_fetches += 1
        return JSONResponse(KeySet([self.signing_key]).as_dict(private=False))

    async def authorize(self, request: Request) -> Response:
        q = dict(request.query_params)
        self.authorize_requests.append(q)
        if q.get("client_id") != CLIENT_ID or q.get("response_type") != "code":
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return JSONResponse({"error": "invalid_request", "error_description": "PKCE S256 required"}, 400)
        code = secrets.token_urlsafe(24)
        self.codes[code] = q
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}", 302)

    async def token(self, request: Request) -> Response:
        form = dict(await request.form())
        self.token_requests.append({"form": form, "authorization": request.headers.get("authorization")})
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        pending = self.codes.pop(str(form.get("code")), None)
        if pending is None or form.get("grant_type") != "authorization_code":
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if form.get("redirect_uri") != pending["redirect_uri"]:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        verifier = str(form.get("code_verifier", ""))
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != pending["code_challenge"]:
            return JSONResponse({"error": "invalid_grant", "error_description": "PKCE mismatch"}, status_code=400)
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": pending.get("nonce"),
            **self.account,
            **self.claims,
        }
        claims = {k: v for k, v in claims.items() if v is not None}
        key = self.sign_with or self.signing_key
        id_token = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
        return JSONResponse({"access_token": "test-token", "token_type": "Bearer", "id_token": id_token})


@asynccontextmanager
async def running_oidc() -> AsyncIterator[FakeOidc]:
    provider = FakeOidc()
    async with serve(provider.app(), lifespan="off") as base:
        provider.issuer = base
        yield provider
