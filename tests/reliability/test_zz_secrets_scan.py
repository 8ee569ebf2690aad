"""Secrets: no upstream token, refresh token, client secret or API key in any response body, WebSocket frame
or log line. Every server of the suite is wrapped in `ScanningApp` and every log record passes the
`LogTap`; this module runs last, adds the paths where a secret is most likely to slip out (upstream and
token endpoints echoing secrets back, wrong keys, crashes, every transport), with uvicorn logging at INFO
and core at DEBUG, and then asserts that nothing the session created ever showed up.

The database dump and the replicas' logs are scanned in `test_replicas_postgres.py`."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from sagemcp import Credential
from sagemcp.mcp import McpSettings, create_mcp_app
from sagemcp.platform import (
    ConnectorConfig,
    ConnectorRegistry,
    MemoryStore,
    OAuthApp,
    Tenant,
    UpstreamClient,
    generate_api_key,
)

from . import _clients as c
from ._fake_upstream import FakeUpstream, behave
from ._support import LEDGER, Ledger, LogTap, ScanningApp, make_probe_connector, new_secret, serve

PATH = "/acme/connectors/probe/mcp"


@pytest.fixture
def debug_logs() -> Iterator[None]:
    """Core, the SDK and uvicorn at DEBUG/INFO: the worst case an embedder may run with."""
    names = ("sagemcp", "mcp", "uvicorn", "uvicorn.error", "httpx", "httpcore")
    previous = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.DEBUG if n.startswith(("sagemcp", "mcp")) else logging.INFO)
    yield
    for n, level in previous.items():
        logging.getLogger(n).setLevel(level)


@pytest.fixture
async def world(debug_logs: None) -> AsyncIterator[dict[str, object]]:
    store = MemoryStore()
    async with FakeUpstream() as fake:
        probe = make_probe_connector(token_url=fake.url + "token")
        tenant = store.add_tenant(Tenant(slug="acme"))
        store.add_connector(
            ConnectorConfig(
                tenant_id=tenant.id, connector_type="probe", name="probe", configuration={"upstream": fake.url}
            )
        )
        access, refresh, client_secret = new_secret("at"), new_secret("rt"), new_secret("cs")
        store.put_oauth_app(
            OAuthApp(tenant_id=tenant.id, provider="probe", client_id="c1", client_secret=client_secret)
        )
        store.put_credential(
            Credential(
                tenant_id=tenant.id,
                provider="probe",
                kind="oauth2",
                access_token=access,
                refresh_token=refresh,
                expires_at=time.time() + 3600,
            )
        )
        raw, _ = store.create_api_key(tenant.id)
        key = LEDGER.secret(raw)
        upstream = UpstreamClient(timeout=2, retry_deadline=1)
        apps = [
            create_mcp_app(store, ConnectorRegistry([probe]), upstream=upstream, settings=McpSettings(stateful=s))
            for s in (False, True)
        ]
        async with (
            serve(ScanningApp(apps[0], "secrets-stateless"), log_level="info") as a,
            serve(ScanningApp(apps[1], "secrets-stateful"), log_level="info") as b,
            httpx.AsyncClient(timeout=20) as http,
        ):
            yield {
                "store": store,
                "fake": fake,
                "tenant": tenant,
                "key": key,
                "access": access,
                "refresh": refresh,
                "secret": client_secret,
                "bases": (a, b),
                "http": http,
                "apps": apps,
            }
        await upstream.aclose()


async def test_secrets_never_reach_responses_or_logs_on_the_likely_paths(world: dict[str, object]) -> None:
    mark = LEDGER.mark()
    http: httpx.AsyncClient = world["http"]  # type: ignore[assignment]
    fake: FakeUpstream = world["fake"]  # type: ignore[assignment]
    key: str = world["key"]  # type: ignore[assignment]
    access, refresh, secret = world["access"], world["refresh"], world["secret"]
    stateless, stateful = world["bases"]  # type: ignore[misc]
    # An upstream can only echo what it was sent: the API the access token, the token endpoint the refresh
    # token and the client secret.
    echo = f"bad token {access} in Authorization: Bearer {access}"
    token_echo = f"refresh_token={refresh}&client_secret={secret} rejected"

    # upstream errors echoing the token, in JSON and in text
    for status in (400, 401, 403, 404, 409, 422, 429, 500, 503):
        fake.on("GET /echo", behave.json(status, {"message": echo, "error": {"message": echo}}))
        reply = await c.call_modern(
            http, stateless + PATH, key, "tools/call", {"name": "probe_fetch", "arguments": {"path": "echo"}}
        )
        assert reply.result["isError"]
    plain = f"HTTP/1.1 400 Bad\r\nContent-Type: text/plain\r\nContent-Length: {len(echo)}\r\n\r\n{echo}".encode()
    fake.on("GET /echo", behave.raw(plain, close=False))
    await c.call_modern(
        http, stateless + PATH, key, "tools/call", {"name": "probe_fetch", "arguments": {"path": "echo"}}
    )

    # wrong, revoked and foreign keys are never echoed back
    wrong = LEDGER.secret(generate_api_key()[0])
    for k in (wrong, wrong + "x", f"Basic {wrong}"):
        r = await c.call_modern(http, stateless + PATH, k, "tools/list", {})
        assert r.status == 401

    # a crash inside a tool, resources, prompts, every transport
    await c.call_modern(http, stateless + PATH, key, "tools/call", {"name": "probe_crash", "arguments": {}})
    await c.call_handshake(http, stateless + PATH, key, "resources/read", {"uri": "probe://whoami"})
    _, session = await c.open_session(http, stateful + PATH, key)
    await c.call_handshake(http, stateful + PATH, key, "prompts/get", {"name": "probe_hello"}, session=session)
    async with c.sse_session(http, stateless + PATH.replace("/mcp", "/sse"), key) as sse:
        await sse.handshake(key)
        await sse.call("tools/call", {"name": "probe_fetch", "arguments": {"path": "echo"}}, key)
    async with c.ws_connect(stateless, PATH.replace("/mcp", "/ws"), key) as ws:
        await c.ws_handshake(ws)
        await c.ws_exchange(ws, c.request("tools/call", {"name": "probe_fetch", "arguments": {"path": "echo"}}))

    # a token endpoint refusing the refresh and echoing the secrets it was sent
    store: MemoryStore = world["store"]  # type: ignore[assignment]
    tenant: Tenant = world["tenant"]  # type: ignore[assignment]
    cred = await store.get_credential(tenant.id, "probe")
    assert cred is not None
    store.put_credential(cred.model_copy(update={"expires_at": time.time() - 5}))
    for app in world["apps"]:  # type: ignore[attr-defined]
        app.resolver.invalidate_credential(tenant.id, "probe")
    for body in (
        {"error": "invalid_client", "error_description": token_echo},
        {"error": "server_error", "error_description": token_echo},
        {"error": "invalid_grant", "error_description": token_echo},
    ):
        fake.on("POST /token", behave.json(400, body))
        reply = await c.call_modern(
            http, stateless + PATH, key, "tools/call", {"name": "probe_whoami", "arguments": {}}
        )
        assert reply.result["isError"]

    leaks = LEDGER.since(mark)
    assert leaks == [], [(h.where, h.excerpt) for h in leaks[:6]]


async def test_websocket_keys_in_the_query_string_are_refused_and_never_logged(world: dict[str, object]) -> None:
    """Query strings are logged by uvicorn and every proxy on the way, so core reads WebSocket API keys only
    from the Authorization header unless an embedder opts in; a key sent as `?api_key=` is refused and
    appears in no log line."""
    private = Ledger()
    tap = LogTap(private)
    logging.getLogger().addHandler(tap)
    try:
        store: MemoryStore = world["store"]  # type: ignore[assignment]
        tenant: Tenant = world["tenant"]  # type: ignore[assignment]
        raw, _ = store.create_api_key(tenant.id)
        private.secret(raw)  # kept out of the session ledger: checked here
        stateless = world["bases"][0]  # type: ignore[index]
        status = await c.ws_status(stateless, PATH.replace("/mcp", "/ws"), raw, query_key=True)
    finally:
        logging.getLogger().removeHandler(tap)
    assert status == 403
    # uvicorn logs the upgrade's URL as the client sent it; that is the client's leak, which the refusal
    # teaches it not to repeat. Nothing of sagemcp's own logs the key.
    ours = [h for h in private.hits if not h.where.startswith("log:uvicorn")]
    assert ours == [], [(h.where, h.excerpt) for h in ours[:3]]


async def test_regression_query_string_credentials_reach_the_httpx_log(world: dict[str, object]) -> None:
    """Regression, fixed (core, sagemcp._upstream): with `ApiKey(query_param=...)` the tenant's upstream key is part of
    the request URL, and httpx logs every request URL at INFO (`HTTP Request: GET http://...?api_key=...`).
    An embedder logging at INFO writes tenants' upstream keys to its logs. (The reference server quiets the
    httpx logger; core, which owns the client, does not.)"""
    private = Ledger()
    tap = LogTap(private)
    logging.getLogger().addHandler(tap)
    try:
        store: MemoryStore = world["store"]  # type: ignore[assignment]
        tenant: Tenant = world["tenant"]  # type: ignore[assignment]
        token = private.secret(f"sxat_{'0' * 24}{int(time.time() * 1000) % 10**8:08d}")
        store.put_credential(Credential(tenant_id=tenant.id, provider="probe", kind="api_key", access_token=token))
        for app in world["apps"]:  # type: ignore[attr-defined]
            app.resolver.invalidate_credential(tenant.id, "probe")
        http: httpx.AsyncClient = world["http"]  # type: ignore[assignment]
        reply = await c.call_modern(
            http,
            world["bases"][0] + PATH,
            world["key"],
            "tools/call",
            {"name": "probe_fetch", "arguments": {}},  # type: ignore[index,operator]
        )
        assert not reply.result.get("isError"), reply.text
    finally:
        logging.getLogger().removeHandler(tap)
    assert private.hits == [], [(h.where, h.excerpt) for h in private.hits[:3]]


def test_no_secret_appeared_anywhere_in_the_session() -> None:
    """The whole session's scan: every response, frame and log line of every test that ran before this one."""
    assert LEDGER.scanned_items > 0
    assert LEDGER.hits == [], [(h.where, h.excerpt) for h in LEDGER.hits[:10]]
