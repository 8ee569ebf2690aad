"""Test connectors and a fake OAuth provider (authorization server + API) that checks PKCE.

`FAKE_BASE` is where the connectors think the provider lives: in-process tests route it
through an ASGI transport; the multi-process test sets SAGEMCP_TEST_FAKE_BASE to a real
local server before the server processes import this module.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from pydantic import field_validator
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from sagemcp import BearerToken, Connector, ConnectorInfo, ConnectorSettings, LinkedToken, OAuth2, ToolContext, tool

FAKE_BASE = os.environ.get("SAGEMCP_TEST_FAKE_BASE", "https://fake.example")
CLIENT_ID = "fake-client-id"
CLIENT_SECRET = "fake-client-secret-3f9a7c1e"


class FakeConfig(ConnectorSettings):
    site: str | None = None

    @field_validator("site")
    @classmethod
    def _site(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError("site must be an https:// URL")
        return value


def user_token_hook(raw: dict[str, Any]) -> dict[str, Any]:
    """Like Slack's: a user token nested under `authed_user` becomes the linked `user` credential."""
    data = {key: value for key, value in raw.items() if key != "authed_user"}
    if isinstance(raw.get("authed_user"), dict):
        data["linked"] = {"user": raw["authed_user"]}
    return data


class FakeConnector(Connector):
    info = ConnectorInfo(id="fake", title="Fake", description="A fake provider for tests.", default_groups=("read",))
    auth = (
        OAuth2(
            authorize_url=FAKE_BASE + "/authorize",
            token_url=FAKE_BASE + "/token",
            revoke_url=FAKE_BASE + "/revoke",
            scopes=("read",),
            token_response_hook=user_token_hook,
            linked_tokens=(LinkedToken("user", "user_scope"),),
        ),
        BearerToken(),
    )
    Config = FakeConfig
    base_url = FAKE_BASE + "/api/"

    @tool(read_only=True, group="read")
    async def whoami(self, ctx: ToolContext) -> dict[str, Any]:
        """Who the credential acts as."""
        response = await ctx.http.get("/whoami")
        data: dict[str, Any] = response.json()
        return data

    @tool(read_only=True, group="search", token="user", scopes=("search",))
    async def whoami_user(self, ctx: ToolContext) -> dict[str, Any]:
        """Who the user credential acts as (the main one when there is none)."""
        response = await ctx.http.get("/whoami")
        data: dict[str, Any] = response.json()
        return data

    @tool(read_only=False, group="write", destructive=True, scopes=("write",))
    async def delete_thing(self, ctx: ToolContext, thing_id: int) -> str:
        """Delete a thing."""
        return f"deleted {thing_id}"


class TokenOnlyConnector(Connector):
    info = ConnectorInfo(id="tokenonly", title="Token only", description="Takes an API key.")
    auth = (BearerToken(),)
    base_url = FAKE_BASE + "/api/"

    @tool(read_only=True, group="read")
    async def whoami(self, ctx: ToolContext) -> dict[str, Any]:
        """Who the token acts as."""
        response = await ctx.http.get("/whoami")
        data: dict[str, Any] = response.json()
        return data


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@dataclass
class FakeProvider:
    """The provider's state: issued codes, tokens, refreshes and revocations, all inspectable by tests."""

    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    access_tokens: dict[str, str] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    refresh_count: int = 0
    revoked: list[str] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    expires_in: int = 3600
    refresh_delay: float = 0.0
    issued: list[str] = field(default_factory=list)

    def new_tokens(self, account: str) -> dict[str, Any]:
        access = "fake-at-" + secrets.token_hex(12)
        refresh = "fake-rt-" + secrets.token_hex(12)
        self.access_tokens[access] = account
        self.refresh_tokens[refresh] = account
        self.issued += [access, refresh]
        return {
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "bearer",
            "expires_in": self.expires_in,
            "scope": "read write",
        }

    def app(self) -> Starlette:
        async def authorize(request: Request) -> Response:
            q = request.query_params
            if q.get("client_id") != CLIENT_ID:
                return JSONResponse({"error": "invalid_client"}, status_code=400)
            code = "fake-code-" + secrets.token_hex(8)
            self.codes[code] = {
                "challenge": q.get("code_challenge"),
                "method": q.get("code_challenge_method"),
                "redirect_uri": q.get("redirect_uri"),
                "scope": q.get("scope"),
                "user_scope": q.get("user_scope"),
                # Who approves: tests add `login=` to the authorization URL to be someone else than octocat.
                "account": q.get("login") or "octocat",
            }
            self.issued.append(code)
            target = q["redirect_uri"] + "?" + urlencode({"code": code, "state": q["state"]})
            return RedirectResponse(target, status_code=302)

        async def token(request: Request) -> Response:
            import anyio

            form = dict(await request.form())
            self.token_requests.append({k: str(v) for k, v in form.items()})
            if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            if form.get("grant_type") == "authorization_code":
                grant = self.codes.pop(str(form.get("code")), None)
                if grant is None:
                    return JSONResponse(
                        {"error": "invalid_grant", "error_description": "unknown code"}, status_code=400
                    )
                if grant["redirect_uri"] != form.get("redirect_uri"):
                    return JSONResponse(
                        {"error": "invalid_grant", "error_description": "redirect_uri"}, status_code=400
                    )
                verifier = str(form.get("code_verifier", ""))
                if grant["method"] != "S256" or s256(verifier) != grant["challenge"]:
                    return JSONResponse(
                        {"error": "invalid_grant", "error_description": "PKCE verification failed"}, status_code=400
                    )
                answer = {**self.new_tokens(grant["account"]), "account": grant["account"]}
                if grant["user_scope"]:
                    user = {**self.new_tokens("octocat-user"), "scope": grant["user_scope"], "account": "octocat-user"}
                    answer["authed_user"] = user
                return JSONResponse(answer)
            if form.get("grant_type") == "refresh_token":
                self.refresh_count += 1  # every attempt counts, refused ones too
                account = self.refresh_tokens.pop(str(form.get("refresh_token")), None)
                if account is None:
                    return JSONResponse({"error": "invalid_grant"}, status_code=400)
                if self.refresh_delay:
                    await anyio.sleep(self.refresh_delay)
                return JSONResponse(self.new_tokens(account))
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)

        async def revoke(request: Request) -> Response:
            form = dict(await request.form())
            self.revoked.append(str(form.get("token")))
            return Response(status_code=200)

        async def whoami(request: Request) -> Response:
            header = request.headers.get("authorization", "")
            token = header.removeprefix("Bearer ")
            account = self.access_tokens.get(token) or ("token-user" if token.startswith("pat-") else None)
            if account is None:
                return JSONResponse({"message": "Bad credentials"}, status_code=401)
            return JSONResponse({"login": account})

        async def count(request: Request) -> Response:
            return JSONResponse({"refresh_count": self.refresh_count})

        return Starlette(
            routes=[
                Route("/authorize", authorize),
                Route("/token", token, methods=["POST"]),
                Route("/revoke", revoke, methods=["POST"]),
                Route("/api/whoami", whoami),
                Route("/_count", count),
            ]
        )
