"""Shared pieces of the reliability suite.

- `make_probe_connector()`: a connector whose every answer names the tenant, the connector, the caller and
  a fingerprint of the upstream credential it ran with, so any crossing between tenants is visible.
- `LEDGER`: every secret the suite creates, and a scan of every response body, WebSocket frame and log
  line for them (`ScanningApp` wraps a server, `LogTap` taps the logging tree).
- `serve()` (from `sagemcp.testing`): an ASGI app under uvicorn on 127.0.0.1, in the current event loop; its
  log records propagate to the root logger, where the secrets scan taps them.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, Field

from sagemcp import (
    ApiKey,
    BearerToken,
    Connector,
    ConnectorInfo,
    ConnectorSettings,
    Credential,
    InvalidArguments,
    OAuth2,
    ToolContext,
    prompt,
    resource,
    tool,
)
from sagemcp.testing import free_port, serve

__all__ = [
    "LEDGER",
    "Identity",
    "Ledger",
    "LogTap",
    "ScanningApp",
    "fingerprint",
    "free_port",
    "make_probe_connector",
    "new_secret",
    "serve",
]

# -- secrets -------------------------------------------------------------------------------

_SECRET_SHAPE = re.compile(r"sx(?:at|rt|cs)_[0-9a-f]{32}|smcp(?:at|rt|ac|cs)?_[A-Za-z0-9_-]{43}")
"""Every secret the suite makes has one of these shapes: upstream access tokens (`sxat_`), refresh tokens
(`sxrt_`), OAuth client secrets (`sxcs_`), the API keys core generates (`smcp_` + 43 characters) and the
reference server's OAuth access and refresh tokens, codes and client secrets (`smcpat_`, `smcprt_`, ...)."""


def new_secret(kind: str = "at") -> str:
    """A fresh secret of the suite's shape: `kind` is "at" (access token), "rt" (refresh) or "cs" (client secret)."""
    return LEDGER.secret(f"sx{kind}_{secrets.token_hex(16)}")


def fingerprint(token: str | None) -> str | None:
    """What the probe connector reports instead of a token: enough to tell tokens apart, useless to an attacker."""
    if token is None:
        return None
    return hashlib.sha256(token.encode()).hexdigest()[:16]


@dataclass
class Hit:
    secret: str
    where: str
    excerpt: str


@dataclass
class Ledger:
    """Known secrets and what the scans found. One per test session (`LEDGER`)."""

    known: set[str] = field(default_factory=set)
    hits: list[Hit] = field(default_factory=list)
    unknown_shapes: list[Hit] = field(default_factory=list)
    scanned_items: int = 0
    scanned_chars: int = 0
    sources: dict[str, int] = field(default_factory=dict)

    def secret(self, value: str) -> str:
        self.known.add(value)
        return value

    def scan(self, text: str, where: str) -> list[Hit]:
        """Record (and return) every known secret found in `text`; `where` says what the text was."""
        self.scanned_items += 1
        self.scanned_chars += len(text)
        kind = where.split(":", 1)[0]
        self.sources[kind] = self.sources.get(kind, 0) + 1
        found: list[Hit] = []
        for match in _SECRET_SHAPE.finditer(text):
            value = match.group(0)
            start = max(0, match.start() - 80)
            hit = Hit(value, where, text[start : match.end() + 40])
            if value in self.known:
                found.append(hit)
            else:
                self.unknown_shapes.append(hit)
        self.hits.extend(found)
        return found

    def mark(self) -> int:
        return len(self.hits)

    def since(self, mark: int) -> list[Hit]:
        return self.hits[mark:]


LEDGER = Ledger()


class ScanningApp:
    """ASGI wrapper that scans every response (status line headers, body chunks, WebSocket frames) for secrets."""

    def __init__(self, app: Any, name: str = "server", ledger: Ledger = LEDGER) -> None:
        self.app = app
        self.name = name
        self.ledger = ledger

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        where = f"response:{self.name} {scope.get('method', 'WS')} {scope['path']}"

        async def scanning_send(message: dict[str, Any]) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                headers = " ".join(
                    f"{k.decode('latin-1')}: {v.decode('latin-1')}" for k, v in message.get("headers", [])
                )
                self.ledger.scan(headers, where + " (headers)")
            elif kind == "http.response.body":
                body = message.get("body", b"")
                if body:
                    self.ledger.scan(body.decode("utf-8", "replace"), where)
            elif kind == "websocket.send":
                text = message.get("text") or (message.get("bytes") or b"").decode("utf-8", "replace")
                self.ledger.scan(text, where + " (frame)")
            elif kind == "websocket.close":
                self.ledger.scan(message.get("reason") or "", where + " (close)")
            await send(message)

        await self.app(scope, receive, scanning_send)


class LogTap(logging.Handler):
    """Scans every formatted log record (message and traceback) reaching the root logger."""

    def __init__(self, ledger: Ledger = LEDGER) -> None:
        super().__init__(logging.DEBUG)
        self.ledger = ledger
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.records = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # a broken record must not break the suite; the scan still sees the raw message
            text = str(record.msg)
        self.records += 1
        self.ledger.scan(text, f"log:{record.name}")


