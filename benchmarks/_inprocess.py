"""The benchmark's apps in this process, and a minimal ASGI server to call them without sockets.

`app(kind)` builds one of the apps the timed benchmark runs, its lifespan entered the way
uvicorn enters it, ready for the echo and GitHub cells:

- `sdk`: the bare MCP SDK target (`targets/sdk.py`), serving `demo_echo` on the echo path
  and `github_get_issue` (a plain `httpx` GET) on the GitHub path;
- `core`: core's `create_mcp_app` over a `MemoryStore` with the demo and GitHub connectors,
  API-key authentication, audit events and metrics (`targets/sagemcp_core.py`);
- `server`: the reference server's app (`sagemcp_server.app.create_app`) on a temporary
  SQLite database holding the bench tenant, its demo and GitHub connectors, its GitHub
  token and an API key.

`call` sends one HTTP request through the app as uvicorn would: a fresh task (so a fresh
copy of the context) per request, the body in one `http.request` message, and
`http.disconnect` only once the response is complete. No socket is ever opened: the echo
tool makes no upstream call, and the GitHub tool's upstream GET is answered in-process by
`fake_upstream()`, an `httpx.MockTransport` handed to every app through its public seam
(the SDK target's client, `UpstreamClient(transport=...)`, `create_app(upstream_transport=...)`),
so that all three do the same upstream work.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from ._counting import COUNTED
from .targets._fixtures import ISSUE_NUMBER, OWNER, REPO, issue_bytes
from .targets._tuning import FreezeAfterStartup

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
KINDS = ("sdk", "core", "server")
LABELS = {
    "sdk": "the bare MCP SDK (benchmarks/targets/sdk.py)",
    "core": "core's create_mcp_app over a MemoryStore, with API keys, audit and metrics (targets/sagemcp_core.py)",
    "server": "the reference server's app, sagemcp_server.app.create_app, on SQLite",
}
UPSTREAM = "http://127.0.0.1:9"  # never connected to: `fake_upstream()` answers
_ISSUE_PATH = f"/repos/{OWNER}/{REPO}/issues/{ISSUE_NUMBER}"
_ISSUE_BODY = issue_bytes()
_ISSUE_HEADERS = [
    (b"Content-Type", b"application/json; charset=utf-8"),
    (b"X-RateLimit-Limit", b"5000"),
    (b"X-RateLimit-Remaining", b"4999"),
    (b"X-GitHub-Api-Version", b"2022-11-28"),
    (b"Content-Length", str(len(_ISSUE_BODY)).encode()),
]


class AppError(RuntimeError):
    pass


def fake_upstream() -> httpx.MockTransport:
    """The fake GitHub API in-process: the fixture issue (as `targets.fake_upstream` answers it) for a GET of
    its path, 404 for anything else, so that a wrong request shows up as a failed call."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path == _ISSUE_PATH:
            return httpx.Response(200, headers=_ISSUE_HEADERS, content=_ISSUE_BODY)
        return httpx.Response(404, content=b'{"message":"Not Found"}')

    return httpx.MockTransport(answer)


@contextlib.asynccontextmanager
async def lifespan(app: ASGIApp) -> AsyncIterator[dict[str, Any]]:
    """Run the ASGI lifespan protocol around the block; yields the lifespan state requests get a copy of."""
    state: dict[str, Any] = {}
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": state}
    task = asyncio.ensure_future(app(scope, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    message = await outbox.get()
    if message["type"] != "lifespan.startup.complete":
        raise AppError(f"the app did not start: {message}")
    try:
        yield state
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        message = await outbox.get()
        await task
        if message["type"] != "lifespan.shutdown.complete":
            raise AppError(f"the app did not stop cleanly: {message}")


async def call(
    app: ASGIApp, state: dict[str, Any], path: str, headers: dict[str, str], body: bytes, *, counted: bool = False
) -> tuple[int, dict[str, str], bytes]:
    """POST `body` to `path`; returns status, headers (lower-case names) and body. `counted` sets `COUNTED` in
    the request's task, so that a `WorkCounter` counts what serving it does."""
    raw_headers = [(b"host", b"127.0.0.1:8000"), (b"content-length", str(len(body)).encode())]
    raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "POST",
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": raw_headers,
        "state": state.copy(),
    }
    sent = False
    done = asyncio.Event()
    status = 0
    response_headers: dict[str, str] = {}
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            response_headers.update((k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", ()))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                done.set()

    async def serve() -> None:
        if counted:
            COUNTED.set(True)  # in this task's own copy of the context
        await app(scope, receive, send)

    await asyncio.ensure_future(serve())
    done.set()
    return status, response_headers, b"".join(chunks)


@contextlib.asynccontextmanager
async def app(kind: str) -> AsyncIterator[tuple[ASGIApp, dict[str, Any], str]]:
    """(ASGI app, lifespan state, the bench tenant's API key) of `kind`, started; stopped afterwards."""
    if kind not in KINDS:
        raise AppError(f"unknown app {kind!r}: expected one of {', '.join(KINDS)}")
    with tempfile.TemporaryDirectory(prefix="sagemcp-cost-") as tmp:
        built, key = await _build(kind, Path(tmp))
        wrapped = FreezeAfterStartup(built) if kind != "server" else built  # the server freezes its own heap
        async with lifespan(wrapped) as state:
            yield wrapped, state, key


async def _build(kind: str, workdir: Path) -> tuple[ASGIApp, str]:
    from .targets._connector import connector_class, echo_catalog, tool_catalog

    if kind == "sdk":
        from .targets import sdk

        catalog = tool_catalog(connector_class()[0])
        built = sdk.build_app(UPSTREAM, catalog, echo_catalog=echo_catalog(), transport=fake_upstream())
        return built, "no-auth-on-this-target"
    if kind == "core":
        import json

        from .targets import sagemcp_core

        keys = workdir / "keys.json"
        built = sagemcp_core.build_app(
            UPSTREAM, cache_ttl=300.0, keys_out=keys, echo=True, upstream_transport=fake_upstream()
        )
        return built, json.loads(keys.read_text())["bench"]
    return await _server(workdir)


async def _server(workdir: Path) -> tuple[ASGIApp, str]:
    from sagemcp.platform import SecretBox
    from sagemcp_server.app import create_app  # type: ignore[import-not-found]
    from sagemcp_server.settings import Settings  # type: ignore[import-not-found]

    from .provision import populate_sql

    secret = SecretBox.generate_key()
    url = f"sqlite+aiosqlite:///{workdir / 'cost.db'}"
    keys = await populate_sql(url, secret, 1, 1, UPSTREAM, echo=True)
    settings = Settings(
        database_url=url,
        secret_keys=secret,
        cache_ttl=300.0,
        audit_flush_interval=60.0,
        log_level="warning",
        auto_migrate=False,
    )
    return create_app(settings, upstream_transport=fake_upstream()), keys["bench"]
