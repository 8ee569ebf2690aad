"""A fake OAuth 2.0 authorization server for tests of a connector's `OAuth2` scheme.

    provider = FakeAuthorizationServer(TOKEN_URL, client_id="id", client_secret="secret", redirect_uri=REDIRECT)
    flows = OAuthFlows(transport=httpx.MockTransport(provider))
    credential = await provider.authorize(flows, MyConnector.oauth2(), app, tenant_id="t1", provider="my")
    assert credential.require_token() == "access-1"

It is the token endpoint an `httpx.MockTransport` sends `OAuthFlows`' requests to. It checks the
client's authentication (`client_secret_post` or `client_secret_basic`, as the scheme says), the
authorization code, the redirect URI and the PKCE verifier against the challenge of the authorization URL
(`authorize` reads it from there), and hands out numbered tokens: `access-N` and `refresh-N`, N counting
the grants it made. Refresh tokens rotate: only the newest works, and only once. Refusals answer
`refusal_status` with `{"error": "invalid_grant"}` unless `refuse` is overridden.

Provider quirks go in a subclass: `other_request` answers requests to other URLs (an accessible-resources
endpoint), `other_grant` other grant types, `token_response` the provider's extra fields.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import httpx

from .._auth import OAuth2
from .._models import Credential, OAuthApp

__all__ = ["FakeAuthorizationServer", "form_of"]


def form_of(request: httpx.Request) -> dict[str, str]:
    """A form-encoded request body (a token request) as a dictionary."""
    return {key: values[0] for key, values in parse_qs(request.content.decode()).items()}


class FakeAuthorizationServer:
    """A provider's token endpoint, as an `httpx.MockTransport` handler (see the module docstring)."""

    def __init__(
        self,
        token_url: str,
        *,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        client_auth: Literal["client_secret_post", "client_secret_basic"] = "client_secret_post",
        code: str = "auth-code",
        refusal_status: int = 400,
        delay: float = 0.0,
        token_fields: Mapping[str, Any] | None = None,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.client_auth = client_auth
        self.code = code
        self.refusal_status = refusal_status
        self.delay = delay
        """Seconds each token request takes (to let concurrent refreshes overlap)."""
        self.token_fields = dict(token_fields or {"expires_in": 3600})
        self.requests: list[httpx.Request] = []
        """Every request received, token requests and others alike."""
        self.issued = 0
        """Grants made so far; the newest tokens are `access-{issued}` and `refresh-{issued}`."""
        self.challenge: str | None = None
        """The PKCE challenge of the authorization in progress (`authorize` sets it)."""
        self.spent: set[str] = set()
        """Refresh tokens already exchanged."""

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        other = await self.other_request(request)
        if other is not None:
            return other
        assert str(request.url) == self.token_url, f"unexpected request to {request.url}"
        data = form_of(request)
        self._check_client(request, data)
        await asyncio.sleep(self.delay)
        grant = data.get("grant_type", "")
        if grant == "authorization_code":
            if not self._code_is_valid(data):
                return self.refuse(grant, data)
        elif grant == "refresh_token":
            token = data.get("refresh_token", "")
            if token in self.spent or token != f"refresh-{self.issued}":
                return self.refuse(grant, data)
            self.spent.add(token)
        else:
            return self.other_grant(grant, data)
        self.issued += 1
        return httpx.Response(200, json=self.token_response(grant))

    def _check_client(self, request: httpx.Request, data: Mapping[str, str]) -> None:
        if self.client_auth == "client_secret_basic":
            basic = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
            assert request.headers.get("authorization") == f"Basic {basic}", "the client authenticates with Basic"
            assert "client_secret" not in data, "the client secret goes in the Authorization header only"
        else:
            assert (data.get("client_id"), data.get("client_secret")) == (self.client_id, self.client_secret), (
                "the client authenticates in the form body (client_secret_post)"
            )

    def _code_is_valid(self, data: Mapping[str, str]) -> bool:
        verifier = data.get("code_verifier", "")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        return (
            digest == self.challenge
            and data.get("code") == self.code
            and data.get("redirect_uri") == (self.redirect_uri)
        )

    def token_response(self, grant: str) -> dict[str, Any]:
        """The body of a successful answer to `grant`: the numbered tokens and `token_fields`."""
        return {
            "access_token": f"access-{self.issued}",
            "refresh_token": f"refresh-{self.issued}",
            "token_type": "bearer",
            **self.token_fields,
        }

    def refuse(self, grant: str, data: Mapping[str, str]) -> httpx.Response:
        """The answer to a code or refresh token that is not valid."""
        return httpx.Response(
            self.refusal_status, json={"error": "invalid_grant", "error_description": f"the {grant} is not valid"}
        )

    def other_grant(self, grant: str, data: Mapping[str, str]) -> httpx.Response:
        """The answer to a grant type other than the code and refresh grants; none is expected by default."""
        raise AssertionError(f"unexpected grant type {grant!r}")

    async def other_request(self, request: httpx.Request) -> httpx.Response | None:
        """The answer to a request that is not for the token endpoint; None handles it as a token request."""
        return None

    async def authorize(
        self,
        flows: Any,
        scheme: OAuth2 | None,
        app: OAuthApp,
        *,
        tenant_id: str,
        provider: str,
        scopes: Sequence[str] = (),
    ) -> Credential:
        """Run the authorization-code flow through `flows` (an `OAuthFlows`), approving at once; the credential."""
        assert scheme is not None, "the connector has no OAuth2 scheme"
        url, pending = flows.begin(
            scheme, app, tenant_id=tenant_id, provider=provider, redirect_uri=self.redirect_uri, scopes=scopes
        )
        query = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
        self.challenge = query.get("code_challenge")
        done = await flows.complete(
            scheme, app, pending, code=self.code, state=query["state"], tenant_id=tenant_id, provider=provider
        )
        credential: Credential = done.credential
        return credential
