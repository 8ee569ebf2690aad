"""A local external authorization server: a signing key, its JWKS on a real port, and signed access tokens."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sagemcp.testing import serve


class ExternalIssuer:
    def __init__(self) -> None:
        self.key = ECKey.generate_key("P-256", parameters={"kid": "k1", "use": "sig", "alg": "ES256"})
        self.issuer = ""
        self.jwks_uri = ""

    def token(self, *, sub: str, aud: str, scope: str = "mcp", lifetime: int = 300, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": self.issuer, "sub": sub, "aud": aud, "scope": scope, "iat": now, "exp": now + lifetime, **claims}
        return jwt.encode({"alg": "ES256", "kid": "k1", "typ": "at+jwt"}, body, self.key)

    def app(self) -> Starlette:
        async def jwks(request: Request) -> Response:
            return JSONResponse({"keys": [self.key.as_dict(private=False)]})

        return Starlette(routes=[Route("/jwks", jwks)])

    @asynccontextmanager
    async def running(self) -> AsyncIterator[ExternalIssuer]:
        async with serve(self.app()) as base:
            self.issuer = base
            self.jwks_uri = base + "/jwks"
            yield self
