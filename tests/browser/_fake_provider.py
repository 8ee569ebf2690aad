"""A local fake OAuth provider and API, and the `notes` connector that uses it, for the browser tests.

The provider (`FakeProvider.app()`) approves every authorization at once (302 back to the redirect URI
with a code), checks PKCE and the client secret at its token endpoint, and answers its API with the
account a token belongs to. The connector reads the provider's address from `SAGEMCP_BROWSER_PROVIDER`
when the server process imports it, so both processes agree on it.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from pydantic import BaseModel, Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from sagemcp import Connector, ConnectorInfo, ConnectorSettings, OAuth2, ToolContext, tool

BASE = os.environ.get("SAGEMCP_BROWSER_PROVIDER", "http://127.0.0.1:9")
CLIENT_ID = "notes-client-id"
CLIENT_SECRET = "notes-client-secret-7c4f1a"


class NotesConfig(ConnectorSettings):
    workspace: str = Field(default="main", min_length=1, max_length=40, description="The notes workspace.")


class Found(BaseModel):
    query: str
    limit: int
    archived: bool
    kind: str
    tags: list[str]
    account: str


class NotesConnector(Connector):
    info = ConnectorInfo(
        id="notes", title="Notes", description="A fake notes service for the browser tests.", default_groups=("read",)
    )
    auth = (OAuth2(authorize_url=BASE + "/authorize", token_url=BASE + "/token", scopes=("notes",)),)
    Config = NotesConfig
    base_url = BASE + "/api/"

    @tool(read_only=True, group="read")
    async def whoami(self, ctx: ToolContext) -> dict[str, Any]:
        """The account the connection acts as."""
        data: dict[str, Any] = (await ctx.http.get("whoami")).json()
        return data

    @tool(read_only=True, group="read")
    async def search(
        self,
        ctx: ToolContext,
        query: Annotated[str, Field(max_length=200, description="Words to look for.")],
        limit: Annotated[int, Field(ge=1, le=50, description="At most this many notes.")] = 10,
        archived: Annotated[bool, Field(description="Include archived notes.")] = False,
        kind: Literal["note", "task"] = "note",
        tags: Annotated[list[str] | None, Field(description="Only notes with all these tags.")] = None,
    ) -> Found:
        """Search the notes of the connected account."""
        account = (await ctx.http.get("whoami")).json()["login"]
        return Found(query=query, limit=limit, archived=archived, kind=kind, tags=tags or [], account=account)

    @tool(read_only=False, group="write", destructive=True)
    async def delete(self, ctx: ToolContext, note_id: Annotated[int, Field(ge=1)]) -> str:
        """Delete a note for good."""
        await ctx.http.get("whoami")
        return f"note {note_id} deleted"


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@dataclass
class FakeProvider:
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def app(self) -> Starlette:
        async def authorize(request: Request) -> Response:
            q = request.query_params
            if q.get("client_id") != CLIENT_ID:
                return JSONResponse({"error": "invalid_client"}, status_code=400)
            code = "notes-code-" + secrets.token_hex(8)
            self.codes[code] = {
                "challenge": q.get("code_challenge"),
                "redirect_uri": q.get("redirect_uri"),
                "account": q.get("login") or "ana-notes",
            }
            return RedirectResponse(q["redirect_uri"] + "?" + urlencode({"code": code, "state": q["state"]}), 302)

        async def token(request: Request) -> Response:
            form = dict(await request.form())
            if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            grant = self.codes.pop(str(form.get("code")), None)
            if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            if _s256(str(form.get("code_verifier", ""))) != grant["challenge"]:
                return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"}, status_code=400)
            access = "notes-at-" + secrets.token_hex(12)
            self.tokens[access] = grant["account"]
            return JSONResponse(
                {"access_token": access, "token_type": "bearer", "expires_in": 3600, "account": grant["account"]}
            )

        async def whoami(request: Request) -> Response:
            account = self.tokens.get(request.headers.get("authorization", "").removeprefix("Bearer "))
            if account is None:
                return JSONResponse({"message": "Bad credentials"}, status_code=401)
            return JSONResponse({"login": account})

        return Starlette(
            routes=[
                Route("/authorize", authorize),
                Route("/token", token, methods=["POST"]),
                Route("/api/whoami", whoami),
            ]
        )
