"""Count database queries per MCP call in the steady state (the target is zero), with SQLAlchemy events.

    python -m benchmarks.queries [--calls 200]

Builds the reference server's app in-process (`sagemcp_server.app.create_app`) on a
temporary SQLite database, or core's `create_mcp_app` over the server's `SqlStore`
when the app cannot be built, with the upstream replaced by an `httpx.MockTransport`
returning the fake issue. Every statement the engine sends is counted by a
`before_cursor_execute` listener. After a first call of each kind (which fills the
caches), `--calls` calls of `tools/list` and `tools/call` in both eras (and, on the
handshake era, in a session) must send no query at all. Audit events are written in
batches by a background task; those inserts are counted separately and reported
per call. Exits 1 if any steady-state call queried the database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from benchmarks import allow_loopback_upstreams

from . import mcp_requests as mr
from .provision import populate_sql
from .targets._connector import connector_class, tool_catalog
from .targets._fixtures import MCP_PATH, TENANT, issue_bytes

UPSTREAM = "http://127.0.0.1:9"  # loopback (the GitHub connector accepts http only there); never reached


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(" ".join(statement.split())[:120])

    def reads(self) -> list[str]:
        """Everything but the audit writer's batched inserts."""
        return [s for s in self.statements if "audit" not in s.lower()]


def _upstream() -> httpx.MockTransport:
    body = issue_bytes()
    return httpx.MockTransport(
        lambda request: httpx.Response(200, content=body, headers={"Content-Type": "application/json"})
    )


@contextlib.asynccontextmanager
async def build(url: str, secret_keys: str, ttl: float) -> AsyncIterator[tuple[Any, Any, str]]:
    """(ASGI app, engine, label), lifespan entered."""
    create_app: Any
    try:
        from sagemcp_server.app import create_app  # type: ignore[import-not-found, no-redef]
        from sagemcp_server.settings import Settings  # type: ignore[import-not-found]
    except Exception:
        create_app = None
    if create_app is not None:
        settings = Settings(
            database_url=url, secret_keys=secret_keys, cache_ttl=ttl, log_level="warning", auto_migrate=False
        )
        app = create_app(settings, upstream_transport=_upstream())
        engine = app.state.services.engine
        label = "sagemcp_server.app.create_app (reference server app, in-process)"
    else:
        from starlette.applications import Starlette
        from starlette.routing import Mount

        from sagemcp.mcp import McpSettings, create_mcp_app
        from sagemcp.platform import ConnectorRegistry, SecretBox, UpstreamClient
        from sagemcp_server.db.engine import create_engine  # type: ignore[import-not-found]
        from sagemcp_server.db.store import SqlStore  # type: ignore[import-not-found]

        engine = create_engine(url)
        store = SqlStore(engine, SecretBox.from_env_value(secret_keys))
        upstream = UpstreamClient(transport=_upstream())
        mcp_app = create_mcp_app(
            store,
            ConnectorRegistry([connector_class()[0]]),
            upstream=upstream,
            settings=McpSettings(cache_ttl=ttl),
            observer=lambda e: None,
        )

        @contextlib.asynccontextmanager
        async def lifespan(_app: Any) -> AsyncIterator[None]:
            async with mcp_app.lifespan():
                yield

        app = Starlette(routes=[Mount("/api/v1", app=mcp_app)], lifespan=lifespan)
        label = "sagemcp.mcp.create_mcp_app over SqlStore (core only)"
    async with app.router.lifespan_context(app):
        yield app, engine, label


async def _post(client: httpx.AsyncClient, request: mr.HttpRequest) -> dict[str, Any]:
    response = await client.post(MCP_PATH, content=request.body, headers=request.headers)
    message = mr.decode({k.lower(): v for k, v in response.headers.items()}, response.content)
    if response.status_code != 200 or "result" not in message or message["result"].get("isError"):
        raise mr.VerificationError(f"{response.status_code}: {json.dumps(message)[:300]}")
    return message


async def _session(client: httpx.AsyncClient, key: str) -> str:
    headers = {
        "Content-Type": "application/json",
        "Accept": mr.ACCEPT,
        "Authorization": f"Bearer {key}",
        "MCP-Protocol-Version": mr.HANDSHAKE,
    }
    init = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {"protocolVersion": mr.HANDSHAKE, "capabilities": {}, "clientInfo": mr.CLIENT_INFO},
    }
    response = await client.post(MCP_PATH, json=init, headers=headers)
    session = response.headers["mcp-session-id"]
    await client.post(
        MCP_PATH,
        json={"jsonrpc": "2.0", "method": "notifications/initialized"},
        headers={**headers, "Mcp-Session-Id": session},
    )
    return session


async def count(calls: int, stateful: bool) -> dict[str, Any]:
    from sagemcp.platform import SecretBox

    secret = SecretBox.generate_key()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'queries.db'}"
        keys = await populate_sql(url, secret, 3, 3, UPSTREAM)
        key = keys[TENANT]
        catalog = tool_catalog(connector_class()[0])
        import os

        os.environ["SAGEMCP_MCP_STATEFUL"] = "true" if stateful else "false"
        try:
            async with build(url, secret, ttl=300.0) as (app, engine, label):
                counter = QueryCounter()
                event.listen(engine.sync_engine, "before_cursor_execute", counter)
                transport = httpx.ASGITransport(app=app)
                out: dict[str, Any] = {"app": label, "stateful": stateful, "cells": {}}
                async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
                    eras = [mr.HANDSHAKE] if stateful else [mr.MODERN, mr.HANDSHAKE]
                    for era in eras:
                        for method in ("tools/list", "tools/call"):
                            session = await _session(client, key) if stateful else None
                            request = mr.build(method, era, key, catalog, session)
                            before = len(counter.reads())
                            await _post(client, request)
                            first = len(counter.reads()) - before
                            before = len(counter.reads())
                            for _ in range(calls):
                                await _post(client, request)
                            steady = counter.reads()[before:]
                            name = f"{era}{'-session' if stateful else ''} {method}"
                            out["cells"][name] = {
                                "first_call_queries": first,
                                "steady_queries": len(steady),
                                "steady_calls": calls,
                                "examples": sorted(set(steady))[:5],
                            }
                audit = [s for s in counter.statements if "audit" in s.lower()]
                out["audit_statements"] = len(audit)
                return out
        finally:
            os.environ.pop("SAGEMCP_MCP_STATEFUL", None)


def main(argv: list[str] | None = None) -> int:
    allow_loopback_upstreams()
    p = argparse.ArgumentParser(prog="python -m benchmarks.queries", description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=200)
    args = p.parse_args(argv)
    failed = False
    for stateful in (False, True):
        result = asyncio.run(count(args.calls, stateful))
        print(f"{result['app']}, {'stateful' if stateful else 'stateless'}:")
        for name, cell in result["cells"].items():
            ok = cell["steady_queries"] == 0
            failed |= not ok
            print(
                f"  {'ok  ' if ok else 'FAIL'} {name:32s} first call {cell['first_call_queries']:2d} queries; "
                f"next {cell['steady_calls']} calls: {cell['steady_queries']} queries {cell['examples'] or ''}"
            )
        print(f"  audit writer: {result['audit_statements']} batched statements in all")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