# -- the probe connector ---------------------------------------------------------------------


class Identity(BaseModel):
    """Who a probe call ran for: every field must belong to the tenant and connector on the request path."""

    tenant_id: str
    tenant: str
    connector_id: str
    connector: str
    principal: str
    credential_fp: str | None
    credential_version: int | None


class ProbeConfig(ConnectorSettings):
    upstream: str = "http://127.0.0.1:9/"
    """The fake upstream's base URL (per tenant connector)."""


class Inner(BaseModel):
    name: str
    weight: float = 1.0


def _identity(ctx: ToolContext) -> Identity:
    cred = ctx.credential
    return Identity(
        tenant_id=ctx.tenant.id,
        tenant=ctx.tenant.slug,
        connector_id=ctx.connector.id,
        connector=ctx.connector.name,
        principal=ctx.principal.id,
        credential_fp=fingerprint(cred.access_token.get_secret_value()) if cred else None,
        credential_version=cred.version if cred else None,
    )


def make_probe_connector(token_url: str = "http://127.0.0.1:9/token") -> type[Connector]:
    """A fresh probe connector class; `token_url` is where its OAuth refreshes go (a fake token endpoint).

    It accepts bearer tokens, OAuth tokens and (for the secrets scan) API keys sent in the query string."""

    class ProbeConnector(Connector):
        """Answers with the identity it ran under; talks to a fake upstream for fault tests."""

        info = ConnectorInfo(id="probe", title="Probe", description="Reports who it runs for.")
        auth = (
            BearerToken(),
            OAuth2(authorize_url="http://127.0.0.1:9/authorize", token_url=token_url, scopes=("read",)),
            ApiKey(query_param="api_key"),
        )
        Config = ProbeConfig

        @classmethod
        def api_base_url(cls, config: BaseModel, credential: Credential | None) -> str:
            return str(getattr(config, "upstream", ""))

        @tool(read_only=True, group="read")
        async def whoami(self, ctx: ToolContext) -> Identity:
            """Say which tenant, connector, caller and credential this call runs with."""
            return _identity(ctx)

        @tool(read_only=True, group="read")
        async def fetch(self, ctx: ToolContext, path: str = "whoami") -> dict[str, Any]:
            """GET a path of the upstream and return its JSON with the caller's identity."""
            r = await ctx.http.get(path)
            return {"identity": _identity(ctx).model_dump(), "upstream": r.json()}

        @tool(read_only=True, group="read")
        async def echo(
            self,
            ctx: ToolContext,
            text: Annotated[str, Field(max_length=10_000)],
            count: Annotated[int, Field(ge=0, le=100)] = 1,
            tags: list[str] | None = None,
            inner: Inner | None = None,
        ) -> dict[str, Any]:
            """Return the arguments (for argument fuzzing)."""
            return {"text": text, "count": count, "tags": tags or [], "inner": inner.model_dump() if inner else None}

        @tool(read_only=False, group="write", destructive=False)
        async def create(self, ctx: ToolContext, title: str, path: str = "items") -> dict[str, Any]:
            """POST a new item."""
            return (await ctx.http.post(path, json={"title": title})).json()

        @tool(read_only=False, group="write", destructive=False)
        async def update(self, ctx: ToolContext, item: str, title: str) -> dict[str, Any]:
            """PATCH an item."""
            return (await ctx.http.patch(f"items/{item}", json={"title": title})).json()

        @tool(read_only=False, group="write", destructive=False, idempotent=True)
        async def replace(self, ctx: ToolContext, item: str, title: str) -> dict[str, Any]:
            """PUT an item."""
            return (await ctx.http.put(f"items/{item}", json={"title": title})).json()

        @tool(read_only=False, group="write", destructive=True)
        async def delete(self, ctx: ToolContext, item: str) -> str:
            """DELETE an item."""
            await ctx.http.delete(f"items/{item}")
            return "deleted"

        @tool(read_only=True, group="read")
        async def ask(self, ctx: ToolContext) -> Identity:
            """Ask the person to confirm (an input round on 2026-07-28), then say who it runs for."""
            if not await ctx.confirm("Show who this call runs for?"):
                raise InvalidArguments("not confirmed")
            return _identity(ctx)

        @tool(read_only=True, group="read")
        async def crash(self, ctx: ToolContext) -> str:
            """Fail with an internal error."""
            raise RuntimeError("internal detail: /srv/sagemcp/private.py line 42")

        @resource("probe://whoami", mime_type="application/json")
        async def whoami_resource(self, ctx: ToolContext) -> str:
            """The identity as a resource."""
            return _identity(ctx).model_dump_json()

        @prompt()
        async def hello(self, ctx: ToolContext) -> str:
            """A prompt naming the identity."""
            return "identity " + _identity(ctx).model_dump_json()

    return ProbeConnector
